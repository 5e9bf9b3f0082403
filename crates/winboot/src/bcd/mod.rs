//! The Boot Configuration Data store: a registry hive of objects (boot applications and
//! inheritable settings groups) and their elements (docs/bcd.md).
//!
//! [`BcdStore::windows`] builds what `bcdboot C:\Windows /f UEFI|BIOS` creates for one
//! Windows installation; [`BcdStore::to_bytes`] writes it as the `BCD` file; [`BcdStore::from_bytes`]
//! reads a store back (ours or Windows').

mod device;
mod element;
mod objects;

use std::collections::BTreeMap;

use uuid::Uuid;

pub use device::{PARTITION_DEVICE_LEN, PartitionRef};
pub use element::{Element, guid_string, id, parse_guid};
pub use objects::{kind, well_known};

use crate::regf::{self, HiveOptions, Key, RegfError, Value};

/// Errors building or reading a BCD store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BcdError {
    #[error("BCD store hive: {0}")]
    Hive(#[from] RegfError),
    #[error("not a BCD store: {0}")]
    NotABcdStore(String),
}

/// The firmware the installation boots with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// UEFI: `bootmgfw.efi` on the EFI system partition, `.efi` loaders.
    Uefi,
    /// BIOS: `bootmgr` at the root of the active partition, `.exe` loaders.
    Bios,
}

/// What the store describes: the partitions and the installation's presentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BcdTarget {
    pub firmware: Firmware,
    /// The partition holding the boot manager and the store (the ESP on UEFI, the active
    /// partition on BIOS; may equal `windows_partition` on BIOS).
    pub system_partition: PartitionRef,
    /// The partition holding `\Windows`.
    pub windows_partition: PartitionRef,
    /// Boot menu locale. Default `en-US`.
    pub locale: String,
    /// Boot menu entry of the installation. Default `Windows 10`.
    pub description: String,
    /// Boot menu timeout in seconds. Default 30, as `bcdboot` sets.
    pub timeout: u64,
    /// Identifier of the Windows Boot Loader object. Default: derived from the Windows
    /// partition, so the same target always gives the same store (`bcdboot` picks a random one).
    pub loader_id: Option<Uuid>,
    /// Identifier of its resume object. Default derived the same way.
    pub resume_id: Option<Uuid>,
}

impl BcdTarget {
    pub fn new(
        firmware: Firmware,
        system_partition: PartitionRef,
        windows_partition: PartitionRef,
    ) -> BcdTarget {
        BcdTarget {
            firmware,
            system_partition,
            windows_partition,
            locale: "en-US".to_string(),
            description: "Windows 10".to_string(),
            timeout: 30,
            loader_id: None,
            resume_id: None,
        }
    }

    /// The loader and resume object identifiers this target uses.
    pub fn object_ids(&self) -> (Uuid, Uuid) {
        let derive = |label: &str| {
            let mut seed = label.as_bytes().to_vec();
            seed.extend(self.windows_partition.to_device_bytes());
            let digest = tsmedia_base::digest::sha256(&seed);
            uuid::Builder::from_random_bytes(digest[..16].try_into().expect("16 of 32 bytes"))
                .into_uuid()
        };
        (
            self.loader_id.unwrap_or_else(|| derive("osloader")),
            self.resume_id.unwrap_or_else(|| derive("resume")),
        )
    }
}

/// One object: its identifier, type (`Description\Type`) and elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BcdObject {
    pub id: Uuid,
    /// The object type, e.g. [`kind::OS_LOADER`].
    pub kind: u32,
    pub elements: BTreeMap<u32, Element>,
}

impl BcdObject {
    pub fn new(id: Uuid, kind: u32) -> BcdObject {
        BcdObject {
            id,
            kind,
            elements: BTreeMap::new(),
        }
    }

    /// Adds an element (builder style).
    pub fn with(mut self, id: u32, element: Element) -> BcdObject {
        self.elements.insert(id, element);
        self
    }

    pub fn element(&self, id: u32) -> Option<&Element> {
        self.elements.get(&id)
    }
}

/// A whole store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BcdStore {
    pub objects: Vec<BcdObject>,
}

/// The root key name Windows gives a store it creates.
const ROOT_NAME: &str = "NewStoreRoot";

impl BcdStore {
    /// The store `bcdboot` creates for one Windows installation (docs/bcd.md#what-bcdboot-creates).
    pub fn windows(target: &BcdTarget) -> BcdStore {
        objects::bcdboot_objects(target)
    }

    pub fn object(&self, id: &Uuid) -> Option<&BcdObject> {
        self.objects.iter().find(|o| &o.id == id)
    }

    /// The store as a registry key tree: `Description` and `Objects\{id}\{Description,Elements}`.
    pub fn to_hive(&self) -> Key {
        let mut root = Key::new(ROOT_NAME);
        let description = root.subkey_mut("Description");
        description.set(Value::string("KeyName", "BCD00000000"));
        description.set(Value::dword("System", 1));
        description.set(Value::dword("TreatAsSystem", 1));
        let objects = root.subkey_mut("Objects");
        for object in &self.objects {
            let key = objects.subkey_mut(&guid_string(&object.id));
            key.subkey_mut("Description")
                .set(Value::dword("Type", object.kind));
            let elements = key.subkey_mut("Elements");
            for (id, element) in &object.elements {
                elements
                    .subkey_mut(&format!("{id:08X}"))
                    .set(element.to_value());
            }
        }
        root
    }

    /// The `BCD` file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BcdError> {
        Ok(regf::write_hive(&self.to_hive(), &HiveOptions::default())?)
    }

    /// Reads a `BCD` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<BcdStore, BcdError> {
        BcdStore::from_hive(&regf::read_hive(bytes)?)
    }

    /// Reads a store from its key tree. Objects or elements with names that are not
    /// identifiers are an error; elements of unknown formats are kept raw.
    pub fn from_hive(root: &Key) -> Result<BcdStore, BcdError> {
        let bad = |what: String| BcdError::NotABcdStore(what);
        let objects = root
            .find("Objects")
            .ok_or_else(|| bad("no Objects key".into()))?;
        let mut store = BcdStore::default();
        for key in &objects.subkeys {
            let id =
                parse_guid(&key.name).ok_or_else(|| bad(format!("object name {:?}", key.name)))?;
            let kind = key
                .find("Description")
                .and_then(|d| d.value("Type"))
                .and_then(Value::as_dword)
                .ok_or_else(|| bad(format!("object {} has no Description\\Type", key.name)))?;
            let mut object = BcdObject::new(id, kind);
            for element in key
                .find("Elements")
                .map(|e| e.subkeys.as_slice())
                .unwrap_or_default()
            {
                let eid = u32::from_str_radix(&element.name, 16)
                    .map_err(|_| bad(format!("element name {:?}", element.name)))?;
                let value = element
                    .value("Element")
                    .ok_or_else(|| bad(format!("element {} has no Element value", element.name)))?;
                object.elements.insert(eid, Element::from_value(eid, value));
            }
            store.objects.push(object);
        }
        Ok(store)
    }
}
