//! A metadata resource: the security data and the dentry tree of one image.

use crate::dentry::{self, Dentry};
use crate::error::Result;
use crate::security::SecurityData;

/// One image's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// The security descriptors dentries refer to.
    pub security: SecurityData,
    /// The root directory; its name is empty.
    pub root: Dentry,
}

impl Image {
    /// Parses an uncompressed metadata resource of 1-based image `image`.
    pub fn parse(data: &[u8], image: u32) -> Result<Image> {
        let (security, root_offset) = SecurityData::parse(data, image)?;
        let root = dentry::parse_tree(data, root_offset, image)?;
        Ok(Image { security, root })
    }

    /// The metadata resource as stored, uncompressed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.security.write(&mut out);
        let base = out.len();
        dentry::write_tree(&self.root, base, &mut out);
        out
    }

    /// Directory and file counts as the XML data reports them (the root counts as a directory;
    /// every hard link and every symlink, directory symlinks included, counts as a file).
    pub fn counts(&self) -> (u64, u64) {
        let (mut dirs, mut files) = (0, 0);
        self.root.walk(&mut |_, d| {
            if d.is_dir() && !d.is_reparse_point() {
                dirs += 1
            } else {
                files += 1
            }
        });
        (dirs, files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dentry::{UnixData, attr};
    use crate::sha1::Sha1;

    fn name(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn sample() -> Image {
        let file = |n: &str, h: u8| Dentry {
            name: name(n),
            attributes: attr::NORMAL,
            security_id: -1,
            data: Sha1([h; 20]),
            last_write_time: 132_000_000_000_000_000 + h as u64,
            unix: Some(UnixData {
                uid: 1,
                gid: 2,
                mode: 0o100644,
                rdev: 0,
            }),
            ..Dentry::default()
        };
        let mut link = Dentry {
            name: name("link"),
            attributes: attr::REPARSE_POINT,
            reparse_tag: dentry::IO_REPARSE_TAG_SYMLINK,
            rp_flags: 1,
            security_id: 0,
            reparse_data: Sha1([9; 20]),
            ..Dentry::default()
        };
        link.tagged_items.push((dentry::TAG_OBJECT_ID, vec![5; 16]));
        let mut ads = file("ads.txt", 3);
        ads.named_streams
            .push((name("Zone.Identifier"), Sha1([4; 20])));
        ads.short_name = name("ADS~1.TXT");
        let sub = Dentry {
            name: name("sub dir é"),
            attributes: attr::DIRECTORY,
            security_id: -1,
            children: vec![file("a", 1), file("b", 1)],
            ..Dentry::default()
        };
        let empty = Dentry {
            name: name("empty"),
            attributes: attr::DIRECTORY,
            ..Dentry::default()
        };
        let root = Dentry {
            attributes: attr::DIRECTORY,
            security_id: -1,
            children: vec![ads, empty, link, sub, file("z", 2)],
            ..Dentry::default()
        };
        Image {
            security: SecurityData {
                descriptors: vec![vec![1, 0, 4, 0x80, 0, 0, 0, 0]],
            },
            root,
        }
    }

    #[test]
    fn round_trip() {
        let img = sample();
        let bytes = img.to_bytes();
        let back = Image::parse(&bytes, 1).expect("valid");
        assert_eq!(back, img);
        assert_eq!(img.counts(), (3, 5));
    }

    #[test]
    fn truncations_are_errors_not_panics() {
        let bytes = sample().to_bytes();
        for n in 0..bytes.len() {
            let _ = Image::parse(&bytes[..n], 1);
        }
    }
}
