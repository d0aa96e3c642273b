//! The ledger under concurrent load, against pgbench's TPC-B on the same throwaway cluster.
//!
//! Every case runs `BENCH_CLIENTS` (default 16) tokio tasks, each posting through its own pooled
//! connection, for `BENCH_SECS` seconds (default 10) after a short warm-up; only operations that
//! finish inside the measured window count.
//!
//! - **spread**: `ledger::post` of one two-leg entry, from one of 64 funded `no_overdraft`
//!   holder accounts to one of 64 payee accounts, chosen at random (p50/p99 latency too);
//! - **hot**: the same, but every client debits one `no_overdraft` account;
//! - **batch 100 / 1,000**: `post_batch_in_tx` of that many entries per transaction, each client
//!   on its own four holders and four payees (a payment run per client);
//! - **pgbench**: `pgbench -i -s BENCH_PGBENCH_SCALE` (default 16) into a database of its own,
//!   then `pgbench -c <clients> -j 2 -T <secs> -n`.
//!
//! The ledger cases run on a ledger with a history: `BENCH_HISTORY` (default 100,000) past
//! payments are posted first, then `VACUUM ANALYZE` gives the planner the statistics a database
//! in use has. (On a database made seconds before, PostgreSQL plans for empty tables, and the
//! plans a session caches then, in PL/pgSQL triggers too, scan whole tables as they grow: the
//! figures would measure that, not the ledger.)
//!
//! `BENCH_CASES` (comma-separated: `pgbench,spread,hot,batch100,batch1000`) runs some of them.
//! Figures are printed with the targets, never asserted: timings depend on the machine.

#[path = "support/pgbench.rs"]
mod pgbench;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use allot::db::testing::TestDb;
use allot::db::{pool_from_config, tenant_tx, DbPool};
use allot::ledger::{self, NewAccount, NewEntry, NewLeg, Side};

/// Accounts the spread case chooses from, on each side.
const SPREAD_ACCOUNTS: usize = 64;
const PGBENCH_DB: &str = "bench_pgbench";

struct Settings {
    clients: usize,
    measure: Duration,
    warmup: Duration,
    pgbench_scale: u32,
    /// Entries posted before the cases run.
    history: u64,
    cases: Vec<String>,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: f64| -> f64 {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|v: &f64| *v >= 0.0)
                .unwrap_or(default)
        };
        let secs = number("BENCH_SECS", 10.0).max(0.1);
        Settings {
            clients: (number("BENCH_CLIENTS", 16.0) as usize).max(1),
            measure: Duration::from_secs_f64(secs),
            warmup: Duration::from_secs_f64((secs / 5.0).min(2.0)),
            pgbench_scale: (number("BENCH_PGBENCH_SCALE", 16.0) as u32).max(1),
            history: number("BENCH_HISTORY", 100_000.0) as u64,
            cases: std::env::var("BENCH_CASES")
                .unwrap_or_else(|_| "pgbench,spread,hot,batch100,batch1000".into())
                .split(',')
                .map(|c| c.trim().to_string())
                .collect(),
        }
    }

    fn runs(&self, case: &str) -> bool {
        self.cases.iter().any(|c| c == case)
    }
}

/// What one case measured.
struct Sample {
    /// Entries (not transactions) per second.
    per_second: f64,
    /// Transaction latencies, sorted.
    latencies: Vec<Duration>,
}

impl Sample {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Runs `op(client, iteration)` in a loop on every client until the window closes. `op` returns
/// how many entries it posted; an operation counts if it finished inside the measured window.
async fn drive<F, Fut>(settings: &Settings, op: F) -> Sample
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = u64> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let window_start = started + settings.warmup;
    let window_end = window_start + settings.measure;
    let mut tasks = Vec::new();
    for client in 0..settings.clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let (mut entries, mut latencies) = (0u64, Vec::new());
            let mut iteration = 0u64;
            loop {
                let begun = Instant::now();
                if begun >= window_end {
                    break;
                }
                let posted = op(client, iteration).await;
                iteration += 1;
                let finished = Instant::now();
                if finished >= window_start && finished < window_end {
                    entries += posted;
                    latencies.push(finished - begun);
                }
            }
            (entries, latencies)
        }));
    }
    let (mut entries, mut latencies) = (0u64, Vec::new());
    for task in tasks {
        let (n, l) = task.await.expect("bench client");
        entries += n;
        latencies.extend(l);
    }
    latencies.sort_unstable();
    Sample {
        per_second: entries as f64 / settings.measure.as_secs_f64(),
        latencies,
    }
}

