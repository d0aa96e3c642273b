//! Rule-checked payments through the HTTP API, against pgbench's TPC-B on the same cluster.
//!
//! Workload: the real axum app served on 127.0.0.1 over a fresh test database; 64 budgets, each
//! with an approved plan, a funded direct-payment account (a payment run released four weeks),
//! and its budget holder's `pay` grant; 16 clients (reqwest, one connection each) post
//! `POST /api/v1/payments` of 1.00 for personal care, each with its own Idempotency-Key, spread
//! round-robin over the budgets, for BENCH_SECONDS (default 10). Every payment is decided by the
//! rules on facts loaded under the ledger's account lock, then posted. Baseline: pgbench TPC-B,
//! 16 clients, 2 threads, scale 16, same duration, same cluster. Prints figures; asserts nothing.

#[path = "support/pgbench.rs"]
mod pgbench;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
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
use allot::db::testing::TestDb;
use allot::db::{in_tenant_tx, pool_from_config, DbPool};
use allot::payments::runs::{approve as run_actions, create as run_create};
use allot::rules::{Category, ContributionBasis, Deployment, PayeeKind, Relationship};

const CLIENTS: usize = 16;
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
                        direct_payment: Some(DirectPaymentTerms {
                            consent_recorded: true,
                            ..Default::default()
                        }),
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
                    }],
                    cash_allowed: false,
                };
                draft::put_draft(tx, &cm, budget.id, &input).await?;
                approve::approve(tx, &cm, budget.id).await?;
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let db = TestDb::new().await;
        let (_, payee, budgets) = setup(&db.pool).await;
        let pool = pool_from_config(db.config.clone(), CLIENTS + 4).expect("pool");
        let state = allot::AppState::new(
            pool,
            allot::config::Settings {
                password_iterations: allot::auth::password::MIN_ITERATIONS,
                ..allot::config::Settings::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, allot::app(state)).await });
        let url = format!("http://{addr}/api/v1/payments");
        let budgets = Arc::new(budgets);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client_no in 0..CLIENTS {
            let (budgets, url) = (budgets.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("client");
                let mut latencies = Vec::new();
                let (mut posted, mut other) = (0u64, 0u64);
                let mut n = client_no;
                while Instant::now() < deadline {
                    let (budget, token) = &budgets[n % budgets.len()];
                    n += CLIENTS;
                    let body = json!({"budget_id": budget, "deployment": "direct_payment",
                        "payee_id": payee, "category": "personal_care", "amount": "1.00",
                        "service_date": "2025-02-10"});
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
                    let status = response.status();
                    let _ = response.bytes().await;
                    latencies.push(sent.elapsed());
                    if status.as_u16() == 201 {
                        posted += 1;
                    } else {
                        other += 1;
                    }
                }
                (latencies, posted, other)
            }));
        }
        let mut latencies = Vec::new();
        let (mut posted, mut other) = (0, 0);
        for task in tasks {
            let (l, p, o) = task.await.expect("client");
            latencies.extend(l);
            posted += p;
            other += o;
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let rate = posted as f64 / elapsed;
        let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));

        pgbench::initialise(&db.config, "pgbench_payments", 16).await;
        let baseline = pgbench::run(&db.config, "pgbench_payments", CLIENTS, 2, seconds).await;
        pgbench::drop_database(&db.config, "pgbench_payments").await;

        println!("rule-checked payments through the HTTP API ({CLIENTS} clients, {BUDGETS} budgets, {seconds} s)");
        println!("  {:<44} {:>10}", "workload", "figure");
        println!("  {:<44} {:>10.0} /s   ({posted} posted, {other} not)", "POST /api/v1/payments (rules + ledger)", rate);
        println!("  {:<44} {:>10.1} ms", "  latency p50", p50);
        println!("  {:<44} {:>10.1} ms", "  latency p99", p99);
        println!("  {:<44} {:>10.0} /s", "pgbench TPC-B, 16 clients, scale 16", baseline.tps);
        println!(
            "  {:<44} {:>10.2}×   (target ≥ 0.8×)",
            "payments / pgbench TPC-B",
            rate / baseline.tps
        );
    });
}
