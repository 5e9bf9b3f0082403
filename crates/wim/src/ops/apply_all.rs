//! Apply of every image of a WIM, each to its own folder.

use crate::apply::ApplyReport;
use crate::error::Result;
use crate::read::Wim;
use std::path::Path;

/// Applies every image to `target/<image name>` (wimlib's `apply WIM all TARGET`).
pub fn apply_all(
    wim: &Wim,
    target: &Path,
    opts: &crate::apply::ApplyOptions,
) -> Result<ApplyReport> {
    let mut total = ApplyReport::default();
    for i in 1..=wim.image_count() {
        let name = wim
            .image_xml(i)
            .and_then(|e| e.get("NAME"))
            .unwrap_or("")
            .to_string();
        let dir =
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
                i.to_string()
            } else {
                name
            };
        let r = crate::apply::apply(wim, i, &target.join(dir), opts)?;
        total.dirs += r.dirs;
        total.files += r.files;
        total.symlinks += r.symlinks;
        total.bytes += r.bytes;
        total.warnings.extend(r.warnings);
    }
    Ok(total)
}
