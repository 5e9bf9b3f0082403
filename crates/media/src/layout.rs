//! Which file goes on which disc: disc 1 boots (boot files, `sources/boot.wim`, `SMS/data`);
//! content follows in package order, split across discs at file boundaries.
//!
//! WIMs too large for where they go are stored as `.swm` parts ([`crate::swm`]):
//! - USB (FAT32): a content WIM over [`PlanOptions::usb_max_file`] (4 GiB − 1) becomes parts of
//!   at most that size, with a notice;
//! - a CD/DVD set: a content WIM larger than an empty disc becomes parts spread across discs,
//!   the first filling the room left on the current disc, each next one a disc of its own.
//!
//! Refused where splitting cannot help: `sources/boot.wim` (the boot manager loads it whole
//! into a RAM disk and reads no `.swm` parts), boot files and content files that are not WIMs,
//! WIMs with solid resources, and WIMs holding one resource larger than a part may be.

use std::path::PathBuf;

use crate::bootfiles::{BootFile, Flavour};
use crate::plan::{Disc, FileSource, MediaPlan, PlanOptions, PlannedFile, SplitWim};
use crate::preflight::PreflightFailure;
use crate::spec::{MediaKind, MediaType};
use crate::swm::{self, SwmLayout};

/// FAT32's largest file.
pub const FAT32_MAX_FILE: u64 = (4 << 30) - 1;
/// Space kept free on each disc for volume descriptors, directories and the UDF bridge.
fn overhead(size: u64) -> u64 {
    (2 << 20) + size / 100
}
/// Directory records and sector rounding allowed per file on a disc.
const PER_FILE: u64 = 4096;

/// Generated files (sizes are upper bounds: the exact bytes are made when writing).
/// The files the runtime reads have their one home in `tsmedia-mediafmt`.
pub const VARIABLES: &str = tsmedia_mediafmt::VARIABLES_PATH;
pub const BOOTSTRAP: &str = tsmedia_mediafmt::BOOTSTRAP_PATH;
pub const POLICY: &str = tsmedia_mediafmt::POLICY_PATH;
pub const SOFTWARE_POLICY: &str = tsmedia_mediafmt::software::SOFTWARE_POLICY_PATH;
pub const MANIFEST: &str = tsmedia_mediafmt::MANIFEST_PATH;
pub const LABEL: &str = tsmedia_mediafmt::LABEL_PATH;
pub const AUTORUN: &str = "autorun.inf";
pub const BOOT_WIM: &str = "sources/boot.wim";

/// The prestaged WIM's media properties, below its `IMAGE` element: the label and the
/// wizard's Media Properties page (created by, version, comment).
pub(crate) const PROPERTY_LABEL: &str = "TSMEDIA/LABEL";
pub(crate) const PROPERTY_CREATED_BY: &str = "TSMEDIA/CREATEDBY";
pub(crate) const PROPERTY_VERSION: &str = "TSMEDIA/VERSION";
pub(crate) const PROPERTY_COMMENT: &str = "TSMEDIA/COMMENT";

/// Whether `--out` names the first ISO of a CD/DVD set (`out/outputfile.iso`, as the wizard
/// asks for it) rather than the folder of the set.
pub fn names_an_iso(out: &std::path::Path) -> bool {
    out.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("iso"))
        && !out.is_dir()
}

/// Output name of disc `n` of the CD/DVD set `out`. Configuration Manager's form,
/// `out/outputfile.iso`, gives `out/outputfile.iso`, `out/outputfile2.iso`, ... (a sequence
/// number added to the name); a folder gives `folder/NAME.iso`, `folder/NAME2.iso`, ...
pub fn set_disc_path(out: &std::path::Path, n: u32) -> PathBuf {
    if !names_an_iso(out) {
        return disc_path(out, n);
    }
    if n == 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{stem}{n}.{ext}"))
}

