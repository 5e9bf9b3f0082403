//! A site: its folder, database and content library; object ID allocation.
//!
//! Layout of a site folder:
//! ```text
//! <site>/site.db            SQLite database (schema in schema.rs)
//! <site>/site.lock          lock file held while the content library is changed
//! <site>/content/FileLib/   library files by SHA-256 (library.rs)
//! <site>/content/tmp/       files being imported
//! <site>/site-signing-key.p8 the key that signs management point answers (signing_key.rs)
//! ```

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::arch::Arch;
use crate::error::{Error, Result};
use crate::library::ContentLibrary;
use crate::schema::{self, MIGRATIONS};
use crate::time::{Timestamp, now};

/// File name of the database inside a site folder.
pub const DATABASE_FILE: &str = "site.db";

/// Resource IDs of the Unknown Computer records (x86, x64, arm64), as Configuration Manager
/// numbers them.
pub(crate) const UNKNOWN_COMPUTER_BASE: i64 = 2_046_820_352;
/// First resource ID of an imported computer.
pub(crate) const FIRST_RESOURCE_ID: i64 = 16_777_220;
/// ID of the built-in collection holding every computer.
pub const ALL_SYSTEMS: &str = "SMS00001";
/// ID of the built-in collection holding the Unknown Computer records.
pub const ALL_UNKNOWN_COMPUTERS: &str = "SMS000US";

/// An open site.
#[derive(Debug)]
pub struct Site {
    dir: PathBuf,
    code: String,
    pub(crate) conn: Connection,
    library: ContentLibrary,
}

/// A site's identity, as `tsmedia site show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    /// Three-character site code.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Site folder.
    pub dir: PathBuf,
    /// Schema version of the database.
    pub schema_version: u32,
    /// When the site was created.
    pub created_at: Timestamp,
}

/// Checks and normalises (to upper case) a site code: three letters or digits, not a name
/// Configuration Manager reserves.
pub fn validate_site_code(code: &str) -> Result<String> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.len() != 3 || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "site code",
            format!("{code:?} (expected exactly 3 letters or digits)"),
        ));
    }
    if ["AUX", "CON", "NUL", "PRN", "SMS"].contains(&upper.as_str()) {
        return Err(Error::invalid("site code", format!("{upper} is reserved")));
    }
    Ok(upper)
}

