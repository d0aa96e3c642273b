//! Drafting and approving one payment run for 10,000 budgets (set BENCH_BUDGETS to change it) on
//! a fresh database in a cluster with production durability (`support/durable.rs`: `fsync`,
//! `synchronous_commit` and `full_page_writes` on, `shared_buffers` 256MB, the rest PostgreSQL's
//! defaults): the budgets, plans and accounts are made through the service functions first (not
//! timed), then `VACUUM ANALYZE` gives the planner the statistics a database in use has and a
//! `CHECKPOINT` writes out the setup's dirty pages, then the run is drafted, submitted and
//! approved (timed). Target: under 1.5 s.

#[path = "support/durable.rs"]
mod durable;

use std::time::Instant;

use chrono::NaiveDate;
use uuid::Uuid;

use allot::auth::users::{self, NewUser};
use allot::auth::{councils, Actor, Role};
use allot::budgets::bank::BankDetails;
use allot::budgets::bank_changes;
use allot::budgets::budget::{
    create as budget_create, BudgetKind, DirectPaymentTerms, Funder, NewBudget,
};
use allot::budgets::organisations::{self, NewOrganisation, OrganisationKind};
use allot::budgets::people::{self, NewPerson};
use allot::budgets::plans::{approve, draft, PlanInput, PlanLineInput};
use allot::db::{in_tenant_tx, DbPool};
use allot::payments::runs::{approve as run_actions, create as run_create};
use allot::rules::{Category, ContributionBasis, Deployment};

const PASSWORD: &str = "a long benchmark password";
/// Budgets made in one setup transaction.
const SETUP_BATCH: usize = 500;

fn amount<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_value(serde_json::json!(text)).expect("amount")
}

fn actor(council_id: Uuid, user_id: Uuid, role: Role) -> Actor {
    Actor {
        user_id,
        council_id,
        role,
        email: String::new(),
        name: String::new(),
        organisation_id: None,
        person_id: None,
    }
}

async fn user(pool: &DbPool, council_id: Uuid, role: Role) -> Uuid {
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
        person_id: None,
    };
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            users::insert(tx, council_id, &new, allot::auth::password::MIN_ITERATIONS).await
        })
    })
    .await
    .expect("user")
}

async fn organisation(pool: &DbPool, admin: &Actor, name: &str, kind: OrganisationKind) -> Uuid {
    let new = NewOrganisation {
        name: name.into(),
        kind,
        bank: Some(BankDetails {
            sort_code: "111111".into(),
            account_number: "12345678".into(),
            account_name: name.into(),
        }),
    };
    let admin = admin.clone();
    in_tenant_tx(pool, admin.council_id, |tx| {
        Box::pin(async move { Ok(organisations::create(tx, &admin, &new).await?.id) })
    })
    .await
    .expect("organisation")
}

fn line(
    category: Category,
    weekly: &str,
    deployment: Deployment,
    holder: Option<Uuid>,
) -> PlanLineInput {
    PlanLineInput {
        category,
        need: format!("{} support", category.label()),
        weekly_amount: Some(amount(weekly)),
        deployment,
        holder_organisation_id: holder,
        directory_service_id: None,
        cost_option_id: None,
        units_per_week: None,
    }
}

/// The plan of budget `index`: a mix of every deployment.
fn plan(index: usize, ma: Uuid, isf: Uuid) -> Vec<PlanLineInput> {
    match index % 10 {
        0..=3 => vec![
            line(
                Category::PersonalAssistant,
                "210.00",
                Deployment::DirectPayment,
                None,
            ),
            line(
                Category::EmploymentCosts,
                "25.50",
                Deployment::DirectPayment,
                None,
            ),
        ],
        4 | 5 => vec![line(
            Category::PersonalCare,
            "180.25",
            Deployment::ManagedAccount,
            Some(ma),
        )],
        6 | 7 => vec![line(
            Category::DayActivities,
            "300.00",
            Deployment::Isf,
            Some(isf),
        )],
        8 => vec![
            line(
                Category::PersonalAssistant,
                "120.00",
                Deployment::DirectPayment,
                None,
            ),
            line(
                Category::DayActivities,
                "150.00",
                Deployment::Isf,
                Some(isf),
            ),
            line(
                Category::Brokerage,
                "10.00",
                Deployment::CouncilManaged,
                None,
            ),
        ],
        _ => vec![line(
            Category::DomesticSupport,
            "95.00",
            Deployment::CouncilManaged,
            None,
        )],
    }
}

