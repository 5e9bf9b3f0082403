//! Configuration Manager task sequences: the model, XML import/export, content references,
//! condition evaluation and an execution engine.
//!
//! The XML is the schema Configuration Manager stores in `SMS_TaskSequencePackage.Sequence`
//! (and exports), also used by MDT's templates (`docs/media.md`, "Task sequences"):
//! `<sequence version=".."> [<referenceList>] [<globalVarList>] (<group>|<step>)*`, steps with
//! `type`, `name`, `disable`, `continueOnError`, `runIn`, `successCodeList`, `<condition>`,
//! `<action>` and `<defaultVarList>`.
//!
//! - [`TaskSequence::from_xml`] / [`TaskSequence::to_xml`]: import keeps every attribute and
//!   element it does not interpret (unknown step types included), so export writes them back
//!   and import → export → import gives an equal model. Errors carry line and column.
//!   Nesting deeper than 128 elements is refused.
//! - The model is `serde`-serialisable; in JSON a step has `kind: "step"`, `name`, `type`,
//!   `disabled`, `continue_on_error`, `condition`, `run_in`, `success_codes`, `action`,
//!   `variables`.
//! - [`TaskSequence::references`]: the packages, images and applications the sequence needs
//!   ([`references`]).
//! - [`TaskSequence::render_tree`]: the tree as the console shows it ([`render`]).
//! - [`variables`], [`condition`], [`host`], [`engine`], [`state`], [`log`]: the runtime side —
//!   case-insensitive variables and built-ins, condition evaluation (WMI and registry are
//!   *unknown* on hosts without them, which skips the step with a warning), and an engine that
//!   runs steps through a [`StepRunner`], honours `continueOnError` and
//!   success codes, and suspends for restarts into a serialisable
//!   [`ExecutionState`].
//!
//! Not supported: the console's exported `.zip` container (`object.xml` around the sequence),
//! the encrypted policy form, and the concrete steps themselves (the boot-time runtime
//! implements them as a `StepRunner`).

pub mod condition;
mod decode;
pub mod engine;
pub mod error;
pub mod host;
pub mod log;
pub mod model;
pub mod references;
pub mod render;
pub mod state;
pub mod variables;
mod xml_read;
mod xml_write;

pub use decode::decode_text;
pub use error::{Error, Result};
pub use model::{
    Attribute, Condition, ConditionNode, DEFAULT_SUCCESS_CODES, Expression, ExpressionKind, Group,
    Node, Operator, ReferenceEntry, Step, TaskSequence, Variable, XmlElement, XmlNode,
};
pub use references::{Reference, ReferenceKind, ReferenceSource, is_package_id};

pub use condition::{ConditionContext, Evaluation, Truth};
pub use engine::{
    Engine, EngineError, EngineOptions, NodeRecord, NodeResult, RunReport, RunStatus, StepError,
    StepOutcome, StepRunner,
};
pub use host::{Answer, FsProbe, HostProbe, NotAvailable, SystemQuery};
pub use log::{CmTraceWriter, LogRecord, LogSink, Severity};
pub use state::{ExecutionState, RestartTarget, SuspendReason};
pub use variables::{BuiltIns, LaunchMode, MediaType, VariableError, Variables};

impl TaskSequence {
    /// Parses a `<sequence>` document. Errors name the line and column.
    pub fn from_xml(xml: &str) -> Result<TaskSequence> {
        xml_read::parse(xml)
    }

    /// Parses a document from bytes as Windows tools write them: UTF-8 (with or without a
    /// byte order mark) or UTF-16 (little or big endian, told by the byte order mark, or
    /// little endian when the text starts with `<` `\0` and has no mark).
    pub fn from_xml_bytes(bytes: &[u8]) -> Result<TaskSequence> {
        TaskSequence::from_xml(&decode::decode_text(bytes)?)
    }

    /// Writes the task sequence as a `<sequence>` document that imports back to an equal model.
    pub fn to_xml(&self) -> String {
        xml_write::write(self)
    }

    /// Every content reference, in document order (global variables, steps, `<referenceList>`).
    pub fn references(&self) -> Vec<Reference> {
        references::collect(self)
    }

    /// The programs the task sequence runs, as `(package ID, program name, step name)`:
    /// Install Package steps naming `PackageID` and `ProgramName` (`_SMSSWDProgramName`),
    /// and `<referenceList>` entries with a `program` attribute (step name empty).
    pub fn program_uses(&self) -> Vec<(String, String, String)> {
        references::program_uses(self)
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
