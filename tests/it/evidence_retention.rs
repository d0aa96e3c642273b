//! Evidence retention on the injected clock: a file is kept through the last day of the policy's
//! retention and purged the day after, unless a newer payment shares it; the purge is recorded,
//! the file then answers 410, its links stay, evidence packs say what was there, and the hash
//! chain still verifies with the same head.

use std::io::{Cursor, Read};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;

use crate::payments_api::{setup, Setup};
use crate::support::scenario::id;
use crate::support::Reply;

const OLD: &[u8] = b"%PDF-1.4\nreceipt for an old payment\n%%EOF\n";
const SHARED: &[u8] = b"a till receipt, later attached to a newer payment too\n";

async fn upload(s: &Setup, payment: Uuid, ct: &str, bytes: &[u8]) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/payments/{payment}/evidence?kind=receipt"))
        .header(header::AUTHORIZATION, format!("Bearer {}", s.holder.1))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    let reply = s.s.app.send(request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply
}

async fn posted(s: &Setup, amount: &str) -> Uuid {
    let reply = s.pay(&s.holder.1, s.body("personal_care", amount)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    id(&reply)
}

async fn purge(s: &Setup) -> usize {
    let app = &s.s.app;
    allot::evidence::retention::run_once(
        &app.state.pool,
        &app.state.evidence,
        app.state.clock.now(),
    )
    .await
    .unwrap()
}

async fn seal_and_verify(s: &Setup) -> serde_json::Value {
    let app = &s.s.app;
    allot::ledger::maintenance::run_once(
        &app.state.pool,
        app.state.clock.now(),
        &app.state.chain_key,
    )
    .await
    .unwrap();
    let reply = app.get("/api/v1/audit/verify", &s.s.auditor.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["ok"], true, "{}", reply.text);
    reply.json
}

#[tokio::test]
async fn evidence_is_purged_the_day_after_retention_unless_a_newer_payment_shares_it() {
    let s = setup().await;
    let clock = s.s.app.state.clock.clone();
    // 15 January 2026 in England; the default retention is 6 years.
    let paid_at = Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap();
    clock.set(paid_at);
    let old = posted(&s, "20.00").await;
    upload(&s, old, "application/pdf", OLD).await;
    upload(&s, old, "text/plain", SHARED).await;
    // A month later the shared receipt is attached to a newer payment too.
    clock.set(paid_at + Duration::days(31));
    let newer = posted(&s, "21.00").await;
    upload(&s, newer, "text/plain", SHARED).await;
    let old_sha = allot::evidence::file::sha256_hex(OLD);
    let shared_sha = allot::evidence::file::sha256_hex(SHARED);
    let before = seal_and_verify(&s).await;

    // The day before the last day, and the last day itself (15 January 2032): kept.
    for day in [14, 15] {
        clock.set(Utc.with_ymd_and_hms(2032, 1, day, 23, 0, 0).unwrap());
        assert_eq!(purge(&s).await, 0, "purged on {day} January 2032");
        let file =
            s.s.app
                .get(&format!("/api/v1/evidence/{old_sha}"), &s.holder.1)
                .await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.text);
    }
    // The day after: the old receipt goes, the shared one stays.
    let purged_at = Utc.with_ymd_and_hms(2032, 1, 16, 0, 30, 0).unwrap();
    clock.set(purged_at);
    assert_eq!(purge(&s).await, 1);
    let gone =
        s.s.app
            .get(&format!("/api/v1/evidence/{old_sha}"), &s.holder.1)
            .await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", gone.text);
    assert_eq!(gone.code(), "gone");
    assert!(gone.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("6 years"));
    let kept =
        s.s.app
            .get(&format!("/api/v1/evidence/{shared_sha}"), &s.holder.1)
            .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert_eq!(kept.text.as_bytes(), SHARED);
    // Whoever may not see the payment still gets 404, not 410.
    let other =
        s.s.app
            .get(&format!("/api/v1/evidence/{old_sha}"), &s.s.broker.token)
            .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);

    // The purge is recorded; the links stay.
    let council = s.s.council.id;
    let records = allot::db::in_tenant_tx(&s.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            let rows = tx
                .query(
                    "SELECT sha256, size, purged_at, policy_version, retention_years
                     FROM evidence_purges",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.get::<_, String>(0),
                        r.get::<_, i32>(1),
                        r.get::<_, chrono::DateTime<Utc>>(2),
                        r.get::<_, i32>(3),
                        r.get::<_, i32>(4),
                    )
                })
                .collect::<Vec<_>>())
        })
    })
    .await
    .unwrap();
    assert_eq!(
        records,
        vec![(old_sha.clone(), OLD.len() as i32, purged_at, 1, 6)]
    );
    let links =
        s.s.app
            .get(&format!("/api/v1/payments/{old}/evidence"), &s.holder.1)
            .await;
    assert_eq!(links.status, StatusCode::OK, "{}", links.text);
    assert_eq!(
        links.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        links.text
    );

    // The pack lists the purged file in purged.csv and holds the kept one.
    let request = Request::builder()
        .uri(format!("/api/v1/budgets/{}/evidence-pack", s.budget))
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
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut purged = String::new();
    zip.by_name("purged.csv")
        .unwrap()
        .read_to_string(&mut purged)
        .unwrap();
    assert!(purged.contains(&old_sha), "{purged}");
    assert!(!purged.contains(&shared_sha), "{purged}");
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.contains(&shared_sha[..12])),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains(&old_sha[..12])),
        "{names:?}"
    );

    // Nothing else ran: a second round purges nothing, and the chain is as it was.
    assert_eq!(purge(&s).await, 0);
    let after = seal_and_verify(&s).await;
    assert_eq!(after["head_position"], before["head_position"]);
    assert_eq!(after["head_hash"], before["head_hash"]);

    // The shared file goes once the newer payment is past retention too.
    clock.set(Utc.with_ymd_and_hms(2032, 2, 16, 12, 0, 0).unwrap());
    assert_eq!(purge(&s).await, 1);
    let gone =
        s.s.app
            .get(&format!("/api/v1/evidence/{shared_sha}"), &s.holder.1)
            .await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", gone.text);
    seal_and_verify(&s).await;
}

#[tokio::test]
async fn the_application_role_cannot_delete_evidence_or_purge_another_council() {
    let s = setup().await;
    let council = s.s.council.id;
    let outcome = allot::db::in_tenant_tx(&s.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .batch_execute("DELETE FROM evidence_blobs")
                .await
                .map_err(|e| message(&e)))
        })
    })
    .await
    .unwrap();
    assert!(outcome.unwrap_err().contains("permission denied"));
    let other = Uuid::new_v4();
    let outcome = allot::db::in_tenant_tx(&s.s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .query("SELECT * FROM evidence_purge_due($1, now())", &[&other])
                .await
                .map(|_| ())
                .map_err(|e| message(&e)))
        })
    })
    .await
    .unwrap();
    assert!(outcome.unwrap_err().contains("not the council"));
}

fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| e.to_string())
}