/// Output name of disc `n` of a set in `folder`: `NAME.iso`, `NAME2.iso`, ...
pub fn disc_path(folder: &std::path::Path, n: u32) -> PathBuf {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| "media".into());
    if n == 1 {
        folder.join(format!("{name}.iso"))
    } else {
        folder.join(format!("{name}{n}.iso"))
    }
}

fn generated(dest: &str, what: &'static str) -> PlannedFile {
    PlannedFile {
        dest: dest.into(),
        size: 0,
        source: FileSource::Generated(what),
    }
}

/// One content file with what splitting it needs.
struct ContentFile {
    file: PlannedFile,
    package_id: String,
    sha256: String,
}

impl ContentFile {
    fn is_wim(&self) -> bool {
        self.file.dest.to_ascii_lowercase().ends_with(".wim")
    }

    fn library(&self) -> PathBuf {
        match &self.file.source {
            FileSource::Library(p) => p.clone(),
            _ => PathBuf::new(),
        }
    }

    /// The parts as planned files, and the split's record.
    fn into_parts(self, layout: SwmLayout) -> (Vec<PlannedFile>, SplitWim) {
        let parts = layout.parts.len() as u16;
        let files = layout
            .parts
            .iter()
            .map(|p| PlannedFile {
                dest: swm::part_dest(&self.file.dest, p.number),
                size: p.size,
                source: FileSource::SwmPart {
                    wim: self.file.dest.clone(),
                    part: p.number,
                    parts,
                },
            })
            .collect();
        let split = SplitWim {
            package_id: self.package_id,
            dest: self.file.dest,
            sha256: self.sha256,
            layout,
        };
        (files, split)
    }
}

/// Fills `plan.discs` and `plan.splits`; notices about split WIMs go to `plan.notices`.
pub fn lay_out(
    plan: &mut MediaPlan,
    boot_files: &[BootFile],
    disc_size: Option<u64>,
    options: &PlanOptions,
) -> Result<(), Vec<PreflightFailure>> {
    let spec = &plan.spec;
    let mut first: Vec<PlannedFile> = boot_files
        .iter()
        .map(|b| PlannedFile {
            dest: b.dest.clone(),
            size: b.size,
            source: FileSource::BootImage(b.wim_path.clone()),
        })
        .collect();
    if plan.boot_flavour == Flavour::WinPe {
        // Upper bound: the boot image, the runtime uncompressed, 1 MiB for the configuration.
        let boot_wim_size = std::fs::metadata(&plan.boot_wim)
            .map(|m| m.len())
            .unwrap_or(0)
            + plan.runtime_size
            + (1 << 20);
        first.push(PlannedFile {
            dest: BOOT_WIM.into(),
            size: boot_wim_size,
            source: FileSource::BootWim,
        });
    }
    first.push(generated(BOOTSTRAP, "bootstrap settings"));
    first.push(generated(VARIABLES, "encrypted media variables"));
    if matches!(spec.kind, MediaKind::Standalone | MediaKind::Capture) {
        first.push(generated(POLICY, "encrypted task sequence policy"));
    }
    if plan.software.is_some() {
        first.push(generated(
            SOFTWARE_POLICY,
            "encrypted programs and deployment types",
        ));
    }
    if matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged) {
        first.push(generated(MANIFEST, "content manifest (SHA-256 per file)"));
    }
    if spec.autorun && spec.kind != MediaKind::Prestaged {
        first.push(generated(AUTORUN, "autorun.inf"));
    }
    let content: Vec<ContentFile> = plan
        .content
        .iter()
        .flat_map(|c| {
            c.files.iter().map(move |f| ContentFile {
                file: PlannedFile {
                    dest: format!("SMS/PKG/{}/{}", c.package.id, f.path.replace('\\', "/")),
                    size: f.size,
                    source: FileSource::Library(f.library_path.clone()),
                },
                package_id: c.package.id.clone(),
                sha256: f.hash.clone(),
            })
        })
        .collect();

    let usb = spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged;
    let mut out = Packed::default();
    match (spec.kind, disc_size) {
        _ if usb => pack_usb(&mut out, first, content, options.usb_max_file),
        (MediaKind::Prestaged, _) | (_, None) => {
            out.discs.push(first);
            out.discs[0].extend(content.into_iter().map(|c| c.file));
        }
        (_, Some(size)) => pack_discs(&mut out, first, content, size),
    }
    if !out.failures.is_empty() {
        return Err(out.failures);
    }
    let mut discs: Vec<Disc> = out
        .discs
        .into_iter()
        .enumerate()
        .map(|(i, files)| {
            let number = i as u32 + 1;
            let path = if spec.kind == MediaKind::Prestaged || usb {
                spec.out.clone()
            } else {
                set_disc_path(&spec.out, number)
            };
            Disc {
                number,
                path,
                files,
            }
        })
        .collect();
    if spec.kind != MediaKind::Prestaged {
        for d in &mut discs {
            d.files
                .push(generated(LABEL, "media label and disc number"));
        }
    }
    let usb_limit = usb.then_some(options.usb_max_file);
    for s in &out.splits {
        plan.notices.push(split_notice(s, &discs, usb_limit));
    }
    if plan.spec.kind == MediaKind::Prestaged {
        staging_notices(plan, &discs);
    }
    plan.discs = discs;
    plan.splits = out.splits;
    Ok(())
}

