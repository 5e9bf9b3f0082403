//! Compressing chunks on all cores while the calling thread reads, hashes and writes.
//!
//! Chunks are submitted with increasing sequence numbers and come back in the same order, so
//! the writer can lay them out sequentially while later chunks are still being compressed.

use crate::error::{Error, Result};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::BTreeMap;
use std::thread::JoinHandle;
use tsmedia_codecs::Format;

pub struct Job {
    pub seq: u64,
    pub input: Vec<u8>,
    pub output: Vec<u8>,
}

/// A compressed chunk: `output[..len]` is the compressed data, or `None` when it is stored raw
/// (then `input` holds the data).
pub struct Done {
    pub seq: u64,
    pub input: Vec<u8>,
    pub output: Vec<u8>,
    pub compressed: Option<usize>,
}

pub struct Pool {
    jobs: Option<Sender<Job>>,
    results: Receiver<Result<Done, tsmedia_codecs::CodecError>>,
    workers: Vec<JoinHandle<()>>,
    next_seq: u64,
    next_out: u64,
    ready: BTreeMap<u64, Done>,
    in_flight: usize,
    max_in_flight: usize,
    spare_inputs: Vec<Vec<u8>>,
    spare_outputs: Vec<Vec<u8>>,
}

impl Pool {
    pub fn new(format: Format, chunk_size: usize, level: u32, threads: usize) -> Result<Pool> {
        Self::with_limits(format, chunk_size, level, threads, threads.max(1) * 8)
    }

    /// A pool holding at most `max_in_flight` chunks submitted and not yet taken back.
    pub fn with_limits(
        format: Format,
        chunk_size: usize,
        level: u32,
        threads: usize,
        max_in_flight: usize,
    ) -> Result<Pool> {
        // Fail early (bad chunk size, unsupported format) rather than in a worker.
        tsmedia_codecs::new_compressor(format, chunk_size, level)?;
        let threads = threads.max(1);
        let (jtx, jrx) = bounded::<Job>((threads * 4).min(max_in_flight.max(1)));
        let (rtx, rrx) = unbounded();
        let workers = (0..threads)
            .map(|_| {
                let jrx = jrx.clone();
                let rtx = rtx.clone();
                std::thread::spawn(move || worker(format, chunk_size, level, jrx, rtx))
            })
            .collect();
        Ok(Pool {
            jobs: Some(jtx),
            results: rrx,
            workers,
            next_seq: 0,
            next_out: 0,
            ready: BTreeMap::new(),
            in_flight: 0,
            max_in_flight: max_in_flight.max(1),
            spare_inputs: Vec::new(),
            spare_outputs: Vec::new(),
        })
    }

    /// A buffer to fill with the next chunk's data.
    pub fn input_buffer(&mut self) -> Vec<u8> {
        let mut b = self.spare_inputs.pop().unwrap_or_default();
        b.clear();
        b
    }

    /// Returns buffers of a written chunk for reuse.
    pub fn recycle(&mut self, done: Done) {
        self.spare_inputs.push(done.input);
        self.spare_outputs.push(done.output);
    }

    /// Takes back a written chunk's input buffer for reuse and frees its output buffer (for
    /// large chunks, whose output buffers would otherwise keep every page ever written).
    pub fn recycle_input(&mut self, done: Done) {
        self.spare_inputs.push(done.input);
    }

    /// Submits a chunk; returns its sequence number. Blocks while too many are in flight,
    /// collecting finished chunks (see [`Pool::try_next`]).
    pub fn submit(&mut self, input: Vec<u8>) -> Result<u64> {
        while self.in_flight >= self.max_in_flight {
            self.receive_one()?;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.in_flight += 1;
        let output = self.spare_outputs.pop().unwrap_or_default();
        let jobs = self.jobs.as_ref().expect("pool is open until dropped");
        jobs.send(Job { seq, input, output })
            .map_err(|_| worker_died())?;
        Ok(seq)
    }

    /// The next chunk in order if it is already compressed.
    pub fn try_next(&mut self) -> Result<Option<Done>> {
        while let Ok(r) = self.results.try_recv() {
            self.accept(r)?;
        }
        Ok(self.pop_ready())
    }

    /// The next chunk in order, waiting for it; `None` when nothing is in flight.
    pub fn next(&mut self) -> Result<Option<Done>> {
        loop {
            if let Some(d) = self.pop_ready() {
                return Ok(Some(d));
            }
            if self.next_out == self.next_seq {
                return Ok(None);
            }
            self.receive_one()?;
        }
    }

    fn pop_ready(&mut self) -> Option<Done> {
        let d = self.ready.remove(&self.next_out)?;
        self.next_out += 1;
        Some(d)
    }

    fn receive_one(&mut self) -> Result<()> {
        let r = self.results.recv().map_err(|_| worker_died())?;
        self.accept(r)
    }

    fn accept(&mut self, r: Result<Done, tsmedia_codecs::CodecError>) -> Result<()> {
        let d = r?;
        self.in_flight -= 1;
        self.ready.insert(d.seq, d);
        Ok(())
    }
}

fn worker_died() -> Error {
    Error::CompressionThread
}

fn worker(
    format: Format,
    chunk_size: usize,
    level: u32,
    jobs: Receiver<Job>,
    results: Sender<Result<Done, tsmedia_codecs::CodecError>>,
) {
    let mut compressor = match tsmedia_codecs::new_compressor(format, chunk_size, level) {
        Ok(c) => c,
        Err(e) => {
            let _ = results.send(Err(e));
            return;
        }
    };
    for job in jobs {
        let mut output = job.output;
        if output.is_empty() {
            // Zeroed pages from the allocator: only those the compressor writes are touched.
            output = vec![0; job.input.len().max(1)];
        } else {
            output.resize(job.input.len().max(1), 0);
        }
        let compressed = compressor.compress(&job.input, &mut output);
        if results
            .send(Ok(Done {
                seq: job.seq,
                input: job.input,
                output,
                compressed,
            }))
            .is_err()
        {
            return;
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
