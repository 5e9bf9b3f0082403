//! The engine over corpus and inline task sequences, with a recording step runner.

use std::collections::HashMap;

use tsmedia_tasksequence::engine::{EXIT_FAILED, EXIT_NOT_IMPLEMENTED};
use tsmedia_tasksequence::log::LogStamp;
use tsmedia_tasksequence::{
    BuiltIns, CmTraceWriter, Engine, EngineError, EngineOptions, ExecutionState, LaunchMode,
    LogRecord, MediaType, NodeResult, RestartTarget, RunReport, RunStatus, Severity, Step,
    StepError, StepOutcome, StepRunner, SuspendReason, TaskSequence, Truth, Variables,
};

/// Runs steps the way a test wants and remembers what it saw.
#[derive(Default)]
struct Recorder {
    ran: Vec<String>,
    /// The environment each step saw, by step name.
    seen: HashMap<String, Variables>,
    /// Exit codes by step name (default 0, or `exit N` in a command line).
    exits: HashMap<String, i64>,
    /// Step types the runner does not support (prefix match).
    unsupported: Vec<&'static str>,
    /// Step names whose runner returns an error.
    broken: Vec<&'static str>,
}

impl StepRunner for Recorder {
    fn run(&mut self, step: &Step, env: &mut Variables) -> Result<StepOutcome, StepError> {
        self.ran.push(step.name.clone());
        self.seen.insert(step.name.clone(), env.clone());
        if self
            .unsupported
            .iter()
            .any(|p| step.step_type.starts_with(p))
        {
            return Err(StepError::Unsupported {
                step_type: step.step_type.clone(),
            });
        }
        if self.broken.contains(&step.name.as_str()) {
            return Err(StepError::Failed("disk 0 not found".into()));
        }
        if let Some(code) = self.exits.get(&step.name) {
            return Ok(StepOutcome::exit(*code));
        }
        match step.step_type.as_str() {
            "SMS_TaskSequence_SetVariableAction" => {
                let name = step
                    .variable("VariableName")
                    .unwrap_or_default()
                    .to_string();
                let value = env.expand(step.variable("VariableValue").unwrap_or_default());
                env.set(&name, value)
                    .map_err(|e| StepError::Failed(e.to_string()))?;
                Ok(StepOutcome::exit(0))
            }
            "SMS_TaskSequence_RebootAction" => Ok(StepOutcome {
                exit_code: 0,
                restart: Some(if step.variable("SMSRebootTarget") == Some("WinPE") {
                    RestartTarget::BootImage
                } else {
                    RestartTarget::InstalledOs
                }),
            }),
            "SMS_TaskSequence_SetupWindowsAndSMSAction" => Ok(StepOutcome {
                exit_code: 0,
                restart: Some(RestartTarget::InstalledOs),
            }),
            _ => {
                let action = step.action.as_deref().unwrap_or("");
                let code = action
                    .split("exit ")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse().ok())
                    .unwrap_or(0);
                Ok(StepOutcome::exit(code))
            }
        }
    }
}

fn load(name: &str) -> TaskSequence {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    TaskSequence::from_xml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn media_env() -> Variables {
    let mut env = Variables::new();
    BuiltIns {
        media_type: Some(MediaType::FullMedia),
        launch_mode: Some(LaunchMode::Ufd),
        in_winpe: true,
        boot_uefi: true,
        media_root_path: Some("D:\\".into()),
        package_id: Some("PS100099".into()),
        ..Default::default()
    }
    .apply(&mut env)
    .unwrap();
    env
}

fn run(ts: &TaskSequence, runner: &mut Recorder, env: Variables) -> (RunReport, Vec<LogRecord>) {
    let mut log = Vec::new();
    let report = Engine::new(ts, runner, &mut log).start(env).unwrap();
    (report, log)
}

fn result_of<'r>(report: &'r RunReport, name: &str) -> &'r NodeResult {
    &report
        .records
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no record for {name}: {:#?}", report.records))
        .result
}

