//! The blocking client of the management point and distribution point, for the boot-time
//! runtime: MP location with fallback over a priority list, identity, deployments, policy,
//! content location, and resumable downloads verified against the DP's manifest.
//!
//! With [`ClientOptions::site_key`] (the runtime always sets it, from its media) every answer
//! of a management point must carry the site's signature ([`crate::reply`]); one that does
//! not is refused with [`ClientError::UnsignedReply`], which names the management point.
//!
//! ```no_run
//! use tsmedia_protocol::client::{ClientOptions, SiteClient};
//! # fn main() -> Result<(), tsmedia_protocol::client::ClientError> {
//! let client = SiteClient::new(ClientOptions::default())?;
//! let (mp, location) = client.locate_mp(&["http://mp1:8080".into(), "http://mp2:8080".into()], None)?;
//! # Ok(()) }
//! ```

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::api::{
    ContentLocations, DP_PREFIX, DeploymentList, DeploymentsRequest, ErrorBody, Identity,
    IdentityRequest, MP_PREFIX, Manifest, MpLocation, Policy, PolicyRequest, encode_path,
};
use crate::reply::{self, NONCE_HEADER, ReplyError, SignedReply};
use crate::signing::{PRINCIPAL_HEADER, RequestSigner, SignedRequest, SigningError};

/// Largest JSON answer read (a task sequence policy with its XML is well under this).
mod download;
pub use download::{MAX_RETRY_DELAY, partial_path};

const MAX_JSON: u64 = 16 * 1024 * 1024;

/// What can go wrong talking to the site.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached or the connection broke.
    #[error("{url}: {reason}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{url}: {status} {code}: {message}")]
    Refused {
        /// The request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The `code` of the error body (`http_<status>` when there was none).
        code: String,
        /// The `error` of the error body.
        message: String,
    },
    /// The answer could not be understood.
    #[error("{url}: {reason}")]
    Protocol {
        /// The request URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// No management point of the list answered.
    #[error("no management point answered: {}", .0.join("; "))]
    NoManagementPoint(Vec<String>),
    /// A downloaded file does not match the manifest.
    #[error("{}: {what} is {actual}, the manifest says {expected}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// `size` or `SHA-256`.
        what: &'static str,
        /// Manifest value.
        expected: String,
        /// Downloaded value.
        actual: String,
    },
    /// A local file could not be read or written; the operating system's reason is the source.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A request could not be signed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// [`ClientOptions::cancel`] was cancelled during a download; the partial file is kept
    /// for the next attempt to resume.
    #[error(transparent)]
    Cancelled(#[from] tsmedia_base::Cancelled),
    /// A management point's answer is not signed by the site the media belong to: whoever
    /// answered at that address is not trusted.
    #[error("{url}: answer refused: {reason}; it may not come from the site")]
    UnsignedReply {
        /// The request URL (names the management point).
        url: String,
        /// Unsigned, or signed by another key.
        reason: ReplyError,
    },
}

impl ClientError {
    /// Whether another server might do better (unreachable, or a 5xx).
    pub fn is_server_side(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How the client talks to the site.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Signs every request with the media certificate. Default: `None` (unsigned; the
    /// management point refuses unsigned requests).
    pub signer: Option<Arc<RequestSigner>>,
    /// Principal sent to distribution points (`X-Tsmedia-Principal`). Default: `None`
    /// (the DP treats the request as `Anonymous`).
    pub principal: Option<String>,
    /// Root certificates (DER) trusted for HTTPS; when empty, the Web PKI roots. Default: empty.
    pub root_certs: Vec<Vec<u8>>,
    /// The site's Ed25519 public key: when given, every management point answer must be
    /// signed with it ([`crate::reply`]). Default: `None`, which trusts whoever answers (for
    /// tools and tests; the runtime always gives the key its media carry).
    pub site_key: Option<[u8; 32]>,
    /// Time limit for connecting (per attempt). Default: 10 s.
    pub connect_timeout: Duration,
    /// Time limit for each read and write on the connection — the response head, each part
    /// of a download body — so a stalled server ends the attempt. Default: 60 s.
    pub read_timeout: Duration,
    /// Further attempts of a download that failed on the network or the server's side,
    /// each resuming from the last byte received. Default: 4.
    pub retries: u32,
    /// Wait before the first retry, doubled for each next one (at most
    /// [`MAX_RETRY_DELAY`]). Default: 1 s.
    pub retry_delay: Duration,
    /// Stops a download between reads with [`ClientError::Cancelled`]. Default: never.
    pub cancel: tsmedia_base::Cancel,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            signer: None,
            principal: None,
            root_certs: Vec::new(),
            site_key: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retries: 4,
            retry_delay: Duration::from_secs(1),
            cancel: tsmedia_base::Cancel::default(),
        }
    }
}

/// What a download did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadReport {
    /// Files now complete and verified.
    pub files: u64,
    /// Bytes received over the network.
    pub bytes_downloaded: u64,
    /// Bytes that were already there (resumed partial files and complete files kept).
    pub bytes_reused: u64,
}

