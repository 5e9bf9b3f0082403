//! Where the runtime's media come from: a folder is used as it is; an ISO (or a whole ISO
//! set `NAME.iso`, `NAME2.iso`, ...), a USB image or a staged disk image (its FAT partition,
//! or a partitionless FAT volume), given as a file or a block device, is extracted into a
//! work folder (for example `<target>/_SMSTaskSequence/Media`) so that the runtime can run
//! from any of them. Extraction refuses names that could leave the work folder and never
//! overwrites; a work folder filled from the same media before (a run resumed after a
//! restart) is reused.
//!
//! An extraction is written into a staging folder beside the work folder
//! (`.<name>.extracting`) and renamed into place only when complete, so a truncated ISO or an
//! interrupted run leaves no half-filled work folder behind to block the next attempt; the
//! staging folder of a failed extraction is removed at once, or by the next run if the process
//! was killed (issue #15, L5).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tsmedia_image::disk::open_fat_volume;
use tsmedia_image::fat::{ExtractOptions, ReadError};
use tsmedia_image::iso::{IsoReader, ReadError as IsoReadError};

/// The file written into the work folder naming the media it was filled from.
pub const MARKER: &str = ".tsmedia-source";

/// Errors of [`materialise`]; each names the file or folder concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The media path does not exist or cannot be read.
    #[error("media {}", .path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The media are neither a folder, an ISO nor a disk image with a FAT volume.
    #[error("media {}: {reason}", .path.display())]
    Unrecognised { path: PathBuf, reason: String },
    /// Reading an ISO failed.
    #[error("ISO {}", .path.display())]
    Iso {
        path: PathBuf,
        #[source]
        source: IsoReadError,
    },
    /// Reading the FAT volume of a disk image failed.
    #[error("disk image {}", .path.display())]
    Fat {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// A disc of an ISO set is missing.
    #[error("{}: disc {disc} of {discs} ({}) is missing", .first.display(), .expected.display())]
    MissingDisc {
        first: PathBuf,
        disc: u32,
        discs: u32,
        expected: PathBuf,
    },
    /// A name on the media cannot be a host file name.
    #[error("{}: {name:?} is not safe to extract", .path.display())]
    UnsafeName { path: PathBuf, name: String },
    /// The work folder holds something else.
    #[error("work folder {} is not empty and was not filled from {}", .work.display(), .media.display())]
    WorkNotEmpty { work: PathBuf, media: PathBuf },
    /// Writing into the work folder failed.
    #[error("{}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Result of [`materialise`].
pub type SourceResult<T, E = SourceError> = std::result::Result<T, E>;

/// What the media were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A folder, used in place.
    Folder,
    /// An ISO or an ISO set (the number of discs extracted).
    IsoSet { discs: u32 },
    /// A USB image, staged disk, device or FAT volume.
    Disk,
}

/// Materialised media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Materialised {
    /// The folder to run from (the media folder itself, or the work folder).
    pub root: PathBuf,
    pub kind: SourceKind,
    /// Files and bytes extracted (0 for a folder, or when a filled work folder was reused).
    pub files: u64,
    pub bytes: u64,
    /// Whether an earlier extraction of the same media was reused.
    pub reused: bool,
}

/// Makes `media` available as a folder: a folder is returned as it is; a folder of ISOs, an
/// ISO (with the other discs of its set), or a disk image / device with a FAT volume is
/// extracted into `work` (created if missing; it must be empty unless it was filled from the
/// same media before, which is then reused as it is).
pub fn materialise(media: &Path, work: &Path) -> SourceResult<Materialised> {
    let meta = fs::metadata(media).map_err(|source| SourceError::Open {
        path: media.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let isos = iso_files(media)?;
        if media.join("SMS").is_dir() || isos.is_empty() {
            return Ok(Materialised {
                root: media.to_path_buf(),
                kind: SourceKind::Folder,
                files: 0,
                bytes: 0,
                reused: false,
            });
        }
        return extract_isos(media, &isos, work);
    }
    let is_iso = media
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("iso"));
    if is_iso {
        let set = iso_set(media)?;
        return extract_isos(media, &set, work);
    }
    extract_disk(media, work)
}

