//! `media inspect`: what media hold — type, label, boot entries, decrypted variables,
//! certificate validity, content with versions, disc numbers — for ISO sets, prestaged WIMs
//! and USB images (the FAT volume of an MBR/GPT image or device, read with
//! `tsmedia_image::fat::FatVolume`).

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tsmedia_image::disk::{Guid, PartitionType, open_fat_volume};
use tsmedia_image::fat::FatVolume;
use tsmedia_image::iso::IsoReader;
use tsmedia_wim::{Wim, ops};

use crate::bootfiles;
use crate::certificate;
use crate::error::{Error, IoContext, Result, wim};
use crate::layout::{
    BOOTSTRAP, LABEL, MANIFEST, POLICY, PROPERTY_COMMENT, PROPERTY_CREATED_BY, PROPERTY_LABEL,
    PROPERTY_VERSION, VARIABLES,
};
use crate::secret;
use crate::variables::{self, key_values};

/// One inspected disc (an ISO of a set, or the prestaged WIM).
#[derive(Debug, Clone, Serialize)]
pub struct InspectedDisc {
    pub path: PathBuf,
    /// Disc number and count from `MediaLabel.txt` (1 of 1 when absent).
    pub disc: u32,
    pub discs: u32,
    /// Bootable: El Torito boot catalog present (ISO), or `EFI/Boot/bootx64.efi` on the FAT
    /// volume (USB image).
    pub bootable: bool,
    /// What firmware starts: El Torito entries of an ISO; for a USB image the partition (table,
    /// number, type, active flag) and the UEFI boot program.
    pub boot_entries: Vec<String>,
    /// Files: (path, size).
    pub files: Vec<(String, u64)>,
}

/// What `media inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `MediaType=` of TsmBootstrap.ini.
    pub media_type: String,
    pub label: String,
    /// Prestaged media's properties (the wizard's Media Properties page); `None` when not
    /// given or not prestaged media.
    pub created_by: Option<String>,
    pub version: Option<String>,
    pub comment: Option<String>,
    pub password_required: bool,
    /// Decrypted variables (secret values masked unless asked for).
    pub variables: Vec<(String, String)>,
    /// Media certificate: subject, not before, not after (UNIX seconds).
    pub certificate: Option<(String, i64, i64)>,
    /// Whether a (decryptable) `policy.xml` is present.
    pub policy: bool,
    /// Content manifest (stand-alone and prestaged).
    pub content: Option<serde_json::Value>,
    pub discs: Vec<InspectedDisc>,
}

trait Media {
    fn read_path(&mut self, path: &str) -> Result<Option<Vec<u8>>>;
}

/// A USB image (or device, or staged disk): the FAT volume of its partition.
struct FatMedia {
    volume: FatVolume<File>,
    path: PathBuf,
}

impl Media for FatMedia {
    fn read_path(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let bad = |e: tsmedia_image::fat::ReadError| Error::Inspect {
            path: self.path.clone(),
            reason: format!("reading {path}: {e}"),
        };
        match self.volume.find(path).map_err(bad)? {
            Some(e) if !e.is_dir() => {}
            _ => return Ok(None),
        }
        Ok(Some(self.volume.read_file(path, 64 << 20).map_err(bad)?))
    }
}

