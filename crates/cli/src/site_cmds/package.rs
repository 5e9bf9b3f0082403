//! `tsmedia site`, `tsmedia content` and `tsmedia package`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use tsmedia_site::{Arch, Package, PackageOptions, PackageType, Site};

use super::{or_dash, print_created, print_json, print_table};

#[derive(Subcommand)]
pub enum SiteCmd {
    /// Create a new site (database and content library) in the --site folder
    Init {
        /// Site code: three letters or digits
        #[arg(long)]
        code: String,
        /// Display name (default: the code)
        #[arg(long)]
        name: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the site's code, name and schema version
    Show {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ContentCmd {
    /// Re-hash library files; name every missing or changed file with package, version and
    /// path. IDs: packages (every kept version), content IDs (PKG.N) or task sequences;
    /// none: all content
    Verify {
        ids: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a content version's files (a package ID means its current version)
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Record that a distribution point holds content (packages' current versions, content
    /// IDs, or everything a task sequence references); damaged content is refused
    Distribute {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Distribution point name
        #[arg(long)]
        dp: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PackageCmd {
    /// Add a package; its content (a file or folder; a WIM for boot-image and os-image) is
    /// copied into the content library
    Add {
        /// package, driver, application, boot-image, os-image or os-upgrade
        #[arg(long = "type")]
        kind: PackageType,
        /// Name (unique per type)
        #[arg(long)]
        name: String,
        /// Content: a file or a folder
        source: PathBuf,
        /// x86, x64 or arm64 (boot images: read from the WIM when not given)
        #[arg(long)]
        arch: Option<Arch>,
        /// IDs of packages this one depends on
        #[arg(long, num_args = 1..)]
        depends: Vec<String>,
        /// Boot images: image index to use (default: the WIM's boot index, else 1)
        #[arg(long)]
        image_index: Option<u32>,
        /// Boot images: command run before a task sequence is chosen
        #[arg(long)]
        prestart_command: Option<String>,
        /// Boot images: ID of the package holding the prestart command's files
        #[arg(long)]
        prestart_package: Option<String>,
        /// Applications: the model name task sequences name it by, as an exported task
        /// sequence's ApplicationName does (ScopeId_<scope>/Application_<id>)
        /// [default: ScopeId_<site code>/Application_<ID>]
        #[arg(long)]
        model_name: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Programs of a package (what Install Package runs): add, list, remove
    #[command(subcommand)]
    Program(super::software::ProgramCmd),
    /// Deployment types of an application (what Install Application installs): add, list,
    /// remove
    #[command(subcommand)]
    DeploymentType(super::software::DeploymentTypeCmd),
    /// Read the content again (from SOURCE or where it was last read) as a new source version
    Update {
        id: String,
        source: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List packages
    List {
        /// Only packages of this type
        #[arg(long = "type")]
        kind: Option<PackageType>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a package with its content versions
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove old content versions (not those a distribution point holds) and library files
    /// nothing uses any more
    Prune {
        /// Packages to prune (default: all)
        ids: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run_site(dir: &Path, cmd: SiteCmd) -> Result<()> {
    match cmd {
        SiteCmd::Init { code, name, json } => {
            let site = Site::init(dir, &code, name.as_deref())
                .with_context(|| format!("creating site {code} in {}", dir.display()))?;
            let info = site.info()?;
            print_created(json, &info.id, &info)
        }
        SiteCmd::Show { json } => {
            let site =
                Site::open(dir).with_context(|| format!("opening site {}", dir.display()))?;
            let info = site.info()?;
            if json {
                return print_json(&info);
            }
            println!("Site code:      {}", info.id);
            println!("Name:           {}", info.name);
            println!("Folder:         {}", info.dir.display());
            println!("Schema version: {}", info.schema_version);
            println!("Created:        {}", info.created_at);
            println!("Library bytes:  {}", site.library().stored_bytes()?);
            Ok(())
        }
    }
}

pub fn run_content(site: &mut Site, cmd: ContentCmd) -> Result<()> {
    match cmd {
        ContentCmd::Verify { ids, json } => {
            let report = site.verify_content(&ids)?;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "{} content version(s), {} file(s) checked, {} problem(s)",
                    report.content_ids.len(),
                    report.files_checked,
                    report.problems.len()
                );
            }
            if !report.is_ok() {
                const SHOWN: usize = 20;
                let mut lines: Vec<String> = report
                    .problems
                    .iter()
                    .take(SHOWN)
                    .map(|p| format!("  {p}"))
                    .collect();
                if report.problems.len() > SHOWN {
                    lines.push(format!("  ... and {} more", report.problems.len() - SHOWN));
                }
                bail!(
                    "content verification failed: {} problem(s):\n{}",
                    report.problems.len(),
                    lines.join("\n")
                );
            }
            Ok(())
        }
        ContentCmd::Show { id, json } => {
            let content_id = site
                .resolve_content_ids(&id, false)?
                .into_iter()
                .next()
                .with_context(|| format!("{id} has no content"))?;
            let version = site.content_version(&content_id)?;
            let files = site.content_files(&content_id)?;
            if json {
                return print_json(&serde_json::json!({
                    "id": version.content_id,
                    "version": version,
                    "files": files,
                    "distributed_to": site.dps_holding(&content_id)?,
                }));
            }
            println!(
                "Content:  {} (package {}, version {})",
                version.content_id, version.package_id, version.version
            );
            println!("Hash:     {}", version.content_hash);
            println!(
                "Size:     {} bytes in {} file(s)",
                version.size, version.file_count
            );
            println!();
            let rows: Vec<Vec<String>> = files
                .iter()
                .map(|f| vec![f.size.to_string(), f.hash.clone(), f.path.clone()])
                .collect();
            print_table(&["SIZE", "SHA-256", "PATH"], &rows);
            Ok(())
        }
        ContentCmd::Distribute { ids, dp, json } => {
            // A task sequence's unresolved references cannot be distributed: say so.
            for id in &ids {
                if let Ok(refs) = site.task_sequence_references(id) {
                    for r in refs.iter().filter(|r| !r.resolved) {
                        eprintln!(
                            "warning: {id} references {}, which is not a package of this site; not distributed",
                            r.package_id
                        );
                    }
                }
            }
            let held = site
                .distribute(&ids, &dp)
                .with_context(|| format!("distributing to {dp}"))?;
            if json {
                return print_json(&serde_json::json!({ "dp": dp, "content_ids": held }));
            }
            for c in held {
                println!("{c}");
            }
            Ok(())
        }
    }
}

fn print_package(site: &Site, p: &Package) -> Result<()> {
    println!("ID:             {}", p.id);
    println!("Name:           {}", p.name);
    println!("Type:           {}", p.kind);
    println!("Architecture:   {}", or_dash(p.arch));
    println!("Source:         {}", p.source_path.display());
    println!("Source version: {}", p.source_version);
    println!("Content ID:     {}", p.content_id);
    println!("Content hash:   {}", p.content_hash);
    println!(
        "Size:           {} bytes in {} file(s)",
        p.size, p.file_count
    );
    if !p.depends.is_empty() {
        println!("Depends on:     {}", p.depends.join(", "));
    }
    if let Some(i) = p.image_index {
        println!("Image index:    {i}");
    }
    if let Some(image) = p.boot_image() {
        match &image.kernel {
            Some(k) => println!("Flavour:        {} (Linux {k})", image.boot_flavour()),
            None => println!("Flavour:        {}", image.boot_flavour()),
        }
    }
    if let Some(c) = &p.prestart_command {
        println!("Prestart:       {c}");
    }
    if let Some(c) = &p.prestart_package {
        println!("Prestart files: {c}");
    }
    if let Some(m) = &p.model_name {
        println!("Model name:     {m}");
    }
    if p.kind == PackageType::Package {
        for program in site.programs(&p.id)? {
            println!(
                "Program:        {} ({})",
                program.name, program.command_line
            );
        }
    }
    if p.kind == PackageType::Application {
        for dt in site.deployment_types(&p.id)? {
            println!(
                "Deployment type: {} (priority {}; {}; install {})",
                dt.name,
                dt.priority,
                super::software::describe_detection(&dt.detection),
                dt.install_command
            );
        }
    }
    if let Some(images) = &p.images {
        println!();
        let rows: Vec<Vec<String>> = images
            .iter()
            .map(|i| {
                vec![
                    i.index.to_string(),
                    or_dash(i.arch),
                    i.size.to_string(),
                    i.name.clone(),
                ]
            })
            .collect();
        print_table(&["INDEX", "ARCH", "SIZE", "NAME"], &rows);
    }
    println!();
    let rows: Vec<Vec<String>> = site
        .content_versions(&p.id)?
        .iter()
        .map(|v| {
            Ok(vec![
                v.content_id.clone(),
                v.size.to_string(),
                v.content_hash[..16].to_string(),
                site.dps_holding(&v.content_id)?.join(","),
            ])
        })
        .collect::<Result<_>>()?;
    print_table(&["CONTENT", "SIZE", "HASH", "DISTRIBUTED TO"], &rows);
    Ok(())
}

pub fn run_package(site: &mut Site, cmd: PackageCmd) -> Result<()> {
    match cmd {
        PackageCmd::Add {
            kind,
            name,
            source,
            arch,
            depends,
            image_index,
            prestart_command,
            prestart_package,
            model_name,
            json,
        } => {
            if model_name.is_some() && kind != PackageType::Application {
                bail!("--model-name names applications, not a {kind}");
            }
            if let Some(m) = &model_name
                && !tsmedia_site::is_model_name(m)
            {
                bail!("--model-name {m:?}: expected ScopeId_<scope>/Application_<id>");
            }
            let options = PackageOptions {
                arch,
                depends,
                image_index,
                prestart_command,
                prestart_package,
            };
            let p = site
                .add_package(kind, &name, &source, &options)
                .with_context(|| format!("adding {kind} {name:?} from {}", source.display()))?;
            let p = match model_name {
                Some(m) => {
                    site.set_model_name(&p.id, &m)
                        .with_context(|| format!("naming application {}", p.id))?;
                    site.package(&p.id)?
                }
                None => p,
            };
            print_created(json, &p.id, &p)
        }
        PackageCmd::Program(c) => super::software::run_program(site, c),
        PackageCmd::DeploymentType(c) => super::software::run_deployment_type(site, c),
        PackageCmd::Update { id, source, json } => {
            let p = site
                .update_package(&id, source.as_deref())
                .with_context(|| format!("updating package {id}"))?;
            if json {
                print_json(&p)
            } else {
                println!("{} source version {}", p.id, p.source_version);
                Ok(())
            }
        }
        PackageCmd::List { kind, json } => {
            let packages: Vec<Package> = site
                .packages()?
                .into_iter()
                .filter(|p| kind.is_none_or(|k| p.kind == k))
                .collect();
            if json {
                return print_json(&packages);
            }
            let rows: Vec<Vec<String>> = packages
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.kind.to_string(),
                        or_dash(p.arch),
                        p.source_version.to_string(),
                        p.size.to_string(),
                        p.name.clone(),
                    ]
                })
                .collect();
            print_table(&["ID", "TYPE", "ARCH", "VERSION", "SIZE", "NAME"], &rows);
            Ok(())
        }
        PackageCmd::Show { id, json } => {
            let p = site.package(&id)?;
            if json {
                return print_json(&p);
            }
            print_package(site, &p)
        }
        PackageCmd::Prune { ids, json } => {
            let report = site.prune(&ids)?;
            if json {
                return print_json(&report);
            }
            for c in &report.removed {
                println!("removed {c}");
            }
            for c in &report.kept_on_dp {
                println!("kept {c} (on a distribution point)");
            }
            println!(
                "{} library file(s), {} bytes freed",
                report.files_removed, report.bytes_freed
            );
            Ok(())
        }
    }
}
