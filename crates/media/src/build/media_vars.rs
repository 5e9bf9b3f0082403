//! Media variables of a plan (`docs/media.md`, "Media variables"): Configuration Manager's names
//! (`SMSTSMP`/`SMSTSLocationMPs`, `_SMSMediaGuid`, `_SMSTSMediaPFX`, ...) and the custom ones.

use crate::plan::MediaPlan;
use crate::spec::MediaKind;
use crate::variables::Variable;

/// The media variables of a plan (`docs/media.md`, "Media variables").
pub fn media_variables(plan: &MediaPlan) -> Vec<Variable> {
    let spec = &plan.spec;
    let mut v = Vec::new();
    let mps: Vec<String> = plan
        .management_points
        .iter()
        .map(|m| m.url.clone())
        .collect();
    if !mps.is_empty() {
        match spec.mode {
            crate::spec::MpMode::SiteBased => v.push(Variable::new("SMSTSMP", mps[0].clone())),
            crate::spec::MpMode::Dynamic => v.push(Variable::new(
                "SMSTSLocationMPs",
                mps.iter().map(|m| format!("{m}|")).collect::<String>(),
            )),
        }
    }
    v.push(Variable::new("_SMSMediaGuid", plan.media_guid.clone()));
    v.push(Variable::new(
        "_SMSTSBootMediaPackageID",
        plan.boot_image.id.clone(),
    ));
    v.push(Variable::new("_SMSTSSiteCode", plan.site_code.clone()));
    v.push(Variable::new(
        tsmedia_mediafmt::variables::SITE_KEY_VARIABLE,
        plan.site_key.clone(),
    ));
    v.push(Variable::new(
        "_SMSTSMediaPFX",
        tsmedia_base::digest::hex_upper(&plan.certificate.pfx),
    ));
    if !plan.certificate.pfx_password.is_empty() {
        v.push(Variable::new(
            "_TSMediaPFXPassword",
            plan.certificate.pfx_password.clone(),
        ));
    }
    for (arch, guid) in &plan.unknown_guids {
        v.push(Variable::new(
            &format!("_SMSTS{}UnknownMachineGUID", arch.as_str()),
            guid.clone(),
        ));
    }
    v.push(Variable::new(
        "_SMSTSLaunchMode",
        if spec.unattended { "UFD+FORMAT" } else { "SMS" },
    ));
    v.push(Variable::new("_SMSTSMediaType", spec.kind.bootstrap_name()));
    v.push(Variable::new(
        "_SMSTSStandAloneMedia",
        if spec.kind == MediaKind::Standalone {
            "true"
        } else {
            "false"
        },
    ));
    v.push(Variable::new("_SMSTSUDAMode", spec.uda.as_str()));
    if let Some((id, _)) = &plan.task_sequence {
        if spec.kind == MediaKind::Standalone {
            v.push(Variable::new("_SMSTSPackageID", "INMEM_TS"));
            v.push(Variable::new("_SMSTSStandAloneTSID", id.clone()));
        } else {
            v.push(Variable::new("SMSTSPreferredAdvertID", id.clone()));
        }
    }
    if let Some(c) = &spec.prestart_command {
        v.push(Variable::new("_SMSTSPreStartCommand", c.clone()));
    }
    if let Some(p) = &spec.prestart_package {
        v.push(Variable::new("_SMSTSPreStartPackageID", p.clone()));
    }
    if let Some(s) = &spec.start_date {
        v.push(Variable::new("_SMSTSMediaStartDate", s.clone()));
    }
    if let Some(s) = &spec.expiration_date {
        v.push(Variable::new("_SMSTSMediaExpirationDate", s.clone()));
    }
    for (k, val) in &spec.variable {
        v.push(Variable::new(k, val.clone()));
    }
    v
}
