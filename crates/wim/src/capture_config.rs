//! Capture configuration (wimlib's `--config` file): which paths a capture leaves out.
//!
//! The file is INI-like. `[ExclusionList]` holds globs of paths to leave out (a directory
//! matched takes its contents with it); `[ExclusionException]` holds globs kept even when an
//! exclusion matches. A glob with a path separator (`/` or `\`) is absolute: it matches the
//! path from the captured directory's root. A glob without one matches a file name in any
//! directory. `*` and `?` are the only wildcards. Lines starting with `#` or `;` are comments;
//! a glob may be quoted. Other sections (`[PrepopulateList]`, `[CompressionExclusionList]`, ...)
//! do not change what a capture stores and are read and set aside.

use crate::error::{Error, Result};
use std::path::Path;

/// The exclusions of a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Globs of paths left out, normalised to `/` separators.
    pub exclude: Vec<String>,
    /// Globs of paths kept even when excluded.
    pub exceptions: Vec<String>,
    /// Match without regard to ASCII case (wimlib's `WIMLIB_IMAGEX_IGNORE_CASE=1`).
    pub ignore_case: bool,
}

/// What a capture does with one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Captured, with everything under it unless excluded itself.
    Keep,
    /// A directory excluded, kept only because an exception names something inside it: its
    /// entries are excluded unless an exception names them.
    KeepForExceptions,
    /// Left out with everything under it.
    Skip,
}

/// The exclusions used when no configuration file is given, as wimlib uses them: Windows'
/// paging and hibernation files, the recycle bins and the volume's system folder.
pub const DEFAULT_EXCLUSIONS: &[&str] = &[
    "/$ntfs.log",
    "/hiberfil.sys",
    "/pagefile.sys",
    "/swapfile.sys",
    "/System Volume Information",
    "/RECYCLER",
    "/$RECYCLE.BIN",
    "/$Recycle.Bin",
    "/Windows/CSC",
];

impl CaptureConfig {
    /// The configuration used when none is given.
    pub fn default_exclusions() -> CaptureConfig {
        CaptureConfig {
            exclude: DEFAULT_EXCLUSIONS.iter().map(|s| s.to_string()).collect(),
            exceptions: Vec::new(),
            ignore_case: false,
        }
    }

    /// Reads a configuration file (UTF-8, or UTF-16LE with its byte order mark).
    pub fn load(path: &Path) -> Result<CaptureConfig> {
        let data = std::fs::read(path).map_err(|e| Error::Source {
            path: path.to_path_buf(),
            reason: format!("cannot read the capture configuration: {e}"),
        })?;
        let text = decode(&data);
        Self::parse(&text).map_err(|reason| Error::Source {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses the text of a configuration file.
    pub fn parse(text: &str) -> std::result::Result<CaptureConfig, String> {
        let mut c = CaptureConfig::default();
        let mut section: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(name.trim().to_ascii_lowercase());
                continue;
            }
            let glob = normalise(unquote(line));
            match section.as_deref() {
                Some("exclusionlist") => c.exclude.push(glob),
                Some("exclusionexception") => c.exceptions.push(glob),
                Some(_) => {}
                None => return Err(format!("line {}: {line:?} is outside any [section]", n + 1)),
            }
        }
        Ok(c)
    }

    /// Whether `path` (from the captured root, `/`-separated, starting with `/`) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        self.verdict(path, false, false) == Verdict::Skip
    }

    /// What to do with `path` (from the captured root, `/`-separated, starting with `/`), a
    /// directory when `is_dir`, whose parent was kept only for exceptions when
    /// `parent_excluded`.
    pub fn verdict(&self, path: &str, is_dir: bool, parent_excluded: bool) -> Verdict {
        let fold;
        let path = if self.ignore_case {
            fold = path.to_ascii_lowercase();
            fold.as_str()
        } else {
            path
        };
        let m = |g: &String| {
            if self.ignore_case {
                matches(&g.to_ascii_lowercase(), path)
            } else {
                matches(g, path)
            }
        };
        if self.exceptions.iter().any(m) {
            return Verdict::Keep;
        }
        if !parent_excluded && !self.exclude.iter().any(m) {
            return Verdict::Keep;
        }
        let inside = |g: &String| {
            let g = if self.ignore_case {
                g.to_ascii_lowercase()
            } else {
                g.clone()
            };
            g.starts_with('/') && prefix_matches(&g, path)
        };
        if is_dir && self.exceptions.iter().any(inside) {
            Verdict::KeepForExceptions
        } else {
            Verdict::Skip
        }
    }
}

