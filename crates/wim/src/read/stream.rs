//! Reading many blobs in order while worker threads decompress ahead.
//!
//! Applying an image reads thousands of blobs one after the other. [`stream_blobs`] cuts them
//! into chunk jobs handed out in order to worker threads, which read and decompress them into a
//! bounded window; the calling thread takes the results back in order, checks each blob's SHA-1
//! and passes the bytes on. A chunk shared by consecutive blobs (solid resources) is decoded
//! once. Memory stays bounded by [`StreamOptions::max_buffered`] whatever the blobs' sizes.

use super::Wim;
use super::blob_reader::Segment;
use super::chunks::{ChunkLayout, Decoders, PartFile};
use crate::error::{Error, Result};
use crate::sha1::{Hasher, Sha1};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Decoded bytes a job aims at: several 32 KiB chunks per hand-over and per write.
const JOB_BYTES: usize = 256 << 10;

/// What [`stream_blobs`] hands to its sink for one blob of the list.
pub enum Piece<'a> {
    /// The next bytes of the blob (never empty).
    Data(&'a [u8]),
    /// The blob is complete and its SHA-1 matched.
    End,
}

/// How much work may be in flight.
#[derive(Clone, Copy, Debug)]
pub struct StreamOptions {
    /// Decompression threads (at least 1).
    pub threads: usize,
    /// Most decoded bytes held for the caller; one chunk is always allowed, however large.
    pub max_buffered: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_buffered: 16 << 20,
        }
    }
}

/// A streaming failure, with the index (in the caller's list) of the blob it concerns when known.
#[derive(Debug)]
pub struct StreamError {
    /// Index of the blob in the caller's list, when the error concerns one.
    pub blob: Option<usize>,
    /// What went wrong.
    pub error: Error,
}

/// Reads `blobs` in order, calling `sink(i, piece)` with blob `i`'s bytes and then
/// [`Piece::End`] once its SHA-1 has been checked. Blobs of size 0 get only `End`. Stops at the
/// first error, the sink's included.
pub fn stream_blobs<F>(
    wim: &Wim,
    blobs: &[Sha1],
    opts: StreamOptions,
    sink: F,
) -> std::result::Result<(), StreamError>
where
    F: FnMut(usize, Piece) -> Result<()>,
{
    stream_blobs_with(wim, blobs, opts, None, sink)
}

/// [`stream_blobs`], in wimlib's data recovery mode when `recover` is given: a chunk that does
/// not decompress is delivered as zeros, a blob whose SHA-1 differs still ends with
/// [`Piece::End`], and the index of each such blob is pushed to `recover`.
pub fn stream_blobs_with<F>(
    wim: &Wim,
    blobs: &[Sha1],
    opts: StreamOptions,
    mut recover: Option<&mut Vec<usize>>,
    mut sink: F,
) -> std::result::Result<(), StreamError>
where
    F: FnMut(usize, Piece) -> Result<()>,
{
    let sizes: Vec<u64> = blobs
        .iter()
        .map(|h| wim.blobs.get(h).map_or(0, |l| l.size()))
        .collect();
    let shared = Shared {
        state: Mutex::new(State {
            planner: Planner::new(wim, blobs),
            assigned: 0,
            consumed: 0,
            buffered: 0,
            exhausted: false,
            stop: false,
            done: BTreeMap::new(),
            free: Vec::new(),
        }),
        work: Condvar::new(),
        ready: Condvar::new(),
        max_jobs: opts.threads.max(1) as u64 * 4,
        max_buffered: opts.max_buffered,
        recover: recover.is_some(),
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.threads.max(1))
            .map(|_| scope.spawn(|| shared.worker()))
            .collect();
        let result = consume(&shared, &sizes, &mut recover, &mut sink);
        shared.lock().stop = true;
        shared.work.notify_all();
        // Joined here, not by the scope: the scope returns once each worker's closure has
        // returned, while the thread may still be freeing its thread-locals; a join waits for
        // the thread to end, so nothing of this call outlives it (LeakSanitizer in the
        // wim_reader fuzz target reported such memory as leaked at random).
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        result
    })
}

