//! Rule-checked payments through the HTTP API on a cluster with production durability, against
//! pgbench's TPC-B with as many clients on the same cluster.
//!
//! The cluster is the bench's own (`support/durable.rs`): `fsync`, `synchronous_commit` and
//! `full_page_writes` on, `shared_buffers` 256MB, everything else PostgreSQL 15's defaults; the
//! bench prints the settings as the server reports them.
//!
//! Workload: the real axum app (`allot::app`) served on 127.0.0.1 over a fresh migrated database
//! with 64 budgets, each with an approved plan (personal care, 500.00 a week, as a direct
//! payment), a direct-payment account funded by an approved four-week payment run (2,000.00), and
//! its budget holder's `pay` grant. `BENCH_CLIENTS` (default 16) tokio tasks, each with its own
//! reqwest client (one connection), post `POST /api/v1/payments` for personal care to one care
//! agency, each with its own Idempotency-Key. Every payment goes through the coalescing payment
//! desk (`AppState.payments`) and is decided by the rules on facts loaded under the account's
//! lock, then posted.
//!
//! - **spread**: each payment (0.10) from a budget of the 64 chosen at random, for `BENCH_SECS`
//!   (default 10; `BENCH_SECONDS` is read too) after a warm-up of half that (2 to 5 s) whose
//!   payments are the tables' history, then `VACUUM ANALYZE` (as autovacuum keeps the planner's
//!   statistics in a running system; without it the plans cached for near-empty tables scan);
//! - **hot**: every client pays from one budget's account until the money runs out. The amount
//!   is chosen from the account's balance B and the spread rate so that about `BENCH_SECS` of
//!   payments fit: exactly floor(B / amount) must be posted and the rest (64 more requests) refused
//!   `insufficient_funds`; the bench checks that and the final balance, and prints the result;
//! - **baseline**: pgbench TPC-B (`pgbench -i -s 16`, then `-c <clients> -j 2 -T <secs> -n`) in a
//!   database of its own on the same cluster, before and after the payments (their mean is the
//!   baseline).
//!
//! With `BENCH_STATEMENTS=1` the cluster also loads `pg_stat_statements` (tracking statements
//! inside functions and triggers too) and the bench prints where the server's time went in the
//! spread and hot cases, statement by statement (wall time: lock waits and waiting for a CPU
//! count too); that costs some throughput, so leave it off for figures. `BENCH_EXPLAIN=DIR` does
//! the same and also logs the plans (with timings) of a fifth of the statements slower than 1 ms
//! to `DIR/explain.log` (`auto_explain`).
//!
//! After the setup, `VACUUM ANALYZE`; a `CHECKPOINT` precedes each measured case. Printed per
//! case: payments/s, p50/p99 latency, the ratios, the desk's batch sizes
//! (`batch_sizes().summary()`), CPU and WAL per payment, with the targets. Prints figures;
//! asserts nothing.

#[path = "support/durable.rs"]
mod durable;
#[path = "support/pgbench.rs"]
mod pgbench;
#[path = "support/statements.rs"]
mod statements;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

use allot::auth::sessions::{self, TokenKind};
use allot::auth::users::{self, NewUser};
use allot::auth::{councils, Actor, Role};
use allot::budgets::agreements::{self, NewGrant};
use allot::budgets::bank::BankDetails;
use allot::budgets::bank_changes;
use allot::budgets::budget::{
    create as budget_create, BudgetKind, DirectPaymentTerms, Funder, NewBudget,
};
use allot::budgets::payees::{self, NewPayee};
use allot::budgets::people::{self, NewPerson};
use allot::budgets::plans::{approve, draft, PlanInput, PlanLineInput};
use allot::db::{in_tenant_tx, pool_from_config, DbPool};
use allot::payments::runs::{approve as run_actions, create as run_create};
use allot::rules::{Category, ContributionBasis, Deployment, PayeeKind, Relationship};

use durable::{CpuSample, DurableCluster};

const BUDGETS: usize = 64;
const PASSWORD: &str = "a long benchmark password";

