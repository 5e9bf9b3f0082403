//! SHA-1 digests: how WIM names every blob (single-instance storage).

use std::fmt;

/// A SHA-1 digest. All zeros means "no data" (an empty stream).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha1(pub [u8; 20]);

impl Sha1 {
    /// The all-zero digest: no data.
    pub const ZERO: Sha1 = Sha1([0; 20]);

    /// Whether this is [`Sha1::ZERO`] (an empty stream).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }

    /// The SHA-1 of `data`.
    pub fn of(data: &[u8]) -> Sha1 {
        use sha1::Digest;
        Sha1(sha1::Sha1::digest(data).into())
    }

    /// The digest in the first 20 bytes of `b` (which must be at least 20 bytes long).
    pub fn from_slice(b: &[u8]) -> Sha1 {
        Sha1(b[..20].try_into().expect("caller passes 20 bytes"))
    }

    /// The digest in lowercase hex, as wimlib prints it.
    pub fn hex(&self) -> String {
        tsmedia_base::digest::hex(&self.0)
    }
}

impl fmt::Debug for Sha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Display for Sha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Incremental SHA-1.
#[derive(Clone, Default)]
pub struct Hasher(sha1::Sha1);

impl Hasher {
    /// Hashes `data` after what came before.
    pub fn update(&mut self, data: &[u8]) {
        use sha1::Digest;
        self.0.update(data);
    }

    /// The digest of everything hashed.
    pub fn finish(self) -> Sha1 {
        use sha1::Digest;
        Sha1(self.0.finalize().into())
    }
}
