//! `cargo xtask bench media`: media builds against the reference tools on the same staged tree.
//!
//! Set-up (not timed): `tsmedia demo` makes a site with a Windows-PE-shaped boot image and an
//! OS image; the reference corpus's `Windows` tree (275 MB) is added as a package, a task sequence referencing both is
//! deployed to media and distributed.
//!
//! Timed, both tools in the same run, median of `--runs`:
//! - **prestaged**: `tsmedia media create prestaged` (preflight, Argon2id key, boot.wim with
//!   the media configuration, LZX WIM of boot files + OS image + content) against
//!   `wimlib-imagex capture` (LZX, its default) of the tree our WIM holds, applied beforehand.
//! - **ISO**: `tsmedia media create standalone --type cd-dvd --size unlimited` (ISO 9660 +
//!   Joliet + UDF bridge + El Torito BIOS/UEFI) against `xorriso -as mkisofs` (ISO 9660 +
//!   Joliet + El Torito BIOS/UEFI; xorriso writes no UDF) of the tree our ISO holds.

use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};

use crate::bench_wim::{self, BenchOptions, WIMLIB};
use crate::report::{Table, thousands};
use crate::run::{self, Cmd, Sample, Summary};

const XORRISO: &str = "xorriso";
const PASSWORD: &str = "bench";

struct Setup {
    tsmedia: PathBuf,
    site: PathBuf,
    work: PathBuf,
    boot: String,
    os: String,
    pkg: String,
    ts: String,
}

pub fn run(o: &BenchOptions) -> Result<()> {
    run::checked(&Cmd::new(WIMLIB).arg("--version"))
        .map_err(|e| anyhow::anyhow!("{e:#}\napt-get install -y wimtools"))?;
    run::checked(&Cmd::new(XORRISO).arg("-version"))
        .map_err(|e| anyhow::anyhow!("{e:#}\napt-get install -y xorriso"))?;
    run::check_gnu_time()?;
    let p = bench_wim::paths(o)?;
    bench_wim::build_tsmedia()?;
    bench_wim::prepare_corpus(o, &p)?;
    let s = setup(&p.tsmedia, &p.target.join("bench-media"), &p.corpus)?;
    let rss = s.work.join("rss.txt");

    // Prestaged media.
    let ours_wim = s.work.join("prestaged.wim");
    let ours = media_cmd(&s, "prestaged")
        .arg("--out")
        .arg(&ours_wim)
        .arg("--os-image")
        .arg(&s.os);
    let staged = s.work.join("staged");
    let wimlib_wim = s.work.join("wimlib.wim");
    let mut pre = (Vec::new(), Vec::new());
    for i in 0..o.runs {
        eprintln!("prestaged run {}/{} ...", i + 1, o.runs);
        remove(&ours_wim)?;
        sync();
        pre.0.push(run::timed(&ours, &rss)?);
        if i == 0 {
            fresh(&staged)?;
            run::checked(&Cmd::new(WIMLIB).arg("apply").arg(&ours_wim).arg(&staged))?;
        }
        remove(&wimlib_wim)?;
        sync();
        pre.1.push(run::timed(
            &Cmd::new(WIMLIB)
                .arg("capture")
                .arg(&staged)
                .arg(&wimlib_wim)
                .arg(format!("--threads={}", o.threads)),
            &rss,
        )?);
    }
    let pre_sizes = (file_len(&ours_wim)?, file_len(&wimlib_wim)?);
    run::checked(&Cmd::new(WIMLIB).arg("verify").arg(&ours_wim))?;

    // Stand-alone ISO.
    let iso_dir = s.work.join("iso");
    let ours_iso = iso_dir.join("iso.iso");
    let ours = media_cmd(&s, "standalone")
        .arg("--type")
        .arg("cd-dvd")
        .arg("--size")
        .arg("unlimited")
        .arg("--out")
        .arg(&iso_dir);
    let tree = s.work.join("iso-tree");
    let xorriso_iso = s.work.join("xorriso.iso");
    let mut iso = (Vec::new(), Vec::new());
    for i in 0..o.runs {
        eprintln!("ISO run {}/{} ...", i + 1, o.runs);
        fresh(&iso_dir)?;
        sync();
        iso.0.push(run::timed(&ours, &rss)?);
        if i == 0 {
            fresh(&tree)?;
            run::checked(
                &Cmd::new(XORRISO)
                    .arg("-osirrox")
                    .arg("on")
                    .arg("-indev")
                    .arg(&ours_iso)
                    .arg("-extract")
                    .arg("/")
                    .arg(&tree),
            )?;
        }
        remove(&xorriso_iso)?;
        sync();
        iso.1
            .push(run::timed(&xorriso_cmd(&tree, &xorriso_iso), &rss)?);
    }
    let iso_sizes = (file_len(&ours_iso)?, file_len(&xorriso_iso)?);

    let staged_bytes = crate::tree::stats(&staged)?.bytes;
    let mut t = Table::new(&[
        "build",
        "input bytes",
        "ours s",
        "ref s",
        "ours CPU s",
        "ref CPU s",
        "ours RSS MiB",
        "ref RSS MiB",
        "output ours/ref",
        "time ours/ref",
    ]);
    row(
        &mut t,
        "prestaged WIM vs wimlib-imagex capture (LZX)",
        staged_bytes,
        &pre,
        pre_sizes,
    )?;
    row(
        &mut t,
        "stand-alone ISO vs xorriso -as mkisofs",
        staged_bytes,
        &iso,
        iso_sizes,
    )?;
    let md = t.markdown();
    let md_path = p.target.join("bench-media.md");
    fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    if o.markdown {
        print!("{md}");
    } else {
        print!("{}", t.plain());
    }
    eprintln!("markdown written to {}", md_path.display());
    Ok(())
}