/// A client of the site's management and distribution points.
#[derive(Debug, Clone)]
pub struct SiteClient {
    agent: Agent,
    options: ClientOptions,
}

/// Unix seconds, for the signed timestamp (0 on a clock before 1970, which the MP refuses as
/// stale, as it should).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl SiteClient {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Result<SiteClient, ClientError> {
        let mut tls = TlsConfig::builder();
        if !options.root_certs.is_empty() {
            let certs: Vec<Certificate<'static>> = options
                .root_certs
                .iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect();
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            // A large body may take long; a silent connection may not (issue #15, L3).
            .timeout_recv_body(None)
            .timeout_per_read(Some(options.read_timeout))
            .timeout_per_write(Some(options.read_timeout))
            .tls_config(tls.build())
            .build()
            .into();
        Ok(SiteClient { agent, options })
    }

    fn signed_headers(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        principal: &str,
    ) -> Result<Vec<(&'static str, String)>, ClientError> {
        let mut out = Vec::new();
        if !principal.is_empty() {
            out.push((PRINCIPAL_HEADER, principal.to_string()));
        }
        if let Some(signer) = &self.options.signer {
            let target = path_and_query(url);
            let sig = signer.sign(
                &SignedRequest {
                    method,
                    host: host_of(url),
                    path_and_query: &target,
                    body,
                    principal,
                },
                now(),
            )?;
            out.extend(sig.pairs());
        }
        Ok(out)
    }

    fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        principal: &str,
        extra: &[(&str, String)],
    ) -> Result<ureq::http::Response<ureq::Body>, ClientError> {
        let headers = self.signed_headers(method, url, body.unwrap_or(b""), principal)?;
        let unreachable = |e: ureq::Error| ClientError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let resp = if let Some(body) = body {
            let mut req = self
                .agent
                .post(url)
                .header("content-type", "application/json");
            for (k, v) in headers
                .iter()
                .map(|(k, v)| (*k, v))
                .chain(extra.iter().map(|(k, v)| (*k, v)))
            {
                req = req.header(k, v);
            }
            req.send(body).map_err(unreachable)?
        } else {
            let mut req = self.agent.get(url);
            for (k, v) in headers
                .iter()
                .map(|(k, v)| (*k, v))
                .chain(extra.iter().map(|(k, v)| (*k, v)))
            {
                req = req.header(k, v);
            }
            req.call().map_err(unreachable)?
        };
        if resp.status().is_client_error() || resp.status().is_server_error() {
            return Err(refusal(url, resp));
        }
        Ok(resp)
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str, principal: &str) -> Result<T, ClientError> {
        let resp = self.call("GET", url, None, principal, &[])?;
        read_json(url, resp)
    }

    /// A management point request: sends a reply nonce, and checks the site's signature of
    /// the answer when the site key is known.
    fn mp_json<T: DeserializeOwned>(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<T, ClientError> {
        let nonce = reply::new_nonce()?;
        let mut resp = self.call(method, url, body, "", &[(NONCE_HEADER, nonce.clone())])?;
        let status = resp.status().as_u16();
        let signature = resp
            .headers()
            .get(reply::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| ClientError::Protocol {
                url: url.to_string(),
                reason: format!("reading the answer: {e}"),
            })?;
        if let Some(key) = &self.options.site_key {
            let signed = SignedReply {
                method,
                path_and_query: &path_and_query(url),
                request_body: body.unwrap_or(b""),
                nonce: &nonce,
                status,
                body: &bytes,
            };
            reply::verify(key, &signed, signature.as_deref()).map_err(|reason| {
                ClientError::UnsignedReply {
                    url: url.to_string(),
                    reason,
                }
            })?;
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url: url.to_string(),
            reason: format!("reading the answer: {e}"),
        })
    }

    fn post_json<T: DeserializeOwned>(
        &self,
        url: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Protocol {
            url: url.to_string(),
            reason: format!("encoding the request: {e}"),
        })?;
        self.mp_json("POST", url, Some(&body))
    }

    /// Asks the management points of `mps` (base URLs, in priority order) for the MP location
    /// of this client; the first that answers is used, unreachable ones and 5xx answers are
    /// passed over. A 4xx (a refused certificate, say) ends the search: every MP of a site
    /// would say the same. `ip` is the client address to locate (default: the address the
    /// MP sees). Returns the MP that answered and its answer.
    pub fn locate_mp(
        &self,
        mps: &[String],
        ip: Option<IpAddr>,
    ) -> Result<(String, MpLocation), ClientError> {
        let mut failures = Vec::new();
        for mp in mps {
            let base = mp.trim_end_matches('/');
            let mut url = format!("{base}{MP_PREFIX}/location");
            if let Some(ip) = ip {
                url.push_str(&format!("?ip={ip}"));
            }
            match self.mp_json::<MpLocation>("GET", &url, None) {
                Ok(loc) => return Ok((base.to_string(), loc)),
                Err(e) if e.is_server_side() => failures.push(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::NoManagementPoint(failures))
    }

    /// The computer record the site uses for this machine.
    pub fn identity(&self, mp: &str, req: &IdentityRequest) -> Result<Identity, ClientError> {
        self.post_json(&mp_url(mp, "identity"), req)
    }

    /// The deployments available to media for this computer.
    pub fn deployments(
        &self,
        mp: &str,
        req: &DeploymentsRequest,
    ) -> Result<DeploymentList, ClientError> {
        self.post_json(&mp_url(mp, "deployments"), req)
    }

    /// The policy of a deployment, its secret variables opened: the request carries a fresh
    /// recipient key ([`crate::seal`]; any `recipient_key` of `req` is replaced), the answer's
    /// sealed values are opened with it. Secret variables keep `secret: true`.
    pub fn policy(&self, mp: &str, req: &PolicyRequest) -> Result<Policy, ClientError> {
        let url = mp_url(mp, "policy");
        let sealed = |e: crate::seal::SealError| ClientError::Protocol {
            url: url.clone(),
            reason: e.to_string(),
        };
        let key = crate::seal::RecipientKey::generate().map_err(sealed)?;
        let req = PolicyRequest {
            recipient_key: Some(key.public_base64()),
            ..req.clone()
        };
        let mut policy: Policy = self.post_json(&url, &req)?;
        key.open(policy.sealed_by.as_deref(), &mut policy.variables)
            .map_err(sealed)?;
        Ok(policy)
    }

    /// The distribution points holding a content version.
    pub fn content_locations(
        &self,
        mp: &str,
        content_id: &str,
    ) -> Result<ContentLocations, ClientError> {
        let url = mp_url(
            mp,
            &format!("content/{}/locations", encode_path(content_id)),
        );
        let locations: ContentLocations = self.mp_json("GET", &url, None)?;
        for f in &locations.files {
            safe_relative(&f.path).map_err(|reason| ClientError::Protocol {
                url: url.clone(),
                reason,
            })?;
        }
        Ok(locations)
    }

    fn principal(&self) -> &str {
        self.options.principal.as_deref().unwrap_or("")
    }

    /// The manifest a distribution point publishes for a content version.
    pub fn manifest(&self, dp: &str, content_id: &str) -> Result<Manifest, ClientError> {
        let url = format!(
            "{}{DP_PREFIX}/content/{}/manifest",
            dp.trim_end_matches('/'),
            encode_path(content_id)
        );
        let manifest: Manifest = self.get_json(&url, self.principal())?;
        for f in &manifest.files {
            safe_relative(&f.path).map_err(|reason| ClientError::Protocol {
                url: url.clone(),
                reason,
            })?;
        }
        Ok(manifest)
    }
}

fn mp_url(mp: &str, rest: &str) -> String {
    format!("{}{MP_PREFIX}/{rest}", mp.trim_end_matches('/'))
}

/// `/path?query` of a URL, as the server sees it.
fn path_and_query(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    }
}

