//! One rule set for names and relative paths that come from outside (a WIM, a FAT or ISO
//! volume, a content manifest) and must stay inside the folder they are written to.
//!
//! A path is refused when it is empty, absolute (`/x`, `\x`), starts with a drive letter
//! (`C:`), or has a component that is empty (`a//b`, a trailing `/`), `.` or `..`, or that
//! holds a backslash or NUL. Only `/` separates components; a backslash is refused rather
//! than guessed at, since Windows reads it as a separator and Linux as part of a name.

use std::path::PathBuf;

/// Why a name or relative path could leave its target folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsafe {
    /// Nothing at all, or an empty component (`a//b`, `a/`).
    Empty,
    /// Starts at a root (`/etc`).
    Absolute,
    /// Starts with a drive letter (`C:`, `c:x`).
    DriveLetter,
    /// A `.` or `..` component (path traversal).
    Dot,
    /// A backslash (a separator on Windows).
    Backslash,
    /// A `/` inside what must be a single name.
    Slash,
    /// A NUL character.
    Nul,
}

impl Unsafe {
    /// The reason in words, for messages.
    pub fn reason(self) -> &'static str {
        match self {
            Unsafe::Empty => "empty name or path component",
            Unsafe::Absolute => "absolute path",
            Unsafe::DriveLetter => "drive letter",
            Unsafe::Dot => "'.' or '..', a relative directory name (path traversal)",
            Unsafe::Backslash => "name contains a backslash, a path separator on Windows",
            Unsafe::Slash => "name contains a path separator (path traversal)",
            Unsafe::Nul => "name contains NUL",
        }
    }
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Unsafe {}

/// Checks one path component (a file or folder name).
pub fn check_name(name: &str) -> Result<(), Unsafe> {
    if name.is_empty() {
        return Err(Unsafe::Empty);
    }
    if name == "." || name == ".." {
        return Err(Unsafe::Dot);
    }
    if name.contains('/') {
        return Err(Unsafe::Slash);
    }
    if name.contains('\\') {
        return Err(Unsafe::Backslash);
    }
    if name.contains('\0') {
        return Err(Unsafe::Nul);
    }
    if has_drive_letter(name) {
        return Err(Unsafe::DriveLetter);
    }
    Ok(())
}

/// Checks a UTF-16 name (as WIM dentries store it) by the rules of [`check_name`]; units
/// that are not valid UTF-16 are not this module's concern (they never form `/`, `\`, NUL
/// or a drive letter).
pub fn check_name_utf16(name: &[u16]) -> Result<(), Unsafe> {
    check_name(&String::from_utf16_lossy(name))
}

/// Checks a `/`-separated relative path.
pub fn check_relative(path: &str) -> Result<(), Unsafe> {
    if path.is_empty() {
        return Err(Unsafe::Empty);
    }
    if path.starts_with(['/', '\\']) {
        return Err(Unsafe::Absolute);
    }
    path.split('/').try_for_each(check_name)
}

/// Checks a `/`-separated relative path and returns it as a [`PathBuf`] to join under the
/// target folder.
pub fn relative_path(path: &str) -> Result<PathBuf, Unsafe> {
    check_relative(path)?;
    Ok(path.split('/').collect())
}

/// `C:` or `c:anything`: a drive letter, absolute or drive-relative on Windows.
fn has_drive_letter(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        for ok in [
            "a",
            "a/b.wim",
            "SMS/PKG/PS100001/x.txt",
            "a.b/..c",
            "ab:c",
            "1:x",
        ] {
            assert_eq!(check_relative(ok), Ok(()), "{ok:?}");
        }
        let bad = [
            ("", Unsafe::Empty),
            ("a//b", Unsafe::Empty),
            ("a/", Unsafe::Empty),
            ("/etc/passwd", Unsafe::Absolute),
            ("\\x", Unsafe::Absolute),
            ("C:", Unsafe::DriveLetter),
            ("c:/x", Unsafe::DriveLetter),
            ("a/C:x", Unsafe::DriveLetter),
            ("..", Unsafe::Dot),
            ("a/../../b", Unsafe::Dot),
            ("./a", Unsafe::Dot),
            ("a\\..\\b", Unsafe::Backslash),
            ("a\0b", Unsafe::Nul),
        ];
        for (path, why) in bad {
            assert_eq!(check_relative(path), Err(why), "{path:?}");
        }
        assert_eq!(
            relative_path("a/b/c").unwrap(),
            PathBuf::from("a").join("b").join("c")
        );
    }

    #[test]
    fn names() {
        assert_eq!(check_name("file.txt"), Ok(()));
        assert_eq!(check_name("a/b"), Err(Unsafe::Slash));
        assert_eq!(check_name(""), Err(Unsafe::Empty));
        assert_eq!(check_name("."), Err(Unsafe::Dot));
        assert_eq!(check_name("D:"), Err(Unsafe::DriveLetter));
        let utf16 = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(check_name_utf16(&utf16("ok")), Ok(()));
        assert_eq!(check_name_utf16(&utf16("..")), Err(Unsafe::Dot));
        assert_eq!(check_name_utf16(&utf16("a\\b")), Err(Unsafe::Backslash));
        assert_eq!(check_name_utf16(&[0xD800, 0x61]), Ok(()));
    }
}
