//! The content manifest, `SMS/data/ContentManifest.json` (format `tsmedia-content-manifest/1`):
//! every content file staged on the media with its size and SHA-256. The builder writes it
//! ([`ContentManifest::to_json`]); the runtime reads it ([`ContentManifest::read`]) and checks
//! staged content "whether the hash and content have changed" before it uses it, as
//! Configuration Manager's runtime does.
//!
//! A split WIM is listed as its `.swm` parts (what is on the media, so the runtime checks
//! them as files), each naming the WIM it belongs to ([`SplitWimPart`]). On a multi-disc set
//! every file records its `disc`, for the runtime's "insert disc N".
//!
//! The fields of each struct are declared in alphabetical order on purpose: manifests were
//! first written through an untyped JSON map, which sorts its keys, and keeping that order
//! keeps the bytes of the file unchanged.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where media keep the manifest, from the media root.
pub const MANIFEST_PATH: &str = "SMS/data/ContentManifest.json";
/// The `format` of this version of the manifest.
pub const FORMAT: &str = "tsmedia-content-manifest/1";
/// The media variable, inside the sealed `Variables.dat`, holding the SHA-256 (lowercase hex)
/// of the manifest's bytes: what authenticates the manifest (issue #15, L1).
pub const MANIFEST_HASH_VARIABLE: &str = "_TSMediaContentManifestSHA256";

/// `SMS/data/ContentManifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentManifest {
    /// [`FORMAT`].
    pub format: String,
    /// The packages staged on the media.
    pub packages: Vec<ManifestPackage>,
}

/// One package of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestPackage {
    /// The content ID at the site (`<PackageID>.<version>` for packages). Default: empty.
    #[serde(default)]
    pub content_id: String,
    /// Every file, with its path from the media root (`SMS/PKG/<ID>/...`).
    pub files: Vec<ManifestFile>,
    /// The image of an OS image package that the media were made for (`--os-image-index`,
    /// also the media variable `OSDImageIndex`); `None` for other packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_index: Option<u32>,
    /// Package name. Default: empty.
    #[serde(default)]
    pub name: String,
    /// Package ID.
    pub package_id: String,
    /// Content version.
    pub version: u32,
}

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The disc of a multi-disc set holding the file; `None` on single-disc media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disc: Option<u32>,
    /// Path from the media root, `/`-separated.
    pub path: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The WIM this file is a `.swm` part of; `None` for whole files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_wim: Option<SplitWimPart>,
}

/// The WIM a `.swm` part belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitWimPart {
    /// This part's number, from 1.
    pub part: u16,
    /// How many parts the WIM has.
    pub parts: u16,
    /// The media path of the whole WIM (`SMS/PKG/<ID>/<name>.wim`).
    pub path: String,
    /// SHA-256 of the whole WIM in the site's library, lowercase hex.
    pub sha256: String,
}

impl ContentManifest {
    /// A manifest of `packages` in the current [`FORMAT`].
    pub fn new(packages: Vec<ManifestPackage>) -> ContentManifest {
        ContentManifest {
            format: FORMAT.to_string(),
            packages,
        }
    }

    /// The file's bytes: pretty-printed JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings and integers only: serializing cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Parses a manifest; `path` names it in errors. Refuses another format and any file
    /// path that leaves its package folder.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<ContentManifest> {
        let bad = |reason: String| Error::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let m: ContentManifest = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if m.format != FORMAT {
            return Err(bad(format!("format {:?}, expected {FORMAT:?}", m.format)));
        }
        for p in &m.packages {
            for f in &p.files {
                p.relative_path(f).map_err(bad)?;
            }
        }
        Ok(m)
    }

    /// Reads `<media root>/SMS/data/ContentManifest.json`.
    pub fn read(media_root: &Path) -> Result<ContentManifest> {
        let path = media_root.join(MANIFEST_PATH);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        ContentManifest::parse(&bytes, &path)
    }

    /// Reads the manifest of the media at `media_root` and checks it against `expected`, the
    /// SHA-256 the sealed media variables record ([`MANIFEST_HASH_VARIABLE`]): the manifest
    /// is authenticated by the media key that seals `Variables.dat` (with a password, the
    /// Argon2id key), so editing a staged file together with its hash in the manifest is
    /// detected. `None` when the media have neither manifest nor hash; a manifest without a
    /// recorded hash (unless it lists no package: media without staged content record none),
    /// or a hash without a manifest, is refused.
    pub fn read_authenticated(
        media_root: &Path,
        expected: Option<&str>,
    ) -> Result<Option<ContentManifest>> {
        let path = media_root.join(MANIFEST_PATH);
        let not_authentic = |reason: String| Error::ManifestNotAuthentic {
            path: path.clone(),
            reason,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match expected {
                    None => Ok(None),
                    Some(_) => Err(not_authentic(format!(
                        "missing, but the media variables record its hash \
                         ({MANIFEST_HASH_VARIABLE})"
                    ))),
                };
            }
            Err(source) => return Err(Error::Io { path, source }),
        };
        let Some(expected) = expected.map(str::trim) else {
            // Media without staged content record no hash: a manifest listing nothing trusts
            // nothing, anything else is refused.
            if let Ok(m) = ContentManifest::parse(&bytes, &path)
                && m.packages.is_empty()
            {
                return Ok(Some(m));
            }
            return Err(not_authentic(format!(
                "not authenticated: the media variables record no hash of it \
                 ({MANIFEST_HASH_VARIABLE}); the media were made by an older tsmedia or \
                 Variables.dat was replaced: rebuild the media"
            )));
        };
        let actual = tsmedia_base::digest::hex(&tsmedia_base::digest::sha256(&bytes));
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(not_authentic(format!(
                "changed since the media were built: its SHA-256 is {actual}, the sealed media \
                 variables record {expected}; staged content is not trusted"
            )));
        }
        ContentManifest::parse(&bytes, &path).map(Some)
    }

    /// The SHA-256 of manifest bytes, for [`MANIFEST_HASH_VARIABLE`].
    pub fn hash_of(bytes: &[u8]) -> String {
        tsmedia_base::digest::hex(&tsmedia_base::digest::sha256(bytes))
    }

    /// The entry of `package_id` (case-insensitive).
    pub fn package(&self, package_id: &str) -> Option<&ManifestPackage> {
        self.packages
            .iter()
            .find(|p| p.package_id.eq_ignore_ascii_case(package_id))
    }
}

