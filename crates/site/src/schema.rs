//! Versioned schema migrations of the site database.
//!
//! `PRAGMA user_version` holds the schema version; the table `schema_version` logs when each
//! migration was applied. Migrations are applied in order, each in its own transaction, so a
//! site made by this version opens (and is upgraded) with the next, and a failed upgrade leaves
//! the database at the last complete version.

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::time::now;

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The version the database has after this migration.
    pub version: u32,
    /// What it changes.
    pub description: &'static str,
    /// The SQL that makes the change.
    pub sql: &'static str,
}

/// Every migration this build knows, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "site, content library, packages, task sequences, deployments, infrastructure",
        sql: V1,
    },
    Migration {
        version: 2,
        description: "boot image flavour (tsmedia PE or Windows PE) and kernel of WIM images",
        sql: V2,
    },
    Migration {
        version: 3,
        description: "what media may do, recorded with their certificate when they are built (allow unknown computers, DP principal)",
        sql: V3,
    },
    Migration {
        version: 4,
        description: "programs of packages, deployment types and model names of applications",
        sql: V4,
    },
];

/// The newest schema version this build writes.
pub const SCHEMA_VERSION: u32 = 4;

/// What Install Package and Install Application run (`docs/media.md`, "Programs and
/// deployment types"): the programs of packages, the deployment types of applications, and
/// the model name (`ScopeId_<scope>/Application_<id>`) task sequences name applications by.
/// Applications added before this version get the model name tsmedia gives new ones.
/// `detection` and `requirements` hold JSON (`tsmedia_mediafmt::software`); exit code lists
/// are space-separated.
const V4: &str = r#"
ALTER TABLE packages ADD COLUMN model_name TEXT;
UPDATE packages SET model_name = 'ScopeId_' || (SELECT code FROM site) || '/Application_' || id
 WHERE type = 'application';
CREATE UNIQUE INDEX packages_by_model_name ON packages(model_name COLLATE NOCASE)
 WHERE model_name IS NOT NULL;
CREATE TABLE programs (
    package_id      TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    name            TEXT NOT NULL COLLATE NOCASE,
    command_line    TEXT NOT NULL,
    working_dir     TEXT,
    run_mode        TEXT NOT NULL,
    max_run_minutes INTEGER NOT NULL,
    after_running   TEXT NOT NULL,
    success_codes   TEXT NOT NULL,
    restart_codes   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (package_id, name)
);
CREATE TABLE deployment_types (
    application_id    TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    name              TEXT NOT NULL COLLATE NOCASE,
    priority          INTEGER NOT NULL,
    install_command   TEXT NOT NULL,
    uninstall_command TEXT,
    detection         TEXT NOT NULL,
    requirements      TEXT NOT NULL,
    max_run_minutes   INTEGER NOT NULL,
    success_codes     TEXT NOT NULL,
    restart_codes     TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (application_id, name)
);
"#;

/// Decisions the site makes from its own record, not from what media say (issue #15, M1 and
/// M2): whether media with this certificate may run unknown computers, and the principal their
/// distribution point requests are checked as (NULL: `Everyone`). Certificates registered
/// before this version allow no unknown computers until media are built with them again.
const V3: &str = r#"
ALTER TABLE certificates ADD COLUMN allow_unknown INTEGER NOT NULL DEFAULT 0;
ALTER TABLE certificates ADD COLUMN principal TEXT;
"#;

/// What an image is, as its XML says: `tsmedia-pe` with the kernel release for tsmedia PE boot
/// images; NULL for everything else (Windows PE boot images, OS images).
const V2: &str = r#"
ALTER TABLE wim_images ADD COLUMN flavour TEXT;
ALTER TABLE wim_images ADD COLUMN kernel TEXT;
"#;

