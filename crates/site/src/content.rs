//! Content versions (`PkgLib`), their manifests (`DataLib`), verification and pruning.
//!
//! A content ID is `<package ID>.<source version>`. Each version's manifest lists every file's
//! path, size, modification time and SHA-256; the data itself is in the file store
//! ([`crate::ContentLibrary`]), shared by every version and package that holds the same bytes.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use tsmedia_base::digest::Sha256Stream;

use crate::error::{Error, Result};
use crate::library::{ContentLibrary, FileState};
use crate::site::{Site, normalize_id};
use crate::source::SourceFile;
use crate::time::Timestamp;
use crate::wim_info::WimImage;

/// One file of a content version, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentEntry {
    pub path: String,
    pub size: u64,
    pub mtime: i64,
    pub hash: String,
}

/// A version of a package's content.
#[derive(Debug, Clone, Serialize)]
pub struct ContentVersion {
    /// `<package ID>.<version>`.
    pub content_id: String,
    /// The package.
    pub package_id: String,
    /// The source version.
    pub version: u32,
    /// SHA-256 over the manifest (paths, sizes, file hashes; not times).
    pub content_hash: String,
    /// Bytes of its files.
    pub size: u64,
    /// Number of files.
    pub file_count: u64,
    /// Whether it is the package's current version.
    pub current: bool,
    /// When it was imported.
    pub created_at: Timestamp,
}

/// One manifest entry with the place of its data in the library.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    /// Path inside the content, `/`-separated.
    pub path: String,
    /// Length in bytes.
    pub size: u64,
    /// Modification time of the source file.
    pub mtime: Timestamp,
    /// SHA-256, lowercase hex.
    pub hash: String,
    /// Where the data is stored.
    pub library_path: PathBuf,
}

/// Stores every source file in the library, streaming; returns the manifest entries.
pub(crate) fn store_files(
    library: &ContentLibrary,
    files: &[SourceFile],
) -> Result<Vec<ContentEntry>> {
    files
        .iter()
        .map(|f| {
            let stored = library.store(&f.abs_path)?;
            Ok(ContentEntry {
                path: f.rel_path.clone(),
                size: stored.size,
                mtime: f.mtime,
                hash: stored.hash,
            })
        })
        .collect()
}

/// SHA-256 over `path \t size \t hash \n` of each entry, in path order.
pub(crate) fn manifest_hash(entries: &[ContentEntry]) -> String {
    let mut sorted: Vec<&ContentEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hasher = Sha256Stream::new();
    for e in sorted {
        hasher.update(format!("{}\t{}\t{}\n", e.path, e.size, e.hash).as_bytes());
    }
    hasher.finish().0
}

/// Records content version `version` of `package_id` with its manifest and WIM images.
pub(crate) fn insert_version(
    tx: &Transaction<'_>,
    package_id: &str,
    version: u32,
    entries: &[ContentEntry],
    images: Option<&[WimImage]>,
    at: i64,
) -> Result<String> {
    let content_id = format!("{package_id}.{version}");
    let context = || format!("recording content {content_id}");
    let size: u64 = entries.iter().map(|e| e.size).sum();
    tx.execute(
        "INSERT INTO content_versions (content_id, package_id, version, content_hash, size, file_count, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            content_id,
            package_id,
            version,
            manifest_hash(entries),
            i64::try_from(size).unwrap_or(i64::MAX),
            entries.len() as i64,
            at
        ],
    )
    .map_err(Error::db(context()))?;
    let mut file = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO library_files (hash, size, added_at) VALUES (?1, ?2, ?3)",
        )
        .map_err(Error::db(context()))?;
    let mut entry = tx
        .prepare_cached(
            "INSERT INTO manifest_entries (content_id, path, size, mtime, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(Error::db(context()))?;
    for e in entries {
        let size = i64::try_from(e.size).unwrap_or(i64::MAX);
        file.execute(params![e.hash, size, at])
            .map_err(Error::db(context()))?;
        entry
            .execute(params![content_id, e.path, size, e.mtime, e.hash])
            .map_err(Error::db(format!("{}: file {}", context(), e.path)))?;
    }
    for image in images.unwrap_or_default() {
        tx.execute(
            "INSERT INTO wim_images (content_id, image_index, name, description, arch, size,
                                     flavour, kernel)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                content_id,
                image.index,
                image.name,
                image.description,
                image.arch.map(|a| a.as_str()),
                i64::try_from(image.size).unwrap_or(i64::MAX),
                image.flavour,
                image.kernel
            ],
        )
        .map_err(Error::db(context()))?;
    }
    Ok(content_id)
}

