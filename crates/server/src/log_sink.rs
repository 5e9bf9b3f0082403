//! The service's log writer: standard error that never fails.
//!
//! When whoever reads the log goes away (a closed pipe, a full disk behind a redirect), a log
//! write fails with `EPIPE` or `ENOSPC`. The `tracing` formatter would then report the failure
//! with `eprintln!`, which panics on that same broken stream, inside the task serving the
//! request: the connection was dropped for a log line. Log lines that cannot be written are
//! dropped instead; requests are answered regardless.

use std::io::Write;

/// Standard error, dropping what cannot be written. Give `|| LossyStderr` to
/// `tracing_subscriber::fmt().with_writer(...)` (together with `log_internal_errors(false)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LossyStderr;

impl Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
