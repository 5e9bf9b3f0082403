//! Phase one: declaring what goes into the image.

use std::collections::HashMap;

use super::error::{Error, Result};
use super::names::split_path;
use super::plan::IsoPlan;
use crate::source::DataSource;

/// Behaviour of the ISO writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoOptions {
    /// Volume label, at most 32 characters. ISO 9660 records it upper-cased with characters
    /// outside `A-Z 0-9 _` replaced by `_`; Joliet keeps its first 16 characters as given; UDF
    /// keeps it whole. Default: `"TSMEDIA"`.
    pub volume_label: String,
    /// Time recorded for every file, directory and volume descriptor, in seconds since
    /// 1970-01-01 UTC (1970..=2155). `None` (the default) uses the time [`IsoBuilder::plan`]
    /// runs; set it (see [`IsoOptions::with_clock`]) for reproducible images.
    pub timestamp: Option<i64>,
    /// Application identifier in the ISO 9660 and Joliet volume descriptors (a-characters,
    /// at most 128). Default: `"TSMEDIA"`.
    pub application_id: String,
    /// Write a Joliet tree (UCS-2 names up to 64 characters). Default: `true`.
    pub joliet: bool,
    /// Write a UDF 1.02 file system sharing the file data with ISO 9660 (the "UDF bridge").
    /// Default: `true`.
    pub udf: bool,
}

impl Default for IsoOptions {
    fn default() -> Self {
        IsoOptions {
            volume_label: "TSMEDIA".to_owned(),
            timestamp: None,
            application_id: "TSMEDIA".to_owned(),
            joliet: true,
            udf: true,
        }
    }
}

impl IsoOptions {
    /// Sets [`IsoOptions::timestamp`] to the clock's fixed time (reproducible images);
    /// leaves it unchanged for the system clock. The command line resolves the clock from
    /// `--deterministic` and `SOURCE_DATE_EPOCH` ([`tsmedia_base::Clock::from_environment`]).
    pub fn with_clock(mut self, clock: tsmedia_base::Clock) -> Self {
        if let Some(t) = clock.fixed() {
            self.timestamp = Some(t);
        }
        self
    }
}

/// El Torito platform of a boot entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BootPlatform {
    /// PC BIOS, platform id 0x00 (`-bootdata:...#p0,...` in oscdimg terms).
    Bios,
    /// UEFI, platform id 0xEF; the image is a FAT file system holding `EFI/BOOT/BOOTX64.EFI`.
    Uefi,
}

impl BootPlatform {
    /// The El Torito platform id.
    pub fn id(self) -> u8 {
        match self {
            BootPlatform::Bios => 0x00,
            BootPlatform::Uefi => 0xEF,
        }
    }
}

/// The bytes a boot entry loads.
#[derive(Clone, PartialEq, Eq)]
pub enum BootImage {
    /// A file declared in the image (for example `boot/etfsboot.com`); its data is shared.
    File(String),
    /// Bytes stored outside the directory trees (invisible to file listings).
    Hidden(Vec<u8>),
}

impl std::fmt::Debug for BootImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootImage::File(p) => write!(f, "File({p:?})"),
            BootImage::Hidden(b) => write!(f, "Hidden({} bytes)", b.len()),
        }
    }
}

/// One El Torito no-emulation boot entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntry {
    /// Which firmware it is for.
    pub platform: BootPlatform,
    /// The image it loads.
    pub image: BootImage,
    /// "Sector count": how many 512-byte virtual sectors the firmware loads. `None` means 4
    /// for BIOS (what etfsboot.com expects) and the whole image for UEFI (1 when the image is
    /// larger than 65535 sectors, which UEFI firmware reads as "to the end of the image").
    pub load_sectors: Option<u16>,
}

impl BootEntry {
    /// A BIOS entry loading 4 sectors (oscdimg's `#p0,e,b<file>`).
    pub fn bios(image: BootImage) -> Self {
        BootEntry {
            platform: BootPlatform::Bios,
            image,
            load_sectors: None,
        }
    }

    /// A UEFI entry (oscdimg's `#pEF,e,b<file>`).
    pub fn uefi(image: BootImage) -> Self {
        BootEntry {
            platform: BootPlatform::Uefi,
            image,
            load_sectors: None,
        }
    }
}

/// A boot entry checked against the declared files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedBoot {
    /// The declared file holding the image, or `None` for a hidden image.
    pub file: Option<usize>,
    pub size: u64,
    pub load_sectors: u16,
}

pub(crate) enum DeclKind {
    Dir {
        children: Vec<usize>,
    },
    File {
        size: u64,
        source: Box<dyn DataSource>,
    },
}

pub(crate) struct DeclNode {
    pub name: String,
    pub path: String,
    pub parent: usize,
    pub kind: DeclKind,
}

/// Declares the content of one ISO image (phase one), then [`IsoBuilder::plan`]s it.
///
/// ```
/// use tsmedia_image::iso::{IsoBuilder, IsoOptions};
/// let mut b = IsoBuilder::new(IsoOptions { timestamp: Some(0), ..IsoOptions::default() });
/// b.add_file("sources/readme.txt", 5, Box::new(b"hello".to_vec())).unwrap();
/// b.add_file("sources/big.wim", 0, Box::new(std::path::PathBuf::from("/dev/null"))).unwrap();
/// let plan = b.plan().unwrap();
/// let mut out = Vec::new();
/// tsmedia_image::iso::write(&plan, &mut out).unwrap();
/// assert_eq!(out.len() as u64, plan.total_size());
/// ```
pub struct IsoBuilder {
    pub(crate) options: IsoOptions,
    pub(crate) nodes: Vec<DeclNode>,
    index: HashMap<Vec<String>, usize>,
    pub(crate) boot: Vec<BootEntry>,
}

