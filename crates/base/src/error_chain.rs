//! An error and its causes as one line of text.
//!
//! Every tsmedia error prints only its own context (what, where) and hands its cause to
//! `source()`, so joining the chain prints each cause once. The CLI, the runtime binary and
//! the runtime's log all print errors through [`error_chain`].

use std::error::Error;

/// `outer: cause: ...`: the error's message followed by each of its sources in turn.
pub fn error_chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {path}")]
    struct Outer {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn each_cause_once_in_order() {
        let e = Outer {
            path: "/x",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(error_chain(&e), "reading /x: gone");
        assert_eq!(
            error_chain(&std::fmt::Error),
            "an error occurred when formatting an argument"
        );
    }
}