/// A small, fast generator: the choice of accounts need not be unpredictable, only spread.
fn mix(client: usize, iteration: u64) -> u64 {
    let mut x = (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ iteration;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

fn effective_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 7).expect("a valid date")
}

/// A payment as the payments layer would post it: two legs and a decision record.
fn payment(from: Uuid, to: Uuid, client: usize, iteration: u64) -> NewEntry {
    let pence = 100 + (mix(client, iteration) % 9_900) as i64;
    let description = format!("Invoice {client}-{iteration}");
    let mut entry = transfer(from, to, Decimal::new(pence, 2), &description);
    entry.metadata = serde_json::json!({
        "requested_by": {"user_id": "4f1c2a7e-3b1d-4c1e-9d57-0c2b8e6f1a10", "role": "provider_staff"},
        "approved_by": null,
        "rule_set": "2025-04",
        "decision": {"outcome": "allowed"},
    });
    entry
}

struct Ledger {
    council_id: Uuid,
    holders: Vec<Uuid>,
    payees: Vec<Uuid>,
    hot: Uuid,
}

fn transfer(from: Uuid, to: Uuid, amount: Decimal, description: &str) -> NewEntry {
    NewEntry {
        effective_date: effective_date(),
        description: description.into(),
        legs: vec![
            NewLeg {
                account_id: from,
                side: Side::Debit,
                amount,
            },
            NewLeg {
                account_id: to,
                side: Side::Credit,
                amount,
            },
        ],
        metadata: serde_json::json!({"decision": {"outcome": "allowed"}}),
        reverses: None,
    }
}

/// Opens the accounts and funds the holders.
async fn setup(pool: &DbPool) -> Ledger {
    let council_id = Uuid::new_v4();
    let mut client = pool.get().await.expect("connection");
    let tx = tenant_tx(&mut client, council_id).await.expect("tx");
    tx.execute(
        "INSERT INTO councils (id, name) VALUES ($1, 'Bench Council')",
        &[&council_id],
    )
    .await
    .expect("council");
    let open = |kind: &'static str, no_overdraft: bool, n: usize| {
        let tx = &tx;
        async move {
            let mut ids = Vec::new();
            for i in 0..n {
                let account = NewAccount {
                    kind: kind.into(),
                    name: format!("{kind} {i}"),
                    holder: None,
                    no_overdraft,
                };
                ids.push(
                    ledger::create_account(tx, council_id, &account)
                        .await
                        .expect("account"),
                );
            }
            ids
        }
    };
    let funding = open("council_funding", false, 1).await[0];
    let holders = open("direct_payment", true, SPREAD_ACCOUNTS).await;
    let payees = open("payee", false, SPREAD_ACCOUNTS).await;
    let hot = open("direct_payment", true, 1).await[0];
    let funds: Vec<NewEntry> = holders
        .iter()
        .map(|h| (*h, Decimal::new(50_000_000, 0)))
        .chain([(hot, Decimal::new(90_000_000, 0))])
        .map(|(to, amount)| transfer(funding, to, amount, "Funding"))
        .collect();
    ledger::post_batch_in_tx(&tx, council_id, &funds)
        .await
        .expect("funding");
    tx.commit().await.expect("commit");
    Ledger {
        council_id,
        holders,
        payees,
        hot,
    }
}

/// Posts `entries` past payments between the holders and payees, in batches, so the bench runs
/// on a ledger with a history (and statistics that say so) rather than on empty tables.
async fn seed_history(pool: &DbPool, ledger: &Ledger, entries: u64) {
    const BATCH: u64 = 1000;
    let mut posted = 0;
    while posted < entries {
        let size = BATCH.min(entries - posted);
        let batch: Vec<NewEntry> = (posted..posted + size)
            .map(|n| {
                let r = mix(usize::MAX, n);
                transfer(
                    ledger.holders[(r % SPREAD_ACCOUNTS as u64) as usize],
                    ledger.payees[((r >> 16) % SPREAD_ACCOUNTS as u64) as usize],
                    Decimal::new(100 + (r % 9_900) as i64, 2),
                    "Past payment",
                )
            })
            .collect();
        // A connection of its own for each batch: PL/pgSQL keeps the plans a session made
        // first, and these tables grow from nothing here.
        let mut client = pool.get().await.expect("connection");
        let tx = tenant_tx(&mut client, ledger.council_id).await.expect("tx");
        ledger::post_batch_in_tx(&tx, ledger.council_id, &batch)
            .await
            .expect("history");
        tx.commit().await.expect("commit");
        drop(deadpool_postgres::Object::take(client));
        posted += size;
    }
}

