//! Content from distribution points (`docs/media.md`, "At boot" step 8): the management point says
//! which DPs hold content `<PackageID>.<version>`; the first DP that serves it is used. Files
//! go to the task sequence cache (`<target>/_SMSTaskSequence/Packages/<ID>`), each one
//! resumed from its `.partial` file after an interruption and checked against the size and
//! SHA-256 of the management point's signed content-location answer (never the DP's own,
//! unsigned manifest) before it is put in place (a file that does not match is fetched
//! once more from the start); files already there that match are kept, files the content no
//! longer has are removed.
//!
//! Which version: the one asked for, else the one the task sequence policy names for the
//! package (the site's current version when the policy was made).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tsmedia_protocol::api::ManifestFile;
use tsmedia_protocol::client::{ClientError, DownloadReport, SiteClient, partial_path};

use crate::content::{Content, ContentProvider};
use crate::error::{Error, IoContext, Result};
use crate::mp::ManagementPoints;

/// Downloads package content from the distribution points the management point names.
pub struct DistributionPointContent {
    client: SiteClient,
    mps: ManagementPoints,
    cache: PathBuf,
    versions: BTreeMap<String, (String, u32)>,
}

/// `PS100004.3` → (`PS100004`, 3).
pub fn split_content_id(content_id: &str) -> Option<(&str, u32)> {
    let (id, version) = content_id.rsplit_once('.')?;
    Some((id, version.parse().ok()?)).filter(|(id, _)| !id.is_empty())
}

impl DistributionPointContent {
    /// Downloads with `client`, asking `mps` for content locations, into `cache` (the folder
    /// holding `<ID>` folders). `content_ids` are the versions the policy names
    /// (`<PackageID>.<version>`); content IDs that do not parse are ignored.
    pub fn new(
        client: SiteClient,
        mps: ManagementPoints,
        cache: PathBuf,
        content_ids: &[String],
    ) -> DistributionPointContent {
        let versions = content_ids
            .iter()
            .filter_map(|c| split_content_id(c))
            .map(|(id, v)| (id.to_ascii_uppercase(), (id.to_string(), v)))
            .collect();
        DistributionPointContent {
            client,
            mps,
            cache,
            versions,
        }
    }

    /// The version the policy names for `package_id`.
    pub fn policy_version(&self, package_id: &str) -> Option<u32> {
        self.versions
            .get(&package_id.to_ascii_uppercase())
            .map(|(_, v)| *v)
    }
}

impl ContentProvider for DistributionPointContent {
    fn content(&mut self, package_id: &str, version: Option<u32>) -> Result<Content> {
        let (id, version) = match (self.versions.get(&package_id.to_ascii_uppercase()), version) {
            (Some((id, _)), Some(v)) => (id.clone(), v),
            (Some((id, v)), None) => (id.clone(), *v),
            (None, Some(v)) => (package_id.to_string(), v),
            (None, None) => return Err(Error::ContentUnavailable(package_id.to_string())),
        };
        let content_id = format!("{id}.{version}");
        let (_, locations) = self
            .mps
            .call(&format!("content location of {content_id}"), |mp| {
                self.client.content_locations(mp, &content_id)
            })?;
        let dest = self.cache.join(&id);
        let mut tried = Vec::new();
        let mut refused = true;
        for loc in &locations.locations {
            match download(&self.client, &loc.url, &content_id, &locations.files, &dest) {
                Ok(r) => {
                    return Ok(Content {
                        package_id: id,
                        version,
                        path: dest,
                        origin: format!(
                            "distribution point {} ({}): {} files, {} bytes downloaded, {} bytes already in the cache",
                            loc.dp, loc.url, r.files, r.bytes_downloaded, r.bytes_reused
                        ),
                    });
                }
                Err(DownloadError::Site(ClientError::Cancelled(c))) => {
                    return Err(Error::Cancelled(c));
                }
                Err(e) => {
                    refused &= matches!(
                        e,
                        DownloadError::Site(ClientError::Refused {
                            status: 401 | 403,
                            ..
                        })
                    );
                    tried.push(format!(
                        "{} ({}): {}",
                        loc.dp,
                        loc.url,
                        tsmedia_base::error_chain(&e)
                    ));
                }
            }
        }
        Err(Error::Download {
            content_id,
            refused: refused && !tried.is_empty(),
            tried,
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum DownloadError {
    #[error(transparent)]
    Site(#[from] ClientError),
    #[error(transparent)]
    Local(#[from] Error),
}

/// Downloads the `files` of `content_id` (from the signed answer) from one DP into `dest`,
/// then removes files the content does not have.
fn download(
    client: &SiteClient,
    dp: &str,
    content_id: &str,
    files: &[ManifestFile],
    dest: &Path,
) -> std::result::Result<DownloadReport, DownloadError> {
    let mut total = DownloadReport::default();
    for file in files {
        let path = dest.join(&file.path);
        let r = match client.download_file(dp, content_id, file, &path) {
            // A damaged partial file from an earlier attempt was deleted: start over once.
            Err(ClientError::Mismatch { .. }) => {
                client.download_file(dp, content_id, file, &path)?
            }
            other => other?,
        };
        total.files += r.files;
        total.bytes_downloaded += r.bytes_downloaded;
        total.bytes_reused += r.bytes_reused;
    }
    let keep: Vec<PathBuf> = files.iter().map(|f| dest.join(&f.path)).collect();
    remove_others(dest, &keep)?;
    Ok(total)
}

/// Removes files under `dir` that are not in `keep` (nor `.partial` files of them).
fn remove_others(dir: &Path, keep: &[PathBuf]) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for e in fs::read_dir(dir).at(dir)? {
        let path = e.at(dir)?.path();
        let meta = fs::symlink_metadata(&path).at(&path)?;
        if meta.is_dir() {
            remove_others(&path, keep)?;
        } else if !keep.iter().any(|k| *k == path || partial_path(k) == path) {
            fs::remove_file(&path).at(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids() {
        assert_eq!(split_content_id("PS100004.3"), Some(("PS100004", 3)));
        assert_eq!(split_content_id("PS1.0004.12"), Some(("PS1.0004", 12)));
        for bad in ["PS100004", ".3", "PS100004.x", "PS100004."] {
            assert_eq!(split_content_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn stale_files_go_and_wanted_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir_all(d.join("sub")).unwrap();
        for f in [
            "keep.txt",
            "old.txt",
            "sub/keep.bin",
            "sub/keep.bin.partial",
            "sub/old.bin",
        ] {
            fs::write(d.join(f), b"x").unwrap();
        }
        remove_others(d, &[d.join("keep.txt"), d.join("sub/keep.bin")]).unwrap();
        assert!(d.join("keep.txt").exists() && d.join("sub/keep.bin").exists());
        assert!(d.join("sub/keep.bin.partial").exists());
        assert!(!d.join("old.txt").exists() && !d.join("sub/old.bin").exists());
    }
}
