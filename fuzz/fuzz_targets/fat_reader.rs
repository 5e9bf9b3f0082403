//! Fuzzes the disk and FAT readers (`media inspect` and `client run --media` read USB images
//! and staged disks given by users): partition table, boot sector, label, the whole directory
//! tree and every file's data. Any error is fine; a panic, hang or huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use tsmedia_image::disk::open_fat_volume;

/// Bytes read per file at most, so a small input claiming a huge file stays fast.
const FILE_CAP: usize = 1 << 20;
/// Files read per input at most.
const FILES: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Ok((mut volume, _partition)) = open_fat_volume(Cursor::new(data)) else {
        return;
    };
    let _ = volume.label();
    let Ok(entries) = volume.walk("") else { return };
    let mut buf = [0u8; 4096];
    for (path, entry) in entries.iter().filter(|(_, e)| !e.is_dir()).take(FILES) {
        let _ = volume.find(path);
        let Ok(mut file) = volume.open_file(entry, path) else {
            continue;
        };
        let mut read = 0;
        while read < FILE_CAP {
            match file.read_some(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    }
});