impl IsoBuilder {
    /// An empty image with the given options.
    pub fn new(options: IsoOptions) -> Self {
        let root = DeclNode {
            name: String::new(),
            path: "/".to_owned(),
            parent: 0,
            kind: DeclKind::Dir {
                children: Vec::new(),
            },
        };
        IsoBuilder {
            options,
            nodes: vec![root],
            index: HashMap::from([(Vec::new(), 0)]),
            boot: Vec::new(),
        }
    }

    /// Declares a directory (and its missing parents). Declaring an existing directory again is
    /// allowed; an existing file at that path is an error.
    pub fn add_dir(&mut self, path: &str) -> Result<()> {
        let parts = split_path(path)?;
        self.ensure_dir(path, &parts)?;
        Ok(())
    }

    /// Declares a file of `size` bytes whose content `source` gives when the image is
    /// written. Missing parent directories are created.
    pub fn add_file(&mut self, path: &str, size: u64, source: Box<dyn DataSource>) -> Result<()> {
        let parts = split_path(path)?;
        let Some((name, parent_parts)) = parts.split_last() else {
            return Err(Error::InvalidPath {
                path: path.to_owned(),
                reason: "a file needs a name",
            });
        };
        if self.index.contains_key(&parts) {
            return Err(Error::Duplicate {
                path: path.to_owned(),
            });
        }
        let parent = self.ensure_dir(path, parent_parts)?;
        let id = self.push(
            parent,
            name,
            parts.join("/"),
            DeclKind::File { size, source },
        );
        self.index.insert(parts, id);
        Ok(())
    }

    /// Adds an El Torito boot entry. The first entry added is the default (initial) entry;
    /// the others follow in sections, one per platform run.
    pub fn add_boot_entry(&mut self, entry: BootEntry) {
        self.boot.push(entry);
    }

    /// Computes the complete layout (phase two). No data source is opened.
    pub fn plan(self) -> Result<IsoPlan> {
        IsoPlan::new(self)
    }

    /// Index of the directory at `parts`, creating missing ones.
    fn ensure_dir(&mut self, path: &str, parts: &[String]) -> Result<usize> {
        let mut cur = 0;
        for depth in 1..=parts.len() {
            let key = &parts[..depth];
            cur = match self.index.get(key) {
                Some(&id) => {
                    if !matches!(self.nodes[id].kind, DeclKind::Dir { .. }) {
                        return Err(Error::ParentIsFile {
                            path: path.to_owned(),
                            parent: key.join("/"),
                        });
                    }
                    id
                }
                None => {
                    let kind = DeclKind::Dir {
                        children: Vec::new(),
                    };
                    let id = self.push(cur, &parts[depth - 1], key.join("/"), kind);
                    self.index.insert(key.to_vec(), id);
                    id
                }
            };
        }
        Ok(cur)
    }

    fn push(&mut self, parent: usize, name: &str, path: String, kind: DeclKind) -> usize {
        let id = self.nodes.len();
        self.nodes.push(DeclNode {
            name: name.to_owned(),
            path,
            parent,
            kind,
        });
        if let DeclKind::Dir { children } = &mut self.nodes[parent].kind {
            children.push(id);
        }
        id
    }

    /// Checks the boot entries and finds their images.
    pub(crate) fn resolve_boot(&self) -> Result<Vec<ResolvedBoot>> {
        if self.boot.len() > 30 {
            return Err(Error::Boot {
                index: 30,
                reason: "at most 30 boot entries fit the boot catalog".to_owned(),
            });
        }
        let mut out = Vec::new();
        for (index, entry) in self.boot.iter().enumerate() {
            let bad = |reason: &str| Error::Boot {
                index,
                reason: reason.to_owned(),
            };
            let (file, size) = match &entry.image {
                BootImage::File(path) => {
                    let id = self
                        .file_index(path)
                        .ok_or_else(|| bad(&format!("{path:?} is not a declared file")))?;
                    let DeclKind::File { size, .. } = &self.nodes[id].kind else {
                        return Err(bad("not a file"));
                    };
                    (Some(id), *size)
                }
                BootImage::Hidden(bytes) => (None, bytes.len() as u64),
            };
            if size == 0 {
                return Err(bad("the boot image is empty"));
            }
            let load_sectors = match (entry.load_sectors, entry.platform) {
                (Some(0), _) => return Err(bad("load_sectors must be at least 1")),
                (Some(n), _) => n,
                (None, BootPlatform::Bios) => 4,
                // Whole image; when that does not fit, 1, which UEFI firmware reads as "to the
                // end of the image" (what oscdimg records for efisys.bin).
                (None, BootPlatform::Uefi) => u16::try_from(size.div_ceil(512)).unwrap_or(1),
            };
            out.push(ResolvedBoot {
                file,
                size,
                load_sectors,
            });
        }
        Ok(out)
    }

    /// Index of the declared file at `path`, if any.
    pub(crate) fn file_index(&self, path: &str) -> Option<usize> {
        let parts = split_path(path).ok()?;
        let &id = self.index.get(&parts)?;
        matches!(self.nodes[id].kind, DeclKind::File { .. }).then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_sets_the_timestamp() {
        use tsmedia_base::Clock;
        let o = IsoOptions::default();
        assert_eq!(o.clone().with_clock(Clock::System).timestamp, None);
        let set = o.clone().with_clock(Clock::Fixed(1_700_000_000));
        assert_eq!(set.timestamp, Some(1_700_000_000));
        // An invalid SOURCE_DATE_EPOCH never reaches the ISO writer: the clock refuses it.
        let bad = Clock::resolve(false, Some(std::ffi::OsStr::new("yesterday")));
        assert_eq!(bad.unwrap_err().value, "yesterday");
    }
}
