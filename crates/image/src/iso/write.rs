//! Phase three: streaming the planned image to any `Write`, sequentially, each data source
//! opened and read exactly once.

use std::io::{BufWriter, Read, Write};
use tsmedia_base::{Cancel, NoProgress, Progress};

use super::error::{Error, Result};
use super::plan::{IsoPlan, Region, SECTOR_SIZE};
use super::{ecma119, eltorito, udf};

const CHUNK: usize = 1 << 20;

/// Writes the image described by `plan` to `out`, from byte 0 to [`IsoPlan::total_size`].
pub fn write(plan: &IsoPlan, out: impl Write) -> Result<()> {
    write_with_progress(plan, out, &NoProgress, &Cancel::default())
}

/// Like [`write()`], reporting the bytes written to `progress` (one task, "ISO image", of
/// [`IsoPlan::total_size`] bytes) after every region and every mebibyte of file data, and
/// stopping with [`Error::Cancelled`] once `cancel` is cancelled.
pub fn write_with_progress(
    plan: &IsoPlan,
    out: impl Write,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<()> {
    progress.begin("ISO image", Some(plan.total_size()));
    let mut w = Sink {
        out: BufWriter::with_capacity(CHUNK, out),
        offset: 0,
        reported: 0,
        progress,
        cancel,
        buf: Vec::new(),
    };
    for &(lba, region) in &plan.regions {
        w.pad_to(u64::from(lba) * SECTOR_SIZE)?;
        match region {
            Region::FileData(n) => w.file(plan, n)?,
            other => {
                let bytes = metadata(plan, other);
                w.put(&bytes)?;
            }
        }
        w.report()?;
    }
    w.pad_to(plan.total_size())?;
    let offset = w.offset;
    w.out
        .flush()
        .map_err(|source| Error::Write { offset, source })?;
    // The padding after the last region.
    progress.advance(w.offset - w.reported);
    progress.finish();
    Ok(())
}

/// The bytes of every region but file data.
fn metadata(plan: &IsoPlan, region: Region) -> Vec<u8> {
    match region {
        Region::SystemArea => plan.system_area.clone(),
        Region::Pvd => ecma119::volume_descriptor(plan, false),
        Region::JolietSvd => ecma119::volume_descriptor(plan, true),
        Region::BootRecord => eltorito::boot_record(plan.boot_catalog),
        Region::Terminator => ecma119::terminator(),
        Region::Vrs(i) => udf::recognition(i),
        Region::UdfVds(base) => udf::volume_descriptor_sequence(plan, base),
        Region::UdfLvid => udf::integrity(plan),
        Region::UdfAnchor(lba) => udf::anchor(lba),
        Region::UdfFsd => udf::file_set(plan),
        Region::UdfFe(n) => udf::file_entry(plan, n),
        Region::UdfDir(n) => udf::directory(plan, n),
        Region::PathTable { joliet, msb } => {
            let bfs = if joliet {
                &plan.joliet_bfs
            } else {
                &plan.iso_bfs
            };
            ecma119::path_table(&plan.nodes, bfs, joliet, msb)
        }
        Region::IsoDir(n) => ecma119::dir_extent(&plan.nodes, n, false, &plan.time),
        Region::JolietDir(n) => ecma119::dir_extent(&plan.nodes, n, true, &plan.time),
        Region::BootCatalog => eltorito::catalog(&plan.boot),
        Region::HiddenBoot(i) => plan.boot[i].hidden.clone().unwrap_or_default(),
        Region::FileData(_) => Vec::new(),
    }
}

struct Sink<'a, W: Write> {
    out: BufWriter<W>,
    offset: u64,
    /// The offset last reported to `progress`.
    reported: u64,
    progress: &'a dyn Progress,
    cancel: &'a Cancel,
    /// Read buffer for file data, allocated once.
    buf: Vec<u8>,
}

impl<W: Write> Sink<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let offset = self.offset;
        self.out
            .write_all(bytes)
            .map_err(|source| Error::Write { offset, source })?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad_to(&mut self, target: u64) -> Result<()> {
        static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
        // Regions never overlap: the plan allocates them in increasing order.
        debug_assert!(
            target >= self.offset,
            "region at {target} overlaps {}",
            self.offset
        );
        while self.offset < target {
            let n = (target - self.offset).min(ZEROS.len() as u64) as usize;
            self.put(&ZEROS[..n])?;
        }
        Ok(())
    }

    fn report(&mut self) -> Result<()> {
        self.progress.advance(self.offset - self.reported);
        self.reported = self.offset;
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled {
                offset: self.offset,
            });
        }
        Ok(())
    }

    /// Streams one file's data, checking it has exactly the declared size.
    fn file(&mut self, plan: &IsoPlan, n: usize) -> Result<()> {
        let node = &plan.nodes[n];
        let path = || node.path.clone();
        let Some(source) = &node.source else {
            return Ok(());
        };
        let mut reader = source.open().map_err(|source| Error::Open {
            path: path(),
            source,
        })?;
        if plan.boot_info.contains(&n) {
            // A boot loader of at most 1 MiB (checked when planned): read whole, then patched.
            let mut data = vec![0u8; node.size as usize];
            let got = read_some_full(&mut *reader, &mut data).map_err(|source| Error::Read {
                path: path(),
                offset: 0,
                source,
            })?;
            if got < data.len() {
                return Err(Error::SourceTooShort {
                    path: path(),
                    declared: node.size,
                    got: got as u64,
                });
            }
            super::eltorito::boot_info_table(&mut data, node.data_lba);
            self.put(&data)?;
            return self.report();
        }
        if self.buf.len() < CHUNK {
            self.buf.resize(CHUNK, 0);
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.copy(&mut *reader, node, &mut buf);
        self.buf = buf;
        result
    }

    fn copy(
        &mut self,
        reader: &mut dyn Read,
        node: &super::plan::Node,
        buf: &mut [u8],
    ) -> Result<()> {
        let path = || node.path.clone();
        let mut done = 0u64;
        let mut reported = 0u64;
        while done < node.size {
            let want = (node.size - done).min(CHUNK as u64) as usize;
            let got = read_some(reader, &mut buf[..want]).map_err(|source| Error::Read {
                path: path(),
                offset: done,
                source,
            })?;
            if got == 0 {
                return Err(Error::SourceTooShort {
                    path: path(),
                    declared: node.size,
                    got: done,
                });
            }
            self.put(&buf[..got])?;
            done += got as u64;
            if done - reported >= CHUNK as u64 {
                reported = done;
                self.report()?;
            }
        }
        let extra = read_some(reader, &mut buf[..1]).map_err(|source| Error::Read {
            path: path(),
            offset: done,
            source,
        })?;
        if extra != 0 {
            return Err(Error::SourceTooLong {
                path: path(),
                declared: node.size,
            });
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_some_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match read_some(r, &mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// One `read`, retrying on `Interrupted`.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