/// The `.iso` files of a folder, in disc order (`NAME.iso`, `NAME2.iso`, ..., then by name).
fn iso_files(dir: &Path) -> SourceResult<Vec<PathBuf>> {
    let open = |source| SourceError::Open {
        path: dir.to_path_buf(),
        source,
    };
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(open)? {
        let p = e.map_err(open)?.path();
        if p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("iso")) {
            v.push(p);
        }
    }
    v.sort_by_key(|p| {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let n: u32 = stem[stem.len() - digits..].parse().unwrap_or(1);
        (n, stem)
    });
    Ok(v)
}

/// `NAME.iso` and the `NAME2.iso`, `NAME3.iso`, ... beside it.
fn iso_set(first: &Path) -> SourceResult<Vec<PathBuf>> {
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut set = vec![first.to_path_buf()];
    for n in 2.. {
        let next = first.with_file_name(format!("{stem}{n}.iso"));
        if !next.is_file() {
            break;
        }
        set.push(next);
    }
    Ok(set)
}

/// Identity of the media, written to [`MARKER`].
fn identity(media: &Path) -> String {
    let abs = fs::canonicalize(media).unwrap_or_else(|_| media.to_path_buf());
    let meta = fs::metadata(media).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}\n{}\n{mtime}\n",
        abs.display(),
        meta.map(|m| m.len()).unwrap_or(0)
    )
}

/// Prepares `work`: `Ok(None)` when it already holds these media, else the fresh, empty
/// staging folder to extract into ([`staging_path`]; a leftover of an earlier attempt is
/// removed first).
fn prepare(media: &Path, work: &Path) -> SourceResult<Option<PathBuf>> {
    let id = identity(media);
    if fs::read_to_string(work.join(MARKER)).is_ok_and(|m| m == id) {
        return Ok(None);
    }
    let write = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Write { path, source }
    };
    match fs::read_dir(work) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(SourceError::WorkNotEmpty {
                    work: work.to_path_buf(),
                    media: media.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(write(work)(e)),
    }
    let staging = staging_path(work);
    match fs::symlink_metadata(&staging) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(&staging).map_err(write(&staging))?,
        Ok(_) => fs::remove_file(&staging).map_err(write(&staging))?,
        Err(_) => {}
    }
    fs::create_dir_all(&staging).map_err(write(&staging))?;
    Ok(Some(staging))
}

/// `<parent>/.<name>.extracting`: where `work` is filled before it is renamed into place.
pub fn staging_path(work: &Path) -> PathBuf {
    let name = work
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "media".into());
    work.with_file_name(format!(".{name}.extracting"))
}

/// Ends an extraction into `staging`: when it succeeded, records that it holds `media` and
/// renames it to `work` (an empty `work` is replaced); when it failed, removes it, so nothing
/// half-extracted stays behind.
fn finish<T>(
    media: &Path,
    staging: &Path,
    work: &Path,
    extracted: SourceResult<T>,
) -> SourceResult<T> {
    let done = extracted.and_then(|v| {
        let marker = staging.join(MARKER);
        fs::write(&marker, identity(media)).map_err(|source| SourceError::Write {
            path: marker,
            source,
        })?;
        let write = |source| SourceError::Write {
            path: work.to_path_buf(),
            source,
        };
        if fs::symlink_metadata(work).is_ok() {
            // Checked empty by `prepare`; `remove_dir` refuses anything else.
            fs::remove_dir(work).map_err(write)?;
        }
        fs::rename(staging, work).map_err(write)?;
        Ok(v)
    });
    if done.is_err() {
        let _ = fs::remove_dir_all(staging);
    }
    done
}

fn reused(work: &Path, kind: SourceKind) -> Materialised {
    Materialised {
        root: work.to_path_buf(),
        kind,
        files: 0,
        bytes: 0,
        reused: true,
    }
}