async fn setup(pool: &DbPool, budgets: usize) -> (Uuid, Actor, Actor) {
    let (council_id, admin_id) = councils::create(
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
        user(pool, council_id, Role::CareManager).await,
        Role::CareManager,
    );
    let maker = actor(
        council_id,
        user(pool, council_id, Role::FinanceOfficer).await,
        Role::FinanceOfficer,
    );
    let checker = actor(
        council_id,
        user(pool, council_id, Role::FinanceOfficer).await,
        Role::FinanceOfficer,
    );
    let admin = actor(council_id, admin_id, Role::CouncilAdmin);
    let ma = organisation(
        pool,
        &admin,
        "Bench Managed Accounts",
        OrganisationKind::ManagedAccountProvider,
    )
    .await;
    let isf = organisation(
        pool,
        &admin,
        "Bench Supported Living",
        OrganisationKind::IsfProvider,
    )
    .await;
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
    // Batches of SETUP_BATCH budgets a transaction, one after another (each takes the council's
    // budget-reference counter until it commits).
    let batch = SETUP_BATCH;
    for first in (0..budgets).step_by(batch) {
        let care_manager = care_manager.clone();
        in_tenant_tx(pool, council_id, |tx| {
            Box::pin(async move {
                for index in first..(first + batch).min(budgets) {
                    let person = people::create(
                        tx,
                        council_id,
                        &NewPerson {
                            name: format!("Person {index}"),
                            date_of_birth: NaiveDate::from_ymd_opt(
                                1950 + (index % 50) as i32,
                                1,
                                1,
                            )
                            .expect("date"),
                            has_capacity: true,
                            excluded_from_direct_payments: false,
                            contact: None,
                            communication: None,
                        },
                        allot::clock::Clock::system().today(),
                    )
                    .await?;
                    let new = NewBudget {
                        person_id: person.id,
                        funder: Funder::Council,
                        annual_cost: amount("20000.00"),
                        weekly_contribution: amount(if index % 3 == 0 { "0" } else { "17.35" }),
                        contribution_basis: if index % 2 == 0 {
                            ContributionBasis::Net
                        } else {
                            ContributionBasis::Gross
                        },
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
                    };
                    let budget = budget_create::create(tx, &care_manager, &new).await?;
                    let input = PlanInput {
                        lines: plan(index, ma, isf),
                        cash_allowed: false,
                    };
                    draft::put_draft(tx, &care_manager, budget.id, &input).await?;
                    approve::approve(
                        tx,
                        &care_manager,
                        budget.id,
                        allot::clock::Clock::system().now(),
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
        .expect("batch of budgets");
    }
    // Bank details given by the administrator and the care manager wait for a finance officer.
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
    (council_id, maker, checker)
}

fn main() {
    let budgets: usize = std::env::var("BENCH_BUDGETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let cluster = durable::DurableCluster::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for line in cluster.describe().await {
            println!("{line}");
        }
        // A connection for each setup batch (they run at once) and a spare.
        let db = cluster
            .database("allot_bench", budgets.div_ceil(SETUP_BATCH) + 2)
            .await;
        let setup_started = Instant::now();
        let (council_id, maker, checker) = setup(&db.pool, budgets).await;
        durable::superuser_execute(&db.config, "VACUUM ANALYZE").await;
        durable::superuser_execute(&db.config, "CHECKPOINT").await;
        let setup_time = setup_started.elapsed();

        let period = run_create::NewRun {
            period_start: NaiveDate::from_ymd_opt(2025, 2, 3).expect("date"),
            weeks: 4,
        };
        let started = Instant::now();
        let drafter = maker.clone();
        let run = in_tenant_tx(&db.pool, council_id, |tx| {
            Box::pin(async move { run_create::create(tx, &drafter, &period).await })
        })
        .await
        .expect("draft");
        let drafted = started.elapsed();
        let run_id = run.id;
        in_tenant_tx(&db.pool, council_id, |tx| {
            Box::pin(async move { run_actions::submit(tx, &maker, run_id).await })
        })
        .await
        .expect("submit");
        let approve_started = Instant::now();
        let approved = in_tenant_tx(&db.pool, council_id, |tx| {
            Box::pin(async move { run_actions::approve(tx, &checker, run_id).await })
        })
        .await
        .expect("approve");
        let approving = approve_started.elapsed();
        let total = started.elapsed();
        let posted = approved.lines.iter().filter(|l| l.entry_id.is_some()).count();
        println!(
            "payment run: {budgets} budgets, {} lines ({posted} ledger entries), {} skipped, released {}",
            approved.lines.len(),
            approved.skipped.len(),
            approved.total_amount
        );
        println!(
            "  draft {:.0} ms, approve and post {:.0} ms, total {:.2} s (target < 1.5 s: {})",
            drafted.as_secs_f64() * 1000.0,
            approving.as_secs_f64() * 1000.0,
            total.as_secs_f64(),
            if total.as_secs_f64() < 1.5 { "met" } else { "MISSED" }
        );
        println!("  (setup of budgets, plans and accounts, not timed: {:.1} s)", setup_time.as_secs_f64());
    });
    drop(runtime);
    drop(cluster);
}