/// Opens the FAT volume of a USB image and describes its disc.
fn open_usb(path: &Path) -> Result<(FatMedia, InspectedDisc)> {
    let bad = |reason: String| Error::Inspect {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).at(path)?;
    let (mut volume, partition) = open_fat_volume(file).map_err(|e| {
        bad(format!(
            "not an ISO, a folder of ISOs, a prestaged .wim or a USB image: {}",
            tsmedia_base::error_chain(&e)
        ))
    })?;
    let listing = volume.walk("").map_err(|e| {
        bad(format!(
            "reading the FAT volume: {}",
            tsmedia_base::error_chain(&e)
        ))
    })?;
    let mut files: Vec<(String, u64)> = listing
        .iter()
        .filter(|(_, e)| !e.is_dir())
        .map(|(p, e)| (p.clone(), u64::from(e.size)))
        .collect();
    files.sort();
    let mut boot_entries = Vec::new();
    if let Some(p) = &partition {
        let kind = match p.kind {
            PartitionType::Mbr(t) => format!("MBR type {t:#04x}"),
            PartitionType::Gpt(g) if g == Guid::EFI_SYSTEM => "GPT EFI system partition".into(),
            PartitionType::Gpt(g) => format!("GPT type {g}"),
        };
        boot_entries.push(format!(
            "partition {} at {} MiB: {kind}{}, {:?}",
            p.number,
            p.offset() >> 20,
            if p.active { ", active" } else { "" },
            volume.fat_type()
        ));
    } else {
        boot_entries.push(format!(
            "no partition table: one {:?} volume",
            volume.fat_type()
        ));
    }
    let uefi = volume
        .find(bootfiles::BOOTX64)
        .map_err(|e| bad(format!("reading the FAT volume: {e}")))?
        .filter(|e| !e.is_dir());
    if let Some(e) = &uefi {
        boot_entries.push(format!(
            "UEFI x64: {} ({} bytes)",
            bootfiles::BOOTX64,
            e.size
        ));
    }
    let disc = InspectedDisc {
        path: path.to_path_buf(),
        disc: 1,
        discs: 1,
        bootable: uefi.is_some(),
        boot_entries,
        files,
    };
    Ok((
        FatMedia {
            volume,
            path: path.to_path_buf(),
        },
        disc,
    ))
}

