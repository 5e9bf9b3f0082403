//! Root certificates for HTTPS management and distribution points: a CA file in PEM (one or
//! more `CERTIFICATE` blocks, as `--ca-cert` takes) or a single DER certificate.

use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::error::{Error, IoContext, Result};

/// The certificates (DER) of a CA file: PEM `CERTIFICATE` blocks, or one DER certificate.
pub fn read_ca_file(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).at(path)?;
    parse_ca(&bytes).map_err(|reason| Error::Media(format!("{}: {reason}", path.display())))
}

/// [`read_ca_file`] on bytes.
pub fn parse_ca(bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        // DER: a SEQUENCE.
        return Ok(vec![bytes.to_vec()]);
    }
    let certs = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block (expected PEM: -----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_der() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["mp.test".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = cert.der().to_vec();
        let two = format!("{}{}", cert.pem(), cert.pem());
        assert_eq!(
            parse_ca(two.as_bytes()).unwrap(),
            vec![der.clone(), der.clone()]
        );
        assert_eq!(parse_ca(&der).unwrap(), vec![der]);
        assert!(parse_ca(b"hello").is_err());
        assert!(
            parse_ca(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }
}