#[test]
fn current_branch_deployment_with_restart_and_resume() {
    let ts = load("cb_deploy.xml");
    let mut runner = Recorder::default();
    let (report, log) = run(&ts, &mut runner, media_env());
    assert_eq!(
        runner.ran,
        [
            "Partition Disk 0 - UEFI",
            "Apply Operating System",
            "Apply Data Image 1",
            "Setup Windows and Configuration Manager"
        ]
    );
    // In Windows PE already: the restart into Windows PE is skipped.
    assert_eq!(
        result_of(&report, "Restart in Windows PE"),
        &NodeResult::ConditionNotMet {
            truth: Truth::False,
            notes: vec![]
        }
    );
    // WMI does not exist here: the driver step is skipped, with a warning.
    match result_of(&report, "Apply Driver Package - Latitude 7440") {
        NodeResult::ConditionNotMet { truth, notes } => {
            assert_eq!(*truth, Truth::Unknown);
            assert!(notes[0].contains("WMI"), "{notes:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(log.iter().any(|r| r.severity == Severity::Warning
        && r.message.contains("Apply Driver Package - Latitude 7440")
        && r.message.contains("not available")));

    // Step settings are visible during the step only.
    let during = &runner.seen["Apply Operating System"];
    assert_eq!(during.get("OSDImageIndex"), Some("3"));
    assert_eq!(
        during.get("_SMSTSCurrentActionName"),
        Some("Apply Operating System")
    );
    assert_eq!(
        during.get("_SMSTSLastActionName"),
        Some("Partition Disk 0 - UEFI")
    );
    assert_eq!(during.get("_SMSTSLastActionSucceeded"), Some("true"));
    assert_eq!(
        during.get("OSDComputerNamePrefix"),
        Some("CTS"),
        "global variable"
    );
    assert!(!report.variables.contains("OSDImageIndex"));

    let RunStatus::Suspended(state) = report.status else {
        panic!("expected a restart, got {:?}", report.status)
    };
    assert_eq!(state.position, vec![0, 6]);
    assert_eq!(
        state.reason,
        SuspendReason::Restart {
            step: "Setup Windows and Configuration Manager".into(),
            target: RestartTarget::InstalledOs
        }
    );

    // The state survives serialisation; the runtime updates built-ins after the restart.
    let json = serde_json::to_string(&state).unwrap();
    let mut state: ExecutionState = serde_json::from_str(&json).unwrap();
    state
        .variables
        .set_builtin("_SMSTSInWinPE", "false")
        .unwrap();
    let mut runner = Recorder::default();
    let mut log = Vec::new();
    let report = Engine::new(&ts, &mut runner, &mut log)
        .resume(state)
        .unwrap();
    assert_eq!(
        runner.ran,
        [
            "Install Application",
            "Download Package Content",
            "Configure Start Menu"
        ]
    );
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        runner.seen["Install Application"].get("_SMSTSLastActionName"),
        Some("Setup Windows and Configuration Manager")
    );
    assert_eq!(
        runner.seen["Download Package Content"].get("OSDDownloadDownloadPackages"),
        Some("PS10000A,PS10000B")
    );
    assert_eq!(report.variables.get("_SMSTSLastActionRetCode"), Some("0"));
    assert_eq!(report.variables.get("_SMSTSInWinPE"), Some("false"));
}

