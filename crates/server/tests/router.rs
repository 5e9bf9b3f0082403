//! Every endpoint and every refusal, in process (`tower::ServiceExt::oneshot`).

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use tsmedia_server::{ServerOptions, router};

const MP1: &str = "http://mp1.test";
const MP2: &str = "http://mp2.test";

fn setup() -> (Fixture, Router) {
    let f = fixture(
        "http://dp1.test",
        &[
            ("MP1", MP1, &["10.1.0.0/16"]),
            ("MP3", "http://mp3.test", &["10.0.0.0/8"]),
            ("MP2", MP2, &[]),
        ],
        300_000,
    );
    let app = router(&f.site_dir, &ServerOptions::default()).unwrap();
    (f, app)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body, headers)
}

async fn json_of(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let (status, body, _) = send(app, req).await;
    let v: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, v)
}

async fn refused(app: &Router, req: Request<Body>, status: StatusCode, code: &str) {
    let (s, v) = json_of(app, req).await;
    assert_eq!((s, v["code"].as_str().unwrap_or("")), (status, code), "{v}");
    assert!(v["error"].is_string(), "{v}");
}

/// Identifies a computer as `signer`'s media: its resource ID and identity token.
async fn identify(
    app: &Router,
    signer: &tsmedia_protocol::signing::RequestSigner,
    body: &Value,
) -> (i64, String) {
    let (s, v) = json_of(
        app,
        request(
            Some(signer),
            "POST",
            "/mp/v1/identity",
            body.to_string().as_bytes(),
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (
        v["resource_id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_string(),
    )
}

/// PC1 identified by `f.good`'s media.
async fn pc1_token(f: &Fixture, app: &Router) -> String {
    let (id, token) = identify(app, &f.good, &json!({"smbios_guid": GUID, "arch": "x64"})).await;
    assert_eq!(id, f.pc1);
    token
}

fn post(f: &Fixture, path: &str, body: &Value) -> Request<Body> {
    request(
        Some(&f.good),
        "POST",
        path,
        body.to_string().as_bytes(),
        None,
    )
}

#[tokio::test]
async fn mp_location_by_boundaries() {
    let (f, app) = setup();
    let (s, v) = json_of(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/location?ip=10.1.2.3",
            b"",
            None,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = v["management_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["MP1", "MP3", "MP2"], "most specific boundary first");
    assert_eq!(v["site_code"], "PS1");
    let (_, v) = json_of(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/location?ip=10.9.0.1",
            b"",
            None,
        ),
    )
    .await;
    assert_eq!(v["management_points"][0]["name"], "MP3");
    let (_, v) = json_of(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/location?ip=192.168.1.1",
            b"",
            None,
        ),
    )
    .await;
    assert_eq!(v["management_points"].as_array().unwrap().len(), 1);
    assert_eq!(v["management_points"][0]["url"], MP2);
    refused(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/location?ip=nonsense",
            b"",
            None,
        ),
        StatusCode::BAD_REQUEST,
        "bad_ip",
    )
    .await;
    // In process there is no peer address to default to.
    refused(
        &app,
        request(Some(&f.good), "GET", "/mp/v1/location", b"", None),
        StatusCode::BAD_REQUEST,
        "bad_ip",
    )
    .await;
}

#[tokio::test]
async fn signatures_and_certificates() {
    let (f, app) = setup();
    let path = "/mp/v1/location?ip=10.1.2.3";
    refused(
        &app,
        request(None, "GET", path, b"", None),
        StatusCode::UNAUTHORIZED,
        "unsigned",
    )
    .await;
    refused(
        &app,
        request(Some(&f.blocked), "GET", path, b"", None),
        StatusCode::FORBIDDEN,
        "certificate_blocked",
    )
    .await;
    refused(
        &app,
        request(Some(&f.expired), "GET", path, b"", None),
        StatusCode::FORBIDDEN,
        "certificate_expired",
    )
    .await;
    refused(
        &app,
        request(Some(&f.unregistered), "GET", path, b"", None),
        StatusCode::FORBIDDEN,
        "certificate_unknown",
    )
    .await;
    // Signed for another path.
    let mut req = request(
        Some(&f.good),
        "GET",
        "/mp/v1/location?ip=1.1.1.1",
        b"",
        None,
    );
    *req.uri_mut() = path.parse().unwrap();
    refused(&app, req, StatusCode::FORBIDDEN, "bad_signature").await;
    // A body changed after signing.
    let good = request(
        Some(&f.good),
        "POST",
        "/mp/v1/identity",
        br#"{"arch":"x64"}"#,
        None,
    );
    let (parts, _) = good.into_parts();
    let req = Request::from_parts(parts, Body::from(r#"{"arch":"x86"}"#));
    refused(&app, req, StatusCode::FORBIDDEN, "bad_signature").await;
    // Incomplete and malformed headers.
    let mut req = request(Some(&f.good), "GET", path, b"", None);
    req.headers_mut().remove("x-tsmedia-signature");
    refused(&app, req, StatusCode::BAD_REQUEST, "bad_header").await;
    let mut req = request(Some(&f.good), "GET", path, b"", None);
    req.headers_mut()
        .insert("x-tsmedia-time", "soon".parse().unwrap());
    refused(&app, req, StatusCode::BAD_REQUEST, "bad_header").await;
    let mut req = request(Some(&f.good), "GET", path, b"", None);
    req.headers_mut()
        .insert("x-tsmedia-signature", "***".parse().unwrap());
    refused(&app, req, StatusCode::BAD_REQUEST, "bad_header").await;
    // A stale timestamp (signed an hour ago).
    let h = f
        .good
        .sign(
            &tsmedia_protocol::signing::SignedRequest {
                method: "GET",
                host: HOST,
                path_and_query: path,
                body: b"",
                principal: "",
            },
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
                - 3600,
        )
        .unwrap();
    let mut b = Request::builder().uri(path).header("host", HOST);
    for (k, v) in h.pairs() {
        b = b.header(k, v);
    }
    refused(
        &app,
        b.body(Body::empty()).unwrap(),
        StatusCode::FORBIDDEN,
        "stale_request",
    )
    .await;
    // Too large a body.
    let big = vec![b' '; tsmedia_server::MAX_BODY + 1];
    refused(
        &app,
        request(Some(&f.good), "POST", "/mp/v1/identity", &big, None),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
}

#[tokio::test]
async fn identity() {
    let (f, app) = setup();
    let (s, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/identity",
            &json!({"smbios_guid": GUID.to_lowercase(), "arch": "x64"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["resource_id"].as_i64(),
            v["name"].as_str(),
            v["unknown"].as_bool()
        ),
        (Some(f.pc1), Some("PC1"), Some(false))
    );
    let (_, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/identity",
            &json!({"macs": ["11:11:11:11:11:11", "00-15-5d-01-02-03"], "arch": "x64"}),
        ),
    )
    .await;
    assert_eq!(v["name"], "PC1", "found by its second MAC");
    let unknown = json!({"smbios_guid": "11111111-2222-3333-4444-555555555555", "arch": "arm64", "allow_unknown": true});
    let (_, v) = json_of(&app, post(&f, "/mp/v1/identity", &unknown)).await;
    assert_eq!(
        (v["name"].as_str(), v["unknown"].as_bool()),
        (Some("arm64 Unknown Computer"), Some(true))
    );
    // Whether unknown computers may run is the site's record of the media certificate, not
    // the request's flag (issue #15, M2): `guest` media were recorded without it.
    let refused_unknown = json!({"smbios_guid": "11111111-2222-3333-4444-555555555555", "arch": "x64", "allow_unknown": true});
    refused(
        &app,
        request(
            Some(&f.guest),
            "POST",
            "/mp/v1/identity",
            refused_unknown.to_string().as_bytes(),
            None,
        ),
        StatusCode::FORBIDDEN,
        "unknown_computer",
    )
    .await;
    refused(
        &app,
        post(&f, "/mp/v1/identity", &json!({"arch": "mips"})),
        StatusCode::BAD_REQUEST,
        "invalid",
    )
    .await;
    refused(
        &app,
        post(
            &f,
            "/mp/v1/identity",
            &json!({"smbios_guid": "zz", "arch": "x64"}),
        ),
        StatusCode::BAD_REQUEST,
        "invalid",
    )
    .await;
    refused(
        &app,
        post(&f, "/mp/v1/identity", &json!({"macs": "nope"})),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    refused(
        &app,
        request(Some(&f.good), "POST", "/mp/v1/identity", b"{not json", None),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
}

#[tokio::test]
async fn deployments_respect_availability_and_hiding() {
    let (f, app) = setup();
    let ids = |v: &Value| -> Vec<String> {
        v["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    let t = pc1_token(&f, &app).await;
    let (s, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/deployments",
            &json!({"resource_id": f.pc1, "identity_token": t}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        ids(&v),
        [f.dep_visible.as_str()],
        "clients-only and hidden deployments are not offered"
    );
    assert!(v["preferred"].is_null());
    let (_, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/deployments",
            &json!({"resource_id": f.pc1, "identity_token": t, "preferred_advert_id": f.dep_hidden.to_lowercase()}),
        ),
    )
    .await;
    assert_eq!(ids(&v), [f.dep_visible.as_str(), f.dep_hidden.as_str()]);
    assert_eq!(v["preferred"], f.dep_hidden.as_str());
    let (_, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/deployments",
            &json!({"resource_id": f.pc1, "identity_token": t, "preferred_advert_id": f.dep_clients}),
        ),
    )
    .await;
    assert_eq!(
        ids(&v),
        [f.dep_visible.as_str()],
        "SMSTSPreferredAdvertID cannot name a clients-only deployment"
    );
    assert!(v["preferred"].is_null());
    // The x64 Unknown Computer is in no collection with deployments.
    let (unknown, ut) = identify(
        &app,
        &f.good,
        &json!({"smbios_guid": "11111111-2222-3333-4444-555555555555", "arch": "x64"}),
    )
    .await;
    assert_eq!(unknown, 2_046_820_353i64);
    let (_, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/deployments",
            &json!({"resource_id": unknown, "identity_token": ut}),
        ),
    )
    .await;
    assert!(ids(&v).is_empty());
    // Another computer than the one identified (issue #15, M3).
    refused(
        &app,
        post(
            &f,
            "/mp/v1/deployments",
            &json!({"resource_id": f.pc2, "identity_token": t}),
        ),
        StatusCode::FORBIDDEN,
        "not_identified",
    )
    .await;
    refused(
        &app,
        post(&f, "/mp/v1/deployments", &json!({"resource_id": f.pc1})),
        StatusCode::FORBIDDEN,
        "identity_token_missing",
    )
    .await;
    refused(
        &app,
        post(&f, "/mp/v1/deployments", &json!({})),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
}

#[tokio::test]
async fn policy_and_content_location() {
    let (f, app) = setup();
    let t = pc1_token(&f, &app).await;
    let key = tsmedia_protocol::seal::RecipientKey::generate().unwrap();
    let (s, v) = json_of(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_visible, "resource_id": f.pc1,
                "identity_token": t, "recipient_key": key.public_base64()}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["sequence_xml"]
            .as_str()
            .unwrap()
            .contains("Install Tools")
    );
    // The secret variable is sealed to the request's key; Lab2's variables are not there.
    assert_eq!(
        v["variables"][0],
        json!({"name": "OSDComputerName", "value": "LAB-PC1"})
    );
    assert_eq!(v["variables"][1]["name"], "OSDJoinPassword");
    assert_eq!(v["variables"][1]["secret"], true);
    assert_eq!(v["variables"].as_array().unwrap().len(), 2, "{v}");
    assert!(!v.to_string().contains(JOIN_SECRET), "{v}");
    let mut policy: tsmedia_protocol::api::Policy = serde_json::from_value(v.clone()).unwrap();
    key.open(policy.sealed_by.as_deref(), &mut policy.variables)
        .unwrap();
    assert_eq!(policy.variables[1].value, JOIN_SECRET);
    // Without a recipient key, the secret would travel in clear: refused.
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_visible, "resource_id": f.pc1, "identity_token": t}),
        ),
        StatusCode::BAD_REQUEST,
        "recipient_key_required",
    )
    .await;
    assert_eq!(
        v["references"],
        json!([{"package_id": f.package_id, "content_id": f.content_id}])
    );
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_clients, "resource_id": f.pc1, "identity_token": t}),
        ),
        StatusCode::FORBIDDEN,
        "not_available_to_media",
    )
    .await;
    let (unknown, ut) = identify(
        &app,
        &f.good,
        &json!({"smbios_guid": "11111111-2222-3333-4444-555555555555", "arch": "x64"}),
    )
    .await;
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_visible, "resource_id": unknown, "identity_token": ut}),
        ),
        StatusCode::FORBIDDEN,
        "not_targeted",
    )
    .await;
    // PC2's policy by its ID, with PC1's token (issue #15, M3).
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_lab2, "resource_id": f.pc2, "identity_token": t}),
        ),
        StatusCode::FORBIDDEN,
        "not_identified",
    )
    .await;
    // PC1's token used by other media.
    refused(
        &app,
        request(
            Some(&f.guest),
            "POST",
            "/mp/v1/policy",
            json!({"deployment_id": f.dep_visible, "resource_id": f.pc1, "identity_token": t})
                .to_string()
                .as_bytes(),
            None,
        ),
        StatusCode::FORBIDDEN,
        "identity_token_other_media",
    )
    .await;
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": f.dep_visible, "resource_id": f.pc1, "identity_token": "v1.x.y"}),
        ),
        StatusCode::FORBIDDEN,
        "identity_token_invalid",
    )
    .await;
    refused(
        &app,
        post(
            &f,
            "/mp/v1/policy",
            &json!({"deployment_id": "PS1FFFFF", "resource_id": f.pc1, "identity_token": t}),
        ),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let path = format!("/mp/v1/content/{}/locations", f.content_id);
    let (s, v) = json_of(&app, request(Some(&f.good), "GET", &path, b"", None)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["locations"],
        json!([{"dp": "DP1", "url": "http://dp1.test"}])
    );
    let path = format!("/mp/v1/content/{}/locations", f.other_content_id);
    let (_, v) = json_of(&app, request(Some(&f.good), "GET", &path, b"", None)).await;
    assert_eq!(v["locations"], json!([]));
    refused(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/content/PS1FFFFF.1/locations",
            b"",
            None,
        ),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn dp_manifest_files_ranges_and_access() {
    let (f, app) = setup();
    let manifest = format!("/dp/v1/content/{}/manifest", f.content_id);
    let (s, v) = json_of(
        &app,
        request(Some(&f.good), "GET", &manifest, b"", Some(READER)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["files"][0]["path"], "small.txt");
    assert_eq!(v["files"][1]["path"], f.big_path.as_str());
    assert_eq!(v["files"][1]["size"], f.big.len() as u64);
    assert_eq!(v["files"][1]["sha256"], sha256_hex(&f.big).as_str());
    // Principals compare without case; others and anonymous are refused.
    let (s, _) = json_of(
        &app,
        request(Some(&f.good), "GET", &manifest, b"", Some("lab\\NAA")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    refused(
        &app,
        request(Some(&f.guest), "GET", &manifest, b"", None),
        StatusCode::FORBIDDEN,
        "no_read_access",
    )
    .await;
    // The principal comes from the authentication (issue #15, M1): a header naming another
    // is refused, signed or not.
    refused(
        &app,
        request(None, "GET", &manifest, b"", Some(READER)),
        StatusCode::FORBIDDEN,
        "principal_not_authenticated",
    )
    .await;
    refused(
        &app,
        request(Some(&f.guest), "GET", &manifest, b"", Some(READER)),
        StatusCode::FORBIDDEN,
        "principal_mismatch",
    )
    .await;
    refused(
        &app,
        request(None, "GET", &manifest, b"", None),
        StatusCode::FORBIDDEN,
        "no_read_access",
    )
    .await;
    // A signed DP request must verify; a blocked certificate is refused here too.
    let (s, _) = json_of(
        &app,
        request(Some(&f.good), "GET", &manifest, b"", Some(READER)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    refused(
        &app,
        request(Some(&f.blocked), "GET", &manifest, b"", Some(READER)),
        StatusCode::FORBIDDEN,
        "certificate_blocked",
    )
    .await;
    let mut req = request(Some(&f.good), "GET", &manifest, b"", Some(READER));
    req.headers_mut()
        .insert("x-tsmedia-principal", "LAB\\other".parse().unwrap());
    refused(&app, req, StatusCode::FORBIDDEN, "bad_signature").await;
    // Content not on this DP, and unknown content.
    let other = format!("/dp/v1/content/{}/manifest", f.other_content_id);
    refused(
        &app,
        request(Some(&f.good), "GET", &other, b"", Some(READER)),
        StatusCode::NOT_FOUND,
        "content_not_here",
    )
    .await;
    refused(
        &app,
        request(
            Some(&f.good),
            "GET",
            "/dp/v1/content/XYZ.1/manifest",
            b"",
            Some(READER),
        ),
        StatusCode::NOT_FOUND,
        "content_not_here",
    )
    .await;

    let file = format!(
        "/dp/v1/content/{}/files/sub%20dir/big%20file.bin",
        f.content_id
    );
    let (s, body, h) = send(
        &app,
        request(Some(&f.good), "GET", &file, b"", Some(READER)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body == f.big, "whole file");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["x-tsmedia-sha256"], sha256_hex(&f.big).as_str());
    let mut req = request(Some(&f.good), "GET", &file, b"", Some(READER));
    req.headers_mut()
        .insert("range", "bytes=1000-1999".parse().unwrap());
    let (s, body, h) = send(&app, req).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert!(body == f.big[1000..2000]);
    assert_eq!(
        h["content-range"],
        format!("bytes 1000-1999/{}", f.big.len()).as_str()
    );
    let mut req = request(Some(&f.good), "GET", &file, b"", Some(READER));
    req.headers_mut()
        .insert("range", "bytes=-10".parse().unwrap());
    let (s, body, _) = send(&app, req).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert!(body == f.big[f.big.len() - 10..]);
    let mut req = request(Some(&f.good), "GET", &file, b"", Some(READER));
    req.headers_mut()
        .insert("range", format!("bytes={}-", f.big.len()).parse().unwrap());
    let (s, _, h) = send(&app, req).await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        h["content-range"],
        format!("bytes */{}", f.big.len()).as_str()
    );
    refused(
        &app,
        request(
            Some(&f.good),
            "GET",
            &format!("/dp/v1/content/{}/files/../../site.db", f.content_id),
            b"",
            Some(READER),
        ),
        StatusCode::NOT_FOUND,
        "file_not_found",
    )
    .await;
    refused(
        &app,
        request(
            Some(&f.guest),
            "GET",
            &format!("/dp/v1/content/{}/files/small.txt", f.content_id),
            b"",
            None,
        ),
        StatusCode::FORBIDDEN,
        "no_read_access",
    )
    .await;
}

#[tokio::test]
async fn unknown_routes_methods_and_roles() {
    let (f, app) = setup();
    refused(
        &app,
        request(None, "GET", "/nothing", b"", None),
        StatusCode::NOT_FOUND,
        "no_such_endpoint",
    )
    .await;
    refused(
        &app,
        request(Some(&f.good), "DELETE", "/mp/v1/identity", b"", None),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    // A DP-only server has no MP endpoints, and the other way round.
    let dp_only = router(
        &f.site_dir,
        &ServerOptions {
            mp: false,
            ..ServerOptions::default()
        },
    )
    .unwrap();
    refused(
        &dp_only,
        request(
            Some(&f.good),
            "GET",
            "/mp/v1/location?ip=10.1.2.3",
            b"",
            None,
        ),
        StatusCode::NOT_FOUND,
        "no_such_endpoint",
    )
    .await;
    let mp_only = router(
        &f.site_dir,
        &ServerOptions {
            dp: false,
            ..ServerOptions::default()
        },
    )
    .unwrap();
    let manifest = format!("/dp/v1/content/{}/manifest", f.content_id);
    refused(
        &mp_only,
        request(None, "GET", &manifest, b"", Some(READER)),
        StatusCode::NOT_FOUND,
        "no_such_endpoint",
    )
    .await;
    assert!(
        router(
            &f.site_dir,
            &ServerOptions {
                mp: false,
                dp: false,
                ..ServerOptions::default()
            }
        )
        .is_err()
    );
    assert!(
        router(
            &f.site_dir,
            &ServerOptions {
                dp_name: Some("DP9".into()),
                ..ServerOptions::default()
            }
        )
        .is_err()
    );
}

#[tokio::test]
async fn internal_errors_are_opaque() {
    let (f, app) = setup();
    // Remove the library file behind the manifest: the server's fault, not the caller's.
    let site = tsmedia_site::Site::open(&f.site_dir).unwrap();
    let entry = site
        .content_files(&f.content_id)
        .unwrap()
        .into_iter()
        .find(|e| e.path == "small.txt")
        .unwrap();
    std::fs::remove_file(&entry.library_path).unwrap();
    let (s, body, _) = send(
        &app,
        request(
            Some(&f.good),
            "GET",
            &format!("/dp/v1/content/{}/files/small.txt", f.content_id),
            b"",
            Some(READER),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v, json!({"error": "internal error", "code": "internal"}));
    assert!(!String::from_utf8_lossy(&body).contains(&f.dir.path().display().to_string()));
}
