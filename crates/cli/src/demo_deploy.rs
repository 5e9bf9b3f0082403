//! The deployment half of `tsmedia demo`, the real job: tsmedia PE is built from Debian's
//! packages, a demo site gets it as boot image with a small data image and a task sequence
//! (Run Command Line, Format and Partition Disk, Apply Data Image), stand-alone media are made,
//! and QEMU boots them with a blank virtual disk. The console is shown as it runs; the demo
//! types the media password on it like an operator would, waits for the machine to power off,
//! then reads the deployed disk back with tsmedia's own GPT and FAT readers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use tsmedia_image::disk::open_fat_volume;
use tsmedia_media::{BuildOptions, MediaKind, MediaSpec};
use tsmedia_pe::PeOptions;
use tsmedia_site::{PackageOptions, PackageType, Site};
use tsmedia_wim::capture::{self, CaptureOptions};
use tsmedia_wim::{WimWriter, WriteOptions};

/// The firmware the demo machine starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Firmware {
    /// SeaBIOS
    Bios,
    /// OVMF (package ovmf)
    Uefi,
    /// OVMF with Microsoft's keys and Secure Boot enforcing (package ovmf)
    SecureBoot,
}

/// The demo's media password, typed on the virtual machine's console.
const PASSWORD: &str = "demo";
/// A bound on the whole boot (TCG emulation is slow, but not this slow).
const BOOT_BOUND: Duration = Duration::from_secs(900);

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// Checks what the deployment needs before anything is built; says exactly what is missing.
pub fn check(debs: &Path, firmware: Firmware) -> Result<()> {
    let mut missing = Vec::new();
    let has_kernel = std::fs::read_dir(debs)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
        })
        .unwrap_or(false);
    if !has_kernel {
        missing.push(format!(
            "tsmedia PE's Debian packages in {}: run `scripts/fetch-pe-debs.sh {}`",
            debs.display(),
            debs.display()
        ));
    }
    if !on_path("qemu-system-x86_64") {
        missing.push("QEMU: `sudo apt-get install qemu-system-x86`".into());
    }
    if firmware != Firmware::Bios && !Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").is_file() {
        missing.push("OVMF: `sudo apt-get install ovmf`".into());
    }
    if !missing.is_empty() {
        bail!(
            "the demo deployment needs:\n  {}\n(or run `tsmedia demo --no-boot` for the rest of the demo; `scripts/demo.sh` installs all of it)",
            missing.join("\n  ")
        );
    }
    Ok(())
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// The files of the demo data image.
fn data_files() -> Vec<(&'static str, Vec<u8>)> {
    let table: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    vec![
        (
            "Windows/System32/drivers/etc/hosts",
            b"127.0.0.1 localhost\r\n".to_vec(),
        ),
        ("Windows/System32/config/DEMO", table),
        (
            "Users/Public/Desktop/readme.txt",
            b"Deployed by tsmedia from tsmedia PE.\r\n".to_vec(),
        ),
    ]
}