#[test]
fn disabled_nodes_and_continue_on_error() {
    let ts = load("disabled.xml");
    let mut runner = Recorder::default();
    let (report, log) = run(&ts, &mut runner, Variables::new());
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        runner.ran,
        [
            "Mark start",
            "May fail",
            "Tolerated failure",
            "Custom success code",
            "Mark end"
        ]
    );
    assert_eq!(result_of(&report, "Retired tools"), &NodeResult::Disabled);
    assert_eq!(
        result_of(&report, "Disabled command"),
        &NodeResult::Disabled
    );
    assert_eq!(result_of(&report, "Nested disabled"), &NodeResult::Disabled);
    assert_eq!(
        result_of(&report, "May fail"),
        &NodeResult::Failed {
            exit_code: 1,
            message: None,
            continued: false
        }
    );
    assert_eq!(
        result_of(&report, "Optional"),
        &NodeResult::GroupFailed { continued: true }
    );
    assert_eq!(
        result_of(&report, "Tolerated failure"),
        &NodeResult::Failed {
            exit_code: 2,
            message: None,
            continued: true
        }
    );
    assert_eq!(
        result_of(&report, "Custom success code"),
        &NodeResult::Succeeded { exit_code: 1641 }
    );
    let after_tolerated = &runner.seen["Custom success code"];
    assert_eq!(after_tolerated.get("_SMSTSLastActionRetCode"), Some("2"));
    assert_eq!(
        after_tolerated.get("_SMSTSLastActionSucceeded"),
        Some("false")
    );
    assert_eq!(report.variables.get("Stage"), Some("end"));
    assert_eq!(
        report.variables.get("_SMSTSLastActionSucceeded"),
        Some("true")
    );
    assert!(log.iter().any(|r| {
        r.message
            .contains("Skipping disabled group \"Retired tools\"")
    }));
}

fn inline(body: &str) -> TaskSequence {
    TaskSequence::from_xml(&format!("<sequence version=\"3.10\">{body}</sequence>")).unwrap()
}

fn step(name: &str, extra: &str, action: &str) -> String {
    format!(
        "<step type=\"SMS_TaskSequence_RunCommandLineAction\" name=\"{name}\" {extra}><action>{action}</action></step>"
    )
}

#[test]
fn a_failure_fails_its_groups_up_to_the_top() {
    let ts = inline(&format!(
        "<group name=\"G\">{}{}</group>{}",
        step("Fail", "", "cmd /c exit 5"),
        step("After in group", "", "cmd /c exit 0"),
        step("Top after", "", "cmd /c exit 0"),
    ));
    let mut runner = Recorder::default();
    let (report, log) = run(&ts, &mut runner, Variables::new());
    assert_eq!(runner.ran, ["Fail"]);
    assert_eq!(
        report.status,
        RunStatus::Failed {
            step: "Fail".into(),
            exit_code: 5
        }
    );
    assert_eq!(
        result_of(&report, "G"),
        &NodeResult::GroupFailed { continued: false }
    );
    assert_eq!(report.variables.get("_SMSTSLastActionRetCode"), Some("5"));
    assert_eq!(
        report.variables.get("_SMSTSLastActionSucceeded"),
        Some("false")
    );
    assert!(
        log.iter()
            .any(|r| r.severity == Severity::Error && r.message.contains("group (G) has failed"))
    );
}

#[test]
fn a_continue_on_error_group_contains_the_failure() {
    let ts = inline(&format!(
        "<group name=\"Outer\"><group name=\"Inner\" continueOnError=\"true\">{}{}</group>{}</group>{}",
        step("Fail", "", "cmd /c exit 9"),
        step("Skipped by failure", "", "cmd /c exit 0"),
        step("Outer next", "", "cmd /c exit 0"),
        step("Top next", "", "cmd /c exit 0"),
    ));
    let mut runner = Recorder::default();
    let (report, _) = run(&ts, &mut runner, Variables::new());
    assert_eq!(runner.ran, ["Fail", "Outer next", "Top next"]);
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        result_of(&report, "Inner"),
        &NodeResult::GroupFailed { continued: true }
    );
}

