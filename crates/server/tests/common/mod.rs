//! A generated site for the server tests: a package on DP1, two MPs, a known computer in a
//! collection with a variable, four deployments and four media certificates.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tsmedia_protocol::signing::{RequestSigner, SignedRequest};
use tsmedia_site::{Availability, PackageOptions, PackageType, Purpose, Site};

pub const GUID: &str = "4C4C4544-0042-3510-8052-B4C04F564433";
pub const MAC: &str = "00:15:5D:01:02:03";
/// PC2, in collection Lab2 only.
pub const GUID2: &str = "4C4C4544-0042-3510-8052-B4C04F564434";
/// `OSDJoinPassword` of collection Lab (PC1's): must never be seen in clear on the wire.
pub const JOIN_SECRET: &str = "Lab-J0in-S3cret!";
/// `OSDJoinPassword` of collection Lab2 (PC2's): must never reach PC1's media.
pub const JOIN_SECRET2: &str = "Lab2-J0in-S3cret!";
pub const READER: &str = "LAB\\naa";
/// A principal without read access.
pub const GUEST: &str = "LAB\\guest";
/// The host the in-process requests are addressed to.
pub const HOST: &str = "mp.test";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub site_dir: PathBuf,
    pub package_id: String,
    pub content_id: String,
    pub other_content_id: String,
    pub big_path: String,
    pub big: Vec<u8>,
    pub pc1: i64,
    /// PC2, in collection Lab2, with its own deployment.
    pub pc2: i64,
    pub dep_lab2: String,
    pub good: Arc<RequestSigner>,
    pub blocked: Arc<RequestSigner>,
    pub expired: Arc<RequestSigner>,
    pub unregistered: Arc<RequestSigner>,
    /// Registered; the site's record: no unknown computers, reads DPs as [`GUEST`].
    pub guest: Arc<RequestSigner>,
    pub dep_visible: String,
    pub dep_hidden: String,
    pub dep_clients: String,
}

/// Deterministic bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn media_cert(valid: Option<(i32, i32)>) -> (Vec<u8>, Arc<RequestSigner>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["media".into()]).unwrap();
    if let Some((from, to)) = valid {
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
    }
    let cert = params.self_signed(&key).unwrap();
    let der = cert.der().to_vec();
    let signer = RequestSigner::new(&der, &key.serialize_der()).unwrap();
    (der, Arc::new(signer))
}

