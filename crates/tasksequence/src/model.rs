//! The task sequence model: what a `<sequence>` document holds.
//!
//! The model mirrors the XML that Configuration Manager stores in
//! `SMS_TaskSequencePackage.Sequence` and that MDT keeps in its templates (`Client.xml`,
//! `Server.xml`): a `<sequence>` root with an optional `<referenceList>`, a `<globalVarList>`,
//! and a tree of `<group>` and `<step>` elements. Everything this crate does not interpret —
//! attributes such as `timeout`, `startIn`, `retryCount`, `runFromNet`, `expand`, and child
//! elements of any kind — is kept verbatim in `attributes` / `elements` and written back.

use serde::{Deserialize, Serialize};

/// The exit codes a step treats as success when it declares no `successCodeList`.
pub const DEFAULT_SUCCESS_CODES: [i64; 2] = [0, 3010];

/// A whole task sequence (`<sequence>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TaskSequence {
    /// `version` attribute of `<sequence>` (`3.00` in 2007/MDT, `3.10` in current branch).
    pub version: Option<String>,
    /// `<referenceList>`: the content the site recorded for this task sequence, if present.
    #[serde(default)]
    pub reference_list: Option<Vec<ReferenceEntry>>,
    /// `<globalVarList>` variables, set before the first step runs.
    #[serde(default)]
    pub global_variables: Vec<Variable>,
    /// Top-level groups and steps, in order.
    #[serde(default)]
    pub steps: Vec<Node>,
    /// Other attributes of `<sequence>` (MDT's `name`, `description`, ...), verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Child elements of `<sequence>` this crate does not interpret, verbatim.
    #[serde(default)]
    pub elements: Vec<XmlElement>,
}

/// One `<reference>` of `<referenceList>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceEntry {
    /// The `package` attribute: a package ID or an application's unique ID.
    pub package: Option<String>,
    /// Other attributes, verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Child elements, verbatim.
    #[serde(default)]
    pub elements: Vec<XmlElement>,
}

/// A `<group>` or a `<step>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    /// A `<group>` holding further nodes.
    Group(Group),
    /// A `<step>`.
    Step(Step),
}

impl Node {
    /// The node's display name.
    pub fn name(&self) -> &str {
        match self {
            Node::Group(g) => &g.name,
            Node::Step(s) => &s.name,
        }
    }

    /// Whether the node is disabled (`disable="true"`).
    pub fn disabled(&self) -> bool {
        match self {
            Node::Group(g) => g.disabled,
            Node::Step(s) => s.disabled,
        }
    }

    /// Whether a failure of the node lets the parent continue (`continueOnError="true"`).
    pub fn continue_on_error(&self) -> bool {
        match self {
            Node::Group(g) => g.continue_on_error,
            Node::Step(s) => s.continue_on_error,
        }
    }

    /// The node's condition, if any.
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Node::Group(g) => g.condition.as_ref(),
            Node::Step(s) => s.condition.as_ref(),
        }
    }
}

/// A `<group>`: a named, conditional container of nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Group {
    /// `name` attribute.
    pub name: String,
    /// `description` attribute.
    #[serde(default)]
    pub description: Option<String>,
    /// `disable="true"`.
    #[serde(default)]
    pub disabled: bool,
    /// `continueOnError="true"`: a failure inside the group does not fail the parent.
    #[serde(default)]
    pub continue_on_error: bool,
    /// `<condition>`.
    #[serde(default)]
    pub condition: Option<Condition>,
    /// Groups and steps inside, in order.
    #[serde(default)]
    pub children: Vec<Node>,
    /// Other attributes (`expand`, ...), verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Other child elements (such as the empty `<action />` some editors write), verbatim.
    #[serde(default)]
    pub elements: Vec<XmlElement>,
}

/// A `<step>`: one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `name` attribute.
    pub name: String,
    /// `type` attribute, such as `SMS_TaskSequence_ApplyOperatingSystemAction`. Unknown types
    /// are kept as they are; whether they can run is the step runner's decision.
    #[serde(rename = "type")]
    pub step_type: String,
    /// `description` attribute.
    #[serde(default)]
    pub description: Option<String>,
    /// `disable="true"`.
    #[serde(default)]
    pub disabled: bool,
    /// `continueOnError="true"`.
    #[serde(default)]
    pub continue_on_error: bool,
    /// `<condition>`.
    #[serde(default)]
    pub condition: Option<Condition>,
    /// `runIn` attribute: `WinPE`, `FullOS`, `WinPEandFullOS`.
    #[serde(default)]
    pub run_in: Option<String>,
    /// `successCodeList` (space separated); [`DEFAULT_SUCCESS_CODES`] when absent.
    #[serde(default = "default_success_codes")]
    pub success_codes: Vec<i64>,
    /// `<action>`: the command line the step runs (`OSDApplyOS.exe /image:PS100004,...`).
    #[serde(default)]
    pub action: Option<String>,
    /// `<defaultVarList>`: the step's settings as action variables.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// Other attributes (`timeout`, `startIn`, `retryCount`, `runFromNet`, ...), verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Other child elements, verbatim.
    #[serde(default)]
    pub elements: Vec<XmlElement>,
}

fn default_success_codes() -> Vec<i64> {
    DEFAULT_SUCCESS_CODES.to_vec()
}

