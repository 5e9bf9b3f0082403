//! The media certificate as the builder makes it: self-signed (ECDSA P-256, rcgen) or a PKI
//! certificate imported from a PFX. Its PFX (certificate and key) is what `_SMSTSMediaPFX`
//! carries, hex-encoded, as Configuration Manager does; the runtime opens it with
//! `tsmedia-mediafmt` ([`open_pfx`], re-exported here with the date and validity readers).

use std::path::Path;

use p12_keystore::{
    Certificate as P12Cert, KeyStore, KeyStoreEntry, Pkcs12ImportPolicy, PrivateKey,
    PrivateKeyChain,
};
use time::OffsetDateTime;
pub use tsmedia_mediafmt::certificate::{open_pfx, parse_date, thumbprint, validity};

use crate::error::{Error, Result};

/// A media certificate ready to embed.
#[derive(Clone)]
pub struct MediaCertificate {
    /// DER of the certificate (what the site registers).
    pub der: Vec<u8>,
    /// PKCS#12 holding certificate and key.
    pub pfx: Vec<u8>,
    /// Password of `pfx` (empty for self-signed media certificates, which are protected by
    /// Variables.dat's encryption instead).
    pub pfx_password: String,
    /// Validity start, UNIX seconds.
    pub not_before: i64,
    /// Validity end, UNIX seconds.
    pub not_after: i64,
    /// Subject, as text.
    pub subject: String,
}

impl std::fmt::Debug for MediaCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaCertificate")
            .field("subject", &self.subject)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn err(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Certificate(format!("{what}: {e}"))
}

/// Creates a self-signed media certificate valid from `not_before` to `not_after` (UNIX
/// seconds), subject `CN=<common_name>`.
pub fn self_signed(common_name: &str, not_before: i64, not_after: i64) -> Result<MediaCertificate> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| err("parameters")(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.not_before = OffsetDateTime::from_unix_timestamp(not_before)
        .map_err(|e| err("start date")(e.to_string()))?;
    params.not_after = OffsetDateTime::from_unix_timestamp(not_after)
        .map_err(|e| err("expiry date")(e.to_string()))?;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| err("key")(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| err("signing")(e.to_string()))?;
    let der = cert.der().to_vec();
    let pfx = to_pfx(&der, &key.serialize_der(), "")?;
    Ok(MediaCertificate {
        subject: format!("CN={common_name}"),
        der,
        pfx,
        pfx_password: String::new(),
        not_before,
        not_after,
    })
}

fn to_pfx(cert_der: &[u8], key_pkcs8: &[u8], password: &str) -> Result<Vec<u8>> {
    let key = PrivateKey::from_der(key_pkcs8).map_err(|e| err("PKCS#8 key")(e.to_string()))?;
    let cert = P12Cert::from_der(cert_der).map_err(|e| err("certificate")(e.to_string()))?;
    let chain = PrivateKeyChain::new(b"tsmedia media certificate".to_vec(), key, [cert]);
    let mut ks = KeyStore::new();
    ks.add_entry("media", KeyStoreEntry::PrivateKeyChain(chain));
    ks.writer(password)
        .write()
        .map_err(|e| err("writing PFX")(e.to_string()))
}

/// Imports a PFX: checks the password, that it holds a key with its certificate, and reads
/// the validity. The PFX bytes are embedded unchanged.
pub fn import_pfx(path: &Path, password: &str) -> Result<MediaCertificate> {
    let pfx = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let ks = KeyStore::from_pkcs12(&pfx, password, Pkcs12ImportPolicy::Relaxed).map_err(|e| {
        Error::Certificate(format!(
            "{}: cannot open the PFX (wrong --pfx-password?): {e}",
            path.display()
        ))
    })?;
    let (_, chain) = ks.private_key_chain().ok_or_else(|| {
        Error::Certificate(format!(
            "{}: the PFX holds no private key with its certificate",
            path.display()
        ))
    })?;
    let cert = chain.certs().first().ok_or_else(|| {
        Error::Certificate(format!("{}: the PFX holds no certificate", path.display()))
    })?;
    let der = cert.as_der().to_vec();
    let (not_before, not_after, subject) = validity(&der)?;
    Ok(MediaCertificate {
        der,
        pfx,
        pfx_password: password.to_string(),
        not_before,
        not_after,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_round_trips_through_pfx_import() {
        let c = self_signed("tsmedia test", 1_700_000_000, 1_800_000_000).unwrap();
        let (nb, na, subject) = validity(&c.der).unwrap();
        assert_eq!((nb, na), (1_700_000_000, 1_800_000_000));
        assert!(subject.contains("tsmedia test"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.pfx");
        std::fs::write(&p, &c.pfx).unwrap();
        let back = import_pfx(&p, "").unwrap();
        assert_eq!(back.der, c.der);
        assert!(import_pfx(&p, "wrong").is_err());
        let (der, key) = open_pfx(&c.pfx, "").unwrap();
        assert_eq!(der, c.der);
        assert!(!key.is_empty());
        assert!(open_pfx(&c.pfx, "wrong").is_err());
    }
}
