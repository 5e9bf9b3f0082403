//! The task sequence engine: runs groups and steps in order.
//!
//! Rules (Configuration Manager's task sequence manager, as documented and as `smsts.log`
//! shows it):
//! - At start, `<globalVarList>` variables are set where the environment does not already
//!   define them (media, collection and prestart variables win).
//! - Nodes run in document order. A disabled node is skipped. A node whose condition is not
//!   met is skipped; an *unknown* condition (see [`crate::condition`]) counts as not met and
//!   its reasons are logged as warnings.
//! - Before a step runs, `_SMSTSCurrentActionName` is set, and its `<defaultVarList>` (its
//!   action variables) is added for the variables not already defined; after the step, the
//!   ones added are removed again unless the step changed them. So a variable set earlier
//!   overrides a step setting (as `OSDDownloadDownloadPackages` is documented to), and one
//!   step's settings do not leak into the next.
//! - The [`StepRunner`] runs the step. Its exit code is a success when it is in the step's
//!   `successCodeList` (default `0 3010`). A runner error is a failure with exit code
//!   `0x80004001` (E_NOTIMPL, unsupported step type) or `0x80004005` (E_FAIL), logged with
//!   the step's name and type. `_SMSTSLastActionRetCode`, `_SMSTSLastActionSucceeded` and
//!   `_SMSTSLastActionName` are updated after every step that ran.
//! - A failed step with `continueOnError` lets its group go on. Otherwise the group fails; a
//!   failed group with `continueOnError` lets its parent go on, otherwise the failure
//!   propagates, and at the top the task sequence fails.
//! - A step that asks for a restart (and did not fail the sequence) suspends the run: the
//!   position of the next node and the variables are returned as an [`ExecutionState`];
//!   [`Engine::resume`] continues from there. Groups on the path are not re-evaluated.
//! - The cancel flag is checked before each node; a cancelled run is suspended the same way.
//! - `runIn` is not enforced here: the runner knows where it runs, and decides (with
//!   [`Step::can_run_in`]) whether to run the step, fail it, or ask for a restart first.

use tsmedia_base::Cancel;

use crate::condition::{ConditionContext, Truth, evaluate};
use crate::host::{FsProbe, HostProbe, NotAvailable, SystemQuery};
use crate::log::{LogRecord, LogSink, Severity};
use crate::model::{Group, Node, Step, TaskSequence};
use crate::state::{ExecutionState, RestartTarget, SuspendReason, fingerprint};
use crate::variables::{VariableError, Variables};

/// Exit code recorded when the runner does not support a step type (E_NOTIMPL).
pub const EXIT_NOT_IMPLEMENTED: i64 = 0x8000_4001;
/// Exit code recorded when the runner fails to run a step (E_FAIL).
pub const EXIT_FAILED: i64 = 0x8000_4005;

const COMPONENT: &str = "TSManager";

/// What a step run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The exit code, judged against the step's `successCodeList`.
    pub exit_code: i64,
    /// Set when the step needs the computer restarted before the next step.
    pub restart: Option<RestartTarget>,
}

impl StepOutcome {
    /// An exit code without restart.
    pub fn exit(exit_code: i64) -> StepOutcome {
        StepOutcome {
            exit_code,
            restart: None,
        }
    }
}

/// Why a runner could not run a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The runner has no implementation for this step type.
    #[error("step type {step_type} is not supported here")]
    Unsupported {
        /// The `type` attribute.
        step_type: String,
    },
    /// The step could not be carried out.
    #[error("{0}")]
    Failed(String),
}

/// Runs concrete steps (Partition Disk, Apply Operating System, ...). The step is passed as
/// written; the runner expands `%VAR%` in its action and variables with
/// [`Variables::expand`] as it needs, and may set variables in `env`.
pub trait StepRunner {
    /// Runs one step.
    fn run(&mut self, step: &Step, env: &mut Variables) -> Result<StepOutcome, StepError>;
}

/// Engine errors: problems with the inputs, not step failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A variable of the sequence could not be set.
    #[error("step {step:?}")]
    Variable {
        /// The step (empty for global variables).
        step: String,
        /// The cause.
        source: VariableError,
    },
    /// The state was saved for a different task sequence.
    #[error("execution state belongs to task sequence {state}, not to this one ({current})")]
    WrongSequence {
        /// Fingerprint in the state.
        state: String,
        /// Fingerprint of the sequence given.
        current: String,
    },
    /// The state's position does not exist in the task sequence.
    #[error("execution state position {0:?} is not a position in this task sequence")]
    BadPosition(Vec<usize>),
}

