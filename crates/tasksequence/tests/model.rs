//! Import, export and JSON form of small hand-written documents.

use tsmedia_tasksequence::{Error, Node, ReferenceKind, TaskSequence};

const SAMPLE: &str = r#"<sequence version="3.10">
  <globalVarList><variable name="X" property="X">value</variable></globalVarList>
  <group name="Install" continueOnError="false" disable="false">
    <condition><operator type="and">
      <expression type="SMS_TaskSequence_VariableConditionExpression">
        <variable name="Variable">_SMSTSMediaType</variable>
        <variable name="Operator">notEquals</variable>
        <variable name="Value">OEMMedia</variable>
      </expression></operator></condition>
    <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS" runIn="WinPE"
          successCodeList="0 3010" continueOnError="false" timeout="3600">
      <action>OSDApplyOS.exe /image:PS100004,%OSDImageIndex% /target:%OSDTargetSystemDrive%</action>
      <defaultVarList><variable name="OSDImageIndex" property="ImageIndex">1</variable></defaultVarList>
      <futureElement a="1">text <b>bold</b> &amp; more</futureElement>
    </step>
  </group>
</sequence>"#;

#[test]
fn sample_imports_and_round_trips() {
    let ts = TaskSequence::from_xml(SAMPLE).unwrap();
    assert_eq!(ts.version.as_deref(), Some("3.10"));
    assert_eq!(ts.global_variables.len(), 1);
    let Node::Group(g) = &ts.steps[0] else {
        panic!("expected a group")
    };
    let Node::Step(s) = &g.children[0] else {
        panic!("expected a step")
    };
    assert_eq!(s.success_codes, vec![0, 3010]);
    assert_eq!(s.attributes[0].name, "timeout");
    assert_eq!(s.elements[0].name, "futureElement");
    let xml = ts.to_xml();
    let again = TaskSequence::from_xml(&xml).unwrap();
    assert_eq!(ts, again, "{xml}");
    assert!(xml.contains("<futureElement a=\"1\">text <b>bold</b> &amp; more</futureElement>"));
    let refs = ts.references();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].package_id, "PS100004");
    assert_eq!(refs[0].step, "Apply OS");
    assert_eq!(refs[0].kind, ReferenceKind::OsImage);
}

#[test]
fn json_form_has_the_documented_fields() {
    let ts = TaskSequence::from_xml(SAMPLE).unwrap();
    let json = serde_json::to_value(&ts).unwrap();
    let step = &json["steps"][0]["children"][0];
    for field in ["name", "type", "disabled", "condition", "variables"] {
        assert!(step.get(field).is_some(), "step JSON lacks {field}: {step}");
    }
    assert_eq!(step["kind"], "step");
    assert_eq!(step["type"], "SMS_TaskSequence_ApplyOperatingSystemAction");
    let back: TaskSequence = serde_json::from_value(json).unwrap();
    assert_eq!(back, ts);
}

#[test]
fn errors_carry_positions() {
    let err = TaskSequence::from_xml("<sequence>\n  <step name=\"x\">\n</sequence>").unwrap_err();
    assert!(matches!(err, Error::Syntax(_)), "{err}");
    assert!(chain(&err).contains("3:"), "{err}");

    let err = TaskSequence::from_xml("<sequence>\n  <step name=\"x\"/>\n</sequence>").unwrap_err();
    match err {
        Error::Schema {
            line,
            column,
            ref reason,
        } => {
            assert_eq!((line, column), (2, 3));
            assert!(reason.contains("type"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }

    let err = TaskSequence::from_xml("<group name=\"g\"/>").unwrap_err();
    assert!(err.to_string().contains("expected <sequence>"), "{err}");

    let err = TaskSequence::from_xml("<sequence><group name=\"g\" disable=\"maybe\"/></sequence>")
        .unwrap_err();
    assert!(err.to_string().contains("disable"), "{err}");

    let err = TaskSequence::from_xml(
        "<sequence><step name=\"s\" type=\"t\" successCodeList=\"0 x\"/></sequence>",
    )
    .unwrap_err();
    assert!(err.to_string().contains("successCodeList"), "{err}");
}

#[test]
fn awkward_text_survives_round_trip() {
    let mut ts = TaskSequence::from_xml(SAMPLE).unwrap();
    ts.global_variables[0].value = "  a\r\nb <&> \"q\"\t ".into();
    ts.attributes.push(tsmedia_tasksequence::Attribute::new(
        "name",
        "line1\nline2\t\"x\"",
    ));
    let again = TaskSequence::from_xml(&ts.to_xml()).unwrap();
    assert_eq!(ts, again);
}

#[test]
fn extra_attributes_never_duplicate_typed_ones() {
    let mut ts = TaskSequence::from_xml(SAMPLE).unwrap();
    if let Node::Group(g) = &mut ts.steps[0] {
        g.attributes
            .push(tsmedia_tasksequence::Attribute::new("name", "shadow"));
    }
    let again = TaskSequence::from_xml(&ts.to_xml()).unwrap();
    assert_eq!(again.steps[0].name(), "Install");
}

#[test]
fn reference_list_type_one_is_an_application() {
    let ts = TaskSequence::from_xml(
        r#"<sequence><referenceList><reference package="PS100001" type="0" program="Install"/><reference package="Contoso_App_Model" type="1"/></referenceList></sequence>"#,
    )
    .unwrap();
    let refs = ts.references();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].kind, ReferenceKind::Unknown);
    assert_eq!(refs[1].kind, ReferenceKind::Application);
    assert_eq!(refs[1].package_id, "Contoso_App_Model");
}

#[test]
fn byte_input_in_windows_encodings() {
    let text = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<sequence version=\"3.10\"><step type=\"t\" name=\"Résumé ✓\"/></sequence>";
    let want = TaskSequence::from_xml(text).unwrap();
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let no_bom_le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf8_bom: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
    for bytes in [
        &utf16le,
        &utf16be,
        &no_bom_le,
        &utf8_bom,
        &text.as_bytes().to_vec(),
    ] {
        assert_eq!(TaskSequence::from_xml_bytes(bytes).unwrap(), want);
    }
    let err = TaskSequence::from_xml_bytes(b"<sequence>\xff</sequence>").unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err}");
    assert!(err.to_string().contains("10"), "{err}");
    let err = TaskSequence::from_xml_bytes(&[0xFF, 0xFE, 0x3C]).unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err}");
    let lone_surrogate = [0xFF, 0xFE, b'<', 0, 0x00, 0xD8, b'>', 0];
    match TaskSequence::from_xml_bytes(&lone_surrogate).unwrap_err() {
        Error::Encoding { encoding, offset } => assert_eq!((encoding, offset), ("UTF-16LE", 4)),
        other => panic!("{other}"),
    }
    assert!(TaskSequence::from_xml("\u{feff}<sequence/>").is_ok());
}

#[test]
fn run_in_table() {
    use tsmedia_tasksequence::Step;
    for (run_in, pe, full) in [
        (None, true, true),
        (Some("WinPE"), true, false),
        (Some("FullOS"), false, true),
        (Some("WinPEandFullOS"), true, true),
        (Some("winpe"), true, false),
    ] {
        let mut s = Step::new("s", "t");
        s.run_in = run_in.map(str::to_string);
        assert_eq!(
            (s.can_run_in(true), s.can_run_in(false)),
            (pe, full),
            "{run_in:?}"
        );
    }
}

/// The error and its causes, as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(&format!(": {c}"));
        cause = c.source();
    }
    out
}
