//! What the management point answers, as functions over the site (no HTTP here): MP location
//! by boundaries, identity, deployments for media, policy and content location
//! (`docs/media.md`, "At boot" steps 4–8 and "The site side"; `docs/protocol.md`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use tsmedia_site::{Arch, Availability, Cidr, Site};

use crate::error::ApiError;
use tsmedia_protocol::api::{
    ContentLocation, ContentLocations, DeploymentList, DeploymentsRequest, Identity,
    IdentityRequest, MpEntry, MpLocation, OfferedDeployment, Policy, PolicyReference,
    PolicyRequest, Variable,
};

/// The management points serving `ip`: those with a boundary containing it (most specific
/// boundary first), then those serving every client (no boundaries), each group by name.
pub fn locate(site: &Site, ip: IpAddr) -> Result<MpLocation, ApiError> {
    let mut matched: Vec<(u8, MpEntry)> = Vec::new();
    let mut everyone: Vec<MpEntry> = Vec::new();
    for mp in site.management_points()? {
        let entry = MpEntry {
            name: mp.id.clone(),
            url: mp.url.clone(),
        };
        if mp.boundaries.is_empty() {
            everyone.push(entry);
            continue;
        }
        let best = mp
            .boundaries
            .iter()
            .filter_map(|b| Cidr::parse(b).ok())
            .filter(|c| c.contains(ip))
            .map(|c| prefix_len(&c))
            .max();
        if let Some(prefix) = best {
            matched.push((prefix, entry));
        }
    }
    matched.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let management_points: Vec<MpEntry> = matched
        .into_iter()
        .map(|(_, e)| e)
        .chain(everyone)
        .collect();
    if management_points.is_empty() {
        return Err(ApiError::not_found(
            "no_management_point",
            format!("no management point serves {ip}"),
        ));
    }
    Ok(MpLocation {
        site_code: site.code().to_string(),
        client_ip: ip.to_string(),
        management_points,
    })
}

fn prefix_len(cidr: &Cidr) -> u8 {
    cidr.to_string()
        .rsplit_once('/')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0)
}

/// The computer record for this machine: a known computer by SMBIOS GUID, else by any of its
/// MACs; else the Unknown Computer record of its architecture if the media may run unknown
/// computers. `media_allow_unknown` is the site's record for the media certificate that signed
/// the request (made when the media were built); the request's own `allow_unknown` is not
/// trusted, since media could claim anything.
pub fn identify(
    site: &Site,
    req: &IdentityRequest,
    media_allow_unknown: bool,
) -> Result<Identity, ApiError> {
    let arch: Arch = req.arch.parse()?;
    let mut found = site.find_computer(req.smbios_guid.as_deref(), None)?;
    for mac in &req.macs {
        if found.is_some() {
            break;
        }
        found = site.find_computer(None, Some(mac))?;
    }
    let (computer, unknown) = match found {
        Some(c) => (c, false),
        None if media_allow_unknown => (site.unknown_computer(arch)?, true),
        None => {
            return Err(ApiError::forbidden(
                "unknown_computer",
                "this computer is not known to the site, and the media do not allow unknown \
                 computers (the site's record of them, made when they were built)",
            ));
        }
    };
    Ok(Identity {
        resource_id: computer.id,
        name: computer.name,
        sms_guid: computer.sms_guid,
        unknown,
        // Issued by the route, which knows the media that asked.
        token: String::new(),
    })
}

/// Deployments media may offer this computer: every deployment to one of its collections made
/// available to media and PXE, except hidden ones unless `SMSTSPreferredAdvertID` names them.
pub fn deployments(site: &Site, req: &DeploymentsRequest) -> Result<DeploymentList, ApiError> {
    let preferred = req
        .preferred_advert_id
        .as_deref()
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty());
    let offered: Vec<OfferedDeployment> = site
        .deployments_for_media(Some(resource(site, req.resource_id)?))?
        .into_iter()
        .filter(|d| !d.availability.hidden() || preferred.as_deref() == Some(d.id.as_str()))
        .map(|d| OfferedDeployment {
            id: d.id,
            ts_id: d.ts_id,
            ts_name: d.ts_name,
            collection_id: d.collection_id,
            purpose: d.purpose.as_str().to_string(),
            availability: d.availability.as_str().to_string(),
        })
        .collect();
    let preferred = preferred.filter(|p| offered.iter().any(|d| &d.id == p));
    Ok(DeploymentList {
        deployments: offered,
        preferred,
    })
}

/// Checks that the resource exists.
fn resource(site: &Site, resource_id: i64) -> Result<i64, ApiError> {
    site.computer(&resource_id.to_string())?;
    Ok(resource_id)
}

/// The policy of a deployment for a computer it targets: the task sequence, the variables of
/// the computer's collections and the content versions it needs.
pub fn policy(site: &Site, req: &PolicyRequest) -> Result<Policy, ApiError> {
    let resource_id = resource(site, req.resource_id)?;
    let deployment = site.deployment(&req.deployment_id)?;
    if !deployment.availability.available_to_media() {
        return Err(ApiError::forbidden(
            "not_available_to_media",
            format!(
                "deployment {} is available to {} only",
                deployment.id,
                Availability::Clients
            ),
        ));
    }
    let collections = site.collections_of(resource_id)?;
    if !collections.contains(&deployment.collection_id) {
        return Err(ApiError::forbidden(
            "not_targeted",
            format!(
                "deployment {} does not target resource {resource_id}",
                deployment.id
            ),
        ));
    }
    let mut variables = BTreeMap::new();
    for id in &collections {
        for v in site.collection(id)?.variables {
            variables.insert(v.name, v.value);
        }
    }
    let references = site
        .task_sequence_references(&deployment.ts_id)?
        .into_iter()
        .filter_map(|r| {
            r.content_id.map(|content_id| PolicyReference {
                package_id: r.package_id,
                content_id,
            })
        })
        .collect();
    Ok(Policy {
        deployment_id: deployment.id,
        ts_id: deployment.ts_id.clone(),
        ts_name: deployment.ts_name,
        sequence_xml: site.task_sequence_source_xml(&deployment.ts_id)?,
        variables: variables
            .into_iter()
            .map(|(name, value)| Variable {
                name,
                value,
                // Marked and sealed by the route, which has the runtime's key.
                secret: false,
            })
            .collect(),
        references,
        sealed_by: None,
        software: site.software_policy(&deployment.ts_id)?,
    })
}

/// The distribution points holding a content version. An unknown content ID is a 404; known
/// content on no DP is an empty list.
pub fn content_locations(site: &Site, content_id: &str) -> Result<ContentLocations, ApiError> {
    let version = site.content_version(content_id)?;
    let locations = site
        .dps_holding(&version.content_id)?
        .into_iter()
        .map(|dp| {
            site.distribution_point(&dp).map(|d| ContentLocation {
                dp: d.id,
                url: d.url,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ContentLocations {
        content_id: version.content_id,
        locations,
        // Filled by the route from the manifest cache it shares with the DP.
        files: Vec::new(),
    })
}
