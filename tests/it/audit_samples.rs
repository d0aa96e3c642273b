//! Reproducible audit samples through the API: the same parameters over the same ledger draw the
//! same payments in the order SHA-256(seed ‖ payment id) gives, another seed another order,
//! filters apply, findings only on sampled payments, CSV, and auditors only.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{setup, Setup};
use crate::support::scenario::id;

async fn posted(s: &Setup, amount: &str) -> Uuid {
    let reply = s.pay(&s.holder.1, s.body("personal_care", amount)).await;
    assert_eq!(reply.json["status"], "posted", "{}", reply.text);
    id(&reply)
}

/// The README's rule, computed here independently of the database.
fn expected(seed: &str, payments: &[Uuid], size: usize) -> Vec<Uuid> {
    let mut keyed: Vec<(String, Uuid)> = payments
        .iter()
        .map(|p| {
            (
                allot::evidence::file::sha256_hex(format!("{seed}{p}").as_bytes()),
                *p,
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().take(size).map(|(_, p)| p).collect()
}

fn items(reply: &Value) -> Vec<Uuid> {
    reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_sample_is_the_same_every_time_and_another_seed_gives_another() {
    let s = setup().await;
    let mut payments = Vec::new();
    for amount in [
        "10.00", "11.00", "12.00", "13.00", "14.00", "15.00", "16.00", "17.00",
    ] {
        payments.push(posted(&s, amount).await);
    }
    let body = |seed: &str, size: u32| json!({"seed": seed, "size": size, "from": "2020-01-01", "to": "2099-12-31"});
    let draw = |body: Value| {
        let app = &s.s.app;
        let token = s.s.auditor.token.clone();
        async move { app.post("/api/v1/audit/samples", &token, body).await }
    };
    let first = draw(body("march audit", 8)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = draw(body("march audit", 8)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_ne!(first.json["id"], again.json["id"]);
    assert_eq!(items(&first.json), items(&again.json));
    assert_eq!(items(&first.json), expected("march audit", &payments, 8));
    let other = draw(body("april audit", 8)).await;
    assert_eq!(items(&other.json), expected("april audit", &payments, 8));
    assert_ne!(
        items(&other.json),
        items(&first.json),
        "another seed, another order"
    );

    let three = draw(body("march audit", 3)).await;
    assert_eq!(items(&three.json), expected("march audit", &payments, 3));

    // Filters: at least 15.00; a deployment with no payments; dates with none.
    let big = draw(
        json!({"seed": "x", "size": 10, "from": "2020-01-01", "to": "2099-12-31",
                         "min_amount": "15.00"}),
    )
    .await;
    assert_eq!(
        items(&big.json),
        expected("x", &payments[5..], 10),
        "{}",
        big.text
    );
    let isf = draw(
        json!({"seed": "x", "size": 10, "from": "2020-01-01", "to": "2099-12-31",
                         "deployments": ["isf"]}),
    )
    .await;
    assert_eq!(items(&isf.json), Vec::<Uuid>::new(), "{}", isf.text);
    let dp = draw(
        json!({"seed": "x", "size": 10, "from": "2020-01-01", "to": "2099-12-31",
                        "deployments": ["direct_payment"]}),
    )
    .await;
    assert_eq!(items(&dp.json).len(), 8);
    let past =
        draw(json!({"seed": "x", "size": 10, "from": "2020-01-01", "to": "2020-12-31"})).await;
    assert_eq!(items(&past.json), Vec::<Uuid>::new());

    // Read back: the same items.
    let sample_id = first.json["id"].as_str().unwrap();
    let read =
        s.s.app
            .get(
                &format!("/api/v1/audit/samples/{sample_id}"),
                &s.s.auditor.token,
            )
            .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(items(&read.json), items(&first.json));
    assert_eq!(read.json["seed"], "march audit");
}

#[tokio::test]
async fn findings_are_recorded_on_sampled_payments_only_and_show_in_the_csv() {
    let s = setup().await;
    let a = posted(&s, "10.00").await;
    let b = posted(&s, "11.00").await;
    let sample =
        s.s.app
            .post(
                "/api/v1/audit/samples",
                &s.s.auditor.token,
                json!({"seed": "s", "size": 1, "from": "2020-01-01", "to": "2099-12-31"}),
            )
            .await;
    assert_eq!(sample.status, StatusCode::CREATED, "{}", sample.text);
    let sampled = items(&sample.json)[0];
    let unsampled = if sampled == a { b } else { a };
    let sample_id = id(&sample);
    let path = format!("/api/v1/audit/samples/{sample_id}/findings");

    let finding =
        s.s.app
            .post(
                &path,
                &s.s.auditor.token,
                json!({"payment_id": sampled, "outcome": "query", "note": "Receipt, please."}),
            )
            .await;
    assert_eq!(finding.status, StatusCode::CREATED, "{}", finding.text);
    assert_eq!(finding.json["outcome"], "query");
    let outside =
        s.s.app
            .post(
                &path,
                &s.s.auditor.token,
                json!({"payment_id": unsampled, "outcome": "ok", "note": ""}),
            )
            .await;
    assert_eq!(
        outside.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        outside.text
    );
    assert_eq!(outside.code(), "not_in_sample");
    let bad =
        s.s.app
            .post(
                &path,
                &s.s.auditor.token,
                json!({"payment_id": sampled, "outcome": "fine", "note": ""}),
            )
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.code(), "invalid_request");

    let read =
        s.s.app
            .get(
                &format!("/api/v1/audit/samples/{sample_id}"),
                &s.s.auditor.token,
            )
            .await;
    assert_eq!(read.json["findings"][0]["payment_id"], sampled.to_string());
    assert_eq!(read.json["findings"].as_array().unwrap().len(), 1);

    let csv =
        s.s.app
            .get(
                &format!("/api/v1/audit/samples/{sample_id}?format=csv"),
                &s.s.auditor.token,
            )
            .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut lines = csv.text.lines();
    assert_eq!(
        lines.next(),
        Some("position,payment_id,budget_id,deployment,payee,amount,posted_on,finding,note")
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(&format!("1,{sampled},{},direct_payment,", s.budget)),
        "{row}"
    );
    assert!(row.ends_with(",query,\"Receipt, please.\""), "{row}");
    let request = Request::builder()
        .uri(format!("/api/v1/audit/samples/{sample_id}"))
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", s.s.auditor.token),
        )
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .unwrap();
    let by_accept = s.s.app.send(request).await;
    assert_eq!(by_accept.text, csv.text);
}

#[tokio::test]
async fn only_auditors_draw_and_read_samples_and_bad_parameters_are_refused() {
    let s = setup().await;
    posted(&s, "10.00").await;
    let body = json!({"seed": "s", "size": 1, "from": "2020-01-01", "to": "2099-12-31"});
    for token in [
        &s.s.care_manager.token,
        &s.s.maker.token,
        &s.holder.1,
        &s.s.council.admin_token,
    ] {
        let reply =
            s.s.app
                .post("/api/v1/audit/samples", token, body.clone())
                .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        assert_eq!(reply.code(), "forbidden");
    }
    let sample =
        s.s.app
            .post("/api/v1/audit/samples", &s.s.auditor.token, body)
            .await;
    let path = format!("/api/v1/audit/samples/{}", id(&sample));
    let reply = s.s.app.get(&path, &s.s.maker.token).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    for bad in [
        json!({"seed": "", "size": 1, "from": "2020-01-01", "to": "2099-12-31"}),
        json!({"seed": "s", "size": 0, "from": "2020-01-01", "to": "2099-12-31"}),
        json!({"seed": "s", "size": 1001, "from": "2020-01-01", "to": "2099-12-31"}),
        json!({"seed": "s", "size": 1, "from": "2021-01-01", "to": "2020-12-31"}),
        json!({"seed": "s", "size": 1, "from": "2020-01-01", "to": "2099-12-31", "deployments": ["cash"]}),
        json!({"seed": "s", "size": 1, "from": "2020-01-01"}),
    ] {
        let reply =
            s.s.app
                .post("/api/v1/audit/samples", &s.s.auditor.token, bad.clone())
                .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
    }

    // Another council's auditor: 404 for this council's sample.
    let elsewhere = s.s.app.council("Elsewhere").await;
    let (_, their_auditor) =
        s.s.app
            .user(&elsewhere, allot::auth::Role::Auditor, None, None)
            .await;
    let reply = s.s.app.get(&path, &their_auditor).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "not_found");
}

#[tokio::test]
async fn an_auditor_draws_a_sample_and_records_a_finding_in_the_browser_pages() {
    let s = setup().await;
    let payment = posted(&s, "10.00").await;
    let (cookie, csrf) = s.s.app.session(s.s.council.id, s.s.auditor.id).await;
    let list = s.s.app.page("/audit/samples", &cookie).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("No samples have been drawn."));

    // A refusal is explained on the page; nothing is drawn.
    let bad =
        s.s.app
            .form(
                "/audit/samples",
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("seed", "<b>x</b>"),
                    ("size", "0"),
                    ("from", "2020-01-01"),
                    ("to", "2099-12-31"),
                    ("min_amount", ""),
                ],
            )
            .await;
    assert_eq!(bad.status, StatusCode::OK, "{}", bad.text);
    assert!(bad.text.contains("size"), "{}", bad.text);

    let drawn =
        s.s.app
            .form(
                "/audit/samples",
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("seed", "<b>x</b>"),
                    ("size", "5"),
                    ("from", "2020-01-01"),
                    ("to", "2099-12-31"),
                    ("min_amount", ""),
                ],
            )
            .await;
    assert_eq!(drawn.status, StatusCode::SEE_OTHER, "{}", drawn.text);
    let location = drawn.headers[header::LOCATION].to_str().unwrap().to_owned();
    let page = s.s.app.page(&location, &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&payment.to_string()));
    assert!(
        page.text.contains("&lt;b&gt;x&lt;/b&gt;"),
        "the seed is escaped"
    );
    assert!(page.text.contains("None yet"));

    // The evidence viewer: the file attached to the sampled payment opens from the sample.
    let upload = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/payments/{payment}/evidence?kind=receipt"))
        .header(header::AUTHORIZATION, format!("Bearer {}", s.holder.1))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("Receipt 10.00"))
        .unwrap();
    let attached = s.s.app.send(upload).await;
    assert_eq!(attached.status, StatusCode::CREATED, "{}", attached.text);
    let sha = attached.json["sha256"].as_str().unwrap().to_owned();
    let page = s.s.app.page(&location, &cookie).await;
    assert!(
        page.text.contains(&format!("href=\"/evidence/{sha}\"")),
        "{}",
        page.text
    );
    let file = s.s.app.page(&format!("/evidence/{sha}"), &cookie).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.text, "Receipt 10.00");
    assert!(file.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let unknown =
        s.s.app
            .page(&format!("/evidence/{}", "0".repeat(64)), &cookie)
            .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let without_csrf =
        s.s.app
            .form(
                &format!("{location}/findings"),
                &cookie,
                &[
                    ("payment_id", &payment.to_string()),
                    ("outcome", "misuse"),
                    ("note", "n"),
                ],
            )
            .await;
    assert_eq!(without_csrf.status, StatusCode::FORBIDDEN);
    let recorded =
        s.s.app
            .form(
                &format!("{location}/findings"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("payment_id", &payment.to_string()),
                    ("outcome", "misuse"),
                    ("note", "Paid a relative"),
                ],
            )
            .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.text);
    let page = s.s.app.page(&location, &cookie).await;
    assert!(page.text.contains("misuse"), "{}", page.text);
    assert!(page.text.contains("Paid a relative"));

    let missing = s.s.app.page("/evidence/missing", &cookie).await;
    assert_eq!(missing.status, StatusCode::OK, "{}", missing.text);
    assert!(missing.text.contains("No payment is missing its evidence."));

    // Other staff may not see samples.
    let (maker_cookie, _) = s.s.app.session(s.s.council.id, s.s.maker.id).await;
    let refused = s.s.app.page(&location, &maker_cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
