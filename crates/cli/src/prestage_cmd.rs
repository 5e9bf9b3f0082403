//! `tsmedia prestage apply MEDIA.wim --disk IMG|DEVICE`: the OEM staging step as one command.
//! Partitions the disk (GPT with one EFI system partition by default, or MBR with one active
//! 0x0C partition), formats it FAT32 and applies image 1 of the prestaged WIM into it — the
//! WIM holds the media files laid out as on USB media (`EFI/Boot/bootx64.efi`, `sources/`,
//! `SMS/`), so the disk boots under UEFI. Media with a tsmedia PE boot image also boot under
//! BIOS: ISOLINUX's hybrid MBR code starts ISOLINUX from a small ISO 9660 area written before
//! the partition (`tsmedia_pe::boot_media::disk_bios_area`). Blobs stream from the WIM into the image (no
//! staging copy), their SHA-1 checked as they are read. An image file is written beside its
//! target and renamed when complete, so a failure never destroys an existing image.

use std::path::PathBuf;
use std::sync::Arc;
use tsmedia_base::Cancel;

use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use tsmedia_image::DataSource;
use tsmedia_image::disk::{
    PartitionKind, PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan, block_device_size,
};
use tsmedia_image::fat::{FatOptions, FatTree, FatType};
use tsmedia_pe::boot_media::DiskBiosArea;
use tsmedia_wim::dentry::Dentry;
use tsmedia_wim::{Sha1, Wim, ops};

/// FAT32's largest file.
const FAT32_MAX_FILE: u64 = u32::MAX as u64;
/// What UEFI firmware starts from the partition.
const BOOTX64: &str = "EFI/Boot/bootx64.efi";

/// Prestaged media commands.
#[derive(Subcommand)]
pub enum PrestageCommand {
    /// Partition and format a disk image or device and apply prestaged media to it, bootable
    Apply(ApplyArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TableArg {
    Gpt,
    Mbr,
}

/// `prestage apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The prestaged media WIM (`media create prestaged`); image 1 is applied
    media: PathBuf,
    /// Disk image file (created or replaced atomically) or block device
    #[arg(long)]
    disk: PathBuf,
    /// Disk size (e.g. 2gib, 4gb, bytes). Default: the content plus 20 %, or the device size
    #[arg(long)]
    size: Option<String>,
    /// Partition table: gpt (EFI system partition) or mbr (active FAT32 LBA partition)
    #[arg(long, value_enum, default_value = "gpt")]
    table: TableArg,
    /// Overwrite a block device that already holds data
    #[arg(long)]
    force: bool,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
    /// No progress bar
    #[arg(long)]
    quiet: bool,
}

/// One file's data: a blob of the WIM, read (and its SHA-1 checked) when the image is written.
struct WimBlob {
    wim: Arc<Wim>,
    sha1: Sha1,
}

impl DataSource for WimBlob {
    fn open(&self) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        Ok(Box::new(self.wim.open_blob(&self.sha1, true)?))
    }
}

/// What the WIM's image holds, declared as a FAT tree.
struct Content {
    tree: FatTree,
    files: u64,
    bytes: u64,
    label: Option<String>,
}

fn declare(wim: &Arc<Wim>, root: &Dentry) -> Result<Content> {
    let mut tree = FatTree::new();
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut problems: Vec<String> = Vec::new();
    let mut entries: Vec<(String, &Dentry)> = Vec::new();
    root.walk(&mut |parents, d| {
        if parents.is_empty() {
            return; // the root itself
        }
        let mut p: Vec<String> = parents.iter().skip(1).map(|x| x.name_lossy()).collect();
        p.push(d.name_lossy());
        entries.push((p.join("/"), d));
    });
    for (path, d) in entries {
        if d.is_reparse_point() {
            problems.push(format!(
                "{path}: reparse points and symbolic links cannot be stored on FAT32"
            ));
            continue;
        }
        if d.is_dir() {
            tree.add_dir(&path)
                .with_context(|| format!("declaring folder {path}"))?;
            continue;
        }
        let size = if d.data.is_zero() {
            0
        } else {
            wim.blobs.get(&d.data).map(|l| l.size()).with_context(|| {
                format!(
                    "{path}: its data (SHA-1 {}) is not in the WIM",
                    d.data.hex()
                )
            })?
        };
        if size > FAT32_MAX_FILE {
            problems.push(format!(
                "{path}: {size} bytes is over FAT32's 4 GiB - 1 file limit"
            ));
            continue;
        }
        let source: Box<dyn DataSource> = if size == 0 {
            Box::new(Vec::new())
        } else {
            Box::new(WimBlob {
                wim: wim.clone(),
                sha1: d.data,
            })
        };
        tree.add_file_boxed(&path, size, source)
            .with_context(|| format!("declaring file {path}"))?;
        files += 1;
        bytes += size;
    }
    if !problems.is_empty() {
        bail!(
            "the prestaged media cannot be applied to a FAT32 partition:\n  {}",
            problems.join("\n  ")
        );
    }
    let label = tsmedia_media::variables::key_values(&String::from_utf8_lossy(
        &read_small(wim, root, "MediaLabel.txt").unwrap_or_default(),
    ))
    .into_iter()
    .find(|(k, _)| k == "label")
    .map(|(_, v)| fat_label(&v))
    .filter(|l| !l.is_empty());
    Ok(Content {
        tree,
        files,
        bytes,
        label,
    })
}

