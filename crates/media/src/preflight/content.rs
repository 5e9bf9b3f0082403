//! The task sequence and its content: the task sequence exists and has a deployment available
//! to media; every package it references (and the chosen extras and dependencies) exists, its
//! current version is on one of the chosen distribution points, and the user may read it there.

use tsmedia_site::{Package, Site, StoredTaskSequence};

use super::Checker;
use crate::error::Result;
use crate::plan::ContentItem;
use crate::spec::{MediaKind, MediaSpec};

/// The task sequence named by `--ts`, checked for a deployment available to media; with the
/// IDs of its deployments available to media.
pub(super) fn task_sequence(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
) -> Result<(Option<StoredTaskSequence>, Vec<String>)> {
    let ts = match &spec.ts {
        Some(id) => match site.task_sequence(id) {
            Ok(ts) => ts,
            Err(e) => {
                c.fail_site(
                    format!("task sequence {id}"),
                    &e,
                    "give the ID of an imported task sequence (`tsmedia ts list`)",
                );
                return Ok((None, Vec::new()));
            }
        },
        None => {
            if matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged) {
                c.fail(
                    "--ts",
                    format!("{} media need a task sequence", spec.kind),
                    "add --ts ID",
                );
            }
            return Ok((None, Vec::new()));
        }
    };
    let deployments: Vec<String> = site
        .deployments_for_media(None)?
        .into_iter()
        .filter(|d| d.ts_id == ts.id)
        .map(|d| d.id)
        .collect();
    if !deployments.is_empty() || spec.kind == MediaKind::Standalone {
        c.pass(format!(
            "task sequence {} has a deployment available to media",
            ts.id
        ));
    } else {
        // A runnable command: the first collection of the site's own, if it has one.
        let collection = site
            .collections()?
            .into_iter()
            .find(|c| !c.builtin)
            .map_or_else(|| "COLLECTION".to_string(), |c| c.id);
        c.fail(
            format!("task sequence {} ({})", ts.id, ts.name),
            "has no deployment available to media and PXE",
            format!(
                "deploy it to a collection with availability clients-media-pxe or media-pxe: `tsmedia deploy {} --collection {collection} --availability media-pxe`",
                ts.id
            ),
        );
    }
    Ok((Some(ts), deployments))
}

