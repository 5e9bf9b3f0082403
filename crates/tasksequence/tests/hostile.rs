//! Hostile input: errors, never panics.

use tsmedia_tasksequence::TaskSequence;

#[test]
fn deep_nesting_is_refused_or_handled() {
    for depth in [100usize, 1_000, 100_000] {
        let xml = format!(
            "<sequence>{}{}</sequence>",
            "<group name=\"g\">".repeat(depth),
            "</group>".repeat(depth)
        );
        match TaskSequence::from_xml(&xml) {
            Ok(ts) => {
                let again = TaskSequence::from_xml(&ts.to_xml()).unwrap();
                assert_eq!(ts, again);
                assert!(ts.render_tree().lines().count() > depth);
            }
            Err(e) => {
                assert!(depth > 100, "depth {depth}: {e}");
                assert!(e.to_string().contains("nested more than"), "{e}");
            }
        }
        let cond = format!(
            "<sequence><step name=\"s\" type=\"t\"><condition>{}{}</condition></step></sequence>",
            "<operator type=\"not\">".repeat(depth),
            "</operator>".repeat(depth)
        );
        if let Ok(ts) = TaskSequence::from_xml(&cond) {
            assert_eq!(ts, TaskSequence::from_xml(&ts.to_xml()).unwrap());
        }
    }
}

#[test]
fn garbage_is_an_error() {
    for xml in [
        "",
        "not xml",
        "<sequence>",
        "<sequence><step/></sequence>",
        "<sequence><group/></sequence>",
        "<sequence>text</sequence>",
        "<sequence><globalVarList><x/></globalVarList></sequence>",
        "<sequence><globalVarList><variable>v</variable></globalVarList></sequence>",
        "<sequence><step name=\"a\" type=\"b\"><condition><bogus/></condition></step></sequence>",
        "<sequence><step name=\"a\" type=\"b\"><condition><operator/></condition></step></sequence>",
        "<sequence><step name=\"a\" type=\"b\"><condition><expression/></condition></step></sequence>",
        "<sequence><referenceList><ref/></referenceList></sequence>",
        "<!DOCTYPE x [<!ENTITY a \"b\">]><sequence/>",
        "<sequence><step name=\"a\" type=\"b\" continueOnError=\"perhaps\"/></sequence>",
        "<sequence><step name=\"a\" type=\"b\"><defaultVarList><variable name=\"v\"><x/></variable></defaultVarList></step></sequence>",
    ] {
        assert!(TaskSequence::from_xml(xml).is_err(), "{xml}");
    }
}
