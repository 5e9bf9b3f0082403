//! Helpers of the tsmedia PE tests: the Debian packages, the stripped runtime, building the
//! PE, and virtual machines under QEMU (TCG) whose serial console the test reads and types on.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{require, run, s, tsmedia};

/// The folder of tsmedia PE's packages: `target/pe-debs` (filled by
/// `scripts/fetch-pe-debs.sh`, which `scripts/test.sh` runs) or `TSMEDIA_PE_DEBS`. Fails, never
/// skips, when they are missing.
pub fn debs() -> PathBuf {
    let dir = std::env::var_os("TSMEDIA_PE_DEBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pe-debs"));
    let has_kernel = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
        })
        .unwrap_or(false);
    assert!(
        has_kernel,
        "no tsmedia PE packages in {}: run scripts/fetch-pe-debs.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// The runtime for the PE: the `tsmedia` under test, which behaves as `tsmedia-runtime` when
/// started under that name (as `/init` starts it), copied to `dir` without its debug
/// information (the initramfs lives in RAM). The lean `tsmedia-runtime` binary runs the same
/// code (`tsmedia_client::runtime_cli`); the test uses `tsmedia` because cargo rebuilds it
/// for this test.
pub fn stripped_runtime(dir: &Path) -> PathBuf {
    require("strip", "binutils");
    let out = dir.join("tsmedia-runtime");
    std::fs::copy(env!("CARGO_BIN_EXE_tsmedia"), &out).expect("copy runtime");
    run(Command::new("strip").arg(&out));
    out
}

/// Builds tsmedia PE into `dir/tspe.wim` with the runtime and extra kernel arguments.
pub fn build_pe(dir: &Path, kernel_args: &[&str]) -> PathBuf {
    let runtime = stripped_runtime(dir);
    let wim = dir.join("tspe.wim");
    let mut cmd = tsmedia();
    cmd.args(["pe", "build", "--debs"])
        .arg(debs())
        .arg("--runtime")
        .arg(&runtime)
        .arg("--out")
        .arg(&wim);
    for a in kernel_args {
        cmd.arg("--kernel-arg").arg(a);
    }
    run(&mut cmd);
    wim
}

/// A site for the PE tests: tsmedia PE (built with `kernel_args`) as its boot image and the
/// data image captured from `files`.
pub struct PeSite {
    /// The site folder.
    pub site: PathBuf,
    /// The boot image's package ID.
    pub boot: String,
    /// The data image's package ID.
    pub image: String,
}

impl PeSite {
    /// Builds the PE and the site (code `code`) under `dir`.
    pub fn new(dir: &Path, code: &str, kernel_args: &[&str], files: &[(&str, &[u8])]) -> PeSite {
        let pe = build_pe(dir, kernel_args);
        let mut site = PeSite {
            site: dir.join("site"),
            boot: String::new(),
            image: String::new(),
        };
        site.run(&["site", "init", "--code", code]);
        site.boot = site.run(&[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "tsmedia PE",
            s(&pe),
        ]);
        let data = dir.join("data");
        for (path, bytes) in files {
            let file = data.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("data");
            std::fs::write(&file, bytes).expect("data");
        }
        let wim = dir.join("data.wim");
        run(tsmedia()
            .args(["wim", "capture"])
            .arg(&data)
            .arg(&wim)
            .arg("Data"));
        site.image = site.run(&[
            "package",
            "add",
            "--type",
            "os-image",
            "--name",
            "Data",
            s(&wim),
        ]);
        site
    }

    /// `tsmedia --site SITE args…`, which must succeed; its standard output, trimmed.
    pub fn run(&self, args: &[&str]) -> String {
        let out = run(tsmedia().arg("--site").arg(&self.site).args(args));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Imports `xml` as a task sequence using the boot image; returns its ID.
    pub fn task_sequence(&self, dir: &Path, name: &str, xml: &str) -> String {
        let path = dir.join("ts.xml");
        std::fs::write(&path, xml).expect("ts xml");
        let out = self.run(&[
            "ts",
            "import",
            s(&path),
            "--name",
            name,
            "--boot-image",
            &self.boot,
        ]);
        out.lines().next().expect("ts id").trim().to_string()
    }
}

/// `tsmedia serve`, killed on drop.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tsmedia serve` for the site in `site_dir` on a free loopback port; returns it and
/// the port. Its log (refused requests) is copied to the test's output as it comes, so it never
/// writes into a closed pipe.
pub fn serve(site_dir: &Path) -> (Server, u16) {
    use std::io::{BufRead, BufReader};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = tsmedia()
        .arg("--site")
        .arg(site_dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("tsmedia serve");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines
        .next()
        .expect("serve prints its address")
        .expect("readable");
    assert!(first.contains("serving"), "{first}");
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("serve: {line}");
        }
    });
    (server, port)
}

