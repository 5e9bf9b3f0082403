//! Opening a file for reading only if it is a regular file: never through a symbolic link
//! (`O_NOFOLLOW`), never blocking on a FIFO or device (`O_NONBLOCK`, then the type of what was
//! opened is checked on the open descriptor, so nothing can be swapped in between).
//!
//! The content library and the distribution point read files by name from folders others may
//! write to; a symbolic link planted there would serve any file of the server, and a FIFO
//! would hang a build or a request (issue #15, L6).

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading if it is a regular file. A symbolic link, a FIFO, a device or a
/// folder is an [`io::ErrorKind::InvalidInput`] error saying what it is.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = open_no_follow(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "not a regular file ({}); only regular files are read",
                describe(&kind)
            ),
        ))
    }
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a symbolic link; only regular files are read",
        )),
        other => other,
    }
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<File> {
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a symbolic link; only regular files are read",
        ));
    }
    File::open(path)
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        assert!(open_regular(&file).is_ok());
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        let e = open_regular(&link).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        let fifo = dir.path().join("p");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let e = open_regular(&fifo).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        let e = open_regular(dir.path()).unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
    }
}
