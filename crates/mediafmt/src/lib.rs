//! The files on task sequence media that the media builder (`tsmedia-media`) writes and the
//! boot-time runtime (`tsmedia-client`) reads, each with one home both sides use:
//!
//! - [`variables`]: `Variables.dat` plaintext (the media variables as UTF-16LE XML),
//!   `SMS/data/TsmBootstrap.ini` and `MediaLabel.txt`.
//! - [`secret`]: sealing and opening `Variables.dat` and `policy.xml` (Argon2id over the media
//!   password + XChaCha20-Poly1305), and the seeded randomness of reproducible builds.
//! - [`manifest`]: `SMS/data/ContentManifest.json`, the SHA-256 of every staged content file,
//!   which the runtime checks before it uses staged content.
//! - [`software`]: the software policy (programs of packages, deployment types of
//!   applications) that stand-alone media carry sealed and the management point serves.
//! - [`certificate`]: the media certificate as the runtime needs it: the PFX opened into
//!   certificate and key, its validity dates and its thumbprint (the site's certificate ID).
//!   Creating and importing certificates is the builder's (`tsmedia-media`).
//!
//! Not here: the layout of the media (which file goes where on which disc) and anything that
//! needs the site; those are the builder's.

pub mod certificate;
mod error;
pub mod manifest;
pub mod secret;
pub mod software;
pub mod variables;

pub use error::{Error, Result};

/// `TsmBootstrap.ini` ([`variables::bootstrap_ini`]), from the media root.
pub const BOOTSTRAP_PATH: &str = "SMS/data/TsmBootstrap.ini";
/// The sealed media variables ([`variables::to_xml`], [`secret::seal`]), from the media root.
pub const VARIABLES_PATH: &str = "SMS/data/Variables.dat";
/// The sealed task sequence policy of stand-alone media, from the media root.
pub const POLICY_PATH: &str = "SMS/data/policy.xml";
/// The label and disc number of each disc ([`variables::media_label`]), at the media root.
pub const LABEL_PATH: &str = "MediaLabel.txt";
pub use manifest::{ContentManifest, MANIFEST_PATH, ManifestFile, ManifestPackage, SplitWimPart};
