//! Checks of the options themselves: disc size, label and property lengths, variable names,
//! the password, and where the output goes.

use std::path::{Path, PathBuf};

use super::{Checker, MAX_COMMENT, MAX_CREATED_BY, MAX_FAT_LABEL, MAX_ISO_LABEL, MAX_VERSION};
use crate::spec::{MediaKind, MediaSpec, MediaType};

/// What the option checks found: the disc size (`None` = unlimited) and the password.
pub(super) struct Checked {
    pub disc_size: Option<u64>,
    pub password: Option<String>,
}

/// Checks every option that needs no site; adds notices (unprotected media).
pub(super) fn check(c: &mut Checker, spec: &MediaSpec, notices: &mut Vec<String>) -> Checked {
    let disc_size = match spec.disc_size() {
        Ok(s) => s,
        Err(e) => {
            c.fail(
                "--size",
                e.to_string(),
                "use 650mb, 4.7gb, 8.5gb, unlimited or a byte count",
            );
            None
        }
    };
    let label = spec.label();
    let max_label = if spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged {
        MAX_FAT_LABEL
    } else {
        MAX_ISO_LABEL
    };
    // The default label is Configuration Manager's, cut to 11 characters on a FAT volume as
    // its volume label (the full label stays in MediaLabel.txt); a chosen one must fit.
    let max_label = if spec.label.is_none() {
        MAX_ISO_LABEL
    } else {
        max_label
    };
    if label.is_empty() || label.chars().count() > max_label || !label.is_ascii() {
        c.fail(
            "--label",
            format!("{label:?} must be 1 to {max_label} ASCII characters"),
            "choose a shorter label",
        );
    } else {
        c.pass(format!("label {label:?}"));
    }
    for (opt, value, max) in [
        ("--created-by", &spec.created_by, MAX_CREATED_BY),
        ("--version", &spec.version, MAX_VERSION),
        ("--comment", &spec.comment, MAX_COMMENT),
    ] {
        if let Some(v) = value
            && v.chars().count() > max
        {
            c.fail(
                opt,
                format!("{} characters, at most {max} allowed", v.chars().count()),
                format!("shorten {opt}"),
            );
        }
    }
    for name in spec.variable.keys() {
        if name.is_empty() || name.starts_with('_') || name.contains(['=', '<', '>', '"', '&']) {
            c.fail(
                format!("variable {name:?}"),
                "names must be non-empty, must not start with '_' (read-only) and must not contain = < > \" &",
                "rename the variable",
            );
        }
    }
    let password = match spec.resolved_password() {
        Ok(p) => p,
        Err(e) => {
            c.fail("--password-file", e.to_string(), "give a readable file");
            None
        }
    };
    if password.as_deref() == Some("") {
        c.fail("--password", "empty", "give a password or none at all");
    }
    if password.is_none() && spec.kind != MediaKind::Prestaged {
        notices.push("no media password: the media are UNPROTECTED, anyone holding them can read their variables and start the task sequence".into());
    }
    check_output(c, spec);
    Checked {
        disc_size,
        password,
    }
}

fn check_output(c: &mut Checker, spec: &MediaSpec) {
    let out = &spec.out;
    if out.as_os_str().is_empty() {
        c.fail("--out", "no output given", "add --out PATH");
        return;
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        c.fail(
            format!("--out {}", out.display()),
            format!("folder {} does not exist", parent.display()),
            "create it first",
        );
    }
    if spec.kind == MediaKind::Prestaged {
        if out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
            != Some("wim")
        {
            c.fail(
                format!("--out {}", out.display()),
                "prestaged media are one WIM file",
                "name the output NAME.wim",
            );
        }
    } else if spec.media_type == MediaType::Usb {
        if out.is_dir() {
            c.fail(
                format!("--out {}", out.display()),
                "is a folder; USB media are an image file or a block device",
                "give a file name or a device",
            );
        }
        if is_block_device(out) && !spec.format {
            c.fail(
                format!("--out {}", out.display()),
                "is a block device and would be overwritten",
                "add --format to repartition and format it",
            );
        }
    } else if out.exists() && !out.is_dir() && !crate::layout::names_an_iso(out) {
        c.fail(
            format!("--out {}", out.display()),
            "is a file; a CD/DVD set is written to a folder or as FOLDER/NAME.iso",
            "give a folder or an .iso name",
        );
    }
}

/// Whether `p` is a block device (a USB stick rather than an image file).
pub(crate) fn is_block_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device())
}