/// The WIM images recorded for a content version.
pub(crate) fn images(conn: &Connection, content_id: &str) -> Result<Vec<WimImage>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT image_index, name, description, arch, size, flavour, kernel FROM wim_images
             WHERE content_id = ?1 ORDER BY image_index",
        )
        .map_err(Error::db("reading images"))?;
    type Row = (
        u32,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = stmt
        .query_map([content_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .and_then(Iterator::collect)
        .map_err(Error::db(format!("reading images of {content_id}")))?;
    rows.into_iter()
        .map(|(index, name, description, arch, size, flavour, kernel)| {
            Ok(WimImage {
                index,
                name,
                description,
                arch: arch.map(|a| a.parse()).transpose()?,
                size: u64::try_from(size).unwrap_or(0),
                flavour,
                kernel,
            })
        })
        .collect()
}

/// A problem that [`Site::verify_content`] found.
#[derive(Debug, Clone, Serialize)]
pub struct ContentProblem {
    /// The package.
    pub package_id: String,
    /// Its name.
    pub package_name: String,
    /// The content version.
    pub content_id: String,
    /// Its source version.
    pub version: u32,
    /// The file's path inside the content.
    pub path: String,
    /// The SHA-256 it was stored with.
    pub hash: String,
    /// Where its data should be.
    pub library_path: PathBuf,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a library file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// The library file is gone.
    Missing,
    /// The library file's data changed.
    Changed {
        /// Its length now.
        size: u64,
        /// Its SHA-256 now.
        hash: String,
    },
}

impl fmt::Display for ContentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "package {} ({}) version {} (content {}), file {}: library file {} ",
            self.package_id,
            self.package_name,
            self.version,
            self.content_id,
            self.path,
            self.library_path.display()
        )?;
        match &self.problem {
            Problem::Missing => f.write_str("is missing"),
            Problem::Changed { size, hash } => write!(
                f,
                "has changed (now {size} bytes, SHA-256 {hash}; expected SHA-256 {})",
                self.hash
            ),
        }
    }
}

/// The result of verifying content.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Content versions checked.
    pub content_ids: Vec<String>,
    /// Manifest entries checked.
    pub files_checked: u64,
    /// Everything found wrong; empty when all is intact.
    pub problems: Vec<ContentProblem>,
}

impl VerifyReport {
    /// Whether every file was intact.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The result of pruning.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// Content versions removed.
    pub removed: Vec<String>,
    /// Old content versions kept because a distribution point still holds them.
    pub kept_on_dp: Vec<String>,
    /// Library files deleted.
    pub files_removed: u64,
    /// Bytes those files held.
    pub bytes_freed: u64,
}

impl Site {
    /// Every content version of a package, oldest first.
    pub fn content_versions(&self, package_id: &str) -> Result<Vec<ContentVersion>> {
        let id = normalize_id(package_id);
        crate::package::package_type(&self.conn, &id)?;
        let ids: Vec<String> = self
            .conn
            .prepare(
                "SELECT content_id FROM content_versions WHERE package_id = ?1 ORDER BY version",
            )
            .and_then(|mut s| s.query_map([&id], |r| r.get(0))?.collect())
            .map_err(Error::db(format!("listing content of {id}")))?;
        ids.iter().map(|c| self.content_version(c)).collect()
    }

