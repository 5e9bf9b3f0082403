//! Helpers for the site command tests: a fresh site in a temporary folder, running `tsmedia`
//! against it, WIMs made with the reference tool.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use tempfile::TempDir;

pub struct Env {
    pub dir: TempDir,
    pub site: PathBuf,
}

impl Env {
    /// A fresh site with code `LAB`.
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temporary folder");
        let site = dir.path().join("site");
        let env = Env { dir, site };
        let id = env.ok(&["site", "init", "--code", "lab", "--name", "Test lab"]);
        assert_eq!(id.trim(), "LAB");
        env
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("tsmedia").expect("the tsmedia binary is built");
        c.env("TSMEDIA_SITE", &self.site)
            .current_dir(self.dir.path());
        c
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("tsmedia runs");
        assert!(
            out.status.success(),
            "tsmedia {args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs a command that must succeed with `--json`; returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("tsmedia {args:?}: {e}\n{text}"))
    }

    /// Runs a command that must fail with a non-zero exit, leaving the database unchanged;
    /// returns its standard error, which must mention every string in `names`.
    pub fn fail(&self, args: &[&str], names: &[&str]) -> String {
        let before = self.db_bytes();
        let out = self.cmd().args(args).output().expect("tsmedia runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success() && out.status.code().is_some_and(|c| c != 0),
            "tsmedia {args:?} should fail but exited {:?}; stdout:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        );
        for name in names {
            assert!(
                stderr.contains(name),
                "tsmedia {args:?}: the error does not name {name:?}:\n{stderr}"
            );
        }
        assert!(
            before == self.db_bytes(),
            "tsmedia {args:?} failed but changed the database"
        );
        stderr
    }

    pub fn db_bytes(&self) -> Vec<u8> {
        std::fs::read(self.site.join("site.db")).unwrap_or_default()
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, data).expect("write");
        path
    }

    /// Every library file (`site/content/FileLib/xx/<hash>`).
    pub fn library_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let lib = self.site.join("content/FileLib");
        for shard in std::fs::read_dir(&lib).expect("FileLib exists") {
            let shard = shard.expect("entry").path();
            for f in std::fs::read_dir(&shard).expect("shard") {
                out.push(f.expect("entry").path());
            }
        }
        out.sort();
        out
    }
}

/// Total apparent size of the files under `dir`.
pub fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        total += if meta.is_dir() {
            tree_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

/// Fails (never skips) when a reference tool is missing.
pub fn require_tool(tool: &str, debian_package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is needed by this test: apt-get install -y {debian_package}"
    );
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a WIM with `wimlib-imagex`: one image per entry (name, `WINDOWS/ARCH` or none), each
/// captured from a small generated folder.
pub fn make_wim(env: &Env, file: &str, images: &[(&str, Option<u32>)]) -> PathBuf {
    require_tool("wimlib-imagex", "wimtools");
    let wim = env.path(file);
    for (i, (name, arch)) in images.iter().enumerate() {
        let src = env.path(&format!("wimsrc-{file}-{i}"));
        std::fs::create_dir_all(src.join("Windows/System32")).expect("mkdir");
        std::fs::write(
            src.join("Windows/System32/marker.txt"),
            format!("{name} {i}\n"),
        )
        .expect("write");
        std::fs::write(src.join("data.bin"), vec![i as u8; 1000 + i * 10]).expect("write");
        let verb = if i == 0 { "capture" } else { "append" };
        run(Command::new("wimlib-imagex")
            .arg(verb)
            .arg(&src)
            .arg(&wim)
            .arg(name)
            .arg("--compress=none"));
        if let Some(arch) = arch {
            run(Command::new("wimlib-imagex")
                .arg("info")
                .arg(&wim)
                .arg((i + 1).to_string())
                .arg("--image-property")
                .arg(format!("WINDOWS/ARCH={arch}")));
        }
    }
    wim
}
