//! What kind of failure an error is, so that every crate's errors map to the same exit codes
//! (and the same HTTP statuses) without the edges knowing each crate's variants.

/// The kind of a failure. Each library error type has a `class()` saying which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Refused as unsafe (a name leaving its target) or by the site (blocked or expired
    /// certificate, unknown computer, no read access).
    Refused,
    /// Something named does not exist (file, image, package, deployment, part).
    NotFound,
    /// The input is wrong: not the expected format, corrupt, a bad option value, a wrong
    /// password.
    InvalidInput,
    /// The operation was cancelled (Ctrl-C).
    Cancelled,
    /// Anything else: I/O, a full disk, the network, a server error.
    Failure,
}

impl ErrorClass {
    /// The process exit code of a failure of this class, the same for `tsmedia` and
    /// `tsmedia-runtime`: 5 refused, 4 not found, 3 invalid input, 130 cancelled, 1 otherwise.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Refused => 5,
            ErrorClass::NotFound => 4,
            ErrorClass::InvalidInput => 3,
            ErrorClass::Cancelled => 130,
            ErrorClass::Failure => 1,
        }
    }

    /// The class of an I/O error: `NotFound` for a missing file, else `Failure`.
    pub fn of_io(e: &std::io::Error) -> ErrorClass {
        match e.kind() {
            std::io::ErrorKind::NotFound => ErrorClass::NotFound,
            _ => ErrorClass::Failure,
        }
    }
}
