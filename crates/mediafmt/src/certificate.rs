//! The media certificate as the runtime needs it. `_SMSTSMediaPFX` carries its PFX
//! (certificate and private key), hex-encoded, as Configuration Manager does; the runtime
//! opens it ([`open_pfx`]) to sign its requests to the management point, and both the site
//! (registering the certificate) and the runtime (naming it in each request) identify it by
//! its [`thumbprint`]. Creating a self-signed certificate and importing a PKI PFX are the
//! builder's (`tsmedia-media`).

use p12_keystore::{KeyStore, Pkcs12ImportPolicy};

use crate::error::{Error, Result};

/// SHA-1 thumbprint of a DER certificate, upper-case hex, as Windows shows it: the site's
/// certificate ID and the `X-Tsmedia-Cert` header of signed requests.
pub fn thumbprint(cert_der: &[u8]) -> String {
    tsmedia_base::digest::thumbprint(cert_der)
}

/// Opens a PFX (as `_SMSTSMediaPFX` carries it, decoded from hex): the certificate (DER) and
/// its PKCS#8 private key (DER), what the runtime signs its requests with.
pub fn open_pfx(pfx: &[u8], password: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let ks = KeyStore::from_pkcs12(pfx, password, Pkcs12ImportPolicy::Relaxed).map_err(|e| {
        Error::Certificate(format!(
            "cannot open the media PFX (wrong PFX password?): {e}"
        ))
    })?;
    let (_, chain) = ks.private_key_chain().ok_or_else(|| {
        Error::Certificate("the media PFX holds no private key with its certificate".into())
    })?;
    let cert = chain
        .certs()
        .first()
        .ok_or_else(|| Error::Certificate("the media PFX holds no certificate".into()))?;
    Ok((cert.as_der().to_vec(), chain.key().as_der().to_vec()))
}

/// Validity (UNIX seconds) and subject of a DER certificate.
pub fn validity(der: &[u8]) -> Result<(i64, i64, String)> {
    let (_, c) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| Error::Certificate(format!("not an X.509 certificate: {e}")))?;
    Ok((
        c.validity().not_before.timestamp(),
        c.validity().not_after.timestamp(),
        c.subject().to_string(),
    ))
}

/// Parses `YYYY-MM-DD` (midnight UTC) or RFC 3339 into UNIX seconds: the media's start and
/// expiration dates (`_SMSTSMediaStartDate`, `_SMSTSMediaExpirationDate`) and the
/// certificate window the builder is given.
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(d) = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
        return Some(d.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(t, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400));
        assert_eq!(parse_date("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn thumbprint_is_upper_hex_sha1_and_validity_reads_back() {
        // SHA-1 of the empty input, a known vector.
        assert_eq!(thumbprint(b""), "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["media".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        let (nb, na, _) = validity(cert.der()).unwrap();
        assert_eq!((nb, na), (1_704_067_200, 1_893_456_000));
        assert!(validity(b"junk").is_err());
        assert!(open_pfx(b"junk", "").is_err());
    }
}
