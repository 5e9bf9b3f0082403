//! `update`: files added to, deleted from or renamed in an image, with wimlib-imagex's
//! command syntax (`add [--no-replace] SRC DEST`, `delete [--force] [--recursive] PATH`,
//! `rename OLD NEW`, one a line on standard input or one with `--command`) and tsmedia's
//! `--add SRC:DEST` / `--delete PATH` options.

use super::common::print_warnings;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};
use tsmedia_wim::Wim;
use tsmedia_wim::ops::{self, UpdateCommand};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct UpdateArgs {
    wim: PathBuf,
    /// Image (index or name); may be omitted for a one-image WIM
    image: Option<String>,
    /// One update command (instead of the commands on standard input)
    #[arg(long, value_name = "COMMAND")]
    command: Option<String>,
    /// Add SRC (file or directory) at DEST_PATH inside the image: SRC:DEST_PATH
    #[arg(long, value_name = "SRC:DEST_PATH")]
    add: Vec<String>,
    /// Delete PATH (file or directory tree) from the image
    #[arg(long, value_name = "PATH")]
    delete: Vec<String>,
    /// Store UNIX owner, group and mode of added files
    #[arg(long)]
    unix_data: bool,
    /// --force for every delete command: a missing path is not an error
    #[arg(long)]
    force: bool,
    /// --recursive for every delete command: directories may be deleted
    #[arg(long)]
    recursive: bool,
    /// --no-replace for every add command: files in the image are not replaced
    #[arg(long)]
    no_replace: bool,
    /// Accepted: no security descriptors are read on Linux
    #[arg(long)]
    no_acls: bool,
    /// Accepted: no security descriptors are read on Linux
    #[arg(long)]
    strict_acls: bool,
    /// Check the integrity table first, and write one
    #[arg(long)]
    check: bool,
    /// Write an integrity table (without checking the old one)
    #[arg(long)]
    include_integrity: bool,
    /// Compression threads (default: all cores)
    #[arg(long)]
    threads: Option<usize>,
    /// Rebuild the WIM (tsmedia always rebuilds it)
    #[arg(long)]
    rebuild: bool,
}

/// Options shared by every command of one run.
#[derive(Clone, Copy, Default)]
struct Defaults {
    force: bool,
    recursive: bool,
    no_replace: bool,
}

pub fn update(a: UpdateArgs) -> Result<()> {
    // Accepted because tsmedia already does what they ask (see their help); the threads
    // of the rebuild are the engine's default.
    let _ = (a.no_acls, a.strict_acls, a.rebuild, a.threads);
    let wim = super::common::open_checked(&a.wim, &[], a.check)?;
    let i = match &a.image {
        Some(spec) => wim.resolve_image(spec)?,
        None if wim.image_count() == 1 => 1,
        None => bail!(
            "{} has {} images: name the one to update",
            a.wim.display(),
            wim.image_count()
        ),
    };
    let had_integrity = !wim.header.integrity.is_zero();
    drop::<Wim>(wim);
    let defaults = Defaults {
        force: a.force,
        recursive: a.recursive,
        no_replace: a.no_replace,
    };
    let mut cmds = Vec::new();
    for add in &a.add {
        let (src, dest) = add
            .rsplit_once(':')
            .with_context(|| format!("--add {add:?}: expected SRC:DEST_PATH"))?;
        if !Path::new(src).exists() {
            bail!("--add {add:?}: {src} does not exist");
        }
        cmds.push(UpdateCommand::Add {
            source: PathBuf::from(src),
            dest: dest.to_string(),
            no_replace: a.no_replace,
        });
    }
    for d in &a.delete {
        cmds.push(UpdateCommand::Delete {
            path: d.clone(),
            force: a.force,
            recursive: true,
        });
    }
    if let Some(c) = &a.command {
        cmds.extend(parse_commands(c, defaults)?);
    } else if cmds.is_empty() {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("reading update commands from standard input")?;
        cmds.extend(parse_commands(&decode(&data), defaults)?);
    }
    let integrity = if a.check || a.include_integrity {
        Some(true)
    } else {
        Some(had_integrity)
    };
    let pipable = super::pipe::file_is_pipable(&a.wim);
    let warnings = ops::update_with(&a.wim, i, &cmds, a.unix_data, integrity)
        .with_context(|| format!("updating {}", a.wim.display()))?;
    if pipable {
        super::pipe::make_pipable(&a.wim)?;
    }
    print_warnings(&warnings);
    Ok(())
}