/// QEMU's network: user mode, `restrict=on`, and `site_ip` port 80 forwarded to the server
/// on the host's loopback `port`, one `socat` per guest connection; the machine has SMBIOS
/// UUID `uuid` and a virtio NIC with `mac`.
pub fn user_network(port: u16, site_ip: &str, uuid: &str, mac: &str) -> Vec<String> {
    require("socat", "socat");
    vec![
        "-uuid".into(),
        uuid.into(),
        "-netdev".into(),
        format!(
            "user,id=n0,restrict=on,guestfwd=tcp:{site_ip}:80-cmd:socat - TCP:127.0.0.1:{port}"
        ),
        "-device".into(),
        format!("virtio-net-pci,netdev=n0,mac={mac}"),
    ]
}

/// A blank 64 MiB disk image `dir/name` for the virtual machine to deploy to.
pub fn blank_disk(dir: &Path, name: &str) -> PathBuf {
    let disk = dir.join(name);
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(64 << 20))
        .expect("disk");
    disk
}

/// QEMU arguments: `iso` in a CD drive booted first (`-boot d`) and `disk` as a virtio disk.
pub fn cdrom_and_disk(iso: &Path, disk: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("file={},media=cdrom,readonly=on", iso.display()),
        "-drive".into(),
        format!("if=virtio,format=raw,file={}", disk.display()),
        "-boot".into(),
        "d".into(),
    ]
}

/// QEMU arguments: `stick` as a removable USB stick on an xHCI controller, booted first, and
/// `disk` as a virtio disk.
pub fn usb_stick_and_disk(stick: &Path, disk: &Path) -> Vec<String> {
    vec![
        "-device".into(),
        "qemu-xhci".into(),
        "-drive".into(),
        format!("if=none,id=stick,format=raw,file={}", stick.display()),
        "-device".into(),
        "usb-storage,drive=stick,removable=on,bootindex=0".into(),
        "-drive".into(),
        format!("if=virtio,format=raw,file={}", disk.display()),
    ]
}

/// QEMU arguments for a monitor on the Unix socket `socket`, for [`monitor`].
pub fn monitor_args(socket: &Path) -> Vec<String> {
    vec![
        "-monitor".into(),
        format!("unix:{},server=on,wait=off", socket.display()),
    ]
}

