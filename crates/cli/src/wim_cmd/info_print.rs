//! wimlib-imagex's layout of `info`: the "WIM Information" block, each image's properties,
//! `--header` and `--blobs`.

use std::path::Path;
use tsmedia_wim::header::flags as hflags;
use tsmedia_wim::resource::{ResourceHeader, flags as rflags};
use tsmedia_wim::xml::{self, Element};
use tsmedia_wim::{Wim, WimInfo};

/// The "WIM Information:" block.
pub fn print_wim(path: &Path, wim: &Wim, info: &WimInfo) {
    let compression = match info.compression {
        None => "None".to_string(),
        Some(f) => f.to_string().to_ascii_uppercase(),
    };
    println!("WIM Information:\n----------------");
    println!("Path:           {}", path.display());
    println!("GUID:           0x{}", info.guid);
    println!("Version:        {}", info.version);
    println!("Image Count:    {}", info.image_count);
    println!("Compression:    {compression}");
    println!("Chunk Size:     {} bytes", info.chunk_size);
    println!("Part Number:    {}/{}", info.part_number, info.total_parts);
    println!("Boot Index:     {}", info.boot_index);
    // wimlib prints the WIM's TOTALBYTES property (where the XML data starts), not the
    // file's size.
    let size = wim
        .xml
        .get("TOTALBYTES")
        .and_then(|t| parse_number(t.trim()))
        .unwrap_or(info.size);
    println!("Size:           {size} bytes");
    let f = wim.header.flags;
    let mut attrs = Vec::new();
    if wim.header.pipable {
        attrs.push("Pipable");
    }
    if info.has_integrity_table {
        attrs.push("Integrity info");
    }
    for (bit, name) in [
        (hflags::RP_FIX, "Relative path junction"),
        (hflags::RESOURCE_ONLY, "Resource only"),
        (hflags::METADATA_ONLY, "Metadata only"),
        (hflags::READONLY, "Readonly"),
    ] {
        if f & bit != 0 {
            attrs.push(name);
        }
    }
    println!("Attributes:     {}\n", attrs.join(", "));
}

/// One image's properties, as wimlib-imagex prints them.
pub fn print_image(index: u32, e: &Element) {
    let text = |p: &str| e.get(p).map(str::trim).filter(|t| !t.is_empty());
    let num = |p: &str| text(p).and_then(parse_number).unwrap_or(0);
    println!("Index:                  {index}");
    println!("Name:                   {}", text("NAME").unwrap_or(""));
    println!(
        "Description:            {}",
        text("DESCRIPTION").unwrap_or("")
    );
    if let Some(t) = text("DISPLAYNAME") {
        println!("Display Name:           {t}");
    }
    if let Some(t) = text("DISPLAYDESCRIPTION") {
        println!("Display Description:    {t}");
    }
    println!("Directory Count:        {}", num("DIRCOUNT"));
    println!("File Count:             {}", num("FILECOUNT"));
    println!("Total Bytes:            {}", num("TOTALBYTES"));
    println!("Hard Link Bytes:        {}", num("HARDLINKBYTES"));
    let time = |n: &str| format_filetime(xml::get_time(e, n).unwrap_or(0));
    println!("Creation Time:          {}", time("CREATIONTIME"));
    println!("Last Modification Time: {}", time("LASTMODIFICATIONTIME"));
    if let Some(w) = e.child("WINDOWS") {
        print_windows(w);
    }
    if let Some(t) = text("FLAGS") {
        println!("Flags:                  {t}");
    }
    let wimboot = num("WIMBOOT") != 0;
    println!(
        "WIMBoot compatible:     {}\n",
        if wimboot { "yes" } else { "no" }
    );
}

fn print_windows(w: &Element) {
    let text = |p: &str| w.get(p).map(str::trim).filter(|t| !t.is_empty());
    let num = |p: &str| text(p).and_then(parse_number).unwrap_or(0);
    let arch = match num("ARCH") {
        0 => "x86",
        5 => "ARM",
        6 => "ia64",
        9 => "x86_64",
        12 => "ARM64",
        _ => "unknown",
    };
    println!("Architecture:           {arch}");
    for (path, label) in [
        ("PRODUCTNAME", "Product Name:           "),
        ("EDITIONID", "Edition ID:             "),
        ("INSTALLATIONTYPE", "Installation Type:      "),
        ("HAL", "HAL:                    "),
        ("PRODUCTTYPE", "Product Type:           "),
        ("PRODUCTSUITE", "Product Suite:          "),
    ] {
        if let Some(t) = text(path) {
            println!("{label}{t}");
        }
    }
    if let Some(langs) = w.child("LANGUAGES") {
        let list: String = langs
            .children
            .iter()
            .filter(|c| c.name == "LANGUAGE" && !c.text.is_empty())
            .map(|c| format!("{} ", c.text))
            .collect();
        println!("Languages:              {list}");
        if let Some(d) = langs.get("DEFAULT") {
            println!("Default Language:       {d}");
        }
    }
    if let Some(t) = text("SYSTEMROOT") {
        println!("System Root:            {t}");
    }
    if w.child("VERSION").is_some() {
        println!("Major Version:          {}", num("VERSION/MAJOR"));
        println!("Minor Version:          {}", num("VERSION/MINOR"));
        println!("Build:                  {}", num("VERSION/BUILD"));
        println!("Service Pack Build:     {}", num("VERSION/SPBUILD"));
        println!("Service Pack Level:     {}", num("VERSION/SPLEVEL"));
    }
}

