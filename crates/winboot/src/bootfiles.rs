//! What `bcdboot <windows> /s <system> /f UEFI|BIOS` does, on plain folders: copy the boot
//! manager and its resources from the applied image's `Windows\Boot` to the system partition
//! and write the BCD store next to them (docs/bcd.md#boot-files).
//!
//! Both volumes come from Windows file systems (FAT, NTFS), whose names are case-insensitive,
//! so every lookup ignores case, and folders that already exist in another case are reused.
//! Not done here: the BIOS partition boot record that loads `bootmgr` (the file system's boot
//! code) and the UEFI NVRAM boot entry (firmware falls back to `\EFI\Boot\bootx64.efi`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::bcd::{BcdError, BcdStore, BcdTarget, Firmware};

/// Errors installing the boot files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootFilesError {
    #[error(
        "the Windows volume has no {0}: not an applied Windows image, or one without these boot files"
    )]
    MissingFile(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Bcd(#[from] BcdError),
}

type Result<T, E = BootFilesError> = std::result::Result<T, E>;

/// What was written, relative to the system partition's root (`/` separators).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootFilesReport {
    /// Every file copied, in order.
    pub copied: Vec<String>,
    /// Where the BCD store went (`EFI/Microsoft/Boot/BCD` or `Boot/BCD`).
    pub bcd: String,
    /// The UEFI fallback loader name chosen from `bootmgfw.efi`'s machine type
    /// (`bootx64.efi`, `bootaa64.efi`, `bootia32.efi`); empty for BIOS.
    pub fallback_loader: String,
}

/// Copies the boot files from `windows_volume` (the root holding `Windows\`) to
/// `system_partition` (the mounted ESP, or the active partition for BIOS) and writes the BCD
/// store for `target` there.
pub fn install_boot_files(
    windows_volume: &Path,
    system_partition: &Path,
    target: &BcdTarget,
) -> Result<BootFilesReport> {
    let boot = find(windows_volume, "", &["Windows", "Boot"])?;
    let mut report = BootFilesReport::default();
    let store = BcdStore::windows(target).to_bytes()?;
    match target.firmware {
        Firmware::Uefi => {
            let efi = find(&boot, "Windows/Boot", &["EFI"])?;
            let bootmgfw = find(&efi, "Windows/Boot/EFI", &["bootmgfw.efi"])?;
            let dest = make_dirs(system_partition, &["EFI", "Microsoft", "Boot"])?;
            copy_tree(&efi, &dest, "EFI/Microsoft/Boot", &mut report)?;
            if let Some(fonts) = lookup(&boot, "Fonts")? {
                let dest_fonts = make_dirs(&dest, &["Fonts"])?;
                copy_tree(&fonts, &dest_fonts, "EFI/Microsoft/Boot/Fonts", &mut report)?;
            }
            report.fallback_loader = fallback_loader_name(&read(&bootmgfw)?).to_string();
            let fallback_dir = make_dirs(system_partition, &["EFI", "Boot"])?;
            copy_file(
                &bootmgfw,
                &fallback_dir,
                &report.fallback_loader.clone(),
                "EFI/Boot",
                &mut report,
            )?;
            write_store(&dest, &store)?;
            report.bcd = "EFI/Microsoft/Boot/BCD".into();
        }
        Firmware::Bios => {
            let pcat = find(&boot, "Windows/Boot", &["PCAT"])?;
            find(&pcat, "Windows/Boot/PCAT", &["bootmgr"])?;
            let dest = make_dirs(system_partition, &["Boot"])?;
            for entry in sorted_entries(&pcat)? {
                let name = entry.file_name().to_string_lossy().into_owned();
                let lower = name.to_ascii_lowercase();
                // The boot manager (and bootnxt, its companion since Windows 8) live at the root.
                if (lower == "bootmgr" || lower == "bootnxt") && entry.path().is_file() {
                    copy_file(&entry.path(), system_partition, &name, "", &mut report)?;
                } else if entry.path().is_dir() {
                    let sub = make_dirs(&dest, &[name.as_str()])?;
                    copy_tree(&entry.path(), &sub, &format!("Boot/{name}"), &mut report)?;
                } else {
                    copy_file(&entry.path(), &dest, &name, "Boot", &mut report)?;
                }
            }
            if let Some(fonts) = lookup(&boot, "Fonts")? {
                let dest_fonts = make_dirs(&dest, &["Fonts"])?;
                copy_tree(&fonts, &dest_fonts, "Boot/Fonts", &mut report)?;
            }
            write_store(&dest, &store)?;
            report.bcd = "Boot/BCD".into();
        }
    }
    Ok(report)
}

