//! Card authorisations through the HTTP API on a cluster with production durability, against
//! pgbench's TPC-B with as many clients on the same cluster (as `payments_http`).
//!
//! The cluster is the bench's own (`support/durable.rs`): `fsync`, `synchronous_commit` and
//! `full_page_writes` on, `shared_buffers` 256MB, everything else PostgreSQL 15's defaults.
//!
//! Workload: the real axum app (`allot::app`) on 127.0.0.1 over a fresh migrated database with the
//! 64 budgets of `payments_http` (an approved plan, personal care 500.00 a week as a direct
//! payment; a direct-payment account funded by an approved four-week payment run, 2,000.00; the
//! budget holder's `pay` grant), a card processor and one card per budget (its holder the
//! cardholder). `BENCH_CLIENTS` (default 16) tokio tasks, each with its own reqwest client (one
//! connection), post signed `authorization.request` events (`POST /api/v1/card-events`, Standard
//! Webhooks signature, each with its own `webhook-id` and authorisation id) of 0.10 at a care
//! agency (MCC 8050) on a card of the 64 chosen at random, for `BENCH_SECS` (default 10) after a
//! warm-up of half that (2 to 5 s; then `VACUUM ANALYZE`). Each is decided by the rules through the
//! coalescing payment desk and, approved, held. Baseline: pgbench TPC-B (`-i -s 16`, then
//! `-c <clients> -j 2 -T <secs> -n`) in a database of its own, before and after (their mean).
//! Prints authorisations/s, p50/p99, the ratio to pgbench, approvals and declines; asserts
//! nothing.

#[path = "support/durable.rs"]
mod durable;
#[path = "support/pgbench.rs"]
mod pgbench;
#[path = "support/statements.rs"]
mod statements;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

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
use allot::cards::{registry, signature, NewCard};
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

/// The council, a finance officer, and (budget id, holder) per budget.
async fn setup(pool: &DbPool) -> (Uuid, Actor, Vec<(Uuid, Uuid)>) {
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
    let card_officer = maker.clone();
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
                    organisation_id: None,
                    bank: BankDetails {
                        sort_code: "300000".into(),
                        account_number: "12345678".into(),
                        account_name: "Bench Care Agency".into(),
                    },
                    active: true,
                    bank_verified: true,
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
                        weekly_amount: amount("500.00"),
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
        clients.push((budget, holder));
    }
    let _ = payee;
    (council_id, card_officer, clients)
}

const PGBENCH_DB: &str = "bench_pgbench";
const PGBENCH_SCALE: u32 = 16;
const AMOUNT: &str = "0.10";
/// The payments figure of README's Performance section (`payments_http`, spread), the target.
const PAYMENTS_FIGURE: f64 = 742.0;

/// One card per budget, on its direct-payment account, its holder the cardholder; the card refs.
async fn cards(
    pool: &DbPool,
    council_id: Uuid,
    officer: &Actor,
    holders: &[(Uuid, Uuid)],
) -> Vec<String> {
    let mut refs = Vec::new();
    for (index, (budget, holder)) in holders.iter().enumerate() {
        let (officer, budget, holder) = (officer.clone(), *budget, *holder);
        let reference = format!("bench-card-{index}");
        let card_ref = reference.clone();
        in_tenant_tx(pool, council_id, |tx| {
            Box::pin(async move {
                let account: Uuid = tx
                    .query_one(
                        "SELECT account_id FROM budget_accounts WHERE council_id = $1
                           AND budget_id = $2 AND purpose = 'deployment'
                           AND deployment = 'direct_payment'",
                        &[&council_id, &budget],
                    )
                    .await?
                    .get(0);
                registry::create(
                    tx,
                    &officer,
                    &NewCard {
                        account_id: account,
                        processor_card_ref: card_ref,
                        cardholder_user_id: holder,
                        last4: format!("{:04}", index),
                        processor_id: None,
                    },
                )
                .await
            })
        })
        .await
        .expect("card");
        refs.push(reference);
    }
    refs
}

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

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    approved: u64,
    declined: Vec<String>,
    failed: u64,
}

/// `clients` clients post signed authorisation requests on random cards until `deadline`.
async fn drive(
    clients: usize,
    url: &str,
    key: &Arc<Vec<u8>>,
    cards: &Arc<Vec<String>>,
    round: &str,
    deadline: Instant,
) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (key, cards, url, round) = (
            key.clone(),
            cards.clone(),
            url.to_string(),
            round.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client");
            let mut out = (Vec::new(), 0u64, Vec::new(), 0u64);
            let mut iteration = 0u64;
            while Instant::now() < deadline {
                let card = &cards[(mix(client, iteration) % cards.len() as u64) as usize];
                iteration += 1;
                let authorization = format!("{round}-{client}-{iteration}");
                let body = json!({"type": "authorization.request", "data": {
                    "authorization_id": authorization, "card_ref": card, "amount": AMOUNT,
                    "currency": "GBP",
                    "merchant": {"name": "Bench Care Agency", "category_code": "8050"}}})
                .to_string();
                let id = format!("msg_{}", Uuid::new_v4().simple());
                let timestamp = allot::clock::system_now().timestamp();
                let signature = signature::sign(&key, &id, timestamp, body.as_bytes());
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                let status = response.status().as_u16();
                let answer: serde_json::Value = response.json().await.unwrap_or_default();
                out.0.push(sent.elapsed());
                match (status, answer["approved"].as_bool()) {
                    (200, Some(true)) => out.1 += 1,
                    (200, Some(false)) => out
                        .2
                        .push(answer["decline_reason"].as_str().unwrap_or("-").to_owned()),
                    _ => out.3 += 1,
                }
            }
            out
        }));
    }
    let mut run = Run {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        approved: 0,
        declined: Vec::new(),
        failed: 0,
    };
    for task in tasks {
        let (latencies, approved, declined, failed) = task.await.expect("client");
        run.latencies.extend(latencies);
        run.approved += approved;
        run.declined.extend(declined);
        run.failed += failed;
    }
    run.elapsed = started.elapsed();
    run.latencies.sort();
    run
}

