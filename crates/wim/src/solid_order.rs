//! The order in which blobs go into a solid resource: wimlib's "solid sort", which puts files
//! of one kind next to each other so that the compressor's window sees similar data together.
//!
//! The rule (wimlib's write path, `docs/wim-format.md`, "Solid"): each blob takes the name of
//! a file whose unnamed data it is (for a file with several links, the shortest link name;
//! just the final component, not the path). Blobs without such a name (reparse data, named
//! streams, metadata) come first. Named blobs follow: names without an extension before names
//! with one; names with an extension by extension, then by whole name; names without one by
//! name. Both comparisons ignore case. The extension is what follows the name's last `.`
//! (empty for a name ending in `.`). Equal keys keep their previous order (the sort is
//! stable), which callers choose as the order the source is read in.

use std::cmp::Ordering;

/// The extension of a UTF-16 name: the code units after its last `.`, if it has one.
fn extension(name: &[u16]) -> Option<&[u16]> {
    let dot = name.iter().rposition(|&c| c == u16::from(b'.'))?;
    Some(&name[dot + 1..])
}

/// Upper case of one UTF-16 code unit, for comparisons that ignore case (code units outside
/// the Basic Multilingual Plane's simple one-to-one mappings are left alone).
fn upcase(c: u16) -> u16 {
    if c < 0x80 {
        return u16::from((c as u8).to_ascii_uppercase());
    }
    match char::from_u32(u32::from(c)) {
        Some(ch) => {
            let mut up = ch.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) if (u as u32) <= 0xFFFF => u as u16,
                _ => c,
            }
        }
        None => c,
    }
}

/// Compares two UTF-16 strings ignoring case, code unit by code unit; a prefix sorts first.
fn cmp_ignore_case(a: &[u16], b: &[u16]) -> Ordering {
    a.iter()
        .map(|&c| upcase(c))
        .cmp(b.iter().map(|&c| upcase(c)))
}

/// Compares the sort names of two blobs (`None`: the blob has no file name).
pub fn compare(a: Option<&[u16]>, b: Option<&[u16]>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => {
            let by_ext = match (extension(a), extension(b)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => cmp_ignore_case(x, y),
            };
            by_ext.then_with(|| cmp_ignore_case(a, b))
        }
    }
}

/// Sorts `items` into solid order by the name `name` gives each (stable).
pub fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> Option<&[u16]>) {
    items.sort_by(|x, y| compare(name(x), name(y)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn wimlib_order() {
        let names = [
            Some("b.TXT"),
            None,
            Some("Makefile"),
            Some("a.dll"),
            Some("a.txt"),
            Some("README"),
            Some(".bashrc"),
            Some("z."),
            Some("C.Dll"),
            None,
        ];
        let mut items: Vec<(usize, Option<Vec<u16>>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.map(u)))
            .collect();
        sort_by_name(&mut items, |x| x.1.as_deref());
        let got: Vec<String> = items
            .iter()
            .map(|(i, n)| match n {
                Some(n) => String::from_utf16_lossy(n),
                None => format!("#{i}"),
            })
            .collect();
        // No name first (stable), then no extension by name, then by extension: "" (z.),
        // "bashrc", "dll" (a, C), "txt" (a, b).
        assert_eq!(
            got,
            [
                "#1", "#9", "Makefile", "README", "z.", ".bashrc", "a.dll", "C.Dll", "a.txt",
                "b.TXT"
            ]
        );
    }

    #[test]
    fn case_and_prefixes() {
        assert_eq!(cmp_ignore_case(&u("abc"), &u("ABC")), Ordering::Equal);
        assert_eq!(cmp_ignore_case(&u("ab"), &u("abc")), Ordering::Less);
        assert_eq!(cmp_ignore_case(&u("é"), &u("É")), Ordering::Equal);
        assert_eq!(extension(&u("a.b.c")), Some(&u("c")[..]));
        assert_eq!(extension(&u("abc")), None);
    }
}
