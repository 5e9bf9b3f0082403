//! The site commands: `site`, `content`, `package`, `ts`, `deploy`, `dp`, `mp`, `computer`,
//! `collection` and `cert`. Each opens the site named by `--site` (env `TSMEDIA_SITE`), calls
//! `tsmedia-site` and prints. Creating commands print the new object's ID (with `--json`, the
//! object, which has an `id` field); list and show commands print text or, with `--json`, JSON.

mod infra;
mod package;
mod software;
mod ts;

use std::path::Path;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde::Serialize;
use tsmedia_site::Site;

/// The site commands, flattened into the top-level command list.
#[derive(Subcommand)]
pub enum SiteCommand {
    /// Create a site or show it
    #[command(subcommand)]
    Site(package::SiteCmd),
    /// Verify, show and distribute content in the site's content library
    #[command(subcommand)]
    Content(package::ContentCmd),
    /// Add, update, list, show and prune packages (also boot and OS images)
    #[command(subcommand)]
    Package(package::PackageCmd),
    /// Import, show, export task sequences and list the content they need
    #[command(subcommand)]
    Ts(ts::TsCmd),
    /// Deploy a task sequence to a collection (`deploy list` / `deploy show ID` to look)
    Deploy(ts::DeployArgs),
    /// Distribution points: add, list, show, grant read access
    #[command(subcommand)]
    Dp(infra::DpCmd),
    /// Management points: add, list, show
    #[command(subcommand)]
    Mp(infra::MpCmd),
    /// Computer records: import, list, show
    #[command(subcommand)]
    Computer(infra::ComputerCmd),
    /// Collections: add, list, show, add members, set variables
    #[command(subcommand)]
    Collection(infra::CollectionCmd),
    /// Media certificates registered at the site: import, list, show, block, unblock
    #[command(subcommand)]
    Cert(infra::CertCmd),
}

/// Runs a site command against the site in `site_dir`.
pub fn run(site_dir: &Path, command: SiteCommand) -> Result<()> {
    match command {
        SiteCommand::Site(c) => package::run_site(site_dir, c),
        SiteCommand::Content(c) => package::run_content(&mut open(site_dir)?, c),
        SiteCommand::Package(c) => package::run_package(&mut open(site_dir)?, c),
        SiteCommand::Ts(c) => ts::run_ts(&mut open(site_dir)?, c),
        SiteCommand::Deploy(a) => ts::run_deploy(&mut open(site_dir)?, a),
        SiteCommand::Dp(c) => infra::run_dp(&mut open(site_dir)?, c),
        SiteCommand::Mp(c) => infra::run_mp(&mut open(site_dir)?, c),
        SiteCommand::Computer(c) => infra::run_computer(&mut open(site_dir)?, c),
        SiteCommand::Collection(c) => infra::run_collection(&mut open(site_dir)?, c),
        SiteCommand::Cert(c) => infra::run_cert(&mut open(site_dir)?, c),
    }
}

fn open(dir: &Path) -> Result<Site> {
    Site::open(dir).with_context(|| format!("opening site {}", dir.display()))
}

/// Prints `value` as pretty JSON.
fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a created object: its ID, or with `json` the whole object.
fn print_created<T: Serialize>(json: bool, id: &str, value: &T) -> Result<()> {
    if json {
        print_json(value)
    } else {
        println!("{id}");
        Ok(())
    }
}

/// `value` or `-` for absent values in text output.
fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Prints rows as left-aligned columns.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}
