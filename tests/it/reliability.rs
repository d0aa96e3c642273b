//! The database goes away mid-load: requests answer 503 `unavailable` (never another 5xx) while
//! it is gone, the service comes back by itself when it returns, and clients retrying with their
//! keys find every payment made exactly once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;

use allot::db::testing::TestDb;
use allot::db::{EmbeddedPostgres, ServerOptions};

use crate::payments_api::setup_in;
use crate::support::scenario::Scenario;
use crate::support::{test_settings, TestApp};

fn options() -> ServerOptions {
    ServerOptions {
        max_connections: 60,
        settings: vec![
            ("fsync".into(), "off".into()),
            ("synchronous_commit".into(), "off".into()),
        ],
        ..ServerOptions::default()
    }
}

async fn start(dir: std::path::PathBuf) -> EmbeddedPostgres {
    tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir, &options()))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_mid_load_gives_503s_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pg = start(dir.path().to_owned()).await;
    allot::db::create_database_if_missing(&pg, "allot")
        .await
        .unwrap();
    let config = pg.config("allot");
    let pool = allot::db::pool_from_config(config.clone(), 16).unwrap();
    {
        let mut client = pool.get().await.unwrap();
        allot::db::migrate::run(&mut client).await.unwrap();
    }
    let state = allot::AppState::new(pool.clone(), test_settings());
    let app = TestApp {
        db: TestDb {
            pool,
            name: "allot".into(),
            config,
        },
        router: allot::app(state.clone()),
        state,
    };
    let t = setup_in(Scenario::in_app(app, "Restart Council").await).await;
    let start_balance = t.available().await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = t.s.app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let keys: Vec<String> = (0..160).map(|i| format!("restart-{i}")).collect();
    let body = t.body("personal_care", "1.00").to_string();
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for chunk in keys.chunks(20) {
        let (client, token, body, chunk, answered) = (
            client.clone(),
            t.holder.1.clone(),
            body.clone(),
            chunk.to_vec(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut seen: HashMap<u16, usize> = HashMap::new();
            let mut outcomes = Vec::new();
            for key in chunk {
                let deadline = Instant::now() + Duration::from_secs(90);
                loop {
                    assert!(Instant::now() < deadline, "{key} never went through");
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/api/v1/payments"))
                        .header("authorization", format!("Bearer {token}"))
                        .header("content-type", "application/json")
                        .header("idempotency-key", &key)
                        .body(body.clone())
                        .send()
                        .await;
                    let Ok(reply) = sent else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let status = reply.status().as_u16();
                    let text = reply.text().await.unwrap_or_default();
                    *seen.entry(status).or_default() += 1;
                    if status == 503 {
                        let envelope: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        assert_eq!(envelope["error"]["code"], "unavailable", "{text}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                    outcomes.push((key.clone(), status, text));
                    break;
                }
            }
            (seen, outcomes)
        }));
    }
    // Mid-load, stop the server and start it again.
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < keys.len() / 4 {
        assert!(Instant::now() < deadline, "the load made no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut pg = pg;
    tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    let pg = start(dir.path().to_owned()).await;

    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let (seen, outcomes) = task.await.unwrap();
        for (status, n) in seen {
            *statuses.entry(status).or_default() += n;
        }
        for (key, status, text) in outcomes {
            assert_eq!(status, 201, "{key}: {text}");
            let body: Value = serde_json::from_str(&text).unwrap();
            ids.insert(body["id"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        statuses.keys().all(|s| *s < 500 || *s == 503),
        "only 503s while the database was away: {statuses:?}"
    );
    assert!(
        statuses.get(&503).is_some_and(|n| *n > 0),
        "the database was really away for a while: {statuses:?}"
    );
    assert_eq!(ids.len(), keys.len(), "one payment per key");
    assert_eq!(t.payments_rows().await, keys.len() as i64);
    assert_eq!(
        t.available().await,
        start_balance - Decimal::from(keys.len() as u32)
    );
    drop(pg);
}
