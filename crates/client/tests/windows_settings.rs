//! Apply Windows Settings and Apply Network Settings under the real engine: the answer file
//! lands on the target volume merged with the image's, and no password reaches the log.

use std::fs;

use tsmedia_client::{FirstAvailable, MediaStepRunner, RunnerOptions};
use tsmedia_tasksequence::{BuiltIns, Engine, LogRecord, RunStatus, TaskSequence, Variables};

const ADMIN: &str = "L0cal-Adm1n!";
const JOIN: &str = "J0in-Pa55";

const TS: &str = r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_ApplyWindowsSettingsAction" name="Apply Windows Settings" runIn="WinPE" successCodeList="0">
    <action>OSDWinSettings.exe</action>
    <defaultVarList>
      <variable name="OSDRegisteredOrgName" property="RegisteredOrganizationName">Contoso</variable>
      <variable name="OSDRegisteredUserName" property="RegisteredUserName">Contoso IT</variable>
      <variable name="OSDTimeZone" property="TimeZone">W. Europe Standard Time</variable>
      <variable name="OSDLocalAdminPassword" property="AdminPassword">L0cal-Adm1n!</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyNetworkSettingsAction" name="Apply Network Settings" runIn="WinPE" successCodeList="0">
    <action>OSDNetSettings.exe</action>
    <defaultVarList>
      <variable name="OSDJoinType" property="DomainOrWorkgroup">0</variable>
      <variable name="OSDDomainName" property="DomainName">corp.contoso.com</variable>
      <variable name="OSDJoinAccount" property="DomainUserName">CORP\joiner</variable>
      <variable name="OSDJoinPassword" property="DomainPassword">J0in-Pa55</variable>
      <variable name="OSDAdapterCount" property="AdapterCount">1</variable>
      <variable name="OSDAdapter0EnableDHCP" property="EnableDHCP">true</variable>
      <variable name="OSDAdapter0MacAddress" property="MacAddress">52:54:00:12:34:56</variable>
    </defaultVarList>
  </step>
</sequence>"#;

#[test]
fn both_steps_write_one_answer_file_without_logging_secrets() {
    let target = tempfile::tempdir().expect("tempdir");
    let panther = target.path().join("Windows/Panther");
    fs::create_dir_all(&panther).expect("mkdir");
    fs::write(
        panther.join("unattend.xml"),
        r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="oobeSystem"><component name="Microsoft-Windows-International-Core" processorArchitecture="amd64"><UILanguage>de-DE</UILanguage></component></settings></unattend>"#,
    )
    .expect("image answer file");

    let ts = TaskSequence::from_xml(TS).expect("parses");
    let mut content = FirstAvailable::new(Vec::new());
    let options = RunnerOptions {
        target: target.path().to_path_buf(),
        ..RunnerOptions::default()
    };
    let mut runner = MediaStepRunner::new(options, &mut content);
    let mut log: Vec<LogRecord> = Vec::new();
    let mut env = Variables::new();
    env.set("OSDComputerName", "PC-0007").expect("set");
    BuiltIns::default().apply(&mut env).expect("built-ins");
    let report = Engine::new(&ts, &mut runner, &mut log)
        .start(env)
        .expect("engine runs");
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.records);
    let lines: Vec<String> = runner
        .take_log()
        .into_iter()
        .map(|l| format!("{}: {}", l.step, l.message))
        .collect();

    let xml = fs::read_to_string(panther.join("unattend.xml")).expect("answer file");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_string)
    };
    assert_eq!(text("ComputerName").as_deref(), Some("PC-0007"));
    assert_eq!(text("RegisteredOrganization").as_deref(), Some("Contoso"));
    assert_eq!(text("TimeZone").as_deref(), Some("W. Europe Standard Time"));
    assert_eq!(text("JoinDomain").as_deref(), Some("corp.contoso.com"));
    assert_eq!(text("Identifier").as_deref(), Some("52-54-00-12-34-56"));
    assert_eq!(
        text("UILanguage").as_deref(),
        Some("de-DE"),
        "the image's own setting is kept"
    );
    assert_eq!(text("PlainText").as_deref(), Some("false"));
    assert!(
        !xml.contains(ADMIN),
        "the Administrator password is encoded"
    );

    let all_log = format!("{lines:?} {log:?}");
    for secret in [ADMIN, JOIN] {
        assert!(!all_log.contains(secret), "{secret} in the log: {all_log}");
    }
    assert!(
        lines.iter().any(|l| l
            .contains("Apply Network Settings: wrote Windows/Panther/unattend.xml")
            && l.contains("join corp.contoso.com")),
        "{lines:?}"
    );
}
