//! `tsmedia dp`, `mp`, `computer`, `collection` and `cert`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use tsmedia_site::{Certificate, Site};

use super::{or_dash, print_created, print_json, print_table};

#[derive(Subcommand)]
pub enum DpCmd {
    /// Add a distribution point; Users and Guests may read it, as Configuration Manager's
    /// default package access accounts
    Add {
        name: String,
        /// Base URL content is served from (http:// or https://)
        #[arg(long)]
        url: String,
        /// Grant no one read access (not even Users and Guests); grant it with `dp grant`
        #[arg(long)]
        no_default_access: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List distribution points
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a distribution point with the content versions it holds
    Show {
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Give a principal read access to the distribution point's content
    Grant {
        name: String,
        /// Account or group, e.g. LAB\mediabuilders
        #[arg(long)]
        principal: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum MpCmd {
    /// Add a management point
    Add {
        name: String,
        /// Base URL of its service (http:// or https://)
        #[arg(long)]
        url: String,
        /// Boundaries it serves, as CIDR (default: every client)
        #[arg(long, num_args = 1..)]
        boundary: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List management points
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a management point
    Show {
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ComputerCmd {
    /// Import a computer record; prints its resource ID
    Import {
        #[arg(long)]
        name: String,
        #[arg(long)]
        smbios_guid: String,
        #[arg(long)]
        mac: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List computer records, the Unknown Computer records included
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a computer (by resource ID or name)
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum CollectionCmd {
    /// Create a collection; prints its ID
    Add {
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List collections
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a collection's members and variables
    Show {
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Add computers (names or resource IDs) to a collection
    AddMember {
        collection: String,
        #[arg(long = "computer", required = true, num_args = 1..)]
        computers: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Set a collection variable
    SetVar {
        collection: String,
        /// NAME=VALUE
        assignment: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum CertCmd {
    /// Register a media certificate (PEM or DER); prints its thumbprint
    Import {
        file: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List registered media certificates
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a certificate
    Show {
        thumbprint: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Block a certificate: media using it are refused
    Block {
        thumbprint: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Unblock a certificate
    Unblock {
        thumbprint: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run_dp(site: &mut Site, cmd: DpCmd) -> Result<()> {
    match cmd {
        DpCmd::Add {
            name,
            url,
            no_default_access,
            json,
        } => {
            let mut dp = site
                .add_distribution_point(&name, &url)
                .with_context(|| format!("adding distribution point {name}"))?;
            if !no_default_access {
                for principal in tsmedia_site::DEFAULT_READERS {
                    dp = site
                        .grant_dp_read(&dp.id, principal)
                        .with_context(|| format!("granting {principal} read access to {name}"))?;
                }
            }
            print_created(json, &dp.id, &dp)
        }
        DpCmd::List { json } => {
            let list = site.distribution_points()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| vec![d.id.clone(), d.content.len().to_string(), d.url.clone()])
                .collect();
            print_table(&["NAME", "PACKAGES", "URL"], &rows);
            Ok(())
        }
        DpCmd::Show { name, json } => {
            let dp = site.distribution_point(&name)?;
            if json {
                return print_json(&dp);
            }
            println!("Name:        {}", dp.id);
            println!("URL:         {}", dp.url);
            println!(
                "Read access: {}",
                if dp.read_access.is_empty() {
                    "-".into()
                } else {
                    dp.read_access.join(", ")
                }
            );
            println!();
            let rows: Vec<Vec<String>> = dp
                .content
                .iter()
                .map(|c| {
                    vec![
                        c.package_id.clone(),
                        c.content_id.clone(),
                        if c.current {
                            "current".into()
                        } else {
                            "outdated".into()
                        },
                        c.distributed_at.to_string(),
                    ]
                })
                .collect();
            print_table(&["PACKAGE", "CONTENT", "STATE", "DISTRIBUTED"], &rows);
            Ok(())
        }
        DpCmd::Grant {
            name,
            principal,
            json,
        } => {
            let dp = site
                .grant_dp_read(&name, &principal)
                .with_context(|| format!("granting {principal} read access to {name}"))?;
            if json {
                return print_json(&dp);
            }
            println!("{principal} can read {}", dp.id);
            Ok(())
        }
    }
}

pub fn run_mp(site: &mut Site, cmd: MpCmd) -> Result<()> {
    match cmd {
        MpCmd::Add {
            name,
            url,
            boundary,
            json,
        } => {
            let mp = site
                .add_management_point(&name, &url, &boundary)
                .with_context(|| format!("adding management point {name}"))?;
            print_created(json, &mp.id, &mp)
        }
        MpCmd::List { json } => {
            let list = site.management_points()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
                    let b = if m.boundaries.is_empty() {
                        "(all)".into()
                    } else {
                        m.boundaries.join(",")
                    };
                    vec![m.id.clone(), m.url.clone(), b]
                })
                .collect();
            print_table(&["NAME", "URL", "BOUNDARIES"], &rows);
            Ok(())
        }
        MpCmd::Show { name, json } => {
            let mp = site.management_point(&name)?;
            if json {
                return print_json(&mp);
            }
            println!("Name:       {}", mp.id);
            println!("URL:        {}", mp.url);
            println!(
                "Boundaries: {}",
                if mp.boundaries.is_empty() {
                    "(all clients)".into()
                } else {
                    mp.boundaries.join(", ")
                }
            );
            Ok(())
        }
    }
}

pub fn run_computer(site: &mut Site, cmd: ComputerCmd) -> Result<()> {
    match cmd {
        ComputerCmd::Import {
            name,
            smbios_guid,
            mac,
            json,
        } => {
            let c = site
                .import_computer(&name, &smbios_guid, &mac)
                .with_context(|| format!("importing computer {name}"))?;
            print_created(json, &c.id.to_string(), &c)
        }
        ComputerCmd::List { json } => {
            let list = site.computers()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.to_string(),
                        c.name.clone(),
                        or_dash(c.smbios_guid.as_ref()),
                        or_dash(c.mac.as_ref()),
                    ]
                })
                .collect();
            print_table(&["RESOURCE ID", "NAME", "SMBIOS GUID", "MAC"], &rows);
            Ok(())
        }
        ComputerCmd::Show { id, json } => {
            let c = site.computer(&id)?;
            if json {
                return print_json(&c);
            }
            println!("Resource ID: {}", c.id);
            println!("Name:        {}", c.name);
            println!("GUID:        {}", c.sms_guid);
            println!("SMBIOS GUID: {}", or_dash(c.smbios_guid.as_ref()));
            println!("MAC:         {}", or_dash(c.mac.as_ref()));
            if let Some(a) = c.unknown_arch {
                println!("Unknown Computer record for {a}");
            }
            println!("Collections: {}", site.collections_of(c.id)?.join(", "));
            Ok(())
        }
    }
}

pub fn run_collection(site: &mut Site, cmd: CollectionCmd) -> Result<()> {
    match cmd {
        CollectionCmd::Add { name, json } => {
            let c = site
                .add_collection(&name)
                .with_context(|| format!("adding collection {name:?}"))?;
            print_created(json, &c.id, &c)
        }
        CollectionCmd::List { json } => {
            let list = site.collections()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.members.len().to_string(),
                        c.variables.len().to_string(),
                        c.name.clone(),
                    ]
                })
                .collect();
            print_table(&["ID", "MEMBERS", "VARIABLES", "NAME"], &rows);
            Ok(())
        }
        CollectionCmd::Show { id, json } => {
            let c = site.collection(&id)?;
            if json {
                return print_json(&c);
            }
            println!(
                "ID:   {}{}",
                c.id,
                if c.builtin { " (built-in)" } else { "" }
            );
            println!("Name: {}", c.name);
            println!("Members:");
            for m in &c.members {
                println!("  {} {}", m.resource_id, m.name);
            }
            println!("Variables:");
            for v in &c.variables {
                println!("  {}={}", v.name, v.value);
            }
            Ok(())
        }
        CollectionCmd::AddMember {
            collection,
            computers,
            json,
        } => {
            let c = site
                .add_collection_members(&collection, &computers)
                .with_context(|| format!("adding members to collection {collection:?}"))?;
            if json {
                return print_json(&c);
            }
            println!("{} now has {} member(s)", c.id, c.members.len());
            Ok(())
        }
        CollectionCmd::SetVar {
            collection,
            assignment,
            json,
        } => {
            let (name, value) = assignment
                .split_once('=')
                .with_context(|| format!("{assignment:?} is not NAME=VALUE"))?;
            let c = site
                .set_collection_variable(&collection, name, value)
                .with_context(|| format!("setting {name} on collection {collection:?}"))?;
            if json {
                return print_json(&c);
            }
            println!("{}: {name}={value}", c.id);
            Ok(())
        }
    }
}

fn print_cert(c: &Certificate) {
    println!("Thumbprint: {}", c.id);
    println!("Subject:    {}", c.subject);
    println!("Issuer:     {}", c.issuer);
    println!("Serial:     {}", c.serial);
    println!("Valid:      {} to {}", c.not_before, c.not_after);
    println!("Blocked:    {}", if c.blocked { "yes" } else { "no" });
}

pub fn run_cert(site: &mut Site, cmd: CertCmd) -> Result<()> {
    match cmd {
        CertCmd::Import { file, json } => {
            let c = site
                .register_certificate_file(&file)
                .with_context(|| format!("registering {}", file.display()))?;
            print_created(json, &c.id, &c)
        }
        CertCmd::List { json } => {
            let list = site.certificates()?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        if c.blocked {
                            "blocked".into()
                        } else {
                            "active".into()
                        },
                        c.not_after.to_string(),
                        c.subject.clone(),
                    ]
                })
                .collect();
            print_table(&["THUMBPRINT", "STATE", "EXPIRES", "SUBJECT"], &rows);
            Ok(())
        }
        CertCmd::Show { thumbprint, json } => {
            let c = site.certificate(&thumbprint)?;
            if json {
                return print_json(&c);
            }
            print_cert(&c);
            Ok(())
        }
        CertCmd::Block { thumbprint, json } => set_blocked(site, &thumbprint, true, json),
        CertCmd::Unblock { thumbprint, json } => set_blocked(site, &thumbprint, false, json),
    }
}

fn set_blocked(site: &mut Site, thumbprint: &str, blocked: bool, json: bool) -> Result<()> {
    let verb = if blocked { "blocking" } else { "unblocking" };
    let c = site
        .set_certificate_blocked(thumbprint, blocked)
        .with_context(|| format!("{verb} certificate {thumbprint}"))?;
    if json {
        return print_json(&c);
    }
    println!(
        "{} {}",
        c.id,
        if c.blocked { "blocked" } else { "unblocked" }
    );
    Ok(())
}