#[test]
fn success_codes() {
    // (successCodeList attribute, exit code, success)
    let table: &[(Option<&str>, i64, bool)] = &[
        (None, 0, true),
        (None, 3010, true),
        (None, 1, false),
        (Some("0"), 3010, false),
        (Some("0 1641"), 1641, true),
        (Some("0x0 0xBC2"), 3010, true),
        (Some("-1"), -1, true),
        (Some("-1"), 0, false),
        (Some("2147942402"), 2_147_942_402, true),
    ];
    for (codes, exit, ok) in table {
        let attr = codes.map_or(String::new(), |c| format!("successCodeList=\"{c}\""));
        let ts = inline(&step("S", &attr, "run"));
        let mut runner = Recorder::default();
        runner.exits.insert("S".into(), *exit);
        let (report, _) = run(&ts, &mut runner, Variables::new());
        assert_eq!(
            report.status == RunStatus::Succeeded,
            *ok,
            "codes {codes:?} exit {exit}: {:?}",
            report.status
        );
        assert_eq!(
            report.variables.get("_SMSTSLastActionRetCode"),
            Some(exit.to_string().as_str())
        );
        assert_eq!(
            report.variables.get("_SMSTSLastActionSucceeded"),
            Some(if *ok { "true" } else { "false" })
        );
    }
}

#[test]
fn unknown_step_types_are_reported_by_name() {
    let ts = load("mdt_client.xml");
    let mut runner = Recorder {
        unsupported: vec!["BDD_"],
        ..Default::default()
    };
    let (report, log) = run(&ts, &mut runner, Variables::new());
    assert_eq!(
        report.status,
        RunStatus::Failed {
            step: "Gather local only".into(),
            exit_code: EXIT_NOT_IMPLEMENTED
        }
    );
    let line = log
        .iter()
        .find(|r| r.severity == Severity::Error && r.message.contains("Gather local only"))
        .expect("an error naming the step");
    assert!(line.message.contains("BDD_Gather"), "{}", line.message);
    assert!(line.message.contains("not supported"), "{}", line.message);

    // With continueOnError the sequence goes on.
    let ts = load("unknown.xml");
    let mut runner = Recorder {
        unsupported: vec!["SMS_TaskSequence_Quantum"],
        broken: vec![],
        ..Default::default()
    };
    let (report, log) = run(&ts, &mut runner, Variables::new());
    assert_eq!(
        report.status,
        RunStatus::Failed {
            step: "Prepare quantum cache".into(),
            exit_code: EXIT_NOT_IMPLEMENTED
        }
    );
    assert!(
        log.iter()
            .any(|r| r.message.contains("Prepare quantum cache"))
    );

    let ts = inline(&format!(
        "{}{}",
        step("Broken", "continueOnError=\"true\"", "x"),
        step("Next", "", "cmd /c exit 0")
    ));
    let mut runner = Recorder {
        broken: vec!["Broken"],
        ..Default::default()
    };
    let (report, _) = run(&ts, &mut runner, Variables::new());
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        result_of(&report, "Broken"),
        &NodeResult::Failed {
            exit_code: EXIT_FAILED,
            message: Some("disk 0 not found".into()),
            continued: true
        }
    );
    assert_eq!(
        runner.seen["Next"].get("_SMSTSLastActionRetCode"),
        Some(EXIT_FAILED.to_string().as_str())
    );
}

