//! Property: any model made of XML-representable text exports to XML that imports back to an
//! equal model.

use proptest::prelude::*;
use tsmedia_tasksequence::{
    Attribute, Condition, ConditionNode, Expression, Group, Node, Operator, ReferenceEntry, Step,
    TaskSequence, Variable, XmlElement, XmlNode,
};

/// Text XML 1.0 can carry (tabs, line breaks, `\r`, markup characters, non-ASCII).
fn text() -> impl Strategy<Value = String> {
    "[\t\n\r -~\u{a0}-\u{d7ff}\u{e000}-\u{fffd}\u{10000}-\u{10ffff}]{0,12}"
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.-]{0,8}"
}

/// Extra attribute names that never collide with the ones the model types.
fn extra_attrs() -> impl Strategy<Value = Vec<Attribute>> {
    prop::collection::btree_map("x[A-Za-z0-9]{0,6}", text(), 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(name, value)| Attribute { name, value })
            .collect()
    })
}

fn variable() -> impl Strategy<Value = Variable> {
    (name(), prop::option::of(name()), text(), extra_attrs()).prop_map(
        |(name, property, value, attributes)| Variable {
            name,
            property,
            value,
            attributes,
        },
    )
}

fn element() -> impl Strategy<Value = XmlElement> {
    let leaf = (name(), extra_attrs()).prop_map(|(name, attributes)| XmlElement {
        name: format!("e{name}"),
        attributes,
        children: Vec::new(),
    });
    leaf.prop_recursive(3, 12, 4, |inner| {
        (
            name(),
            extra_attrs(),
            prop::collection::vec(
                prop_oneof![
                    inner.prop_map(XmlNode::Element),
                    "[a-z <>&\"]{1,6}".prop_map(XmlNode::Text),
                    "[a-z ]{0,6}".prop_map(XmlNode::Comment),
                ],
                0..4,
            ),
        )
            .prop_map(|(name, attributes, mut children)| {
                // Adjacent text nodes merge when parsed; keep at most one in a row.
                children.dedup_by(|a, b| matches!((a, b), (XmlNode::Text(_), XmlNode::Text(_))));
                XmlElement {
                    name: format!("e{name}"),
                    attributes,
                    children,
                }
            })
    })
}

fn condition_node() -> impl Strategy<Value = ConditionNode> {
    let expression = (
        name(),
        prop::collection::vec(variable(), 0..4),
        extra_attrs(),
    )
        .prop_map(|(t, variables, attributes)| {
            ConditionNode::Expression(Expression {
                expression_type: t,
                variables,
                attributes,
            })
        });
    expression.prop_recursive(4, 16, 3, |inner| {
        (
            prop_oneof![Just("and"), Just("or"), Just("not")],
            prop::collection::vec(inner, 0..3),
            extra_attrs(),
        )
            .prop_map(|(op, children, attributes)| {
                ConditionNode::Operator(Operator {
                    op: op.to_string(),
                    children,
                    attributes,
                })
            })
    })
}

fn condition() -> impl Strategy<Value = Option<Condition>> {
    prop::option::of(
        prop::collection::vec(condition_node(), 0..3).prop_map(|items| Condition { items }),
    )
}

fn step() -> impl Strategy<Value = Step> {
    (
        (
            name(),
            name(),
            prop::option::of(text()),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            condition(),
            prop::option::of(name()),
            prop::collection::vec(any::<i64>(), 0..3),
            prop::option::of(text()),
        ),
        (
            prop::collection::vec(variable(), 0..3),
            extra_attrs(),
            prop::collection::vec(element(), 0..2),
        ),
    )
        .prop_map(
            |(
                (name, step_type, description, disabled, continue_on_error),
                (condition, run_in, success_codes, action),
                (variables, attributes, elements),
            )| Step {
                name,
                step_type,
                description,
                disabled,
                continue_on_error,
                condition,
                run_in,
                success_codes,
                action,
                variables,
                attributes,
                elements,
            },
        )
}

fn node() -> impl Strategy<Value = Node> {
    step()
        .prop_map(Node::Step)
        .prop_recursive(3, 20, 4, |inner| {
            (
                (
                    text(),
                    prop::option::of(text()),
                    any::<bool>(),
                    any::<bool>(),
                ),
                condition(),
                prop::collection::vec(inner, 0..4),
                extra_attrs(),
                prop::collection::vec(element(), 0..2),
            )
                .prop_map(
                    |(
                        (name, description, disabled, continue_on_error),
                        condition,
                        children,
                        attributes,
                        elements,
                    )| {
                        Node::Group(Group {
                            name,
                            description,
                            disabled,
                            continue_on_error,
                            condition,
                            children,
                            attributes,
                            elements,
                        })
                    },
                )
        })
}

fn sequence() -> impl Strategy<Value = TaskSequence> {
    (
        prop::option::of(text()),
        prop::option::of(prop::collection::vec(
            (prop::option::of(text()), extra_attrs()).prop_map(|(package, attributes)| {
                ReferenceEntry {
                    package,
                    attributes,
                    elements: Vec::new(),
                }
            }),
            0..3,
        )),
        prop::collection::vec(variable(), 0..3),
        prop::collection::vec(node(), 0..4),
        extra_attrs(),
        prop::collection::vec(element(), 0..2),
    )
        .prop_map(
            |(version, reference_list, global_variables, steps, attributes, elements)| {
                TaskSequence {
                    version,
                    reference_list,
                    global_variables,
                    steps,
                    attributes,
                    elements,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn export_then_import_is_identity(ts in sequence()) {
        let xml = ts.to_xml();
        let again = TaskSequence::from_xml(&xml);
        prop_assert!(again.is_ok(), "{:?}\n{}", again.err(), xml);
        prop_assert_eq!(&ts, &again.unwrap(), "{}", xml);
        // render and references never panic on odd models either.
        let _ = ts.render_tree();
        let _ = ts.references();
    }
}
