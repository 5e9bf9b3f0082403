//! Kernel modules: what each needs and which devices it drives, read from the module itself,
//! and the set tsmedia PE carries (see `docs/tsmedia-pe.md`, "Kernel modules").
//!
//! Debian's kernel package ships no `modules.dep` or `modules.alias` (depmod makes them when the
//! package is installed), so both are derived here from each module's `.modinfo` ELF section:
//! NUL-separated `key=value` strings, among them `name=`, `depends=` (comma-separated module
//! names), `alias=` (one per device pattern, e.g. `pci:v00008086d0000100Esv*sd*bc*sc*i*`) and
//! `softdep=` (`pre: a b post: c`).

use std::collections::{BTreeMap, BTreeSet};

use object::{Object, ObjectSection};

/// What a module says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// `name=`, with `_` for `-` as the kernel spells module names.
    pub name: String,
    /// `depends=`: modules that must be loaded first.
    pub depends: Vec<String>,
    /// `softdep=` modules listed under `pre:`: loaded first when present.
    pub pre: Vec<String>,
    /// `alias=`: device (modalias) patterns and other names the module answers to.
    pub aliases: Vec<String>,
}

/// Reads `.modinfo` from a module's bytes. `file_name` names it in errors and gives the name
/// when the section has none.
pub fn read_modinfo(elf: &[u8], file_name: &str) -> Result<ModInfo, String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF object: {e}"))?;
    let section = file
        .section_by_name(".modinfo")
        .ok_or("no .modinfo section")?;
    let data = section
        .data()
        .map_err(|e| format!("unreadable .modinfo: {e}"))?;
    let mut info = ModInfo::default();
    for field in data.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let text = String::from_utf8_lossy(field);
        let Some((key, value)) = text.split_once('=') else {
            continue;
        };
        match key {
            "name" => info.name = normalise(value),
            "depends" => info
                .depends
                .extend(value.split(',').filter(|d| !d.is_empty()).map(normalise)),
            "alias" => info.aliases.push(value.to_string()),
            "softdep" => info.pre.extend(softdep_pre(value)),
            _ => {}
        }
    }
    if info.name.is_empty() {
        info.name = normalise(file_name.trim_end_matches(".ko"));
    }
    Ok(info)
}

/// Module names use `_` where file names may have `-`.
pub fn normalise(name: &str) -> String {
    name.trim().replace('-', "_")
}

fn softdep_pre(value: &str) -> Vec<String> {
    let mut pre = Vec::new();
    let mut in_pre = false;
    for word in value.split_whitespace() {
        match word {
            "pre:" => in_pre = true,
            "post:" => in_pre = false,
            w if in_pre => pre.push(normalise(w)),
            _ => {}
        }
    }
    pre
}

/// The modules tsmedia PE carries unless told otherwise: storage controllers and disks, the
/// file systems of media and targets, and common wired network adapters. Names that are built
/// into the kernel (listed in `modules.builtin`) or absent from it are passed over.
pub const DEFAULT_MODULES: &[&str] = &[
    // Storage: SATA/IDE, NVMe, virtio, SCSI disks and CD drives, USB sticks, SD cards.
    "ahci",
    "ata_piix",
    "ata_generic",
    "nvme",
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "sd_mod",
    "sr_mod",
    "usb_storage",
    "uas",
    "xhci_pci",
    "ehci_pci",
    "ohci_pci",
    "uhci_hcd",
    "mmc_block",
    "sdhci_pci",
    // Input on USB keyboards (PS/2 is built in).
    "usbhid",
    "hid_generic",
    // File systems: optical media, FAT USB sticks and ESPs, ext4, FUSE for NTFS-3G.
    "isofs",
    "udf",
    "vfat",
    "nls_cp437",
    "nls_iso8859_1",
    "nls_utf8",
    "ext4",
    "fuse",
    // Wired network adapters: virtual, Intel, Realtek, Broadcom.
    "virtio_net",
    "e1000",
    "e1000e",
    "igb",
    "igc",
    "ixgbe",
    "r8169",
    "tg3",
    "bnx2",
    "bnxt_en",
    // Raw packets for DHCP.
    "af_packet",
];

