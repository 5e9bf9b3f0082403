//! The objects `bcdboot` creates, with their types and elements (docs/bcd.md#what-bcdboot-creates).

use uuid::Uuid;

use super::element::{Element, id};
use super::{BcdObject, BcdStore, BcdTarget, Firmware};

/// Object types (`Description\Type`): bits 28–31 the object class (1 application,
/// 2 inheritable settings), then the image type and application type for applications, or
/// the class of object that may inherit the settings.
pub mod kind {
    /// `{fwbootmgr}`: the firmware boot manager (UEFI boot entries).
    pub const FIRMWARE_BOOT_MANAGER: u32 = 0x1010_0001;
    /// `{bootmgr}`: the Windows Boot Manager.
    pub const BOOT_MANAGER: u32 = 0x1010_0002;
    /// A Windows Boot Loader (`winload`).
    pub const OS_LOADER: u32 = 0x1020_0003;
    /// A Windows Resume Application (`winresume`).
    pub const RESUME: u32 = 0x1020_0004;
    /// The Windows Memory Diagnostic (`memtest`).
    pub const MEMORY_TESTER: u32 = 0x1020_0005;
    /// Settings any object may inherit.
    pub const INHERIT_ANY: u32 = 0x2010_0000;
    /// Settings only OS loaders may inherit.
    pub const INHERIT_OS_LOADER: u32 = 0x2020_0003;
    /// Settings only resume applications may inherit.
    pub const INHERIT_RESUME: u32 = 0x2020_0004;
}

/// The fixed identifiers of the well-known objects.
pub mod well_known {
    use uuid::Uuid;

    pub const FWBOOTMGR: Uuid = Uuid::from_u128(0xa5a30fa2_3d06_4e9f_b5f4_a01df9d1fcba);
    pub const BOOTMGR: Uuid = Uuid::from_u128(0x9dea862c_5cdd_4e70_acc1_f32b344d4795);
    pub const MEMDIAG: Uuid = Uuid::from_u128(0xb2721d73_1db4_4c62_bf78_c548a880142d);
    pub const GLOBALSETTINGS: Uuid = Uuid::from_u128(0x7ea2e1ac_2e61_4728_aaa3_896d9d0a9f0e);
    pub const DBGSETTINGS: Uuid = Uuid::from_u128(0x4636856e_540f_4170_a130_a84776f4c654);
    pub const EMSSETTINGS: Uuid = Uuid::from_u128(0x0ce4991b_e6b3_4b16_b23c_5e0d9250e5d9);
    pub const BADMEMORY: Uuid = Uuid::from_u128(0x5189b25c_5558_4bf2_bca4_289b11bd29e2);
    pub const BOOTLOADERSETTINGS: Uuid = Uuid::from_u128(0x6efb52bf_1766_41db_a6b3_0ee5eff72bd7);
    pub const RESUMELOADERSETTINGS: Uuid = Uuid::from_u128(0x1afa9c49_16ab_4a5c_901b_212802da9460);
    pub const HYPERVISORSETTINGS: Uuid = Uuid::from_u128(0x7ff607e0_4395_11db_b0de_0800200c9a66);
}

use well_known::*;

/// Serial port 1 at 115200 baud: the debugger settings `bcdboot` writes (debugging stays off).
const SERIAL: u64 = 0;
/// Debugger type "Local" (no transport), what UEFI installations get.
const DEBUGGER_LOCAL: u64 = 4;
const DEBUG_PORT: u64 = 1;
const BAUD_RATE: u64 = 115_200;
/// `nx OptIn`, `bootmenupolicy Standard`.
const NX_OPT_IN: u64 = 0;
const BOOT_MENU_STANDARD: u64 = 1;
/// The setting Windows 8 and later list in `allowedinmemorysettings`.
const IN_MEMORY_SETTING: u64 = 0x1500_0075;