/// Decimal, or hexadecimal with `0x`, as numbers appear in WIM XML.
fn parse_number(t: &str) -> Option<u64> {
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// A FILETIME as wimlib-imagex prints it: `Thu Dec 03 12:59:40 2026 UTC`.
pub fn format_filetime(ft: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (ft / 10_000_000) as i64 - 11_644_473_600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {} UTC",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

/// Year, month (1–12) and day of a count of days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `info --header`.
pub fn print_header(wim: &Wim) {
    let h = &wim.header;
    println!("Magic Characters            = MSWIM\\0\\0\\0");
    println!("Header Size                 = 208");
    println!("Version                     = {:#x}", h.version);
    println!("Flags                       = {:#x}", h.flags);
    for (bit, name) in [
        (hflags::COMPRESSION, "WIM_HDR_FLAG_COMPRESSION"),
        (hflags::READONLY, "WIM_HDR_FLAG_READONLY"),
        (hflags::SPANNED, "WIM_HDR_FLAG_SPANNED"),
        (hflags::RESOURCE_ONLY, "WIM_HDR_FLAG_RESOURCE_ONLY"),
        (hflags::METADATA_ONLY, "WIM_HDR_FLAG_METADATA_ONLY"),
        (hflags::WRITE_IN_PROGRESS, "WIM_HDR_FLAG_WRITE_IN_PROGRESS"),
        (hflags::RP_FIX, "WIM_HDR_FLAG_RP_FIX"),
        (hflags::COMPRESS_RESERVED, "WIM_HDR_FLAG_COMPRESS_RESERVED"),
        (hflags::COMPRESS_XPRESS, "WIM_HDR_FLAG_COMPRESS_XPRESS"),
        (hflags::COMPRESS_LZX, "WIM_HDR_FLAG_COMPRESS_LZX"),
        (hflags::COMPRESS_LZMS, "WIM_HDR_FLAG_COMPRESS_LZMS"),
        (hflags::COMPRESS_XPRESS2, "WIM_HDR_FLAG_COMPRESS_XPRESS_2"),
    ] {
        if h.flags & bit != 0 {
            println!("    {name} is set");
        }
    }
    println!("Chunk Size                  = {}", h.chunk_size);
    let guid: String = h.guid.iter().map(|b| format!("{b:02x}")).collect();
    println!("GUID                        = {guid}");
    println!("Part Number                 = {}", h.part_number);
    println!("Total Parts                 = {}", h.total_parts);
    println!("Image Count                 = {}", h.image_count);
    resource("Blob Table", &h.blob_table, "Original_size");
    resource("XML Data", &h.xml_data, "Original Size");
    resource("Boot Metadata", &h.boot_metadata, "Original Size");
    println!("Boot Index                  = {}", h.boot_index);
    resource("Integrity", &h.integrity, "Original_size");
}

fn resource(name: &str, r: &ResourceHeader, original: &str) {
    let pad = |s: String| format!("{s:<28}");
    println!("{}= {}", pad(format!("{name} Size")), r.stored_size);
    println!("{}= {:#x}", pad(format!("{name} Flags")), r.flags);
    println!("{}= {}", pad(format!("{name} Offset")), r.offset);
    println!(
        "{}= {}",
        pad(format!("{name} {original}")),
        r.uncompressed_size
    );
}

/// `info --blobs` (also `--lookup-table`): every blob-table entry.
pub fn print_blobs(wim: &Wim) {
    for (_, e) in &wim.entries {
        let r = &e.resource;
        println!("Hash              = 0x{}", e.sha1);
        println!("Uncompressed size = {} bytes", r.uncompressed_size);
        println!("Compressed size   = {} bytes", r.stored_size);
        println!("Offset in WIM     = {} bytes", r.offset);
        println!("Part Number       = {}", e.part_number);
        println!("Reference Count   = {}", e.ref_count);
        let mut flags = String::new();
        for (bit, name) in [
            (rflags::COMPRESSED, "WIM_RESHDR_FLAG_COMPRESSED  "),
            (rflags::METADATA, "WIM_RESHDR_FLAG_METADATA  "),
            (rflags::FREE, "WIM_RESHDR_FLAG_FREE  "),
            (rflags::SPANNED, "WIM_RESHDR_FLAG_SPANNED  "),
            (rflags::SOLID, "WIM_RESHDR_FLAG_SOLID  "),
        ] {
            if r.flags & bit != 0 {
                flags.push_str(name);
            }
        }
        println!("Flags             = {flags}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_as_wimlib_prints_it() {
        // 2026-12-03 12:59:40 UTC.
        let unix = 1_796_302_780u64;
        let ft = (unix + 11_644_473_600) * 10_000_000;
        assert_eq!(format_filetime(ft), "Thu Dec 03 12:59:40 2026 UTC");
        assert_eq!(
            format_filetime(116_444_736_000_000_000),
            "Thu Jan 01 00:00:00 1970 UTC"
        );
    }
}
