//! Where package content comes from: the [`ContentProvider`] trait and [`StagedContent`],
//! content staged on the media (`SMS/PKG/<ID>`) or left in the task sequence cache
//! (`_SMSTaskSequence/Packages/<ID>`).
//!
//! The runtime checks staged content "whether the hash and content have changed" before it
//! uses it (`docs/media.md`, "The content manifest"): here every file listed in the media's
//! content manifest ([`ContentManifest`], `tsmedia-mediafmt`'s, the same code the builder
//! writes it with) must exist with its size and SHA-256, and the version must be the one
//! asked for.

use std::path::{Path, PathBuf};

pub use tsmedia_mediafmt::manifest::{
    ContentManifest, MANIFEST_PATH, ManifestFile, ManifestPackage, SplitWimPart,
};

use crate::error::{Error, IoContext, Result};

/// Content of one package as a local folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The package ID.
    pub package_id: String,
    /// The content version.
    pub version: u32,
    /// The folder holding the package's files.
    pub path: PathBuf,
    /// Where it came from, for the log ("staged media", "cache", a URL).
    pub origin: String,
}

/// Gives the content of packages.
pub trait ContentProvider {
    /// Makes package `package_id` available as a local folder. With `version`, only that
    /// content version is acceptable. [`Error::ContentUnavailable`] when this provider does
    /// not have it.
    fn content(&mut self, package_id: &str, version: Option<u32>) -> Result<Content>;
}

/// Lowercase hex SHA-256 of a file, and its size.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    tsmedia_base::digest::sha256_file(path).at(path)
}

/// Checks that `folder` holds every file of `package` with its size and SHA-256.
pub fn verify_package(folder: &Path, package: &ManifestPackage) -> Result<()> {
    let mismatch = |reason: String| Error::ContentMismatch {
        package: package.package_id.clone(),
        reason,
    };
    for f in &package.files {
        let rel = package.relative_path(f).map_err(mismatch)?;
        let path = folder.join(&rel);
        if !path.is_file() {
            return Err(mismatch(format!("{} is missing", rel.display())));
        }
        let (hash, size) = sha256_file(&path)?;
        if size != f.size {
            return Err(mismatch(format!(
                "{} is {size} bytes, the manifest says {}",
                rel.display(),
                f.size
            )));
        }
        if !hash.eq_ignore_ascii_case(&f.sha256) {
            return Err(mismatch(format!(
                "{} has SHA-256 {hash}, the manifest says {}",
                rel.display(),
                f.sha256
            )));
        }
    }
    Ok(())
}

/// Content staged on media (`<root>/SMS/PKG/<ID>`) or in the task sequence cache
/// (`<cache>/<ID>`), checked against the manifest before use.
#[derive(Debug, Clone)]
pub struct StagedContent {
    manifest: ContentManifest,
    media_root: Option<PathBuf>,
    cache: Option<PathBuf>,
}

impl StagedContent {
    /// Content staged on the media at `media_root`, described by its manifest.
    pub fn from_media(media_root: &Path) -> Result<StagedContent> {
        Ok(StagedContent {
            manifest: ContentManifest::read(media_root)?,
            media_root: Some(media_root.to_path_buf()),
            cache: None,
        })
    }

    /// Content described by `manifest`, found in the staged folder (`media_root`) and/or the
    /// cache folder (holding `<ID>` folders, such as `<disk>/_SMSTaskSequence/Packages`).
    pub fn new(
        manifest: ContentManifest,
        media_root: Option<PathBuf>,
        cache: Option<PathBuf>,
    ) -> StagedContent {
        StagedContent {
            manifest,
            media_root,
            cache,
        }
    }

    /// The manifest.
    pub fn manifest(&self) -> &ContentManifest {
        &self.manifest
    }

    /// Checks every staged package against the manifest (what prestaged media do at start):
    /// the first missing, resized or changed file is an [`Error::ContentMismatch`].
    pub fn verify_all(&self) -> Result<()> {
        for p in &self.manifest.packages {
            let folder = self
                .folders(&p.package_id)
                .into_iter()
                .next()
                .ok_or_else(|| Error::ContentUnavailable(p.package_id.clone()))?;
            verify_package(&folder.0, p)?;
        }
        Ok(())
    }

    fn folders(&self, package_id: &str) -> Vec<(PathBuf, &'static str)> {
        let mut out = Vec::new();
        if let Some(root) = &self.media_root {
            let f = root.join("SMS").join("PKG").join(package_id);
            if f.is_dir() {
                out.push((f, "staged media"));
            }
        }
        if let Some(cache) = &self.cache {
            let f = cache.join(package_id);
            if f.is_dir() {
                out.push((f, "task sequence cache"));
            }
        }
        out
    }
}

impl ContentProvider for StagedContent {
    fn content(&mut self, package_id: &str, version: Option<u32>) -> Result<Content> {
        let package = self
            .manifest
            .package(package_id)
            .ok_or_else(|| Error::ContentUnavailable(package_id.to_string()))?;
        if version.is_some_and(|v| v != package.version) {
            return Err(Error::ContentUnavailable(package_id.to_string()));
        }
        let mut last = None;
        for (folder, origin) in self.folders(&package.package_id) {
            match verify_package(&folder, package) {
                Ok(()) => {
                    return Ok(Content {
                        package_id: package.package_id.clone(),
                        version: package.version,
                        path: folder,
                        origin: origin.to_string(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::ContentUnavailable(package_id.to_string())))
    }
}

/// Asks providers in order; the first that has the content wins. A provider's mismatch
/// (changed staged content) passes over to the next, and is reported when none has it.
pub struct FirstAvailable {
    providers: Vec<Box<dyn ContentProvider>>,
}

impl FirstAvailable {
    /// Providers in the order to ask them.
    pub fn new(providers: Vec<Box<dyn ContentProvider>>) -> FirstAvailable {
        FirstAvailable { providers }
    }
}

impl ContentProvider for FirstAvailable {
    fn content(&mut self, package_id: &str, version: Option<u32>) -> Result<Content> {
        let mut failure = None;
        for p in &mut self.providers {
            match p.content(package_id, version) {
                Ok(c) => return Ok(c),
                Err(Error::ContentUnavailable(_)) => {}
                Err(e) => failure = Some(e),
            }
        }
        Err(failure.unwrap_or_else(|| Error::ContentUnavailable(package_id.to_string())))
    }
}

/// Asks `inner` for the version the task sequence policy names when a step asks for "the
/// package" without a version, so that staged content of an older version is passed over
/// for the site's current one (a package updated after the media were made).
pub struct PinnedVersions<P> {
    versions: std::collections::BTreeMap<String, u32>,
    inner: P,
}

impl<P: ContentProvider> PinnedVersions<P> {
    /// `versions`: package ID → content version; IDs compare without case.
    pub fn new(versions: impl IntoIterator<Item = (String, u32)>, inner: P) -> PinnedVersions<P> {
        PinnedVersions {
            versions: versions
                .into_iter()
                .map(|(id, v)| (id.to_ascii_uppercase(), v))
                .collect(),
            inner,
        }
    }
}

impl<P: ContentProvider> ContentProvider for PinnedVersions<P> {
    fn content(&mut self, package_id: &str, version: Option<u32>) -> Result<Content> {
        let version =
            version.or_else(|| self.versions.get(&package_id.to_ascii_uppercase()).copied());
        self.inner.content(package_id, version)
    }
}