pub(super) fn bcdboot_objects(target: &BcdTarget) -> BcdStore {
    let (loader, resume) = target.object_ids();
    let uefi = target.firmware == Firmware::Uefi;
    let ext = if uefi { "efi" } else { "exe" };
    let windows = Element::Partition(target.windows_partition);
    let system = Element::Partition(target.system_partition);
    let locale = || Element::String(target.locale.clone());
    let text = |s: &str| Element::String(s.to_string());
    let inherit = |ids: &[Uuid]| Element::ObjectList(ids.to_vec());

    let mut bootmgr = BcdObject::new(BOOTMGR, kind::BOOT_MANAGER)
        .with(id::APPLICATION_DEVICE, system.clone())
        .with(id::DESCRIPTION, text("Windows Boot Manager"))
        .with(id::PREFERRED_LOCALE, locale())
        .with(id::INHERITED_OBJECTS, inherit(&[GLOBALSETTINGS]))
        .with(id::DEFAULT_OBJECT, Element::Object(loader))
        .with(id::RESUME_OBJECT, Element::Object(resume))
        .with(id::DISPLAY_ORDER, Element::ObjectList(vec![loader]))
        .with(id::TOOLS_DISPLAY_ORDER, Element::ObjectList(vec![MEMDIAG]))
        .with(id::TIMEOUT, Element::Integer(target.timeout));
    if uefi {
        // BIOS bootmgr is the file at the partition root and has no path element.
        bootmgr = bootmgr.with(
            id::APPLICATION_PATH,
            text("\\EFI\\Microsoft\\Boot\\bootmgfw.efi"),
        );
    }

    let osloader = BcdObject::new(loader, kind::OS_LOADER)
        .with(id::APPLICATION_DEVICE, windows.clone())
        .with(
            id::APPLICATION_PATH,
            text(&format!("\\Windows\\system32\\winload.{ext}")),
        )
        .with(id::DESCRIPTION, text(&target.description))
        .with(id::PREFERRED_LOCALE, locale())
        .with(id::INHERITED_OBJECTS, inherit(&[BOOTLOADERSETTINGS]))
        .with(id::ISOLATED_EXECUTION_CONTEXT, Element::Boolean(true))
        .with(
            id::ALLOWED_IN_MEMORY_SETTINGS,
            Element::IntegerList(vec![IN_MEMORY_SETTING]),
        )
        .with(id::OS_DEVICE, windows.clone())
        .with(id::SYSTEM_ROOT, text("\\Windows"))
        .with(id::ASSOCIATED_RESUME_OBJECT, Element::Object(resume))
        .with(id::NX_POLICY, Element::Integer(NX_OPT_IN))
        .with(
            id::OS_BOOT_MENU_POLICY,
            Element::Integer(BOOT_MENU_STANDARD),
        );

    let resume_app = BcdObject::new(resume, kind::RESUME)
        .with(id::APPLICATION_DEVICE, windows.clone())
        .with(
            id::APPLICATION_PATH,
            text(&format!("\\Windows\\system32\\winresume.{ext}")),
        )
        .with(id::DESCRIPTION, text("Windows Resume Application"))
        .with(id::PREFERRED_LOCALE, locale())
        .with(id::INHERITED_OBJECTS, inherit(&[RESUMELOADERSETTINGS]))
        .with(id::ISOLATED_EXECUTION_CONTEXT, Element::Boolean(true))
        .with(
            id::ALLOWED_IN_MEMORY_SETTINGS,
            Element::IntegerList(vec![IN_MEMORY_SETTING]),
        )
        .with(id::HIBER_FILE_DEVICE, windows)
        .with(id::HIBER_FILE_PATH, text("\\hiberfil.sys"))
        .with(
            id::RESUME_BOOT_MENU_POLICY,
            Element::Integer(BOOT_MENU_STANDARD),
        )
        .with(id::RESUME_DEBUG_OPTION_ENABLED, Element::Boolean(false));

    let memtest = if uefi {
        "\\EFI\\Microsoft\\Boot\\memtest.efi"
    } else {
        "\\boot\\memtest.exe"
    };
    let memdiag = BcdObject::new(MEMDIAG, kind::MEMORY_TESTER)
        .with(id::APPLICATION_DEVICE, system)
        .with(id::APPLICATION_PATH, text(memtest))
        .with(id::DESCRIPTION, text("Windows Memory Diagnostic"))
        .with(id::PREFERRED_LOCALE, locale())
        .with(id::INHERITED_OBJECTS, inherit(&[GLOBALSETTINGS]))
        .with(id::ALLOW_BAD_MEMORY_ACCESS, Element::Boolean(true));

    // UEFI stores get the local debugger type only; BIOS stores the serial port defaults.
    let dbgsettings = if uefi {
        BcdObject::new(DBGSETTINGS, kind::INHERIT_ANY)
            .with(id::DEBUGGER_TYPE, Element::Integer(DEBUGGER_LOCAL))
    } else {
        BcdObject::new(DBGSETTINGS, kind::INHERIT_ANY)
            .with(id::DEBUGGER_TYPE, Element::Integer(SERIAL))
            .with(id::SERIAL_DEBUGGER_PORT, Element::Integer(DEBUG_PORT))
            .with(id::SERIAL_DEBUGGER_BAUD_RATE, Element::Integer(BAUD_RATE))
    };
    let mut objects = vec![
        bootmgr,
        osloader,
        resume_app,
        memdiag,
        BcdObject::new(GLOBALSETTINGS, kind::INHERIT_ANY).with(
            id::INHERITED_OBJECTS,
            inherit(&[DBGSETTINGS, EMSSETTINGS, BADMEMORY]),
        ),
        dbgsettings,
        BcdObject::new(EMSSETTINGS, kind::INHERIT_ANY)
            .with(id::EMS_ENABLED, Element::Boolean(false)),
        BcdObject::new(BADMEMORY, kind::INHERIT_ANY),
        BcdObject::new(BOOTLOADERSETTINGS, kind::INHERIT_OS_LOADER).with(
            id::INHERITED_OBJECTS,
            inherit(&[GLOBALSETTINGS, HYPERVISORSETTINGS]),
        ),
        BcdObject::new(HYPERVISORSETTINGS, kind::INHERIT_OS_LOADER)
            .with(id::HYPERVISOR_DEBUGGER_TYPE, Element::Integer(SERIAL))
            .with(id::HYPERVISOR_DEBUGGER_PORT, Element::Integer(DEBUG_PORT))
            .with(
                id::HYPERVISOR_DEBUGGER_BAUD_RATE,
                Element::Integer(BAUD_RATE),
            ),
        BcdObject::new(RESUMELOADERSETTINGS, kind::INHERIT_RESUME)
            .with(id::INHERITED_OBJECTS, inherit(&[GLOBALSETTINGS])),
    ];
    // In the order the hive keeps them, so a store read back compares equal.
    objects.sort_by_key(|o| super::guid_string(&o.id));
    BcdStore { objects }
}

