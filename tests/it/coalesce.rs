//! Coalesced payments: concurrent requests of a council are decided and posted in shared
//! transactions. Exact balances and exactly the right refusals under real concurrency; one bad
//! request never fails its batch-mates; one key in flight many times posts once; a server killed
//! mid-load loses nothing and posts each key exactly once.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::{Actor, Role};
use allot::payments::spend::{self, NewPayment, PaymentOutcome};

use crate::payments_api::{setup, Setup};

fn holder_actor(t: &Setup) -> Actor {
    Actor {
        user_id: t.holder.0,
        council_id: t.s.council.id,
        role: Role::BudgetHolder,
        email: String::new(),
        name: "Pat Payer".into(),
        organisation_id: None,
        person_id: Some(t.person),
    }
}

fn amount(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[tokio::test]
async fn concurrent_payments_share_transactions_and_end_exact() {
    let t = Arc::new(setup().await);
    let start = t.available().await;
    let requests = 150;
    let fits = (start / amount("10.00")).floor();
    assert!(fits < Decimal::from(requests), "the account must run out");
    let mut tasks = Vec::new();
    for _ in 0..requests {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.pay(&t.holder.1, t.body("personal_care", "10.00")).await
        }));
    }
    let (mut posted, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => posted += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(reply.code(), "insufficient_funds", "{}", reply.text);
                refused += 1;
            }
            other => panic!("{other}: {}", reply.text),
        }
    }
    assert_eq!(Decimal::from(posted), fits);
    assert_eq!(posted + refused, requests);
    assert_eq!(
        t.available().await,
        start - Decimal::from(posted) * amount("10.00")
    );
    assert_eq!(t.payments_rows().await, i64::from(requests));
    let (batches, mean, _) = t.s.app.state.payments.batch_sizes().summary();
    assert!(
        batches < u64::from(requests as u32) && mean > 1.0,
        "requests were not coalesced: {batches} batches, mean {mean}"
    );
}

#[tokio::test]
async fn two_payments_racing_for_the_last_pounds_give_exactly_one_refusal() {
    let t = Arc::new(setup().await);
    // Leave 20.00 in the account (in payments the holder may make alone: at most 250.00).
    loop {
        let left = t.available().await;
        if left <= amount("20.00") {
            break;
        }
        let step = (left - amount("20.00")).min(amount("240.00")).to_string();
        let reply = t.pay(&t.holder.1, t.body("personal_care", &step)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    assert_eq!(t.available().await, amount("20.00"));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.pay(&t.holder.1, t.body("personal_care", "20.00")).await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        statuses.push((reply.status, reply.code().to_owned()));
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            (StatusCode::CREATED, String::new()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "insufficient_funds".to_owned()
            ),
        ]
    );
    assert_eq!(t.available().await, Decimal::ZERO);
}

#[tokio::test]
async fn one_bad_request_never_fails_its_batch_mates() {
    let t = setup().await;
    let actor = holder_actor(&t);
    let new = |body: Value| -> NewPayment { serde_json::from_value(body).unwrap() };
    let good = t.body("personal_care", "12.00");
    let mut invisible = good.clone();
    invisible["budget_id"] = json!(Uuid::new_v4());
    let mut unknown_payee = good.clone();
    unknown_payee["payee_id"] = json!(Uuid::new_v4());
    let mut long_memo = good.clone();
    long_memo["memo"] = json!("m".repeat(501));
    let not_in_plan = t.body("education", "5.00");
    let requests: Vec<spend::Request> = [
        good.clone(),
        invisible,
        unknown_payee,
        long_memo,
        not_in_plan,
        good,
    ]
    .into_iter()
    .map(|body| spend::Request {
        actor: actor.clone(),
        new: new(body),
    })
    .collect();
    let before = t.available().await;
    let now = t.s.app.state.clock.now();
    let results = allot::db::in_tenant_tx(&t.s.app.db.pool, t.s.council.id, |tx| {
        Box::pin(async move {
            let refs: Vec<&spend::Request> = requests.iter().collect();
            spend::decide_and_record(tx, actor.council_id, &refs, now).await
        })
    })
    .await
    .unwrap();
    assert_eq!(results.len(), 6);
    assert!(matches!(results[0], Ok(PaymentOutcome::Posted(_))));
    assert!(matches!(results[1], Err(allot::error::AppError::NotFound)));
    assert!(matches!(
        results[2],
        Err(allot::error::AppError::Invalid { .. })
    ));
    assert!(matches!(
        results[3],
        Err(allot::error::AppError::Invalid { .. })
    ));
    assert!(matches!(
        &results[4],
        Ok(PaymentOutcome::Refused { refusals, .. }) if refusals[0].code.as_str() == "not_in_plan"
    ));
    assert!(matches!(results[5], Ok(PaymentOutcome::Posted(_))));
    // Two posted and one refusal recorded; nothing of the failed three.
    assert_eq!(t.available().await, before - amount("24.00"));
    assert_eq!(t.payments_rows().await, 3);

    // Through the desk, concurrently: the bad ones get their errors and keep their keys free.
    let t = Arc::new(t);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut body = t.body("personal_care", "1.00");
            if i % 4 == 0 {
                body["payee_id"] = json!(Uuid::new_v4());
            }
            let key = format!("mixed-{i}");
            let reply =
                t.s.app
                    .post_with_key("/api/v1/payments", &t.holder.1, &key, body.clone())
                    .await;
            (i, key, body, reply)
        }));
    }
    for task in tasks {
        let (i, key, mut body, reply) = task.await.unwrap();
        if i % 4 == 0 {
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
            // The key was released: the corrected request with it goes through.
            body["payee_id"] = json!(t.agency);
            let retry =
                t.s.app
                    .post_with_key("/api/v1/payments", &t.holder.1, &key, body)
                    .await;
            assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
        } else {
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        }
    }
    assert_eq!(t.available().await, before - amount("44.00"));
}

