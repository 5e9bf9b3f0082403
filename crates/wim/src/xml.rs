//! The XML data resource: UTF-16LE with a BOM, `<WIM>` with `<TOTALBYTES>` and one `<IMAGE INDEX="n">`
//! per image. Kept as a small element tree so that properties we do not interpret (`WINDOWS/...`,
//! `FLAGS`, vendor elements) survive export and update unchanged.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// An XML element holding either text or child elements (WIM XML never mixes them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The tag name, as written.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// The text of a leaf element (empty for an element with children).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An empty element.
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_string(),
            ..Element::default()
        }
    }

    /// A leaf element holding `text`.
    pub fn with_text(name: &str, text: impl Into<String>) -> Element {
        Element {
            name: name.to_string(),
            text: text.into(),
            ..Element::default()
        }
    }

    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`, ignoring ASCII case as Microsoft's readers do.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Text at a `/`-separated path below this element, e.g. `WINDOWS/ARCH`.
    pub fn get(&self, path: &str) -> Option<&str> {
        let mut e = self;
        for part in path.split('/') {
            e = e.child(part)?;
        }
        Some(e.text.as_str())
    }

    /// Sets the text at a `/`-separated path, creating elements as needed; `None` removes it.
    pub fn set(&mut self, path: &str, value: Option<&str>) {
        let parts: Vec<&str> = path.split('/').collect();
        let (last, parents) = parts.split_last().expect("split yields at least one part");
        let mut e = self;
        for part in parents {
            let pos = match e
                .children
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(part))
            {
                Some(p) => p,
                None if value.is_none() => return,
                None => {
                    e.children.push(Element::new(part));
                    e.children.len() - 1
                }
            };
            e = &mut e.children[pos];
        }
        let pos = e
            .children
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(last));
        match (pos, value) {
            (Some(p), Some(v)) => {
                e.children[p].text = v.to_string();
                e.children[p].children.clear();
            }
            (None, Some(v)) => e.children.push(Element::with_text(last, v)),
            (Some(p), None) => {
                e.children.remove(p);
            }
            (None, None) => {}
        }
    }

    /// Every text leaf as `PATH/TO/LEAF = text`.
    pub fn flatten(&self) -> BTreeMap<String, String> {
        fn walk(e: &Element, prefix: &str, out: &mut BTreeMap<String, String>) {
            for c in &e.children {
                let path = if prefix.is_empty() {
                    c.name.clone()
                } else {
                    format!("{prefix}/{}", c.name)
                };
                if c.children.is_empty() {
                    out.insert(path, c.text.clone());
                } else {
                    walk(c, &path, out);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self, "", &mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape(v, out);
            out.push('"');
        }
        out.push('>');
        escape(&self.text, out);
        for c in &self.children {
            c.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// Parses the XML data resource.
pub fn parse(data: &[u8]) -> Result<Element> {
    if !data.len().is_multiple_of(2) {
        return Err(Error::XmlEncoding { len: data.len() });
    }
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let units = units.strip_prefix(&[0xFEFF]).unwrap_or(&units);
    let text = String::from_utf16(units).map_err(|_| Error::XmlEncoding { len: data.len() })?;
    let text = text.trim_end_matches('\0');
    let doc = roxmltree::Document::parse(text).map_err(|source| Error::Xml { source })?;
    let root = doc.root_element();
    if !root.tag_name().name().eq_ignore_ascii_case("WIM") {
        return Err(Error::XmlRoot {
            found: root.tag_name().name().to_string(),
        });
    }
    /// Recursive, so the depth is bounded: hostile XML nested 100,000 deep must not overflow the
    /// stack (WIM XML is 4 or 5 levels deep).
    fn convert(n: roxmltree::Node, depth: usize) -> Result<Element> {
        if depth > MAX_DEPTH {
            return Err(Error::XmlDepth { limit: MAX_DEPTH });
        }
        let mut e = Element::new(n.tag_name().name());
        e.attrs = n
            .attributes()
            .map(|a| (a.name().to_string(), a.value().to_string()))
            .collect();
        for c in n.children() {
            if c.is_element() {
                e.children.push(convert(c, depth + 1)?);
            } else if c.is_text() {
                e.text.push_str(c.text().unwrap_or(""));
            }
        }
        if !e.children.is_empty() {
            e.text.clear(); // whitespace between elements
        }
        Ok(e)
    }
    const MAX_DEPTH: usize = 64;
    convert(root, 0)
}

/// Serialises to UTF-16LE with a BOM, as Microsoft's tools and wimlib write it.
pub fn to_bytes(root: &Element) -> Vec<u8> {
    let mut s = String::from("\u{feff}");
    root.write(&mut s);
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// Reads a FILETIME written as `<HIGHPART>0x..</HIGHPART><LOWPART>0x..</LOWPART>`.
pub fn get_time(e: &Element, name: &str) -> Option<u64> {
    let t = e.child(name)?;
    let part = |n: &str| {
        let s = t.get(n)?.trim();
        let s = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        u32::from_str_radix(s, 16).ok()
    };
    Some((u64::from(part("HIGHPART")?) << 32) | u64::from(part("LOWPART")?))
}

/// An element holding a FILETIME as `<HIGHPART>`/`<LOWPART>` in hex, as Microsoft writes it.
pub fn time_element(name: &str, filetime: u64) -> Element {
    let mut e = Element::new(name);
    e.children.push(Element::with_text(
        "HIGHPART",
        format!("0x{:08X}", filetime >> 32),
    ));
    e.children.push(Element::with_text(
        "LOWPART",
        format!("0x{:08X}", filetime as u32),
    ));
    e
}

/// The `<IMAGE>` elements in file order.
pub fn images(root: &Element) -> impl Iterator<Item = &Element> {
    root.children
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case("IMAGE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wimlib_output_and_round_trips() {
        let text = "\u{feff}<WIM><IMAGE INDEX=\"1\"><NAME>src &amp; co</NAME><DIRCOUNT>2</DIRCOUNT>\
            <CREATIONTIME><HIGHPART>0x01DD7976</HIGHPART><LOWPART>0x13DE003A</LOWPART></CREATIONTIME>\
            <WINDOWS><ARCH>9</ARCH></WINDOWS></IMAGE><TOTALBYTES>2016</TOTALBYTES></WIM>";
        let bytes: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let root = parse(&bytes).expect("valid");
        let img = images(&root).next().expect("one image");
        assert_eq!(img.attr("INDEX"), Some("1"));
        assert_eq!(img.get("NAME"), Some("src & co"));
        assert_eq!(img.get("WINDOWS/ARCH"), Some("9"));
        assert_eq!(get_time(img, "CREATIONTIME"), Some(0x01DD7976_13DE003A));
        assert_eq!(parse(&to_bytes(&root)).expect("valid"), root);
        assert_eq!(to_bytes(&root), bytes);
    }

    #[test]
    fn set_creates_and_removes() {
        let mut e = Element::new("IMAGE");
        e.set("WINDOWS/ARCH", Some("12"));
        assert_eq!(e.get("WINDOWS/ARCH"), Some("12"));
        e.set("WINDOWS/ARCH", None);
        assert_eq!(e.get("WINDOWS/ARCH"), None);
        assert!(!e.flatten().contains_key("WINDOWS/ARCH"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            &b"\x01"[..],
            &[0x3c, 0x00, 0x41, 0x00][..],
            &[0x00, 0xd8, 0x41, 0x00][..],
        ] {
            assert!(parse(bad).is_err());
        }
    }
}