/// Runs maintenance SQL as the cluster's superuser (CHECKPOINT, ANALYZE).
async fn as_superuser(superuser: &tokio_postgres::Config, sql: &str) {
    let (client, connection) = superuser
        .connect(tokio_postgres::NoTls)
        .await
        .expect("superuser connection");
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

/// Starts a case from a clean slate: dirty pages written out, so one case's checkpoint does not
/// land in the next.
async fn checkpoint(superuser: &tokio_postgres::Config) {
    as_superuser(superuser, "CHECKPOINT").await;
}

async fn single_posts(
    settings: &Settings,
    pool: &DbPool,
    ledger: &Arc<Ledger>,
    hot: bool,
) -> Sample {
    let (pool, ledger) = (pool.clone(), ledger.clone());
    drive(settings, move |client, iteration| {
        let (pool, ledger) = (pool.clone(), ledger.clone());
        async move {
            let r = mix(client, iteration);
            let from = if hot {
                ledger.hot
            } else {
                ledger.holders[(r % SPREAD_ACCOUNTS as u64) as usize]
            };
            let to = ledger.payees[((r >> 16) % SPREAD_ACCOUNTS as u64) as usize];
            let entry = payment(from, to, client, iteration);
            ledger::post(&pool, ledger.council_id, &entry)
                .await
                .unwrap_or_else(|e| panic!("posting: {e}"));
            1
        }
    })
    .await
}

async fn batches(settings: &Settings, pool: &DbPool, ledger: &Arc<Ledger>, size: usize) -> Sample {
    let (pool, ledger) = (pool.clone(), ledger.clone());
    // Client c takes every `stride`-th holder and payee from the c-th: its own, when there are
    // enough accounts for every client.
    let stride = settings.clients.min(SPREAD_ACCOUNTS);
    drive(settings, move |client, iteration| {
        let (pool, ledger) = (pool.clone(), ledger.clone());
        async move {
            let own = |accounts: &[Uuid], r: u64| {
                let mine: Vec<Uuid> = accounts
                    .iter()
                    .skip(client % stride)
                    .step_by(stride)
                    .copied()
                    .collect();
                mine[(r % mine.len() as u64) as usize]
            };
            let entries: Vec<NewEntry> = (0..size as u64)
                .map(|i| {
                    let n = iteration * size as u64 + i;
                    let r = mix(client, n);
                    payment(
                        own(&ledger.holders, r),
                        own(&ledger.payees, r >> 16),
                        client,
                        n,
                    )
                })
                .collect();
            allot::db::retrying(|| async {
                let mut connection = pool.get().await?;
                let tx = tenant_tx(&mut connection, ledger.council_id).await?;
                let ids = ledger::post_batch_in_tx(&tx, ledger.council_id, &entries).await?;
                tx.commit().await?;
                Ok::<_, ledger::LedgerError>(ids.len() as u64)
            })
            .await
            .unwrap_or_else(|e| panic!("posting a batch: {e}"))
        }
    })
    .await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One row of the table: workload, figure, ratio to pgbench, target and whether it was met.
fn row(
    workload: &str,
    figure: String,
    per_second: Option<f64>,
    baseline: Option<f64>,
    target: &str,
    met: Option<bool>,
) {
    let ratio = match (per_second, baseline) {
        (Some(x), Some(b)) => format!("{:.2}×", x / b),
        _ => String::new(),
    };
    let verdict = match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    };
    println!("| {workload} | {figure} | {ratio} | {target} | {verdict} |");
}

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let db = TestDb::new().await;
        let clients = settings.clients;
        println!(
            "ledger bench: {clients} clients, {:.0} s a case (after {:.1} s warm-up), {} cores",
            settings.measure.as_secs_f64(),
            settings.warmup.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );

        // The baseline first, so the ledger's tables are not being vacuumed while it runs.
        let mut baseline = None;
        if settings.runs("pgbench") {
            let binary = pgbench::binary();
            let init_started = Instant::now();
            pgbench::initialise(&db.config, PGBENCH_DB, settings.pgbench_scale).await;
            println!(
                "  pgbench ({}) initialised at scale {} in {:.1} s",
                binary.display(),
                settings.pgbench_scale,
                init_started.elapsed().as_secs_f64()
            );
            checkpoint(&db.config).await;
            let seconds = settings.measure.as_secs().max(1);
            let run = pgbench::run(&db.config, PGBENCH_DB, clients, 2, seconds).await;
            pgbench::drop_database(&db.config, PGBENCH_DB).await;
            println!(
                "  pgbench TPC-B: {:.0} tps, latency average {:.2} ms",
                run.tps,
                run.latency_avg_ms.unwrap_or(f64::NAN)
            );
            baseline = Some(run.tps);
        }

        let seeding = Instant::now();
        let setup_pool = pool_from_config(db.config.clone(), 2).expect("pool");
        let ledger = Arc::new(setup(&setup_pool).await);
        seed_history(&setup_pool, &ledger, settings.history).await;
        drop(setup_pool);
        // Statistics as autovacuum keeps them on a database in use; this one was made seconds ago
        // and autovacuum would not visit it during the bench. The measured pool connects after
        // it, so its sessions plan with them.
        as_superuser(&db.config, "VACUUM ANALYZE").await;
        println!(
            "  ledger: {} accounts, {} entries of history, set up in {:.1} s",
            2 * SPREAD_ACCOUNTS + 2,
            settings.history + SPREAD_ACCOUNTS as u64 + 1,
            seeding.elapsed().as_secs_f64()
        );
        let pool = pool_from_config(db.config.clone(), clients + 4).expect("pool");
        let measured = |name: &str| settings.runs(name);
        let spread = if measured("spread") {
            checkpoint(&db.config).await;
            let sample = single_posts(&settings, &pool, &ledger, false).await;
            println!("  spread: {:.0} posts/s", sample.per_second);
            Some(sample)
        } else {
            None
        };
        let hot = if measured("hot") {
            checkpoint(&db.config).await;
            let sample = single_posts(&settings, &pool, &ledger, true).await;
            println!("  hot: {:.0} posts/s", sample.per_second);
            Some(sample)
        } else {
            None
        };
        let mut batched = Vec::new();
        for size in [100, 1000] {
            if measured(&format!("batch{size}")) {
                checkpoint(&db.config).await;
                let sample = batches(&settings, &pool, &ledger, size).await;
                println!("  batches of {size}: {:.0} entries/s", sample.per_second);
                batched.push((size, sample));
            }
        }

        let mut client = pool.get().await.expect("connection");
        let tx = tenant_tx(&mut client, ledger.council_id).await.expect("tx");
        let report = ledger::audit::consistency(&tx, ledger.council_id)
            .await
            .expect("consistency");
        drop(tx);
        assert!(report.is_ok(), "the ledger's invariants broke under load: {report:?}");

        let single = spread.as_ref().map(|s| s.per_second);
        println!();
        println!("| workload ({clients} clients) | figure | vs pgbench | target | |");
        println!("|---|---:|---:|---|---|");
        if let Some(tps) = baseline {
            let workload = format!("pgbench TPC-B, scale {}", settings.pgbench_scale);
            row(&workload, format!("{tps:.0} tps"), Some(tps), baseline, "baseline", None);
        }
        if let Some(spread) = &spread {
            row(
                &format!("`ledger::post`, {SPREAD_ACCOUNTS} accounts"),
                format!("{:.0} posts/s", spread.per_second),
                Some(spread.per_second),
                baseline,
                "≥ 0.8× pgbench",
                baseline.map(|b| spread.per_second >= 0.8 * b),
            );
            let p99 = ms(spread.percentile(99.0));
            row(
                "`ledger::post` latency",
                format!("p50 {:.2} ms, p99 {p99:.2} ms", ms(spread.percentile(50.0))),
                None,
                None,
                "p99 < 25 ms",
                Some(p99 < 25.0),
            );
        }
        if let Some(hot) = &hot {
            let vs_spread = single
                .map(|s| format!("{:.2}× spread; ", hot.per_second / s))
                .unwrap_or_default();
            row(
                "`ledger::post`, one hot `no_overdraft` account",
                format!(
                    "{:.0} posts/s ({vs_spread}p50 {:.2} ms, p99 {:.2} ms)",
                    hot.per_second,
                    ms(hot.percentile(50.0)),
                    ms(hot.percentile(99.0))
                ),
                Some(hot.per_second),
                baseline,
                "≥ 0.5× spread",
                single.map(|s| hot.per_second >= 0.5 * s),
            );
        }
        for (size, sample) in &batched {
            let vs_single = single
                .map(|s| format!("{:.1}× single; ", sample.per_second / s))
                .unwrap_or_default();
            row(
                &format!("`post_batch_in_tx`, {size} entries a batch"),
                format!(
                    "{:.0} entries/s ({vs_single}batch p50 {:.0} ms)",
                    sample.per_second,
                    ms(sample.percentile(50.0))
                ),
                Some(sample.per_second),
                baseline,
                "≥ 10× single",
                single.map(|s| sample.per_second >= 10.0 * s),
            );
        }
        println!(
            "\n({} entries checked afterwards: every entry balances, every account matches its legs.)",
            report.entries_checked
        );
    });
}
