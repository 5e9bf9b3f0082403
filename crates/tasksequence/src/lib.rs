//! Configuration Manager task sequences: the model, XML import/export, content references,
//! condition evaluation and an execution engine.
//!
//! The XML is the schema Configuration Manager stores in `SMS_TaskSequencePackage.Sequence`
//! (and exports), also used by MDT's templates: see `shared/reference/configmgr-media.md` §5.
//! Import keeps every attribute and element it does not interpret, so export writes them back
//! and a document survives import → export → import unchanged in the model.
//!
//! Not supported: the exported `.zip` container (`object.xml` around the sequence), the
//! encrypted policy form, and executing concrete steps — the engine runs steps through a
//! `StepRunner` that the boot-time runtime provides.

pub mod error;
pub mod model;
pub mod references;
pub mod render;
mod xml_read;
mod xml_write;

pub use error::{Error, Result};
pub use model::{
    Attribute, Condition, ConditionNode, DEFAULT_SUCCESS_CODES, Expression, ExpressionKind, Group,
    Node, Operator, ReferenceEntry, Step, TaskSequence, Variable, XmlElement, XmlNode,
};
pub use references::{Reference, ReferenceKind, ReferenceSource, is_package_id};

impl TaskSequence {
    /// Parses a `<sequence>` document. Errors name the line and column.
    pub fn from_xml(xml: &str) -> Result<TaskSequence> {
        xml_read::parse(xml)
    }

    /// Writes the task sequence as a `<sequence>` document that imports back to an equal model.
    pub fn to_xml(&self) -> String {
        xml_write::write(self)
    }

    /// Every content reference, in document order (global variables, steps, `<referenceList>`).
    pub fn references(&self) -> Vec<Reference> {
        references::collect(self)
    }

    /// The distinct package and application IDs referenced, sorted, compared case-insensitively.
    pub fn package_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for r in self.references() {
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(&r.package_id)) {
                ids.push(r.package_id);
            }
        }
        ids.sort();
        ids
    }

    /// The tree as the console's editor shows it; see [`render`].
    pub fn render_tree(&self) -> String {
        render::render(self)
    }

    /// Every step, depth first in execution order, with the names of its enclosing groups.
    pub fn all_steps(&self) -> Vec<&Step> {
        fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Step>) {
            for n in nodes {
                match n {
                    Node::Group(g) => walk(&g.children, out),
                    Node::Step(s) => out.push(s),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.steps, &mut out);
        out
    }
}