/// Builds the site. `dp_url` and `mps` (name, URL, boundaries) are what the site records.
pub fn fixture(dp_url: &str, mps: &[(&str, &str, &[&str])], big_len: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("site");
    let mut site = Site::init(&site_dir, "PS1", Some("Test")).unwrap();

    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("sub dir")).unwrap();
    let big = data(big_len, 7);
    std::fs::write(src.join("sub dir/big file.bin"), &big).unwrap();
    std::fs::write(src.join("small.txt"), b"hello\n").unwrap();
    let pkg = site
        .add_package(
            PackageType::Package,
            "Tools",
            &src,
            &PackageOptions::default(),
        )
        .unwrap();
    let src2 = dir.path().join("src2");
    std::fs::create_dir_all(&src2).unwrap();
    std::fs::write(src2.join("other.txt"), b"not distributed").unwrap();
    let other = site
        .add_package(
            PackageType::Package,
            "Other",
            &src2,
            &PackageOptions::default(),
        )
        .unwrap();

    site.add_distribution_point("DP1", dp_url).unwrap();
    site.distribute(std::slice::from_ref(&pkg.id), "DP1")
        .unwrap();
    site.grant_dp_read("DP1", READER).unwrap();
    for (name, url, bounds) in mps {
        let b: Vec<String> = bounds.iter().map(|s| s.to_string()).collect();
        site.add_management_point(name, url, &b).unwrap();
    }
    let pc1 = site.import_computer("PC1", GUID, MAC).unwrap().id;
    site.add_collection("Lab").unwrap();
    site.add_collection_members("Lab", &["PC1".to_string()])
        .unwrap();
    site.set_collection_variable("Lab", "OSDComputerName", "LAB-PC1")
        .unwrap();
    site.set_collection_variable("Lab", "OSDJoinPassword", JOIN_SECRET)
        .unwrap();
    let pc2 = site
        .import_computer("PC2", GUID2, "00:15:5D:01:02:04")
        .unwrap()
        .id;
    site.add_collection("Lab2").unwrap();
    site.add_collection_members("Lab2", &["PC2".to_string()])
        .unwrap();
    site.set_collection_variable("Lab2", "OSDJoinPassword", JOIN_SECRET2)
        .unwrap();
    site.set_collection_variable("Lab2", "Lab2Only", "yes")
        .unwrap();

    let xml = format!(
        r#"<sequence version="3.10"><step type="SMS_TaskSequence_InstallSoftwareAction" name="Install Tools"><action>smsswd.exe /pkg:{} /install /basevar: /continueOnError=</action></step></sequence>"#,
        pkg.id
    );
    let ts = |site: &mut Site, name: &str| site.import_task_sequence(&xml, name, None).unwrap().id;
    let ts1 = ts(&mut site, "Deploy");
    let ts2 = ts(&mut site, "Hidden");
    let ts3 = ts(&mut site, "ClientsOnly");
    let dep_visible = site
        .deploy(&ts1, "Lab", Availability::MediaPxe, Purpose::Available)
        .unwrap()
        .id;
    let dep_hidden = site
        .deploy(
            &ts2,
            "Lab",
            Availability::MediaPxeHidden,
            Purpose::Available,
        )
        .unwrap()
        .id;
    let dep_clients = site
        .deploy(&ts3, "Lab", Availability::Clients, Purpose::Required)
        .unwrap()
        .id;
    let dep_lab2 = site
        .deploy(&ts1, "Lab2", Availability::MediaPxe, Purpose::Available)
        .unwrap()
        .id;

    let (good_der, good) = media_cert(None);
    let (blocked_der, blocked) = media_cert(None);
    let (expired_der, expired) = media_cert(Some((2020, 2021)));
    let (_, unregistered) = media_cert(None);
    let g = site.register_certificate(&good_der).unwrap();
    // What the media builder records: `good` media allow unknown computers and read DPs as
    // READER; `guest` media neither.
    site.record_media(&g.id, true, Some(READER)).unwrap();
    let (guest_der, guest) = media_cert(None);
    let gu = site.register_certificate(&guest_der).unwrap();
    site.record_media(&gu.id, false, Some(GUEST)).unwrap();
    let b = site.register_certificate(&blocked_der).unwrap();
    site.set_certificate_blocked(&b.id, true).unwrap();
    site.register_certificate(&expired_der).unwrap();

    Fixture {
        dir,
        site_dir,
        package_id: pkg.id,
        content_id: pkg.content_id,
        other_content_id: other.content_id,
        big_path: "sub dir/big file.bin".into(),
        big,
        pc1,
        pc2,
        dep_lab2,
        good,
        blocked,
        expired,
        unregistered,
        guest,
        dep_visible,
        dep_hidden,
        dep_clients,
    }
}

/// A request signed by `signer` (unsigned with `None`), with an optional principal.
pub fn request(
    signer: Option<&RequestSigner>,
    method: &str,
    path: &str,
    body: &[u8],
    principal: Option<&str>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", HOST);
    if let Some(p) = principal {
        b = b.header("x-tsmedia-principal", p);
    }
    if let Some(s) = signer {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let h = s
            .sign(
                &SignedRequest {
                    method,
                    host: HOST,
                    path_and_query: path,
                    body,
                    principal: principal.unwrap_or(""),
                },
                now,
            )
            .unwrap();
        for (k, v) in h.pairs() {
            b = b.header(k, v);
        }
    }
    if !body.is_empty() {
        b = b.header("content-type", "application/json");
    }
    b.body(Body::from(body.to_vec())).unwrap()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn site_dir(f: &Fixture) -> &Path {
    &f.site_dir
}
