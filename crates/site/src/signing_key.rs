//! The site's signing key: an Ed25519 key with which the management point signs every answer
//! (scheme in `tsmedia-protocol`'s `reply` module). The media builder puts its public key into
//! the sealed `Variables.dat`, and the runtime accepts only answers signed with it.
//!
//! Kept as PKCS#8 in `<site>/site-signing-key.p8`, readable by its owner only (it is the site's
//! one secret: whoever has it can tell media what to run). Made with the site; sites created
//! before it existed get one on first use (the first media build or server start).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::error::{Error, Result};
use crate::site::Site;

/// File name of the key inside the site folder.
pub const SIGNING_KEY_FILE: &str = "site-signing-key.p8";

impl Site {
    /// The site's signing key (PKCS#8 Ed25519), made and stored on first use.
    pub fn signing_key_pkcs8(&self) -> Result<Vec<u8>> {
        let path = self.dir().join(SIGNING_KEY_FILE);
        match fs::read(&path) {
            Ok(der) => {
                check(&der, &path)?;
                Ok(der)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    /// The public half of [`Site::signing_key_pkcs8`]: what the media carry.
    pub fn signing_public_key(&self) -> Result<[u8; 32]> {
        let der = self.signing_key_pkcs8()?;
        let path = self.dir().join(SIGNING_KEY_FILE);
        let pair = check(&der, &path)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(pair.public_key().as_ref());
        Ok(out)
    }
}

fn check(der: &[u8], path: &Path) -> Result<Ed25519KeyPair> {
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|e| {
        Error::invalid(
            format!("site signing key {}", path.display()),
            format!("not a PKCS#8 Ed25519 key: {e}"),
        )
    })
}

/// Writes a new key beside `path` and links it into place, so a concurrent reader sees no key
/// or the whole key, and two creators agree on the first one linked.
fn create(path: &Path) -> Result<Vec<u8>> {
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| Error::invalid("site signing key", "no randomness to make one"))?
        .as_ref()
        .to_vec();
    let tmp = PathBuf::from(format!("{}.tmp-{}", path.display(), std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(&der).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Io {
            path: tmp,
            source: e,
        });
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(der),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::read(path).map_err(Error::io(path))
        }
        Err(e) => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_private_and_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let site = Site::init(&tmp.path().join("s"), "PS1", None).unwrap();
        let key = site.signing_public_key().unwrap();
        assert_eq!(site.signing_public_key().unwrap(), key);
        let path = site.dir().join(SIGNING_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        fs::write(&path, b"junk").unwrap();
        assert!(site.signing_key_pkcs8().is_err());
    }
}