fn amount<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_value(json!(text)).expect("amount")
}

fn actor(council_id: Uuid, user_id: Uuid, role: Role) -> Actor {
    Actor {
        user_id,
        council_id,
        role,
        email: String::new(),
        name: "Bench".into(),
        organisation_id: None,
        person_id: None,
    }
}

async fn user(pool: &DbPool, council_id: Uuid, role: Role, person_id: Option<Uuid>) -> Uuid {
    let new = NewUser {
        email: format!(
            "{}-{}@bench.example",
            role.as_str(),
            Uuid::new_v4().simple()
        ),
        name: "Bench".into(),
        role,
        password: PASSWORD.into(),
        organisation_id: None,
        person_id,
    };
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            users::insert(tx, council_id, &new, allot::auth::password::MIN_ITERATIONS).await
        })
    })
    .await
    .expect("user")
}

/// The council, the payee, and (budget id, holder's token) per budget.
async fn setup(pool: &DbPool) -> (Uuid, Uuid, Vec<(Uuid, String)>) {
    let (council_id, _) = councils::create(
        pool,
        "Bench Council",
        "admin@bench.example",
        PASSWORD,
        allot::auth::password::MIN_ITERATIONS,
    )
    .await
    .expect("council");
    let care_manager = actor(
        council_id,
        user(pool, council_id, Role::CareManager, None).await,
        Role::CareManager,
    );
    let maker = actor(
        council_id,
        user(pool, council_id, Role::FinanceOfficer, None).await,
        Role::FinanceOfficer,
    );
    let checker = actor(
        council_id,
        user(pool, council_id, Role::FinanceOfficer, None).await,
        Role::FinanceOfficer,
    );
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
    let cm = care_manager.clone();
    let payee_maker = maker.clone();
    let (payee, people_budgets) = in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            let payee = payees::create(
                tx,
                &payee_maker,
                &NewPayee {
                    name: "Bench Care Agency".into(),
                    kind: PayeeKind::CareAgency,
                    person_id: None,
                    relationship: None::<Relationship>,
                    lives_with_person: false,
                    bank: BankDetails {
                        sort_code: "300000".into(),
                        account_number: "12345678".into(),
                        account_name: "Bench Care Agency".into(),
                    },
                    active: true,
                    bank_verified: true,
                    organisation_id: None,
                },
            )
            .await?;
            let mut out = Vec::new();
            for index in 0..BUDGETS {
                let person = people::create(
                    tx,
                    council_id,
                    &NewPerson {
                        name: format!("Person {index}"),
                        date_of_birth: NaiveDate::from_ymd_opt(1960, 1, 1).expect("date"),
                        has_capacity: true,
                        excluded_from_direct_payments: false,
                        contact: None,
                        communication: None,
                    },
                    allot::clock::Clock::system().today(),
                )
                .await?;
                let budget = budget_create::create(
                    tx,
                    &cm,
                    &NewBudget {
                        person_id: person.id,
                        funder: Funder::Council,
                        annual_cost: amount("30000.00"),
                        weekly_contribution: amount("0"),
                        contribution_basis: ContributionBasis::Net,
                        start_date: start,
                        end_date: None,
                        kind: BudgetKind::Standard,
                        broker_organisation_id: None,
                        bank: Some(BankDetails {
                            sort_code: "200000".into(),
                            account_number: format!("{:08}", index),
                            account_name: format!("Person {index}"),
                        }),
                        funding: None,
                        nhs_dp_separate_account: false,
                        direct_payment: Some(DirectPaymentTerms {
                            consent_recorded: true,
                            ..Default::default()
                        }),
                        assessment_id: None,
                        cost_reason: None,
                    },
                )
                .await?;
                let input = PlanInput {
                    lines: vec![PlanLineInput {
                        category: Category::PersonalCare,
                        need: "Personal care".into(),
                        weekly_amount: Some(amount("500.00")),
                        deployment: Deployment::DirectPayment,
                        holder_organisation_id: None,
                        directory_service_id: None,
                        cost_option_id: None,
                        units_per_week: None,
                    }],
                    cash_allowed: false,
                };
                draft::put_draft(tx, &cm, budget.id, &input).await?;
                approve::approve(tx, &cm, budget.id, allot::clock::Clock::system().now()).await?;
                out.push((person.id, budget.id));
            }
            Ok((payee.id, out))
        })
    })
    .await
    .expect("budgets");
    // The care manager gave the direct payments' bank details: a finance officer verifies them.
    let verifier = checker.clone();
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            // A list is at most a thousand changes long: verify until none waits.
            loop {
                let waiting =
                    bank_changes::list(tx, &verifier, Some(bank_changes::ChangeStatus::Unverified))
                        .await?;
                if waiting.is_empty() {
                    return Ok(());
                }
                for change in waiting {
                    bank_changes::verify(tx, &verifier, change.id).await?;
                }
            }
        })
    })
    .await
    .expect("verify bank details");
    let period = run_create::NewRun {
        period_start: NaiveDate::from_ymd_opt(2025, 2, 3).expect("date"),
        weeks: 4,
    };
    let run_maker = maker.clone();
    let run_id = in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            let run = run_create::create(tx, &run_maker, &period).await?;
            run_actions::submit(tx, &run_maker, run.id).await?;
            Ok(run.id)
        })
    })
    .await
    .expect("draft and submit the run");
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move { run_actions::approve(tx, &checker, run_id).await })
    })
    .await
    .expect("approve the run");
    let mut clients = Vec::new();
    for (person, budget) in people_budgets {
        let holder = user(pool, council_id, Role::BudgetHolder, Some(person)).await;
        let new: NewGrant = serde_json::from_value(json!({
            "user_id": holder, "acting_as": "self", "powers": ["pay"],
            "max_per_payment": "1000.00", "valid_from": "2020-01-01"
        }))
        .expect("grant");
        let cm = care_manager.clone();
        in_tenant_tx(pool, council_id, |tx| {
            Box::pin(async move { agreements::record(tx, &cm, budget, &new).await })
        })
        .await
        .expect("grant");
        let token = sessions::issue(
            pool,
            council_id,
            holder,
            TokenKind::Api,
            Duration::from_secs(7200),
        )
        .await
        .expect("token")
        .secret;
        clients.push((budget, token));
    }
    (council_id, payee, clients)
}