/// Builds everything under `dir/deploy` and deploys a virtual disk; prints what it does.
pub fn run(dir: &Path, debs: &Path, firmware: Firmware) -> Result<()> {
    let work = dir.join("deploy");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;

    let t = Instant::now();
    let pe_wim = work.join("tspe.wim");
    let runtime = crate::pe_cmd::default_runtime()?;
    let pe = crate::pe_cmd::build_wim(
        &PeOptions {
            debs: debs.to_path_buf(),
            runtime: runtime.clone(),
            extra_modules: Vec::new(),
            kernel_args: vec!["tsmedia.failwait=10".into()],
        },
        &pe_wim,
    )?;
    println!(
        "built tsmedia PE (Linux {}, {} modules, runtime {}) as {} in {:.2?}",
        pe.kernel_version,
        pe.modules.len(),
        runtime.display(),
        pe_wim.display(),
        t.elapsed()
    );

    let t = Instant::now();
    let data = work.join("data");
    for (path, bytes) in data_files() {
        write(&data.join(path), &bytes)?;
    }
    let data_wim = work.join("data.wim");
    let mut w = WimWriter::create(&data_wim, WriteOptions::default())?;
    capture::capture(
        &data,
        &mut w,
        &CaptureOptions {
            name: Some("Demo data".into()),
            ..CaptureOptions::default()
        },
    )?;
    w.finish(0)?;
    let mut site = Site::init(&work.join("site"), "DPE", Some("Demo site (tsmedia PE)"))?;
    let boot = site.add_package(
        PackageType::BootImage,
        "tsmedia PE",
        &pe_wim,
        &PackageOptions::default(),
    )?;
    let image = site.add_package(
        PackageType::OsImage,
        "Demo data",
        &data_wim,
        &PackageOptions::default(),
    )?;
    let xml = format!(
        r#"<sequence version="3.10"><referenceList><reference package="{image}" /></referenceList>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Say hello">
  <defaultVarList><variable name="CommandLine" property="CommandLine">echo "Hello from $(uname -sr) in tsmedia PE"</variable></defaultVarList></step>
<step type="SMS_TaskSequence_PartitionDiskAction" name="Format and Partition Disk 0">
  <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">GPT</variable>
  <variable name="OSDPartitions0VolumeName" property="VolumeName">DEMO</variable>
  <variable name="OSDPartitions0VolumeLetterVariable" property="VolumeLetterVariable">OSDisk</variable></defaultVarList></step>
<step type="SMS_TaskSequence_ApplyDataImageAction" name="Apply Data Image">
  <action>OSDApplyOS.exe /image:{image},1</action></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Leave a note">
  <defaultVarList><variable name="CommandLine" property="CommandLine">echo "$_SMSTSMediaType media, task sequence $_SMSTSStandAloneTSID" &gt; "$OSDisk/deployed.txt"</variable></defaultVarList></step>
</sequence>"#,
        image = image.id
    );
    let ts = site.import_task_sequence(&xml, "Demo deployment", Some(&boot.id))?;
    site.add_distribution_point("dp1", "http://dp1.demo.invalid")?;
    site.grant_dp_read("dp1", "Everyone")?;
    site.distribute(&[boot.id.clone(), image.id.clone()], "dp1")?;
    let spec = MediaSpec {
        kind: MediaKind::Standalone,
        out: work.join("media"),
        ts: Some(ts.id.clone()),
        dp: vec!["dp1".into()],
        password: Some(PASSWORD.into()),
        label: Some("TSMEDIA_DEMO".into()),
        ..MediaSpec::default()
    };
    let plan = tsmedia_media::preflight(&site, &spec).map_err(tsmedia_media::Error::Preflight)?;
    let report = tsmedia_media::build(&mut site, &plan, &BuildOptions::default())?;
    let iso = report
        .outputs
        .first()
        .cloned()
        .context("the media build wrote no ISO")?;
    println!(
        "built stand-alone media {} (task sequence {}, password {PASSWORD:?}) in {:.2?}",
        iso.display(),
        ts.id,
        t.elapsed()
    );

    let disk = work.join("disk.img");
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(128 << 20))
        .with_context(|| format!("creating {}", disk.display()))?;
    println!(
        "booting {} in QEMU ({firmware:?}, TCG) with the blank disk {}; its console follows",
        iso.display(),
        disk.display()
    );
    boot_vm(&work, &iso, &disk, firmware)?;
    check_disk(&disk, &data)
}

