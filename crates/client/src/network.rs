//! The conversation of bootable and prestaged media with the site (`docs/media.md`, "At boot"
//! steps 4–8): sign with the media certificate, find the management point, identify the
//! computer, choose a deployment, get its policy, then take content from the staged media
//! or the cache when its version and hashes match and from a distribution point otherwise.
//!
//! Every request is signed with the media certificate: `_SMSTSMediaPFX` (the PFX,
//! hex-encoded) opened with `_TSMediaPFXPassword` (empty for self-signed media
//! certificates). Every answer of a management point must be signed with the site key the
//! media carry (`_TSMediaSiteSigningKey`, inside the sealed `Variables.dat`): whoever answers
//! at a management point's address without it is refused, and nothing it said is used. The
//! content hashes downloads are checked against come from the signed content-location answer.
//! Requests to distribution points are signed too: the DP reads them as the principal the
//! site recorded for the media certificate when the media were built (`Everyone` unless the
//! media were built for another); [`crate::RunOptions::principal`] only adds a claim the DP
//! checks against that record.

use std::sync::Arc;

use tsmedia_protocol::api::{DeploymentsRequest, Identity, IdentityRequest, Policy, PolicyRequest};
use tsmedia_protocol::client::{ClientOptions, SiteClient};
use tsmedia_protocol::signing::RequestSigner;
use tsmedia_tasksequence::{LogRecord, LogSink, Severity, Variables};

use crate::content::{FirstAvailable, PinnedVersions, StagedContent};
use crate::deployment::{self, Choice, ChoiceRules};
use crate::dp_content::{DistributionPointContent, split_content_id};
use crate::error::{Error, Result};
use crate::identity::{self, MachineIdentity};
use crate::mp::{self, ManagementPoints, MpSetting};
use crate::run::RunOptions;

/// What the site said for this computer.
#[derive(Debug, Clone)]
pub struct SitePolicy {
    /// The client, signing with the media certificate.
    pub client: SiteClient,
    /// The management points, the one that answered first.
    pub mps: ManagementPoints,
    /// The computer's identifiers.
    pub machine: MachineIdentity,
    /// The record the site uses for it.
    pub identity: Identity,
    /// The deployment run, and why.
    pub choice: Choice,
    /// Its policy.
    pub policy: Policy,
}

fn log_line(log: &mut dyn LogSink, severity: Severity, message: String) {
    log.log(LogRecord {
        severity,
        component: "TSMBootstrap".into(),
        message,
    });
}

/// A request signer from the media variables `_SMSTSMediaPFX` / `_TSMediaPFXPassword`.
pub fn media_signer(env: &Variables) -> Result<RequestSigner> {
    let hex_pfx = env
        .get("_SMSTSMediaPFX")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::MediaCertificate("the media carry no _SMSTSMediaPFX".into()))?;
    let pfx = hex::decode(hex_pfx)
        .map_err(|e| Error::MediaCertificate(format!("_SMSTSMediaPFX is not hex: {e}")))?;
    let password = env.get("_TSMediaPFXPassword").unwrap_or("");
    let (cert, key) = tsmedia_mediafmt::certificate::open_pfx(&pfx, password)
        .map_err(|e| Error::MediaCertificate(e.to_string()))?;
    RequestSigner::new(&cert, &key).map_err(|e| Error::MediaCertificate(e.to_string()))
}

/// The site's reply-signing key from the media variable `_TSMediaSiteSigningKey`.
pub fn media_site_key(env: &Variables) -> Result<[u8; 32]> {
    let text = env
        .get(tsmedia_mediafmt::variables::SITE_KEY_VARIABLE)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::Media(format!(
                "the media carry no site signing key ({}), so no management point answer can be trusted; rebuild the media with this tsmedia",
                tsmedia_mediafmt::variables::SITE_KEY_VARIABLE
            ))
        })?;
    Ok(tsmedia_mediafmt::variables::parse_site_key(text)?)
}

