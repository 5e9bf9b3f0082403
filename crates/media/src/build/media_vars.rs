//! Media variables of a plan (`docs/media.md`, "Media variables"): Configuration Manager's names
//! (`SMSTSMP`/`SMSTSLocationMPs`, `_SMSMediaGuid`, `_SMSTSMediaPFX`, ...) and the custom ones.

use crate::plan::MediaPlan;
use crate::spec::{MediaKind, MediaSpec, MediaType};
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
    if spec.debug_shell {
        v.push(Variable::new(
            tsmedia_mediafmt::variables::DEBUG_SHELL_VARIABLE,
            "true",
        ));
    }
    v.push(Variable::new("_SMSTSLaunchMode", launch_mode(spec)));
    v.push(Variable::new("_SMSTSMediaType", spec.kind.bootstrap_name()));
    // The name the wizard's documentation uses for the same thing ("_SMSTSMedia = OEMMedia").
    v.push(Variable::new("_SMSTSMedia", spec.kind.bootstrap_name()));
    v.push(Variable::new(
        "_SMSTSStandAloneMedia",
        if spec.kind == MediaKind::Standalone {
            "true"
        } else {
            "false"
        },
    ));
    v.push(Variable::new("_SMSTSUDAMode", spec.uda.as_str()));
    if let Some((id, _)) = &plan.task_sequence
        && spec.kind == MediaKind::Standalone
    {
        v.push(Variable::new("_SMSTSPackageID", "INMEM_TS"));
        v.push(Variable::new("_SMSTSStandAloneTSID", id.clone()));
    }
    if let Some(d) = &plan.preferred_deployment {
        v.push(Variable::new("SMSTSPreferredAdvertID", d.clone()));
    }
    if let Some(i) = plan.os_image_index {
        // What Apply Operating System reads (`/image:<PackageID>,%OSDImageIndex%`).
        v.push(Variable::new("OSDImageIndex", i.to_string()));
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

/// `_SMSTSLaunchMode`: the medium the media start from — `HD` for prestaged media (a hard
/// disk), `UFD` for a USB flash drive (`UFD+FORMAT` when the build formats it), `CD` for a set
/// of 650 MB discs and `DVD` for larger ones.
fn launch_mode(spec: &MediaSpec) -> &'static str {
    match (spec.kind, spec.media_type) {
        (MediaKind::Prestaged, _) => "HD",
        (_, MediaType::Usb) if spec.format => "UFD+FORMAT",
        (_, MediaType::Usb) => "UFD",
        (_, MediaType::CdDvd) => match spec.disc_size() {
            Ok(Some(size)) if size <= CD_MAX => "CD",
            _ => "DVD",
        },
    }
}

/// The largest CD (80 minutes, 700 MB); a larger disc size is a DVD.
const CD_MAX: u64 = 737_280_000;
