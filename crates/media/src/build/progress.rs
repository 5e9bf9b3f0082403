//! The build's progress: each disc (ISO, USB image or prestaged WIM) is one task counted in
//! bytes of its files, reported as the image writer reads them.
//!
//! A writer may open a source more than once (a prestaged WIM peeks at a file's header before
//! it streams it) or not at all (a library file stored once already), so each source counts
//! only the bytes beyond the furthest point read so far, and the disc is topped up to its
//! total when it is written: the count never goes back and ends exactly at the total.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tsmedia_base::Progress;
use tsmedia_image::DataSource;

/// Counts the bytes of one disc's files.
pub(super) struct DiscProgress {
    progress: Arc<dyn Progress>,
    total: u64,
    done: Arc<AtomicU64>,
}

impl DiscProgress {
    /// Starts the task `name` of `total` bytes.
    pub fn begin(progress: &Arc<dyn Progress>, name: &str, total: u64) -> DiscProgress {
        progress.begin(name, Some(total));
        DiscProgress {
            progress: progress.clone(),
            total,
            done: Arc::default(),
        }
    }

    /// `inner` (of `size` bytes), counted as it is read.
    pub fn source(&self, inner: Box<dyn DataSource>, size: u64) -> Counted {
        Counted {
            inner,
            size,
            furthest: AtomicU64::new(0),
            progress: self.progress.clone(),
            done: self.done.clone(),
        }
    }

    /// The disc is written: the bytes not read (files stored once already) count as done.
    pub fn finish(self) {
        let done = self.done.load(Ordering::Relaxed);
        self.progress.advance(self.total.saturating_sub(done));
        self.progress.finish();
    }
}

/// A source that reports the bytes read from it beyond the furthest point read before.
pub(super) struct Counted {
    inner: Box<dyn DataSource>,
    size: u64,
    furthest: AtomicU64,
    progress: Arc<dyn Progress>,
    done: Arc<AtomicU64>,
}

struct CountedReader<'a> {
    inner: Box<dyn Read + 'a>,
    pos: u64,
    source: &'a Counted,
}

impl Read for CountedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        let at = self.pos.min(self.source.size);
        let before = self.source.furthest.fetch_max(at, Ordering::Relaxed);
        if at > before {
            self.source.done.fetch_add(at - before, Ordering::Relaxed);
            self.source.progress.advance(at - before);
        }
        Ok(n)
    }
}

impl DataSource for Counted {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(CountedReader {
            inner: self.inner.open()?,
            pos: 0,
            source: self,
        }))
    }
}