#[test]
fn restart_inside_nested_groups_resumes_after_the_step() {
    let set_flag = "<step type=\"SMS_TaskSequence_SetVariableAction\" name=\"Set flag\"><defaultVarList><variable name=\"VariableName\" property=\"VariableName\">Flag</variable><variable name=\"VariableValue\" property=\"VariableValue\">1</variable></defaultVarList></step>";
    let reboot = "<step type=\"SMS_TaskSequence_RebootAction\" name=\"Restart\"><defaultVarList><variable name=\"SMSRebootTarget\" property=\"Target\">WinPE</variable></defaultVarList></step>";
    let cond = "<condition><expression type=\"SMS_TaskSequence_VariableConditionExpression\"><variable name=\"Variable\">Flag</variable><variable name=\"Operator\">notExists</variable></expression></condition>";
    let ts = inline(&format!(
        "<group name=\"Outer\">{cond}{set_flag}<group name=\"Inner\">{}{reboot}</group></group>{}",
        step("B", "", "cmd /c exit 0"),
        step("C", "", "cmd /c exit 0"),
    ));
    let mut runner = Recorder::default();
    let (report, _) = run(&ts, &mut runner, Variables::new());
    assert_eq!(runner.ran, ["Set flag", "B", "Restart"]);
    let RunStatus::Suspended(state) = report.status else {
        panic!("{:?}", report.status)
    };
    assert_eq!(
        state.position,
        vec![0, 1, 2],
        "one past the last step of Inner"
    );
    assert_eq!(
        state.reason,
        SuspendReason::Restart {
            step: "Restart".into(),
            target: RestartTarget::BootImage
        }
    );
    assert_eq!(state.variables.get("Flag"), Some("1"));
    assert!(
        !state.variables.contains("SMSRebootTarget"),
        "step settings are gone"
    );

    // Outer's condition is false now, but Outer was entered before the restart.
    let mut runner = Recorder::default();
    let mut log = Vec::new();
    let report = Engine::new(&ts, &mut runner, &mut log)
        .resume(state.clone())
        .unwrap();
    assert_eq!(runner.ran, ["C"]);
    assert_eq!(report.status, RunStatus::Succeeded);

    // Resuming mid-group runs the rest of the group.
    let mut mid = state.clone();
    mid.position = vec![0, 1, 1];
    let mut runner = Recorder::default();
    let report = Engine::new(&ts, &mut runner, &mut log).resume(mid).unwrap();
    assert_eq!(runner.ran, ["Restart"]);
    assert!(matches!(report.status, RunStatus::Suspended(_)));

    // A state from another sequence, or a position that does not exist, is refused.
    let other = inline(&step("X", "", "x"));
    let mut runner = Recorder::default();
    let err = Engine::new(&other, &mut runner, &mut log)
        .resume(state.clone())
        .unwrap_err();
    assert!(matches!(err, EngineError::WrongSequence { .. }), "{err}");
    for bad in [vec![], vec![5], vec![1, 0], vec![0, 0, 0], vec![0, 1, 3]] {
        let mut s = state.clone();
        s.position = bad.clone();
        let err = Engine::new(&ts, &mut runner, &mut log)
            .resume(s)
            .unwrap_err();
        assert!(matches!(err, EngineError::BadPosition(_)), "{bad:?}: {err}");
    }
    assert!(runner.ran.is_empty());
}

#[test]
fn cancellation_suspends_before_the_next_node() {
    let ts = load("disabled.xml");
    let flag = tsmedia_base::Cancel::new();
    flag.cancel();
    let mut runner = Recorder::default();
    let mut log = Vec::new();
    let report = Engine::new(&ts, &mut runner, &mut log)
        .with_options(EngineOptions {
            cancel: flag.clone(),
        })
        .start(Variables::new())
        .unwrap();
    assert!(runner.ran.is_empty());
    let RunStatus::Suspended(state) = report.status else {
        panic!("{:?}", report.status)
    };
    assert_eq!(state.reason, SuspendReason::Cancelled);
    assert_eq!(state.position, vec![0]);
    // A cancelled token stays cancelled: the resume runs with a fresh engine (no token).
    let report = Engine::new(&ts, &mut runner, &mut log)
        .resume(state)
        .unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(runner.ran.first().map(String::as_str), Some("Mark start"));
}

