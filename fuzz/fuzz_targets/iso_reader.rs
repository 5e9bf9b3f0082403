//! Fuzzes the ISO reader the runtime opens boot media with (`client run --media X.iso`, the
//! PE finding its disc): volume descriptors, Joliet root, the whole directory tree, the
//! media's small files read whole and every file streamed. Any error is fine; a panic, hang
//! or huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use tsmedia_image::iso::IsoReader;

/// Files streamed per input at most.
const FILES: usize = 256;

/// One scratch file per fuzzing process, on tmpfs, rewritten for every input (the reader
/// opens a path).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm".into()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("tsmedia-fuzz-iso-{}.iso", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let Ok(mut iso) = IsoReader::open(path) else {
        return;
    };
    for small in [
        "MediaLabel.txt",
        "SMS/data/TsmBootstrap.ini",
        "SMS/data/Variables.dat",
    ] {
        if let Ok(Some(e)) = iso.find(small) {
            if !e.is_dir {
                let _ = iso.read(&e);
            }
        }
    }
    let Ok(entries) = iso.walk_entries() else {
        return;
    };
    for (_, e) in entries.iter().filter(|(_, e)| !e.is_dir).take(FILES) {
        let _ = iso.copy_to(e, &mut std::io::sink());
    }
});