impl Step {
    /// A step of `step_type` named `name` with every other field at its default.
    pub fn new(name: impl Into<String>, step_type: impl Into<String>) -> Step {
        Step {
            name: name.into(),
            step_type: step_type.into(),
            description: None,
            disabled: false,
            continue_on_error: false,
            condition: None,
            run_in: None,
            success_codes: default_success_codes(),
            action: None,
            variables: Vec::new(),
            attributes: Vec::new(),
            elements: Vec::new(),
        }
    }

    /// The value of the step variable `name` (case-insensitive), if present.
    pub fn variable(&self, name: &str) -> Option<&str> {
        find_variable(&self.variables, name)
    }

    /// The value of the step variable whose `property` is `property` (case-insensitive).
    pub fn property(&self, property: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|v| {
                v.property
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(property))
            })
            .map(|v| v.value.as_str())
    }

    /// Whether `runIn` allows the step in Windows PE (`in_winpe`) or in the full OS:
    /// `WinPE`, `FullOS`, `WinPEandFullOS`; absent or unrecognised allows both.
    pub fn can_run_in(&self, in_winpe: bool) -> bool {
        match self
            .run_in
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("winpe") => in_winpe,
            Some("fullos") => !in_winpe,
            _ => true,
        }
    }

    /// Whether `code` counts as success for this step.
    pub fn is_success_code(&self, code: i64) -> bool {
        self.success_codes.contains(&code)
    }
}

/// A `<variable name=".." property="..">value</variable>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// `name` attribute: the task sequence variable name.
    pub name: String,
    /// `property` attribute: the step property the variable carries.
    #[serde(default)]
    pub property: Option<String>,
    /// Text content (empty for `<variable ... />`).
    #[serde(default)]
    pub value: String,
    /// Other attributes, verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

impl Variable {
    /// A variable without `property`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Variable {
        Variable {
            name: name.into(),
            property: None,
            value: value.into(),
            attributes: Vec::new(),
        }
    }
}

/// The value of `name` (case-insensitive) in a variable list.
pub(crate) fn find_variable<'a>(list: &'a [Variable], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|v| v.name.eq_ignore_ascii_case(name))
        .map(|v| v.value.as_str())
}

/// A `<condition>`: its children are combined with AND (the console writes exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Condition {
    /// Operators and expressions directly under `<condition>`.
    pub items: Vec<ConditionNode>,
}

/// One node of a condition tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConditionNode {
    /// `<operator type="and|or|not">`.
    Operator(Operator),
    /// `<expression type="SMS_TaskSequence_...ConditionExpression">`.
    Expression(Expression),
}

/// `<operator type="...">` with its operands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// The `type` attribute: `and`, `or`, `not` (anything else is kept and fails evaluation).
    #[serde(rename = "type")]
    pub op: String,
    /// Operands.
    pub children: Vec<ConditionNode>,
    /// Other attributes, verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// `<expression type="...">` with its `<variable>` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expression {
    /// The `type` attribute, such as `SMS_TaskSequence_VariableConditionExpression`.
    #[serde(rename = "type")]
    pub expression_type: String,
    /// The parameters (`Variable`, `Operator`, `Value`, `Path`, `KeyPath`, `Query`, ...).
    pub variables: Vec<Variable>,
    /// Other attributes, verbatim.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

impl Expression {
    /// The value of parameter `name` (case-insensitive), if present.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        find_variable(&self.variables, name)
    }

    /// The expression class, from `type`.
    pub fn kind(&self) -> ExpressionKind {
        ExpressionKind::from_type(&self.expression_type)
    }
}

/// The expression classes of the Configuration Manager SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    /// `SMS_TaskSequence_VariableConditionExpression`.
    Variable,
    /// `SMS_TaskSequence_FileConditionExpression`.
    File,
    /// `SMS_TaskSequence_FolderConditionExpression`.
    Folder,
    /// `SMS_TaskSequence_RegistryConditionExpression`.
    Registry,
    /// `SMS_TaskSequence_WMIConditionExpression`.
    Wmi,
    /// `SMS_TaskSequence_SoftwareConditionExpression`.
    Software,
    /// Anything else.
    Unknown,
}

impl ExpressionKind {
    /// Classifies an expression `type` attribute (case-insensitive).
    pub fn from_type(t: &str) -> ExpressionKind {
        let t = t.to_ascii_lowercase();
        match t.as_str() {
            "sms_tasksequence_variableconditionexpression" => ExpressionKind::Variable,
            "sms_tasksequence_fileconditionexpression" => ExpressionKind::File,
            "sms_tasksequence_folderconditionexpression" => ExpressionKind::Folder,
            "sms_tasksequence_registryconditionexpression" => ExpressionKind::Registry,
            "sms_tasksequence_wmiconditionexpression" => ExpressionKind::Wmi,
            "sms_tasksequence_softwareconditionexpression" => ExpressionKind::Software,
            _ => ExpressionKind::Unknown,
        }
    }
}

/// An XML attribute kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Qualified name as written (`expand`, `xmlns:x`, `x:foo`).
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

impl Attribute {
    /// An attribute.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An XML element kept verbatim (name, attributes, children in order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmlElement {
    /// Qualified name as written.
    pub name: String,
    /// Attributes in document order (namespace declarations included).
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Children in document order.
    #[serde(default)]
    pub children: Vec<XmlNode>,
}

/// Content of a verbatim element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XmlNode {
    /// A child element.
    Element(XmlElement),
    /// Character data (unescaped; CDATA sections become text).
    Text(String),
    /// A comment.
    Comment(String),
}
