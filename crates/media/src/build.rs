//! Writing planned media: the generated files, `boot.wim` with the media configuration, and
//! each output (ISO set, USB image, prestaged WIM) under a temporary name, renamed only when
//! every output is complete. Content is streamed once from the library; nothing is staged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use tsmedia_image::DataSource;
use tsmedia_image::disk::{UsbImageOptions, UsbImagePlan};
use tsmedia_image::fat::{FatOptions, FatTimestamp, FatTree, FatType};
use tsmedia_image::iso::{self, BootEntry, BootImage, IsoBuilder, IsoOptions};
use tsmedia_site::Site;
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::output::AtomicFile;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, Wim, WimWriter, WriteOptions, ops};

use crate::bootfiles::{self, BootFile, EFISYS, ETFSBOOT};
use crate::error::{Error, IoContext, Result, wim};
use crate::layout::{AUTORUN, BOOTSTRAP, LABEL, MANIFEST, POLICY, VARIABLES};
use crate::log::MediaLog;
use crate::plan::{FileSource, MediaPlan};
use crate::secret::{self, KdfParams, Randomness};
use crate::spec::{MediaKind, MediaType};
use crate::variables::{self, Variable};

/// What a build wrote.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// Output files (ISOs, USB image, WIM).
    pub outputs: Vec<PathBuf>,
    /// The log file.
    pub log: PathBuf,
    /// The media variables (secrets included; mask with [`Variable::display_value`]).
    pub variables: Vec<Variable>,
}

/// How media are written.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Argon2id cost of the media password. Default: 64 MiB, 3 passes.
    pub kdf: KdfParams,
    /// Set (e.g. by Ctrl-C) to stop: the build fails with an "interrupted" error and removes
    /// its temporary files; finished outputs of earlier runs are kept. Default: never.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// A source that fails with `Interrupted` once the cancel flag is set.
struct Cancellable {
    inner: Box<dyn DataSource>,
    cancel: Option<Arc<AtomicBool>>,
}

struct CancellableReader<'a> {
    inner: Box<dyn std::io::Read + 'a>,
    cancel: Option<&'a AtomicBool>,
}

impl std::io::Read for CancellableReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "media build interrupted",
            ));
        }
        self.inner.read(buf)
    }
}

impl DataSource for Cancellable {
    fn open(&self) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        Ok(Box::new(CancellableReader {
            inner: self.inner.open()?,
            cancel: self.cancel.as_deref(),
        }))
    }
}

/// The media variables of a plan (reference §3).
pub fn media_variables(plan: &MediaPlan) -> Vec<Variable> {
    let spec = &plan.spec;
    let mut v = Vec::new();
    let mps: Vec<String> = plan
        .management_points
        .iter()
        .map(|m| m.url.clone())
        .collect();
    if !mps.is_empty() {
        match spec.mode {
            crate::spec::MpMode::SiteBased => v.push(Variable::new("SMSTSMP", mps[0].clone())),
            crate::spec::MpMode::Dynamic => v.push(Variable::new(
                "SMSTSLocationMPs",
                mps.iter().map(|m| format!("{m}|")).collect::<String>(),
            )),
        }
    }
    v.push(Variable::new("_SMSMediaGuid", plan.media_guid.clone()));
    v.push(Variable::new(
        "_SMSTSBootMediaPackageID",
        plan.boot_image.id.clone(),
    ));
    v.push(Variable::new("_SMSTSSiteCode", plan.site_code.clone()));
    v.push(Variable::new(
        "_SMSTSMediaPFX",
        hex::encode_upper(&plan.certificate.pfx),
    ));
    if !plan.certificate.pfx_password.is_empty() {
        v.push(Variable::new(
            "_TSMediaPFXPassword",
            plan.certificate.pfx_password.clone(),
        ));
    }
    for (arch, guid) in &plan.unknown_guids {
        v.push(Variable::new(
            &format!("_SMSTS{}UnknownMachineGUID", arch.as_str()),
            guid.clone(),
        ));
    }
    v.push(Variable::new(
        "_SMSTSLaunchMode",
        if spec.unattended { "UFD+FORMAT" } else { "SMS" },
    ));
    v.push(Variable::new("_SMSTSMediaType", spec.kind.bootstrap_name()));
    v.push(Variable::new(
        "_SMSTSStandAloneMedia",
        if spec.kind == MediaKind::Standalone {
            "true"
        } else {
            "false"
        },
    ));
    v.push(Variable::new("_SMSTSUDAMode", spec.uda.as_str()));
    if let Some((id, _)) = &plan.task_sequence {
        if spec.kind == MediaKind::Standalone {
            v.push(Variable::new("_SMSTSPackageID", "INMEM_TS"));
            v.push(Variable::new("_SMSTSStandAloneTSID", id.clone()));
        } else {
            v.push(Variable::new("SMSTSPreferredAdvertID", id.clone()));
        }
    }
    if let Some(c) = &spec.prestart_command {
        v.push(Variable::new("_SMSTSPreStartCommand", c.clone()));
    }
    if let Some(p) = &spec.prestart_package {
        v.push(Variable::new("_SMSTSPreStartPackageID", p.clone()));
    }
    if let Some(s) = &spec.start_date {
        v.push(Variable::new("_SMSTSMediaStartDate", s.clone()));
    }
    if let Some(s) = &spec.expiration_date {
        v.push(Variable::new("_SMSTSMediaExpirationDate", s.clone()));
    }
    for (k, val) in &spec.variable {
        v.push(Variable::new(k, val.clone()));
    }
    v
}

