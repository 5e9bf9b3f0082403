//! SHA-1 digests: how WIM names every blob (single-instance storage).

use std::fmt;

/// A SHA-1 digest. All zeros means "no data" (an empty stream).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha1(pub [u8; 20]);

impl Sha1 {
    pub const ZERO: Sha1 = Sha1([0; 20]);

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }

    pub fn of(data: &[u8]) -> Sha1 {
        use sha1::Digest;
        Sha1(sha1::Sha1::digest(data).into())
    }

    pub fn from_slice(b: &[u8]) -> Sha1 {
        Sha1(b[..20].try_into().expect("caller passes 20 bytes"))
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
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
    pub fn update(&mut self, data: &[u8]) {
        use sha1::Digest;
        self.0.update(data);
    }

    pub fn finish(self) -> Sha1 {
        use sha1::Digest;
        Sha1(self.0.finalize().into())
    }
}
