//! The fixed task sequence of capture media (`docs/media.md`, "Capture media"): one Capture
//! Operating System Image step. Its settings (`OSDCaptureDestination`, `OSDImageName`,
//! `OSDImageDescription`, `OSDImageVersion`, `OSDImageCreator`, `OSDCaptureCompression`) are
//! not in the sequence: they come from the media's variables (`--variable`), the prestart
//! command, or the runtime's questions at boot.
//!
//! Configuration Manager's capture media run the Image Capture Wizard after the reference
//! computer was prepared in Windows (sysprep, "Prepare for capture"); tsmedia's runtime asks
//! the same questions and captures the chosen volume.

/// The task sequence sealed as `policy.xml` on capture media.
pub const CAPTURE_SEQUENCE: &str = r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_CaptureSystemImageAction" name="Capture Operating System Image" description="Capture the reference computer's volume to a WIM file" runIn="WinPE" successCodeList="0" continueOnError="false">
    <action>osdcapturesystemimage.exe</action>
  </step>
</sequence>
"#;

#[cfg(test)]
mod tests {
    use super::CAPTURE_SEQUENCE;

    #[test]
    fn the_capture_sequence_is_one_capture_step() {
        let ts = tsmedia_tasksequence::TaskSequence::from_xml(CAPTURE_SEQUENCE).unwrap();
        let steps = ts.all_steps();
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].step_type,
            "SMS_TaskSequence_CaptureSystemImageAction"
        );
        assert!(ts.references().is_empty());
    }
}
