//! Finding the management point (`docs/media.md`, "What the wizard asks" item 2, "At boot" step 4).
//!
//! - Site-based media carry `SMSTSMP`: that management point and no other.
//! - Dynamic media carry `SMSTSLocationMPs`, management points in priority order
//!   (`http://mp1|http://mp2|`). The first that answers an MP location request tells the
//!   client which management points serve its address (site boundaries); the client uses
//!   those, best first, and the one that answered last.
//!
//! [`ManagementPoints::call`] runs a request against the candidates in order, passing over
//! the ones that are down or fail on their side, and names every one tried when none
//! answers. A refusal (4xx) ends the search: every MP of a site would say the same.

use std::net::IpAddr;

use tsmedia_protocol::client::{ClientError, SiteClient};
use tsmedia_tasksequence::Variables;

use crate::error::{Error, Result};

/// How the media find their management point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpSetting {
    /// `SMSTSMP`: this management point only.
    SiteBased(String),
    /// `SMSTSLocationMPs`: ask these, in priority order, for the MP location.
    Dynamic(Vec<String>),
}

impl MpSetting {
    /// Reads `SMSTSMP` / `SMSTSLocationMPs`; `None` when the media carry neither.
    pub fn from_variables(env: &Variables) -> Option<MpSetting> {
        if let Some(mp) = env.get("SMSTSMP").map(str::trim).filter(|m| !m.is_empty()) {
            return Some(MpSetting::SiteBased(mp.to_string()));
        }
        let list = parse_location_mps(env.get("SMSTSLocationMPs")?);
        (!list.is_empty()).then_some(MpSetting::Dynamic(list))
    }
}

/// `http://mp1|http://mp2|` → the URLs, in order, without blanks or repeats.
pub fn parse_location_mps(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for mp in value
        .split(['|', ';'])
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        let mp = mp.trim_end_matches('/').to_string();
        if !out.contains(&mp) {
            out.push(mp);
        }
    }
    out
}

/// The management points to talk to, best first, and how they were found (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementPoints {
    /// Base URLs, best first.
    pub candidates: Vec<String>,
    /// The site code the location answer named, if one was asked.
    pub site_code: Option<String>,
    /// One line for the log.
    pub how: String,
}

/// Finds the management points for this client. `ip` is the address to locate (default:
/// the address the MP sees).
pub fn locate(
    client: &SiteClient,
    setting: &MpSetting,
    ip: Option<IpAddr>,
) -> Result<ManagementPoints> {
    match setting {
        MpSetting::SiteBased(mp) => Ok(ManagementPoints {
            candidates: vec![mp.trim_end_matches('/').to_string()],
            site_code: None,
            how: format!("site-based media: management point {mp} (SMSTSMP)"),
        }),
        MpSetting::Dynamic(list) => {
            let (answered, location) = client.locate_mp(list, ip).map_err(|e| match e {
                ClientError::NoManagementPoint(tried) => Error::NoManagementPoint { tried },
                other => Error::Site {
                    what: "MP location".into(),
                    error: other,
                },
            })?;
            let mut candidates: Vec<String> = Vec::new();
            for m in &location.management_points {
                let url = m.url.trim_end_matches('/').to_string();
                if !candidates.contains(&url) {
                    candidates.push(url);
                }
            }
            if !candidates.contains(&answered) {
                candidates.push(answered.clone());
            }
            let names: Vec<String> = location
                .management_points
                .iter()
                .map(|m| format!("{} ({})", m.name, m.url))
                .collect();
            Ok(ManagementPoints {
                how: format!(
                    "dynamic media: {answered} answered the MP location request for {} (site {}): {}",
                    location.client_ip,
                    location.site_code,
                    names.join(", ")
                ),
                site_code: Some(location.site_code),
                candidates,
            })
        }
    }
}

impl ManagementPoints {
    /// Runs `request` against the candidates in order until one answers; unreachable ones
    /// and server errors pass to the next, a refusal stops. Returns the MP that answered.
    pub fn call<T>(
        &self,
        what: &str,
        mut request: impl FnMut(&str) -> std::result::Result<T, ClientError>,
    ) -> Result<(String, T)> {
        let mut tried = Vec::new();
        for mp in &self.candidates {
            match request(mp) {
                Ok(v) => return Ok((mp.clone(), v)),
                Err(e) if e.is_server_side() => tried.push(format!("{mp}: {e}")),
                Err(e) => {
                    return Err(Error::Site {
                        what: format!("{what} at {mp}"),
                        error: e,
                    });
                }
            }
        }
        Err(Error::NoManagementPoint { tried })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_settings() {
        let mut env = Variables::new();
        assert_eq!(MpSetting::from_variables(&env), None);
        env.set(
            "SMSTSLocationMPs",
            "http://mp1:80/|http://mp2| http://mp1:80 |",
        )
        .unwrap();
        assert_eq!(
            MpSetting::from_variables(&env),
            Some(MpSetting::Dynamic(vec![
                "http://mp1:80".into(),
                "http://mp2".into()
            ]))
        );
        env.set("SMSTSMP", "https://mp.contoso.com").unwrap();
        assert_eq!(
            MpSetting::from_variables(&env),
            Some(MpSetting::SiteBased("https://mp.contoso.com".into()))
        );
        assert!(parse_location_mps(" | ;").is_empty());
    }

    #[test]
    fn call_falls_over_server_side_failures_and_stops_at_refusals() {
        let mps = ManagementPoints {
            candidates: vec!["http://a".into(), "http://b".into(), "http://c".into()],
            site_code: None,
            how: String::new(),
        };
        let down = |url: &str| ClientError::Unreachable {
            url: url.into(),
            reason: "connection refused".into(),
        };
        let (mp, v) = mps
            .call("identity", |mp| {
                if mp == "http://c" {
                    Ok(7)
                } else {
                    Err(down(mp))
                }
            })
            .unwrap();
        assert_eq!((mp.as_str(), v), ("http://c", 7));
        match mps.call::<()>("identity", |mp| Err(down(mp))) {
            Err(Error::NoManagementPoint { tried }) => {
                assert_eq!(tried.len(), 3);
                assert!(tried[1].starts_with("http://b: "), "{tried:?}");
            }
            other => panic!("{other:?}"),
        }
        let refused = mps.call::<()>("identity", |mp| {
            Err(ClientError::Refused {
                url: mp.into(),
                status: 403,
                code: "certificate_blocked".into(),
                message: "blocked".into(),
            })
        });
        match refused {
            Err(e @ Error::Site { .. }) => {
                assert!(e.to_string().contains("identity at http://a"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
