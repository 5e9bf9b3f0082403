//! Import: `<sequence>` XML text → [`TaskSequence`].
//!
//! Known elements are interpreted; every attribute and element the model has no field for is
//! kept verbatim so that export writes it back. Whitespace-only text between known elements is
//! layout and is dropped; other stray text in a known element is a schema error.

use roxmltree::{Document, Node as XNode, NodeType};

use crate::error::{Error, Result};
use crate::model::{
    Attribute, Condition, ConditionNode, DEFAULT_SUCCESS_CODES, Expression, Group, Node, Operator,
    ReferenceEntry, Step, TaskSequence, Variable, XmlElement, XmlNode,
};

/// Parses a task sequence document.
pub(crate) fn parse(xml: &str) -> Result<TaskSequence> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let doc = Document::parse_with_options(xml, options)?;
    let root = doc.root_element();
    check_depth(&root)?;
    if root.tag_name().name() != "sequence" {
        return Err(schema(
            &root,
            format!(
                "root element is <{}>, expected <sequence>",
                qualified_name(&root)
            ),
        ));
    }
    let mut ts = TaskSequence::default();
    for (name, value) in attributes(&root) {
        match name.as_str() {
            "version" => ts.version = Some(value),
            _ => ts.attributes.push(Attribute { name, value }),
        }
    }
    for child in element_children(&root)? {
        match child.tag_name().name() {
            "group" | "step" => ts.steps.push(parse_node(&child)?),
            "globalVarList" => ts.global_variables.extend(parse_var_list(&child)?),
            "referenceList" if ts.reference_list.is_none() => {
                ts.reference_list = Some(parse_reference_list(&child)?)
            }
            _ => ts.elements.push(verbatim(&child)),
        }
    }
    Ok(ts)
}

