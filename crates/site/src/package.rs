//! Packages: typed, versioned sets of content (package, driver package, application, boot image,
//! OS image, OS upgrade package), with IDs `<site code><5 hex digits>`.
//!
//! Adding or updating a package stores its files in the library first (outside the database),
//! then records the package, its new content version, the manifest and image facts in one
//! transaction. A failure leaves the database as it was; library files no manifest references
//! are removed by the next prune.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::arch::Arch;
use crate::content;
use crate::error::{Error, Result};
use crate::site::{Site, allocate_id, normalize_id};
use crate::source;
use crate::time::{Timestamp, now};
use crate::wim_info::{WimImage, WimSummary, inspect_wim};

/// The kind of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    /// A classic package (files plus programs).
    Package,
    /// A driver package.
    Driver,
    /// An application.
    Application,
    /// A boot image (Windows PE WIM).
    BootImage,
    /// An OS image (WIM with one or more images).
    OsImage,
    /// An OS upgrade package (Windows setup files).
    OsUpgrade,
}

impl PackageType {
    /// All types, in CLI order.
    pub const ALL: [PackageType; 6] = [
        PackageType::Package,
        PackageType::Driver,
        PackageType::Application,
        PackageType::BootImage,
        PackageType::OsImage,
        PackageType::OsUpgrade,
    ];

    /// Name used in the database, CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Package => "package",
            PackageType::Driver => "driver",
            PackageType::Application => "application",
            PackageType::BootImage => "boot-image",
            PackageType::OsImage => "os-image",
            PackageType::OsUpgrade => "os-upgrade",
        }
    }

    /// Whether the content is one WIM file whose images the site records.
    pub fn is_wim(self) -> bool {
        matches!(self, PackageType::BootImage | PackageType::OsImage)
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PackageType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        PackageType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "package type",
                    format!(
                        "{s:?} (expected one of package, driver, application, boot-image, os-image, os-upgrade)"
                    ),
                )
            })
    }
}

/// Optional settings of a new package.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// Architecture. Default: none, except boot images (read from the WIM's `WINDOWS/ARCH`) and
    /// OS images whose images all have one architecture. When given for a WIM whose XML names
    /// another architecture, adding fails.
    pub arch: Option<Arch>,
    /// IDs of packages this one depends on. Default: none.
    pub depends: Vec<String>,
    /// Boot images only: the image index used. Default: the WIM's boot index, else 1.
    pub image_index: Option<u32>,
    /// Boot images only: the prestart command. Default: none.
    pub prestart_command: Option<String>,
    /// Boot images only: ID of the package holding the prestart command's files. Default: none.
    pub prestart_package: Option<String>,
}

/// A package and its current content version.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    /// `<site code><5 hex digits>`.
    pub id: String,
    /// Display name (unique per type).
    pub name: String,
    /// Package type.
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Architecture, when it has one.
    pub arch: Option<Arch>,
    /// Where the content was last read from.
    pub source_path: PathBuf,
    /// Source version: 1 when added, +1 with each update.
    pub source_version: u32,
    /// Content ID of the current version, `<package ID>.<source version>`.
    pub content_id: String,
    /// SHA-256 over the current version's manifest (paths, sizes and file hashes).
    pub content_hash: String,
    /// Bytes of the current version's files.
    pub size: u64,
    /// Number of files in the current version.
    pub file_count: u64,
    /// IDs of packages this one depends on.
    pub depends: Vec<String>,
    /// Boot images: the image index used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_index: Option<u32>,
    /// Boot images: the prestart command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prestart_command: Option<String>,
    /// Boot images: the package with the prestart command's files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prestart_package: Option<String>,
    /// Applications: the model name task sequences name it by
    /// (`ScopeId_<scope>/Application_<id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// Boot and OS images: the images of the current version's WIM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<WimImage>>,
    /// When the package was added.
    pub created_at: Timestamp,
    /// When its content last changed.
    pub updated_at: Timestamp,
}

impl Package {
    /// A boot image package's image (the one at its image index).
    pub fn boot_image(&self) -> Option<&WimImage> {
        if self.kind != PackageType::BootImage {
            return None;
        }
        let index = self.image_index?;
        self.images.as_ref()?.iter().find(|i| i.index == index)
    }
}

/// What inspecting an image package's source decided.
struct ImageFacts {
    arch: Option<Arch>,
    image_index: Option<u32>,
    images: Vec<WimImage>,
}

