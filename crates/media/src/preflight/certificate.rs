//! Dates: the stand-alone validity window and the media certificate (self-signed with the given
//! validity, or a PKI certificate imported from a PFX). Expired or inverted ranges are found
//! here rather than at boot.

use super::Checker;
use crate::certificate::{self, MediaCertificate};
use crate::spec::MediaSpec;

/// Parses a date option, recording a failure when it is not a date.
fn date(c: &mut Checker, opt: &str, v: &Option<String>) -> Option<i64> {
    let v = v.as_ref()?;
    let t = certificate::parse_date(v);
    if t.is_none() {
        c.fail(
            opt,
            format!("{v:?} is not a date"),
            "use YYYY-MM-DD or RFC 3339",
        );
    }
    t
}

/// Checks `--start-date`/`--expiration-date` (stand-alone media validity).
pub(super) fn check_window(c: &mut Checker, spec: &MediaSpec) {
    if let (Some(s), Some(e)) = (
        date(c, "--start-date", &spec.start_date),
        date(c, "--expiration-date", &spec.expiration_date),
    ) && s >= e
    {
        c.fail(
            "--expiration-date",
            "is not after --start-date",
            "choose a later expiration date",
        );
    }
}

/// The media certificate: imported from `--pfx` or made self-signed. `now` is the build time.
/// `reproducible`: the build's clock is fixed, so no fresh randomness may go into it.
pub(super) fn check(
    c: &mut Checker,
    spec: &MediaSpec,
    now: i64,
    reproducible: bool,
) -> Option<MediaCertificate> {
    if let Some(pfx) = &spec.pfx {
        if spec.self_signed_cert {
            c.fail(
                "--pfx",
                "given together with --self-signed-cert",
                "choose one",
            );
            return None;
        }
        return match certificate::import_pfx(pfx, spec.pfx_password.as_deref().unwrap_or("")) {
            Ok(cert) if cert.not_after <= now => {
                c.fail(
                    format!("certificate {}", pfx.display()),
                    "has expired",
                    "give a valid certificate",
                );
                None
            }
            Ok(cert) => {
                c.pass(format!("media certificate {} imported", cert.subject));
                Some(cert)
            }
            Err(e) => {
                c.fail(
                    format!("--pfx {}", pfx.display()),
                    e.to_string(),
                    "give the PFX with its key and the right --pfx-password",
                );
                None
            }
        };
    }
    if reproducible {
        c.fail(
            "--self-signed-cert",
            "a reproducible build cannot make a new self-signed certificate (its key must be fresh randomness)",
            "create the certificate once and pass it with --pfx FILE",
        );
        return None;
    }
    let start = date(c, "--cert-start", &spec.cert_start).unwrap_or(now - 300);
    let expire = date(c, "--cert-expire", &spec.cert_expire).unwrap_or(start + 365 * 86_400);
    if expire <= start {
        c.fail(
            "--cert-expire",
            "is not after --cert-start",
            "choose a later expiry",
        );
        return None;
    }
    if expire <= now {
        c.fail("--cert-expire", "is in the past", "choose a future expiry");
        return None;
    }
    if !c.failures.is_empty() {
        // A certificate is registered at the site; make none for a build that will not run.
        return None;
    }
    match certificate::self_signed("tsmedia media certificate", start, expire) {
        Ok(cert) => {
            c.pass("self-signed media certificate created");
            Some(cert)
        }
        Err(e) => {
            c.fail("media certificate", e.to_string(), "report this");
            None
        }
    }
}