/// Object IDs are case-insensitive on input and stored upper case.
pub(crate) fn normalize_id(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

impl Site {
    /// Creates a new site in `dir` (which must not exist or be empty): the database with the
    /// Unknown Computer records and built-in collections, and an empty content library.
    pub fn init(dir: &Path, code: &str, name: Option<&str>) -> Result<Site> {
        let code = validate_site_code(code)?;
        let name = name.map_or_else(|| code.clone(), |n| n.trim().to_string());
        if name.is_empty() {
            return Err(Error::invalid("site name", "empty"));
        }
        let created_dir = !dir.exists();
        if !created_dir {
            if dir.join(DATABASE_FILE).exists() {
                return Err(Error::SiteExists {
                    dir: dir.to_path_buf(),
                    reason: "a site already exists there".into(),
                });
            }
            let mut entries = fs::read_dir(dir).map_err(Error::io(dir))?;
            if entries.next().is_some() {
                return Err(Error::SiteExists {
                    dir: dir.to_path_buf(),
                    reason: "the folder is not empty".into(),
                });
            }
        }
        let result = Self::create(dir, &code, &name);
        if result.is_err() {
            // Leave nothing half-made behind.
            if created_dir {
                let _ = fs::remove_dir_all(dir);
            } else {
                let _ = fs::remove_file(dir.join(DATABASE_FILE));
                let _ = fs::remove_dir_all(dir.join("content"));
            }
        }
        result
    }

    fn create(dir: &Path, code: &str, name: &str) -> Result<Site> {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let mut conn = Self::connect(dir)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        let tx = conn.transaction().map_err(Error::db("creating the site"))?;
        let at = now();
        tx.execute(
            "INSERT INTO site (singleton, code, name, created_at, next_object) VALUES (1, ?1, ?2, ?3, 1)",
            rusqlite::params![code, name, at],
        )
        .map_err(Error::db("creating the site"))?;
        for (i, arch) in Arch::ALL.iter().enumerate() {
            tx.execute(
                "INSERT INTO computers (resource_id, name, sms_guid, unknown_arch, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    UNKNOWN_COMPUTER_BASE + i as i64,
                    format!("{arch} Unknown Computer"),
                    uuid::Uuid::new_v4()
                        .hyphenated()
                        .to_string()
                        .to_ascii_uppercase(),
                    arch.as_str(),
                    at
                ],
            )
            .map_err(Error::db("creating the Unknown Computer records"))?;
        }
        for (id, name, rule) in [
            (ALL_SYSTEMS, "All Systems", "all"),
            (ALL_UNKNOWN_COMPUTERS, "All Unknown Computers", "unknown"),
        ] {
            tx.execute(
                "INSERT INTO collections (id, name, rule, created_at) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![id, name, rule, at],
            )
            .map_err(Error::db("creating the built-in collections"))?;
        }
        tx.commit().map_err(Error::db("creating the site"))?;
        let library = ContentLibrary::open(dir.join("content"))?;
        let site = Site {
            dir: dir.to_path_buf(),
            code: code.to_string(),
            conn,
            library,
        };
        // Made now so that planning media (which must write nothing) finds it; older sites get
        // theirs on first use.
        site.signing_key_pkcs8()?;
        Ok(site)
    }

    /// Opens the site in `dir`, upgrading its schema if it was made by an older version.
    pub fn open(dir: &Path) -> Result<Site> {
        if !dir.join(DATABASE_FILE).is_file() {
            return Err(Error::NoSite {
                dir: dir.to_path_buf(),
            });
        }
        let mut conn = Self::connect(dir)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        let code: String = conn
            .query_row("SELECT code FROM site", [], |r| r.get(0))
            .optional()
            .map_err(Error::db("reading the site code"))?
            .ok_or_else(|| Error::NoSite {
                dir: dir.to_path_buf(),
            })?;
        let library = ContentLibrary::open(dir.join("content"))?;
        Ok(Site {
            dir: dir.to_path_buf(),
            code,
            conn,
            library,
        })
    }

    fn connect(dir: &Path) -> Result<Connection> {
        let path = dir.join(DATABASE_FILE);
        let conn =
            Connection::open(&path).map_err(Error::db(format!("opening {}", path.display())))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(Error::db("enabling foreign keys"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(Error::db("setting the busy timeout"))?;
        Ok(conn)
    }

    /// The site folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The three-character site code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The content library's file store.
    pub fn library(&self) -> &ContentLibrary {
        &self.library
    }

    /// The site's identity.
    pub fn info(&self) -> Result<SiteInfo> {
        let (name, created_at) = self
            .conn
            .query_row("SELECT name, created_at FROM site", [], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(Error::db("reading the site"))?;
        Ok(SiteInfo {
            id: self.code.clone(),
            name,
            dir: self.dir.clone(),
            schema_version: schema::current_version(&self.conn)?,
            created_at: Timestamp(created_at),
        })
    }

    /// Starts a transaction; every change to the site is made in one.
    pub(crate) fn transaction(&mut self, context: &str) -> Result<Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(Error::db(context.to_string()))
    }

    /// Holds the site's lock file exclusively while the content library is changed, so that a
    /// prune cannot remove a file that an import is about to reference.
    pub(crate) fn lock_library(&self) -> Result<File> {
        let path = self.dir.join("site.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        file.lock().map_err(Error::io(&path))?;
        Ok(file)
    }
}

/// Allocates the next object ID, `<site code><5 hex digits>`, inside the caller's transaction.
pub(crate) fn allocate_id(tx: &Transaction<'_>) -> Result<String> {
    let (code, next): (String, i64) = tx
        .query_row("SELECT code, next_object FROM site", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(Error::db("allocating an object ID"))?;
    if next > 0xF_FFFF {
        return Err(Error::IdsExhausted { code });
    }
    tx.execute("UPDATE site SET next_object = next_object + 1", [])
        .map_err(Error::db("allocating an object ID"))?;
    Ok(format!("{code}{next:05X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_codes() {
        assert_eq!(validate_site_code("ps1").unwrap(), "PS1");
        for bad in ["", "AB", "ABCD", "A-1", "SMS", "con", "ÄB1"] {
            assert!(validate_site_code(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn init_then_open_and_ids_increase() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        let mut site = Site::init(&root, "xyz", Some("Lab")).unwrap();
        assert_eq!(site.code(), "XYZ");
        let tx = site.transaction("test").unwrap();
        assert_eq!(allocate_id(&tx).unwrap(), "XYZ00001");
        assert_eq!(allocate_id(&tx).unwrap(), "XYZ00002");
        tx.commit().unwrap();
        drop(site);
        let site = Site::open(&root).unwrap();
        let info = site.info().unwrap();
        assert_eq!(info.name, "Lab");
        assert_eq!(info.schema_version, schema::SCHEMA_VERSION);
        assert!(matches!(
            Site::init(&root, "ABC", None),
            Err(Error::SiteExists { .. })
        ));
        assert!(matches!(
            Site::open(&dir.path().join("nothing")),
            Err(Error::NoSite { .. })
        ));
    }

    #[test]
    fn ids_run_out_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let mut site = Site::init(dir.path(), "ABC", None).unwrap();
        site.conn
            .execute("UPDATE site SET next_object = 1048575", [])
            .unwrap();
        let tx = site.transaction("test").unwrap();
        assert_eq!(allocate_id(&tx).unwrap(), "ABCFFFFF");
        assert!(matches!(allocate_id(&tx), Err(Error::IdsExhausted { .. })));
    }
}