/// The calling thread's side: results in order, hashes, the sink.
fn consume<F>(
    shared: &Shared,
    sizes: &[u64],
    recover: &mut Option<&mut Vec<usize>>,
    sink: &mut F,
) -> std::result::Result<(), StreamError>
where
    F: FnMut(usize, Piece) -> Result<()>,
{
    // The blob being read, its hasher and the bytes still expected.
    let mut current: Option<(usize, Hasher, u64)> = None;
    loop {
        let next = {
            let mut st = shared.lock();
            loop {
                let seq = st.consumed;
                if let Some(r) = st.done.remove(&seq) {
                    st.consumed += 1;
                    shared.work.notify_all();
                    break Some(r);
                }
                if st.exhausted && st.consumed == st.assigned {
                    break None;
                }
                st = shared
                    .ready
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Some(result) = next else {
            return Ok(());
        };
        let (job, buf) = result?;
        for span in &job.spans {
            let (blob, hasher, left) = match &mut current {
                Some(c) if c.0 == span.blob => c,
                _ => current.insert((span.blob, Hasher::default(), sizes[span.blob])),
            };
            let blob = *blob;
            let tag = |error| StreamError {
                blob: Some(blob),
                error,
            };
            let data = &buf[span.start..span.start + span.len];
            if !data.is_empty() {
                hasher.update(data);
                sink(blob, Piece::Data(data)).map_err(tag)?;
            }
            *left = left.saturating_sub(span.len as u64);
            if *left == 0 {
                let (_, hasher, _) = current.take().expect("matched just above");
                let actual = hasher.finish();
                if actual != span.sha1
                    && let Some(corrupt) = recover.as_deref_mut()
                {
                    corrupt.push(blob);
                } else if actual != span.sha1 {
                    return Err(tag(Error::HashMismatch {
                        sha1: span.sha1,
                        user: None,
                        actual,
                    }));
                }
                sink(blob, Piece::End).map_err(tag)?;
            }
        }
        if let Some(e) = job.error {
            return Err(e);
        }
        let mut st = shared.lock();
        st.buffered -= job.len;
        st.free.push(buf);
        shared.work.notify_all();
    }
}

type JobResult = std::result::Result<(Job, Vec<u8>), StreamError>;

struct Shared<'a> {
    state: Mutex<State<'a>>,
    /// Workers wait here for room in the window.
    work: Condvar,
    /// The consumer waits here for the next result.
    ready: Condvar,
    max_jobs: u64,
    max_buffered: usize,
    /// Data recovery mode: chunks that do not decompress become zeros.
    recover: bool,
}

struct State<'a> {
    planner: Planner<'a>,
    /// Jobs handed out / taken back by the consumer; sequence numbers in between are in flight.
    assigned: u64,
    consumed: u64,
    /// Decoded bytes of the jobs in flight.
    buffered: usize,
    /// The planner has nothing more.
    exhausted: bool,
    /// The consumer has finished or failed: workers leave.
    stop: bool,
    done: BTreeMap<u64, JobResult>,
    /// Buffers given back by the consumer.
    free: Vec<Vec<u8>>,
}

