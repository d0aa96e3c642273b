//! Webhooks out (issue 14): endpoints and their roles, bad input, the outbox written with what it
//! reports, and deliveries to an in-process receiver on 127.0.0.1 whose signatures the
//! `standardwebhooks` crate verifies, retried after a 503 when the clock has moved, after a 429's
//! `Retry-After`, and stopped by a 410.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::webhooks::deliver::{self, Options};

use crate::payments_api::{grant, setup_in, Setup};
use crate::support::scenario::{id, Scenario};
use crate::support::{test_settings, TestApp};

/// What the receiver got, and what it answers next (200 once the script is used up).
#[derive(Default)]
struct Receiver {
    got: Vec<(HeaderMap, Bytes)>,
    script: VecDeque<(u16, Option<&'static str>)>,
}

type Shared = Arc<Mutex<Receiver>>;

/// An axum receiver on 127.0.0.1: its URL and what it saw.
async fn receiver() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let shared = shared.clone();
            move |headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move {
                    let mut r = shared.lock().unwrap();
                    r.got.push((headers, body));
                    let (status, retry_after) = r.script.pop_front().unwrap_or((200, None));
                    let mut response = axum::response::Response::new(axum::body::Body::empty());
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    if let Some(after) = retry_after {
                        response
                            .headers_mut()
                            .insert("retry-after", after.parse().unwrap());
                    }
                    response
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://127.0.0.1:{}/hook", addr.port()), shared)
}

fn options() -> Options {
    Options {
        allow_private: true,
        ..Options::default()
    }
}

/// The payments scenario in an app that allows loopback endpoints, plain http to 127.0.0.1.
async fn loopback_setup() -> Setup {
    let app = TestApp::with_settings(allot::config::Settings {
        webhook_allow_private: true,
        ..test_settings()
    })
    .await;
    let t = setup_in(Scenario::in_app(app, "Test Council").await).await;
    let reply =
        t.s.app
            .put(
                "/api/v1/webhook-http-hosts",
                &t.s.council.admin_token,
                json!({"hosts": ["127.0.0.1"]}),
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    t
}

async fn deliveries(t: &Setup, token: &str, endpoint: Uuid) -> Vec<Value> {
    let reply =
        t.s.app
            .get(&format!("/api/v1/webhooks/{endpoint}/deliveries"), token)
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().clone()
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) {
    let wh = standardwebhooks::Webhook::new(secret).expect("a secret");
    wh.verify(body, headers)
        .expect("a valid Standard Webhooks signature");
}

#[tokio::test]
async fn deliveries_are_signed_retried_on_the_clock_and_stopped_by_a_410() {
    let t = loopback_setup().await;
    let app = &t.s.app;
    let pool = &app.db.pool;
    let clock = app.state.clock.clone();
    clock.set(clock.now());
    let (url, shared) = receiver().await;
    let created = app
        .post(
            "/api/v1/webhooks",
            &t.s.council.admin_token,
            json!({"url": url, "events": ["payment.posted"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let endpoint = id(&created);
    // The secret is shown once only.
    let shown = app
        .get(
            &format!("/api/v1/webhooks/{endpoint}"),
            &t.s.council.admin_token,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.json.get("secret").is_none(), "{}", shown.text);

    // A 503 first: tried again 5 s (plus jitter) later, not before.
    shared.lock().unwrap().script.push_back((503, None));
    let paid = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(
        round,
        deliver::Round {
            delivered: 0,
            failed: 1
        }
    );
    clock.advance(Duration::seconds(2));
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round, deliver::Round::default());
    clock.advance(Duration::seconds(4));
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);
    {
        let r = shared.lock().unwrap();
        assert_eq!(r.got.len(), 2);
        let ids: Vec<_> = r.got.iter().map(|(h, _)| h["webhook-id"].clone()).collect();
        assert_eq!(ids[0], ids[1], "the webhook-id is stable across retries");
        assert_ne!(
            r.got[0].0["webhook-timestamp"],
            r.got[1].0["webhook-timestamp"]
        );
        for (headers, body) in &r.got {
            assert!(headers["webhook-signature"]
                .to_str()
                .unwrap()
                .starts_with("v1,"));
            verify(&secret, headers, body);
            let event: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(event["type"], "payment.posted");
            assert_eq!(event["data"]["payment_id"], paid.json["id"]);
            assert_eq!(event["data"]["amount"], "40.00");
        }
    }
    let log = deliveries(&t, &t.s.council.admin_token, endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["log"][0]["status_code"], 503);
    assert_eq!(log[0]["log"][1]["status_code"], 200);

    // A 429 with Retry-After: 120 is tried again after two minutes, not at the 5 s of the schedule.
    shared.lock().unwrap().script.push_back((429, Some("120")));
    let paid = t.pay(&t.holder.1, t.body("personal_care", "5.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    clock.advance(Duration::seconds(60));
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round, deliver::Round::default());
    clock.advance(Duration::seconds(61));
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);
    assert_eq!(shared.lock().unwrap().got.len(), 4);

    // A 410 disables the endpoint: nothing more is sent to it.
    shared.lock().unwrap().script.push_back((410, None));
    t.pay(&t.holder.1, t.body("personal_care", "6.00")).await;
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round.failed, 1);
    let shown = app
        .get(
            &format!("/api/v1/webhooks/{endpoint}"),
            &t.s.council.admin_token,
        )
        .await;
    assert_eq!(shown.json["status"], "disabled", "{}", shown.text);
    t.pay(&t.holder.1, t.body("personal_care", "7.00")).await;
    clock.advance(Duration::hours(30));
    let round = deliver::run_once(pool, clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round, deliver::Round::default());
    assert_eq!(shared.lock().unwrap().got.len(), 5);
    assert_eq!(
        deliveries(&t, &t.s.council.admin_token, endpoint)
            .await
            .len(),
        3
    );
}

#[tokio::test]
async fn events_are_written_with_what_they_report_and_providers_get_their_accounts_only() {
    let t = loopback_setup().await;
    let app = &t.s.app;
    let (url, _shared) = receiver().await;
    let events = json!([
        "payment.posted",
        "payment.held",
        "payment.refused",
        "payment.approved"
    ]);
    let council = app
        .post(
            "/api/v1/webhooks",
            &t.s.council.admin_token,
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(council.status, StatusCode::CREATED, "{}", council.text);
    let provider = app
        .post(
            "/api/v1/webhooks",
            &t.s.ma_staff.token,
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(provider.status, StatusCode::CREATED, "{}", provider.text);
    assert_eq!(provider.json["organisation_id"], json!(t.s.ma_provider));
    let (council, provider) = (id(&council), id(&provider));

    let cosigner = app
        .user(&t.s.council, allot::auth::Role::Representative, None, None)
        .await;
    grant(
        &t.s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    // Posted from the direct payment; held above the co-sign threshold, then approved; refused
    // over the limit.
    let posted = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(posted.json["status"], "posted", "{}", posted.text);
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(held.json["status"], "pending_approval", "{}", held.text);
    let approved = app
        .post(
            &format!(
                "/api/v1/payments/{}/approve",
                held.json["id"].as_str().unwrap()
            ),
            &cosigner.1,
            json!({}),
        )
        .await;
    assert!(approved.status.is_success(), "{}", approved.text);
    let refused = t.pay(&t.holder.1, t.body("personal_care", "900.00")).await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    let log = deliveries(&t, &t.s.council.admin_token, council).await;
    let mut kinds: Vec<&str> = log
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "payment.approved",
            "payment.held",
            "payment.posted",
            "payment.posted",
            "payment.refused"
        ]
    );
    // The managed-account provider holds none of those accounts.
    assert!(deliveries(&t, &t.s.ma_staff.token, provider)
        .await
        .is_empty());

    // A payment from the account the provider holds reaches its endpoint.
    grant(
        &t.s,
        t.budget,
        json!({"user_id": t.s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "200.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let mut body = t.body("personal_care", "30.00");
    body["deployment"] = json!("managed_account");
    let reply = t.pay(&t.s.ma_staff.token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let log = deliveries(&t, &t.s.ma_staff.token, provider).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["event_type"], "payment.posted");
    assert_eq!(log[0]["payload"]["data"]["payment_id"], reply.json["id"]);
    assert_eq!(log[0]["status"], "pending");
    assert!(log[0]["webhook_id"].as_str().unwrap().starts_with("msg_"));
}

#[tokio::test]
async fn bad_urls_private_addresses_unknown_events_and_roles_are_refused() {
    let s = Scenario::new().await;
    let app = &s.app;
    let admin = &s.council.admin_token;
    for (url, events) in [
        ("not a url", json!(["payment.posted"])),
        ("http://93.184.216.34/hook", json!(["payment.posted"])),
        ("https://127.0.0.1/hook", json!(["payment.posted"])),
        ("https://10.0.0.8/hook", json!(["payment.posted"])),
        ("https://169.254.169.254/latest", json!(["payment.posted"])),
        ("https://[::1]/hook", json!(["payment.posted"])),
        ("https://93.184.216.34/hook", json!(["payment.exploded"])),
        ("https://93.184.216.34/hook", json!([])),
    ] {
        let reply = app
            .post(
                "/api/v1/webhooks",
                admin,
                json!({"url": url, "events": events}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{url} {events}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
        assert!(reply.json["error"]["message"].is_string());
    }
    let body = json!({"url": "https://93.184.216.34/hook", "events": ["payment_run.approved"]});
    for token in [
        &s.care_manager.token,
        &s.maker.token,
        &s.auditor.token,
        &s.broker.token,
    ] {
        let reply = app.post("/api/v1/webhooks", token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        let reply = app.get("/api/v1/webhooks", token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    let reply = app
        .put(
            "/api/v1/webhook-http-hosts",
            &s.ma_staff.token,
            json!({"hosts": ["x.example"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    let council = app.post("/api/v1/webhooks", admin, body.clone()).await;
    assert_eq!(council.status, StatusCode::CREATED, "{}", council.text);
    let mine = app
        .post("/api/v1/webhooks", &s.ma_staff.token, body.clone())
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
    let (council, mine) = (id(&council), id(&mine));
    // The administrator sees both; provider staff their organisation's only.
    let all = app.get("/api/v1/webhooks", admin).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    let theirs = app.get("/api/v1/webhooks", &s.ma_staff.token).await;
    assert_eq!(theirs.json["items"].as_array().unwrap().len(), 1);
    for (token, endpoint) in [(&s.ma_staff.token, council), (&s.isf_staff.token, mine)] {
        let reply = app
            .get(&format!("/api/v1/webhooks/{endpoint}"), token)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        let reply = app
            .call(
                axum::http::Method::DELETE,
                &format!("/api/v1/webhooks/{endpoint}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    }
    // Another council finds nothing.
    let elsewhere = s.elsewhere().await;
    let reply = app
        .get(
            &format!("/api/v1/webhooks/{council}"),
            &elsewhere.care_manager,
        )
        .await;
    assert!(matches!(
        reply.status,
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
    ));
    // Deleted: gone from the list and not found.
    let reply = app
        .call(
            axum::http::Method::DELETE,
            &format!("/api/v1/webhooks/{mine}"),
            Some(&s.ma_staff.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let reply = app
        .get(&format!("/api/v1/webhooks/{mine}"), &s.ma_staff.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn approved_runs_paid_invoices_and_declined_card_authorisations_are_reported() {
    let t = loopback_setup().await;
    let app = &t.s.app;
    let (url, shared) = receiver().await;
    let all = json!([
        "payment_run.approved",
        "invoice.paid",
        "card.authorization.declined"
    ]);
    let council = app
        .post(
            "/api/v1/webhooks",
            &t.s.council.admin_token,
            json!({"url": url, "events": all}),
        )
        .await;
    assert_eq!(council.status, StatusCode::CREATED, "{}", council.text);
    let secret = council.json["secret"].as_str().unwrap().to_owned();
    let provider = app
        .post(
            "/api/v1/webhooks",
            &t.s.ma_staff.token,
            json!({"url": url, "events": all}),
        )
        .await;
    assert_eq!(provider.status, StatusCode::CREATED, "{}", provider.text);
    let provider_secret = provider.json["secret"].as_str().unwrap().to_owned();
    let (council, provider) = (id(&council), id(&provider));

    // A payment run approved.
    let draft = t.s.draft_run("webhooks-run", "2025-03-03").await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    t.s.submit_and_approve(id(&draft)).await;

    // An invoice paid in full from the managed account the provider holds.
    grant(
        &t.s,
        t.budget,
        json!({"user_id": t.s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let invoice = app
        .post(
            "/api/v1/invoices",
            &t.s.ma_staff.token,
            json!({"budget_id": t.budget, "deployment": "managed_account", "payee_id": t.agency,
                   "category": "personal_care", "invoice_number": "WH-1", "issued_on": "2025-02-08",
                   "lines": [{"description": "Calls", "quantity": "2", "unit_price": "20.00"}],
                   "total": "40.00"}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);
    let invoice = id(&invoice);
    let paid = app
        .post_with_key(
            &format!("/api/v1/invoices/{invoice}/pay"),
            &t.s.ma_staff.token,
            "webhooks-invoice",
            json!({}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);

    // A card authorisation declined at a casino (from the person's direct payment).
    let processor = allot::cards::processors::create(&app.db.pool, "Webhook Processor")
        .await
        .unwrap();
    let key = allot::cards::signature::parse_secret(&processor.secret).unwrap();
    let card = app
        .post(
            "/api/v1/cards",
            &t.s.maker.token,
            json!({"account_id": t.dp_account, "processor_card_ref": "wh-card",
                   "cardholder_user_id": t.holder.0, "last4": "4242"}),
        )
        .await;
    assert_eq!(card.status, StatusCode::CREATED, "{}", card.text);
    let body = json!({"type": "authorization.request", "data": {"authorization_id": "wh-auth",
        "card_ref": "wh-card", "amount": "5.00", "currency": "GBP",
        "merchant": {"name": "Casino", "category_code": "7995"}}})
    .to_string();
    let now = app.state.clock.now().timestamp();
    let request = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri("/api/v1/card-events")
        .header("content-type", "application/json")
        .header("webhook-id", "msg_webhooks_card")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            allot::cards::signature::sign(&key, "msg_webhooks_card", now, body.as_bytes()),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let decided = app.send(request).await;
    assert_eq!(decided.json["approved"], false, "{}", decided.text);

    let log = deliveries(&t, &t.s.council.admin_token, council).await;
    let mut kinds: Vec<&str> = log
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "card.authorization.declined",
            "invoice.paid",
            "payment_run.approved"
        ]
    );
    let event = |kind: &str| {
        log.iter()
            .find(|d| d["event_type"] == kind)
            .map(|d| d["payload"]["data"].clone())
            .unwrap()
    };
    assert_eq!(event("invoice.paid")["invoice_id"], json!(invoice));
    assert_eq!(event("invoice.paid")["paid"], "40.00");
    assert_eq!(
        event("payment_run.approved")["payment_run_id"],
        json!(id(&draft))
    );
    assert_eq!(
        event("card.authorization.declined")["decline_reason"],
        decided.json["decline_reason"]
    );
    // The provider's endpoint: the invoice of the account it holds, not the council's run nor
    // the person's card.
    let theirs = deliveries(&t, &t.s.ma_staff.token, provider).await;
    let kinds: Vec<&str> = theirs
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["invoice.paid"]);

    // All four sent, each verifiable with its own endpoint's secret.
    let round = deliver::run_once(&app.db.pool, app.state.clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round.delivered, 4);
    let got = &shared.lock().unwrap().got;
    assert_eq!(got.len(), 4);
    let council_ids: Vec<&str> = log
        .iter()
        .map(|d| d["webhook_id"].as_str().unwrap())
        .collect();
    let mut theirs_seen = 0;
    for (headers, body) in got {
        let id = headers["webhook-id"].to_str().unwrap();
        // The invoice's one event goes to both endpoints under the same webhook-id.
        let council_ok = standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(body, headers)
            .is_ok();
        if !council_ok {
            verify(&provider_secret, headers, body);
            theirs_seen += 1;
        }
        assert!(council_ids.contains(&id));
    }
    assert_eq!(theirs_seen, 1);
}

/// The endpoint's stored secret columns, read as the schema owner (a database read alone).
async fn stored_secret(t: &Setup, endpoint: Uuid) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut client = t.s.app.db.pool.get().await.unwrap();
    let tx = client.transaction().await.unwrap();
    tx.execute(
        "SELECT set_config('app.council_id', $1, true)",
        &[&t.s.council.id.to_string()],
    )
    .await
    .unwrap();
    let row = tx
        .query_one(
            "SELECT secret, secret_sealed FROM webhook_endpoints WHERE id = $1",
            &[&endpoint],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn secrets_are_stored_sealed_and_deliveries_still_verify() {
    use allot::webhooks::secrets::{seal_existing, SecretSealer};
    let t = loopback_setup().await;
    let app = &t.s.app;
    let council = t.s.council.id;
    let (url, shared) = receiver().await;
    let create = || async {
        let created = app
            .post(
                "/api/v1/webhooks",
                &t.s.council.admin_token,
                json!({"url": url, "events": ["payment.posted"]}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        (
            id(&created),
            created.json["secret"].as_str().unwrap().to_owned(),
        )
    };
    let (endpoint, secret) = create().await;
    let key = allot::cards::signature::parse_secret(&secret).unwrap();
    let (clear, sealed) = stored_secret(&t, endpoint).await;
    assert_eq!(clear, None);
    let sealed = sealed.expect("a sealed secret");
    assert!(!contains(&sealed, &key), "the stored column holds the key");
    let sealer = SecretSealer::new(&app.state.chain_key);
    assert_eq!(sealer.open(council, endpoint, &sealed).unwrap(), key);
    // Another chain key, or another endpoint's row, does not open it.
    let (other_key, _) = allot::ledger::chain::ChainKey::generate().unwrap();
    assert!(SecretSealer::new(&other_key)
        .open(council, endpoint, &sealed)
        .is_err());
    assert!(sealer.open(council, Uuid::new_v4(), &sealed).is_err());

    // An endpoint kept in clear (made before secrets were sealed) is sealed at start-up.
    let (older, older_secret) = create().await;
    let older_key = allot::cards::signature::parse_secret(&older_secret).unwrap();
    {
        let mut client = app.db.pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.execute(
            "SELECT set_config('app.council_id', $1, true)",
            &[&council.to_string()],
        )
        .await
        .unwrap();
        tx.execute(
            "UPDATE webhook_endpoints SET secret = $2, secret_sealed = NULL WHERE id = $1",
            &[&older, &older_key],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(seal_existing(&app.db.pool, &sealer).await.unwrap(), 1);
    assert_eq!(seal_existing(&app.db.pool, &sealer).await.unwrap(), 0);
    let (clear, sealed) = stored_secret(&t, older).await;
    assert_eq!(clear, None);
    assert_eq!(
        sealer.open(council, older, &sealed.unwrap()).unwrap(),
        older_key
    );

    // Both endpoints' deliveries verify with the secrets shown when they were made.
    let paid = t.pay(&t.holder.1, t.body("personal_care", "10.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let round = deliver::run_once(&app.db.pool, app.state.clock.now(), &options())
        .await
        .unwrap();
    assert_eq!(round.delivered, 2, "{round:?}");
    let got = &shared.lock().unwrap().got;
    assert_eq!(got.len(), 2);
    let verified = |secret: &str| {
        got.iter().any(|(headers, body)| {
            standardwebhooks::Webhook::new(secret)
                .unwrap()
                .verify(body, headers)
                .is_ok()
        })
    };
    assert!(verified(&secret));
    assert!(verified(&older_secret));
}