    /// One content version, by content ID.
    pub fn content_version(&self, content_id: &str) -> Result<ContentVersion> {
        let id = normalize_id(content_id);
        self.conn
            .query_row(
                "SELECT c.content_id, c.package_id, c.version, c.content_hash, c.size, c.file_count,
                        c.version = p.source_version, c.created_at
                 FROM content_versions c JOIN packages p ON p.id = c.package_id
                 WHERE c.content_id = ?1",
                [&id],
                |r| {
                    Ok(ContentVersion {
                        content_id: r.get(0)?,
                        package_id: r.get(1)?,
                        version: r.get(2)?,
                        content_hash: r.get(3)?,
                        size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                        file_count: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
                        current: r.get(6)?,
                        created_at: Timestamp(r.get(7)?),
                    })
                },
            )
            .optional()
            .map_err(Error::db(format!("reading content {id}")))?
            .ok_or_else(|| Error::not_found("content", id))
    }

    /// The manifest of a content version, with where each file's data is in the library.
    pub fn content_files(&self, content_id: &str) -> Result<Vec<ManifestEntry>> {
        let version = self.content_version(content_id)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT path, size, mtime, hash FROM manifest_entries WHERE content_id = ?1 ORDER BY path",
            )
            .map_err(Error::db("reading a manifest"))?;
        let rows: Vec<(String, i64, i64, String)> = stmt
            .query_map([&version.content_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .and_then(Iterator::collect)
            .map_err(Error::db(format!(
                "reading the manifest of {}",
                version.content_id
            )))?;
        Ok(rows
            .into_iter()
            .map(|(path, size, mtime, hash)| ManifestEntry {
                library_path: self.library().file_path(&hash),
                path,
                size: u64::try_from(size).unwrap_or(0),
                mtime: Timestamp(mtime),
                hash,
            })
            .collect())
    }

    /// Content IDs that `id` stands for: a content ID itself; a package ID: its current version
    /// (or every version kept, with `all_versions`); a task sequence ID: the current versions of
    /// the packages it references and of its boot image.
    pub fn resolve_content_ids(&self, id: &str, all_versions: bool) -> Result<Vec<String>> {
        let id = normalize_id(id);
        if id.contains('.') {
            return Ok(vec![self.content_version(&id)?.content_id]);
        }
        let is_package: bool = self
            .conn
            .query_row("SELECT COUNT(*) FROM packages WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .map_err(Error::db(format!("looking up {id}")))?;
        if is_package {
            if all_versions {
                return Ok(self
                    .content_versions(&id)?
                    .into_iter()
                    .map(|v| v.content_id)
                    .collect());
            }
            return Ok(vec![self.package(&id)?.content_id]);
        }
        if self.has_task_sequence(&id)? {
            let mut out = Vec::new();
            for package in self.task_sequence_packages(&id)? {
                out.push(self.package(&package)?.content_id);
            }
            return Ok(out);
        }
        Err(Error::not_found("package, content or task sequence", id))
    }

    /// Re-hashes the library files of the given packages, content versions or task sequences
    /// (every content version when `ids` is empty) and reports each missing or changed file
    /// with its package, version and path.
    pub fn verify_content(&self, ids: &[String]) -> Result<VerifyReport> {
        let mut content_ids = Vec::new();
        if ids.is_empty() {
            content_ids = self
                .conn
                .prepare("SELECT content_id FROM content_versions ORDER BY package_id, version")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(Error::db("listing content"))?;
        } else {
            for id in ids {
                for c in self.resolve_content_ids(id, true)? {
                    if !content_ids.contains(&c) {
                        content_ids.push(c);
                    }
                }
            }
        }
        let mut checked: HashMap<String, FileState> = HashMap::new();
        let mut problems = Vec::new();
        let mut files_checked = 0;
        for content_id in &content_ids {
            let version = self.content_version(content_id)?;
            let package_name: String = self
                .conn
                .query_row(
                    "SELECT name FROM packages WHERE id = ?1",
                    [&version.package_id],
                    |r| r.get(0),
                )
                .map_err(Error::db(format!("reading package {}", version.package_id)))?;
            for entry in self.content_files(content_id)? {
                files_checked += 1;
                let state = match checked.get(&entry.hash) {
                    Some(s) => s.clone(),
                    None => {
                        let s = self.library().check(&entry.hash, entry.size)?;
                        checked.insert(entry.hash.clone(), s.clone());
                        s
                    }
                };
                let problem = match state {
                    FileState::Intact => continue,
                    FileState::Missing => Problem::Missing,
                    FileState::Changed { size, hash } => Problem::Changed { size, hash },
                };
                problems.push(ContentProblem {
                    package_id: version.package_id.clone(),
                    package_name: package_name.clone(),
                    content_id: content_id.clone(),
                    version: version.version,
                    path: entry.path,
                    hash: entry.hash,
                    library_path: entry.library_path,
                    problem,
                });
            }
        }
        Ok(VerifyReport {
            content_ids,
            files_checked,
            problems,
        })
    }

    /// Removes the old content versions of the given packages (of every package when empty),
    /// except versions a distribution point still holds, then deletes library files that no
    /// manifest references any more.
    pub fn prune(&mut self, package_ids: &[String]) -> Result<PruneReport> {
        let mut ids: Vec<String> = package_ids.iter().map(|i| normalize_id(i)).collect();
        for id in &ids {
            crate::package::package_type(&self.conn, id)?;
        }
        if ids.is_empty() {
            ids = self
                .conn
                .prepare("SELECT id FROM packages ORDER BY id")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(Error::db("listing packages"))?;
        }
        let lock = self.lock_library()?;
        let tx = self.transaction("pruning content")?;
        let mut removed = Vec::new();
        let mut kept_on_dp = Vec::new();
        for id in &ids {
            let old: Vec<(String, bool)> = tx
                .prepare(
                    "SELECT c.content_id,
                            EXISTS (SELECT 1 FROM dp_content d WHERE d.content_id = c.content_id)
                     FROM content_versions c JOIN packages p ON p.id = c.package_id
                     WHERE c.package_id = ?1 AND c.version < p.source_version ORDER BY c.version",
                )
                .and_then(|mut s| s.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(Error::db(format!("listing old content of {id}")))?;
            for (content_id, on_dp) in old {
                if on_dp {
                    kept_on_dp.push(content_id);
                    continue;
                }
                tx.execute(
                    "DELETE FROM content_versions WHERE content_id = ?1",
                    [&content_id],
                )
                .map_err(Error::db(format!("removing content {content_id}")))?;
                removed.push(content_id);
            }
        }
        tx.execute(
            "DELETE FROM library_files WHERE hash NOT IN (SELECT hash FROM manifest_entries)",
            [],
        )
        .map_err(Error::db("forgetting unreferenced library files"))?;
        let keep: HashSet<String> = tx
            .prepare("SELECT hash FROM library_files")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing library files"))?;
        tx.commit().map_err(Error::db("pruning content"))?;
        // The database no longer refers to the files; delete them (a failure here leaves only
        // unreferenced files, which the next prune removes).
        let (files_removed, bytes_freed) = self.library().collect_garbage(&keep)?;
        drop(lock);
        Ok(PruneReport {
            removed,
            kept_on_dp,
            files_removed,
            bytes_freed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, size: u64, hash: &str) -> ContentEntry {
        ContentEntry {
            path: path.into(),
            size,
            mtime: 0,
            hash: hash.into(),
        }
    }

    #[test]
    fn manifest_hash_ignores_order_and_times_but_not_content() {
        let a = vec![entry("a", 1, "11"), entry("b", 2, "22")];
        let mut b = vec![entry("b", 2, "22"), entry("a", 1, "11")];
        b[0].mtime = 99;
        assert_eq!(manifest_hash(&a), manifest_hash(&b));
        let c = vec![entry("a", 1, "11"), entry("b", 2, "23")];
        assert_ne!(manifest_hash(&a), manifest_hash(&c));
        let d = vec![entry("a", 1, "11"), entry("c", 2, "22")];
        assert_ne!(manifest_hash(&a), manifest_hash(&d));
    }
}