const PGBENCH_DB: &str = "bench_pgbench";
const PGBENCH_SCALE: u32 = 16;
/// Each spread payment: small, so 64 funded budgets last however long the bench runs.
const SPREAD_AMOUNT: &str = "0.10";
/// Requests of the hot case beyond those its account can pay for: every one must be refused.
const HOT_EXTRA: u64 = 64;
const SERVICE_DATE: &str = "2025-02-10";

struct Settings {
    clients: usize,
    secs: f64,
    warmup: f64,
}

impl Settings {
    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
        };
        let secs = var("BENCH_SECS")
            .or_else(|| var("BENCH_SECONDS"))
            .unwrap_or(10.0);
        Settings {
            clients: var("BENCH_CLIENTS").map_or(16, |c| c as usize).max(1),
            secs,
            warmup: (secs / 2.0).clamp(2.0, 5.0),
        }
    }

    /// pgbench takes whole seconds.
    fn pgbench_secs(&self) -> u64 {
        (self.secs.round() as u64).max(1)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn mix(client: usize, iteration: u64) -> u64 {
    let mut x = (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ iteration;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

fn pounds(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// One answered request.
struct Answer {
    latency: Duration,
    /// When the answer came, from the start of the case.
    at: Duration,
    status: u16,
    /// The error envelope's code, when there is one.
    code: Option<String>,
}

struct Run {
    elapsed: Duration,
    answers: Vec<Answer>,
}

impl Run {
    fn posted(&self) -> u64 {
        self.answers.iter().filter(|a| a.status == 201).count() as u64
    }

    /// Answers other than 201, by status and code.
    fn others(&self) -> BTreeMap<String, u64> {
        let mut others = BTreeMap::new();
        for a in self.answers.iter().filter(|a| a.status != 201) {
            let key = format!("{} {}", a.status, a.code.as_deref().unwrap_or("-"));
            *others.entry(key).or_insert(0) += 1;
        }
        others
    }

    fn latencies(&self, only_posted: bool) -> Vec<Duration> {
        let mut l: Vec<Duration> = self
            .answers
            .iter()
            .filter(|a| !only_posted || a.status == 201)
            .map(|a| a.latency)
            .collect();
        l.sort();
        l
    }
}

/// Which budget a client's next payment comes from, or None to stop.
type Next = Arc<dyn Fn(usize, u64) -> Option<usize> + Send + Sync>;

/// Runs `clients` clients, each with its own HTTP client, posting payments of `amount` from the
/// budgets `next` picks until it says stop.
async fn drive(
    clients: usize,
    url: &str,
    budgets: &Arc<Vec<(Uuid, String)>>,
    payee: Uuid,
    amount: &str,
    next: Next,
) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (budgets, next) = (budgets.clone(), next.clone());
        let (url, amount) = (url.to_string(), amount.to_string());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client");
            let mut answers = Vec::new();
            let mut iteration = 0;
            while let Some(index) = next(client, iteration) {
                iteration += 1;
                let (budget, token) = &budgets[index];
                let body = json!({"budget_id": budget, "deployment": "direct_payment",
                    "payee_id": payee, "category": "personal_care", "amount": amount,
                    "service_date": SERVICE_DATE});
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("idempotency-key", Uuid::new_v4().to_string())
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("request");
                let status = response.status().as_u16();
                let bytes = response.bytes().await.unwrap_or_default();
                let latency = sent.elapsed();
                let code = (status != 201)
                    .then(|| {
                        serde_json::from_slice::<serde_json::Value>(&bytes)
                            .ok()?
                            .pointer("/error/code")?
                            .as_str()
                            .map(String::from)
                    })
                    .flatten();
                answers.push(Answer {
                    latency,
                    at: started.elapsed(),
                    status,
                    code,
                });
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.expect("client"));
    }
    Run {
        elapsed: started.elapsed(),
        answers,
    }
}

/// Serves the app with `state` on 127.0.0.1; the payments URL.
async fn serve(state: allot::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, allot::app(state)).await });
    format!("http://{addr}/api/v1/payments")
}

