//! tsmedia PE as a boot image: a one-image WIM holding the PE's files and `tsmedia-pe.json`,
//! which says what the image is (flavour, architecture, kernel, packages) to the site and the
//! media builder.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::metadata::Image;
use tsmedia_wim::security::SecurityData;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, WimWriter, WriteOptions};

use crate::build::PeBuild;
use crate::error::Result;

/// The description file's path in the image.
pub const DESCRIPTION_PATH: &str = "tsmedia-pe.json";

/// The flavour name of a tsmedia PE boot image.
pub const FLAVOUR: &str = "tsmedia-pe";

/// What `tsmedia-pe.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeDescription {
    /// Always [`FLAVOUR`].
    pub flavour: String,
    /// `amd64`.
    pub arch: String,
    /// The kernel release.
    pub kernel: String,
    /// Package → version.
    pub packages: std::collections::BTreeMap<String, String>,
    /// Modules carried, in load order.
    pub modules: Vec<String>,
    /// Kernel image path in the boot image.
    pub kernel_path: String,
    /// Initramfs path in the boot image.
    pub initrd_path: String,
}

impl PeDescription {
    /// The description of a build.
    pub fn of(pe: &PeBuild) -> PeDescription {
        PeDescription {
            flavour: FLAVOUR.into(),
            arch: pe.arch.clone(),
            kernel: pe.kernel_version.clone(),
            packages: pe.packages.clone(),
            modules: pe.modules.clone(),
            kernel_path: "boot/vmlinuz".into(),
            initrd_path: "boot/initrd.gz".into(),
        }
    }
}

/// Writes the PE as a WIM at `out` (under a temporary name, renamed when complete). Every
/// timestamp is `time` (FILETIME), so the same build gives the same bytes when `opts` fixes
/// the GUID too.
pub fn write_wim(pe: &PeBuild, out: &Path, opts: WriteOptions, time: u64) -> Result<()> {
    let mut writer = WimWriter::create(out, opts)?;
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        creation_time: time,
        last_write_time: time,
        last_access_time: time,
        ..Dentry::default()
    };
    let description = serde_json::to_vec_pretty(&PeDescription::of(pe)).unwrap_or_default();
    let mut files: Vec<(&str, &[u8], bool)> = pe
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.data.as_slice(), f.compressed))
        .collect();
    files.push((DESCRIPTION_PATH, &description, false));
    for (path, data, compressed) in files {
        let what = Path::new(path);
        let sha1 = Sha1::of(data);
        let size = data.len() as u64;
        let sha1 = if compressed {
            writer.write_blob_stored(&mut &data[..], size, Some(sha1), what)?
        } else {
            writer.write_blob(&mut &data[..], size, Some(sha1), what)?
        };
        root.insert_file(path, sha1, time);
    }
    let image = Image {
        security: SecurityData::default(),
        root,
    };
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text("NAME", "tsmedia PE"));
    xml.children.push(Element::with_text(
        "DESCRIPTION",
        format!("tsmedia PE, Linux {} ({})", pe.kernel_version, pe.arch),
    ));
    xml.children.push(Element::with_text("FLAGS", FLAVOUR));
    // `WINDOWS/ARCH` is where WIM XML records an image's processor architecture (9 = x64);
    // tools and the site read it from there.
    let mut windows = Element::new("WINDOWS");
    windows.children.push(Element::with_text("ARCH", "9"));
    xml.children.push(windows);
    let mut pe_element = Element::new("TSMEDIAPE");
    pe_element
        .children
        .push(Element::with_text("KERNEL", pe.kernel_version.clone()));
    xml.children.push(pe_element);
    writer.add_image(&image, xml)?;
    writer.finish(1)?;
    Ok(())
}