/// The removable-media loader name UEFI firmware looks for, by the PE machine type of the
/// boot manager; x64 when the file is not a PE image we recognise.
pub fn fallback_loader_name(pe: &[u8]) -> &'static str {
    let machine = (|| {
        let at = u32::from_le_bytes(pe.get(0x3C..0x40)?.try_into().ok()?) as usize;
        if pe.get(at..at + 4)? != b"PE\0\0" {
            return None;
        }
        Some(u16::from_le_bytes(pe.get(at + 4..at + 6)?.try_into().ok()?))
    })();
    match machine {
        Some(0xAA64) => "bootaa64.efi",
        Some(0x014C) => "bootia32.efi",
        _ => "bootx64.efi",
    }
}

fn missing(what: &str) -> BootFilesError {
    BootFilesError::MissingFile(what.to_string())
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BootFilesError + '_ {
    move |source| BootFilesError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Follows `parts` below `root`, each matched without regard to case; a missing one is
/// named as `shown/...` (its path on the Windows volume).
fn find(root: &Path, shown: &str, parts: &[&str]) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let path = [shown]
            .into_iter()
            .chain(parts[..=i].iter().copied())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>();
        at = lookup(&at, part)?.ok_or_else(|| missing(&path.join("/")))?;
    }
    Ok(at)
}

/// The entry of `dir` named `name` in any case.
fn lookup(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let exact = dir.join(name);
    if exact.exists() {
        return Ok(Some(exact));
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_at(dir))?;
        if entry
            .file_name()
            .to_string_lossy()
            .eq_ignore_ascii_case(name)
        {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Creates `parts` below `root`, reusing folders that exist in another case.
fn make_dirs(root: &Path, parts: &[&str]) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    for part in parts {
        at = match lookup(&at, part)? {
            Some(existing) => existing,
            None => {
                let dir = at.join(part);
                fs::create_dir(&dir).map_err(io_at(&dir))?;
                dir
            }
        };
    }
    Ok(at)
}

fn sorted_entries(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let mut entries = fs::read_dir(dir)
        .map_err(io_at(dir))?
        .collect::<io::Result<Vec<_>>>()
        .map_err(io_at(dir))?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

/// Copies the contents of `from` into `to` (an existing folder), recursively.
fn copy_tree(from: &Path, to: &Path, shown: &str, report: &mut BootFilesReport) -> Result<()> {
    for entry in sorted_entries(from)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(io_at(&entry.path()))?;
        if kind.is_dir() {
            let sub = make_dirs(to, &[name.as_str()])?;
            copy_tree(&entry.path(), &sub, &format!("{shown}/{name}"), report)?;
        } else if kind.is_file() {
            copy_file(&entry.path(), to, &name, shown, report)?;
        }
    }
    Ok(())
}

/// Copies one file to `dir/name`, replacing a file of that name in any case.
fn copy_file(
    from: &Path,
    dir: &Path,
    name: &str,
    shown: &str,
    report: &mut BootFilesReport,
) -> Result<()> {
    let dest = lookup(dir, name)?.unwrap_or_else(|| dir.join(name));
    fs::copy(from, &dest).map_err(io_at(&dest))?;
    let shown_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    report.copied.push(if shown.is_empty() {
        shown_name
    } else {
        format!("{shown}/{shown_name}")
    });
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(io_at(path))
}

fn write_store(dir: &Path, store: &[u8]) -> Result<()> {
    let dest = lookup(dir, "BCD")?.unwrap_or_else(|| dir.join("BCD"));
    fs::write(&dest, store).map_err(io_at(&dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_name_follows_the_machine_type() {
        let pe = |machine: u16| {
            let mut v = vec![0u8; 0x90];
            v[0x3C] = 0x80;
            v[0x80..0x84].copy_from_slice(b"PE\0\0");
            v[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
            v
        };
        assert_eq!(fallback_loader_name(&pe(0x8664)), "bootx64.efi");
        assert_eq!(fallback_loader_name(&pe(0xAA64)), "bootaa64.efi");
        assert_eq!(fallback_loader_name(&pe(0x014C)), "bootia32.efi");
        assert_eq!(fallback_loader_name(b"not a PE"), "bootx64.efi");
    }
}