/// Text of a command file: UTF-8 (with or without a byte order mark) or UTF-16LE (with or
/// without one).
fn decode(data: &[u8]) -> String {
    let utf16 = |b: &[u8]| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = data.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest);
    }
    if let Some(rest) = data.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if data.len() >= 2 && data[0] != 0 && data[1] == 0 {
        return utf16(data);
    }
    String::from_utf8_lossy(data).into_owned()
}

/// Splits a line into words; single or double quotes keep spaces in one word.
fn words(line: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        bail!("unterminated quote in {line:?}");
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

fn parse_commands(text: &str, defaults: Defaults) -> Result<Vec<UpdateCommand>> {
    let mut cmds = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = n + 1;
        let w = words(line).with_context(|| format!("update command on line {n}"))?;
        let (verb, rest) = w.split_first().expect("a non-empty line has a word");
        let mut d = defaults;
        let mut args = Vec::new();
        for word in rest {
            match (verb.as_str(), word.as_str()) {
                ("delete", "--force") => d.force = true,
                ("delete", "--recursive") => d.recursive = true,
                ("add", "--no-replace") => d.no_replace = true,
                ("add", "--no-acls" | "--strict-acls") => {}
                (_, o) if o.starts_with("--") => {
                    bail!("unknown option {o:?} to update command {verb:?} on line {n}")
                }
                _ => args.push(word.clone()),
            }
        }
        let want = match verb.as_str() {
            "add" | "rename" => 2,
            "delete" => 1,
            _ => bail!("unknown update command {verb:?} on line {n}"),
        };
        if args.len() != want {
            bail!(
                "update command {verb:?} on line {n} takes {want} paths, not {}",
                args.len()
            );
        }
        cmds.push(match verb.as_str() {
            "add" => UpdateCommand::Add {
                source: PathBuf::from(&args[0]),
                dest: args[1].clone(),
                no_replace: d.no_replace,
            },
            "delete" => UpdateCommand::Delete {
                path: args[0].clone(),
                force: d.force,
                recursive: d.recursive,
            },
            _ => UpdateCommand::Rename {
                from: args[0].clone(),
                to: args[1].clone(),
            },
        });
    }
    Ok(cmds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_with_quotes_comments_and_options() {
        let c = parse_commands(
            "# comment\n\n  add 'Some File' \"/a b\"\ndelete --force --recursive /x\nrename /a /b\n",
            Defaults::default(),
        )
        .expect("parses");
        assert_eq!(c.len(), 3);
        assert!(matches!(&c[0], UpdateCommand::Add { source, dest, .. }
            if source == Path::new("Some File") && dest == "/a b"));
        assert!(matches!(
            &c[1],
            UpdateCommand::Delete {
                force: true,
                recursive: true,
                ..
            }
        ));
        assert!(parse_commands("delete --invalid /", Defaults::default()).is_err());
        assert!(parse_commands("delete / /other", Defaults::default()).is_err());
        assert!(parse_commands("invalid /", Defaults::default()).is_err());
    }

    #[test]
    fn utf16_command_files() {
        let text: Vec<u8> = "add a /b"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&text), "add a /b");
        let mut bom = vec![0xFF, 0xFE];
        bom.extend(&text);
        assert_eq!(decode(&bom), "add a /b");
    }
}