/// Reads an image package's WIM. `arch_origin` names where `arch` came from, for errors
/// (`--arch`, or the package being updated).
fn inspect_image_source(
    kind: PackageType,
    source: &Path,
    arch: Option<Arch>,
    arch_origin: &str,
    image_index: Option<u32>,
) -> Result<Option<ImageFacts>> {
    if !kind.is_wim() {
        return Ok(None);
    }
    if !source.is_file() {
        if !source.exists() {
            return Err(Error::Io {
                path: source.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        return Err(Error::NotWim {
            path: source.to_path_buf(),
            reason: format!("a {kind} source must be a WIM file, not a folder"),
        });
    }
    let WimSummary { images, boot_index } = inspect_wim(source)?;
    if kind == PackageType::OsImage {
        let first = images.first().and_then(|i| i.arch);
        let common = images
            .iter()
            .all(|i| i.arch == first)
            .then_some(first)
            .flatten();
        if let (Some(given), Some(found)) = (arch, common)
            && given != found
        {
            return Err(Error::invalid(
                arch_origin.to_string(),
                format!(
                    "{given}, but the images of {} are {found}",
                    source.display()
                ),
            ));
        }
        return Ok(Some(ImageFacts {
            arch: arch.or(common),
            image_index: None,
            images,
        }));
    }
    let index = image_index.unwrap_or(if boot_index == 0 { 1 } else { boot_index });
    let image = images
        .iter()
        .find(|i| i.index == index)
        .ok_or_else(|| Error::NoSuchImage {
            path: source.to_path_buf(),
            index,
            count: images.len(),
        })?;
    let arch = match (arch, image.arch) {
        (Some(given), Some(found)) if given != found => {
            return Err(Error::invalid(
                arch_origin.to_string(),
                format!(
                    "{given}, but image {index} of {} is {found}",
                    source.display()
                ),
            ));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(Error::invalid(
                format!("boot image {}", source.display()),
                format!("image {index} has no known WINDOWS/ARCH; give --arch"),
            ));
        }
    };
    Ok(Some(ImageFacts {
        arch: Some(arch),
        image_index: Some(index),
        images,
    }))
}

/// The package of `kind` already named `name` (case-insensitively), as `ID "Name"`.
fn existing_with_name(
    tx: &Transaction<'_>,
    kind: PackageType,
    name: &str,
) -> Result<Option<String>> {
    tx.query_row(
        "SELECT id, name FROM packages WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
        params![kind.as_str(), name],
        |r| {
            Ok(format!(
                "{} {:?}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        },
    )
    .optional()
    .map_err(Error::db("looking up package names"))
}

pub(crate) fn package_type(conn: &rusqlite::Connection, id: &str) -> Result<PackageType> {
    let kind: Option<String> = conn
        .query_row("SELECT type FROM packages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(Error::db(format!("reading package {id}")))?;
    kind.ok_or_else(|| Error::not_found("package", id))?.parse()
}

impl Site {
    /// Adds a package of `kind` named `name` with the content at `source` (a file or folder;
    /// for boot and OS images, a WIM file). Returns it with source version 1.
    pub fn add_package(
        &mut self,
        kind: PackageType,
        name: &str,
        source: &Path,
        options: &PackageOptions,
    ) -> Result<Package> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("package name", "empty"));
        }
        if kind != PackageType::BootImage
            && (options.image_index.is_some()
                || options.prestart_command.is_some()
                || options.prestart_package.is_some())
        {
            return Err(Error::invalid(
                format!("{kind} {name:?}"),
                "image index and prestart command belong to boot images",
            ));
        }
        let depends: Vec<String> = {
            let mut d: Vec<String> = options.depends.iter().map(|d| normalize_id(d)).collect();
            d.sort();
            d.dedup();
            d
        };
        let prestart_package = options.prestart_package.as_deref().map(normalize_id);
        // Fail early, before any content is copied, on names and references.
        {
            let tx = self.transaction("checking the new package")?;
            if let Some(existing) = existing_with_name(&tx, kind, name)? {
                return Err(Error::Duplicate {
                    kind: "package",
                    name: name.to_string(),
                    existing: format!("{kind} {existing}"),
                });
            }
            for id in depends.iter().chain(prestart_package.as_ref()) {
                package_type(&tx, id)?;
            }
        }
        let facts =
            inspect_image_source(kind, source, options.arch, "--arch", options.image_index)?;
        let files = source::scan(source)?;
        let _lock = self.lock_library()?;
        let entries = content::store_files(self.library(), &files)?;
        let source_path = std::path::absolute(source).map_err(Error::io(source))?;
        let at = now();
        let tx = self.transaction("adding a package")?;
        // Checked again inside the transaction: another process may have raced us.
        if let Some(existing) = existing_with_name(&tx, kind, name)? {
            return Err(Error::Duplicate {
                kind: "package",
                name: name.to_string(),
                existing: format!("{kind} {existing}"),
            });
        }
        let id = allocate_id(&tx)?;
        let (arch, image_index, images) = match &facts {
            Some(f) => (f.arch, f.image_index, Some(f.images.as_slice())),
            None => (options.arch, None, None),
        };
        tx.execute(
            "INSERT INTO packages (id, name, type, arch, source_path, source_version, image_index,
                                   prestart_command, prestart_package, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9, ?9)",
            params![
                id,
                name,
                kind.as_str(),
                arch.map(Arch::as_str),
                source_path.to_string_lossy(),
                image_index,
                options.prestart_command,
                prestart_package,
                at
            ],
        )
        .map_err(Error::db(format!("adding package {id}")))?;
        for dep in &depends {
            tx.execute(
                "INSERT INTO package_dependencies (package_id, depends_on) VALUES (?1, ?2)",
                params![id, dep],
            )
            .map_err(Error::db(format!("recording that {id} depends on {dep}")))?;
        }
        if kind == PackageType::Application {
            crate::software::set_default_model_name(&tx, &id)?;
        }
        content::insert_version(&tx, &id, 1, &entries, images, at)?;
        tx.commit()
            .map_err(Error::db(format!("adding package {id}")))?;
        self.package(&id)
    }

    /// Reads the content again (from `source`, or from where it was last read) as a new
    /// content version: the source version increases by one. Older versions stay in the
    /// library until [`Site::prune`].
    pub fn update_package(&mut self, id: &str, source: Option<&Path>) -> Result<Package> {
        let current = self.package(id)?;
        let source = source.map_or_else(|| current.source_path.clone(), Path::to_path_buf);
        let facts = inspect_image_source(
            current.kind,
            &source,
            current.arch,
            &format!("architecture of package {}", current.id),
            current.image_index,
        )?;
        let files = source::scan(&source)?;
        let _lock = self.lock_library()?;
        let entries = content::store_files(self.library(), &files)?;
        let source_path = std::path::absolute(&source).map_err(Error::io(&source))?;
        let at = now();
        let tx = self.transaction(&format!("updating package {}", current.id))?;
        let version: u32 = tx
            .query_row(
                "SELECT source_version FROM packages WHERE id = ?1",
                [&current.id],
                |r| r.get(0),
            )
            .map_err(Error::db(format!("reading package {}", current.id)))?;
        let next = version + 1;
        tx.execute(
            "UPDATE packages SET source_version = ?2, source_path = ?3, arch = COALESCE(?4, arch),
                                 updated_at = ?5 WHERE id = ?1",
            params![
                current.id,
                next,
                source_path.to_string_lossy(),
                facts.as_ref().and_then(|f| f.arch).map(Arch::as_str),
                at
            ],
        )
        .map_err(Error::db(format!("updating package {}", current.id)))?;
        let images = facts.as_ref().map(|f| f.images.as_slice());
        content::insert_version(&tx, &current.id, next, &entries, images, at)?;
        tx.commit()
            .map_err(Error::db(format!("updating package {}", current.id)))?;
        self.package(&current.id)
    }

    /// The package with this ID.
    pub fn package(&self, id: &str) -> Result<Package> {
        let id = normalize_id(id);
        let row = self
            .conn
            .query_row(
                "SELECT p.id, p.name, p.type, p.arch, p.source_path, p.source_version, p.image_index,
                        p.prestart_command, p.prestart_package, p.created_at, p.updated_at,
                        c.content_id, c.content_hash, c.size, c.file_count, p.model_name
                 FROM packages p JOIN content_versions c
                   ON c.package_id = p.id AND c.version = p.source_version
                 WHERE p.id = ?1",
                [&id],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, u32>(5)?,
                            r.get::<_, Option<u32>>(6)?,
                        ),
                        (
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, Option<String>>(8)?,
                            r.get::<_, i64>(9)?,
                            r.get::<_, i64>(10)?,
                            r.get::<_, String>(11)?,
                            r.get::<_, String>(12)?,
                            r.get::<_, i64>(13)?,
                            r.get::<_, i64>(14)?,
                            r.get::<_, Option<String>>(15)?,
                        ),
                    ))
                },
            )
            .optional()
            .map_err(Error::db(format!("reading package {id}")))?
            .ok_or_else(|| Error::not_found("package", &id))?;
        let ((id, name, kind, arch, source_path, source_version, image_index), rest) = row;
        let (
            prestart_command,
            prestart_package,
            created,
            updated,
            content_id,
            hash,
            size,
            count,
            model_name,
        ) = rest;
        let kind: PackageType = kind.parse()?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT depends_on FROM package_dependencies WHERE package_id = ?1 ORDER BY depends_on",
            )
            .map_err(Error::db("reading dependencies"))?;
        let depends = stmt
            .query_map([&id], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(Error::db(format!("reading dependencies of {id}")))?;
        let images = if kind.is_wim() {
            Some(content::images(&self.conn, &content_id)?)
        } else {
            None
        };
        Ok(Package {
            name,
            kind,
            arch: arch.map(|a| a.parse()).transpose()?,
            source_path: PathBuf::from(source_path),
            source_version,
            content_id,
            content_hash: hash,
            size: u64::try_from(size).unwrap_or(0),
            file_count: u64::try_from(count).unwrap_or(0),
            depends,
            image_index,
            prestart_command,
            prestart_package,
            model_name,
            images,
            created_at: Timestamp(created),
            updated_at: Timestamp(updated),
            id,
        })
    }

    /// Every package, by ID.
    pub fn packages(&self) -> Result<Vec<Package>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM packages ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing packages"))?;
        ids.iter().map(|id| self.package(id)).collect()
    }

    /// The package with this ID, which must be of type `kind`.
    pub fn package_of_type(&self, id: &str, kind: PackageType) -> Result<Package> {
        let package = self.package(id)?;
        if package.kind != kind {
            return Err(Error::WrongType {
                id: package.id,
                expected: kind.to_string(),
                found: package.kind.to_string(),
            });
        }
        Ok(package)
    }
}
