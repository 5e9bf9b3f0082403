//! Running the NTFS-3G programs: their output kept for the error, never printed.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `cmd` (program `program`, working on `path`) to completion; a non-zero exit is an
/// [`Error::Tool`] with the last lines it printed.
pub(crate) fn run(program: &'static str, cmd: &mut Command, path: &Path) -> Result<Output> {
    let out = cmd
        .output()
        .map_err(|source| Error::Spawn { program, source })?;
    if !out.status.success() {
        return Err(Error::Tool {
            program,
            path: path.to_path_buf(),
            status: out.status.to_string(),
            output: tail(&out.stderr, &out.stdout),
        });
    }
    Ok(out)
}

/// The last few lines of a program's output (its error output first), on one line.
pub(crate) fn tail(stderr: &[u8], stdout: &[u8]) -> String {
    let text = if stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        stderr
    } else {
        stdout
    };
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(4)..].join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_of_the_error_output() {
        assert_eq!(tail(b"a\n\nb\nc\nd\ne\n", b"out"), "b / c / d / e");
        assert_eq!(tail(b"  \n", b"only out\n"), "only out");
    }
}