async fn connect(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = config.connect(NoTls).await.expect("connecting");
    tokio::spawn(connection);
    client
}

/// The available balance of a budget's direct-payment account, in pence (read as superuser).
async fn available_pence(config: &tokio_postgres::Config, budget: Uuid) -> i64 {
    connect(config)
        .await
        .query_one(
            "SELECT ((a.posted_credits - a.posted_debits - a.pending_debits) * 100)::bigint
               FROM budget_accounts b
               JOIN ledger_accounts a ON a.council_id = b.council_id AND a.id = b.account_id
              WHERE b.budget_id = $1 AND b.purpose = 'deployment'
                AND b.deployment = 'direct_payment'",
            &[&budget],
        )
        .await
        .expect("the account's balance")
        .get(0)
}

async fn wal_position(config: &tokio_postgres::Config) -> i64 {
    connect(config)
        .await
        .query_one("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", &[])
        .await
        .expect("WAL position")
        .get(0)
}

async fn checkpoint(config: &tokio_postgres::Config) {
    durable::superuser_execute(config, "CHECKPOINT").await;
}

/// A measured case: its run, the desk's batch sizes, CPU and WAL written.
struct Case {
    run: Run,
    batches: (u64, f64, usize),
    cpu: CpuSample,
    wal_bytes: i64,
}

