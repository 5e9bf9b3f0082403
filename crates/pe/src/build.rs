//! Putting tsmedia PE together: the kernel, an initramfs (busybox, the chosen modules, the
//! runtime and the libraries it is linked against, `/init`), and the boot loaders for BIOS and
//! UEFI with Secure Boot, as a list of files for the boot image.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;

use crate::deb::{DataEntry, Deb, EntryKind};
use crate::error::{Error, Result};
use crate::modules::{self, ModInfo};
use crate::newc::Initramfs;
use crate::packages::{PackageSet, Role};
use crate::runtime::RuntimeElf;
use crate::session;

/// What to build.
#[derive(Debug, Clone)]
pub struct PeOptions {
    /// The folder of `.deb` files (see [`crate::packages::FETCH_HINT`]). Required.
    pub debs: PathBuf,
    /// The runtime executable that becomes the PE's session (`tsmedia-runtime`). Required.
    pub runtime: PathBuf,
    /// Modules to carry besides [`modules::DEFAULT_MODULES`]. Default: none.
    pub extra_modules: Vec<String>,
    /// Kernel command-line arguments after [`session::KERNEL_ARGS`] (`nomodeset`, …).
    /// Default: none.
    pub kernel_args: Vec<String>,
}

/// One file of the boot image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeFile {
    /// Path in the boot image (`boot/vmlinuz`).
    pub path: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Whether the bytes are compressed already (kernel, initramfs): stored as they are.
    pub compressed: bool,
}

/// The built PE: its files and what it is made of.
#[derive(Debug, Clone)]
pub struct PeBuild {
    /// The kernel release (`6.1.0-57-amd64`).
    pub kernel_version: String,
    /// `amd64`.
    pub arch: String,
    /// Package name → version, for every package used.
    pub packages: BTreeMap<String, String>,
    /// Modules carried, in load order.
    pub modules: Vec<String>,
    /// Wanted modules the kernel has neither as a module nor built in.
    pub modules_absent: Vec<String>,
    /// Bytes of the gzip initramfs.
    pub initramfs_bytes: u64,
    /// The files of the boot image, sorted by path.
    pub files: Vec<PeFile>,
}