#[test]
fn variable_precedence() {
    let ts = TaskSequence::from_xml(
        r#"<sequence>
        <globalVarList>
          <variable name="FromGlobal">g</variable>
          <variable name="PresetByMedia">global</variable>
        </globalVarList>
        <step type="T" name="S">
          <defaultVarList>
            <variable name="Overridden" property="A">default</variable>
            <variable name="Transient" property="B">default</variable>
            <variable name="Changed" property="C">default</variable>
            <variable name="_SMSSWDProgramName" property="ProgramName">Install</variable>
          </defaultVarList>
        </step>
        <step type="T" name="Next"/>
        </sequence>"#,
    )
    .unwrap();
    struct Changer(Vec<Variables>);
    impl StepRunner for Changer {
        fn run(&mut self, step: &Step, env: &mut Variables) -> Result<StepOutcome, StepError> {
            self.0.push(env.clone());
            if step.name == "S" {
                env.set("Changed", "by step").unwrap();
            }
            Ok(StepOutcome::exit(0))
        }
    }
    let mut env = Variables::new();
    env.set("Overridden", "preset").unwrap();
    env.set("PresetByMedia", "media").unwrap();
    let mut runner = Changer(Vec::new());
    let mut log = Vec::new();
    let report = Engine::new(&ts, &mut runner, &mut log).start(env).unwrap();
    let during = &runner.0[0];
    assert_eq!(during.get("Overridden"), Some("preset"));
    assert_eq!(during.get("Transient"), Some("default"));
    assert_eq!(during.get("_SMSSWDProgramName"), Some("Install"));
    assert_eq!(during.get("FromGlobal"), Some("g"));
    assert_eq!(during.get("PresetByMedia"), Some("media"));
    let next = &runner.0[1];
    assert_eq!(next.get("Overridden"), Some("preset"));
    assert!(!next.contains("Transient"));
    assert!(!next.contains("_SMSSWDProgramName"));
    assert_eq!(next.get("Changed"), Some("by step"));
    assert_eq!(report.status, RunStatus::Succeeded);
}

#[test]
fn log_goes_to_a_cmtrace_writer() {
    let ts = load("disabled.xml");
    let mut records = Vec::new();
    let mut runner = Recorder::default();
    Engine::new(&ts, &mut runner, &mut records)
        .start(Variables::new())
        .unwrap();

    let mut tick = 0;
    let mut writer = CmTraceWriter::new(Vec::new(), 42, move || {
        tick += 1;
        LogStamp::from_unix_millis(1_705_320_000_000 + tick, -60)
    });
    let mut runner = Recorder::default();
    Engine::new(&ts, &mut runner, &mut writer)
        .start(Variables::new())
        .unwrap();
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        assert!(
            line.starts_with(&format!(
                "<![LOG[{}]LOG]!><time=\"13:00:00.",
                record.message
            )),
            "{line}"
        );
        assert!(
            line.contains("date=\"01-15-2024\" component=\"TSManager\" context=\"\""),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                "type=\"{}\" thread=\"42\"",
                record.severity.cmtrace_type()
            )),
            "{line}"
        );
    }
    assert!(records.iter().any(|r| r.severity == Severity::Warning));
}

#[test]
fn prestaged_media_keep_the_disk() {
    let ts = load("cm2007_deploy.xml");
    let mut env = Variables::new();
    BuiltIns {
        media_type: Some(MediaType::OemMedia),
        launch_mode: Some(LaunchMode::Hd),
        in_winpe: true,
        ..Default::default()
    }
    .apply(&mut env)
    .unwrap();
    let mut runner = Recorder::default();
    let (report, _) = run(&ts, &mut runner, env);
    assert_eq!(
        result_of(&report, "Partition Disk 0"),
        &NodeResult::ConditionNotMet {
            truth: Truth::False,
            notes: vec![]
        }
    );
    assert_eq!(
        runner.ran.first().map(String::as_str),
        Some("Apply Operating System")
    );
    // Setup Windows and ConfigMgr restarts into the new OS.
    assert!(matches!(report.status, RunStatus::Suspended(_)));
    assert_eq!(
        runner.seen["Apply Operating System"].get("OSDConfigFilePackage"),
        Some("CEN00013")
    );

    // The same sequence from bootable media partitions the disk.
    let mut env = Variables::new();
    BuiltIns {
        media_type: Some(MediaType::BootMedia),
        in_winpe: true,
        ..Default::default()
    }
    .apply(&mut env)
    .unwrap();
    let mut runner = Recorder::default();
    run(&ts, &mut runner, env);
    assert_eq!(
        runner.ran.first().map(String::as_str),
        Some("Partition Disk 0")
    );
}