/// Picks the modules to carry: `wanted` and everything they need, in an order in which each
/// module comes after the ones it depends on (ties by name, so the order is reproducible).
/// Names in `builtin` are satisfied already; a wanted name found nowhere is returned in the
/// second list. A dependency found nowhere is an error.
pub fn select(
    all: &BTreeMap<String, ModInfo>,
    wanted: &[String],
    builtin: &BTreeSet<String>,
) -> Result<(Vec<String>, Vec<String>), crate::error::Error> {
    let mut chosen = BTreeSet::new();
    let mut absent = Vec::new();
    let mut stack: Vec<(String, Option<String>)> =
        wanted.iter().map(|w| (normalise(w), None)).collect();
    while let Some((name, needed_by)) = stack.pop() {
        if builtin.contains(&name) || chosen.contains(&name) {
            continue;
        }
        let Some(info) = all.get(&name) else {
            match needed_by {
                None => absent.push(name),
                Some(by) if !info_is_soft(all, &by, &name) => {
                    return Err(crate::error::Error::Module {
                        module: by,
                        reason: format!("needs {name}, which the kernel package does not have"),
                    });
                }
                Some(_) => {}
            }
            continue;
        };
        chosen.insert(name.clone());
        for d in info.depends.iter().chain(&info.pre) {
            stack.push((d.clone(), Some(name.clone())));
        }
    }
    // Depth-first post-order over the chosen set gives dependencies first.
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    for name in &chosen {
        visit(
            name,
            all,
            &chosen,
            &mut done,
            &mut BTreeSet::new(),
            &mut order,
        );
    }
    absent.sort();
    absent.dedup();
    Ok((order, absent))
}

/// Whether `dep` is only a soft (`pre:`) dependency of `module`.
fn info_is_soft(all: &BTreeMap<String, ModInfo>, module: &str, dep: &str) -> bool {
    all.get(module)
        .is_some_and(|i| !i.depends.iter().any(|d| d == dep))
}

fn visit(
    name: &str,
    all: &BTreeMap<String, ModInfo>,
    chosen: &BTreeSet<String>,
    done: &mut BTreeSet<String>,
    path: &mut BTreeSet<String>,
    order: &mut Vec<String>,
) {
    if done.contains(name) || !chosen.contains(name) || !path.insert(name.to_string()) {
        return; // finished, not carried, or a cycle (the kernel refuses those anyway)
    }
    if let Some(info) = all.get(name) {
        let mut deps: Vec<&String> = info.depends.iter().chain(&info.pre).collect();
        deps.sort();
        for d in deps {
            visit(d, all, chosen, done, path, order);
        }
    }
    path.remove(name);
    done.insert(name.to_string());
    order.push(name.to_string());
}

/// `modules.dep` in depmod's format (`path: dep-path dep-path`), for the modules carried;
/// `paths` maps a module name to its path below `lib/modules/<version>/`.
pub fn modules_dep(
    order: &[String],
    all: &BTreeMap<String, ModInfo>,
    paths: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    for name in order {
        let Some(path) = paths.get(name) else {
            continue;
        };
        out.push_str(path);
        out.push(':');
        // depmod lists the whole closure with each module before the ones it needs; modprobe
        // loads the list from its end, so dependencies go in first.
        let mut closure = Vec::new();
        post_order(name, all, &mut closure);
        closure.pop(); // the module itself comes last in post-order
        for d in closure.iter().rev().filter_map(|d| paths.get(d)) {
            out.push(' ');
            out.push_str(d);
        }
        out.push('\n');
    }
    out
}

/// `name` and everything it needs, each after its own dependencies.
fn post_order(name: &str, all: &BTreeMap<String, ModInfo>, out: &mut Vec<String>) {
    if out.iter().any(|o| o == name) {
        return;
    }
    if let Some(info) = all.get(name) {
        let mut deps: Vec<&String> = info.depends.iter().collect();
        deps.sort();
        for d in deps {
            post_order(d, all, out);
        }
    }
    if !out.iter().any(|o| o == name) {
        out.push(name.to_string());
    }
}

