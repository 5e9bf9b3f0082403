//! Which file goes on which disc: disc 1 boots (boot files, `sources/boot.wim`, `SMS/data`);
//! content follows in package order, split across discs at file boundaries.

use std::path::PathBuf;

use crate::bootfiles::BootFile;
use crate::plan::{Disc, FileSource, MediaPlan, PlannedFile};
use crate::preflight::PreflightFailure;
use crate::spec::{MediaKind, MediaType};

/// FAT32's largest file.
pub const FAT32_MAX_FILE: u64 = (4 << 30) - 1;
/// Space kept free on each disc for volume descriptors, directories and the UDF bridge.
fn overhead(size: u64) -> u64 {
    (2 << 20) + size / 100
}

/// Generated files (sizes are upper bounds: the exact bytes are made when writing).
pub const VARIABLES: &str = "SMS/data/Variables.dat";
pub const BOOTSTRAP: &str = "SMS/data/TsmBootstrap.ini";
pub const POLICY: &str = "SMS/data/policy.xml";
pub const MANIFEST: &str = "SMS/data/ContentManifest.json";
pub const LABEL: &str = "MediaLabel.txt";
pub const AUTORUN: &str = "autorun.inf";
pub const BOOT_WIM: &str = "sources/boot.wim";

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

/// Fills `plan.discs`.
pub fn lay_out(
    plan: &mut MediaPlan,
    boot_files: &[BootFile],
    disc_size: Option<u64>,
) -> Result<(), Vec<PreflightFailure>> {
    let spec = &plan.spec;
    let mut first: Vec<PlannedFile> = boot_files
        .iter()
        .map(|b| PlannedFile {
            dest: b.dest.into(),
            size: b.size,
            source: FileSource::BootImage(b.wim_path.into()),
        })
        .collect();
    let boot_wim_size = std::fs::metadata(&plan.boot_wim)
        .map(|m| m.len())
        .unwrap_or(0)
        + (1 << 20);
    first.push(PlannedFile {
        dest: BOOT_WIM.into(),
        size: boot_wim_size,
        source: FileSource::BootWim,
    });
    first.push(generated(BOOTSTRAP, "bootstrap settings"));
    first.push(generated(VARIABLES, "encrypted media variables"));
    if spec.kind == MediaKind::Standalone {
        first.push(generated(POLICY, "encrypted task sequence policy"));
    }
    if matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged) {
        first.push(generated(MANIFEST, "content manifest (SHA-256 per file)"));
    }
    if spec.autorun && spec.kind != MediaKind::Prestaged {
        first.push(generated(AUTORUN, "autorun.inf"));
    }
    let content: Vec<PlannedFile> = plan
        .content
        .iter()
        .flat_map(|c| {
            c.files.iter().map(move |f| PlannedFile {
                dest: format!("SMS/PKG/{}/{}", c.package.id, f.path.replace('\\', "/")),
                size: f.size,
                source: FileSource::Library(f.library_path.clone()),
            })
        })
        .collect();

    let mut failures = Vec::new();
    let usb = spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged;
    if usb {
        for f in first.iter().chain(&content) {
            if f.size > FAT32_MAX_FILE {
                failures.push(PreflightFailure {
                    object: f.dest.clone(),
                    problem: format!("{} bytes is over FAT32's 4 GiB file limit", f.size),
                    fix: "use --type cd-dvd with --size unlimited, or prestaged media (splitting to .swm parts is not implemented yet)".into(),
                });
            }
        }
    }
    let mut discs = Vec::new();
    match (spec.kind, disc_size) {
        (MediaKind::Prestaged, _) | (_, None) => {
            let mut files = first;
            files.extend(content);
            let path = if spec.kind == MediaKind::Prestaged || usb {
                spec.out.clone()
            } else {
                disc_path(&spec.out, 1)
            };
            discs.push(Disc {
                number: 1,
                path,
                files,
            });
        }
        (_, Some(size)) if usb => {
            let _ = size;
            let mut files = first;
            files.extend(content);
            discs.push(Disc {
                number: 1,
                path: spec.out.clone(),
                files,
            });
        }
        (_, Some(size)) => {
            let cap = size.saturating_sub(overhead(size));
            let mut current = first;
            let mut used: u64 = current.iter().map(|f| f.size + 4096).sum();
            if used > cap {
                failures.push(PreflightFailure {
                    object: "--size".into(),
                    problem: format!("the boot files and boot.wim ({used} bytes) do not fit on a {size}-byte disc"),
                    fix: "choose a larger --size".into(),
                });
            }
            for f in content {
                let need = f.size + 4096;
                if need > cap {
                    failures.push(PreflightFailure {
                        object: f.dest.clone(),
                        problem: format!("{} bytes is larger than one disc ({size} bytes)", f.size),
                        fix: "choose a larger --size (splitting WIMs across discs is not implemented yet)".into(),
                    });
                    continue;
                }
                if used + need > cap {
                    let n = discs.len() as u32 + 1;
                    discs.push(Disc {
                        number: n,
                        path: disc_path(&spec.out, n),
                        files: std::mem::take(&mut current),
                    });
                    used = 0;
                }
                used += need;
                current.push(f);
            }
            let n = discs.len() as u32 + 1;
            discs.push(Disc {
                number: n,
                path: disc_path(&spec.out, n),
                files: current,
            });
        }
    }
    if spec.kind != MediaKind::Prestaged {
        for d in &mut discs {
            d.files
                .push(generated(LABEL, "media label and disc number"));
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    plan.discs = discs;
    Ok(())
}
