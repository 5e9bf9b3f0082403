//! The runtime executable that runs as the PE's session: checked to be an x86-64 Linux program,
//! with the shared libraries and program interpreter it names, so the initramfs can carry them.

use std::path::{Path, PathBuf};

use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{Endianness, elf};

use crate::error::{Error, Result};

/// The runtime's bytes and what it needs to start.
#[derive(Debug, Clone)]
pub struct RuntimeElf {
    /// Where it was read from.
    pub path: PathBuf,
    /// The executable.
    pub bytes: Vec<u8>,
    /// `DT_NEEDED` libraries (`libc.so.6`, …); empty for a static executable.
    pub needed: Vec<String>,
    /// `PT_INTERP` (`/lib64/ld-linux-x86-64.so.2`); none for a static executable.
    pub interpreter: Option<String>,
}

impl RuntimeElf {
    /// Reads and checks the runtime.
    pub fn read(path: &Path) -> Result<RuntimeElf> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |reason: String| Error::Runtime {
            path: path.to_path_buf(),
            reason,
        };
        let header = elf::FileHeader64::<Endianness>::parse(&*bytes)
            .map_err(|_| bad("not a 64-bit ELF executable".into()))?;
        let endian = header
            .endian()
            .map_err(|_| bad("not a 64-bit ELF executable".into()))?;
        if header.e_machine(endian) != elf::EM_X86_64 {
            return Err(bad(format!(
                "built for ELF machine {}, tsmedia PE runs x86-64 (amd64) programs",
                header.e_machine(endian)
            )));
        }
        let data = &*bytes;
        let mut interpreter = None;
        for ph in header
            .program_headers(endian, data)
            .map_err(|e| bad(format!("damaged program headers: {e}")))?
        {
            if ph.p_type(endian) == elf::PT_INTERP {
                let raw = ph
                    .data(endian, data)
                    .map_err(|()| bad("damaged PT_INTERP".into()))?;
                let text = raw.split(|b| *b == 0).next().unwrap_or(&[]);
                interpreter = Some(String::from_utf8_lossy(text).into_owned());
            }
        }
        let mut needed = Vec::new();
        let sections = header
            .sections(endian, data)
            .map_err(|e| bad(format!("damaged section headers: {e}")))?;
        if let Some((dyns, link)) = sections
            .dynamic(endian, data)
            .map_err(|e| bad(format!("damaged dynamic section: {e}")))?
        {
            let strings = sections
                .strings(endian, data, link)
                .map_err(|e| bad(format!("damaged dynamic strings: {e}")))?;
            for d in dyns {
                if d.tag(endian) == elf::DT_NEEDED {
                    let name = d
                        .string(endian, strings)
                        .map_err(|e| bad(format!("damaged DT_NEEDED: {e}")))?;
                    needed.push(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        Ok(RuntimeElf {
            path: path.to_path_buf(),
            bytes,
            needed,
            interpreter,
        })
    }
}