/// `modules.alias` in depmod's format (`alias PATTERN module`), for the modules carried.
pub fn modules_alias(order: &[String], all: &BTreeMap<String, ModInfo>) -> String {
    let mut lines = BTreeSet::new();
    for name in order {
        for a in all.get(name).map(|i| i.aliases.as_slice()).unwrap_or(&[]) {
            lines.insert(format!("alias {a} {name}\n"));
        }
    }
    lines.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, deps: &[&str], pre: &[&str]) -> (String, ModInfo) {
        (
            name.to_string(),
            ModInfo {
                name: name.to_string(),
                depends: deps.iter().map(|s| s.to_string()).collect(),
                pre: pre.iter().map(|s| s.to_string()).collect(),
                aliases: vec![format!("pci:{name}*")],
            },
        )
    }

    #[test]
    fn dependencies_come_first_and_builtins_and_absent_names_are_passed_over() {
        let all: BTreeMap<_, _> = [
            m("virtio_blk", &["virtio", "virtio_ring"], &[]),
            m("virtio", &["virtio_ring"], &[]),
            m("virtio_ring", &[], &[]),
            m("ext4", &["jbd2", "mbcache"], &["crc32c"]),
            m("jbd2", &[], &[]),
            m("mbcache", &[], &[]),
        ]
        .into_iter()
        .collect();
        let builtin: BTreeSet<String> = ["sd_mod".to_string()].into();
        let wanted: Vec<String> = ["virtio_blk", "ext4", "sd_mod", "no_such"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (order, absent) = select(&all, &wanted, &builtin).expect("select");
        let pos = |n: &str| order.iter().position(|o| o == n).expect(n);
        assert!(pos("virtio_ring") < pos("virtio"));
        assert!(pos("virtio") < pos("virtio_blk"));
        assert!(pos("jbd2") < pos("ext4") && pos("mbcache") < pos("ext4"));
        assert_eq!(order.len(), 6, "{order:?}"); // crc32c is a soft dependency, absent
        assert_eq!(absent, ["no_such"]);
    }

    #[test]
    fn a_missing_hard_dependency_is_an_error_naming_both() {
        let all: BTreeMap<_, _> = [m("a", &["gone"], &[])].into_iter().collect();
        let e = select(&all, &["a".to_string()], &BTreeSet::new()).expect_err("must fail");
        let text = e.to_string();
        assert!(text.contains("a") && text.contains("gone"), "{text}");
    }

    #[test]
    fn depmod_files_list_paths_and_aliases() {
        let all: BTreeMap<_, _> = [m("b", &["a"], &[]), m("a", &[], &[])]
            .into_iter()
            .collect();
        let paths: BTreeMap<String, String> = [
            ("a".to_string(), "kernel/a.ko".to_string()),
            ("b".to_string(), "kernel/b.ko".to_string()),
        ]
        .into();
        let order = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            modules_dep(&order, &all, &paths),
            "kernel/a.ko:\nkernel/b.ko: kernel/a.ko\n"
        );
        assert_eq!(
            modules_alias(&order, &all),
            "alias pci:a* a\nalias pci:b* b\n"
        );
    }

    #[test]
    fn modules_dep_lists_dependents_before_what_they_need() {
        let all: BTreeMap<_, _> = [
            m("virtio_pci", &["virtio", "virtio_ring", "legacy"], &[]),
            m("virtio", &["virtio_ring"], &[]),
            m("virtio_ring", &[], &[]),
            m("legacy", &[], &[]),
        ]
        .into_iter()
        .collect();
        let paths: BTreeMap<String, String> =
            all.keys().map(|k| (k.clone(), format!("{k}.ko"))).collect();
        let dep = modules_dep(&["virtio_pci".to_string()], &all, &paths);
        // modprobe loads from the end: legacy, virtio_ring, virtio, then virtio_pci.
        assert_eq!(dep, "virtio_pci.ko: virtio.ko virtio_ring.ko legacy.ko\n");
    }

    #[test]
    fn softdep_pre_names_are_read() {
        assert_eq!(softdep_pre("pre: crc32c post: x"), ["crc32c"]);
        assert_eq!(softdep_pre("post: x"), Vec::<String>::new());
    }
}
