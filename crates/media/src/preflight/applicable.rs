//! Options that do not apply to the chosen media type are refused, naming the option and the
//! type, rather than silently ignored (`docs/media.md`, "What the wizard asks"). The wizard
//! shows each page only for the media types it concerns: the Images and Media Properties pages
//! for prestaged media, the Media Type page (USB or CD/DVD) for the others, user device
//! affinity and media management (MPs) for media that talk to a site, and the validity window
//! for stand-alone media.

use super::{Checker, PreflightFailure};
use crate::spec::{MediaKind, MediaSpec, MediaType, MpMode, Uda};
use tsmedia_base::ErrorClass;

use MediaKind::{Bootable, Capture, Prestaged, Standalone};

/// Each option and the media types it does not apply to, with the reason.
const NOT_FOR: &[(&str, &[MediaKind], &str)] = &[
    (
        "--os-image",
        &[Bootable, Standalone, Capture],
        "only prestaged media carry an OS image of their own; other media take it from the task sequence",
    ),
    (
        "--os-image-index",
        &[Bootable, Standalone, Capture],
        "only prestaged media carry an OS image of their own",
    ),
    (
        "--application",
        &[Bootable, Capture],
        "these media carry no content (only prestaged and stand-alone media do)",
    ),
    (
        "--package",
        &[Bootable, Capture],
        "these media carry no content (only prestaged and stand-alone media do)",
    ),
    (
        "--driver-package",
        &[Bootable, Capture],
        "these media carry no content (only prestaged and stand-alone media do)",
    ),
    (
        "--include-dependencies",
        &[Bootable, Capture],
        "these media carry no content (only prestaged and stand-alone media do)",
    ),
    (
        "--created-by",
        &[Bootable, Standalone, Capture],
        "media properties belong to prestaged media",
    ),
    (
        "--version",
        &[Bootable, Standalone, Capture],
        "media properties belong to prestaged media",
    ),
    (
        "--comment",
        &[Bootable, Standalone, Capture],
        "media properties belong to prestaged media",
    ),
    (
        "--type",
        &[Prestaged],
        "prestaged media are one WIM file, neither a USB drive nor a CD/DVD set",
    ),
    (
        "--size",
        &[Prestaged],
        "prestaged media are one WIM file, not discs",
    ),
    (
        "--format",
        &[Prestaged],
        "prestaged media are one WIM file, not a USB drive",
    ),
    (
        "--autorun",
        &[Prestaged],
        "prestaged media are one WIM file, not discs",
    ),
    (
        "--ts",
        &[Capture],
        "capture media carry their own capture task sequence",
    ),
    (
        "--uda",
        &[Standalone, Capture],
        "user device affinity is set with a site; these media never contact one",
    ),
    (
        "--allow-unknown",
        &[Standalone, Capture],
        "unknown computer support is a site's; these media never contact one",
    ),
    (
        "--mode",
        &[Standalone, Capture],
        "these media never contact a management point",
    ),
    (
        "--mp",
        &[Standalone, Capture],
        "these media never contact a management point",
    ),
    (
        "--start-date",
        &[Bootable, Prestaged, Capture],
        "only stand-alone media have a validity window",
    ),
    (
        "--expiration-date",
        &[Bootable, Prestaged, Capture],
        "only stand-alone media have a validity window",
    ),
];

/// The refusal of `option` on `kind` media, when it does not apply to them.
pub fn refusal(kind: MediaKind, option: &str) -> Option<PreflightFailure> {
    let (_, _, why) = NOT_FOR
        .iter()
        .find(|(o, kinds, _)| *o == option && kinds.contains(&kind))?;
    Some(PreflightFailure {
        object: option.to_string(),
        problem: format!("does not apply to {kind} media: {why}"),
        fix: format!("drop {option}, or choose another media type"),
        class: ErrorClass::InvalidInput,
    })
}

/// Refuses every option of `spec` that is set and does not apply to its media type. Options
/// with a default (`--type`, `--mode`, `--uda`) are seen here only when they differ from it;
/// the command line also refuses them when given explicitly ([`refusal`]).
pub(super) fn check(c: &mut Checker, spec: &MediaSpec) {
    let set = [
        ("--os-image", spec.os_image.is_some()),
        ("--os-image-index", spec.os_image_index.is_some()),
        ("--application", !spec.application.is_empty()),
        ("--package", !spec.package.is_empty()),
        ("--driver-package", !spec.driver_package.is_empty()),
        ("--include-dependencies", spec.include_dependencies),
        ("--created-by", spec.created_by.is_some()),
        ("--version", spec.version.is_some()),
        ("--comment", spec.comment.is_some()),
        ("--type", spec.media_type != MediaType::default()),
        ("--size", spec.size.is_some()),
        ("--format", spec.format),
        ("--autorun", spec.autorun),
        ("--ts", spec.ts.is_some()),
        ("--uda", spec.uda != Uda::default()),
        ("--allow-unknown", spec.allow_unknown),
        ("--mode", spec.mode != MpMode::default()),
        ("--mp", !spec.mp.is_empty()),
        ("--start-date", spec.start_date.is_some()),
        ("--expiration-date", spec.expiration_date.is_some()),
    ];
    for (option, given) in set {
        if given && let Some(f) = refusal(spec.kind, option) {
            c.failures.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (kind, option, refused) in [
            (Bootable, "--os-image", true),
            (Prestaged, "--os-image", false),
            (Standalone, "--package", false),
            (Bootable, "--package", true),
            (Prestaged, "--type", true),
            (Standalone, "--type", false),
            (Capture, "--ts", true),
            (Bootable, "--ts", false),
            (Standalone, "--mp", true),
            (Prestaged, "--mp", false),
            (Standalone, "--uda", true),
            (Standalone, "--expiration-date", false),
        ] {
            assert_eq!(refusal(kind, option).is_some(), refused, "{kind} {option}");
        }
        let f = refusal(Standalone, "--uda").unwrap();
        assert!(f.to_string().contains("--uda") && f.to_string().contains("standalone media"));
    }
}
