//! `tsmedia pe …`: tsmedia PE, the Linux boot environment of the media.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};
use tsmedia_pe::image::{PeDescription, write_wim};
use tsmedia_pe::{PeBuild, PeOptions, build};
use tsmedia_wim::WriteOptions;

#[derive(Subcommand, Debug)]
pub enum PeCommand {
    /// Build tsmedia PE from Debian packages as a WIM boot image
    ///
    /// The packages come from Debian's archive: `scripts/fetch-pe-debs.sh DIR` downloads the
    /// signed kernel, busybox-static, shim-signed, shim-helpers-amd64-signed,
    /// grub-efi-amd64-signed, isolinux, syslinux-common, libc6 and libgcc-s1 into DIR with
    /// apt-get. The same packages and runtime give the same bytes.
    ///
    /// Example:
    ///   scripts/fetch-pe-debs.sh debs && tsmedia pe build --debs debs --out tspe.wim
    ///   tsmedia package add --type boot-image --name "tsmedia PE" tspe.wim
    Build(BuildArgs),
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Folder of .deb files (see above)
    #[arg(long, value_name = "DIR")]
    debs: PathBuf,
    /// The boot image to write (a WIM; written under a temporary name, renamed when complete)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The runtime that becomes the PE's session [default: `tsmedia-runtime` beside this
    /// program, else this program]
    #[arg(long, value_name = "FILE")]
    runtime: Option<PathBuf>,
    /// A kernel module to carry besides the default set (repeatable)
    #[arg(long = "module", value_name = "NAME")]
    modules: Vec<String>,
    /// A kernel command-line argument for both boot loaders (repeatable), e.g. `nomodeset`
    #[arg(long = "kernel-arg", value_name = "ARG", allow_hyphen_values = true)]
    kernel_args: Vec<String>,
    /// Print what was built as JSON on stdout
    #[arg(long)]
    json: bool,
}

/// FILETIME of 1970-01-01: every time in the image, so the bytes depend only on the inputs.
const FIXED_TIME: u64 = 116_444_736_000_000_000;

pub fn run(c: PeCommand) -> Result<()> {
    match c {
        PeCommand::Build(a) => build_cmd(a),
    }
}

fn build_cmd(a: BuildArgs) -> Result<()> {
    let runtime = match a.runtime {
        Some(r) => r,
        None => default_runtime()?,
    };
    let pe = build_wim(
        &PeOptions {
            debs: a.debs.clone(),
            runtime,
            extra_modules: a.modules,
            kernel_args: a.kernel_args,
        },
        &a.out,
    )?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    if a.json {
        let mut v = serde_json::to_value(PeDescription::of(&pe))?;
        v["out"] = serde_json::json!(a.out);
        v["bytes"] = serde_json::json!(size);
        v["initramfs_bytes"] = serde_json::json!(pe.initramfs_bytes);
        v["modules_absent"] = serde_json::json!(pe.modules_absent);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "tsmedia PE: Linux {} ({}), {} modules, initramfs {:.1} MiB, boot image {} {:.1} MiB",
            pe.kernel_version,
            pe.arch,
            pe.modules.len(),
            pe.initramfs_bytes as f64 / 1048576.0,
            a.out.display(),
            size as f64 / 1048576.0
        );
        if !pe.modules_absent.is_empty() {
            println!(
                "  not in this kernel (passed over): {}",
                pe.modules_absent.join(", ")
            );
        }
    }
    Ok(())
}

/// Builds tsmedia PE and writes it as the WIM `out`: the same inputs give the same bytes (the
/// WIM's GUID is a hash of the files; every time is fixed).
pub fn build_wim(opts: &PeOptions, out: &Path) -> Result<PeBuild> {
    let pe = build(opts)?;
    let mut h = Sha256::new();
    for f in &pe.files {
        h.update(f.path.as_bytes());
        h.update(&f.data);
    }
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&h.finalize()[..16]);
    let wim_opts = WriteOptions {
        guid: Some(guid),
        timestamp: Some(FIXED_TIME),
        ..WriteOptions::default()
    };
    write_wim(&pe, out, wim_opts, FIXED_TIME)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(pe)
}

/// `tsmedia-runtime` beside this program, else this program (which has `client run` too).
pub fn default_runtime() -> Result<PathBuf> {
    let me = std::env::current_exe().context("finding this program's path")?;
    let beside = me
        .parent()
        .unwrap_or(Path::new("."))
        .join("tsmedia-runtime");
    Ok(if beside.is_file() { beside } else { me })
}