/// Prestaged media are staged onto a FAT32 volume (`tsmedia prestage apply`), which holds no
/// file of 4 GiB or more: such a file is worth knowing about when the media are built, not at
/// the factory. A warning, not a refusal: another staging volume (NTFS) holds it.
fn staging_notices(plan: &mut MediaPlan, discs: &[Disc]) {
    for f in discs.iter().flat_map(|d| &d.files) {
        if f.size > FAT32_MAX_FILE {
            plan.notices.push(format!(
                "{} ({} bytes) is larger than a FAT32 staging volume holds ({FAT32_MAX_FILE} bytes): `tsmedia prestage apply` cannot stage it onto FAT32; stage onto NTFS, or use a smaller file (a WIM split into .swm parts)",
                f.dest, f.size
            ));
        }
    }
}

/// Discs (their files), splits and failures being collected.
#[derive(Default)]
struct Packed {
    discs: Vec<Vec<PlannedFile>>,
    splits: Vec<SplitWim>,
    failures: Vec<PreflightFailure>,
}

impl Packed {
    fn fail(&mut self, object: &str, problem: String, fix: &str) {
        self.failures.push(PreflightFailure {
            object: object.into(),
            problem,
            fix: fix.into(),
            class: tsmedia_base::ErrorClass::InvalidInput,
        });
    }
}

fn pack_usb(out: &mut Packed, first: Vec<PlannedFile>, content: Vec<ContentFile>, max: u64) {
    for f in first.iter().filter(|f| f.size > max) {
        let why = if f.source == FileSource::BootWim {
            "; splitting cannot help: the boot manager loads sources/boot.wim whole into a RAM disk and reads no .swm parts"
        } else {
            "; only content WIMs can be split into .swm parts"
        };
        out.fail(
            &f.dest,
            format!("{} bytes is over the USB file limit of {max} bytes (FAT32){why}", f.size),
            "use a smaller boot image (fewer drivers and optional components) or --type cd-dvd (UDF holds large files)",
        );
    }
    let mut files = first;
    for c in content {
        if c.file.size <= max {
            files.push(c.file);
            continue;
        }
        if !c.is_wim() {
            out.fail(
                &c.file.dest,
                format!("{} bytes is over the USB file limit of {max} bytes (FAT32); splitting cannot help: only WIM files can be stored as .swm parts", c.file.size),
                "use --type cd-dvd (UDF holds files over 4 GiB) or make the package's files smaller",
            );
            continue;
        }
        match swm::plan(&c.library(), &|_| max) {
            Ok(layout) => {
                let (parts, split) = c.into_parts(layout);
                files.extend(parts);
                out.splits.push(split);
            }
            Err(why) => out.fail(
                &c.file.dest,
                format!("{} bytes is over the USB file limit of {max} bytes (FAT32) and the WIM {why}", c.file.size),
                "use --type cd-dvd (UDF holds files over 4 GiB), or re-export the WIM without solid compression (wimlib-imagex export SRC 1 DEST --compress=LZX)",
            ),
        }
    }
    out.discs.push(files);
}