/// Deepest element nesting accepted. Real task sequences nest a few levels; the limit keeps
/// the recursive model (and everything that walks it) within the stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// Refuses documents nested deeper than [`MAX_DEPTH`], without recursion.
fn check_depth(root: &XNode) -> Result<()> {
    let mut stack = vec![(*root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(schema(
                &node,
                format!("elements are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    Ok(())
}

fn parse_node(node: &XNode) -> Result<Node> {
    match node.tag_name().name() {
        "group" => Ok(Node::Group(parse_group(node)?)),
        _ => Ok(Node::Step(parse_step(node)?)),
    }
}

fn parse_group(node: &XNode) -> Result<Group> {
    let mut group = Group::default();
    let mut name = None;
    for (attr, value) in attributes(node) {
        match attr.as_str() {
            "name" => name = Some(value),
            "description" => group.description = Some(value),
            "disable" => group.disabled = parse_bool(node, &attr, &value)?,
            "continueOnError" => group.continue_on_error = parse_bool(node, &attr, &value)?,
            _ => group.attributes.push(Attribute { name: attr, value }),
        }
    }
    group.name = name.ok_or_else(|| schema(node, "<group> has no name attribute".into()))?;
    for child in element_children(node)? {
        match child.tag_name().name() {
            "group" | "step" => group.children.push(parse_node(&child)?),
            "condition" if group.condition.is_none() => {
                group.condition = Some(parse_condition(&child)?)
            }
            _ => group.elements.push(verbatim(&child)),
        }
    }
    Ok(group)
}

fn parse_step(node: &XNode) -> Result<Step> {
    let mut name = None;
    let mut step_type = None;
    let mut step = Step::new("", "");
    let mut success = None;
    for (attr, value) in attributes(node) {
        match attr.as_str() {
            "name" => name = Some(value),
            "type" => step_type = Some(value),
            "description" => step.description = Some(value),
            "disable" => step.disabled = parse_bool(node, &attr, &value)?,
            "continueOnError" => step.continue_on_error = parse_bool(node, &attr, &value)?,
            "runIn" => step.run_in = Some(value),
            "successCodeList" => success = Some(parse_codes(node, &value)?),
            _ => step.attributes.push(Attribute { name: attr, value }),
        }
    }
    step.name = name.ok_or_else(|| schema(node, "<step> has no name attribute".into()))?;
    step.step_type = step_type.ok_or_else(|| {
        schema(
            node,
            format!("<step name=\"{}\"> has no type attribute", step.name),
        )
    })?;
    step.success_codes = success.unwrap_or_else(|| DEFAULT_SUCCESS_CODES.to_vec());
    for child in element_children(node)? {
        match child.tag_name().name() {
            "action" if step.action.is_none() && !has_element_children(&child) => {
                step.action = Some(text_of(&child))
            }
            "defaultVarList" => step.variables.extend(parse_var_list(&child)?),
            "condition" if step.condition.is_none() => {
                step.condition = Some(parse_condition(&child)?)
            }
            _ => step.elements.push(verbatim(&child)),
        }
    }
    Ok(step)
}

fn parse_codes(node: &XNode, value: &str) -> Result<Vec<i64>> {
    value
        .split_whitespace()
        .map(|code| {
            parse_code(code).ok_or_else(|| {
                schema(
                    node,
                    format!("successCodeList entry {code:?} is not an integer"),
                )
            })
        })
        .collect()
}

/// A decimal (possibly negative) or `0x` hexadecimal exit code.
pub(crate) fn parse_code(code: &str) -> Option<i64> {
    match code.strip_prefix("0x").or_else(|| code.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => code.parse().ok(),
    }
}

fn parse_bool(node: &XNode, attr: &str, value: &str) -> Result<bool> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        v if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        _ => Err(schema(
            node,
            format!("attribute {attr}={value:?} is not true or false"),
        )),
    }
}

fn parse_var_list(node: &XNode) -> Result<Vec<Variable>> {
    let mut out = Vec::new();
    for child in element_children(node)? {
        if child.tag_name().name() != "variable" {
            return Err(schema(
                &child,
                format!(
                    "<{}> inside <{}>, expected <variable>",
                    qualified_name(&child),
                    qualified_name(node)
                ),
            ));
        }
        out.push(parse_variable(&child)?);
    }
    Ok(out)
}

fn parse_variable(node: &XNode) -> Result<Variable> {
    if has_element_children(node) {
        return Err(schema(node, "<variable> contains elements".into()));
    }
    let mut name = None;
    let mut property = None;
    let mut extra = Vec::new();
    for (attr, value) in attributes(node) {
        match attr.as_str() {
            "name" => name = Some(value),
            "property" => property = Some(value),
            _ => extra.push(Attribute { name: attr, value }),
        }
    }
    Ok(Variable {
        name: name.ok_or_else(|| schema(node, "<variable> has no name attribute".into()))?,
        property,
        value: text_of(node),
        attributes: extra,
    })
}

fn parse_reference_list(node: &XNode) -> Result<Vec<ReferenceEntry>> {
    let mut out = Vec::new();
    for child in element_children(node)? {
        if child.tag_name().name() != "reference" {
            return Err(schema(
                &child,
                format!(
                    "<{}> inside <referenceList>, expected <reference>",
                    qualified_name(&child)
                ),
            ));
        }
        let mut entry = ReferenceEntry {
            package: None,
            attributes: Vec::new(),
            elements: Vec::new(),
        };
        for (attr, value) in attributes(&child) {
            match attr.as_str() {
                "package" => entry.package = Some(value),
                _ => entry.attributes.push(Attribute { name: attr, value }),
            }
        }
        for grandchild in element_children(&child)? {
            entry.elements.push(verbatim(&grandchild));
        }
        out.push(entry);
    }
    Ok(out)
}

fn parse_condition(node: &XNode) -> Result<Condition> {
    let mut items = Vec::new();
    for child in element_children(node)? {
        items.push(parse_condition_node(&child)?);
    }
    Ok(Condition { items })
}

fn parse_condition_node(node: &XNode) -> Result<ConditionNode> {
    match node.tag_name().name() {
        "operator" => {
            let mut op = None;
            let mut extra = Vec::new();
            for (attr, value) in attributes(node) {
                match attr.as_str() {
                    "type" => op = Some(value),
                    _ => extra.push(Attribute { name: attr, value }),
                }
            }
            let mut children = Vec::new();
            for child in element_children(node)? {
                children.push(parse_condition_node(&child)?);
            }
            Ok(ConditionNode::Operator(Operator {
                op: op.ok_or_else(|| schema(node, "<operator> has no type attribute".into()))?,
                children,
                attributes: extra,
            }))
        }
        "expression" => {
            let mut expression_type = None;
            let mut extra = Vec::new();
            for (attr, value) in attributes(node) {
                match attr.as_str() {
                    "type" => expression_type = Some(value),
                    _ => extra.push(Attribute { name: attr, value }),
                }
            }
            let mut variables = Vec::new();
            for child in element_children(node)? {
                if child.tag_name().name() != "variable" {
                    return Err(schema(
                        &child,
                        format!(
                            "<{}> inside <expression>, expected <variable>",
                            qualified_name(&child)
                        ),
                    ));
                }
                variables.push(parse_variable(&child)?);
            }
            Ok(ConditionNode::Expression(Expression {
                expression_type: expression_type
                    .ok_or_else(|| schema(node, "<expression> has no type attribute".into()))?,
                variables,
                attributes: extra,
            }))
        }
        other => Err(schema(
            node,
            format!("<{other}> in a condition, expected <operator> or <expression>"),
        )),
    }
}

/// Element children of a known element; non-blank text there is an error.
fn element_children<'a, 'i>(node: &XNode<'a, 'i>) -> Result<Vec<XNode<'a, 'i>>> {
    let mut out = Vec::new();
    for child in node.children() {
        match child.node_type() {
            NodeType::Element => out.push(child),
            NodeType::Text => {
                let text = child.text().unwrap_or("");
                if !text.trim().is_empty() {
                    return Err(schema(
                        &child,
                        format!(
                            "unexpected text {:?} inside <{}>",
                            text.trim(),
                            qualified_name(node)
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn has_element_children(node: &XNode) -> bool {
    node.children().any(|c| c.is_element())
}

/// The concatenated text content of a leaf element (CDATA included), unmodified.
fn text_of(node: &XNode) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// Attributes as (qualified name, value), namespace declarations made here included.
fn attributes(node: &XNode) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let parent_ns: Vec<(Option<&str>, &str)> = node
        .parent_element()
        .map(|p| p.namespaces().map(|n| (n.name(), n.uri())).collect())
        .unwrap_or_default();
    for ns in node.namespaces() {
        if ns.name() == Some("xml") || parent_ns.contains(&(ns.name(), ns.uri())) {
            continue;
        }
        let name = match ns.name() {
            Some(prefix) => format!("xmlns:{prefix}"),
            None => "xmlns".to_string(),
        };
        out.push((name, ns.uri().to_string()));
    }
    for attr in node.attributes() {
        let name = match attr.namespace().and_then(|uri| node.lookup_prefix(uri)) {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", attr.name()),
            _ => attr.name().to_string(),
        };
        out.push((name, attr.value().to_string()));
    }
    out
}

fn qualified_name(node: &XNode) -> String {
    let tag = node.tag_name();
    match tag.namespace().and_then(|uri| node.lookup_prefix(uri)) {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", tag.name()),
        _ => tag.name().to_string(),
    }
}

/// An element copied verbatim.
fn verbatim(node: &XNode) -> XmlElement {
    let attributes = attributes(node)
        .into_iter()
        .map(|(name, value)| Attribute { name, value })
        .collect();
    let mut children = Vec::new();
    for child in node.children() {
        match child.node_type() {
            NodeType::Element => children.push(XmlNode::Element(verbatim(&child))),
            NodeType::Text => {
                let text = child.text().unwrap_or("").to_string();
                // roxmltree merges adjacent text and CDATA into one node already.
                children.push(XmlNode::Text(text));
            }
            NodeType::Comment => {
                children.push(XmlNode::Comment(child.text().unwrap_or("").to_string()))
            }
            _ => {}
        }
    }
    XmlElement {
        name: qualified_name(node),
        attributes,
        children,
    }
}

fn schema(node: &XNode, reason: String) -> Error {
    let pos = node.document().text_pos_at(node.range().start);
    Error::Schema {
        line: pos.row,
        column: pos.col,
        reason,
    }
}
