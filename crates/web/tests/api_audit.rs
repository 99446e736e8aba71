//! The trail for auditors over the API: the signed checkpoint, proofs that verify against
//! it, the entries in their canonical encoding, the whole-log check; nobody else may ask.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use audit::merkle;
use axum::http::{Method, StatusCode};
use base64::Engine as _;

fn hash(h: &serde_json::Value) -> audit::Hash {
    audit::parse_hash(h.as_str().unwrap()).unwrap()
}

app_test!(the_auditor_checks_the_trail_against_a_signed_checkpoint, |app| async move {
    let token = app.token(&app.auditor).await;
    let r = api_support::checked(app, Method::GET, "/api/v1/audit/checkpoint", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let checkpoint = audit::checkpoint::verify(&r.body, &support::audit_key().verifier()).unwrap();
    let size = checkpoint.size;
    assert_eq!(size, u64::try_from(app.audit_len().await).unwrap(), "it covers every entry");

    // Entry 3, its inclusion proof, and the signed root: the auditor's own arithmetic.
    let r = api_support::checked(app, Method::GET, "/api/v1/audit/entries?from=3&limit=1", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let bytes = base64::engine::general_purpose::STANDARD.decode(r.json()[0]["entry"].as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(br#"{"seq":3,"#));
    // The export is itself on the trail.
    let last = store::query::audit_entries(&app.store, app.audit_len().await, 1).await.unwrap().remove(0);
    assert_eq!(last.action, "data.export", "{last:?}");
    assert!(last.entry.contains("audit entries from 3"), "{}", last.entry);
    let r =
        api_support::checked(app, Method::GET, &format!("/api/v1/audit/proof/3?size={size}"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let proof: Vec<_> = r.json()["hashes"].as_array().unwrap().iter().map(hash).collect();
    merkle::verify_inclusion(&merkle::leaf_hash(&bytes), 2, size, &proof, &checkpoint.root).unwrap();
    let r = api_support::checked(
        app,
        Method::GET,
        &format!("/api/v1/audit/consistency?old=2&new={size}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    let proof: Vec<_> = p["hashes"].as_array().unwrap().iter().map(hash).collect();
    merkle::verify_consistency(2, size, &hash(&p["old_root"]), &checkpoint.root, &proof).unwrap();

    let r = api_support::checked(app, Method::POST, "/api/v1/audit/verify", Some(&token), Some(serde_json::json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["ok"], true, "{}", r.body);
    // A checkpoint that was not signed by the service is no proof.
    let forged = audit::SigningKey::from_seed("test.example/audit", &[8u8; 32])
        .unwrap()
        .sign(&audit::Checkpoint { root: [1; 32], ..checkpoint })
        .unwrap()
        .to_string();
    let r = api_support::checked(
        app,
        Method::POST,
        "/api/v1/audit/verify",
        Some(&token),
        Some(serde_json::json!({"checkpoint": forged})),
    )
    .await;
    assert_eq!(r.json()["ok"], false, "{}", r.body);
    assert!(r.json()["problem"].as_str().unwrap().contains("does not verify"), "{}", r.body);

    // Asking for what is not there says which parameter is wrong.
    for (path, field) in [
        ("/api/v1/audit/proof/0", "seq"),
        ("/api/v1/audit/consistency?old=5", "new"),
        ("/api/v1/audit/proof/2?size=999999", "size"),
        ("/api/v1/audit/entries?limit=0", "limit"),
    ] {
        let r = api_support::checked(app, Method::GET, path, Some(&token), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.body);
        assert_eq!(r.json()["errors"][0]["field"], field, "{path}: {}", r.body);
    }
});

app_test!(only_the_auditor_reads_the_trail, |app| async move {
    for who in [&app.sw, &app.tm, &app.sm, &app.partner, &app.admin] {
        let token = app.token(who).await;
        for path in [
            "/api/v1/audit/checkpoint",
            "/api/v1/audit/proof/1",
            "/api/v1/audit/consistency?old=1&new=2",
            "/api/v1/audit/entries",
        ] {
            let r = api_support::checked(app, Method::GET, path, Some(&token), None).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?} {path}: {}", who.role, r.body);
        }
        let r =
            api_support::checked(app, Method::POST, "/api/v1/audit/verify", Some(&token), Some(serde_json::json!({})))
                .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", who.role);
    }
    let r = api_support::checked(app, Method::GET, "/api/v1/audit/checkpoint", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});