fn extract_disk(media: &Path, work: &Path) -> SourceResult<Materialised> {
    let file = File::open(media).map_err(|source| SourceError::Open {
        path: media.to_path_buf(),
        source,
    })?;
    let (mut volume, _) = open_fat_volume(file).map_err(|e| SourceError::Unrecognised {
        path: media.to_path_buf(),
        reason: format!(
            "not a folder, an ISO or a disk image with a FAT volume: {}",
            tsmedia_base::error_chain(&e)
        ),
    })?;
    let Some(staging) = prepare(media, work)? else {
        return Ok(reused(work, SourceKind::Disk));
    };
    let extracted = volume
        .extract("", &staging, &ExtractOptions::default())
        .map_err(|source| SourceError::Fat {
            path: media.to_path_buf(),
            source,
        });
    let report = finish(media, &staging, work, extracted)?;
    Ok(Materialised {
        root: work.to_path_buf(),
        kind: SourceKind::Disk,
        files: report.files,
        bytes: report.bytes,
        reused: false,
    })
}

/// `disc=`/`discs=` of a disc's `MediaLabel.txt` (1 of 1 when absent).
fn disc_numbers(r: &mut IsoReader) -> Result<(u32, u32), IsoReadError> {
    let Some(e) = r.find(tsmedia_mediafmt::LABEL_PATH)?.filter(|e| !e.is_dir) else {
        return Ok((1, 1));
    };
    let text = String::from_utf8_lossy(&r.read(&e)?).into_owned();
    let kv = tsmedia_mediafmt::variables::key_values(&text);
    let num = |k: &str| {
        kv.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1)
    };
    Ok((num("disc"), num("discs")))
}

fn extract_isos(media: &Path, isos: &[PathBuf], work: &Path) -> SourceResult<Materialised> {
    let iso_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Iso { path, source }
    };
    let mut readers = Vec::new();
    for iso in isos {
        let mut r = IsoReader::open(iso).map_err(iso_err(iso))?;
        let numbers = disc_numbers(&mut r).map_err(iso_err(iso))?;
        readers.push((iso.clone(), r, numbers));
    }
    let discs = readers.first().map(|(_, _, (_, n))| *n).unwrap_or(1);
    if (readers.len() as u32) < discs {
        let n = readers.len() as u32 + 1;
        return Err(SourceError::MissingDisc {
            first: isos[0].clone(),
            disc: n,
            discs,
            expected: isos[0].with_file_name(format!(
                "{}{n}.iso",
                isos[0]
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )),
        });
    }
    let kind = SourceKind::IsoSet {
        discs: readers.len() as u32,
    };
    let Some(staging) = prepare(media, work)? else {
        return Ok(reused(work, kind));
    };
    let extracted = extract_iso_files(&mut readers, &staging);
    let (files, bytes) = finish(media, &staging, work, extracted)?;
    Ok(Materialised {
        root: work.to_path_buf(),
        kind,
        files,
        bytes,
        reused: false,
    })
}

/// Extracts every disc of the set into `work`; returns the files and bytes written.
fn extract_iso_files(
    readers: &mut [(PathBuf, IsoReader, (u32, u32))],
    work: &Path,
) -> SourceResult<(u64, u64)> {
    let iso_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Iso { path, source }
    };
    let (mut files, mut bytes) = (0u64, 0u64);
    for (iso, r, _) in readers.iter_mut() {
        let entries = r.walk_entries().map_err(iso_err(iso))?;
        // Check every name before writing anything from this disc.
        for (path, e) in &entries {
            if e.name.is_empty()
                || e.name == "."
                || e.name == ".."
                || e.name.contains(['/', '\\', '\0'])
            {
                return Err(SourceError::UnsafeName {
                    path: iso.clone(),
                    name: path.clone(),
                });
            }
        }
        for (path, e) in entries {
            let target = path.split('/').fold(work.to_path_buf(), |p, n| p.join(n));
            let write = |source| SourceError::Write {
                path: target.clone(),
                source,
            };
            if e.is_dir {
                match fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => return Err(write(std::io::ErrorKind::AlreadyExists.into())),
                    Err(_) => fs::create_dir(&target).map_err(write)?,
                }
                continue;
            }
            // A file already taken from an earlier disc (MediaLabel.txt is on every disc):
            // the first disc's copy is kept.
            if fs::symlink_metadata(&target).is_ok() {
                continue;
            }
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(write)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            bytes += r.copy_to(&e, &mut out).map_err(iso_err(iso))?;
            out.flush().map_err(write)?;
            files += 1;
        }
    }
    Ok((files, bytes))
}