async fn serve(state: allot::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, allot::app(state)).await });
    format!("http://{addr}/api/v1/card-events")
}

fn main() {
    let settings = Settings::from_env();
    let clients = settings.clients;
    let statements = statements::wanted();
    let cluster = if statements {
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
        let (council_id, officer, holders) = setup(&db.pool).await;
        let processor = allot::cards::processors::create(&db.pool, "Bench Processor")
            .await
            .expect("processor");
        let key = Arc::new(signature::parse_secret(&processor.secret).expect("secret"));
        let cards = Arc::new(cards(&db.pool, council_id, &officer, &holders).await);
        durable::superuser_execute(&db.config, "VACUUM ANALYZE").await;
        pgbench::initialise(&superuser, PGBENCH_DB, PGBENCH_SCALE).await;
        let setup_time = setup_started.elapsed();
        let pool = pool_from_config(db.config.clone(), clients + 4).expect("pool");
        let app_settings = || allot::config::Settings {
            password_iterations: allot::auth::password::MIN_ITERATIONS,
            ..allot::config::Settings::default()
        };
        let baseline_run = || async {
            durable::superuser_execute(&superuser, "CHECKPOINT").await;
            pgbench::run(&superuser, PGBENCH_DB, clients, 2, settings.pgbench_secs()).await
        };
        let pgbench_before = baseline_run().await;

        let warm_state = allot::AppState::new(pool.clone(), app_settings());
        let url = serve(warm_state).await;
        let warm_until = Instant::now() + Duration::from_secs_f64(settings.warmup);
        drive(clients, &url, &key, &cards, "warm", warm_until).await;
        durable::superuser_execute(&db.config, "VACUUM ANALYZE").await;

        durable::superuser_execute(&superuser, "CHECKPOINT").await;
        if statements {
            statements::reset_statements(&db.config).await;
        }
        let state = allot::AppState::new(pool.clone(), app_settings());
        let url = serve(state.clone()).await;
        let postmaster = cluster.postmaster_pid();
        let cpu_before = CpuSample::now(postmaster);
        let deadline = Instant::now() + Duration::from_secs_f64(settings.secs);
        let run = drive(clients, &url, &key, &cards, "spread", deadline).await;
        let cpu = CpuSample::now(postmaster).since(&cpu_before);
        let (batches, mean_batch, p99_batch) = state.payments.batch_sizes().summary();
        let top = if statements {
            statements::top_statements(&db.config, run.latencies.len() as u64).await
        } else {
            Vec::new()
        };

        let pgbench_after = baseline_run().await;
        pgbench::drop_database(&superuser, PGBENCH_DB).await;
        let baseline = (pgbench_before.tps + pgbench_after.tps) / 2.0;
        let answered = run.latencies.len() as u64;
        let rate = answered as f64 / run.elapsed.as_secs_f64();
        let p50 = percentile(&run.latencies, 0.5);
        let p99 = percentile(&run.latencies, 0.99);

        println!();
        println!("card authorisations through the HTTP API — production durability: fsync, synchronous_commit and full_page_writes ON");
        for line in &description {
            println!("{line}");
        }
        println!(
            "workload: {clients} clients (tokio tasks, each its own reqwest client and connection) posting signed \
             authorization.request events (POST /api/v1/card-events) of {AMOUNT} at MCC 8050 on a random card of \
             {} (one per budget: approved plan, funded direct payment, the holder's grant), {:.0} s after a {:.0} s warm-up",
            cards.len(),
            settings.secs,
            settings.warmup
        );
        println!(
            "  baseline: pgbench TPC-B, scale {PGBENCH_SCALE}, -c {clients} -j 2 -T {} -n, own database, same cluster, \
             before and after (setup, not timed: {:.1} s)",
            settings.pgbench_secs(),
            setup_time.as_secs_f64()
        );
        println!();
        println!(
            "  pgbench TPC-B ({clients} clients): {:.0} tps before, {:.0} tps after (mean {baseline:.0})",
            pgbench_before.tps, pgbench_after.tps
        );
        println!(
            "  authorisations/s: {rate:.0} /s ({:.2}× pgbench) — target ≥ {PAYMENTS_FIGURE:.0} /s (the payments figure): {}",
            rate / baseline,
            verdict(rate >= PAYMENTS_FIGURE)
        );
        println!(
            "  latency p50 {p50:.1} ms, p99 {p99:.1} ms — target p99 < 20 ms: {}",
            verdict(p99 < 20.0)
        );
        let mut reasons = std::collections::BTreeMap::new();
        for reason in &run.declined {
            *reasons.entry(reason.as_str()).or_insert(0u64) += 1;
        }
        println!(
            "  answers: {} approved, {} declined {:?}, {} not 200; batch sizes mean {mean_batch:.1}, p99 {p99_batch} ({batches} batches)",
            run.approved,
            run.declined.len(),
            reasons,
            run.failed
        );
        println!("      {}", cpu.describe(answered, "an authorisation", "allot (server and clients)"));
        for line in &top {
            println!("      {line}");
        }
    });
    drop(runtime);
    drop(cluster);
}
