//! Who this computer is, as the management point identifies it (`docs/media.md`, "At boot" step
//! 5): the SMBIOS GUID and the MAC addresses of its network adapters, its processor
//! architecture, and whether the media let it run as an Unknown Computer.
//!
//! On Linux the SMBIOS GUID is `/sys/class/dmi/id/product_uuid` (readable by root only) and
//! the MACs are `/sys/class/net/<if>/address`; the loopback adapter and all-zero addresses
//! are left out. [`crate::RunOptions`] can give both instead (testing, or a computer whose
//! firmware reports nothing useful).
//!
//! Media allow unknown computers when they carry the Unknown Computer GUID of the
//! computer's architecture (`_SMSTSx64UnknownMachineGUID`, `_SMSTSx86UnknownMachineGUID`),
//! which the media builder writes when "Enable unknown computer support" is chosen.

use std::fs;
use std::path::Path;

use tsmedia_tasksequence::Variables;

/// The identifiers sent to the management point.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MachineIdentity {
    /// SMBIOS GUID, as read or given.
    pub smbios_guid: Option<String>,
    /// MAC addresses, lowercase `aa:bb:cc:dd:ee:ff`, by adapter name.
    pub macs: Vec<String>,
    /// `x86`, `x64` or `arm64`.
    pub arch: String,
}

impl MachineIdentity {
    /// The identifiers for the log: `SMBIOS GUID ..., MACs ...`.
    pub fn describe(&self) -> String {
        format!(
            "SMBIOS GUID {}, MAC {}, architecture {}",
            self.smbios_guid.as_deref().unwrap_or("(none)"),
            if self.macs.is_empty() {
                "(none)".to_string()
            } else {
                self.macs.join(" ")
            },
            self.arch
        )
    }
}

/// The architecture this runtime runs on, by Configuration Manager's name.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "x86",
        "aarch64" => "arm64",
        _ => "x64",
    }
}

/// The computer's identifiers: `smbios_guid` and `macs` when given, else read under
/// `sys_root` (normally `/sys`); `arch` when given, else [`host_arch`].
pub fn machine_identity(
    smbios_guid: Option<&str>,
    macs: &[String],
    arch: Option<&str>,
    sys_root: &Path,
) -> MachineIdentity {
    let smbios_guid = smbios_guid
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .or_else(|| read_smbios_guid(sys_root));
    let macs = if macs.is_empty() {
        read_macs(sys_root)
    } else {
        macs.iter().map(|m| m.trim().to_ascii_lowercase()).collect()
    };
    MachineIdentity {
        smbios_guid,
        macs,
        arch: arch.unwrap_or(host_arch()).to_ascii_lowercase(),
    }
}

/// `<sys>/class/dmi/id/product_uuid`, unless unreadable, empty or all zeros / all ones
/// (firmware that has no GUID to give).
pub fn read_smbios_guid(sys_root: &Path) -> Option<String> {
    let text = fs::read_to_string(sys_root.join("class/dmi/id/product_uuid")).ok()?;
    let guid = text.trim().to_string();
    let digits: String = guid.chars().filter(char::is_ascii_hexdigit).collect();
    let blank = digits.is_empty()
        || digits.chars().all(|c| c == '0')
        || digits.chars().all(|c| c.eq_ignore_ascii_case(&'f'));
    (!blank).then_some(guid)
}

/// `<sys>/class/net/*/address` of every adapter but `lo`, by adapter name, without all-zero
/// or malformed addresses and without repeats.
pub fn read_macs(sys_root: &Path) -> Vec<String> {
    let Ok(dir) = fs::read_dir(sys_root.join("class/net")) else {
        return Vec::new();
    };
    let mut adapters: Vec<(String, String)> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let mac = fs::read_to_string(e.path().join("address")).ok()?;
            Some((name, mac.trim().to_ascii_lowercase()))
        })
        .filter(|(name, mac)| name != "lo" && is_usable_mac(mac))
        .collect();
    adapters.sort();
    let mut macs: Vec<String> = Vec::new();
    for (_, mac) in adapters {
        if !macs.contains(&mac) {
            macs.push(mac);
        }
    }
    macs
}

fn is_usable_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        && parts.iter().any(|p| *p != "00")
}

/// The media's Unknown Computer GUID for `arch` (`_SMSTS<arch>UnknownMachineGUID`): present
/// when the media allow unknown computers of that architecture.
pub fn unknown_machine_guid<'a>(env: &'a Variables, arch: &str) -> Option<&'a str> {
    env.get(&format!("_SMSTS{arch}UnknownMachineGUID"))
        .map(str::trim)
        .filter(|g| !g.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_guid_and_macs_from_sysfs() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = tmp.path();
        write(
            sys,
            "class/dmi/id/product_uuid",
            "4c4c4544-0042-3510-8052-b4c04f564433\n",
        );
        write(sys, "class/net/lo/address", "00:00:00:00:00:00\n");
        write(sys, "class/net/eth1/address", "00:15:5D:01:02:04\n");
        write(sys, "class/net/eth0/address", "00:15:5d:01:02:03\n");
        write(sys, "class/net/tun0/address", "\n");
        write(sys, "class/net/dummy/address", "00:00:00:00:00:00\n");
        write(sys, "class/net/bond0/address", "00:15:5d:01:02:03\n");
        let id = machine_identity(None, &[], Some("x64"), sys);
        assert_eq!(
            id.smbios_guid.as_deref(),
            Some("4c4c4544-0042-3510-8052-b4c04f564433")
        );
        assert_eq!(id.macs, vec!["00:15:5d:01:02:03", "00:15:5d:01:02:04"]);
        assert!(id.describe().contains("00:15:5d:01:02:04"));
    }

    #[test]
    fn overrides_win_and_blank_guids_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = tmp.path();
        write(
            sys,
            "class/dmi/id/product_uuid",
            "00000000-0000-0000-0000-000000000000",
        );
        write(sys, "class/net/eth0/address", "00:15:5d:01:02:03");
        let id = machine_identity(None, &[], None, sys);
        assert_eq!(id.smbios_guid, None);
        assert_eq!(id.arch, host_arch());
        let id = machine_identity(
            Some(" 11111111-2222-3333-4444-555555555555 "),
            &["AA:BB:CC:DD:EE:FF".into()],
            Some("ARM64"),
            sys,
        );
        assert_eq!(
            id.smbios_guid.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(id.macs, vec!["aa:bb:cc:dd:ee:ff"]);
        assert_eq!(id.arch, "arm64");
        let none = machine_identity(None, &[], None, &sys.join("missing"));
        assert_eq!((none.smbios_guid, none.macs.len()), (None, 0));
    }

    #[test]
    fn unknown_computer_support_follows_the_media_variables() {
        let mut env = Variables::new();
        assert_eq!(unknown_machine_guid(&env, "x64"), None);
        env.set_builtin("_SMSTSx64UnknownMachineGUID", "A5B4F1D3-0000")
            .unwrap();
        assert_eq!(unknown_machine_guid(&env, "x64"), Some("A5B4F1D3-0000"));
        assert_eq!(unknown_machine_guid(&env, "arm64"), None);
    }
}
