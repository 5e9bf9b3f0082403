//! Errors of task sequence import.

/// An error reading a task sequence document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not well-formed XML (the message carries line and column).
    #[error("task sequence XML is not well-formed")]
    Syntax(#[from] roxmltree::Error),
    /// The bytes are not valid UTF-8 or UTF-16 text.
    #[error("task sequence XML is not valid {encoding} text at byte offset {offset}")]
    Encoding {
        /// The encoding the bytes were read as.
        encoding: &'static str,
        /// Offset of the first bad byte.
        offset: usize,
    },
    /// Well-formed XML that does not follow the task sequence schema.
    #[error("task sequence XML at line {line}, column {column}: {reason}")]
    Schema {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        reason: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The kind of failure, for exit codes: task sequence XML that cannot be read is always
    /// invalid input.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        tsmedia_base::ErrorClass::InvalidInput
    }
}