fn pack_discs(out: &mut Packed, first: Vec<PlannedFile>, content: Vec<ContentFile>, size: u64) {
    let cap = size.saturating_sub(overhead(size));
    let mut used: u64 = first.iter().map(|f| f.size + PER_FILE).sum();
    if used > cap {
        out.fail(
            "--size",
            format!("the boot files and boot.wim ({used} bytes) do not fit on a {size}-byte disc"),
            "choose a larger --size",
        );
    }
    let mut current = first;
    for c in content {
        let need = c.file.size + PER_FILE;
        if need <= cap {
            if used + need > cap {
                out.discs.push(std::mem::take(&mut current));
                used = 0;
            }
            used += need;
            current.push(c.file);
            continue;
        }
        if !c.is_wim() {
            out.fail(
                &c.file.dest,
                format!("{} bytes is larger than one disc ({size} bytes); splitting cannot help: only WIM files can be stored as .swm parts", c.file.size),
                "choose a larger --size",
            );
            continue;
        }
        // The first part fills the room left here; when even that cannot be, a new disc.
        let full = cap.saturating_sub(PER_FILE);
        let room = cap.saturating_sub(used + PER_FILE);
        let path = c.library();
        let planned = match swm::plan(&path, &|i| if i == 0 { room } else { full }) {
            Ok(l) => Ok(l),
            Err(_) if !current.is_empty() => {
                out.discs.push(std::mem::take(&mut current));
                used = 0;
                swm::plan(&path, &|_| full)
            }
            Err(e) => Err(e),
        };
        match planned {
            Ok(layout) => {
                let (parts, split) = c.into_parts(layout);
                for (i, p) in parts.into_iter().enumerate() {
                    if i > 0 {
                        out.discs.push(std::mem::take(&mut current));
                        used = 0;
                    }
                    used += p.size + PER_FILE;
                    current.push(p);
                }
                out.splits.push(split);
            }
            Err(why) => out.fail(
                &c.file.dest,
                format!("{} bytes is larger than one disc ({size} bytes) and the WIM {why}", c.file.size),
                "choose a larger --size, or re-export the WIM without solid compression (wimlib-imagex export SRC 1 DEST --compress=LZX)",
            ),
        }
    }
    out.discs.push(current);
}

/// `PS100004 install.wim (5.1 GiB) is over ...: stored as 2 .swm parts ...`.
fn split_notice(s: &SplitWim, discs: &[Disc], usb_limit: Option<u64>) -> String {
    let names: Vec<String> = s
        .layout
        .parts
        .iter()
        .map(|p| swm::part_dest(&s.dest, p.number))
        .collect();
    let on: Vec<String> = names
        .iter()
        .filter_map(|n| discs.iter().find(|d| d.files.iter().any(|f| &f.dest == n)))
        .map(|d| d.number.to_string())
        .collect();
    let total: u64 = s.layout.parts.iter().map(|p| p.size).sum();
    let why = match usb_limit {
        Some(FAT32_MAX_FILE) => "is over FAT32's 4 GiB file limit".to_string(),
        Some(max) => format!("is over the USB file limit of {max} bytes"),
        None => format!("is larger than one disc; on discs {}", on.join(", ")),
    };
    format!(
        "{} ({total} bytes as parts) {why}: stored as {} .swm parts ({}); read them as one WIM with the first part and the others as references (DISM /SWMFile, wimlib-imagex --ref)",
        s.dest,
        names.len(),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests;