/// Engine behaviour.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Cancelled by another thread to stop (suspended, resumable) before the next node.
    /// Default: never.
    pub cancel: Cancel,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// Every node ran or was skipped, and no failure reached the top.
    Succeeded,
    /// A failure reached the top.
    Failed {
        /// The step that failed.
        step: String,
        /// Its exit code.
        exit_code: i64,
    },
    /// Stopped for a restart or cancellation; resume with the state.
    Suspended(ExecutionState),
}

/// What happened to one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeResult {
    /// Skipped because disabled.
    Disabled,
    /// Skipped because its condition was false or unknown.
    ConditionNotMet {
        /// `Unknown` or `False`.
        truth: Truth,
        /// Reasons for unknown parts.
        notes: Vec<String>,
    },
    /// The step ran and succeeded.
    Succeeded {
        /// Exit code.
        exit_code: i64,
    },
    /// The step ran (or could not run) and failed.
    Failed {
        /// Exit code.
        exit_code: i64,
        /// The runner's message, when it returned an error.
        message: Option<String>,
        /// `continueOnError` let the parent go on.
        continued: bool,
    },
    /// A group failed because a node inside failed.
    GroupFailed {
        /// `continueOnError` let the parent go on.
        continued: bool,
    },
}

/// One entry of the run's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Child indices from the top.
    pub path: Vec<usize>,
    /// Node name.
    pub name: String,
    /// Whether it is a group.
    pub is_group: bool,
    /// What happened.
    pub result: NodeResult,
}

/// The result of [`Engine::start`] or [`Engine::resume`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// How the run ended.
    pub status: RunStatus,
    /// The variables at the end.
    pub variables: Variables,
    /// What happened to each node visited, in order.
    pub records: Vec<NodeRecord>,
}

enum Flow {
    Continue,
    Failed { step: String, exit_code: i64 },
    Suspend(SuspendReason, Vec<usize>),
}

static DEFAULT_HOST: FsProbe = FsProbe::new_const();
static DEFAULT_SYSTEM: NotAvailable = NotAvailable;

/// Runs one task sequence.
pub struct Engine<'a> {
    sequence: &'a TaskSequence,
    runner: &'a mut dyn StepRunner,
    log: &'a mut dyn LogSink,
    host: &'a dyn HostProbe,
    system: &'a dyn SystemQuery,
    options: EngineOptions,
    records: Vec<NodeRecord>,
}

