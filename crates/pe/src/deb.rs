//! Debian binary packages (`.deb`): an `ar` archive holding `debian-binary`, `control.tar.*`
//! and `data.tar.*` (see `docs/tsmedia-pe.md`, "Debian packages").
//!
//! `ar` layout: the magic `!<arch>\n`, then members, each a 60-byte ASCII header — name (16),
//! mtime (12), uid (6), gid (6), mode (8), size in decimal (10), `` `\n `` (2) — followed by
//! `size` bytes and one padding byte when `size` is odd. The tarballs are compressed with xz
//! (Debian's default), gzip, or not at all; zstd (Ubuntu's default) is refused with a message.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const AR_MAGIC: &[u8; 8] = b"!<arch>\n";
const AR_HEADER: usize = 60;

/// One `ar` member: where its bytes are in the file.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    offset: u64,
    size: u64,
}

/// An opened package: its control fields and where its data tarball is.
#[derive(Debug, Clone)]
pub struct Deb {
    /// The `.deb` file.
    pub path: PathBuf,
    /// `Package:`.
    pub package: String,
    /// `Version:`.
    pub version: String,
    /// `Architecture:` (`amd64`, `i386`, `arm64`, `all`, …).
    pub architecture: String,
    data: Member,
}

/// What kind of entry a data tarball holds at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A symbolic link to the target.
    Symlink(String),
    /// Anything else (directories, devices): passed over by the callers here.
    Other,
}

/// One entry of the data tarball.
#[derive(Debug, Clone)]
pub struct DataEntry {
    /// The path inside the package, without the leading `./` (`boot/vmlinuz-6.1.0-57-amd64`).
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes of a regular file.
    pub size: u64,
}

impl Deb {
    /// Opens a package and reads its control fields.
    pub fn open(path: &Path) -> Result<Deb> {
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        let members = read_members(&mut f, path)?;
        let control = find(&members, "control.tar", path)?;
        let data = find(&members, "data.tar", path)?.clone();
        let fields = read_control(&mut f, control, path)?;
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| Error::Deb {
                    path: path.to_path_buf(),
                    reason: format!("its control file has no {k} field"),
                })
        };
        Ok(Deb {
            path: path.to_path_buf(),
            package: get("Package")?,
            version: get("Version")?,
            architecture: get("Architecture")?,
            data,
        })
    }

    /// Reads the data tarball in order, calling `visit` for every entry with a reader over its
    /// bytes (empty for anything but regular files). `visit` returns `false` to stop early.
    pub fn for_each_entry(
        &self,
        visit: &mut dyn FnMut(&DataEntry, &mut dyn Read) -> Result<bool>,
    ) -> Result<()> {
        let mut f = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        f.seek(SeekFrom::Start(self.data.offset))
            .map_err(|e| Error::io(&self.path, e))?;
        let raw = BufReader::with_capacity(1 << 20, f.take(self.data.size));
        let tarball = decompressor(&self.data.name, raw, &self.path)?;
        let mut archive = tar::Archive::new(tarball);
        let entries = archive.entries().map_err(|e| self.corrupt(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.corrupt(e))?;
            let header = entry.header();
            let raw_path = entry.path().map_err(|e| self.corrupt(e))?;
            let path = raw_path
                .to_string_lossy()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(|e| self.corrupt(e))?
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    EntryKind::Symlink(target)
                }
                _ => EntryKind::Other,
            };
            let info = DataEntry {
                path,
                mode: header.mode().map_err(|e| self.corrupt(e))? & 0o7777,
                size: if kind == EntryKind::File {
                    header.size().map_err(|e| self.corrupt(e))?
                } else {
                    0
                },
                kind,
            };
            if !visit(&info, &mut entry)? {
                break;
            }
        }
        Ok(())
    }

    fn corrupt(&self, e: std::io::Error) -> Error {
        Error::Deb {
            path: self.path.clone(),
            reason: format!("its {} is damaged: {e}", self.data.name),
        }
    }
}

