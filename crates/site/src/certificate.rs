//! Media certificates registered at the site; a blocked certificate makes the site refuse the
//! media that carry it.

use std::path::Path;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::site::Site;
use crate::time::{Timestamp, now};

/// A registered media certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// Thumbprint: SHA-1 of the DER encoding, upper-case hex (as Windows shows it).
    pub id: String,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity (media stop working after it).
    pub not_after: Timestamp,
    /// Whether the site refuses media using it.
    pub blocked: bool,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// When it was blocked, if it is.
    pub blocked_at: Option<Timestamp>,
    /// Whether media with this certificate may run unknown computers, as recorded when they
    /// were built ([`Site::record_media`]); the management point decides from this, not
    /// from what the media ask.
    pub allow_unknown: bool,
    /// The principal distribution points check this media's requests as (`None`:
    /// [`DEFAULT_PRINCIPAL`]), as recorded when the media were built.
    pub principal: Option<String>,
}

/// The principal of media whose record names none.
pub const DEFAULT_PRINCIPAL: &str = "Everyone";

impl Certificate {
    /// The principal distribution points check requests signed with this certificate as.
    pub fn dp_principal(&self) -> &str {
        self.principal.as_deref().unwrap_or(DEFAULT_PRINCIPAL)
    }
}

/// Thumbprints compare without case, spaces or colons.
fn normalize_thumbprint(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | ':'))
        .collect::<String>()
        .to_ascii_uppercase()
}

const COLUMNS: &str = "thumbprint, subject, issuer, serial, not_before, not_after, blocked, registered_at, blocked_at, allow_unknown, principal";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Certificate> {
    Ok(Certificate {
        id: r.get(0)?,
        subject: r.get(1)?,
        issuer: r.get(2)?,
        serial: r.get(3)?,
        not_before: Timestamp(r.get(4)?),
        not_after: Timestamp(r.get(5)?),
        blocked: r.get(6)?,
        registered_at: Timestamp(r.get(7)?),
        blocked_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
        allow_unknown: r.get(9)?,
        principal: r.get(10)?,
    })
}

impl Site {
    /// Registers a media certificate given as DER.
    pub fn register_certificate(&mut self, der: &[u8]) -> Result<Certificate> {
        // The runtime names its certificate with the same function in every signed request.
        let thumbprint = tsmedia_base::digest::thumbprint(der);
        let (rest, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| Error::Certificate {
                name: thumbprint.clone(),
                reason: format!("not an X.509 certificate: {e}"),
            })?;
        if !rest.is_empty() {
            return Err(Error::Certificate {
                name: thumbprint,
                reason: format!("{} bytes after the certificate", rest.len()),
            });
        }
        let validity = cert.validity();
        let tx = self.transaction("registering a certificate")?;
        let exists: bool = tx
            .query_row(
                "SELECT COUNT(*) FROM certificates WHERE thumbprint = ?1",
                [&thumbprint],
                |r| r.get(0),
            )
            .map_err(Error::db("looking up certificates"))?;
        if exists {
            return Err(Error::Duplicate {
                kind: "certificate",
                name: thumbprint.clone(),
                existing: "already registered".into(),
            });
        }
        tx.execute(
            "INSERT INTO certificates (thumbprint, subject, issuer, serial, not_before, not_after, der, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                thumbprint,
                cert.subject().to_string(),
                cert.issuer().to_string(),
                cert.raw_serial_as_string().replace(':', "").to_ascii_uppercase(),
                validity.not_before.timestamp(),
                validity.not_after.timestamp(),
                der,
                now()
            ],
        )
        .map_err(Error::db(format!("registering certificate {thumbprint}")))?;
        tx.commit()
            .map_err(Error::db(format!("registering certificate {thumbprint}")))?;
        self.certificate(&thumbprint)
    }

    /// Registers a media certificate from a PEM or DER file.
    pub fn register_certificate_file(&mut self, path: &Path) -> Result<Certificate> {
        let data = std::fs::read(path).map_err(Error::io(path))?;
        let der = if data.starts_with(b"-----BEGIN") {
            let (_, pem) =
                x509_parser::pem::parse_x509_pem(&data).map_err(|e| Error::Certificate {
                    name: path.display().to_string(),
                    reason: format!("not a PEM certificate: {e}"),
                })?;
            pem.contents
        } else {
            data
        };
        self.register_certificate(&der).map_err(|e| match e {
            Error::Certificate { reason, .. } => Error::Certificate {
                name: path.display().to_string(),
                reason,
            },
            other => other,
        })
    }

    /// The certificate with this thumbprint.
    pub fn certificate(&self, thumbprint: &str) -> Result<Certificate> {
        let t = normalize_thumbprint(thumbprint);
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM certificates WHERE thumbprint = ?1"),
                [&t],
                from_row,
            )
            .optional()
            .map_err(Error::db(format!("reading certificate {t}")))?
            .ok_or_else(|| Error::not_found("certificate", t))
    }

    /// The DER encoding of a registered certificate.
    pub fn certificate_der(&self, thumbprint: &str) -> Result<Vec<u8>> {
        let t = normalize_thumbprint(thumbprint);
        self.conn
            .query_row(
                "SELECT der FROM certificates WHERE thumbprint = ?1",
                [&t],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db(format!("reading certificate {t}")))?
            .ok_or_else(|| Error::not_found("certificate", t))
    }

    /// Every registered certificate, by registration time.
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        self.conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM certificates ORDER BY registered_at, thumbprint"
            ))
            .and_then(|mut s| s.query_map([], from_row)?.collect())
            .map_err(Error::db("listing certificates"))
    }

    /// Blocks (`true`) or unblocks (`false`) a certificate.
    pub fn set_certificate_blocked(
        &mut self,
        thumbprint: &str,
        blocked: bool,
    ) -> Result<Certificate> {
        let t = self.certificate(thumbprint)?.id;
        let tx = self.transaction("blocking a certificate")?;
        tx.execute(
            "UPDATE certificates SET blocked = ?2, blocked_at = ?3 WHERE thumbprint = ?1",
            params![t, blocked, blocked.then(now)],
        )
        .map_err(Error::db(format!("updating certificate {t}")))?;
        tx.commit()
            .map_err(Error::db(format!("updating certificate {t}")))?;
        self.certificate(&t)
    }

    /// Records what media built with this (registered) certificate may do: run unknown
    /// computers, and read distribution points as `principal` (`None`: [`DEFAULT_PRINCIPAL`]).
    /// The media builder calls it; the last build with a certificate decides.
    pub fn record_media(
        &mut self,
        thumbprint: &str,
        allow_unknown: bool,
        principal: Option<&str>,
    ) -> Result<Certificate> {
        let t = self.certificate(thumbprint)?.id;
        let principal = principal.map(str::trim).filter(|p| !p.is_empty());
        let tx = self.transaction("recording media")?;
        tx.execute(
            "UPDATE certificates SET allow_unknown = ?2, principal = ?3 WHERE thumbprint = ?1",
            params![t, allow_unknown, principal],
        )
        .map_err(Error::db(format!("recording media of certificate {t}")))?;
        tx.commit()
            .map_err(Error::db(format!("recording media of certificate {t}")))?;
        self.certificate(&t)
    }

    /// Whether media using this certificate must be refused: it is blocked, or unknown here.
    pub fn certificate_refused(&self, thumbprint: &str) -> Result<bool> {
        match self.certificate(thumbprint) {
            Ok(c) => Ok(c.blocked),
            Err(Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(e),
        }
    }
}
