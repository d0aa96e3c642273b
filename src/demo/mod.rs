//! The demo council (`fixtures/demo.json`): a realistic fictional council with staff in every
//! role, provider organisations, a broker, and people whose situations cover the rules.
//! Loaded through the same service functions the API uses.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::users::{self, NewUser};
use crate::auth::{councils, Role};
use crate::budgets::bank::BankDetails;
use crate::budgets::organisations::{self, NewOrganisation, OrganisationKind};
use crate::budgets::people::{self, NewPerson};
use crate::db::{self, Database, DbPool, DbTarget};

pub mod budgets;
pub mod payments;
pub mod tour;

const FIXTURE: &str = include_str!("../../fixtures/demo.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoCouncil {
    council: CouncilFixture,
    password: String,
    organisations: Vec<OrganisationFixture>,
    people: Vec<PersonFixture>,
    users: Vec<UserFixture>,
    banking: crate::payments::banking::CouncilBanking,
    payees: Vec<budgets::PayeeFixture>,
    budgets: Vec<budgets::BudgetFixture>,
    family_payment_approvals: Vec<budgets::FamilyApprovalFixture>,
    payment_run: budgets::RunFixture,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CouncilFixture {
    name: String,
    admin_email: String,
    admin_name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationFixture {
    key: String,
    name: String,
    kind: OrganisationKind,
    bank: Option<BankDetails>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonFixture {
    key: String,
    name: String,
    date_of_birth: NaiveDate,
    has_capacity: bool,
    #[serde(default)]
    excluded_from_direct_payments: bool,
    /// Why this person is in the demo; shown nowhere, kept for whoever reads the fixture.
    #[allow(dead_code)]
    situation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFixture {
    email: String,
    name: String,
    role: Role,
    organisation: Option<String>,
    person: Option<String>,
}

/// A sign-in to print for the person trying the demo.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub email: String,
    pub role: Role,
    pub name: String,
    /// What they can try ([`tour::what_to_try`]).
    pub try_this: &'static str,
}

/// What was loaded: the council, the shared password and the sign-ins.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub council_id: Uuid,
    pub password: String,
    pub signins: Vec<SignIn>,
    pub people: HashMap<String, Uuid>,
    pub organisations: HashMap<String, Uuid>,
    pub users: HashMap<String, Uuid>,
    /// The first payment run, made by one finance officer and approved by the other.
    pub payment_run_id: Uuid,
}

pub fn fixture() -> anyhow::Result<DemoCouncil> {
    serde_json::from_str(FIXTURE).context("fixtures/demo.json does not parse")
}

/// A database with nothing in it for the demo: in the embedded cluster a database `allot_demo`
/// made anew each time; with `DATABASE_URL`, that database (the demo council is added beside
/// whatever is there).
pub async fn open_fresh(target: &DbTarget, pool_size: usize) -> anyhow::Result<Database> {
    match target {
        DbTarget::Url(_) => Database::open(target, pool_size).await,
        DbTarget::Embedded(dir) => {
            let dir = dir.clone();
            let pg = tokio::task::spawn_blocking(move || {
                db::EmbeddedPostgres::start(&dir, &db::ServerOptions::default())
            })
            .await??;
            let (client, connection) = pg.config("postgres").connect(tokio_postgres::NoTls).await?;
            let task = tokio::spawn(connection);
            client
                .batch_execute("DROP DATABASE IF EXISTS allot_demo WITH (FORCE)")
                .await?;
            client.batch_execute("CREATE DATABASE allot_demo").await?;
            drop(client);
            let _ = task.await;
            let pool = db::pool_from_config(pg.config("allot_demo"), pool_size)?;
            let mut client = pool.get().await.map_err(db::DbError::from)?;
            db::migrate::run(&mut client).await?;
            db::roles::check(&client).await?;
            drop(client);
            Ok(Database {
                pool,
                dbname: "allot_demo".to_owned(),
                embedded: Some(pg),
            })
        }
    }
}

/// Loads the demo council into the database.
/// Loads the demo council as of `now` (the clock's time).
pub async fn load(
    pool: &DbPool,
    password_iterations: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Loaded> {
    let demo = fixture()?;
    let (council_id, admin_id) = councils::create(
        pool,
        &demo.council.name,
        &demo.council.admin_email,
        &demo.password,
        password_iterations,
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the demo council: {e}"))?;
    let mut client = pool.get().await.map_err(db::DbError::from)?;
    let tx = db::tenant_tx(&mut client, council_id).await?;
    tx.execute(
        "UPDATE users SET name = $2 WHERE council_id = $1 AND role = 'council_admin'",
        &[&council_id, &demo.council.admin_name],
    )
    .await?;
    let fail = |what: &str, e: crate::error::AppError| anyhow::anyhow!("demo {what}: {e}");

    let admin = crate::auth::Actor {
        user_id: admin_id,
        council_id,
        role: Role::CouncilAdmin,
        email: demo.council.admin_email.clone(),
        name: demo.council.admin_name.clone(),
        organisation_id: None,
        person_id: None,
    };
    let mut organisation_ids = HashMap::new();
    for org in &demo.organisations {
        let new = NewOrganisation {
            name: org.name.clone(),
            kind: org.kind,
            bank: org.bank.clone(),
        };
        let created = organisations::create(&tx, &admin, &new)
            .await
            .map_err(|e| fail(&org.key, e))?;
        organisation_ids.insert(org.key.clone(), created.id);
    }
    let mut person_ids = HashMap::new();
    for person in &demo.people {
        let new = NewPerson {
            name: person.name.clone(),
            date_of_birth: person.date_of_birth,
            has_capacity: person.has_capacity,
            excluded_from_direct_payments: person.excluded_from_direct_payments,
            contact: None,
            communication: None,
        };
        let created = people::create(&tx, council_id, &new, crate::clock::london_date(now))
            .await
            .map_err(|e| fail(&person.key, e))?;
        person_ids.insert(person.key.clone(), created.id);
    }
    let mut signins = vec![SignIn {
        email: demo.council.admin_email.clone(),
        role: Role::CouncilAdmin,
        name: demo.council.admin_name.clone(),
        try_this: tour::what_to_try(&demo.council.admin_email, Role::CouncilAdmin),
    }];
    let mut user_ids = HashMap::new();
    for user in &demo.users {
        let lookup =
            |map: &HashMap<String, Uuid>, key: &Option<String>| -> anyhow::Result<Option<Uuid>> {
                key.as_ref()
                    .map(|k| {
                        map.get(k)
                            .copied()
                            .with_context(|| format!("demo user {}: unknown key {k}", user.email))
                    })
                    .transpose()
            };
        let new = NewUser {
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            password: demo.password.clone(),
            organisation_id: lookup(&organisation_ids, &user.organisation)?,
            person_id: lookup(&person_ids, &user.person)?,
        };
        let id = users::insert(&tx, council_id, &new, password_iterations)
            .await
            .map_err(|e| fail(&user.email, e))?;
        user_ids.insert(user.email.clone(), id);
        signins.push(SignIn {
            email: user.email.clone(),
            role: user.role,
            name: user.name.clone(),
            try_this: tour::what_to_try(&user.email, user.role),
        });
    }
    let cast = budgets::Cast {
        council_id,
        people: &person_ids,
        organisations: &organisation_ids,
        users: &user_ids,
        admin_id,
    };
    let money = budgets::MoneyFixture {
        banking: demo.banking,
        payees: demo.payees,
        budgets: demo.budgets,
        family_payment_approvals: demo.family_payment_approvals,
        payment_run: demo.payment_run,
    };
    let today = crate::clock::london_date(now);
    let loaded = budgets::load(&tx, &cast, &money, today).await?;
    let payment_run_id = loaded.payment_run_id;
    let care_manager_email = "carol.tregorran@borsetshire.example";
    let care_manager_id = *user_ids
        .get(care_manager_email)
        .context("demo: the care manager is missing")?;
    let care_manager = users::get(&tx, council_id, care_manager_id)
        .await
        .map_err(|e| fail(care_manager_email, e))?;
    let care_manager = crate::auth::Actor {
        user_id: care_manager.id,
        council_id,
        role: care_manager.role,
        email: care_manager.email,
        name: care_manager.name,
        organisation_id: None,
        person_id: None,
    };
    let keys = payments::Keys {
        council_id,
        budgets: &loaded.budgets,
        payees: &loaded.payees,
        users: &user_ids,
    };
    payments::load(&tx, &keys, &care_manager, now).await?;
    tx.commit().await?;
    Ok(Loaded {
        council_id,
        password: demo.password,
        signins,
        people: person_ids,
        organisations: organisation_ids,
        users: user_ids,
        payment_run_id,
    })
}

/// The text printed when the demo starts.
/// The sign-ins as the sign-in page lists them.
pub fn sign_ins(loaded: &Loaded) -> crate::config::DemoSignIns {
    crate::config::DemoSignIns {
        password: loaded.password.clone(),
        users: loaded
            .signins
            .iter()
            .map(|s| crate::config::DemoUser {
                role: s.role.label(),
                name: s.name.clone(),
                email: s.email.clone(),
                try_this: s.try_this,
            })
            .collect(),
    }
}

pub fn describe(loaded: &Loaded, addr: SocketAddr) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\nallot demo: Borsetshire County Council is at http://{addr}/"
    );
    let _ = writeln!(text, "Every demo user's password is: {}\n", loaded.password);
    for signin in &loaded.signins {
        let _ = writeln!(
            text,
            "  {:<24} {:<22} {}\n  {:<24} {}",
            signin.role.label(),
            signin.name,
            signin.email,
            "",
            signin.try_this
        );
    }
    let _ = writeln!(
        text,
        "\nThe first payment run is released: http://{addr}/payment-runs/{}",
        loaded.payment_run_id
    );
    let _ = writeln!(
        text,
        "\nPress Ctrl-C to stop (the embedded PostgreSQL stops with it)."
    );
    text
}