impl<'a> Shared<'a> {
    fn lock(&self) -> MutexGuard<'_, State<'a>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn worker(&self) {
        let mut decoders = Decoders::default();
        let mut scratch = Vec::new();
        loop {
            let (seq, job, mut buf) = {
                let mut st = self.lock();
                loop {
                    if st.stop || st.exhausted {
                        return;
                    }
                    let in_flight = st.assigned - st.consumed;
                    if in_flight == 0
                        || (in_flight < self.max_jobs && st.buffered < self.max_buffered)
                    {
                        break;
                    }
                    st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
                let Some(job) = st.planner.next_job() else {
                    st.exhausted = true;
                    // The consumer may be waiting to learn that nothing more comes.
                    self.ready.notify_all();
                    return;
                };
                let seq = st.assigned;
                st.assigned += 1;
                if let Ok(j) = &job {
                    st.buffered += j.len;
                }
                let buf = st.free.pop().unwrap_or_default();
                (seq, job, buf)
            };
            let result = job.map(|mut job| {
                buf.resize(job.len, 0);
                for (i, c) in job.chunks.iter().enumerate() {
                    let out = &mut buf[c.at..c.at + c.len];
                    let r = c
                        .layout
                        .read_chunk(&c.part, c.index, &mut decoders, &mut scratch, out);
                    if let Err(Error::Decode { .. }) = &r
                        && self.recover
                    {
                        // As wimlib: zeros, then whatever the decoder writes before it fails
                        // again. The SHA-1 check then reports the blob as corrupt.
                        out.fill(0);
                        let _ =
                            c.layout
                                .read_chunk(&c.part, c.index, &mut decoders, &mut scratch, out);
                        continue;
                    }
                    if let Err(error) = r {
                        // The bytes before the bad chunk still go out, then the error.
                        let at = c.at;
                        job.error = Some(StreamError {
                            blob: job.blob_of(&job.chunks[i]),
                            error,
                        });
                        job.spans.retain(|s| s.start + s.len <= at);
                        break;
                    }
                }
                (job, buf)
            });
            let mut st = self.lock();
            if result.as_ref().map_or(true, |(job, _)| job.error.is_some()) {
                // Nothing after a failure is needed; the planner stops too.
                st.planner.failed = true;
            }
            st.done.insert(seq, result);
            self.ready.notify_all();
        }
    }
}

/// The bytes of one blob inside a decoded chunk.
struct Span {
    blob: usize,
    sha1: Sha1,
    start: usize,
    len: usize,
}

/// Where a piece of blob data lives: a part, a resource's chunk layout and a chunk index.
type ChunkKey = (PartFile, Arc<ChunkLayout>, u64);

/// One chunk of a job, decoded at `at..at + len` of the job's buffer.
struct ChunkRef {
    part: PartFile,
    layout: Arc<ChunkLayout>,
    index: u64,
    at: usize,
    len: usize,
}

impl ChunkRef {
    fn is(&self, part: &PartFile, layout: &ChunkLayout, index: u64) -> bool {
        Arc::ptr_eq(&self.part.file, &part.file)
            && self.layout.data_start == layout.data_start
            && self.index == index
    }
}

/// Consecutive chunks read and decompressed by one worker into one buffer, and the blob bytes
/// they hold (span starts are offsets in that buffer).
#[derive(Default)]
struct Job {
    chunks: Vec<ChunkRef>,
    /// Decoded length of all the chunks.
    len: usize,
    spans: Vec<Span>,
    /// A chunk failed: the spans before it are kept, this comes after them.
    error: Option<StreamError>,
}

impl Job {
    /// Adds a span whose start is relative to `chunk` (`None`: a blob of size 0). Gives them
    /// back when the job already holds `target` bytes; a job always takes its first chunk.
    fn try_add(
        &mut self,
        chunk: Option<ChunkKey>,
        mut span: Span,
        target: usize,
    ) -> Option<(Option<ChunkKey>, Span)> {
        match chunk {
            None => span.start = self.len,
            Some((part, layout, index)) => {
                let at = match self.chunks.last() {
                    Some(c) if c.is(&part, &layout, index) => c.at,
                    _ => {
                        let len = layout.chunk_len(index);
                        if !self.chunks.is_empty() && self.len + len > target {
                            return Some((Some((part, layout, index)), span));
                        }
                        let at = self.len;
                        self.chunks.push(ChunkRef {
                            part,
                            layout,
                            index,
                            at,
                            len,
                        });
                        self.len += len;
                        at
                    }
                };
                span.start += at;
            }
        }
        match self.spans.last_mut() {
            Some(last) if last.blob == span.blob && last.start + last.len == span.start => {
                last.len += span.len;
            }
            _ => self.spans.push(span),
        }
        None
    }

