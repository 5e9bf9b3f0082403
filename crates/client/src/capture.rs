//! The questions capture media ask at boot (`docs/media.md`, "Capture media"), as
//! Configuration Manager's Image Capture Wizard does: where to write the image and its
//! properties. A setting the media already give (`--variable` when they were built, or the
//! prestart command) is not asked; unattended media and a runtime without a terminal ask
//! nothing, and a missing destination then fails the capture step, naming the variable.

use std::io::{BufRead, IsTerminal, Write};

use tsmedia_tasksequence::{LogSink, Variables};

use crate::error::{Error, Result};

/// The settings asked for, with what each is.
pub const CAPTURE_SETTINGS: &[(&str, &str)] = &[
    (
        "OSDCaptureDestination",
        "WIM file to write (a local path or a path below a mounted share)",
    ),
    ("OSDImageName", "image name"),
    ("OSDImageDescription", "image description"),
    ("OSDImageVersion", "image version"),
    ("OSDImageCreator", "created by"),
];

/// Asks for the capture settings not set in `env`, on the terminal (standard error and
/// standard input) when there is one and the media are attended.
pub fn ask_capture_settings(
    env: &mut Variables,
    unattended: bool,
    log: &mut dyn LogSink,
) -> Result<()> {
    let missing: Vec<(&str, &str)> = CAPTURE_SETTINGS
        .iter()
        .copied()
        .filter(|(name, _)| env.get(name).is_none_or(|v| v.trim().is_empty()))
        .collect();
    if missing.is_empty() {
        crate::run::info(log, "Capture settings given by the media".into());
        return Ok(());
    }
    let names = missing
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    if unattended || !std::io::stdin().is_terminal() {
        crate::run::info(
            log,
            format!("Not asking for {names}: the media are unattended or there is no terminal"),
        );
        return Ok(());
    }
    let mut input = std::io::stdin().lock();
    for (name, what) in missing {
        eprint!("{what} ({name}): ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| Error::Media(format!("reading {name}: {e}")))?;
        let value = line.trim();
        if !value.is_empty() {
            env.set(name, value)
                .map_err(|e| Error::Media(format!("{name}: {e}")))?;
            crate::run::info(log, format!("{name} given at boot"));
        }
    }
    Ok(())
}
