//! Where each planned file's bytes come from when the media are written: library files and
//! `.swm` parts streamed, boot files read from the boot image, generated files from memory;
//! all behind the cancel flag. Also the content manifest (`tsmedia-mediafmt`'s format, read
//! by the runtime), which needs the parts' SHA-256.

use std::collections::BTreeMap;
use std::io::Read;
use tsmedia_base::Cancel;

use sha2::{Digest, Sha256};
use tsmedia_image::DataSource;
use tsmedia_mediafmt::{ContentManifest, ManifestFile, ManifestPackage, SplitWimPart};

use crate::error::{Error, IoContext, Result};
use crate::plan::{MediaPlan, SplitWim};
use crate::swm::PartSource;

/// A source that fails with `Interrupted` once the cancel flag is set.
pub(super) struct Cancellable {
    pub inner: Box<dyn DataSource>,
    pub cancel: Cancel,
}

struct CancellableReader<'a> {
    inner: Box<dyn Read + 'a>,
    cancel: &'a Cancel,
}

impl Read for CancellableReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "media build interrupted",
            ));
        }
        self.inner.read(buf)
    }
}

impl DataSource for Cancellable {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(CancellableReader {
            inner: self.inner.open()?,
            cancel: &self.cancel,
        }))
    }
}

/// The streaming source of part `part` of the split WIM whose media path is `wim`.
pub(super) fn part_source(plan: &MediaPlan, wim: &str, part: u16) -> Result<PartSource> {
    plan.splits
        .iter()
        .find(|s| s.dest == wim)
        .and_then(|s| s.layout.source_of(part))
        .ok_or_else(|| Error::Inspect {
            path: wim.into(),
            reason: format!("part {part} is not in the plan"),
        })
}

/// SHA-256 (lowercase hex) of every `.swm` part, keyed by media path: each part streamed
/// once through the hash (the parts are never stored anywhere but on the media).
pub(super) fn part_hashes(plan: &MediaPlan, cancel: &Cancel) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut buf = vec![0u8; 1 << 20];
    for s in &plan.splits {
        for p in &s.layout.parts {
            let src = Cancellable {
                inner: Box::new(part_source(plan, &s.dest, p.number)?),
                cancel: cancel.clone(),
            };
            let at = s.layout.source.as_path();
            let mut r = src.open().at(at)?;
            let mut h = Sha256::new();
            loop {
                let n = r.read(&mut buf).at(at)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            out.insert(
                crate::swm::part_dest(&s.dest, p.number),
                tsmedia_base::digest::hex(&h.finalize()),
            );
        }
    }
    Ok(out)
}

/// `SMS/data/ContentManifest.json` ([`ContentManifest`]): every content file with size and
/// SHA-256. A split WIM is listed as its parts, each naming the WIM it belongs to (media path,
/// SHA-256 of the whole WIM in the library, part number and count). On a multi-disc set every
/// file records its `disc`.
pub(super) fn manifest(plan: &MediaPlan, part_hashes: &BTreeMap<String, String>) -> Vec<u8> {
    // On a multi-disc set each file also records its disc, for the runtime's "insert disc N".
    let mut disc_of: BTreeMap<&str, u32> = BTreeMap::new();
    if plan.discs.len() > 1 {
        for d in &plan.discs {
            for f in &d.files {
                disc_of.insert(f.dest.as_str(), d.number);
            }
        }
    }
    let split_of =
        |dest: &str| -> Option<&SplitWim> { plan.splits.iter().find(|s| s.dest == dest) };
    let packages = plan
        .content
        .iter()
        .map(|c| {
            let mut files = Vec::new();
            for f in &c.files {
                let dest = format!("SMS/PKG/{}/{}", c.package.id, f.path.replace('\\', "/"));
                let Some(split) = split_of(&dest) else {
                    files.push(ManifestFile {
                        disc: disc_of.get(dest.as_str()).copied(),
                        sha256: f.hash.clone(),
                        size: f.size,
                        split_wim: None,
                        path: dest,
                    });
                    continue;
                };
                // A WIM has at most 65535 parts (its header counts them in 16 bits).
                let parts = u16::try_from(split.layout.parts.len()).unwrap_or(u16::MAX);
                for p in &split.layout.parts {
                    let path = crate::swm::part_dest(&dest, p.number);
                    files.push(ManifestFile {
                        disc: disc_of.get(path.as_str()).copied(),
                        sha256: part_hashes.get(&path).cloned().unwrap_or_default(),
                        size: p.size,
                        split_wim: Some(SplitWimPart {
                            part: p.number,
                            parts,
                            path: dest.clone(),
                            sha256: split.sha256.clone(),
                        }),
                        path,
                    });
                }
            }
            ManifestPackage {
                content_id: c.package.content_id.clone(),
                files,
                image_index: plan.os_image_index.filter(|_| {
                    plan.spec
                        .os_image
                        .as_deref()
                        .is_some_and(|o| o.eq_ignore_ascii_case(&c.package.id))
                }),
                name: c.package.name.clone(),
                package_id: c.package.id.clone(),
                version: c.version,
            }
        })
        .collect();
    ContentManifest::new(packages).to_json()
}