/// El Torito entries of an ISO built by tsmedia: the builder adds one per boot program found.
fn iso_boot_entries(r: &mut IsoReader) -> Result<Vec<String>> {
    if !r.el_torito {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (program, what) in [
        (bootfiles::ETFSBOOT, "El Torito BIOS (no emulation)"),
        (bootfiles::EFISYS, "El Torito UEFI (0xEF)"),
    ] {
        if r.find(program)?.is_some_and(|e| !e.is_dir) {
            out.push(format!("{what}: {program}"));
        }
    }
    Ok(out)
}

impl Media for IsoReader {
    fn read_path(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.find(path)? {
            Some(e) if !e.is_dir => Ok(Some(IsoReader::read(self, &e)?)),
            _ => Ok(None),
        }
    }
}

struct WimMedia {
    wim: Wim,
    root: tsmedia_wim::dentry::Dentry,
}

impl Media for WimMedia {
    fn read_path(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(d) = bootfiles::lookup(&self.root, path) else {
            return Ok(None);
        };
        if d.is_dir() {
            return Ok(None);
        }
        if d.data.is_zero() {
            return Ok(Some(Vec::new()));
        }
        Ok(Some(
            self.wim
                .open_blob(&d.data, true)
                .and_then(|r| r.read_all())
                .map_err(wim(format!("reading {path}")))?,
        ))
    }
}

/// Inspects an ISO set (a folder of ISOs or one ISO), a prestaged WIM or a USB image (file or
/// device: any other path is opened as a disk with a FAT partition). With `password`
/// the variables of protected media are decrypted; `show_secrets` unmasks secret values.
pub fn inspect(path: &Path, password: Option<&str>, show_secrets: bool) -> Result<Inspection> {
    let bad = |reason: &str| Error::Inspect {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let isos: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("iso")))
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(bad("no .iso files in this folder"));
        }
        v
    } else if ext.as_deref() == Some("iso") {
        vec![path.to_path_buf()]
    } else {
        Vec::new()
    };
    let mut discs = Vec::new();
    let mut first: Option<Box<dyn Media>> = None;
    // Prestaged media: label and properties from the WIM's XML.
    let mut properties: [Option<String>; 4] = Default::default();
    if isos.is_empty() && ext.as_deref() != Some("wim") {
        let (media, disc) = open_usb(path)?;
        discs.push(disc);
        first = Some(Box::new(media));
    } else if isos.is_empty() {
        let w = Wim::open(path).map_err(wim(path.display().to_string()))?;
        if let Some(image) = tsmedia_wim::xml::images(&w.xml).next() {
            for (slot, key) in properties.iter_mut().zip([
                PROPERTY_LABEL,
                PROPERTY_CREATED_BY,
                PROPERTY_VERSION,
                PROPERTY_COMMENT,
            ]) {
                *slot = image.get(key).map(str::to_string);
            }
        }
        let img = ops::load_image(&w, 1).map_err(wim(path.display().to_string()))?;
        let mut files = Vec::new();
        img.root.walk(&mut |parents, d| {
            if !d.is_dir() {
                let mut p: Vec<String> = parents.iter().skip(1).map(|x| x.name_lossy()).collect();
                p.push(d.name_lossy());
                let size = w.blobs.get(&d.data).map(|l| l.size()).unwrap_or(0);
                files.push((p.join("/"), size));
            }
        });
        files.sort();
        discs.push(InspectedDisc {
            path: path.to_path_buf(),
            disc: 1,
            discs: 1,
            bootable: false,
            boot_entries: Vec::new(),
            files,
        });
        first = Some(Box::new(WimMedia {
            wim: w,
            root: img.root,
        }));
    } else {
        for iso in &isos {
            let mut r = IsoReader::open(iso)?;
            let label = r
                .read_path(LABEL)?
                .map(|b| key_values(&String::from_utf8_lossy(&b)))
                .unwrap_or_default();
            let num = |k: &str| {
                label
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1)
            };
            discs.push(InspectedDisc {
                path: iso.clone(),
                disc: num("disc"),
                discs: num("discs"),
                bootable: r.el_torito,
                boot_entries: iso_boot_entries(&mut r)?,
                files: r.walk()?,
            });
            if first.is_none() || num("disc") == 1 {
                first = Some(Box::new(r));
            }
        }
    }
    let mut m = first.ok_or_else(|| bad("no media found"))?;
    let ini = m
        .read_path(BOOTSTRAP)?
        .ok_or_else(|| bad("no SMS/data/TsmBootstrap.ini: not task sequence media"))?;
    let ini = key_values(&String::from_utf8_lossy(&ini));
    let get = |k: &str| {
        ini.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let label = m
        .read_path(LABEL)?
        .and_then(|b| {
            key_values(&String::from_utf8_lossy(&b))
                .into_iter()
                .find(|(k, _)| k == "label")
                .map(|(_, v)| v)
        })
        .or(properties[0].take())
        .unwrap_or_default();
    let [_, created_by, version, comment] = properties;
    let sealed = m
        .read_path(VARIABLES)?
        .ok_or_else(|| bad("no SMS/data/Variables.dat"))?;
    let plain = secret::open(&sealed, password, "Variables.dat")?;
    let vars = variables::from_xml(&plain)?;
    let cert = vars
        .iter()
        .find(|v| v.name == "_SMSTSMediaPFX")
        .and_then(|v| hex::decode(&v.value).ok())
        .and_then(|pfx| {
            let pw = vars
                .iter()
                .find(|v| v.name == "_TSMediaPFXPassword")
                .map(|v| v.value.clone())
                .unwrap_or_default();
            let ks = p12_keystore::KeyStore::from_pkcs12(
                &pfx,
                &pw,
                p12_keystore::Pkcs12ImportPolicy::Relaxed,
            )
            .ok()?;
            let (_, chain) = ks.private_key_chain()?;
            certificate::validity(chain.certs().first()?.as_der()).ok()
        })
        .map(|(nb, na, s)| (s, nb, na));
    let policy = match m.read_path(POLICY)? {
        Some(p) => {
            secret::open(&p, password, "policy.xml")?;
            true
        }
        None => false,
    };
    let content = match m.read_path(MANIFEST)? {
        Some(b) => {
            Some(serde_json::from_slice(&b).map_err(|e| bad(&format!("content manifest: {e}")))?)
        }
        None => None,
    };
    Ok(Inspection {
        media_type: get("MediaType"),
        label,
        created_by,
        version,
        comment,
        password_required: get("PasswordRequired") == "true",
        variables: vars
            .iter()
            .map(|v| {
                (
                    v.name.clone(),
                    if show_secrets {
                        v.value.clone()
                    } else {
                        v.display_value()
                    },
                )
            })
            .collect(),
        certificate: cert,
        policy,
        content,
        discs,
    })
}
