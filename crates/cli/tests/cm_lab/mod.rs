//! The Configuration Manager administrator's lab shared by the `configmgr_*` tests: a site in
//! a temporary folder driven through the `tsmedia` binary, `tsmedia serve` on loopback, and
//! `client run` as computer PC1.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{s, tsmedia};

/// A site in a temporary folder: a Windows-PE-shaped x64 boot image on DP `dp1` (readable by
/// Everyone), MP `mp1`.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub boot: String,
}

impl Lab {
    pub fn new() -> Lab {
        let mut lab = Lab {
            dir: tempfile::tempdir().expect("tempdir"),
            boot: String::new(),
        };
        lab.ok(&["site", "init", "--code", "PS1"]);
        lab.boot = lab.boot_image("Boot x64", "x64");
        lab.ok(&["dp", "add", "dp1", "--url", "http://dp1.example"]);
        lab.ok(&["dp", "grant", "dp1", "--principal", "Everyone"]);
        lab.ok(&["mp", "add", "mp1", "--url", "http://mp1.example"]);
        let boot = lab.boot.clone();
        lab.ok(&["content", "distribute", &boot, "--dp", "dp1"]);
        lab
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, data).expect("write");
        p
    }

    /// `tsmedia --site SITE args…`, whatever its exit status.
    pub fn try_run(&self, args: &[&str]) -> Output {
        tsmedia()
            .arg("--site")
            .arg(self.path("site"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("TSMEDIA_MEDIA_PASSWORD")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tsmedia {args:?}: {e}"))
    }

    /// A command that must succeed; its stdout, trimmed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.try_run(args);
        assert!(
            out.status.success(),
            "tsmedia {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A command that must fail; its stderr, which must name every string of `names`.
    pub fn refused(&self, args: &[&str], names: &[&str]) -> String {
        let out = self.try_run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "tsmedia {args:?} should be refused; stdout:\n{}\nstderr:\n{err}",
            String::from_utf8_lossy(&out.stdout)
        );
        for n in names {
            assert!(
                err.contains(n),
                "tsmedia {args:?}: {n:?} not named in:\n{err}"
            );
        }
        err
    }

    /// A boot image package of `arch` made from a small Windows-PE-shaped tree.
    pub fn boot_image(&self, name: &str, arch: &str) -> String {
        let pe = format!("pe-{arch}");
        for (p, data) in [
            (
                "Windows/Boot/DVD/PCAT/etfsboot.com",
                &b"etfsboot stand-in"[..],
            ),
            ("Windows/Boot/DVD/EFI/en-US/efisys.bin", b"efisys stand-in"),
            ("Windows/Boot/EFI/bootmgfw.efi", b"bootmgfw stand-in"),
            ("Windows/System32/winpeshl.ini", b"[LaunchApps]\r\n"),
        ] {
            self.write(&format!("{pe}/{p}"), data);
        }
        let wim = self.path(&format!("boot-{arch}.wim"));
        let tree = self.path(&pe);
        self.ok(&[
            "wim",
            "capture",
            s(&tree),
            s(&wim),
            "WinPE",
            "--compress",
            "none",
        ]);
        self.ok(&[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            name,
            "--arch",
            arch,
            s(&wim),
        ])
    }

    /// A small stand-in for the runtime put into boot.wim (the real one is tested elsewhere).
    pub fn runtime(&self) -> PathBuf {
        self.write("runtime", b"runtime stand-in")
    }
}

/// A package of one small file, distributed to dp1.
pub fn small_package(lab: &Lab, kind: &str, name: &str, extra: &[&str]) -> String {
    let folder = format!("src-{name}");
    lab.write(&format!("{folder}/{name}.txt"), name.as_bytes());
    let mut args = vec!["package", "add", "--type", kind, "--name", name];
    let src = lab.path(&folder);
    args.push(s(&src));
    args.extend(extra);
    let id = lab.ok(&args);
    lab.ok(&["content", "distribute", &id, "--dp", "dp1"]);
    id
}

/// `tsmedia serve` in the background; killed on drop.
pub struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lab's site served on loopback as MP `mp0` and DP `dp0` (a new DP: Users and Guests
/// read), with computer PC1 in collection Lab.
pub fn serve(lab: &Lab) -> Server {
    use std::io::BufRead;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    let url = format!("http://{addr}");
    lab.ok(&["dp", "add", "dp0", "--url", &url]);
    lab.ok(&["mp", "add", "mp0", "--url", &url]);
    let boot = lab.boot.clone();
    lab.ok(&["content", "distribute", &boot, "--dp", "dp0"]);
    lab.ok(&[
        "computer",
        "import",
        "--name",
        "PC1",
        "--smbios-guid",
        GUID,
        "--mac",
        MAC,
    ]);
    lab.ok(&["collection", "add", "Lab"]);
    lab.ok(&["collection", "add-member", "Lab", "--computer", "PC1"]);
    let mut child = tsmedia()
        .arg("--site")
        .arg(lab.path("site"))
        .args(["serve", "--listen", &addr, "--dp-name", "dp0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tsmedia serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let first = std::io::BufReader::new(stderr)
        .lines()
        .next()
        .expect("serve prints its address")
        .expect("readable");
    assert!(first.contains(&addr), "{first}");
    server
}

pub const GUID: &str = "4C4C4544-0042-3510-8052-B4C04F4E3332";
pub const MAC: &str = "00:15:5D:0A:0B:0C";

/// `client run` of `media` into the fresh folder `target`, as PC1.
pub fn client(lab: &Lab, media: &Path, target: &str, extra: &[&str]) -> Output {
    tsmedia()
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(media)
        .arg("--target")
        .arg(lab.path(target))
        .args(["--smbios-guid", GUID, "--mac", MAC, "--arch", "x64"])
        .args(extra)
        .env_remove("TSMEDIA_MEDIA_PASSWORD")
        .output()
        .expect("client run")
}