/// Talks to the site for the media whose variables are `env`: management point, identity,
/// deployment, policy. `media_type` names the media in errors; `unattended` is the media's
/// `Unattended=` setting.
pub fn connect(
    options: &RunOptions,
    media_type: &str,
    env: &Variables,
    unattended: bool,
    log: &mut dyn LogSink,
) -> Result<SitePolicy> {
    let setting = MpSetting::from_variables(env)
        .ok_or_else(|| Error::NeedsManagementPoint(media_type.to_string()))?;
    let signer = media_signer(env)?;
    let site_key = media_site_key(env)?;
    log_line(
        log,
        Severity::Info,
        format!(
            "Signing requests with the media certificate {}",
            signer.thumbprint()
        ),
    );
    let client = SiteClient::new(ClientOptions {
        signer: Some(Arc::new(signer)),
        principal: options.principal.clone(),
        root_certs: options.root_certs.clone(),
        cancel: options.cancel.clone(),
        site_key: Some(site_key),
        ..ClientOptions::default()
    })
    .map_err(|e| Error::Site {
        what: "setting up the site client".into(),
        error: e,
    })?;
    let mut mps = mp::locate(&client, &setting, options.client_ip)?;
    log_line(log, Severity::Info, mps.how.clone());

    let machine = identity::machine_identity(
        options.smbios_guid.as_deref(),
        &options.macs,
        options.arch.as_deref(),
        std::path::Path::new("/sys"),
    );
    let unknown_guid = identity::unknown_machine_guid(env, &machine.arch).map(str::to_string);
    log_line(
        log,
        Severity::Info,
        format!(
            "This computer: {}; the media {} unknown {} computers",
            machine.describe(),
            if unknown_guid.is_some() {
                "allow"
            } else {
                "do not allow"
            },
            machine.arch
        ),
    );
    if machine.smbios_guid.is_none() && machine.macs.is_empty() && unknown_guid.is_none() {
        return Err(Error::NoIdentity(
            "this computer has no readable SMBIOS GUID and no MAC address, and the media do not allow unknown computers; give --smbios-guid or --mac".into(),
        ));
    }
    let req = IdentityRequest {
        smbios_guid: machine.smbios_guid.clone(),
        macs: machine.macs.clone(),
        arch: machine.arch.clone(),
        allow_unknown: unknown_guid.is_some(),
    };
    let (mp, identity) = mps.call(&format!("identity of {}", machine.describe()), |mp| {
        client.identity(mp, &req)
    })?;
    // Later requests go to the MP that answered first.
    mps.candidates.retain(|c| *c != mp);
    mps.candidates.insert(0, mp.clone());
    log_line(
        log,
        Severity::Info,
        format!(
            "{mp} identified this computer as {} (resource {}{})",
            identity.name,
            identity.resource_id,
            if identity.unknown {
                ", an Unknown Computer record"
            } else {
                ""
            }
        ),
    );
    if identity.unknown
        && let Some(g) = &unknown_guid
        && !g.eq_ignore_ascii_case(&identity.sms_guid)
    {
        log_line(
            log,
            Severity::Warning,
            format!(
                "the site's {} has GUID {}, the media were made for {g}",
                identity.name, identity.sms_guid
            ),
        );
    }

    let preferred = env
        .get("SMSTSPreferredAdvertID")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let dreq = DeploymentsRequest {
        resource_id: identity.resource_id,
        identity_token: identity.token.clone(),
        preferred_advert_id: options.deployment.clone().or_else(|| preferred.clone()),
    };
    let (_, list) = mps.call("deployments", |mp| client.deployments(mp, &dreq))?;
    let choice = deployment::choose(
        &list,
        &ChoiceRules {
            requested: options.deployment.as_deref(),
            preferred: preferred.as_deref(),
            unattended,
        },
        &identity.name,
    )?;
    log_line(
        log,
        Severity::Info,
        format!(
            "Deployment {} of task sequence {} ({}): {}",
            choice.deployment.id, choice.deployment.ts_id, choice.deployment.ts_name, choice.reason
        ),
    );
    let preq = PolicyRequest {
        deployment_id: choice.deployment.id.clone(),
        resource_id: identity.resource_id,
        identity_token: identity.token.clone(),
        // Made fresh by the client for each request (secret variables are sealed to it).
        recipient_key: None,
    };
    let (_, policy) = mps.call(
        &format!("policy of deployment {}", choice.deployment.id),
        |mp| client.policy(mp, &preq),
    )?;
    log_line(
        log,
        Severity::Info,
        format!(
            "Policy of {}: {} collection variables ({} secret, sealed to this runtime), content {}",
            policy.deployment_id,
            policy.variables.len(),
            policy.variables.iter().filter(|v| v.secret).count(),
            policy
                .references
                .iter()
                .map(|r| r.content_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    Ok(SitePolicy {
        client,
        mps,
        machine,
        identity,
        choice,
        policy,
    })
}

impl SitePolicy {
    /// Puts the policy into the environment: the collection variables (read-only names are
    /// refused and logged), `_SMSTSPackageID`, `_SMSTSPackageName`, `_SMSTSAdvertID`,
    /// `_SMSTSMP`.
    pub fn apply(&self, env: &mut Variables, log: &mut dyn LogSink) -> Result<()> {
        for v in &self.policy.variables {
            if let Err(e) = env.set(&v.name, v.value.as_str()) {
                log_line(
                    log,
                    Severity::Warning,
                    format!("collection variable {:?} not set: {e}", v.name),
                );
            }
        }
        let builtins = [
            ("_SMSTSPackageID", self.policy.ts_id.as_str()),
            ("_SMSTSPackageName", self.policy.ts_name.as_str()),
            ("_SMSTSAdvertID", self.policy.deployment_id.as_str()),
            ("_SMSTSMP", self.mps.candidates[0].as_str()),
        ];
        for (name, value) in builtins {
            env.set_builtin(name, value)
                .map_err(|e| Error::Policy(format!("{name}: {e}")))?;
        }
        Ok(())
    }

    /// Content for the task sequence: staged media or cache when version and hashes match,
    /// else a distribution point (into `cache`); steps asking for a package get the version
    /// the policy names.
    pub fn content(
        &self,
        staged: StagedContent,
        cache: std::path::PathBuf,
    ) -> PinnedVersions<FirstAvailable> {
        let ids: Vec<String> = self
            .policy
            .references
            .iter()
            .map(|r| r.content_id.clone())
            .collect();
        let versions: Vec<(String, u32)> = ids
            .iter()
            .filter_map(|c| split_content_id(c))
            .map(|(id, v)| (id.to_string(), v))
            .collect();
        let dp = DistributionPointContent::new(self.client.clone(), self.mps.clone(), cache, &ids);
        PinnedVersions::new(
            versions,
            FirstAvailable::new(vec![Box::new(staged), Box::new(dp)]),
        )
    }
}
