//! Fuzzes the WIM reader end to end: open, XML info, every image's dentry tree, every blob's
//! data (SHA-1 checked) and `verify`. Any error is fine; a panic, hang or huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use tsmedia_wim::Wim;
use tsmedia_wim::ops;
use tsmedia_wim::write::NoProgress;

/// Bytes read per blob at most, so a small input claiming a huge blob stays fast.
const BLOB_CAP: u64 = 4 << 20;

/// One scratch file per fuzzing process, on tmpfs, rewritten for every input.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm".into()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("tsmedia-fuzz-wim-{}.wim", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let Ok(wim) = Wim::open(path) else { return };
    let _ = wim.info();
    for i in 1..=wim.image_count().min(8) {
        let _ = wim.image_xml(i);
        if let Ok(img) = ops::load_image(&wim, i) {
            let mut n = 0u64;
            img.root.walk(&mut |stack, d| {
                n += stack.len() as u64 + d.name.len() as u64;
            });
            let _ = img.counts();
            let _ = img.to_bytes();
        }
    }
    let hashes: Vec<_> = wim.blobs.keys().copied().collect();
    for h in hashes {
        if let Ok(r) = wim.open_blob(&h, true) {
            let mut sink = Vec::new();
            let _ = r.take(BLOB_CAP).read_to_end(&mut sink);
        }
    }
    let _ = ops::verify(&wim, &NoProgress);
});
