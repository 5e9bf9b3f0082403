//! Computer records: imported computers (name, SMBIOS GUID, MAC address) and the site's x86,
//! x64 and arm64 "Unknown Computer" records that unknown machines use when media allow them.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::arch::Arch;
use crate::error::{Error, Result};
use crate::site::{FIRST_RESOURCE_ID, Site};
use crate::time::{Timestamp, now};

/// A computer record.
#[derive(Debug, Clone, Serialize)]
pub struct Computer {
    /// Resource ID.
    pub id: i64,
    /// Computer name.
    pub name: String,
    /// The record's unique identifier (for Unknown Computers, the value media carry in
    /// `_SMSTSx64UnknownMachineGUID` and its siblings).
    pub sms_guid: String,
    /// SMBIOS GUID, upper-case, hyphenated.
    pub smbios_guid: Option<String>,
    /// MAC address, `AA:BB:CC:DD:EE:FF`.
    pub mac: Option<String>,
    /// For Unknown Computer records, their architecture.
    pub unknown_arch: Option<Arch>,
    /// When the record was made.
    pub created_at: Timestamp,
}

/// Normalises a GUID (`{...}` or bare, any case) to upper-case `8-4-4-4-12` form.
pub fn normalize_guid(text: &str) -> Result<String> {
    let bare = text.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = bare.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = bare.split('-').map(str::len).collect();
    if hex.len() != 32
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
        || !(groups == [32] || groups == [8, 4, 4, 4, 12])
    {
        return Err(Error::invalid(
            format!("SMBIOS GUID {text:?}"),
            "expected 32 hex digits as 8-4-4-4-12",
        ));
    }
    let h = hex.to_ascii_uppercase();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// Normalises a MAC address (`:`/`-` separated or bare, any case) to `AA:BB:CC:DD:EE:FF`.
pub fn normalize_mac(text: &str) -> Result<String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ':' | '-'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            format!("MAC address {text:?}"),
            "expected 6 bytes in hex, e.g. 00:15:5D:01:02:03",
        ));
    }
    let h = hex.to_ascii_uppercase();
    Ok((0..6)
        .map(|i| &h[i * 2..i * 2 + 2])
        .collect::<Vec<_>>()
        .join(":"))
}

fn validate_computer_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 15
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        return Err(Error::invalid(
            format!("computer name {name:?}"),
            "1 to 15 letters, digits, '-' or '_' (a NetBIOS name)",
        ));
    }
    Ok(name.to_string())
}

const COLUMNS: &str = "resource_id, name, sms_guid, smbios_guid, mac, unknown_arch, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Computer, Option<String>)> {
    Ok((
        Computer {
            id: r.get(0)?,
            name: r.get(1)?,
            sms_guid: r.get(2)?,
            smbios_guid: r.get(3)?,
            mac: r.get(4)?,
            unknown_arch: None,
            created_at: Timestamp(r.get(6)?),
        },
        r.get(5)?,
    ))
}

fn finish((mut c, arch): (Computer, Option<String>)) -> Result<Computer> {
    c.unknown_arch = arch.map(|a| a.parse()).transpose()?;
    Ok(c)
}