/// The packages the media carry, each checked on the chosen DPs. `boot` is the boot image
/// package (checked on the DPs, never carried as content).
pub(super) fn content(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    ts: Option<&StoredTaskSequence>,
    boot: Option<&Package>,
) -> Result<Vec<ContentItem>> {
    let mut wanted: Vec<String> = Vec::new();
    if let Some(ts) = ts
        && matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged)
    {
        for r in site.task_sequence_references(&ts.id)? {
            if r.only_disabled || Some(&r.package_id) == boot.map(|b| &b.id) {
                continue;
            }
            if !r.resolved {
                c.fail(
                    format!("package {} (step {})", r.package_id, r.steps.join(", ")),
                    format!("referenced by task sequence {} but not in the site", ts.id),
                    "add the package to the site or fix the step",
                );
                continue;
            }
            wanted.push(r.package_id);
        }
    }
    if spec.kind == MediaKind::Prestaged {
        wanted.extend(spec.os_image.iter().cloned());
    }
    // Prestaged media stage the chosen extras; stand-alone media carry them with the task
    // sequence's content (other media types refuse them, `applicable`).
    if matches!(spec.kind, MediaKind::Prestaged | MediaKind::Standalone) {
        wanted.extend(spec.application.iter().cloned());
        wanted.extend(spec.package.iter().cloned());
        wanted.extend(spec.driver_package.iter().cloned());
    }
    wanted.extend(spec.prestart_package.iter().cloned());
    if spec.include_dependencies {
        let mut i = 0;
        while i < wanted.len() {
            if let Ok(p) = site.package(&wanted[i]) {
                for d in p.depends {
                    if !wanted.contains(&d) {
                        wanted.push(d);
                    }
                }
            }
            i += 1;
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    wanted.retain(|w| seen.insert(w.to_ascii_uppercase()));
    let mut content = Vec::new();
    let mut on_dp: Vec<Package> = boot.into_iter().cloned().collect();
    for id in &wanted {
        match site.package(id) {
            Ok(p) => {
                let files = site.content_files(&p.content_id)?;
                let version = site.content_version(&p.content_id)?.version;
                on_dp.push(p.clone());
                if spec.kind == MediaKind::Bootable
                    && spec.prestart_package.as_deref() != Some(id.as_str())
                {
                    continue;
                }
                content.push(ContentItem {
                    package: p,
                    version,
                    files,
                });
            }
            Err(e) => c.fail_site(format!("package {id}"), &e, "give the ID of a site package"),
        }
    }
    distribution(c, site, spec, &on_dp)?;
    Ok(content)
}

/// Each package's current content version is on a chosen DP readable by the user.
fn distribution(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    packages: &[Package],
) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if spec.dp.is_empty() {
        c.fail(
            "--dp",
            "no distribution point chosen",
            "add --dp NAME (a DP holding the content)",
        );
        return Ok(());
    }
    let principal = spec.user.clone().unwrap_or_else(|| "Everyone".into());
    let mut dps = Vec::new();
    for name in &spec.dp {
        match site.distribution_point(name) {
            Ok(d) => dps.push(d),
            Err(e) => c.fail_site(
                format!("distribution point {name}"),
                &e,
                "give a site DP (`tsmedia dp list`)",
            ),
        }
    }
    // With none of the chosen DPs at the site, that is the failure to fix first; a command to
    // distribute to a DP that does not exist would not work.
    let Some(first_dp) = dps.first().map(|d| d.id.clone()) else {
        return Ok(());
    };
    for p in packages {
        let holding: Vec<&str> = dps
            .iter()
            .filter(|d| d.content.iter().any(|x| x.content_id == p.content_id))
            .map(|d| d.id.as_str())
            .collect();
        if holding.is_empty() {
            c.fail(
                format!("package {} ({}) content {}", p.id, p.name, p.content_id),
                format!(
                    "its current version is on none of the chosen DPs ({})",
                    spec.dp.join(", ")
                ),
                format!(
                    "distribute it: `tsmedia content distribute {} --dp {}`",
                    p.id,
                    super::shell_word(&first_dp)
                ),
            );
            continue;
        }
        let mut readable = false;
        for dp in &holding {
            readable |= site.has_dp_read_access(dp, &principal)?;
        }
        if readable {
            c.pass(format!(
                "package {} content {} on DP {}",
                p.id, p.content_id, holding[0]
            ));
        } else {
            c.fail(
                format!("package {} on DP {}", p.id, holding.join(", ")),
                format!("{principal} may not read it there"),
                format!(
                    "grant read access: `tsmedia dp grant {} --principal {}`",
                    super::shell_word(holding[0]),
                    super::shell_word(&principal)
                ),
            );
        }
    }
    Ok(())
}

/// Stand-alone media: the programs and deployment types of the content they carry, sealed
/// with the policy. Every program a step names must exist, and every application must have
/// a deployment type: the media cannot ask the site later.
pub(super) fn software(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    ts: Option<&StoredTaskSequence>,
    content: &[ContentItem],
) -> Result<Option<tsmedia_mediafmt::software::SoftwarePolicy>> {
    if spec.kind != MediaKind::Standalone {
        return Ok(None);
    }
    if let Some(ts) = ts {
        for m in site.missing_software(&ts.id)? {
            let step = if m.step.is_empty() {
                "its reference list".to_string()
            } else {
                format!("step {:?}", m.step)
            };
            match &m.program {
                Some(program) => c.fail(
                    format!("program {program:?} of package {}", m.package_id),
                    format!("named by {step} of task sequence {}, but the package has no such program", ts.id),
                    format!(
                        "`tsmedia package program add {} --name {} --command CMDLINE`",
                        m.package_id,
                        super::shell_word(program)
                    ),
                ),
                None => c.fail(
                    format!("application {}", m.package_id),
                    format!("installed by {step} of task sequence {}, but it has no deployment type", ts.id),
                    format!(
                        "`tsmedia package deployment-type add {} --name NAME --install CMDLINE --detect-file PATH`",
                        m.package_id
                    ),
                ),
            }
        }
    }
    let ids: Vec<String> = content.iter().map(|i| i.package.id.clone()).collect();
    Ok(Some(site.software_policy_of(&ids)?))
}
