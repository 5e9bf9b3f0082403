//! Export: [`TaskSequence`] → `<sequence>` XML text, in the layout the console exports
//! (two-space indentation, one element per line). Verbatim elements are written compactly so
//! their text content, including whitespace, survives a round trip unchanged.
//!
//! Names (of verbatim elements and attributes) are written as they are in the model, and
//! XML 1.0 cannot carry characters such as U+0000: a model imported from XML always exports
//! to well-formed XML, one built by hand must keep to what XML allows.

use std::fmt::Write as _;

use crate::model::{
    Attribute, Condition, ConditionNode, Group, Node, Step, TaskSequence, Variable, XmlElement,
    XmlNode,
};

/// Writes a task sequence document.
pub(crate) fn write(ts: &TaskSequence) -> String {
    let mut w = Writer::default();
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(v) = &ts.version {
        attrs.push(("version", v));
    }
    push_extra(&mut attrs, &ts.attributes);
    w.open("sequence", &attrs);
    w.depth += 1;
    if let Some(list) = &ts.reference_list {
        w.open("referenceList", &[]);
        w.depth += 1;
        for entry in list {
            let mut a: Vec<(&str, &str)> = Vec::new();
            if let Some(p) = &entry.package {
                a.push(("package", p));
            }
            push_extra(&mut a, &entry.attributes);
            if entry.elements.is_empty() {
                w.empty("reference", &a);
            } else {
                w.open("reference", &a);
                w.depth += 1;
                for e in &entry.elements {
                    w.verbatim(e);
                }
                w.depth -= 1;
                w.close("reference");
            }
        }
        w.depth -= 1;
        w.close("referenceList");
    }
    if !ts.global_variables.is_empty() {
        w.var_list("globalVarList", &ts.global_variables);
    }
    for node in &ts.steps {
        w.node(node);
    }
    for e in &ts.elements {
        w.verbatim(e);
    }
    w.depth -= 1;
    w.close("sequence");
    w.out
}

/// Appends the verbatim attributes. One that repeats a name already written (possible only in
/// a model built by hand or from JSON) is left out: the typed field wins, and the output
/// stays well-formed.
fn push_extra<'a>(attrs: &mut Vec<(&'a str, &'a str)>, extra: &'a [Attribute]) {
    for a in extra {
        if !attrs.iter().any(|(name, _)| *name == a.name) {
            attrs.push((a.name.as_str(), a.value.as_str()));
        }
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

#[derive(Default)]
struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape_attr(v));
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push_str(" />\n");
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        if text.is_empty() {
            return self.empty(name, attrs);
        }
        self.start_tag(name, attrs);
        let _ = writeln!(self.out, ">{}</{name}>", escape_text(text));
    }

    fn close(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Group(g) => self.group(g),
            Node::Step(s) => self.step(s),
        }
    }

    fn group(&mut self, g: &Group) {
        let mut attrs: Vec<(&str, &str)> = vec![("name", &g.name)];
        if let Some(d) = &g.description {
            attrs.push(("description", d));
        }
        attrs.push(("disable", bool_str(g.disabled)));
        attrs.push(("continueOnError", bool_str(g.continue_on_error)));
        push_extra(&mut attrs, &g.attributes);
        self.open("group", &attrs);
        self.depth += 1;
        if let Some(c) = &g.condition {
            self.condition(c);
        }
        for e in &g.elements {
            self.verbatim(e);
        }
        for child in &g.children {
            self.node(child);
        }
        self.depth -= 1;
        self.close("group");
    }

    fn step(&mut self, s: &Step) {
        let codes = s
            .success_codes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let mut attrs: Vec<(&str, &str)> = vec![("type", &s.step_type), ("name", &s.name)];
        if let Some(d) = &s.description {
            attrs.push(("description", d));
        }
        attrs.push(("disable", bool_str(s.disabled)));
        attrs.push(("continueOnError", bool_str(s.continue_on_error)));
        if let Some(r) = &s.run_in {
            attrs.push(("runIn", r));
        }
        attrs.push(("successCodeList", &codes));
        push_extra(&mut attrs, &s.attributes);
        self.open("step", &attrs);
        self.depth += 1;
        if let Some(c) = &s.condition {
            self.condition(c);
        }
        if let Some(a) = &s.action {
            self.leaf("action", &[], a);
        }
        if !s.variables.is_empty() {
            self.var_list("defaultVarList", &s.variables);
        }
        for e in &s.elements {
            self.verbatim(e);
        }
        self.depth -= 1;
        self.close("step");
    }

    fn var_list(&mut self, name: &str, vars: &[Variable]) {
        self.open(name, &[]);
        self.depth += 1;
        for v in vars {
            self.variable(v);
        }
        self.depth -= 1;
        self.close(name);
    }

    fn variable(&mut self, v: &Variable) {
        let mut attrs: Vec<(&str, &str)> = vec![("name", &v.name)];
        if let Some(p) = &v.property {
            attrs.push(("property", p));
        }
        push_extra(&mut attrs, &v.attributes);
        self.leaf("variable", &attrs, &v.value);
    }

    fn condition(&mut self, c: &Condition) {
        if c.items.is_empty() {
            return self.empty("condition", &[]);
        }
        self.open("condition", &[]);
        self.depth += 1;
        for item in &c.items {
            self.condition_node(item);
        }
        self.depth -= 1;
        self.close("condition");
    }

    fn condition_node(&mut self, n: &ConditionNode) {
        match n {
            ConditionNode::Operator(op) => {
                let mut attrs: Vec<(&str, &str)> = vec![("type", &op.op)];
                push_extra(&mut attrs, &op.attributes);
                if op.children.is_empty() {
                    return self.empty("operator", &attrs);
                }
                self.open("operator", &attrs);
                self.depth += 1;
                for child in &op.children {
                    self.condition_node(child);
                }
                self.depth -= 1;
                self.close("operator");
            }
            ConditionNode::Expression(e) => {
                let mut attrs: Vec<(&str, &str)> = vec![("type", &e.expression_type)];
                push_extra(&mut attrs, &e.attributes);
                if e.variables.is_empty() {
                    return self.empty("expression", &attrs);
                }
                self.open("expression", &attrs);
                self.depth += 1;
                for v in &e.variables {
                    self.variable(v);
                }
                self.depth -= 1;
                self.close("expression");
            }
        }
    }

    fn verbatim(&mut self, e: &XmlElement) {
        self.indent();
        write_compact(&mut self.out, e);
        self.out.push('\n');
    }
}

fn write_compact(out: &mut String, e: &XmlElement) {
    out.push('<');
    out.push_str(&e.name);
    for a in &e.attributes {
        let _ = write!(out, " {}=\"{}\"", a.name, escape_attr(&a.value));
    }
    if e.children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    for child in &e.children {
        match child {
            XmlNode::Element(c) => write_compact(out, c),
            XmlNode::Text(t) => out.push_str(&escape_text(t)),
            XmlNode::Comment(c) => {
                // "--" may not appear inside a comment; such text cannot have come from a
                // parsed document, so split it to stay well-formed.
                let _ = write!(out, "<!--{}-->", c.replace("--", "- -"));
            }
        }
    }
    let _ = write!(out, "</{}>", e.name);
}

/// Escapes character data. `\r` is written as a reference so that end-of-line normalisation
/// on re-import does not turn it into `\n`.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value. Tabs and line breaks are written as references because
/// attribute-value normalisation would otherwise turn them into spaces.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}