#[tokio::test]
async fn one_key_sent_many_times_at_once_posts_once() {
    let t = Arc::new(setup().await);
    let before = t.available().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.s.app
                .post_with_key(
                    "/api/v1/payments",
                    &t.holder.1,
                    "the-same-key",
                    t.body("personal_care", "7.50"),
                )
                .await
        }));
    }
    let mut ids = Vec::new();
    let mut replays = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        if reply.headers.get("idempotent-replayed").is_some() {
            replays += 1;
        }
        ids.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(replays, 11);
    assert_eq!(t.available().await, before - amount("7.50"));
    assert_eq!(t.payments_rows().await, 1);
}

// ---- A server killed mid-load ----

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test database's address as a `DATABASE_URL` for the real binary.
fn database_url(config: &tokio_postgres::Config) -> String {
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
    };
    format!(
        "postgresql://{}@/{}?host={}&port={}",
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("postgres"),
        host,
        config.get_ports().first().copied().unwrap_or(5432)
    )
}

fn start_server(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_allot"))
        .env("DATABASE_URL", url)
        // The key the test's own state seals and verifies under.
        .env(
            "ALLOT_CHAIN_KEY",
            hex::encode(b"allot test chain key, never used in production"),
        )
        .env_remove("ALLOT_CHAIN_KEY_FILE")
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_until_serving(client: &reqwest::Client, port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client
            .get(format!("http://127.0.0.1:{port}/login"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("allot exited early: {status}");
        }
        assert!(Instant::now() < deadline, "allot did not start serving");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends one payment; `None` when the server is gone (the caller tries again with the same key).
async fn send(
    client: &reqwest::Client,
    port: u16,
    token: &str,
    key: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let reply = client
        .post(format!("http://127.0.0.1:{port}/api/v1/payments"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    let status = reply.status().as_u16();
    let text = reply.text().await.ok()?;
    if status >= 500 {
        return None;
    }
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_load_loses_nothing_and_posts_each_key_once() {
    let t = setup().await;
    let url = database_url(&t.s.app.db.config);
    let start = t.available().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let keys: Vec<String> = (0..240).map(|i| format!("load-{i}")).collect();
    let body = t.body("personal_care", "1.00");
    let mut answers: HashMap<String, (u16, Value)> = HashMap::new();
    for round in 0..4 {
        let port = free_port();
        let mut server = start_server(&url, port);
        wait_until_serving(&client, port, &mut server).await;
        let pending: Vec<String> = keys
            .iter()
            .filter(|k| !answers.contains_key(*k))
            .cloned()
            .collect();
        let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for chunk in pending.chunks(pending.len().div_ceil(12).max(1)) {
            let (client, token, body, chunk, answered) = (
                client.clone(),
                t.holder.1.clone(),
                body.clone(),
                chunk.to_vec(),
                answered.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for key in chunk {
                    match send(&client, port, &token, &key, &body).await {
                        Some(answer) => {
                            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            got.push((key, answer));
                        }
                        None => break,
                    }
                }
                got
            }));
        }
        if round < 3 {
            // Kill it once a part of this round's requests have been answered, mid-load.
            let target = (pending.len() / 4).max(1);
            let deadline = Instant::now() + Duration::from_secs(60);
            while answered.load(std::sync::atomic::Ordering::SeqCst) < target {
                assert!(Instant::now() < deadline, "the load made no progress");
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            kill(Pid::from_raw(server.id() as i32), Signal::SIGKILL).unwrap();
        }
        for task in tasks {
            for (key, answer) in task.await.unwrap() {
                answers.insert(key, answer);
            }
        }
        if round == 3 {
            kill(Pid::from_raw(server.id() as i32), Signal::SIGKILL).unwrap();
        }
        server.wait().unwrap();
    }
    assert_eq!(
        answers.len(),
        keys.len(),
        "every key was answered in the end"
    );
    assert!(answers.values().all(|(status, _)| *status == 201));
    // Exactly once: one payment per key, the balance down by exactly that much.
    assert_eq!(t.payments_rows().await, keys.len() as i64);
    let ids: std::collections::HashSet<&str> = answers
        .values()
        .map(|(_, body)| body["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), keys.len());
    assert_eq!(
        t.available().await,
        start - Decimal::from(keys.len() as u32) * amount("1.00")
    );
    allot::ledger::seal_pending(&t.s.app.db.pool, t.s.council.id, &t.s.app.state.chain_key)
        .await
        .unwrap();
    let report = allot::ledger::verify(&t.s.app.db.pool, t.s.council.id, &t.s.app.state.chain_key)
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
}