/// `host[:port]` of a URL: what the request is signed for (the server compares it with the
/// `Host` header it receives).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Credentials in a URL are not part of the host.
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// A manifest path must stay inside the download folder (tsmedia's one rule set).
fn safe_relative(path: &str) -> Result<(), String> {
    tsmedia_base::safe_path::check_relative(path)
        .map_err(|e| format!("unsafe path in manifest: {path:?}: {}", e.reason()))
}

fn refusal(url: &str, mut resp: ureq::http::Response<ureq::Body>) -> ClientError {
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_json::<ErrorBody>()
        .ok();
    ClientError::Refused {
        url: url.to_string(),
        status,
        code: body
            .as_ref()
            .map_or_else(|| format!("http_{status}"), |b| b.code.clone()),
        message: body.map_or_else(String::new, |b| b.error),
    }
}

fn read_json<T: DeserializeOwned>(
    url: &str,
    mut resp: ureq::http::Response<ureq::Body>,
) -> Result<T, ClientError> {
    resp.body_mut()
        .with_config()
        .limit(MAX_JSON)
        .read_json()
        .map_err(|e| ClientError::Protocol {
            url: url.to_string(),
            reason: format!("reading the answer: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_safety() {
        assert_eq!(path_and_query("http://h:1/mp/v1/x?ip=1"), "/mp/v1/x?ip=1");
        assert_eq!(path_and_query("https://h"), "/");
        assert_eq!(
            host_of("http://127.0.0.1:8080/mp/v1/x?ip=1"),
            "127.0.0.1:8080"
        );
        assert_eq!(host_of("https://u:p@mp.lab?x"), "mp.lab");
        assert!(safe_relative("a/b.wim").is_ok());
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b"] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            partial_path(Path::new("/x/y.wim")),
            PathBuf::from("/x/y.wim.partial")
        );
    }
}
