//! A small element tree for answer files: parsed with roxmltree (which only reads), edited in
//! place, written back with qualified names as the document spelled them.
//!
//! Answer files are element-only XML (no mixed content), so whitespace-only text between
//! elements is dropped on reading and the output is indented anew. Comments are kept;
//! processing instructions and the DOCTYPE are not (answer files have none).

use std::fmt::Write as _;

/// An element: its qualified name (`component`, `wcm:action`…), attributes in order
/// (namespace declarations included, as `xmlns`/`xmlns:p`), and children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlElement {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XmlNode>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmlNode {
    Element(XmlElement),
    Text(String),
    Comment(String),
}

impl XmlElement {
    pub fn new(name: &str) -> XmlElement {
        XmlElement {
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, name: &str, value: &str) -> XmlElement {
        self.set_attr(name, value);
        self
    }

    /// Adds a child element (builder style).
    pub fn child(mut self, child: XmlElement) -> XmlElement {
        self.children.push(XmlNode::Element(child));
        self
    }

    /// Adds a child element holding only `text` (builder style).
    pub fn text_child(self, name: &str, text: &str) -> XmlElement {
        self.child(XmlElement::new(name).text(text))
    }

    /// Sets the element's text (builder style).
    pub fn text(mut self, text: &str) -> XmlElement {
        self.children.push(XmlNode::Text(text.to_string()));
        self
    }

    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|c| match c {
            XmlNode::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut XmlElement> {
        self.children.iter_mut().filter_map(|c| match c {
            XmlNode::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The index in `children` of the first child element matching `pred`.
    pub fn find_child(&self, pred: impl Fn(&XmlElement) -> bool) -> Option<usize> {
        self.children
            .iter()
            .position(|c| matches!(c, XmlNode::Element(e) if pred(e)))
    }

    /// The child element matching `pred`, appending `make()` first if there is none.
    pub fn child_or_insert(
        &mut self,
        pred: impl Fn(&XmlElement) -> bool,
        make: impl FnOnce() -> XmlElement,
    ) -> &mut XmlElement {
        let at = match self.find_child(pred) {
            Some(at) => at,
            None => {
                self.children.push(XmlNode::Element(make()));
                self.children.len() - 1
            }
        };
        match &mut self.children[at] {
            XmlNode::Element(e) => e,
            _ => unreachable!("find_child only returns element positions"),
        }
    }

    /// Replaces the first child element with the same name as `new`, or appends it.
    pub fn replace_or_push(&mut self, new: XmlElement) {
        match self.find_child(|e| e.name == new.name) {
            Some(at) => self.children[at] = XmlNode::Element(new),
            None => self.children.push(XmlNode::Element(new)),
        }
    }

    /// The document text, with an XML declaration.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        let _ = write!(out, "{indent}<{}", self.name);
        // Namespace declarations first: the reader cannot tell where they stood, and a fixed
        // place keeps a rewrite of our own output byte-identical.
        let is_decl = |n: &str| n == "xmlns" || n.starts_with("xmlns:");
        let decls = self.attrs.iter().filter(|(n, _)| is_decl(n));
        for (name, value) in decls.chain(self.attrs.iter().filter(|(n, _)| !is_decl(n))) {
            let _ = write!(out, " {name}=\"{}\"", escape(value, true));
        }
        if self.children.is_empty() {
            out.push_str(" />\n");
            return;
        }
        if let [XmlNode::Text(text)] = self.children.as_slice() {
            let _ = writeln!(out, ">{}</{}>", escape(text, false), self.name);
            return;
        }
        out.push_str(">\n");
        for child in &self.children {
            match child {
                XmlNode::Element(e) => e.write(out, depth + 1),
                XmlNode::Text(t) => {
                    let _ = writeln!(out, "{indent}  {}", escape(t, false));
                }
                XmlNode::Comment(c) => {
                    let _ = writeln!(out, "{indent}  <!--{}-->", c.replace("--", "- -"));
                }
            }
        }
        let _ = writeln!(out, "{indent}</{}>", self.name);
    }
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// Parses a document into its root element.
pub fn parse(text: &str) -> Result<XmlElement, roxmltree::Error> {
    let doc = roxmltree::Document::parse(text)?;
    Ok(convert(doc.root_element(), None))
}

fn qualified(node: roxmltree::Node<'_, '_>, namespace: Option<&str>, local: &str) -> String {
    match namespace.and_then(|uri| node.lookup_prefix(uri)) {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{local}"),
        _ => local.to_string(),
    }
}

fn convert(node: roxmltree::Node<'_, '_>, parent: Option<roxmltree::Node<'_, '_>>) -> XmlElement {
    let tag = node.tag_name();
    let mut element = XmlElement::new(&qualified(node, tag.namespace(), tag.name()));
    // Declarations made on this element: those in scope here but not in the parent.
    for ns in node.namespaces() {
        let inherited = parent.is_some_and(|p| {
            p.namespaces()
                .any(|q| q.name() == ns.name() && q.uri() == ns.uri())
        });
        if inherited || ns.name() == Some("xml") {
            continue;
        }
        let name = ns
            .name()
            .map_or_else(|| "xmlns".to_string(), |p| format!("xmlns:{p}"));
        element.attrs.push((name, ns.uri().to_string()));
    }
    for attr in node.attributes() {
        element.attrs.push((
            qualified(node, attr.namespace(), attr.name()),
            attr.value().to_string(),
        ));
    }
    for child in node.children() {
        if child.is_element() {
            element
                .children
                .push(XmlNode::Element(convert(child, Some(node))));
        } else if child.is_text() {
            let text = child.text().unwrap_or_default();
            if !text.trim().is_empty() {
                element.children.push(XmlNode::Text(text.to_string()));
            }
        } else if child.is_comment() {
            element.children.push(XmlNode::Comment(
                child.text().unwrap_or_default().to_string(),
            ));
        }
    }
    element
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_prefixes_declarations_and_comments() {
        let text = r#"<?xml version="1.0"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <!-- keep me -->
  <settings pass="oobeSystem">
    <component name="X" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
      <Item wcm:action="add">a &amp; b &lt;c&gt;</Item>
      <Empty/>
    </component>
  </settings>
</unattend>"#;
        let root = parse(text).expect("parse");
        assert_eq!(
            root.get_attr("xmlns"),
            Some("urn:schemas-microsoft-com:unattend")
        );
        let written = root.to_document();
        assert!(
            written.contains("<Item wcm:action=\"add\">a &amp; b &lt;c&gt;</Item>"),
            "{written}"
        );
        assert!(written.contains("<!-- keep me -->"), "{written}");
        assert_eq!(parse(&written).expect("reparse"), root);
    }

    #[test]
    fn replace_or_push_keeps_order() {
        let mut e = XmlElement::new("c")
            .text_child("A", "1")
            .text_child("B", "2");
        e.replace_or_push(XmlElement::new("A").text("3"));
        e.replace_or_push(XmlElement::new("C").text("4"));
        let names: Vec<&str> = e.elements().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(e.to_document().matches("<A>3</A>").count(), 1);
    }
}
