//! Recognising an NTFS volume by its boot sector.
//!
//! An NTFS boot sector carries the OEM identifier `"NTFS    "` (eight bytes, four spaces) at
//! offset 3 and the signature `55 AA` at offset 510 (`docs/ntfs.md`, "Detecting a volume").

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

/// The OEM identifier of an NTFS boot sector, at offset 3.
pub const OEM_ID: &[u8; 8] = b"NTFS    ";

/// Whether the 512-byte `sector` is an NTFS boot sector.
pub fn is_ntfs_boot_sector(sector: &[u8]) -> bool {
    sector.len() >= 512 && &sector[3..11] == OEM_ID && sector[510..512] == [0x55, 0xAA]
}

/// Whether `path` (a block device or a file) holds an NTFS volume starting at byte `offset`.
/// A file too short to hold a boot sector is not one.
pub fn is_ntfs(path: &Path, offset: u64) -> Result<bool> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut sector = [0u8; 512];
    match f.read_exact(&mut sector) {
        Ok(()) => Ok(is_ntfs_boot_sector(&sector)),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(io(e)),
    }
}

/// Whether `path` is a target an apply writes as an NTFS volume (what wimlib does): a block
/// device, or a regular file that holds an NTFS volume. A missing path or a directory is not.
pub fn is_ntfs_target(path: &Path) -> Result<bool> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(false);
    };
    let t = meta.file_type();
    if t.is_block_device() {
        return Ok(true);
    }
    if t.is_file() {
        return is_ntfs(path, 0);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(oem: &[u8; 8], sig: [u8; 2]) -> Vec<u8> {
        let mut s = vec![0u8; 512];
        s[0..3].copy_from_slice(&[0xEB, 0x52, 0x90]);
        s[3..11].copy_from_slice(oem);
        s[510..].copy_from_slice(&sig);
        s
    }

    #[test]
    fn boot_sectors_are_recognised_by_oem_id_and_signature() {
        let cases: [(&[u8; 8], [u8; 2], bool); 4] = [
            (b"NTFS    ", [0x55, 0xAA], true),
            (b"MSDOS5.0", [0x55, 0xAA], false),
            (b"NTFS    ", [0, 0], false),
            (b"ntfs    ", [0x55, 0xAA], false),
        ];
        for (oem, sig, want) in cases {
            assert_eq!(is_ntfs_boot_sector(&sector(oem, sig)), want, "{oem:?}");
        }
        assert!(!is_ntfs_boot_sector(&[0u8; 100]));
    }

    #[test]
    fn files_are_probed_at_an_offset_and_short_files_are_not_ntfs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        let mut data = vec![0u8; 1024];
        data[512..].copy_from_slice(&sector(OEM_ID, [0x55, 0xAA]));
        std::fs::write(&p, &data).unwrap();
        assert!(!is_ntfs(&p, 0).unwrap());
        assert!(is_ntfs(&p, 512).unwrap());
        assert!(!is_ntfs(&p, 1000).unwrap());
        assert!(!is_ntfs_target(&p).unwrap());
        assert!(!is_ntfs_target(dir.path()).unwrap());
        assert!(!is_ntfs_target(&dir.path().join("missing")).unwrap());
    }
}
