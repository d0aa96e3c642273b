//! Evidence on payments through the API: attaching (checked by magic bytes, at most 10 MB,
//! content-addressed), reading back, who may, payments missing evidence after 30 days, and a
//! budget's evidence pack.

use std::io::{Cursor, Read};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Duration;
use serde_json::Value;
use uuid::Uuid;

use crate::payments_api::{setup, Setup};
use crate::support::scenario::id;
use crate::support::Reply;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn upload(
    s: &Setup,
    payment: Uuid,
    kind: &str,
    token: &str,
    ct: &str,
    bytes: Vec<u8>,
) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/payments/{payment}/evidence?kind={kind}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(bytes))
        .unwrap();
    s.s.app.send(request).await
}

async fn posted(s: &Setup, amount: &str) -> Uuid {
    let reply = s.pay(&s.holder.1, s.body("personal_care", amount)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["status"], "posted", "{}", reply.text);
    id(&reply)
}

async fn count(s: &Setup, table: &str) -> i64 {
    let client = s.s.app.db.pool.get().await.unwrap();
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_file_is_stored_once_linked_to_payments_and_read_back_by_those_who_may_see_them() {
    let s = setup().await;
    let first = posted(&s, "20.00").await;
    let second = posted(&s, "21.00").await;
    let reply = upload(
        &s,
        first,
        "receipt",
        &s.holder.1,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let sha = allot::evidence::file::sha256_hex(PDF);
    assert_eq!(reply.json["sha256"], sha.as_str());
    assert_eq!(reply.json["kind"], "receipt");
    assert_eq!(reply.json["size"], PDF.len());
    assert_eq!(reply.json["content_type"], "application/pdf");
    assert_eq!(reply.json["attached_by"], s.holder.0.to_string());
    assert!(reply.json["attached_at"].is_string());

    // The same file again, to the same payment and to another: stored once, linked twice.
    let again = upload(
        &s,
        first,
        "receipt",
        &s.holder.1,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.json["attached_at"], reply.json["attached_at"]);
    let linked = upload(
        &s,
        second,
        "invoice",
        &s.s.maker.token,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.text);
    assert_eq!(count(&s, "evidence_blobs").await, 1);
    assert_eq!(count(&s, "payment_evidence").await, 2);

    let listed =
        s.s.app
            .get(
                &format!("/api/v1/payments/{second}/evidence"),
                &s.s.care_manager.token,
            )
            .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.json["items"][0]["kind"], "invoice");

    for token in [&s.holder.1, &s.s.auditor.token, &s.s.care_manager.token] {
        let file = s.s.app.get(&format!("/api/v1/evidence/{sha}"), token).await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.text);
        assert_eq!(file.headers[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(file.text.as_bytes(), PDF);
    }

    // Another council's staff, a hash nobody attached, and a malformed one: 404.
    let elsewhere = s.s.elsewhere().await;
    let theirs =
        s.s.app
            .get(&format!("/api/v1/evidence/{sha}"), &elsewhere.care_manager)
            .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.code(), "not_found");
    let unknown = allot::evidence::file::sha256_hex(b"never attached");
    for path in [
        format!("/api/v1/evidence/{unknown}"),
        "/api/v1/evidence/xyz".into(),
    ] {
        let reply = s.s.app.get(&path, &s.s.care_manager.token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let attach_theirs = upload(
        &s,
        first,
        "receipt",
        &elsewhere.care_manager,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(
        attach_theirs.status,
        StatusCode::NOT_FOUND,
        "{}",
        attach_theirs.text
    );
    assert_eq!(attach_theirs.code(), "not_found");
}

#[tokio::test]
async fn bad_files_are_refused_with_the_envelope_and_nothing_is_stored() {
    let s = setup().await;
    let payment = posted(&s, "20.00").await;
    let before = s.s.app.snapshot().await;

    // The header says PNG, the bytes say PDF (and the other way round); a type not accepted.
    for (ct, bytes) in [
        ("image/png", PDF.to_vec()),
        ("application/pdf", PNG.to_vec()),
        ("text/plain", b"bell \x07 rings".to_vec()),
        ("text/csv", vec![0xff, 0xfe, 0x00]),
        ("application/zip", b"PK\x03\x04".to_vec()),
        ("application/json", b"{}".to_vec()),
    ] {
        let reply = upload(&s, payment, "receipt", &s.holder.1, ct, bytes).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{ct}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "unsupported_media_type");
    }

    // Exactly 10 MB is accepted by the limit (then judged by type); one byte more is 413.
    let mut big = b"%PDF-".to_vec();
    big.resize(allot::evidence::MAX_EVIDENCE_BYTES + 1, b' ');
    let reply = upload(&s, payment, "receipt", &s.holder.1, "application/pdf", big).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.code(), "payload_too_large");

    for kind in ["selfie", ""] {
        let reply = upload(
            &s,
            payment,
            kind,
            &s.holder.1,
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(reply.code(), "invalid_request");
        assert_eq!(reply.json["error"]["details"][0]["field"], "kind");
    }

    // Roles that only look: 403.
    for token in [&s.s.auditor.token, &s.s.council.admin_token] {
        let reply = upload(
            &s,
            payment,
            "receipt",
            token,
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        assert_eq!(reply.code(), "forbidden");
    }
    // An id that is no payment: 404.
    let reply = upload(
        &s,
        Uuid::new_v4(),
        "receipt",
        &s.holder.1,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.s.app.snapshot().await,
        before,
        "a refused upload stored something"
    );

    // A big file within the limit is taken.
    let mut large = b"%PDF-".to_vec();
    large.resize(allot::evidence::MAX_EVIDENCE_BYTES, b' ');
    let reply = upload(&s, payment, "other", &s.holder.1, "application/pdf", large).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // The server-wide limit still holds for every other route.
    let mut long = String::from("{\"reason\":\"");
    long.push_str(&"x".repeat(512 * 1024));
    long.push_str("\"}");
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/payments/{payment}/reverse"))
        .header(header::AUTHORIZATION, format!("Bearer {}", s.s.maker.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "too-long-reason")
        .body(Body::from(long))
        .unwrap();
    let other = s.s.app.send(request).await;
    assert_eq!(
        other.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        other.text
    );
}

async fn set_threshold(s: &Setup, threshold: &str) {
    let current =
        s.s.app
            .get("/api/v1/policy", &s.s.council.admin_token)
            .await;
    let mut body: Value = current.json.clone();
    body.as_object_mut().unwrap().remove("version");
    body["receipt_threshold"] = threshold.into();
    body["reason"] = "evidence test".into();
    let reply =
        s.s.app
            .put("/api/v1/policy", &s.s.council.admin_token, body)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn payments_above_the_threshold_without_evidence_after_30_days_are_listed_until_evidenced() {
    let s = setup().await;
    set_threshold(&s, "30.00").await;
    let above = posted(&s, "40.00").await;
    let _at_threshold = posted(&s, "30.00").await;
    let missing = |token: String| {
        let app = &s.s.app;
        async move { app.get("/api/v1/evidence/missing", &token).await }
    };
    let now = missing(s.s.maker.token.clone()).await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.text);
    assert_eq!(now.json["items"], Value::Array(vec![]), "not due yet");

    s.s.app.state.clock.advance(Duration::days(31));
    let due = missing(s.s.auditor.token.clone()).await;
    let items = due.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", due.text);
    assert_eq!(items[0]["payment_id"], above.to_string());
    assert_eq!(items[0]["amount"], "40.00");

    let view = s.s.budget_view(s.budget).await;
    assert_eq!(
        view["payments_missing_evidence"],
        serde_json::json!([above]),
        "the budget is flagged"
    );

    let forbidden = missing(s.holder.1.clone()).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let reply = upload(
        &s,
        above,
        "receipt",
        &s.holder.1,
        "text/plain",
        b"Receipt: 40.00\n".to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let cleared = missing(s.s.care_manager.token.clone()).await;
    assert_eq!(
        cleared.json["items"],
        Value::Array(vec![]),
        "{}",
        cleared.text
    );
}

#[tokio::test]
async fn an_evidence_pack_holds_statements_evidence_and_a_manifest_of_hashes() {
    let s = setup().await;
    let payment = posted(&s, "20.00").await;
    let reply = upload(
        &s,
        payment,
        "receipt",
        &s.holder.1,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let path = format!(
        "/api/v1/budgets/{}/evidence-pack?from=2020-01-01&to=2099-12-31",
        s.budget
    );
    let request = Request::builder()
        .uri(&path)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", s.s.auditor.token),
        )
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(s.s.app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/zip");
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().unwrap().to_string(), content);
    }
    let statements: Vec<&String> = files
        .keys()
        .filter(|n| n.starts_with("statements/"))
        .collect();
    let view = s.s.budget_view(s.budget).await;
    assert_eq!(
        statements.len(),
        view["accounts"].as_array().unwrap().len(),
        "{statements:?}"
    );
    let dp = files
        .iter()
        .find(|(n, _)| n.starts_with(&format!("statements/direct_payment-{}", s.dp_account)))
        .expect("the direct-payment statement");
    let dp_text = String::from_utf8(dp.1.clone()).unwrap();
    assert!(dp_text.starts_with("effective_date,entry_id,description,debit,credit,balance"));
    assert!(dp_text.contains("20.00"), "{dp_text}");
    let evidence_name = files
        .keys()
        .find(|n| n.starts_with(&format!("evidence/{payment}-receipt-")) && n.ends_with(".png"))
        .expect("the evidence file, named by payment")
        .clone();
    assert_eq!(files[&evidence_name], PNG);
    let manifest = String::from_utf8(files["manifest.csv"].clone()).unwrap();
    let listed = manifest.lines().count() - 1;
    assert_eq!(listed, files.len() - 1, "{manifest}");
    for (name, content) in &files {
        if name != "manifest.csv" {
            let line = format!(
                "{name},{},{}",
                allot::evidence::file::sha256_hex(content),
                content.len()
            );
            assert!(
                manifest.lines().any(|l| l == line),
                "{line} not in {manifest}"
            );
        }
    }

    // Roles outside council staff, and another council: refused.
    let holder = s.s.app.get(&path, &s.holder.1).await;
    assert_eq!(holder.status, StatusCode::FORBIDDEN);
    let elsewhere = s.s.elsewhere().await;
    let theirs = s.s.app.get(&path, &elsewhere.care_manager).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_app_role_cannot_change_or_delete_evidence() {
    let s = setup().await;
    let payment = posted(&s, "20.00").await;
    let reply = upload(
        &s,
        payment,
        "receipt",
        &s.holder.1,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    for statement in [
        "UPDATE payment_evidence SET kind = 'other'",
        "DELETE FROM payment_evidence",
        "UPDATE evidence_blobs SET bytes = '\\x00'",
        "DELETE FROM evidence_blobs",
        "DELETE FROM audit_samples",
        "UPDATE audit_findings SET outcome = 'ok'",
    ] {
        let result = allot::db::in_tenant_tx(&s.s.app.db.pool, s.s.council.id, |tx| {
            Box::pin(async move { Ok(tx.execute(statement, &[]).await) })
        })
        .await
        .unwrap();
        let error = result.expect_err(statement);
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {error}"
        );
    }
    assert_eq!(count(&s, "payment_evidence").await, 1);
}

#[tokio::test]
async fn policy_keeps_evidence_six_years_by_default_and_never_less() {
    let s = setup().await;
    let current =
        s.s.app
            .get("/api/v1/policy", &s.s.council.admin_token)
            .await;
    assert_eq!(
        current.json["evidence_retention_years"], 6,
        "{}",
        current.text
    );
    let mut body = current.json.clone();
    body.as_object_mut().unwrap().remove("version");
    body["evidence_retention_years"] = 5.into();
    let reply =
        s.s.app
            .put("/api/v1/policy", &s.s.council.admin_token, body.clone())
            .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    body["evidence_retention_years"] = 7.into();
    let reply =
        s.s.app
            .put("/api/v1/policy", &s.s.council.admin_token, body)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["evidence_retention_years"], 7);
}