/// Builds the media of a checked plan, registering the media certificate at the site.
pub fn build(site: &mut Site, plan: &MediaPlan, options: &BuildOptions) -> Result<BuildReport> {
    let spec = &plan.spec;
    let mut log = MediaLog::new(plan.fixed_time);
    log.info(format!(
        "Creating {} media, site {}",
        spec.kind, plan.site_code
    ));
    for c in &plan.checks {
        log.info(format!("Preflight {c}"));
    }
    for n in &plan.notices {
        log.warn(n);
    }
    let rng = if plan.fixed_time.is_some() {
        log.info("Deterministic build: salts, nonces, the per-media key and the media GUID are derived from a SHA-256 of the media spec; times are fixed");
        Randomness::Seeded(plan.seed)
    } else {
        Randomness::Os
    };
    log.info(format!(
        "Boot image {} ({}), index {}",
        plan.boot_image.id, plan.boot_arch, plan.boot_index
    ));
    for c in &plan.content {
        log.info(format!(
            "Content {} ({}) version {}, {} files",
            c.package.id,
            c.package.name,
            c.version,
            c.files.len()
        ));
    }
    if let Some(cmd) = &spec.prestart_command {
        log.info(format!(
            "Prestart command: {cmd} (package {})",
            spec.prestart_package.as_deref().unwrap_or("none")
        ));
    }
    match &plan.password {
        Some(_) => log.info("Variables.dat and policy.xml are encrypted with XChaCha20-Poly1305 under an Argon2id key from the media password"),
        None => log.warn("No media password: Variables.dat and policy.xml are encrypted with a random key STORED ON THE MEDIA. The media are UNPROTECTED."),
    }
    log.info("Not encrypted: boot files, boot.wim and package content (integrity-checked by the content manifest).");

    match site.register_certificate(&plan.certificate.der) {
        Ok(_) | Err(tsmedia_site::Error::Duplicate { .. }) => log.info(format!(
            "Media certificate {} registered at the site (valid {} to {}, UNIX seconds)",
            plan.certificate.subject, plan.certificate.not_before, plan.certificate.not_after
        )),
        Err(e) => return Err(e.into()),
    }

    let vars = media_variables(plan);
    for v in &vars {
        log.info(format!("Variable {} = {}", v.name, v.display_value()));
    }
    let pw = plan.password.as_deref();
    let mut small: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    small.insert(
        VARIABLES,
        secret::seal(
            &variables::to_xml(&vars),
            pw,
            options.kdf,
            &rng,
            "Variables.dat",
        )?,
    );
    if spec.kind == MediaKind::Standalone {
        let xml = plan.task_sequence_xml.clone().unwrap_or_default();
        small.insert(
            POLICY,
            secret::seal(xml.as_bytes(), pw, options.kdf, &rng, "policy.xml")?,
        );
    }
    small.insert(MANIFEST, manifest(plan));
    if spec.autorun {
        small.insert(
            AUTORUN,
            b"[autorun]\r\nopen=sources\\boot.wim\r\nlabel=Task sequence media\r\n".to_vec(),
        );
    }

    let out_dir = match (spec.kind, spec.media_type) {
        (MediaKind::Prestaged, _) | (_, MediaType::Usb) => parent(&spec.out),
        _ => spec.out.clone(),
    };
    std::fs::create_dir_all(&out_dir).at(&out_dir)?;
    let work = TempDir::new(&out_dir)?;
    let boot_src = Wim::open(&plan.boot_wim).map_err(wim(plan.boot_wim.display().to_string()))?;
    let boot_files = bootfiles::find(&boot_src, plan.boot_index)?;
    let boot_wim = work.path.join("boot.wim");
    let disc_count = plan.discs.len() as u32;
    let ini = |disc: u32| {
        variables::bootstrap_ini(
            spec.kind.bootstrap_name(),
            pw.is_some(),
            spec.unattended,
            (disc_count > 1).then_some((disc, disc_count)),
        )
        .into_bytes()
    };
    write_boot_wim(
        plan,
        &boot_src,
        &boot_wim,
        &[(BOOTSTRAP, ini(1)), (VARIABLES, small[VARIABLES].clone())],
        &options.cancel,
    )?;
    log.timing("boot.wim prepared");

    let mut pending = Vec::new();
    for disc in &plan.discs {
        let mut files: Vec<(String, u64, Box<dyn DataSource>)> = Vec::new();
        for f in &disc.files {
            let src: Box<dyn DataSource> = match &f.source {
                FileSource::Library(p) => Box::new(p.clone()),
                FileSource::SplitWim(p) => Box::new(p.clone()),
                FileSource::BootWim => Box::new(boot_wim.clone()),
                FileSource::BootImage(p) => {
                    let b: &BootFile =
                        boot_files.iter().find(|b| b.wim_path == p).ok_or_else(|| {
                            Error::Inspect {
                                path: plan.boot_wim.clone(),
                                reason: format!("{p} vanished from the boot image"),
                            }
                        })?;
                    Box::new(bootfiles::read(&boot_src, b)?)
                }
                FileSource::Generated(_) => {
                    let bytes = match f.dest.as_str() {
                        BOOTSTRAP => ini(disc.number),
                        LABEL => variables::media_label(&spec.label(), disc.number, disc_count)
                            .into_bytes(),
                        other => small.get(other).cloned().unwrap_or_default(),
                    };
                    Box::new(bytes)
                }
            };
            let size = match &f.source {
                FileSource::BootWim => std::fs::metadata(&boot_wim).at(&boot_wim)?.len(),
                FileSource::Generated(_) | FileSource::BootImage(_) => 0,
                _ => f.size,
            };
            let src: Box<dyn DataSource> = Box::new(Cancellable {
                inner: src,
                cancel: options.cancel.clone(),
            });
            files.push((f.dest.clone(), size, src));
        }
        // Sizes of in-memory sources are their lengths.
        let files: Vec<(String, u64, Box<dyn DataSource>)> = files
            .into_iter()
            .map(|(d, s, src)| {
                if s == 0 {
                    let mut n = 0u64;
                    if let Ok(mut r) = src.open() {
                        n = std::io::copy(&mut r, &mut std::io::sink()).unwrap_or(0);
                    }
                    (d, n, src)
                } else {
                    (d, s, src)
                }
            })
            .collect();
        let staged = match (spec.kind, spec.media_type) {
            (MediaKind::Prestaged, _) => write_prestaged(plan, files, &disc.path, &options.cancel)?,
            (_, MediaType::Usb) => write_usb(plan, files, &disc.path)?,
            (_, MediaType::CdDvd) => write_iso(plan, files, &disc.path, disc.number == 1)?,
        };
        log.info(format!(
            "Disc {} of {disc_count}: {} written ({} files)",
            disc.number,
            disc.path.display(),
            disc.files.len()
        ));
        log.timing("disc written");
        pending.push(staged);
    }
    let mut outputs = Vec::new();
    for p in pending {
        outputs.push(p.commit()?);
    }
    log.info("Media created successfully");
    let log_path = spec
        .log
        .clone()
        .unwrap_or_else(|| out_dir.join("CreateTSMedia.log"));
    std::fs::write(&log_path, log.text()).at(&log_path)?;
    Ok(BuildReport {
        outputs,
        log: log_path,
        variables: vars,
    })
}

fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `SMS/data/ContentManifest.json`: every content file with size and SHA-256.
fn manifest(plan: &MediaPlan) -> Vec<u8> {
    let packages: Vec<serde_json::Value> = plan
        .content
        .iter()
        .map(|c| {
            serde_json::json!({
                "package_id": c.package.id,
                "name": c.package.name,
                "content_id": c.package.content_id,
                "version": c.version,
                "files": c.files.iter().map(|f| serde_json::json!({
                    "path": format!("SMS/PKG/{}/{}", c.package.id, f.path.replace('\\', "/")),
                    "size": f.size,
                    "sha256": f.hash,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = serde_json::json!({ "format": "tsmedia-content-manifest/1", "packages": packages });
    serde_json::to_vec_pretty(&doc).unwrap_or_default()
}

/// A temporary folder beside the output, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(dir: &Path) -> Result<TempDir> {
        let path = dir.join(format!(".tsmedia-work-{}", std::process::id()));
        std::fs::create_dir_all(&path).at(&path)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn write_options(
    plan: &MediaPlan,
    base: WriteOptions,
    cancel: &Option<Arc<AtomicBool>>,
) -> WriteOptions {
    let mut o = base;
    o.cancel = cancel.clone();
    if let Some(t) = plan.fixed_time {
        let mut h = Sha256::new();
        h.update(plan.seed);
        h.update(b"wim guid");
        let d = h.finalize();
        let mut g = [0u8; 16];
        g.copy_from_slice(&d[..16]);
        o.guid = Some(g);
        o.timestamp = Some(unix_to_filetime(t));
    }
    o
}

fn unix_to_filetime(t: i64) -> u64 {
    ((t + 11_644_473_600).max(0) as u64) * 10_000_000
}

/// Inserts a file dentry at `path` (creating directories) whose data is `sha1`.
fn insert(root: &mut Dentry, path: &str, sha1: Sha1, time: u64) {
    let mut d = root;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let name: Vec<u16> = part.encode_utf16().collect();
        let pos = d
            .children
            .iter()
            .position(|c| String::from_utf16_lossy(&c.name).eq_ignore_ascii_case(part));
        let pos = match pos {
            Some(p) if !last => p,
            Some(p) => {
                d.children.remove(p);
                d.children.len()
            }
            None => d.children.len(),
        };
        if pos == d.children.len() {
            d.children.push(Dentry {
                name,
                attributes: if last { attr::ARCHIVE } else { attr::DIRECTORY },
                security_id: -1,
                creation_time: time,
                last_write_time: time,
                last_access_time: time,
                data: if last { sha1 } else { Sha1::ZERO },
                ..Dentry::default()
            });
        }
        d = &mut d.children[pos];
    }
}

fn write_boot_wim(
    plan: &MediaPlan,
    src: &Wim,
    out: &Path,
    inject: &[(&str, Vec<u8>)],
    cancel: &Option<Arc<AtomicBool>>,
) -> Result<()> {
    let what = || format!("writing {}", out.display());
    let opts = ops::inherit_options(
        src,
        write_options(plan, WriteOptions::default(), cancel),
        false,
    )
    .map_err(wim(what()))?;
    let opts = write_options(plan, opts, cancel);
    let mut image = ops::load_image(src, plan.boot_index).map_err(wim("reading the boot image"))?;
    let mut w = WimWriter::create(out, opts).map_err(wim(what()))?;
    let mut hashes = Vec::new();
    image.root.walk(&mut |_, d| hashes.extend(d.blobs()));
    let mut locs = Vec::new();
    for h in hashes {
        if let Some(l) = src.blobs.get(&h) {
            locs.push(l);
        }
    }
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for l in locs {
        if !w.has_blob(&l.entry.sha1) {
            w.copy_blob(src, l).map_err(wim(what()))?;
        }
    }
    let t = plan
        .fixed_time
        .map(unix_to_filetime)
        .unwrap_or_else(tsmedia_wim::write::filetime_now);
    for (path, bytes) in inject {
        let sha = w
            .write_blob(&mut &bytes[..], bytes.len() as u64, None, Path::new(path))
            .map_err(wim(what()))?;
        insert(&mut image.root, path, sha, t);
    }
    image.root.sort_children();
    let xml = src
        .image_xml(plan.boot_index)
        .cloned()
        .unwrap_or_else(|| Element::new("IMAGE"));
    w.add_image(&image, xml).map_err(wim(what()))?;
    w.finish(1).map_err(wim(what()))
}

/// An output written under a temporary name, renamed by `commit`.
enum Staged {
    File(AtomicFile),
    Done(PathBuf),
}

impl Staged {
    fn commit(self) -> Result<PathBuf> {
        match self {
            Staged::File(f) => {
                let p = f.path().to_path_buf();
                f.commit()
                    .map_err(wim(format!("renaming {}", p.display())))?;
                Ok(p)
            }
            Staged::Done(p) => Ok(p),
        }
    }
}

type Files = Vec<(String, u64, Box<dyn DataSource>)>;

fn write_iso(plan: &MediaPlan, files: Files, out: &Path, boot: bool) -> Result<Staged> {
    let iso_err = |source| Error::Iso {
        what: out.display().to_string(),
        source,
    };
    let mut options = IsoOptions {
        volume_label: plan.spec.label().to_ascii_uppercase(),
        ..IsoOptions::default()
    };
    if let Some(t) = plan.fixed_time {
        options.timestamp = Some(t);
    }
    let mut b = IsoBuilder::new(options);
    let mut has = (false, false);
    for (dest, size, src) in files {
        has.0 |= dest == ETFSBOOT;
        has.1 |= dest == EFISYS;
        b.add_file(&dest, size, src).map_err(iso_err)?;
    }
    if boot && has.0 {
        b.add_boot_entry(BootEntry::bios(BootImage::File(ETFSBOOT.into())));
    }
    if boot && has.1 {
        b.add_boot_entry(BootEntry::uefi(BootImage::File(EFISYS.into())));
    }
    let iso_plan = b.plan().map_err(iso_err)?;
    let mut f = AtomicFile::create(out).map_err(wim(format!("creating {}", out.display())))?;
    iso::write(&iso_plan, std::io::BufWriter::new(&mut f.file)).map_err(iso_err)?;
    Ok(Staged::File(f))
}

fn write_usb(plan: &MediaPlan, files: Files, out: &Path) -> Result<Staged> {
    let usb_err = |source| Error::Usb {
        what: out.display().to_string(),
        source,
    };
    let mut tree = FatTree::new();
    for (dest, size, src) in files {
        tree.add_file_boxed(&dest, size, src)
            .map_err(|e| usb_err(tsmedia_image::disk::Error::from(e)))?;
    }
    let label: String = plan
        .spec
        .label()
        .to_ascii_uppercase()
        .chars()
        .take(layout_label_max())
        .collect();
    let options = UsbImageOptions {
        guid_seed: plan
            .fixed_time
            .map(|_| u64::from_le_bytes(plan.seed[..8].try_into().unwrap_or([0; 8]))),
        fat: FatOptions {
            label: Some(label),
            fat_type: Some(FatType::Fat32),
            timestamp: plan
                .fixed_time
                .and_then(FatTimestamp::from_unix_seconds)
                .unwrap_or_default(),
            ..FatOptions::default()
        },
        ..UsbImageOptions::default()
    };
    let usb = UsbImagePlan::new(tree, &options).map_err(usb_err)?;
    use std::os::unix::fs::FileTypeExt;
    let is_dev = std::fs::metadata(out).is_ok_and(|m| m.file_type().is_block_device());
    if is_dev {
        let mut f = std::fs::OpenOptions::new().write(true).open(out).at(out)?;
        usb.write_seekable(&mut f).map_err(usb_err)?;
        return Ok(Staged::Done(out.to_path_buf()));
    }
    let mut f = AtomicFile::create(out).map_err(wim(format!("creating {}", out.display())))?;
    usb.write_seekable(&mut f.file).map_err(usb_err)?;
    Ok(Staged::File(f))
}

fn layout_label_max() -> usize {
    crate::preflight::MAX_FAT_LABEL
}

fn write_prestaged(
    plan: &MediaPlan,
    files: Files,
    out: &Path,
    cancel: &Option<Arc<AtomicBool>>,
) -> Result<Staged> {
    let what = || format!("writing {}", out.display());
    let mut w = WimWriter::create(out, write_options(plan, WriteOptions::default(), cancel))
        .map_err(wim(what()))?;
    let t = plan
        .fixed_time
        .map(unix_to_filetime)
        .unwrap_or_else(tsmedia_wim::write::filetime_now);
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        creation_time: t,
        last_write_time: t,
        last_access_time: t,
        ..Dentry::default()
    };
    for (dest, size, src) in files {
        let mut r = src.open().at(Path::new(&dest))?;
        let sha = w
            .write_blob(&mut r, size, None, Path::new(&dest))
            .map_err(wim(what()))?;
        insert(&mut root, &dest, sha, t);
    }
    root.sort_children();
    let image = tsmedia_wim::metadata::Image {
        security: Default::default(),
        root,
    };
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text(
        "NAME",
        format!("Prestaged media {}", plan.spec.label()),
    ));
    let mut desc = format!("boot image {}", plan.boot_image.id);
    if let Some((id, _)) = &plan.task_sequence {
        desc.push_str(&format!(", task sequence {id}"));
    }
    for (k, v) in [
        ("created by", &plan.spec.created_by),
        ("version", &plan.spec.version),
        ("comment", &plan.spec.comment),
    ] {
        if let Some(v) = v {
            desc.push_str(&format!(", {k}: {v}"));
        }
    }
    xml.children.push(Element::with_text("DESCRIPTION", desc));
    w.add_image(&image, xml).map_err(wim(what()))?;
    w.finish(0).map_err(wim(what()))?;
    Ok(Staged::Done(out.to_path_buf()))
}