impl<'a> Engine<'a> {
    /// An engine with the local filesystem as host (no drives mapped: see [`FsProbe`]),
    /// no WMI or registry ([`NotAvailable`]) and default options.
    pub fn new(
        sequence: &'a TaskSequence,
        runner: &'a mut dyn StepRunner,
        log: &'a mut dyn LogSink,
    ) -> Engine<'a> {
        Engine {
            sequence,
            runner,
            log,
            host: &DEFAULT_HOST,
            system: &DEFAULT_SYSTEM,
            options: EngineOptions::default(),
            records: Vec::new(),
        }
    }

    /// Uses `host` for file and folder conditions.
    pub fn with_host(mut self, host: &'a dyn HostProbe) -> Self {
        self.host = host;
        self
    }

    /// Uses `system` for WMI, registry and software conditions.
    pub fn with_system(mut self, system: &'a dyn SystemQuery) -> Self {
        self.system = system;
        self
    }

    /// Sets options.
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs from the first node. `env` holds the built-ins and any media, collection or
    /// prestart variables.
    pub fn start(&mut self, mut env: Variables) -> Result<RunReport, EngineError> {
        self.info(format!(
            "Start executing the task sequence ({} top-level nodes)",
            self.sequence.steps.len()
        ));
        for v in &self.sequence.global_variables {
            if !env.contains(&v.name) {
                env.set_builtin(&v.name, v.value.as_str())
                    .map_err(|source| EngineError::Variable {
                        step: String::new(),
                        source,
                    })?;
            }
        }
        self.run_from(env, &[])
    }

    /// Continues a suspended run.
    pub fn resume(&mut self, state: ExecutionState) -> Result<RunReport, EngineError> {
        let current = fingerprint(self.sequence);
        if state.fingerprint != current {
            return Err(EngineError::WrongSequence {
                state: state.fingerprint,
                current,
            });
        }
        if !state.position_is_valid(self.sequence) {
            return Err(EngineError::BadPosition(state.position));
        }
        self.info(format!(
            "Resuming the task sequence at position {:?}",
            state.position
        ));
        self.run_from(state.variables, &state.position)
    }

    fn run_from(&mut self, mut env: Variables, start: &[usize]) -> Result<RunReport, EngineError> {
        self.records.clear();
        let sequence = self.sequence;
        let mut path = Vec::new();
        let flow = self.run_nodes(&sequence.steps, &mut path, start, &mut env)?;
        let status = match flow {
            Flow::Continue => {
                self.info("The task sequence completed successfully".into());
                RunStatus::Succeeded
            }
            Flow::Failed { step, exit_code } => {
                self.error(format!(
                    "The task sequence failed: step {step:?} returned {exit_code} (0x{:08X})",
                    exit_code as u32
                ));
                RunStatus::Failed { step, exit_code }
            }
            Flow::Suspend(reason, position) => {
                self.info(format!(
                    "The task sequence is suspended ({reason:?}); it resumes at position {position:?}"
                ));
                RunStatus::Suspended(ExecutionState {
                    position,
                    variables: env.clone(),
                    reason,
                    fingerprint: fingerprint(sequence),
                })
            }
        };
        Ok(RunReport {
            status,
            variables: env,
            records: std::mem::take(&mut self.records),
        })
    }

    fn run_nodes(
        &mut self,
        nodes: &'a [Node],
        path: &mut Vec<usize>,
        start: &[usize],
        env: &mut Variables,
    ) -> Result<Flow, EngineError> {
        let first = start.first().copied().unwrap_or(0);
        for (i, node) in nodes.iter().enumerate().skip(first) {
            path.push(i);
            // Resuming into a group entered before the restart: no checks, go inside.
            let inner_start = if i == first && start.len() > 1 {
                Some(&start[1..])
            } else {
                None
            };
            let flow = match (node, inner_start) {
                (Node::Group(g), Some(inner)) => self.run_group_body(g, path, inner, env)?,
                _ => self.run_node(node, path, env)?,
            };
            path.pop();
            match flow {
                Flow::Continue => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Continue)
    }

    fn run_node(
        &mut self,
        node: &'a Node,
        path: &mut Vec<usize>,
        env: &mut Variables,
    ) -> Result<Flow, EngineError> {
        if self.options.cancel.is_cancelled() {
            self.warn(format!("Cancelled before {:?}", node.name()));
            return Ok(Flow::Suspend(SuspendReason::Cancelled, path.clone()));
        }
        let is_group = matches!(node, Node::Group(_));
        if node.disabled() {
            self.info(format!(
                "Skipping disabled {} {:?}",
                kind(is_group),
                node.name()
            ));
            self.record(path, node.name(), is_group, NodeResult::Disabled);
            return Ok(Flow::Continue);
        }
        if let Some(condition) = node.condition() {
            let ctx = ConditionContext {
                env,
                host: self.host,
                system: self.system,
            };
            let evaluation = evaluate(condition, &ctx);
            for note in &evaluation.notes {
                self.warn(format!(
                    "Condition of {} {:?}: {note}; treated as unknown",
                    kind(is_group),
                    node.name()
                ));
            }
            if !evaluation.truth.is_met() {
                self.info(format!(
                    "The condition for the {} ({}) evaluated to {:?}; skipped",
                    kind(is_group),
                    node.name(),
                    evaluation.truth
                ));
                self.record(
                    path,
                    node.name(),
                    is_group,
                    NodeResult::ConditionNotMet {
                        truth: evaluation.truth,
                        notes: evaluation.notes,
                    },
                );
                return Ok(Flow::Continue);
            }
        }
        match node {
            Node::Group(g) => {
                self.info(format!("Entering group {:?}", g.name));
                self.run_group_body(g, path, &[], env)
            }
            Node::Step(s) => self.run_step(s, path, env),
        }
    }

    fn run_group_body(
        &mut self,
        group: &'a Group,
        path: &mut Vec<usize>,
        start: &[usize],
        env: &mut Variables,
    ) -> Result<Flow, EngineError> {
        let flow = self.run_nodes(&group.children, path, start, env)?;
        match flow {
            Flow::Failed { step, exit_code } => {
                let continued = group.continue_on_error;
                self.record(
                    path,
                    &group.name,
                    true,
                    NodeResult::GroupFailed { continued },
                );
                if continued {
                    self.warn(format!(
                        "The execution of the group ({}) has failed; continuing because continueOnError is set",
                        group.name
                    ));
                    Ok(Flow::Continue)
                } else {
                    self.error(format!(
                        "The execution of the group ({}) has failed and the execution has been aborted",
                        group.name
                    ));
                    Ok(Flow::Failed { step, exit_code })
                }
            }
            other => Ok(other),
        }
    }

    fn run_step(
        &mut self,
        step: &'a Step,
        path: &mut Vec<usize>,
        env: &mut Variables,
    ) -> Result<Flow, EngineError> {
        let var_error = |source| EngineError::Variable {
            step: step.name.clone(),
            source,
        };
        self.info(format!(
            "Start executing an instruction. Instruction name: {}. Instruction type: {}. Position: {:?}",
            step.name, step.step_type, path
        ));
        env.set_builtin("_SMSTSCurrentActionName", step.name.as_str())
            .map_err(var_error)?;
        let mut added = Vec::new();
        for v in &step.variables {
            if !env.contains(&v.name) {
                env.set_builtin(&v.name, v.value.as_str())
                    .map_err(var_error)?;
                added.push(v);
            }
        }
        let result = self.runner.run(step, env);
        for v in added {
            if env.get(&v.name) == Some(v.value.as_str()) {
                env.remove_any(&v.name);
            }
        }
        let (exit_code, restart, message) = match result {
            Ok(outcome) => (outcome.exit_code, outcome.restart, None),
            Err(e) => {
                let code = match e {
                    StepError::Unsupported { .. } => EXIT_NOT_IMPLEMENTED,
                    _ => EXIT_FAILED,
                };
                self.error(format!(
                    "Failed to run the action {:?} (type {}): {e}",
                    step.name, step.step_type
                ));
                (code, None, Some(e.to_string()))
            }
        };
        let succeeded = message.is_none() && step.is_success_code(exit_code);
        env.set_builtin("_SMSTSLastActionRetCode", exit_code.to_string())
            .map_err(var_error)?;
        env.set_builtin(
            "_SMSTSLastActionSucceeded",
            if succeeded { "true" } else { "false" },
        )
        .map_err(var_error)?;
        env.set_builtin("_SMSTSLastActionName", step.name.as_str())
            .map_err(var_error)?;
        if succeeded {
            self.info(format!(
                "The action ({}) completed with exit code {exit_code}",
                step.name
            ));
            self.record(path, &step.name, false, NodeResult::Succeeded { exit_code });
        } else {
            let continued = step.continue_on_error;
            if message.is_none() {
                let severity = if continued {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                self.emit(
                    severity,
                    format!(
                        "The action ({}) failed with exit code {exit_code} (0x{:08X}); success codes are {:?}",
                        step.name, exit_code as u32, step.success_codes
                    ),
                );
            }
            self.record(
                path,
                &step.name,
                false,
                NodeResult::Failed {
                    exit_code,
                    message,
                    continued,
                },
            );
            if !continued {
                return Ok(Flow::Failed {
                    step: step.name.clone(),
                    exit_code,
                });
            }
            self.warn(format!(
                "Ignoring the failure of ({}) because continueOnError is set",
                step.name
            ));
        }
        if let Some(target) = restart {
            let mut next = path.clone();
            if let Some(last) = next.last_mut() {
                *last += 1;
            }
            self.info(format!(
                "The action ({}) requested a restart into {target:?}",
                step.name
            ));
            return Ok(Flow::Suspend(
                SuspendReason::Restart {
                    step: step.name.clone(),
                    target,
                },
                next,
            ));
        }
        Ok(Flow::Continue)
    }

    fn record(&mut self, path: &[usize], name: &str, is_group: bool, result: NodeResult) {
        self.records.push(NodeRecord {
            path: path.to_vec(),
            name: name.to_string(),
            is_group,
            result,
        });
    }

    fn emit(&mut self, severity: Severity, message: String) {
        self.log.log(LogRecord {
            severity,
            component: COMPONENT.to_string(),
            message,
        });
    }

    fn info(&mut self, message: String) {
        self.emit(Severity::Info, message);
    }

    fn warn(&mut self, message: String) {
        self.emit(Severity::Warning, message);
    }

    fn error(&mut self, message: String) {
        self.emit(Severity::Error, message);
    }
}

fn kind(is_group: bool) -> &'static str {
    if is_group { "group" } else { "action" }
}

impl EngineError {
    /// The kind of failure, for exit codes: a step breaking a variable rule, or a saved
    /// state that does not fit the task sequence, is invalid input.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        tsmedia_base::ErrorClass::InvalidInput
    }
}