/// Builds tsmedia PE from the packages in `opts.debs`.
pub fn build(opts: &PeOptions) -> Result<PeBuild> {
    let set = PackageSet::find(&opts.debs)?;
    let runtime = RuntimeElf::read(&opts.runtime)?;
    let mut root = Initramfs::new();
    let mut files = Vec::new();

    let kernel = kernel(set.get(Role::Kernel), opts, &mut root)?;
    files.push(PeFile {
        path: "boot/vmlinuz".into(),
        data: kernel.image,
        compressed: true,
    });

    let busybox = one_file(set.get(Role::Busybox), "bin/busybox")?;
    root.file("bin/busybox", 0o755, busybox);
    // The other applets are linked by `/init` (`busybox --install`); the shell must exist first.
    root.symlink("bin/sh", "busybox");

    libraries(&set, &runtime, &mut root)?;
    ntfs_3g(&set, &mut root)?;
    root.file(session::RUNTIME_PATH, 0o755, runtime.bytes);
    root.file("init", 0o755, session::init_script().into_bytes());
    root.file(
        session::UDHCPC_SCRIPT,
        0o755,
        session::udhcpc_script().into_bytes(),
    );
    root.file(
        &format!("lib/modules/{}/tsmedia.load", kernel.version),
        0o644,
        kernel.always.into_bytes(),
    );
    root.char_device("dev/console", 0o600, 5, 1);
    root.char_device("dev/null", 0o666, 1, 3);
    for d in ["proc", "sys", "dev", "run", "tmp", "mnt", "etc", "root"] {
        root.dir(d);
    }
    let initramfs = root.to_gzip();
    let initramfs_bytes = initramfs.len() as u64;
    files.push(PeFile {
        path: "boot/initrd.gz".into(),
        data: initramfs,
        compressed: true,
    });

    let efi = [
        (
            Role::Shim,
            "usr/lib/shim/shimx64.efi.signed",
            "EFI/boot/bootx64.efi",
        ),
        (
            Role::ShimHelpers,
            "usr/lib/shim/mmx64.efi.signed",
            "EFI/boot/mmx64.efi",
        ),
        (
            Role::Grub,
            "usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
            "EFI/boot/grubx64.efi",
        ),
        (
            Role::Isolinux,
            "usr/lib/ISOLINUX/isolinux.bin",
            "isolinux/isolinux.bin",
        ),
        (
            Role::Isolinux,
            "usr/lib/ISOLINUX/isohdpfx.bin",
            "isolinux/isohdpfx.bin",
        ),
        (
            Role::Syslinux,
            "usr/lib/syslinux/modules/bios/ldlinux.c32",
            "isolinux/ldlinux.c32",
        ),
    ];
    for (role, from, to) in efi {
        files.push(PeFile {
            path: to.into(),
            data: one_file(set.get(role), from)?,
            compressed: false,
        });
    }
    for (path, text) in session::loader_configs(&opts.kernel_args) {
        files.push(PeFile {
            path: path.into(),
            data: text.into_bytes(),
            compressed: false,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));

    Ok(PeBuild {
        kernel_version: kernel.version,
        arch: "amd64".into(),
        packages: set
            .by_role
            .values()
            .map(|d| (d.package.clone(), d.version.clone()))
            .collect(),
        modules: kernel.modules,
        modules_absent: kernel.absent,
        initramfs_bytes,
        files,
    })
}

/// The kernel image and the modules carried (added to `root`).
struct Kernel {
    version: String,
    image: Vec<u8>,
    modules: Vec<String>,
    absent: Vec<String>,
    /// The modules loaded at every boot (see [`session::always_load`]).
    always: String,
}

fn kernel(deb: &Deb, opts: &PeOptions, root: &mut Initramfs) -> Result<Kernel> {
    // First pass: the kernel image, modules.builtin and every module's .modinfo.
    let mut image = None;
    let mut builtin = BTreeSet::new();
    let mut infos: BTreeMap<String, ModInfo> = BTreeMap::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    let mut version = None;
    deb.for_each_entry(&mut |e: &DataEntry, r: &mut dyn Read| {
        if e.kind != EntryKind::File {
            return Ok(true);
        }
        if let Some(v) = e.path.strip_prefix("boot/vmlinuz-") {
            version = Some(v.to_string());
            image = Some(read_all(deb, e, r)?);
        } else if let Some(rest) = e.path.strip_prefix("lib/modules/") {
            let (ver, inner) = rest.split_once('/').unwrap_or((rest, ""));
            if inner == "modules.builtin" {
                let text = String::from_utf8_lossy(&read_all(deb, e, r)?).into_owned();
                builtin.extend(text.lines().filter_map(|l| {
                    let file = l.rsplit('/').next()?;
                    Some(modules::normalise(file.trim_end_matches(".ko")))
                }));
            } else if inner.ends_with(".ko") {
                let file = inner.rsplit('/').next().unwrap_or(inner);
                let info =
                    modules::read_modinfo(&read_all(deb, e, r)?, file).map_err(|reason| {
                        Error::Module {
                            module: format!("{} in {}", inner, deb.path.display()),
                            reason,
                        }
                    })?;
                paths.insert(info.name.clone(), format!("{ver}/{inner}"));
                infos.insert(info.name.clone(), info);
            }
        }
        Ok(true)
    })?;
    let (Some(version), Some(image)) = (version, image) else {
        return Err(Error::MissingFile {
            path: deb.path.clone(),
            package: deb.package.clone(),
            file: "boot/vmlinuz-*".into(),
        });
    };
    let wanted: Vec<String> = modules::DEFAULT_MODULES
        .iter()
        .map(|s| s.to_string())
        .chain(opts.extra_modules.iter().cloned())
        .collect();
    let (order, absent) = modules::select(&infos, &wanted, &builtin)?;
    if let Some(extra) = opts
        .extra_modules
        .iter()
        .find(|m| absent.contains(&modules::normalise(m)))
    {
        return Err(Error::Module {
            module: extra.clone(),
            reason: format!("asked for with --module, but kernel {version} has no such module"),
        });
    }

    // Second pass: the bytes of the modules carried.
    let carried: BTreeSet<&String> = order.iter().collect();
    let wanted_paths: BTreeMap<String, String> = paths
        .iter()
        .filter(|(name, _)| carried.contains(name))
        .map(|(name, path)| (format!("lib/modules/{path}"), name.clone()))
        .collect();
    let mut found = 0usize;
    deb.for_each_entry(&mut |e: &DataEntry, r: &mut dyn Read| {
        if e.kind == EntryKind::File && wanted_paths.contains_key(&e.path) {
            root.file(&e.path, 0o644, read_all(deb, e, r)?);
            found += 1;
        }
        Ok(found < wanted_paths.len())
    })?;
    let rel: BTreeMap<String, String> = paths
        .iter()
        .filter(|(name, _)| carried.contains(name))
        .map(|(name, p)| {
            let inner = p.split_once('/').map(|(_, i)| i).unwrap_or(p);
            (name.clone(), inner.to_string())
        })
        .collect();
    let dir = format!("lib/modules/{version}");
    root.file(
        &format!("{dir}/modules.dep"),
        0o644,
        modules::modules_dep(&order, &infos, &rel).into_bytes(),
    );
    root.file(
        &format!("{dir}/modules.alias"),
        0o644,
        modules::modules_alias(&order, &infos).into_bytes(),
    );
    root.file(
        &format!("{dir}/modules.builtin"),
        0o644,
        builtin
            .iter()
            .map(|b| format!("{b}.ko\n"))
            .collect::<String>()
            .into_bytes(),
    );
    Ok(Kernel {
        always: session::always_load(&order, &infos),
        version,
        image,
        modules: order,
        absent,
    })
}

/// NTFS-3G (`docs/tsmedia-pe.md`, "NTFS inside the PE"): `mkntfs` and the `ntfs-3g` FUSE
/// driver, with the library they share. Both need only it and libc (which
/// [`libraries`] always carries); FUSE comes from the kernel's `fuse` module and `/dev/fuse`.
fn ntfs_3g(set: &PackageSet, root: &mut Initramfs) -> Result<()> {
    let tools = set.get(Role::Ntfs3g);
    root.file("bin/ntfs-3g", 0o755, one_file(tools, "bin/ntfs-3g")?);
    root.file("sbin/mkntfs", 0o755, one_file(tools, "sbin/mkntfs")?);
    let lib = set.get(Role::LibNtfs3g);
    root.file(
        &format!("lib/x86_64-linux-gnu/{NTFS_3G_LIB}"),
        0o755,
        one_file(lib, &format!("lib/x86_64-linux-gnu/{NTFS_3G_LIB}.0.0"))?,
    );
    // Mount helpers look for the mount table there.
    root.symlink("etc/mtab", "/proc/self/mounts");
    Ok(())
}

/// The soname of NTFS-3G's library in `libntfs-3g89`.
const NTFS_3G_LIB: &str = "libntfs-3g.so.89";

/// What the NTFS-3G programs are linked against besides their own library.
const NTFS_3G_NEEDS: [&str; 2] = ["libc.so.6", "ld-linux-x86-64.so.2"];

/// Where the NTFS-3G programs' loader is looked for.
const NTFS_3G_INTERP: &str = "lib64/ld-linux-x86-64.so.2";

/// The shared libraries the runtime needs (and its program interpreter), from libc6 and
/// libgcc-s1, at the paths the runtime's loader looks in.
fn libraries(set: &PackageSet, runtime: &RuntimeElf, root: &mut Initramfs) -> Result<()> {
    let mut needed: BTreeSet<String> = runtime.needed.iter().cloned().collect();
    let interp_name = runtime
        .interpreter
        .as_deref()
        .and_then(|i| i.rsplit('/').next())
        .map(str::to_string);
    needed.extend(interp_name.clone());
    // NTFS-3G's programs need libc and its loader whatever the runtime is linked against.
    needed.extend(NTFS_3G_NEEDS.iter().map(|n| n.to_string()));
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for role in [Role::Libc, Role::Libgcc] {
        let deb = set.get(role);
        deb.for_each_entry(&mut |e: &DataEntry, r: &mut dyn Read| {
            let name = e.path.rsplit('/').next().unwrap_or("");
            if e.kind == EntryKind::File
                && e.path.contains("x86_64-linux-gnu/")
                && needed.contains(name)
            {
                found.insert(name.to_string(), read_all(deb, e, r)?);
            }
            Ok(true)
        })?;
    }
    for name in &needed {
        let Some(bytes) = found.remove(name) else {
            return Err(Error::Runtime {
                path: runtime.path.clone(),
                reason: format!(
                    "needs {name}, which neither libc6 nor libgcc-s1 in the package folder has"
                ),
            });
        };
        root.file(&format!("lib/x86_64-linux-gnu/{name}"), 0o755, bytes);
    }
    let mut linked = false;
    if let (Some(interp), Some(name)) = (&runtime.interpreter, interp_name) {
        let interp = interp.trim_start_matches('/');
        if interp != format!("lib/x86_64-linux-gnu/{name}") {
            root.symlink(interp, &format!("/lib/x86_64-linux-gnu/{name}"));
            linked = interp == NTFS_3G_INTERP;
        }
    }
    if !linked {
        root.symlink(NTFS_3G_INTERP, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    }
    Ok(())
}

/// The bytes of one regular file of a package.
fn one_file(deb: &Deb, path: &str) -> Result<Vec<u8>> {
    let mut data = None;
    deb.for_each_entry(&mut |e: &DataEntry, r: &mut dyn Read| {
        if e.kind == EntryKind::File && e.path == path {
            data = Some(read_all(deb, e, r)?);
            return Ok(false);
        }
        Ok(true)
    })?;
    data.ok_or_else(|| Error::MissingFile {
        path: deb.path.clone(),
        package: deb.package.clone(),
        file: path.to_string(),
    })
}

fn read_all(deb: &Deb, e: &DataEntry, r: &mut dyn Read) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(e.size.min(1 << 26) as usize);
    r.read_to_end(&mut data).map_err(|err| Error::Deb {
        path: deb.path.clone(),
        reason: format!("{} is damaged: {err}", e.path),
    })?;
    Ok(data)
}
