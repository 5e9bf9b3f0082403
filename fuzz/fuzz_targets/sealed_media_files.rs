//! Fuzzes what the runtime opens from `Variables.dat` and `policy.xml` at boot: the sealed
//! container (header, version, key source, the stored key of unprotected media, the AEAD and
//! synthetic-IV checks) and the plaintexts behind it — the media variables XML (UTF-16LE) and
//! the task sequence policy XML. The password path is not fuzzed here: it derives an Argon2id
//! key (up to the 1 GiB the header may ask for) per input; its header bounds are unit-tested.
//! Any error is fine; a panic, hang or huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_mediafmt::{secret, variables};

fuzz_target!(|data: &[u8]| {
    // Unprotected media, and protected media opened without a password (refused before
    // deriving).
    if let Ok(plain) = secret::open(data, None, "Variables.dat") {
        let _ = variables::from_xml(&plain);
    }
    let _ = secret::open_protected(data, None, true, "policy.xml");
    // The plaintexts as such.
    if let Ok(vars) = variables::from_xml(data) {
        for v in vars
            .iter()
            .filter(|v| v.name == variables::SITE_KEY_VARIABLE)
        {
            let _ = variables::parse_site_key(&v.value);
        }
    }
    let _ = tsmedia_tasksequence::TaskSequence::from_xml_bytes(data);
});