fn row(
    t: &mut Table,
    name: &str,
    input: u64,
    samples: &(Vec<Sample>, Vec<Sample>),
    sizes: (u64, u64),
) -> Result<()> {
    let ours = Summary::of(&samples.0).context("no runs")?;
    let reference = Summary::of(&samples.1).context("no runs")?;
    t.row(vec![
        name.into(),
        thousands(input),
        format!("{:.2}", ours.secs),
        format!("{:.2}", reference.secs),
        format!("{:.2}", ours.cpu_secs),
        format!("{:.2}", reference.cpu_secs),
        format!("{:.0}", ours.peak_rss_kib as f64 / 1024.0),
        format!("{:.0}", reference.peak_rss_kib as f64 / 1024.0),
        format!("{:.3}", sizes.0 as f64 / sizes.1 as f64),
        format!("{:.2}", ours.secs / reference.secs),
    ]);
    Ok(())
}

fn xorriso_cmd(tree: &Path, out: &Path) -> Cmd {
    Cmd::new(XORRISO)
        .arg("-as")
        .arg("mkisofs")
        .arg("-quiet")
        .arg("-iso-level")
        .arg("3")
        .arg("-J")
        .arg("-joliet-long")
        .arg("-V")
        .arg("BENCH")
        .arg("-b")
        .arg("boot/etfsboot.com")
        .arg("-no-emul-boot")
        .arg("-boot-load-size")
        .arg("4")
        .arg("-eltorito-alt-boot")
        .arg("-e")
        .arg("EFI/Microsoft/Boot/efisys.bin")
        .arg("-no-emul-boot")
        .arg("-o")
        .arg(out)
        .arg(tree)
}

fn media_cmd(s: &Setup, kind: &str) -> Cmd {
    Cmd::new(&s.tsmedia)
        .arg("media")
        .arg("create")
        .arg(kind)
        .arg("--site")
        .arg(&s.site)
        .arg("--boot-image")
        .arg(&s.boot)
        .arg("--ts")
        .arg(&s.ts)
        .arg("--dp")
        .arg("dp1")
        .arg("--package")
        .arg(&s.pkg)
        .arg("--password")
        .arg(PASSWORD)
}