    /// The blob whose bytes chunk `c` holds first, for messages.
    fn blob_of(&self, c: &ChunkRef) -> Option<usize> {
        self.spans
            .iter()
            .find(|s| s.start < c.at + c.len && s.start + s.len > c.at)
            .or(self.spans.first())
            .map(|s| s.blob)
    }
}

/// Cuts the blobs into chunk jobs, in order.
struct Planner<'a> {
    wim: &'a Wim,
    blobs: &'a [Sha1],
    /// Index of the next blob to open.
    next_blob: usize,
    /// The open blob: its index and its segments still to cut, the first one from `pos`.
    open: Option<(usize, std::vec::IntoIter<Segment>, Option<Segment>)>,
    pos: u64,
    /// A job whose chunk the next blob may share.
    pending: Option<Job>,
    /// An error met while a job was pending: it comes after that job.
    deferred: Option<StreamError>,
    failed: bool,
}

impl<'a> Planner<'a> {
    fn new(wim: &'a Wim, blobs: &'a [Sha1]) -> Self {
        Planner {
            wim,
            blobs,
            next_blob: 0,
            open: None,
            pos: 0,
            pending: None,
            deferred: None,
            failed: false,
        }
    }

    fn next_job(&mut self) -> Option<std::result::Result<Job, StreamError>> {
        if let Some(e) = self.deferred.take() {
            return Some(Err(e));
        }
        if self.failed {
            return None;
        }
        loop {
            let step = match self.next_span() {
                None => return self.pending.take().map(Ok),
                Some(step) => step,
            };
            let (chunk, span) = match step {
                Ok(s) => s,
                Err(e) => {
                    self.failed = true;
                    return match self.pending.take() {
                        Some(job) => {
                            self.deferred = Some(e);
                            Some(Ok(job))
                        }
                        None => Some(Err(e)),
                    };
                }
            };
            let job = self.pending.get_or_insert_with(Job::default);
            if let Some((chunk, span)) = job.try_add(chunk, span, JOB_BYTES) {
                let mut next = Job::default();
                next.try_add(chunk, span, JOB_BYTES);
                return self.pending.replace(next).map(Ok);
            }
        }
    }

    /// The next piece of blob data and the chunk holding it.
    fn next_span(&mut self) -> Option<std::result::Result<(Option<ChunkKey>, Span), StreamError>> {
        loop {
            let Some((blob, rest, seg)) = &mut self.open else {
                let blob = self.next_blob;
                let sha1 = *self.blobs.get(blob)?;
                self.next_blob += 1;
                let tag = |error| StreamError {
                    blob: Some(blob),
                    error,
                };
                let segments = match self.wim.blobs.get(&sha1) {
                    None => Err(Error::MissingBlob { sha1, user: None }),
                    Some(loc) => self.wim.segments(loc),
                };
                let mut segments = match segments {
                    Ok(s) => s,
                    Err(e) => return Some(Err(tag(e))),
                };
                segments.retain(|s| s.len > 0);
                if segments.is_empty() {
                    let span = Span {
                        blob,
                        sha1,
                        start: 0,
                        len: 0,
                    };
                    return Some(Ok((None, span)));
                }
                let mut rest = segments.into_iter();
                let first = rest.next();
                self.open = Some((blob, rest, first));
                self.pos = 0;
                continue;
            };
            let Some(s) = seg.as_ref() else {
                self.open = None;
                continue;
            };
            if self.pos >= s.len {
                *seg = rest.next();
                self.pos = 0;
                continue;
            }
            let layout = &s.layout;
            let abs = s.start + self.pos;
            let chunk = abs / layout.chunk_size;
            let in_chunk = (abs - chunk * layout.chunk_size) as usize;
            let len = (layout.chunk_len(chunk) - in_chunk).min((s.len - self.pos) as usize);
            self.pos += len as u64;
            let span = Span {
                blob: *blob,
                sha1: self.blobs[*blob],
                start: in_chunk,
                len,
            };
            return Some(Ok((
                Some((s.part.clone(), Arc::clone(&s.layout), chunk)),
                span,
            )));
        }
    }
}
