//! Fuzzes `SMS/data/ContentManifest.json` as the runtime reads it (after its hash matched the
//! sealed media variables — but the parser must hold up anyway): JSON, format, and every file
//! path checked to stay inside its package folder. Any error is fine; a panic, hang or huge
//! allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tsmedia_mediafmt::ContentManifest;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = ContentManifest::parse(data, Path::new("ContentManifest.json")) else {
        return;
    };
    for p in &m.packages {
        let _ = m.package(&p.package_id);
        for f in &p.files {
            let _ = p.relative_path(f);
        }
    }
    let _ = ContentManifest::hash_of(&m.to_json());
});
