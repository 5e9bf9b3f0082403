//! Fuzzes the metadata resource parser (security data + dentry tree): a successful parse must
//! serialise and parse back to the same image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_wim::metadata::Image;

fuzz_target!(|data: &[u8]| {
    let Ok(img) = Image::parse(data, 1) else {
        return;
    };
    let bytes = img.to_bytes();
    let back = Image::parse(&bytes, 1).expect("a parsed image serialises to a parsable one");
    assert_eq!(back, img, "metadata round trip changed the image");
});