impl Site {
    /// Imports a computer record. Name and SMBIOS GUID must be new to the site.
    pub fn import_computer(
        &mut self,
        name: &str,
        smbios_guid: &str,
        mac: &str,
    ) -> Result<Computer> {
        let name = validate_computer_name(name)?;
        let guid = normalize_guid(smbios_guid)?;
        let mac = normalize_mac(mac)?;
        let tx = self.transaction("importing a computer")?;
        let clash: Option<(i64, String, Option<String>)> = tx
            .query_row(
                "SELECT resource_id, name, smbios_guid FROM computers
                 WHERE name = ?1 COLLATE NOCASE OR smbios_guid = ?2",
                params![name, guid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(Error::db("looking up computers"))?;
        if let Some((id, other, other_guid)) = clash {
            let (what, value) = if other.eq_ignore_ascii_case(&name) {
                ("computer", name.clone())
            } else {
                ("computer with SMBIOS GUID", other_guid.unwrap_or_default())
            };
            return Err(Error::Duplicate {
                kind: what,
                name: value,
                existing: format!("computer {other}, resource ID {id}"),
            });
        }
        let next: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(resource_id) + 1, ?1) FROM computers WHERE unknown_arch IS NULL",
                [FIRST_RESOURCE_ID],
                |r| r.get(0),
            )
            .map_err(Error::db("allocating a resource ID"))?;
        tx.execute(
            "INSERT INTO computers (resource_id, name, sms_guid, smbios_guid, mac, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                next,
                name,
                uuid::Uuid::new_v4()
                    .hyphenated()
                    .to_string()
                    .to_ascii_uppercase(),
                guid,
                mac,
                now()
            ],
        )
        .map_err(Error::db(format!("importing computer {name}")))?;
        tx.commit()
            .map_err(Error::db(format!("importing computer {name}")))?;
        self.computer(&next.to_string())
    }

    /// The computer with this resource ID or name.
    pub fn computer(&self, name_or_id: &str) -> Result<Computer> {
        let key = name_or_id.trim();
        let sql = format!(
            "SELECT {COLUMNS} FROM computers WHERE CAST(resource_id AS TEXT) = ?1 OR name = ?1 COLLATE NOCASE"
        );
        let row = self
            .conn
            .query_row(&sql, [key], from_row)
            .optional()
            .map_err(Error::db(format!("reading computer {key}")))?
            .ok_or_else(|| Error::not_found("computer", key))?;
        finish(row)
    }

    /// Every computer record, Unknown Computers included, by resource ID.
    pub fn computers(&self) -> Result<Vec<Computer>> {
        let rows: Vec<(Computer, Option<String>)> = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM computers ORDER BY resource_id"
            ))
            .and_then(|mut s| s.query_map([], from_row)?.collect())
            .map_err(Error::db("listing computers"))?;
        rows.into_iter().map(finish).collect()
    }

    /// The site's Unknown Computer record for `arch`.
    pub fn unknown_computer(&self, arch: Arch) -> Result<Computer> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM computers WHERE unknown_arch = ?1"),
                [arch.as_str()],
                from_row,
            )
            .optional()
            .map_err(Error::db("reading the Unknown Computer records"))?
            .ok_or_else(|| Error::not_found("Unknown Computer record", arch.as_str()))?;
        finish(row)
    }

    /// The computer known by this SMBIOS GUID, else by this MAC address (as the management
    /// point identifies a booting machine), if any.
    pub fn find_computer(
        &self,
        smbios_guid: Option<&str>,
        mac: Option<&str>,
    ) -> Result<Option<Computer>> {
        if let Some(guid) = smbios_guid {
            let guid = normalize_guid(guid)?;
            let row = self
                .conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM computers WHERE smbios_guid = ?1"),
                    [&guid],
                    from_row,
                )
                .optional()
                .map_err(Error::db("looking up computers"))?;
            if let Some(row) = row {
                return finish(row).map(Some);
            }
        }
        if let Some(mac) = mac {
            let mac = normalize_mac(mac)?;
            let row = self
                .conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM computers WHERE mac = ?1 ORDER BY resource_id"),
                    [&mac],
                    from_row,
                )
                .optional()
                .map_err(Error::db("looking up computers"))?;
            if let Some(row) = row {
                return finish(row).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_macs_normalise() {
        assert_eq!(
            normalize_guid("{4c4c4544-0042-3510-8052-b4c04f564433}").unwrap(),
            "4C4C4544-0042-3510-8052-B4C04F564433"
        );
        assert_eq!(
            normalize_guid(
                "4C4C454400423510 8052B4C04F564433"
                    .replace(' ', "")
                    .as_str()
            )
            .unwrap(),
            "4C4C4544-0042-3510-8052-B4C04F564433"
        );
        for bad in [
            "",
            "4C4C4544-0042-3510-8052",
            "4C4C4544-0042-3510-8052-B4C04F56443G",
            "4C4C45440-042-3510-8052-B4C04F564433",
        ] {
            assert!(normalize_guid(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            normalize_mac("00-15-5d-01-02-03").unwrap(),
            "00:15:5D:01:02:03"
        );
        assert_eq!(normalize_mac("00155D010203").unwrap(), "00:15:5D:01:02:03");
        for bad in [
            "",
            "00:15:5D:01:02",
            "00:15:5D:01:02:0G",
            "00:15:5D:01:02:03:04",
        ] {
            assert!(normalize_mac(bad).is_err(), "{bad:?} accepted");
        }
    }
}