async fn measure(
    cluster: &DurableCluster,
    db_config: &tokio_postgres::Config,
    state: allot::AppState,
    work: impl std::future::Future<Output = Run>,
) -> Case {
    let postmaster = cluster.postmaster_pid();
    let wal_before = wal_position(db_config).await;
    let cpu_before = CpuSample::now(postmaster);
    let run = work.await;
    let cpu = CpuSample::now(postmaster).since(&cpu_before);
    let wal_bytes = wal_position(db_config).await - wal_before;
    Case {
        run,
        batches: state.payments.batch_sizes().summary(),
        cpu,
        wal_bytes,
    }
}

fn print_row(label: &str, figure: &str, target: &str) {
    println!("  {label:<44} {figure:<40} {target}");
}

fn print_case_details(case: &Case, operations: u64) {
    let (batches, mean, p99) = case.batches;
    print_row(
        "  batch sizes (coalescing desk)",
        &format!("mean {mean:.1}, p99 {p99} ({batches} batches)"),
        "",
    );
    let others = case.run.others();
    let others = if others.is_empty() {
        "none other".to_string()
    } else {
        others
            .iter()
            .map(|(k, n)| format!("{n} × {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    print_row(
        "  answers",
        &format!("{} posted (201); {others}", case.run.posted()),
        "",
    );
    println!(
        "      {}",
        case.cpu
            .describe(operations, "a payment", "allot (server and clients)")
    );
    println!(
        "      WAL {:.0} bytes a payment, {:.2} s measured",
        case.wal_bytes as f64 / operations.max(1) as f64,
        case.run.elapsed.as_secs_f64()
    );
}

fn main() {
    let settings = Settings::from_env();
    let clients = settings.clients;
    let statements =
        statements::wanted() || std::env::var("BENCH_EXPLAIN").is_ok_and(|v| !v.is_empty());
    let explain = std::env::var("BENCH_EXPLAIN")
        .ok()
        .filter(|d| !d.is_empty());
    let cluster = if let Some(dir) = &explain {
        DurableCluster::start_with(&[
            (
                "shared_preload_libraries",
                "pg_stat_statements,auto_explain",
            ),
            ("pg_stat_statements.track", "all"),
            ("auto_explain.log_min_duration", "1ms"),
            ("auto_explain.log_analyze", "on"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.sample_rate", "0.2"),
            ("logging_collector", "on"),
            ("log_directory", dir.as_str()),
            ("log_filename", "explain.log"),
        ])
    } else if statements {
        DurableCluster::start_with(&statements::preload())
    } else {
        DurableCluster::start()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let superuser = cluster.config("postgres");
        let description = cluster.describe().await;
        let setup_started = Instant::now();
        let db = cluster.database("allot_bench", 16).await;
        let (_, payee, budgets) = setup(&db.pool).await;
        let budgets = Arc::new(budgets);
        durable::superuser_execute(&db.config, "VACUUM ANALYZE").await;
        pgbench::initialise(&superuser, PGBENCH_DB, PGBENCH_SCALE).await;
        let setup_time = setup_started.elapsed();
        let pool = pool_from_config(db.config.clone(), clients + 4).expect("pool");
        let app_settings = || allot::config::Settings {
            password_iterations: allot::auth::password::MIN_ITERATIONS,
            ..allot::config::Settings::default()
        };
        let pick_random = |deadline: Instant| -> Next {
            Arc::new(move |client, iteration| {
                (Instant::now() < deadline)
                    .then(|| (mix(client, iteration) % BUDGETS as u64) as usize)
            })
        };

        // Baseline first.
        let baseline_run = || async {
            checkpoint(&superuser).await;
            let postmaster = cluster.postmaster_pid();
            let before = CpuSample::now(postmaster);
            let run = pgbench::run(&superuser, PGBENCH_DB, clients, 2, settings.pgbench_secs())
                .await;
            (run, CpuSample::now(postmaster).since(&before))
        };
        let (pgbench_before, pgbench_cpu_before) = baseline_run().await;

        // Warm-up (connections, cached statements), with a desk of its own.
        let warm_state = allot::AppState::new(pool.clone(), app_settings());
        let url = serve(warm_state).await;
        let warm_until = Instant::now() + Duration::from_secs_f64(settings.warmup);
        drive(clients, &url, &budgets, payee, SPREAD_AMOUNT, pick_random(warm_until)).await;
        durable::superuser_execute(&db.config, "VACUUM ANALYZE").await;

        // Spread.
        checkpoint(&superuser).await;
        if statements {
            statements::reset_statements(&db.config).await;
        }
        let spread_state = allot::AppState::new(pool.clone(), app_settings());
        let url = serve(spread_state.clone()).await;
        let deadline = Instant::now() + Duration::from_secs_f64(settings.secs);
        let spread = measure(
            &cluster,
            &db.config,
            spread_state,
            drive(clients, &url, &budgets, payee, SPREAD_AMOUNT, pick_random(deadline)),
        )
        .await;
        let spread_posted = spread.run.posted();
        let statement_lines = if statements {
            statements::top_statements(&db.config, spread_posted).await
        } else {
            Vec::new()
        };
        let spread_rate = spread_posted as f64 / spread.run.elapsed.as_secs_f64();

        // Hot: one budget's account until the money runs out.
        let hot_index = 0;
        let hot_budget = budgets[hot_index].0;
        let balance = available_pence(&db.config, hot_budget).await;
        // About BENCH_SECS of payments at the spread rate, at least 100, at least a penny each.
        let wanted = ((spread_rate * settings.secs) as i64).max(100);
        let fits = if balance < 100 {
            balance.max(1)
        } else {
            wanted.clamp(100, balance)
        };
        let hot_amount = ((balance + fits - 1) / fits).max(1);
        let expected = balance / hot_amount;
        let total = expected as u64 + HOT_EXTRA;
        checkpoint(&superuser).await;
        if statements {
            statements::reset_statements(&db.config).await;
        }
        // However slow, the case stops by itself.
        let give_up = Instant::now() + Duration::from_secs_f64((settings.secs * 10.0).max(60.0));
        let tickets = AtomicU64::new(0);
        let hot_next: Next = Arc::new(move |_, _| {
            (Instant::now() < give_up && tickets.fetch_add(1, Ordering::Relaxed) < total)
                .then_some(hot_index)
        });
        let hot_state = allot::AppState::new(pool.clone(), app_settings());
        let url = serve(hot_state.clone()).await;
        let hot = measure(
            &cluster,
            &db.config,
            hot_state,
            drive(clients, &url, &budgets, payee, &pounds(hot_amount), hot_next),
        )
        .await;
        let final_balance = available_pence(&db.config, hot_budget).await;
        let hot_statement_lines = if statements {
            statements::top_statements(&db.config, hot.run.posted()).await
        } else {
            Vec::new()
        };
        let hot_posted = hot.run.posted();
        let hot_refused = hot
            .run
            .answers
            .iter()
            .filter(|a| a.status == 422 && a.code.as_deref() == Some("insufficient_funds"))
            .count() as u64;
        let hot_answered = hot.run.answers.len() as u64;
        let money_lasted = hot
            .run
            .answers
            .iter()
            .filter(|a| a.status == 201)
            .map(|a| a.at)
            .max()
            .unwrap_or(hot.run.elapsed);
        let hot_rate = hot_posted as f64 / money_lasted.as_secs_f64().max(1e-9);
        let exact = hot_answered == total
            && hot_posted == expected as u64
            && hot_refused == total - expected as u64
            && final_balance == balance - expected * hot_amount;

        let (pgbench_after, pgbench_cpu_after) = baseline_run().await;
        let pgbench_transactions = [pgbench_before, pgbench_after]
            .iter()
            .map(|r| {
                r.transactions
                    .unwrap_or((r.tps * settings.pgbench_secs() as f64) as u64)
            })
            .sum::<u64>();
        pgbench::drop_database(&superuser, PGBENCH_DB).await;
        let baseline = (pgbench_before.tps + pgbench_after.tps) / 2.0;

        println!();
        println!("rule-checked payments through the HTTP API — production durability: fsync, synchronous_commit and full_page_writes ON");
        for line in &description {
            println!("{line}");
        }
        println!(
            "workload: {clients} clients (tokio tasks, each its own reqwest client and connection) posting \
             POST /api/v1/payments to allot's axum app on 127.0.0.1 (coalescing payment desk, rules + ledger);"
        );
        println!(
            "  {BUDGETS} budgets, each with an approved plan, a direct-payment account funded by a four-week \
             payment run (2000.00) and its holder's `pay` grant; personal care to one agency; each request \
             its own Idempotency-Key"
        );
        println!(
            "  spread: {SPREAD_AMOUNT} from a random budget of the {BUDGETS}, {:.0} s after a {:.0} s warm-up; \
             hot: every client pays {} from one budget's account ({} available) until the money runs out, \
             then {HOT_EXTRA} more requests",
            settings.secs,
            settings.warmup,
            pounds(hot_amount),
            pounds(balance)
        );
        println!(
            "  baseline: pgbench TPC-B, scale {PGBENCH_SCALE}, -c {clients} -j 2 -T {} -n, in a database of its \
             own on the same cluster, before and after the payments (setup, not timed: {:.1} s)",
            settings.pgbench_secs(),
            setup_time.as_secs_f64()
        );
        println!();
        print_row("case", "figure", "target (issue)");
        print_row(
            &format!("pgbench TPC-B, {clients} clients (before, after)"),
            &format!(
                "{:.0} tps, {:.0} tps (mean {:.0})",
                pgbench_before.tps, pgbench_after.tps, baseline
            ),
            "baseline",
        );
        println!(
            "      {}",
            pgbench_cpu_before.plus(&pgbench_cpu_after).describe(
                pgbench_transactions,
                "a transaction",
                "pgbench"
            )
        );
        let spread_ratio = spread_rate / baseline;
        let spread_latencies = spread.run.latencies(false);
        let spread_p99 = percentile(&spread_latencies, 0.99);
        print_row(
            "spread: payments/s",
            &format!("{spread_rate:.0} /s ({spread_ratio:.2}× pgbench)"),
            &format!("≥ 1.5× pgbench: {}", verdict(spread_ratio >= 1.5)),
        );
        print_row(
            "  latency p50, p99",
            &format!(
                "{:.1} ms, {spread_p99:.1} ms",
                percentile(&spread_latencies, 0.5)
            ),
            &format!("p99 < 25 ms: {}", verdict(spread_p99 < 25.0)),
        );
        print_case_details(&spread, spread_posted);
        for line in &statement_lines {
            println!("      {line}");
        }
        let hot_ratio = hot_rate / spread_rate.max(1e-9);
        let hot_latencies = hot.run.latencies(true);
        print_row(
            "hot: payments/s while the money lasted",
            &format!(
                "{hot_rate:.0} /s ({hot_ratio:.2}× spread, {:.2}× pgbench)",
                hot_rate / baseline
            ),
            &format!("≥ 0.5× spread: {}", verdict(hot_ratio >= 0.5)),
        );
        print_row(
            "  latency p50, p99 (posted ones)",
            &format!(
                "{:.1} ms, {:.1} ms",
                percentile(&hot_latencies, 0.5),
                percentile(&hot_latencies, 0.99)
            ),
            "",
        );
        print_case_details(&hot, hot_posted);
        for line in &hot_statement_lines {
            println!("      {line}");
        }
        println!(
            "      check: {} — {hot_posted} posted (expected {expected} = {} / {}), {hot_refused} refused \
             insufficient_funds (expected {}), {hot_answered} answered of {total}, balance {} left \
             (expected {})",
            if exact { "EXACT" } else { "MISMATCH" },
            pounds(balance),
            pounds(hot_amount),
            total - expected as u64,
            pounds(final_balance),
            pounds(balance - expected * hot_amount),
        );
        if hot_answered < total {
            println!("      (stopped at the time limit before every request was answered)");
        }
        print_row(
            "payment run, 10,000 budgets",
            "see `cargo bench --bench payment_run`",
            "< 1.5 s",
        );
    });
    drop(runtime);
    drop(cluster);
}
