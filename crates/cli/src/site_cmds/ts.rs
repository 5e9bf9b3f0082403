//! `tsmedia ts` and `tsmedia deploy`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tsmedia_site::{Availability, Deployment, Purpose, Site};

use super::{or_dash, print_created, print_json, print_table};

#[derive(Subcommand)]
pub enum TsCmd {
    /// Import a Configuration Manager or MDT `<sequence>` XML file; prints the new ID and lists
    /// referenced packages the site does not have
    Import {
        file: PathBuf,
        /// Name (default: the file name without extension)
        #[arg(long)]
        name: Option<String>,
        /// Boot image package the task sequence uses
        #[arg(long)]
        boot_image: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List task sequences
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the step tree as the console's editor does (--json: the full model)
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Write the task sequence as `<sequence>` XML
    Export {
        id: String,
        /// Output file (default: standard output)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the content the task sequence needs, resolved to site packages
    References {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DeployArgs {
    #[command(subcommand)]
    look: Option<DeployLook>,
    /// Task sequence to deploy
    #[arg(required = true)]
    ts_id: Option<String>,
    /// Target collection (name or ID)
    #[arg(long, required = true)]
    collection: Option<String>,
    /// clients, clients-media-pxe, media-pxe or media-pxe-hidden
    #[arg(long, required = true)]
    availability: Option<Availability>,
    /// available or required
    #[arg(long, default_value = "available")]
    purpose: Purpose,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum DeployLook {
    /// List deployments
    List {
        /// Only those media and PXE may run
        #[arg(long)]
        media: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a deployment
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The text of a task sequence file, decoded as the task sequence library decodes it (UTF-8
/// or UTF-16 LE/BE, with or without a byte order mark).
fn read_xml(file: &PathBuf) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    tsmedia_tasksequence::decode_text(&bytes).with_context(|| format!("reading {}", file.display()))
}

pub fn run_ts(site: &mut Site, cmd: TsCmd) -> Result<()> {
    match cmd {
        TsCmd::Import {
            file,
            name,
            boot_image,
            json,
        } => {
            let xml = read_xml(&file)?;
            let name = match name {
                Some(n) => n,
                None => file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(str::to_string)
                    .with_context(|| format!("{}: give --name", file.display()))?,
            };
            let imported = site
                .import_task_sequence(&xml, &name, boot_image.as_deref())
                .with_context(|| format!("importing {}", file.display()))?;
            for r in &imported.unresolved {
                let used = if r.steps.is_empty() {
                    r.needed_by.join(", ")
                } else {
                    format!("step(s) {}", r.steps.join(", "))
                };
                eprintln!(
                    "warning: {} references {}, which is not a package of this site ({used})",
                    imported.id, r.package_id
                );
            }
            for m in site.missing_software(&imported.id)? {
                let used = if m.step.is_empty() {
                    "its reference list".to_string()
                } else {
                    format!("step {:?}", m.step)
                };
                match &m.program {
                    Some(p) => eprintln!(
                        "warning: {} runs program {p:?} of {} ({used}), which the package does not have: `tsmedia package program add {} --name '{p}' --command CMDLINE`",
                        imported.id, m.package_id, m.package_id
                    ),
                    None => eprintln!(
                        "warning: {} installs application {} ({used}), which has no deployment type: `tsmedia package deployment-type add {} --name NAME --install CMDLINE --detect-file PATH`",
                        imported.id, m.package_id, m.package_id
                    ),
                }
            }
            print_created(json, &imported.id, &imported)
        }
        TsCmd::List { json } => {
            let list = site.task_sequences()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.step_count.to_string(),
                        or_dash(t.boot_image.as_ref()),
                        t.name.clone(),
                    ]
                })
                .collect();
            print_table(&["ID", "STEPS", "BOOT IMAGE", "NAME"], &rows);
            Ok(())
        }
        TsCmd::Show { id, json } => {
            let ts = site.task_sequence(&id)?;
            if json {
                return print_json(&ts);
            }
            println!(
                "{} {}  (boot image: {})",
                ts.id,
                ts.name,
                or_dash(ts.boot_image.as_ref())
            );
            print!("{}", ts.sequence.render_tree());
            Ok(())
        }
        TsCmd::Export { id, output } => {
            let ts = site.task_sequence(&id)?;
            let xml = ts.sequence.to_xml();
            match output {
                Some(path) => std::fs::write(&path, xml)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{xml}"),
            }
            Ok(())
        }
        TsCmd::References { id, json } => {
            let refs = site.task_sequence_references(&id)?;
            if json {
                return print_json(&refs);
            }
            let rows: Vec<Vec<String>> = refs
                .iter()
                .map(|r| {
                    let used = r
                        .steps
                        .iter()
                        .cloned()
                        .chain(r.needed_by.iter().cloned())
                        .collect::<Vec<_>>();
                    vec![
                        r.package_id.clone(),
                        if r.resolved {
                            or_dash(r.kind)
                        } else {
                            "UNRESOLVED".into()
                        },
                        or_dash(r.content_id.as_ref()),
                        or_dash(r.size),
                        if r.distributed_to.is_empty() {
                            "-".into()
                        } else {
                            r.distributed_to.join(",")
                        },
                        or_dash(r.name.as_ref()),
                        used.join("; "),
                    ]
                })
                .collect();
            print_table(
                &[
                    "PACKAGE", "TYPE", "CONTENT", "SIZE", "DPS", "NAME", "USED BY",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

fn print_deployment(d: &Deployment) {
    println!("ID:           {}", d.id);
    println!("Task sequence: {} ({})", d.ts_id, d.ts_name);
    println!("Collection:   {} ({})", d.collection_id, d.collection_name);
    println!("Availability: {}", d.availability);
    println!("Purpose:      {}", d.purpose.as_str());
    println!("Created:      {}", d.created_at);
}

pub fn run_deploy(site: &mut Site, args: DeployArgs) -> Result<()> {
    match args.look {
        Some(DeployLook::List { media, json }) => {
            let list = if media {
                site.deployments_for_media(None)?
            } else {
                site.deployments()?
            };
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.ts_id.clone(),
                        d.collection_name.clone(),
                        d.availability.to_string(),
                        d.purpose.as_str().to_string(),
                    ]
                })
                .collect();
            print_table(
                &[
                    "ID",
                    "TASK SEQUENCE",
                    "COLLECTION",
                    "AVAILABILITY",
                    "PURPOSE",
                ],
                &rows,
            );
            Ok(())
        }
        Some(DeployLook::Show { id, json }) => {
            let d = site.deployment(&id)?;
            if json {
                return print_json(&d);
            }
            print_deployment(&d);
            Ok(())
        }
        None => {
            let (Some(ts_id), Some(collection), Some(availability)) =
                (args.ts_id, args.collection, args.availability)
            else {
                bail!("deploy needs TS_ID, --collection and --availability");
            };
            let d = site
                .deploy(&ts_id, &collection, availability, args.purpose)
                .with_context(|| format!("deploying {ts_id} to {collection}"))?;
            print_created(args.json, &d.id, &d)
        }
    }
}
