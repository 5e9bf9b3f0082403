//! The task sequence as a text tree, in the order and nesting the console's editor shows.
//!
//! ```text
//! + Install Operating System
//!   - Partition Disk 0 [FormatAndPartitionDisk]
//!       if (_SMSTSClientCache notExists AND _SMSTSMediaType notEquals "OEMMedia")
//!   - Apply Operating System [ApplyOperatingSystem] (disabled)
//! ```
//! `+` marks a group, `-` a step; the step type is shown without its `SMS_TaskSequence_`
//! prefix and `Action` suffix; `(disabled)` and `(continue on error)` flag options; a condition
//! follows on its own line, starting with `if`.

use std::fmt::Write as _;

use crate::model::{Condition, ConditionNode, Expression, ExpressionKind, Node, TaskSequence};

pub(crate) fn render(ts: &TaskSequence) -> String {
    let mut out = String::new();
    match &ts.version {
        Some(v) => {
            let _ = writeln!(out, "Task sequence (version {v})");
        }
        None => out.push_str("Task sequence\n"),
    }
    for node in &ts.steps {
        render_node(node, 1, &mut out);
    }
    out
}

fn render_node(node: &Node, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match node {
        Node::Group(g) => {
            let _ = write!(out, "{pad}+ {}", g.name);
        }
        Node::Step(s) => {
            let _ = write!(out, "{pad}- {} [{}]", s.name, short_type(&s.step_type));
        }
    }
    if node.disabled() {
        out.push_str(" (disabled)");
    }
    if node.continue_on_error() {
        out.push_str(" (continue on error)");
    }
    out.push('\n');
    if let Some(c) = node.condition().filter(|c| !c.items.is_empty()) {
        let _ = writeln!(out, "{pad}    if {}", condition_text(c));
    }
    if let Node::Group(g) = node {
        for child in &g.children {
            render_node(child, depth + 1, out);
        }
    }
}

/// `SMS_TaskSequence_ApplyOperatingSystemAction` → `ApplyOperatingSystem`.
pub fn short_type(t: &str) -> &str {
    let t = t.strip_prefix("SMS_TaskSequence_").unwrap_or(t);
    t.strip_suffix("Action")
        .filter(|s| !s.is_empty())
        .unwrap_or(t)
}

/// A condition as one line of text; the items under `<condition>` are joined with AND.
pub fn condition_text(c: &Condition) -> String {
    join(&c.items, " AND ")
}

fn join(items: &[ConditionNode], sep: &str) -> String {
    items.iter().map(node_text).collect::<Vec<_>>().join(sep)
}

fn node_text(n: &ConditionNode) -> String {
    match n {
        ConditionNode::Operator(op) => match op.op.to_ascii_lowercase().as_str() {
            "and" => format!("({})", join(&op.children, " AND ")),
            "or" => format!("({})", join(&op.children, " OR ")),
            "not" => format!("NOT ({})", join(&op.children, " AND ")),
            other => format!("{other}({})", join(&op.children, ", ")),
        },
        ConditionNode::Expression(e) => expression_text(e),
    }
}

fn expression_text(e: &Expression) -> String {
    let p = |name: &str| e.parameter(name).unwrap_or("");
    let with_op = |subject: String, what: &str, op_name: &str, value_name: &str| {
        let op = p(op_name);
        if op.is_empty() || p(value_name).is_empty() {
            subject
        } else {
            format!("{subject}, {what} {op} {}", q(p(value_name)))
        }
    };
    match e.kind() {
        ExpressionKind::Variable => {
            let op = p("Operator");
            if op.eq_ignore_ascii_case("exists") || op.eq_ignore_ascii_case("notExists") {
                format!("{} {op}", p("Variable"))
            } else {
                format!("{} {op} {}", p("Variable"), q(p("Value")))
            }
        }
        ExpressionKind::File => {
            let s = with_op(
                format!("file {} exists", q(p("Path"))),
                "version",
                "VersionOperator",
                "Version",
            );
            with_op(s, "date", "DateTimeOperator", "DateTime")
        }
        ExpressionKind::Folder => with_op(
            format!("folder {} exists", q(p("Path"))),
            "date",
            "DateTimeOperator",
            "DateTime",
        ),
        ExpressionKind::Registry => {
            let op = p("Operator");
            let subject = format!("registry {} {}", q(p("KeyPath")), q(p("Value")));
            if op.eq_ignore_ascii_case("exists") || op.eq_ignore_ascii_case("notExists") {
                format!("{subject} {op}")
            } else {
                format!("{subject} {op} {} ({})", q(p("Data")), p("Type"))
            }
        }
        ExpressionKind::Wmi => format!("WMI {} in {}", q(p("Query")), q(p("Namespace"))),
        ExpressionKind::Software => {
            let what = [p("ProductName"), p("ProductCode"), p("UpgradeCode")]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or("");
            format!("software {} installed ({})", q(what), p("Operator"))
        }
        ExpressionKind::Unknown => {
            let params = e
                .variables
                .iter()
                .map(|v| format!("{}={}", v.name, q(&v.value)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}({params})", e.expression_type)
        }
    }
}

/// Quotes a value for display without escaping (paths keep their single backslashes).
fn q(s: &str) -> String {
    format!("\"{s}\"")
}