/// QEMU's firmware arguments; OVMF's variable store is copied into `work`.
fn firmware_args(work: &Path, firmware: Firmware) -> Result<Vec<String>> {
    let vars = |from: &str| -> Result<String> {
        let to = work.join("ovmf-vars.fd");
        std::fs::copy(from, &to).with_context(|| format!("copying {from}"))?;
        Ok(format!("if=pflash,format=raw,file={}", to.display()))
    };
    Ok(match firmware {
        Firmware::Bios => vec![],
        Firmware::Uefi => vec![
            "-machine".into(),
            "q35".into(),
            "-drive".into(),
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd".into(),
            "-drive".into(),
            vars("/usr/share/OVMF/OVMF_VARS_4M.fd")?,
        ],
        Firmware::SecureBoot => vec![
            "-machine".into(),
            "q35,smm=on".into(),
            "-global".into(),
            "driver=cfi.pflash01,property=secure,value=on".into(),
            "-drive".into(),
            "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
                .into(),
            "-drive".into(),
            vars("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")?,
        ],
    })
}

/// Boots the media; shows the console, types the password at its prompt, waits for power-off.
fn boot_vm(work: &Path, iso: &Path, disk: &Path, firmware: Firmware) -> Result<()> {
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-m",
            "1024",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "stdio",
        ])
        .args(["-no-reboot", "-net", "none"])
        .args(firmware_args(work, firmware)?)
        .arg("-drive")
        .arg(format!("file={},media=cdrom,readonly=on", iso.display()))
        .arg("-drive")
        .arg(format!("if=virtio,format=raw,file={}", disk.display()))
        .args(["-boot", "d"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting qemu-system-x86_64")?;
    let mut stdin = child.stdin.take().context("QEMU's console input")?;
    let mut stdout = child.stdout.take().context("QEMU's console output")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut console = Vec::new();
    let mut typed = false;
    let mut out = std::io::stdout();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(bytes) => {
                let _ = out.write_all(&bytes);
                let _ = out.flush();
                console.extend_from_slice(&bytes);
                if !typed && String::from_utf8_lossy(&console).contains("Media password:") {
                    stdin.write_all(format!("{PASSWORD}\r").as_bytes())?;
                    stdin.flush()?;
                    typed = true;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if started.elapsed() > BOOT_BOUND {
            let _ = child.kill();
            bail!("the virtual machine did not power off within {BOOT_BOUND:?}");
        }
    }
    let status = child.wait()?;
    let text = String::from_utf8_lossy(&console);
    println!();
    if !status.success() {
        bail!("QEMU exited with {status}");
    }
    if !text.contains("tsmedia PE: the task sequence completed.") {
        bail!("the task sequence did not complete (see the console above)");
    }
    println!(
        "the task sequence completed and the machine powered off after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads the deployed disk with tsmedia's own readers: the data image's files and the log.
fn check_disk(disk: &Path, data: &Path) -> Result<()> {
    let file = std::fs::File::open(disk)?;
    let (mut fat, partition) = open_fat_volume(file)
        .with_context(|| format!("reading the deployed disk {}", disk.display()))?;
    let partition = partition.context("the deployed disk has no partition")?;
    for (path, bytes) in data_files() {
        let got = fat
            .read_file(path, 1 << 24)
            .with_context(|| format!("{path} on the deployed disk"))?;
        if got != bytes {
            bail!(
                "{path} on the deployed disk differs from {}",
                data.join(path).display()
            );
        }
    }
    let note = fat.read_file("deployed.txt", 4096)?;
    let log = fat.read_file("_SMSTaskSequence/Logs/smsts.log", 1 << 24)?;
    println!(
        "deployed disk {}: partition {} ({:?}, {} MiB), the data image's {} files match, \
         deployed.txt says {:?}, smsts.log {} lines (CMTrace)",
        disk.display(),
        partition.number,
        partition.kind,
        (partition.sectors * 512) >> 20,
        data_files().len(),
        String::from_utf8_lossy(&note).trim(),
        String::from_utf8_lossy(&log).lines().count()
    );
    Ok(())
}

/// Where the packages are by default: `target/pe-debs` of the source tree the demo runs from.
pub fn default_debs() -> PathBuf {
    PathBuf::from("target/pe-debs")
}