/// Sends one command to the QEMU monitor on `socket` (e.g. `change cd disc2.iso`, which
/// puts another disc in the drive with ID `cd`) and returns what it answered.
pub fn monitor(socket: &Path, command: &str) -> String {
    use std::os::unix::net::UnixStream;
    let mut stream = UnixStream::connect(socket).expect("connect to the QEMU monitor");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    stream
        .write_all(format!("{command}\n").as_bytes())
        .expect("monitor command");
    // The banner, the echo and the answer; the monitor says nothing more, so a read that
    // times out ends it.
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The first sector of partition 1 of a deployed `disk`, as `sgdisk -p` prints it.
pub fn first_partition_start(disk: &Path) -> u64 {
    require("sgdisk", "gdisk");
    let table = run(Command::new("sgdisk").arg("-p").arg(disk));
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    table
        .lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.first() == Some(&"1"))
                .then(|| w[1].parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no partition 1:\n{table}"))
}

/// `mtype -i IMAGE ::PATH`: a file of a FAT volume (`IMAGE` may be mtools' `file@@offset`).
pub fn mtype(image: &str, path: &str) -> String {
    require("mtype", "mtools");
    let out = run(Command::new("mtype")
        .arg("-i")
        .arg(image)
        .arg(format!("::{path}")));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The firmware a virtual machine starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS.
    Bios,
    /// OVMF.
    Uefi,
    /// OVMF with Microsoft's keys enrolled and Secure Boot enforcing.
    SecureBoot,
}

impl Firmware {
    /// QEMU arguments; the variable store is copied into `dir`.
    fn args(self, dir: &Path) -> Vec<String> {
        let copy = |from: &str, name: &str| {
            require(from, "ovmf");
            let to = dir.join(name);
            std::fs::copy(from, &to).expect("copy OVMF variables");
            format!("if=pflash,format=raw,file={}", to.display())
        };
        match self {
            Firmware::Bios => vec![],
            Firmware::Uefi => vec![
                "-machine".into(),
                "q35".into(),
                "-drive".into(),
                "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd".into(),
                "-drive".into(),
                copy("/usr/share/OVMF/OVMF_VARS_4M.fd", "vars.fd"),
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
                copy("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", "vars-ms.fd"),
            ],
        }
    }
}

/// A virtual machine whose serial console is the test's: what it prints is collected, what
/// the test types goes to it.
pub struct Vm {
    child: Child,
    stdin: ChildStdin,
    console: Arc<Mutex<Vec<u8>>>,
    started: Instant,
}

/// How long any one wait for the guest may take before the test gives up (a bound against a
/// hung guest, not a measurement).
pub const GUEST_BOUND: Duration = Duration::from_secs(900);

impl Vm {
    /// Starts QEMU (TCG, 1 GiB, no display, no network unless `extra` adds one) with
    /// `firmware` and `extra` arguments (drives); `-no-reboot` unless `reboot`.
    pub fn start(dir: &Path, firmware: Firmware, extra: &[String], reboot: bool) -> Vm {
        require("qemu-system-x86_64", "qemu-system-x86");
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args([
            "-m",
            "1024",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "stdio",
        ]);
        if !reboot {
            cmd.arg("-no-reboot");
        }
        if !extra
            .iter()
            .any(|a| a.starts_with("user,") || a == "-nic" || a == "-netdev")
        {
            cmd.args(["-net", "none"]);
        }
        cmd.args(firmware.args(dir))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start qemu");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = child.stdout.take().expect("stdout");
        let console = Arc::new(Mutex::new(Vec::new()));
        let sink = console.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("console").extend_from_slice(&buf[..n]);
            }
        });
        Vm {
            child,
            stdin,
            console,
            started: Instant::now(),
        }
    }

    /// Everything the guest printed so far.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(&self.console.lock().expect("console")).into_owned()
    }

    /// Waits until the console shows `text` (after `from` bytes); returns the offset after it.
    pub fn wait_for(&mut self, text: &str, from: usize) -> usize {
        let deadline = Instant::now() + GUEST_BOUND;
        loop {
            let c = self.console();
            if let Some(at) = c.get(from..).and_then(|rest| rest.find(text)) {
                return from + at + text.len();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the VM stopped ({status}) before showing {text:?}:\n{c}");
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("no {text:?} on the console within {GUEST_BOUND:?}:\n{c}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Seconds since QEMU started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Types a line on the serial console.
    pub fn type_line(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\r").as_bytes())
            .expect("type on the console");
        self.stdin.flush().expect("flush");
    }

    /// Waits for the VM to power off (or stop at a reboot with `-no-reboot`); returns the
    /// console and the seconds since start.
    pub fn finish(mut self) -> (String, f64) {
        let deadline = Instant::now() + GUEST_BOUND;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Let the reader take the last output.
                std::thread::sleep(Duration::from_millis(300));
                return (self.console(), self.started.elapsed().as_secs_f64());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the VM did not power off within {GUEST_BOUND:?}:\n{}",
                    self.console()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