fn decode(data: &[u8]) -> String {
    if let Some(rest) = data.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    let data = data.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(data);
    String::from_utf8_lossy(data).into_owned()
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Backslashes become slashes; a drive letter (`C:`) is dropped, as wimlib drops it.
fn normalise(glob: &str) -> String {
    let g = glob.replace('\\', "/");
    let b = g.as_bytes();
    let g = if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        g[2..].to_string()
    } else {
        g
    };
    let trimmed = g.trim_end_matches('/');
    if trimmed.is_empty() {
        g
    } else {
        trimmed.to_string()
    }
}

/// A glob with a separator matches the whole path; one without matches the last name.
fn matches(glob: &str, path: &str) -> bool {
    if glob.contains('/') {
        let g = if glob.starts_with('/') {
            glob.to_string()
        } else {
            format!("/{glob}")
        };
        wildcard(g.as_bytes(), path.as_bytes())
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        wildcard(glob.as_bytes(), name.as_bytes())
    }
}

/// Whether the first components of the absolute glob `glob` match all of `path`, with more
/// components left: something inside `path` may match.
fn prefix_matches(glob: &str, path: &str) -> bool {
    let g: Vec<&str> = glob.trim_start_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    p.len() < g.len()
        && p.iter()
            .zip(&g)
            .all(|(p, g)| wildcard(g.as_bytes(), p.as_bytes()))
}

/// [`wildcard`] on names (which have no `/`), for extract's patterns.
pub(crate) fn wildcard_match(glob: &str, name: &str) -> bool {
    wildcard(glob.as_bytes(), name.as_bytes())
}

/// `*` matches any run of characters but `/`; `?` one character but `/`.
fn wildcard(g: &[u8], s: &[u8]) -> bool {
    let (mut gi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if gi < g.len() && (g[gi] == s[si] || g[gi] == b'?' && s[si] != b'/') {
            gi += 1;
            si += 1;
        } else if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, si));
            gi += 1;
        } else if let Some((sg, ss)) = star
            && s[ss] != b'/'
        {
            gi = sg + 1;
            si = ss + 1;
            star = Some((sg, ss + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative_globs() {
        let c = CaptureConfig::parse(
            "[ExclusionList]\n# comment\n\\hiberfil.sys\n*.mp3\n\"/dir one/*\"\n\n[ExclusionException]\n/dir one/keep\n",
        )
        .expect("parses");
        assert!(c.excludes("/hiberfil.sys"));
        assert!(!c.excludes("/sub/hiberfil.sys"));
        assert!(c.excludes("/a/b/song.mp3"));
        assert!(c.excludes("/dir one/x"));
        assert!(!c.excludes("/dir one/keep"));
        assert!(!c.excludes("/dir one"));
    }

    #[test]
    fn exception_inside_excluded_directory_keeps_the_path_to_it() {
        let c = CaptureConfig::parse("[ExclusionList]\n/dir\n[ExclusionException]\n/dir/inc*\n")
            .expect("parses");
        assert_eq!(c.verdict("/dir", true, false), Verdict::KeepForExceptions);
        assert_eq!(c.verdict("/dir/exclude.txt", false, true), Verdict::Skip);
        assert_eq!(c.verdict("/dir/include.txt", false, true), Verdict::Keep);
        assert_eq!(c.verdict("/dir", false, false), Verdict::Skip);
    }

    #[test]
    fn ignore_case() {
        let mut c = CaptureConfig::parse("[ExclusionList]\nfoo\n").expect("parses");
        assert!(!c.excludes("/FOO"));
        c.ignore_case = true;
        assert!(c.excludes("/FOO"));
    }

    #[test]
    fn star_does_not_cross_directories() {
        assert!(wildcard(b"/a/*", b"/a/b"));
        assert!(!wildcard(b"/a/*", b"/a/b/c"));
        assert!(wildcard(b"f?le*", b"file.txt"));
    }

    #[test]
    fn glob_outside_section_is_refused() {
        assert!(CaptureConfig::parse("/x\n").is_err());
    }

    #[test]
    fn defaults_match_windows_system_files() {
        let c = CaptureConfig::default_exclusions();
        assert!(c.excludes("/pagefile.sys"));
        assert!(c.excludes("/Windows/CSC"));
        assert!(!c.excludes("/Windows/System32"));
    }
}