/// The demo site plus the corpus as a package and a task sequence using it.
fn setup(tsmedia: &Path, work: &Path, corpus: &Path) -> Result<Setup> {
    fresh(work)?;
    let demo = work.join("demo");
    eprintln!("building the demo site in {} ...", demo.display());
    run::checked(
        &Cmd::new(tsmedia)
            .arg("demo")
            .arg("--no-boot")
            .arg("--dir")
            .arg(&demo),
    )?;
    let site = demo.join("site");
    let list = run::checked(
        &Cmd::new(tsmedia)
            .arg("package")
            .arg("list")
            .arg("--site")
            .arg(&site)
            .arg("--json"),
    )?;
    let list: serde_json::Value =
        serde_json::from_str(&list).context("package list --json printed no JSON")?;
    let id_of = |kind: &str| -> Result<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .find(|p| p["type"] == kind)
            .and_then(|p| p["id"].as_str())
            .map(str::to_string)
            .with_context(|| format!("no {kind} in the demo site"))
    };
    let (boot, os) = (id_of("boot-image")?, id_of("os-image")?);
    eprintln!("importing the corpus as a package ...");
    let added = run::checked(
        &Cmd::new(tsmedia)
            .arg("package")
            .arg("add")
            .arg("--site")
            .arg(&site)
            .arg("--type")
            .arg("package")
            .arg("--name")
            .arg("Bench corpus")
            // `special/` holds symbolic links, which packages do not take.
            .arg(corpus.join("Windows"))
            .arg("--json"),
    )?;
    let pkg = json_id(&added).context("package add printed no id")?;
    let ts_xml = work.join("bench-ts.xml");
    fs::write(
        &ts_xml,
        format!(
            r#"<sequence version="3.10"><referenceList><reference package="{os}" /><reference package="{pkg}" /></referenceList>
<step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System"><action>OSDApplyOS.exe /image:{os},1</action></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Use corpus" package="{pkg}"><action>true</action></step></sequence>"#
        ),
    )
    .with_context(|| format!("writing {}", ts_xml.display()))?;
    let ts = json_id(&run::checked(
        &Cmd::new(tsmedia)
            .arg("ts")
            .arg("import")
            .arg("--site")
            .arg(&site)
            .arg("--name")
            .arg("Bench")
            .arg("--boot-image")
            .arg(&boot)
            .arg(&ts_xml)
            .arg("--json"),
    )?)
    .context("ts import printed no id")?;
    run::checked(
        &Cmd::new(tsmedia)
            .arg("deploy")
            .arg("--site")
            .arg(&site)
            .arg("--collection")
            .arg("All Unknown Computers")
            .arg("--availability")
            .arg("media-pxe")
            .arg(&ts),
    )?;
    run::checked(
        &Cmd::new(tsmedia)
            .arg("content")
            .arg("distribute")
            .arg("--site")
            .arg(&site)
            .arg("--dp")
            .arg("dp1")
            .arg(&pkg),
    )?;
    Ok(Setup {
        tsmedia: tsmedia.to_path_buf(),
        site,
        work: work.to_path_buf(),
        boot,
        os,
        pkg,
        ts,
    })
}

/// The `id` of a `--json` answer.
fn json_id(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["id"].as_str().map(str::to_string)
}

fn fresh(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn remove(file: &Path) -> Result<()> {
    match fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", file.display()))
        }
        _ => Ok(()),
    }
}

fn file_len(p: &Path) -> Result<u64> {
    let n = fs::metadata(p)
        .with_context(|| format!("{} was not written", p.display()))?
        .len();
    if n == 0 {
        bail!("{} is empty", p.display());
    }
    Ok(n)
}

fn sync() {
    let _ = std::process::Command::new("sync").status();
}

#[cfg(test)]
mod tests {
    use super::json_id;

    #[test]
    fn id_of_json() {
        assert_eq!(
            json_id("{\n  \"id\": \"DEM00005\",\n  \"name\": \"x\"}").as_deref(),
            Some("DEM00005")
        );
        assert_eq!(json_id("{}"), None);
    }
}
