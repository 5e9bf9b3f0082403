//! BCD elements: their 32-bit identifiers and how each data format is stored as a registry
//! value (docs/bcd.md#elements).
//!
//! An identifier packs class (bits 28–31: 1 library, 2 application, 3 device), format
//! (bits 24–27) and subtype; the format says how the `Element` value is stored.

use uuid::Uuid;

use super::device::PartitionRef;
use crate::regf::{REG_BINARY, REG_MULTI_SZ, REG_SZ, Value};

/// The element identifiers tsmedia writes, by `bcdedit` name.
pub mod id {
    /// `device`: where the application's file lives.
    pub const APPLICATION_DEVICE: u32 = 0x1100_0001;
    /// `path`: the application's file on that device.
    pub const APPLICATION_PATH: u32 = 0x1200_0002;
    /// `description`: the menu text.
    pub const DESCRIPTION: u32 = 0x1200_0004;
    /// `locale`.
    pub const PREFERRED_LOCALE: u32 = 0x1200_0005;
    /// `inherit`: objects whose elements this one inherits.
    pub const INHERITED_OBJECTS: u32 = 0x1400_0006;
    /// `badmemoryaccess`.
    pub const ALLOW_BAD_MEMORY_ACCESS: u32 = 0x1600_000B;
    /// `debugtype` (0 serial).
    pub const DEBUGGER_TYPE: u32 = 0x1500_0011;
    /// `debugport`.
    pub const SERIAL_DEBUGGER_PORT: u32 = 0x1500_0013;
    /// `baudrate`.
    pub const SERIAL_DEBUGGER_BAUD_RATE: u32 = 0x1500_0014;
    /// `bootems`.
    pub const EMS_ENABLED: u32 = 0x1600_0020;
    /// `isolatedcontext`: required by Windows 8 and later boot loaders.
    pub const ISOLATED_EXECUTION_CONTEXT: u32 = 0x1600_0060;
    /// `allowedinmemorysettings`.
    pub const ALLOWED_IN_MEMORY_SETTINGS: u32 = 0x1700_0077;

    /// Boot manager `displayorder`.
    pub const DISPLAY_ORDER: u32 = 0x2400_0001;
    /// Boot manager `default`.
    pub const DEFAULT_OBJECT: u32 = 0x2300_0003;
    /// Boot manager `timeout` (seconds).
    pub const TIMEOUT: u32 = 0x2500_0004;
    /// Boot manager `resumeobject`.
    pub const RESUME_OBJECT: u32 = 0x2300_0006;
    /// Boot manager `toolsdisplayorder`.
    pub const TOOLS_DISPLAY_ORDER: u32 = 0x2400_0010;

    /// OS loader `osdevice`.
    pub const OS_DEVICE: u32 = 0x2100_0001;
    /// OS loader `systemroot`.
    pub const SYSTEM_ROOT: u32 = 0x2200_0002;
    /// OS loader `resumeobject`.
    pub const ASSOCIATED_RESUME_OBJECT: u32 = 0x2300_0003;
    /// OS loader `nx` (0 OptIn).
    pub const NX_POLICY: u32 = 0x2500_0020;
    /// OS loader `bootmenupolicy` (0 Legacy, 1 Standard).
    pub const OS_BOOT_MENU_POLICY: u32 = 0x2500_00C2;
    /// `hypervisordebugtype`.
    pub const HYPERVISOR_DEBUGGER_TYPE: u32 = 0x2500_00F3;
    /// `hypervisordebugport`.
    pub const HYPERVISOR_DEBUGGER_PORT: u32 = 0x2500_00F4;
    /// `hypervisorbaudrate`.
    pub const HYPERVISOR_DEBUGGER_BAUD_RATE: u32 = 0x2500_00F5;

    /// Resume application `filedevice` (where hiberfil.sys lives).
    pub const HIBER_FILE_DEVICE: u32 = 0x2100_0001;
    /// Resume application `filepath`.
    pub const HIBER_FILE_PATH: u32 = 0x2200_0002;
    /// Resume application `debugoptionenabled`.
    pub const RESUME_DEBUG_OPTION_ENABLED: u32 = 0x2600_0006;
    /// Resume application `bootmenupolicy`.
    pub const RESUME_BOOT_MENU_POLICY: u32 = 0x2500_0008;
}

/// An element's data, by format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Element {
    /// Format 1: a device. Partitions are decoded; other devices kept as bytes.
    Partition(PartitionRef),
    Device(Vec<u8>),
    /// Format 2.
    String(String),
    /// Format 3: one object, stored as its `{guid}` string.
    Object(Uuid),
    /// Format 4: objects, stored as `REG_MULTI_SZ` of `{guid}` strings.
    ObjectList(Vec<Uuid>),
    /// Format 5: 64-bit little-endian integer in `REG_BINARY`.
    Integer(u64),
    /// Format 6: one byte in `REG_BINARY`.
    Boolean(bool),
    /// Format 7: 64-bit integers back to back in `REG_BINARY`.
    IntegerList(Vec<u64>),
    /// Any other format, kept as read.
    Raw {
        kind: u32,
        data: Vec<u8>,
    },
}