const V1: &str = r#"
CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);
CREATE TABLE site (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    next_object INTEGER NOT NULL
);
CREATE TABLE packages (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL,
    arch             TEXT,
    source_path      TEXT NOT NULL,
    source_version   INTEGER NOT NULL,
    image_index      INTEGER,
    prestart_command TEXT,
    prestart_package TEXT REFERENCES packages(id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (type, name)
);
CREATE TABLE package_dependencies (
    package_id TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    depends_on TEXT NOT NULL REFERENCES packages(id),
    PRIMARY KEY (package_id, depends_on)
);
-- FileLib: every distinct file, stored once by SHA-256.
CREATE TABLE library_files (
    hash     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    added_at INTEGER NOT NULL
);
-- PkgLib: package -> content versions.
CREATE TABLE content_versions (
    content_id   TEXT PRIMARY KEY,
    package_id   TEXT NOT NULL REFERENCES packages(id),
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    size         INTEGER NOT NULL,
    file_count   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (package_id, version)
);
-- DataLib: per content version, each file's path, size, time and hash.
CREATE TABLE manifest_entries (
    content_id TEXT NOT NULL REFERENCES content_versions(content_id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    mtime      INTEGER NOT NULL,
    hash       TEXT NOT NULL REFERENCES library_files(hash),
    PRIMARY KEY (content_id, path)
);
CREATE INDEX manifest_entries_by_hash ON manifest_entries(hash);
CREATE TABLE wim_images (
    content_id  TEXT NOT NULL REFERENCES content_versions(content_id) ON DELETE CASCADE,
    image_index INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    arch        TEXT,
    size        INTEGER NOT NULL,
    PRIMARY KEY (content_id, image_index)
);
CREATE TABLE task_sequences (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    boot_image TEXT REFERENCES packages(id),
    xml        TEXT NOT NULL,
    model      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE computers (
    resource_id  INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    sms_guid     TEXT NOT NULL UNIQUE,
    smbios_guid  TEXT UNIQUE,
    mac          TEXT,
    unknown_arch TEXT UNIQUE,
    created_at   INTEGER NOT NULL
);
-- rule: 'all' (every computer), 'unknown' (the Unknown Computer records) or NULL (members).
CREATE TABLE collections (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    rule       TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE collection_members (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    resource_id   INTEGER NOT NULL REFERENCES computers(resource_id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, resource_id)
);
CREATE TABLE collection_variables (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (collection_id, name)
);
CREATE TABLE deployments (
    id            TEXT PRIMARY KEY,
    ts_id         TEXT NOT NULL REFERENCES task_sequences(id),
    collection_id TEXT NOT NULL REFERENCES collections(id),
    availability  TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE distribution_points (
    name       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE dp_content (
    dp             TEXT NOT NULL REFERENCES distribution_points(name) ON DELETE CASCADE,
    package_id     TEXT NOT NULL REFERENCES packages(id),
    content_id     TEXT NOT NULL REFERENCES content_versions(content_id),
    distributed_at INTEGER NOT NULL,
    PRIMARY KEY (dp, package_id)
);
CREATE TABLE dp_grants (
    dp        TEXT NOT NULL REFERENCES distribution_points(name) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    PRIMARY KEY (dp, principal)
);
CREATE TABLE management_points (
    name       TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE mp_boundaries (
    mp   TEXT NOT NULL REFERENCES management_points(name) ON DELETE CASCADE,
    cidr TEXT NOT NULL,
    PRIMARY KEY (mp, cidr)
);
CREATE TABLE certificates (
    thumbprint    TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    serial        TEXT NOT NULL,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    der           BLOB NOT NULL,
    blocked       INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL,
    blocked_at    INTEGER
);
"#;

/// The schema version stored in the database (0 for an empty database).
pub(crate) fn current_version(conn: &Connection) -> Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(Error::db("reading the schema version"))
}

/// Applies every migration newer than the database, each in its own transaction.
/// Returns the resulting version.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<u32> {
    let supported = migrations.last().map_or(0, |m| m.version);
    let mut version = current_version(conn)?;
    if version > supported {
        return Err(Error::SchemaTooNew {
            found: version,
            supported,
        });
    }
    let start = version;
    for migration in migrations.iter().filter(|m| m.version > start) {
        let context = format!("migrating to schema version {}", migration.version);
        let tx = conn.transaction().map_err(Error::db(context.clone()))?;
        tx.execute_batch(migration.sql)
            .map_err(Error::db(context.clone()))?;
        tx.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![migration.version, migration.description, now()],
        )
        .map_err(Error::db(context.clone()))?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(Error::db(context.clone()))?;
        tx.commit().map_err(Error::db(context))?;
        version = migration.version;
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The version after this build's newest.
    const NEXT_VERSION: u32 = SCHEMA_VERSION + 1;

    const V2: Migration = Migration {
        version: NEXT_VERSION,
        description: "test: a later version adds a column",
        sql: "ALTER TABLE packages ADD COLUMN comment TEXT NOT NULL DEFAULT '';",
    };

    #[test]
    fn a_site_made_by_this_version_opens_with_the_next() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), SCHEMA_VERSION);
        conn.execute(
            "INSERT INTO packages (id, name, type, source_path, source_version, created_at, updated_at)
             VALUES ('ABC00001', 'p', 'package', '/x', 1, 0, 0)",
            [],
        )
        .unwrap();
        let next: Vec<Migration> = MIGRATIONS.iter().copied().chain([V2]).collect();
        assert_eq!(migrate(&mut conn, &next).unwrap(), NEXT_VERSION);
        let comment: String = conn
            .query_row(
                "SELECT comment FROM packages WHERE id = 'ABC00001'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(comment, "");
        let logged: u32 = conn
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(logged, NEXT_VERSION);
        // Opening again applies nothing.
        assert_eq!(migrate(&mut conn, &next).unwrap(), NEXT_VERSION);
    }

    #[test]
    fn a_version_1_site_gains_the_boot_image_flavour_columns() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, &MIGRATIONS[..1]).unwrap(), 1);
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), SCHEMA_VERSION);
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('wim_images')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(columns.iter().any(|c| c == "flavour"), "{columns:?}");
        assert!(columns.iter().any(|c| c == "kernel"), "{columns:?}");
    }

    #[test]
    fn a_version_2_site_gains_the_media_record_columns() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, &MIGRATIONS[..2]).unwrap(), 2);
        conn.execute(
            "INSERT INTO certificates (thumbprint, subject, issuer, serial, not_before, not_after, der, registered_at)
             VALUES ('AB', 's', 'i', '01', 0, 1, x'00', 0)",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), SCHEMA_VERSION);
        let (allow, principal): (bool, Option<String>) = conn
            .query_row(
                "SELECT allow_unknown, principal FROM certificates WHERE thumbprint = 'AB'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(!allow, "an old certificate allows no unknown computers");
        assert_eq!(principal, None);
    }

    #[test]
    fn a_version_3_site_gives_its_applications_model_names() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, &MIGRATIONS[..3]).unwrap(), 3);
        conn.execute_batch(
            "INSERT INTO site (singleton, code, name, created_at, next_object) VALUES (1, 'PS1', 'x', 0, 3);
             INSERT INTO packages (id, name, type, source_path, source_version, created_at, updated_at)
             VALUES ('PS100001', 'Editor', 'application', '/x', 1, 0, 0),
                    ('PS100002', 'Tools', 'package', '/y', 1, 0, 0);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), SCHEMA_VERSION);
        let names: Vec<Option<String>> = conn
            .prepare("SELECT model_name FROM packages ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            names,
            vec![Some("ScopeId_PS1/Application_PS100001".to_string()), None]
        );
        conn.execute(
            "INSERT INTO programs (package_id, name, command_line, run_mode, max_run_minutes,
                                   after_running, success_codes, restart_codes, created_at)
             VALUES ('PS100002', 'Install', 'x', 'admin', 120, 'none', '0', '3010', 0)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        let next: Vec<Migration> = MIGRATIONS.iter().copied().chain([V2]).collect();
        migrate(&mut conn, &next).unwrap();
        let err = migrate(&mut conn, MIGRATIONS).unwrap_err();
        assert!(
            matches!(
                err,
                Error::SchemaTooNew {
                    found: NEXT_VERSION,
                    supported: SCHEMA_VERSION
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let broken = Migration {
            version: NEXT_VERSION,
            description: "broken",
            sql: "CREATE TABLE x (a INTEGER); THIS IS NOT SQL;",
        };
        let next: Vec<Migration> = MIGRATIONS.iter().copied().chain([broken]).collect();
        assert!(migrate(&mut conn, &next).is_err());
        assert_eq!(current_version(&conn).unwrap(), SCHEMA_VERSION);
        let x_exists: u32 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'x'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(x_exists, 0);
    }
}
