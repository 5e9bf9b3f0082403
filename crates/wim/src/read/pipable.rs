//! Reading a wimlib pipable WIM from a pipe (standard input).
//!
//! A pipable WIM read from a seekable file is opened with [`Wim::open`] like any other: its
//! full header is at the end of the file (see `read_header`), and its compressed resources carry
//! their chunk sizes before each chunk and their chunk table after them
//! ([`super::chunks::ChunkLayout`]). From a pipe, the stream is copied into a temporary file
//! beside the place the caller names (the apply target's parent, normally) and opened from
//! there once the whole stream, up to the header at its end, has arrived: the blobs of a stream
//! arrive in any order, and an apply that checks the whole image before writing a byte needs
//! every one of them. The leading header is checked first, so a WIM that is not pipable is
//! refused before anything is stored.

use super::Wim;
use crate::error::{Error, IoContext, Result};
use crate::header::{HEADER_SIZE, Header};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A pipable WIM copied from a pipe into a temporary file, removed when dropped.
pub struct SpooledWim {
    /// The WIM, opened from the temporary file.
    pub wim: Wim,
    path: PathBuf,
}

impl Drop for SpooledWim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a pipable WIM from `input` into a temporary file in `dir` and opens it. `what` names
/// the input in errors (e.g. "standard input").
pub fn spool(input: &mut dyn Read, dir: &Path, what: &Path) -> Result<SpooledWim> {
    let mut first = [0u8; HEADER_SIZE];
    let mut got = 0;
    while got < HEADER_SIZE {
        match input.read(&mut first[got..]) {
            Ok(0) => return Err(Error::TooShort { len: got as u64 }),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    path: what.to_path_buf(),
                    source: e,
                });
            }
        }
    }
    let header = Header::parse(&first)?;
    if !header.pipable {
        return Err(Error::Pipable);
    }
    if header.part_number != 1 {
        return Err(Error::BadPipable {
            offset: 0,
            reason: format!(
                "part {} of a split pipable WIM: send part 1 first",
                header.part_number
            ),
        });
    }
    let path = dir.join(format!(
        ".tsmedia-pipe-{}-{}.wim",
        std::process::id(),
        crate::write::filetime_now()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .at(&path)?;
    // From here on the file is removed on every return.
    let mut guard = Cleanup(Some(path.clone()));
    f.write_all(&first).at(&path)?;
    std::io::copy(input, &mut f).map_err(|source| Error::Io {
        path: what.to_path_buf(),
        source,
    })?;
    drop(f);
    let wim = Wim::open(&path)?;
    guard.0 = None;
    Ok(SpooledWim { wim, path })
}

struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}
