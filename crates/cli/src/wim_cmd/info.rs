//! `info`: show a WIM in wimlib-imagex's layout, or change it as `wiminfo` does: the boot
//! index (`--boot`), an image's name and description (`info WIM IMAGE NEW_NAME [NEW_DESC]`),
//! its properties (`--image-property`) and the integrity table (`--check`, `--nocheck`).

use super::common::open_checked;
use super::info_print;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_wim::ops::{self, Rewrite};
use tsmedia_wim::xml;

#[derive(Args)]
#[command(args_override_self = true)]
pub struct InfoArgs {
    wim: PathBuf,
    /// Only this image (index or name); with --boot, 0 for none
    image: Option<String>,
    /// New name of IMAGE ("" for none)
    new_name: Option<String>,
    /// New description of IMAGE
    new_description: Option<String>,
    /// Make IMAGE the bootable image (0: none)
    #[arg(long)]
    boot: bool,
    /// Check the integrity table, and write one
    #[arg(long)]
    check: bool,
    /// Write an integrity table (without checking the old one)
    #[arg(long)]
    include_integrity: bool,
    /// Remove the integrity table
    #[arg(long, conflicts_with_all = ["check", "include_integrity"])]
    nocheck: bool,
    /// Set a property of IMAGE, e.g. WINDOWS/EDITIONID=Professional ("NAME=" removes it)
    #[arg(long, value_name = "NAME=VALUE")]
    image_property: Vec<String>,
    /// Print the WIM header
    #[arg(long)]
    header: bool,
    /// Print the blob table
    #[arg(long, alias = "lookup-table")]
    blobs: bool,
    /// Print the XML data as it is stored (UTF-16LE)
    #[arg(long)]
    xml: bool,
    /// Write the XML data (UTF-16LE) to FILE
    #[arg(long, value_name = "FILE")]
    extract_xml: Option<PathBuf>,
    /// Machine-readable output (tsmedia's)
    #[arg(long)]
    json: bool,
}

pub fn info(a: InfoArgs) -> Result<()> {
    let wim = open_checked(&a.wim, &[], a.check)?;
    let changes = a.boot
        || a.new_name.is_some()
        || !a.image_property.is_empty()
        || a.nocheck && !wim.header.integrity.is_zero()
        || (a.check || a.include_integrity) && wim.header.integrity.is_zero();
    if changes {
        return change(&a, &wim);
    }
    let image = match a.image.as_deref() {
        Some(spec) => Some(wim.resolve_image(spec)?),
        None => None,
    };
    if a.json {
        let mut info = wim.info();
        if let Some(i) = image {
            info.images.retain(|e| e.index == i);
        }
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    let xml_bytes = wim
        .raw_xml()
        .with_context(|| format!("reading the XML data of {}", a.wim.display()))?;
    if let Some(p) = &a.extract_xml {
        std::fs::write(p, &xml_bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.xml {
        use std::io::Write;
        std::io::stdout().write_all(&xml_bytes)?;
    }
    if a.header {
        info_print::print_header(&wim);
    }
    if a.blobs {
        info_print::print_blobs(&wim);
    }
    if a.xml || a.header || a.blobs || a.extract_xml.is_some() {
        return Ok(());
    }
    match image {
        Some(i) => {
            let title = format!("Information for Image {i}");
            println!("{title}\n{}", "-".repeat(title.len()));
            if let Some(e) = wim.image_xml(i) {
                info_print::print_image(i, e);
            }
        }
        None => {
            info_print::print_wim(&a.wim, &wim, &wim.info());
            println!("Available Images:\n-----------------");
            for (n, e) in xml::images(&wim.xml).enumerate() {
                info_print::print_image(n as u32 + 1, e);
            }
        }
    }
    Ok(())
}

fn change(a: &InfoArgs, wim: &tsmedia_wim::Wim) -> Result<()> {
    let mut spec = Rewrite::unchanged(wim);
    let image = match a.image.as_deref() {
        Some("0") if a.boot => 0,
        Some(spec) => wim.resolve_image(spec)?,
        None if a.boot || a.new_name.is_some() || !a.image_property.is_empty() => {
            bail!("name the image to change (index or name)")
        }
        None => 0,
    };
    if image == 0 && (a.new_name.is_some() || !a.image_property.is_empty()) {
        bail!("name the image to change (index or name)");
    }
    if a.boot {
        println!(
            "{}",
            if image == 0 {
                "Marking no image as bootable.".to_string()
            } else {
                format!("Marking image {image} as bootable.")
            }
        );
        spec.boot_index = image;
    }
    let mut set = |path: &str, value: &str| -> Result<()> {
        let e = &mut spec.images[image as usize - 1].1;
        println!("Setting the {path} property of image {image} to \"{value}\".");
        e.set(path, (!value.is_empty()).then_some(value));
        Ok(())
    };
    if let Some(n) = &a.new_name {
        if !n.is_empty()
            && xml::images(&wim.xml)
                .enumerate()
                .any(|(i, e)| i as u32 + 1 != image && e.get("NAME") == Some(n))
        {
            bail!("an image named {n:?} already exists in {}", a.wim.display());
        }
        set("NAME", n)?;
    }
    if let Some(d) = &a.new_description {
        set("DESCRIPTION", d)?;
    }
    for p in &a.image_property {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--image-property {p:?}: expected NAME=VALUE"))?;
        if k.is_empty() || k.contains('[') {
            bail!(
                "--image-property {p:?}: NAME must be a path of elements such as WINDOWS/EDITIONID"
            );
        }
        set(k, v)?;
    }
    if a.nocheck {
        spec.integrity = false;
    } else if a.check || a.include_integrity {
        spec.integrity = true;
    }
    let pipable = wim.header.pipable;
    ops::rewrite(&a.wim, wim, &spec).with_context(|| format!("changing {}", a.wim.display()))?;
    if pipable {
        super::pipe::make_pipable(&a.wim)?;
    }
    Ok(())
}
