//! The wire types of the management point and distribution point (JSON), shared by the
//! server and the client.
//!
//! Endpoints (all JSON; errors are an [`ErrorBody`] `{error, code}` with a 4xx or 500 status;
//! every management point answer carries the site's signature, [`crate::reply`]):
//!
//! | method, path | role | body → answer |
//! |---|---|---|
//! | `GET /mp/v1/location?ip=A` | MP, signed | → [`MpLocation`] (`ip` defaults to the peer address) |
//! | `POST /mp/v1/identity` | MP, signed | [`IdentityRequest`] → [`Identity`] |
//! | `POST /mp/v1/deployments` | MP, signed | [`DeploymentsRequest`] → [`DeploymentList`] |
//! | `POST /mp/v1/policy` | MP, signed | [`PolicyRequest`] → [`Policy`] |
//! | `GET /mp/v1/content/{content_id}/locations` | MP, signed | → [`ContentLocations`] |
//! | `GET /dp/v1/content/{content_id}/manifest` | DP, read access | → [`Manifest`] |
//! | `GET /dp/v1/content/{content_id}/files/{path}` | DP, read access | → the file; `Range: bytes=` honoured (206) |

use serde::{Deserialize, Serialize};

/// Path prefix of the management point.
pub const MP_PREFIX: &str = "/mp/v1";
/// Path prefix of the distribution point.
pub const DP_PREFIX: &str = "/dp/v1";

/// A management point as the location answer names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MpEntry {
    /// Its name at the site.
    pub name: String,
    /// Its base URL.
    pub url: String,
}

/// The answer to an MP location request: the management points serving the client, the ones
/// whose boundaries contain its address first, then those serving every client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MpLocation {
    /// The site code.
    pub site_code: String,
    /// The address the answer is for.
    pub client_ip: String,
    /// Management points to use, best first.
    pub management_points: Vec<MpEntry>,
}

/// Who is asking: the booting computer's identifiers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct IdentityRequest {
    /// SMBIOS GUID (any of the usual spellings).
    #[serde(default)]
    pub smbios_guid: Option<String>,
    /// MAC addresses of the computer's network adapters.
    #[serde(default)]
    pub macs: Vec<String>,
    /// Processor architecture (`x86`, `x64`, `arm64`), for the Unknown Computer record.
    pub arch: String,
    /// Whether the media allow unknown computers (the "Enable unknown computer support"
    /// option of the media).
    #[serde(default)]
    pub allow_unknown: bool,
}

/// The computer record the site uses for this machine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// Resource ID.
    pub resource_id: i64,
    /// Computer name (e.g. `x64 Unknown Computer`).
    pub name: String,
    /// The site's client GUID of the record.
    pub sms_guid: String,
    /// Whether this is an Unknown Computer record.
    pub unknown: bool,
    /// The site-signed identity token ([`crate::identity_token`]) that deployment and policy
    /// requests for this computer must carry.
    #[serde(default)]
    pub token: String,
}

/// Which deployments may this computer run from media?
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentsRequest {
    /// Resource ID from [`Identity`]; it must be the one [`Self::identity_token`] names.
    pub resource_id: i64,
    /// [`Identity::token`].
    #[serde(default)]
    pub identity_token: String,
    /// `SMSTSPreferredAdvertID`, if the media or prestart command set it.
    #[serde(default)]
    pub preferred_advert_id: Option<String>,
}

/// One deployment offered to media.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OfferedDeployment {
    /// Deployment (advertisement) ID.
    pub id: String,
    /// Task sequence ID.
    pub ts_id: String,
    /// Task sequence name.
    pub ts_name: String,
    /// Target collection.
    pub collection_id: String,
    /// `available` or `required`.
    pub purpose: String,
    /// Availability (`clients-media-pxe`, `media-pxe`, `media-pxe-hidden`).
    pub availability: String,
}

/// Deployments available to media for a computer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentList {
    /// Visible deployments, and the hidden one `SMSTSPreferredAdvertID` names.
    pub deployments: Vec<OfferedDeployment>,
    /// The deployment `SMSTSPreferredAdvertID` names, when it is among them.
    pub preferred: Option<String>,
}

/// Policy of one deployment for one computer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyRequest {
    /// Deployment ID.
    pub deployment_id: String,
    /// Resource ID from [`Identity`]; it must be the one [`Self::identity_token`] names.
    pub resource_id: i64,
    /// [`Identity::token`].
    #[serde(default)]
    pub identity_token: String,
    /// The runtime's one-time X25519 public key (base64) that secret variables are sealed to
    /// ([`crate::seal`]). Required when the policy has secret variables.
    #[serde(default)]
    pub recipient_key: Option<String>,
}

/// A task sequence variable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Value; for a secret variable on the wire, its sealed value ([`crate::seal`]).
    pub value: String,
    /// Whether the variable is secret ([`crate::seal::is_secret_name`]): sealed on the wire,
    /// never logged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A package the task sequence needs and the content version to use.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyReference {
    /// Package ID.
    pub package_id: String,
    /// Current content ID, `<PackageID>.<version>`.
    pub content_id: String,
}

/// The task sequence policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Policy {
    /// Deployment ID.
    pub deployment_id: String,
    /// Task sequence ID.
    pub ts_id: String,
    /// Task sequence name.
    pub ts_name: String,
    /// The task sequence `<sequence>` XML as imported.
    pub sequence_xml: String,
    /// Collection variables of every collection the computer is in (by collection ID; a
    /// later collection's value wins), sorted by name.
    pub variables: Vec<Variable>,
    /// Content the task sequence needs.
    pub references: Vec<PolicyReference>,
    /// The server's one-time X25519 public key (base64) the secret variables are sealed with,
    /// when there are any.
    #[serde(default)]
    pub sealed_by: Option<String>,
    /// The programs and application deployment types its Install Package and Install
    /// Application steps may run (empty from a site before schema version 4).
    #[serde(default)]
    pub software: tsmedia_mediafmt::software::SoftwarePolicy,
}

/// A distribution point holding some content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentLocation {
    /// DP name.
    pub dp: String,
    /// DP base URL.
    pub url: String,
}

/// Where a content version can be downloaded, and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentLocations {
    /// `<PackageID>.<version>`.
    pub content_id: String,
    /// Distribution points holding it, by name.
    pub locations: Vec<ContentLocation>,
    /// Its files with their sizes and SHA-256, as the site recorded them. This answer is
    /// signed by the site, so these are the hashes the runtime checks downloads against (a
    /// DP's own [`Manifest`] is not signed).
    pub files: Vec<ManifestFile>,
}

/// One file of a content version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// Path inside the content, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The files of a content version, as a distribution point publishes them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// `<PackageID>.<version>`.
    pub content_id: String,
    /// Its files, by path.
    pub files: Vec<ManifestFile>,
}

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// A stable machine-readable code, e.g. `certificate_blocked`.
    pub code: String,
}

/// Percent-encodes a content path for a URL (each segment; `/` kept).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
