//! Which deployment media run (`docs/media.md`, "At boot" step 6), from the list the
//! management point offers for this computer:
//!
//! 1. the deployment the operator named (`--deployment`), which must be offered;
//! 2. the one `SMSTSPreferredAdvertID` names (the MP offers a hidden deployment only then).
//!    It names a deployment; media made before it did may carry a task sequence's package
//!    ID there, which picks that task sequence's deployment when exactly one is offered;
//! 3. the only one offered;
//! 4. unattended media never choose among several: they stop with the list, as
//!    Configuration Manager's do ("no prompts for choosing among task sequences");
//! 5. otherwise the user chooses (tsmedia PE's console; `client run` stops with the list).

use tsmedia_protocol::api::{DeploymentList, OfferedDeployment};

use crate::error::{Error, Result};

/// What decides the choice besides the list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChoiceRules<'a> {
    /// The deployment the operator named. Default: none.
    pub requested: Option<&'a str>,
    /// `SMSTSPreferredAdvertID`. Default: none.
    pub preferred: Option<&'a str>,
    /// `Unattended=true` in `TsmBootstrap.ini`. Default: no.
    pub unattended: bool,
}

/// The chosen deployment and why it was chosen (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The deployment.
    pub deployment: OfferedDeployment,
    /// Why.
    pub reason: String,
}

fn label(d: &OfferedDeployment) -> String {
    format!("{} ({})", d.id, d.ts_name)
}

/// Chooses a deployment from `list`; `computer` names the computer in errors.
pub fn choose(list: &DeploymentList, rules: &ChoiceRules<'_>, computer: &str) -> Result<Choice> {
    let offered = &list.deployments;
    let labels = || offered.iter().map(label).collect::<Vec<_>>();
    let pick = |d: &OfferedDeployment, reason: String| Choice {
        deployment: d.clone(),
        reason,
    };
    if let Some(id) = rules.requested.map(str::trim).filter(|s| !s.is_empty()) {
        return offered
            .iter()
            .find(|d| d.id.eq_ignore_ascii_case(id))
            .map(|d| pick(d, "named by the operator".into()))
            .ok_or_else(|| Error::DeploymentNotOffered {
                id: id.to_string(),
                offered: labels(),
            });
    }
    if let Some(p) = &list.preferred
        && let Some(d) = offered.iter().find(|d| d.id.eq_ignore_ascii_case(p))
    {
        return Ok(pick(d, "named by SMSTSPreferredAdvertID".into()));
    }
    if let Some(p) = rules.preferred.map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(d) = offered.iter().find(|d| d.id.eq_ignore_ascii_case(p)) {
            return Ok(pick(d, "named by SMSTSPreferredAdvertID".into()));
        }
        let by_ts: Vec<&OfferedDeployment> = offered
            .iter()
            .filter(|d| d.ts_id.eq_ignore_ascii_case(p))
            .collect();
        if let [d] = by_ts.as_slice() {
            return Ok(pick(
                d,
                format!("the only deployment of task sequence {p} (SMSTSPreferredAdvertID)"),
            ));
        }
    }
    match offered.as_slice() {
        [] => Err(Error::NoDeployment(computer.to_string())),
        [only] => Ok(pick(only, "the only deployment offered".into())),
        _ if rules.unattended => Err(Error::UnattendedDeploymentChoice { offered: labels() }),
        _ => Err(Error::DeploymentChoice { offered: labels() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(id: &str, ts: &str, availability: &str) -> OfferedDeployment {
        OfferedDeployment {
            id: id.into(),
            ts_id: ts.into(),
            ts_name: format!("TS {ts}"),
            collection_id: "SMS000US".into(),
            purpose: "available".into(),
            availability: availability.into(),
        }
    }

    fn list(ids: &[(&str, &str)], preferred: Option<&str>) -> DeploymentList {
        DeploymentList {
            deployments: ids
                .iter()
                .map(|(id, ts)| dep(id, ts, "media-pxe"))
                .collect(),
            preferred: preferred.map(str::to_string),
        }
    }

    #[test]
    fn the_rules_in_order() {
        let two = list(&[("D1", "T1"), ("D2", "T2")], None);
        let chosen =
            |l: &DeploymentList, r: ChoiceRules<'_>| choose(l, &r, "PC1").map(|c| c.deployment.id);
        let table: Vec<(&DeploymentList, ChoiceRules<'_>, Option<&str>)> = vec![
            (
                &two,
                ChoiceRules {
                    requested: Some("d2"),
                    ..Default::default()
                },
                Some("D2"),
            ),
            // Unattended media do not pick the first of several.
            (
                &two,
                ChoiceRules {
                    unattended: true,
                    ..Default::default()
                },
                None,
            ),
            (
                &two,
                ChoiceRules {
                    unattended: true,
                    preferred: Some("D2"),
                    ..Default::default()
                },
                Some("D2"),
            ),
            (
                &two,
                ChoiceRules {
                    preferred: Some("T2"),
                    ..Default::default()
                },
                Some("D2"),
            ),
            (&two, ChoiceRules::default(), None),
        ];
        for (l, r, want) in table {
            assert_eq!(chosen(l, r).ok().as_deref(), want, "{r:?}");
        }
        let hidden = list(&[("D1", "T1"), ("D3", "T3")], Some("D3"));
        assert_eq!(chosen(&hidden, ChoiceRules::default()).unwrap(), "D3");
        let one = list(&[("D1", "T1")], None);
        assert_eq!(chosen(&one, ChoiceRules::default()).unwrap(), "D1");
    }

    #[test]
    fn errors_name_what_was_offered() {
        let two = list(&[("D1", "T1"), ("D2", "T2")], None);
        let e = choose(&two, &ChoiceRules::default(), "PC1").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("D1 (TS T1), D2 (TS T2)") && text.contains("--deployment"),
            "{text}"
        );
        let e = choose(
            &two,
            &ChoiceRules {
                requested: Some("D9"),
                ..Default::default()
            },
            "PC1",
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::DeploymentNotOffered { id, .. } if id == "D9"),
            "{e}"
        );
        let none = list(&[], None);
        let e = choose(
            &none,
            &ChoiceRules {
                unattended: true,
                ..Default::default()
            },
            "PC1",
        )
        .unwrap_err();
        assert!(e.to_string().contains("PC1"), "{e}");
    }
}