impl ManifestPackage {
    /// The part of `file`'s path after `SMS/PKG/<ID>/`, refused when it leaves the package.
    pub fn relative_path(&self, file: &ManifestFile) -> Result<PathBuf, String> {
        let path = file.path.as_str();
        let prefix = format!("SMS/PKG/{}/", self.package_id);
        let rest = path
            .get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(&prefix))
            .map(|_| &path[prefix.len()..])
            .ok_or_else(|| format!("file {path:?} is not under {prefix}"))?;
        let rel = PathBuf::from(rest);
        if rest.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(format!("file {path:?} leaves its package folder"));
        }
        Ok(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_that_leave_the_package_folder_are_refused() {
        let here = Path::new("m.json");
        for bad in [
            "SMS/PKG/PS100010/../../../etc/passwd",
            "SMS/PKG/OTHER/x",
            "/etc/passwd",
            "SMS/PKG/PS100010/",
        ] {
            let doc = serde_json::json!({"format": "tsmedia-content-manifest/1", "packages": [
                {"package_id": "PS100010", "version": 1, "files": [{"path": bad, "size": 1, "sha256": "00"}]}]});
            let err = ContentManifest::parse(doc.to_string().as_bytes(), here).expect_err(bad);
            assert!(matches!(err, Error::Manifest { .. }), "{bad}: {err}");
        }
        let wrong = serde_json::json!({"format": "other", "packages": []});
        assert!(ContentManifest::parse(wrong.to_string().as_bytes(), here).is_err());
    }

    #[test]
    fn the_manifest_is_checked_against_the_sealed_hash() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(
            ContentManifest::read_authenticated(root, None)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            ContentManifest::read_authenticated(root, Some("00")),
            Err(Error::ManifestNotAuthentic { .. })
        ));
        let bytes = ContentManifest::new(Vec::new()).to_json();
        std::fs::create_dir_all(root.join("SMS/data")).unwrap();
        std::fs::write(root.join(MANIFEST_PATH), &bytes).unwrap();
        let h = ContentManifest::hash_of(&bytes);
        assert!(
            ContentManifest::read_authenticated(root, Some(&h))
                .unwrap()
                .is_some()
        );
        // An empty manifest needs no hash; one listing a package does.
        assert!(
            ContentManifest::read_authenticated(root, None)
                .unwrap()
                .is_some()
        );
        let doc = serde_json::json!({"format": FORMAT, "packages": [
            {"package_id": "PS100010", "version": 1, "files": []}]});
        std::fs::write(root.join(MANIFEST_PATH), doc.to_string()).unwrap();
        let e = ContentManifest::read_authenticated(root, None).unwrap_err();
        assert!(e.to_string().contains("not authenticated"), "{e}");
        std::fs::write(root.join(MANIFEST_PATH), &bytes).unwrap();
        let mut edited = bytes.clone();
        edited.push(b'\n');
        std::fs::write(root.join(MANIFEST_PATH), &edited).unwrap();
        let e = ContentManifest::read_authenticated(root, Some(&h)).unwrap_err();
        assert!(
            e.to_string().contains("changed since the media were built"),
            "{e}"
        );
    }

    /// The typed manifest writes the same bytes as the untyped JSON map it replaces (sorted
    /// keys, pretty-printed), and reads them back.
    #[test]
    fn bytes_match_the_sorted_json_map_and_round_trip() {
        let m = ContentManifest::new(vec![ManifestPackage {
            content_id: "PS100001.2".into(),
            image_index: None,
            files: vec![
                ManifestFile {
                    disc: None,
                    path: "SMS/PKG/PS100001/a.txt".into(),
                    sha256: "ab".into(),
                    size: 3,
                    split_wim: None,
                },
                ManifestFile {
                    disc: Some(2),
                    path: "SMS/PKG/PS100001/os2.swm".into(),
                    sha256: "cd".into(),
                    size: 9,
                    split_wim: Some(SplitWimPart {
                        part: 2,
                        parts: 3,
                        path: "SMS/PKG/PS100001/os.wim".into(),
                        sha256: "ef".into(),
                    }),
                },
            ],
            name: "OS".into(),
            package_id: "PS100001".into(),
            version: 2,
        }]);
        let untyped = serde_json::json!({
            "packages": [{
                "version": 2, "package_id": "PS100001", "name": "OS", "content_id": "PS100001.2",
                "files": [
                    {"sha256": "ab", "size": 3, "path": "SMS/PKG/PS100001/a.txt"},
                    {"split_wim": {"sha256": "ef", "path": "SMS/PKG/PS100001/os.wim", "parts": 3, "part": 2},
                     "size": 9, "sha256": "cd", "path": "SMS/PKG/PS100001/os2.swm", "disc": 2},
                ],
            }],
            "format": "tsmedia-content-manifest/1",
        });
        let bytes = m.to_json();
        assert_eq!(bytes, serde_json::to_vec_pretty(&untyped).unwrap());
        assert_eq!(
            ContentManifest::parse(&bytes, Path::new("m.json")).unwrap(),
            m
        );
    }
}