/// Lists the `ar` members.
fn read_members(f: &mut File, path: &Path) -> Result<Vec<Member>> {
    let bad = |reason: String| Error::Deb {
        path: path.to_path_buf(),
        reason,
    };
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut magic = [0u8; 8];
    if f.read_exact(&mut magic).is_err() || &magic != AR_MAGIC {
        return Err(bad("not a Debian package (no ar archive signature)".into()));
    }
    let mut members = Vec::new();
    let mut pos = 8u64;
    while pos < len {
        let mut h = [0u8; AR_HEADER];
        f.read_exact(&mut h)
            .map_err(|_| bad(format!("truncated: member header at byte {pos}")))?;
        if &h[58..60] != b"`\n" {
            return Err(bad(format!("damaged member header at byte {pos}")));
        }
        let name = String::from_utf8_lossy(&h[..16])
            .trim_end()
            .trim_end_matches('/')
            .to_string();
        let size: u64 = std::str::from_utf8(&h[48..58])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| bad(format!("member {name:?} has no valid size")))?;
        let offset = pos + AR_HEADER as u64;
        if offset.checked_add(size).is_none_or(|end| end > len) {
            return Err(bad(format!(
                "truncated: member {name:?} needs {size} bytes at byte {offset}, the file has {len}"
            )));
        }
        members.push(Member { name, offset, size });
        pos = offset + size + (size & 1);
        f.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(members)
}

fn find<'a>(members: &'a [Member], prefix: &str, path: &Path) -> Result<&'a Member> {
    members
        .iter()
        .find(|m| m.name.starts_with(prefix))
        .ok_or_else(|| Error::Deb {
            path: path.to_path_buf(),
            reason: format!("it has no {prefix}.* member"),
        })
}

/// A reader that decompresses a tarball member by its name's extension.
fn decompressor<'a, R: Read + 'a>(name: &str, raw: R, path: &Path) -> Result<Box<dyn Read + 'a>> {
    Ok(match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("xz") => Box::new(liblzma::read::XzDecoder::new(raw)),
        Some("gz") => Box::new(flate2::read::GzDecoder::new(raw)),
        Some("tar") => Box::new(raw),
        _ => {
            return Err(Error::Deb {
                path: path.to_path_buf(),
                reason: format!(
                    "its {name} uses a compression tsmedia does not read (xz, gzip or none)"
                ),
            });
        }
    })
}

/// The `Field: value` pairs of `./control` in the control tarball.
fn read_control(f: &mut File, control: &Member, path: &Path) -> Result<Vec<(String, String)>> {
    f.seek(SeekFrom::Start(control.offset))
        .map_err(|e| Error::io(path, e))?;
    let raw = (&mut *f).take(control.size);
    let tarball = decompressor(&control.name, raw, path)?;
    let mut archive = tar::Archive::new(tarball);
    let damaged = |e: std::io::Error| Error::Deb {
        path: path.to_path_buf(),
        reason: format!("its {} is damaged: {e}", control.name),
    };
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        if name.trim_start_matches("./") == "control" {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(damaged)?;
            return Ok(parse_control(&text));
        }
    }
    Err(Error::Deb {
        path: path.to_path_buf(),
        reason: "its control tarball has no control file".into(),
    })
}

/// RFC 822-style fields; continuation lines (starting with a space) are dropped, as only
/// single-line fields are used here.
fn parse_control(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_control;

    #[test]
    fn control_fields_are_read_and_continuations_passed_over() {
        let f = parse_control(
            "Package: busybox-static\nVersion: 1:1.35.0-4\nDescription: x\n more\nArchitecture: amd64\n",
        );
        assert_eq!(f[0], ("Package".into(), "busybox-static".into()));
        assert_eq!(f[1], ("Version".into(), "1:1.35.0-4".into()));
        assert_eq!(f[3], ("Architecture".into(), "amd64".into()));
        assert_eq!(f.len(), 4);
    }
}