/// A small file of the image, by case-insensitive path.
fn read_small(wim: &Wim, root: &Dentry, path: &str) -> Option<Vec<u8>> {
    let d = find(root, path)?;
    if d.is_dir() || d.data.is_zero() || wim.blobs.get(&d.data)?.size() > 1 << 20 {
        return None;
    }
    wim.open_blob(&d.data, true).ok()?.read_all().ok()
}

fn find<'a>(root: &'a Dentry, path: &str) -> Option<&'a Dentry> {
    let mut d = root;
    for part in path.split('/') {
        d = d
            .children
            .iter()
            .find(|c| c.name_lossy().eq_ignore_ascii_case(part))?;
    }
    Some(d)
}

/// A volume label FAT accepts: upper case, short-name characters, at most 11 bytes.
fn fat_label(text: &str) -> String {
    text.to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-$%'@~`!(){}^#& ".contains(*c))
        .take(11)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// BIOS boot of tsmedia PE media: ISOLINUX from an ISO 9660 area before the partition, when
/// image 1 holds tsmedia PE's ISOLINUX (Windows PE prestaged media boot under UEFI only).
fn bios_area(wim: &Wim, root: &Dentry) -> Result<Option<DiskBiosArea>> {
    let hybrid = tsmedia_pe::boot_media::HYBRID_MBR;
    if find(root, hybrid).is_none() {
        return Ok(None);
    }
    let mut wanted: Vec<(String, Sha1)> = Vec::new();
    let mut time = 0u64;
    root.walk(&mut |parents, d| {
        if parents.is_empty() || d.is_dir() {
            return;
        }
        let mut p: Vec<String> = parents.iter().skip(1).map(|x| x.name_lossy()).collect();
        p.push(d.name_lossy());
        let path = p.join("/");
        if tsmedia_pe::boot_media::is_bios_area_file(&path) {
            time = time.max(d.last_write_time);
            wanted.push((path, d.data));
        }
    });
    let mut files = Vec::with_capacity(wanted.len());
    for (path, sha1) in wanted {
        let data = if sha1.is_zero() {
            Vec::new()
        } else {
            wim.open_blob(&sha1, true)
                .and_then(|r| r.read_all())
                .with_context(|| format!("reading {path} from the prestaged media"))?
        };
        files.push((path, data));
    }
    // The newest file time of the area (FILETIME → seconds since 1970), so equal media give
    // equal disks.
    let unix = (time / 10_000_000).saturating_sub(11_644_473_600) as i64;
    tsmedia_pe::boot_media::disk_bios_area(files, unix)
        .map(Some)
        .context("building the BIOS boot area of tsmedia PE")
}

fn options(
    table: TableArg,
    label: Option<String>,
    disk_size: Option<u64>,
    bios: Option<&DiskBiosArea>,
) -> UsbImageOptions {
    let (table, partition_kind) = match table {
        TableArg::Gpt => (PartitionTable::Gpt, PartitionKind::EfiSystem),
        TableArg::Mbr => (PartitionTable::Mbr, PartitionKind::BasicData),
    };
    UsbImageOptions {
        table,
        partition_kind,
        disk_size,
        partition_name: "EFI system partition".into(),
        fat: FatOptions {
            label,
            fat_type: Some(FatType::Fat32),
            ..FatOptions::default()
        },
        mbr_boot_code: bios.map(|b| b.mbr_code.clone()),
        leading_area: bios.map(|b| b.area.clone()).unwrap_or_default(),
        ..UsbImageOptions::default()
    }
}

pub fn run(c: PrestageCommand, cancel: &Cancel) -> Result<()> {
    match c {
        PrestageCommand::Apply(a) => apply(a, cancel),
    }
}

fn apply(a: ApplyArgs, cancel: &Cancel) -> Result<()> {
    let media = &a.media;
    let wim = Arc::new(
        Wim::open(media).with_context(|| format!("opening prestaged media {}", media.display()))?,
    );
    let image = ops::load_image(&wim, 1)
        .with_context(|| format!("reading image 1 of {}", media.display()))?;
    if find(&image.root, BOOTX64).is_none_or(|d| d.is_dir()) {
        bail!(
            "{}: image 1 has no {BOOTX64}, so the disk would not boot; is this prestaged media?",
            media.display()
        );
    }
    let bios = bios_area(&wim, &image.root)?;
    let device = block_device_size(&a.disk)?;
    let requested = match &a.size {
        None => None,
        Some(text) => match tsmedia_media::parse_size(text)? {
            None => bail!("--size {text}: a disk needs a size"),
            Some(n) => Some(n / 512 * 512),
        },
    };
    if let (Some(dev), Some(want)) = (device, requested)
        && want > dev
    {
        bail!(
            "--size {want} is larger than {} ({dev} bytes)",
            a.disk.display()
        );
    }
    let Content {
        tree,
        files,
        bytes,
        label,
    } = declare(&wim, &image.root)?;
    let (disk_size, tree) = match (requested, device) {
        (Some(n), _) => (n, tree),
        (None, Some(dev)) => (dev / 512 * 512, tree),
        (None, None) => {
            // Content + 20 %, rounded up to a MiB, and never below what the content needs
            // (planning consumes the tree, so it is declared again: nothing is read yet).
            let minimal =
                UsbImagePlan::new(tree, &options(a.table, label.clone(), None, bios.as_ref()))
                    .context("planning the disk")?
                    .disk_bytes();
            let roomy = (bytes + bytes.div_ceil(5)).div_ceil(1 << 20) << 20;
            (
                minimal.max(roomy + (2 << 20)),
                declare(&wim, &image.root)?.tree,
            )
        }
    };
    let plan = UsbImagePlan::new(
        tree,
        &options(a.table, label.clone(), Some(disk_size), bios.as_ref()),
    )
    .with_context(|| format!("planning {}", a.disk.display()))?;

    let bar = Bar::new("prestage", a.quiet);
    let target = TargetOptions {
        overwrite: device.is_none() || a.force,
        progress: Some(bar.as_ref()),
        cancel: Some(cancel),
    };
    let result = plan.write_to_path(&a.disk, target);
    bar.clear();
    if let Err(e) = result {
        if cancel.is_cancelled() {
            return Err(anyhow::Error::new(tsmedia_wim::Error::Cancelled)
                .context("prestage interrupted; an existing image file was kept"));
        }
        return Err(anyhow::Error::new(e).context(format!(
            "applying {} to {}{}",
            media.display(),
            a.disk.display(),
            if device.is_some() {
                ""
            } else {
                " (an existing image file was kept)"
            }
        )));
    }
    report(&a, &plan, files, bytes, device.is_some(), bios.is_some())
}

fn report(
    a: &ApplyArgs,
    plan: &UsbImagePlan,
    files: u64,
    bytes: u64,
    device: bool,
    bios: bool,
) -> Result<()> {
    let bios_boot = bios.then_some("isolinux/isolinux.bin");
    let table = match a.table {
        TableArg::Gpt => "gpt",
        TableArg::Mbr => "mbr",
    };
    if a.json {
        let v = serde_json::json!({
            "media": a.media,
            "disk": a.disk,
            "block_device": device,
            "table": table,
            "disk_bytes": plan.disk_bytes(),
            "partition_offset": plan.partition_offset(),
            "partition_bytes": plan.partition_bytes(),
            "disk_guid": plan.disk_guid().map(|g| g.to_string()),
            "partition_guid": plan.partition_guid().map(|g| g.to_string()),
            "disk_signature": (table == "mbr").then(|| format!("{:08x}", plan.disk_signature())),
            "file_system": "FAT32",
            "files": files,
            "content_bytes": bytes,
            "uefi_boot": BOOTX64,
            "bios_boot": bios_boot,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{}: {} disk of {} bytes, FAT32 partition at {} MiB ({} bytes), {files} files ({bytes} bytes), UEFI boot {BOOTX64}{}",
            a.disk.display(),
            table.to_uppercase(),
            plan.disk_bytes(),
            plan.partition_offset() >> 20,
            plan.partition_bytes(),
            match bios_boot {
                Some(b) => format!(", BIOS boot {b} (ISO 9660 area before the partition)"),
                None => String::new(),
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_fat() {
        for (text, want) in [
            ("TSMEDIA", "TSMEDIA"),
            ("Prestaged media 2026", "PRESTAGED M"),
            ("a.b:c", "ABC"),
            ("   ", ""),
        ] {
            assert_eq!(fat_label(text), want, "{text}");
        }
    }

    #[test]
    fn paths_are_found_case_insensitively() {
        let leaf = Dentry {
            name: "bootx64.efi".encode_utf16().collect(),
            ..Dentry::default()
        };
        let boot = Dentry {
            name: "Boot".encode_utf16().collect(),
            attributes: tsmedia_wim::dentry::attr::DIRECTORY,
            children: vec![leaf],
            ..Dentry::default()
        };
        let efi = Dentry {
            name: "EFI".encode_utf16().collect(),
            attributes: tsmedia_wim::dentry::attr::DIRECTORY,
            children: vec![boot],
            ..Dentry::default()
        };
        let root = Dentry {
            children: vec![efi],
            ..Dentry::default()
        };
        assert!(find(&root, "efi/BOOT/BOOTX64.EFI").is_some());
        assert!(find(&root, "EFI/Boot/missing").is_none());
    }
}