#[cfg(test)]
mod tests {
    use super::super::PartitionRef;
    use super::*;

    fn target(firmware: Firmware) -> BcdTarget {
        let esp = PartitionRef::Gpt {
            disk_guid: Uuid::from_u128(1),
            partition_guid: Uuid::from_u128(2),
        };
        let win = PartitionRef::Gpt {
            disk_guid: Uuid::from_u128(1),
            partition_guid: Uuid::from_u128(3),
        };
        BcdTarget::new(firmware, esp, win)
    }

    #[test]
    fn every_reference_resolves() {
        for firmware in [Firmware::Uefi, Firmware::Bios] {
            let store = bcdboot_objects(&target(firmware));
            for object in &store.objects {
                for element in object.elements.values() {
                    let refs = match element {
                        Element::Object(id) => vec![*id],
                        Element::ObjectList(ids) => ids.clone(),
                        _ => vec![],
                    };
                    for r in refs {
                        assert!(
                            store.object(&r).is_some(),
                            "{} refers to missing {r}",
                            object.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn identifiers_are_stable_and_distinct() {
        let (a, b) = target(Firmware::Uefi).object_ids();
        assert_ne!(a, b);
        assert_eq!((a, b), target(Firmware::Bios).object_ids());
        let mut fixed = target(Firmware::Uefi);
        fixed.loader_id = Some(Uuid::from_u128(9));
        assert_eq!(fixed.object_ids().0, Uuid::from_u128(9));
    }

    #[test]
    fn firmware_decides_paths() {
        let bios = bcdboot_objects(&target(Firmware::Bios));
        assert!(
            bios.object(&BOOTMGR)
                .and_then(|o| o.element(id::APPLICATION_PATH))
                .is_none()
        );
        let loader = target(Firmware::Bios).object_ids().0;
        assert_eq!(
            bios.object(&loader)
                .and_then(|o| o.element(id::APPLICATION_PATH)),
            Some(&Element::String("\\Windows\\system32\\winload.exe".into()))
        );
    }
}