/// The `{lowercase-guid}` form BCD uses for object names and references.
pub fn guid_string(id: &Uuid) -> String {
    format!("{{{}}}", id.hyphenated())
}

/// Parses `{guid}` (braces required, any case).
pub fn parse_guid(text: &str) -> Option<Uuid> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    Uuid::parse_str(inner).ok()
}

impl Element {
    /// The `Element` registry value.
    pub fn to_value(&self) -> Value {
        const NAME: &str = "Element";
        match self {
            Element::Partition(p) => Value::binary(NAME, p.to_device_bytes()),
            Element::Device(bytes) => Value::binary(NAME, bytes.clone()),
            Element::String(s) => Value::string(NAME, s),
            Element::Object(id) => Value::string(NAME, &guid_string(id)),
            Element::ObjectList(ids) => {
                Value::multi_string(NAME, &ids.iter().map(guid_string).collect::<Vec<_>>())
            }
            Element::Integer(n) => Value::binary(NAME, n.to_le_bytes().to_vec()),
            Element::Boolean(b) => Value::binary(NAME, vec![u8::from(*b)]),
            Element::IntegerList(ns) => {
                Value::binary(NAME, ns.iter().flat_map(|n| n.to_le_bytes()).collect())
            }
            Element::Raw { kind, data } => Value {
                name: NAME.into(),
                kind: *kind,
                data: data.clone(),
            },
        }
    }

    /// Decodes the `Element` value of element `id` by the format in the identifier; a value
    /// that does not fit its format is kept as [`Element::Raw`].
    pub fn from_value(id: u32, value: &Value) -> Element {
        let raw = || Element::Raw {
            kind: value.kind,
            data: value.data.clone(),
        };
        let binary = value.kind == REG_BINARY;
        let decoded = match (id >> 24) & 0xF {
            1 if binary => Some(
                PartitionRef::from_device_bytes(&value.data)
                    .map_or_else(|| Element::Device(value.data.clone()), Element::Partition),
            ),
            2 if value.kind == REG_SZ => value.as_string().map(Element::String),
            3 => value
                .as_string()
                .and_then(|s| parse_guid(&s))
                .map(Element::Object),
            4 if value.kind == REG_MULTI_SZ => value
                .as_multi_string()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|s| parse_guid(s))
                        .collect::<Option<Vec<_>>>()
                })
                .map(Element::ObjectList),
            5 if binary && value.data.len() == 8 => Some(Element::Integer(u64::from_le_bytes(
                value.data[..8].try_into().expect("8 bytes"),
            ))),
            6 if binary && !value.data.is_empty() => Some(Element::Boolean(value.data[0] != 0)),
            7 if binary && value.data.len().is_multiple_of(8) => Some(Element::IntegerList(
                value
                    .data
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            )),
            _ => None,
        };
        decoded.unwrap_or_else(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips() {
        let g = Uuid::from_u128(0x9dea862c_5cdd_4e70_acc1_f32b344d4795);
        let cases = [
            (
                id::APPLICATION_DEVICE,
                Element::Partition(PartitionRef::Mbr {
                    disk_signature: 7,
                    partition_offset: 1 << 20,
                }),
            ),
            (
                id::APPLICATION_PATH,
                Element::String("\\Windows\\system32\\winload.efi".into()),
            ),
            (id::DEFAULT_OBJECT, Element::Object(g)),
            (id::DISPLAY_ORDER, Element::ObjectList(vec![g, Uuid::nil()])),
            (id::TIMEOUT, Element::Integer(30)),
            (id::ISOLATED_EXECUTION_CONTEXT, Element::Boolean(true)),
            (
                id::ALLOWED_IN_MEMORY_SETTINGS,
                Element::IntegerList(vec![0x1500_0075]),
            ),
        ];
        for (id, element) in cases {
            assert_eq!(
                Element::from_value(id, &element.to_value()),
                element,
                "{id:08x}"
            );
        }
        assert_eq!(guid_string(&g), "{9dea862c-5cdd-4e70-acc1-f32b344d4795}");
        assert_eq!(
            parse_guid("{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}"),
            Some(g)
        );
    }

    #[test]
    fn stored_forms() {
        assert_eq!(
            Element::Integer(30).to_value().data,
            vec![30, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(Element::Boolean(true).to_value().data, vec![1]);
        assert_eq!(Element::Integer(1).to_value().kind, REG_BINARY);
        // A value that does not fit its format is kept, not misread.
        let odd = Value::binary("Element", vec![1, 2, 3]);
        assert!(matches!(
            Element::from_value(id::TIMEOUT, &odd),
            Element::Raw { .. }
        ));
    }
}
