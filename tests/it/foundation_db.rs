//! Tenancy and row-level security, migrations, and stored passwords, on the real database.

use allot::auth::Role;
use allot::db::{self, testing::TestDb};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::support::TestApp;

async fn superuser(test_db: &TestDb) -> tokio_postgres::Client {
    let (client, connection) = test_db.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn without_the_council_setting_nothing_is_visible() {
    let app = TestApp::new().await;
    let council = app.council("Council A").await;
    app.user(&council, Role::CareManager, None, None).await;
    let mut client = app.db.pool.get().await.unwrap();
    let tx = db::anonymous_tx(&mut client).await.unwrap();
    for table in [
        "councils",
        "users",
        "people",
        "organisations",
        "auth_tokens",
    ] {
        let count: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 0, "{table} visible without a council");
    }
    tx.rollback().await.unwrap();

    // The superuser sees the rows, so the zero above is row-level security at work.
    let su = superuser(&app.db).await;
    let users: i64 = su
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 2);
}

#[tokio::test]
async fn one_council_cannot_read_or_write_anothers_rows() {
    let app = TestApp::new().await;
    let a = app.council("Council A").await;
    let b = app.council("Council B").await;
    let mut client = app.db.pool.get().await.unwrap();

    let tx = db::tenant_tx(&mut client, a.id).await.unwrap();
    // Even a query that forgets its WHERE council_id sees only its own council.
    let councils: Vec<Uuid> = tx
        .query("SELECT id FROM councils", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(councils, vec![a.id]);
    let user_councils: Vec<Uuid> = tx
        .query("SELECT DISTINCT council_id FROM users", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(user_councils, vec![a.id]);
    let err = tx
        .execute(
            "INSERT INTO people (council_id, id, name, date_of_birth, has_capacity) VALUES ($1, $2, 'X', '1950-01-01', true)",
            &[&b.id, &Uuid::new_v4()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{err}");
    tx.rollback().await.unwrap();

    // After the transaction the setting is gone from the pooled connection.
    let tx = db::anonymous_tx(&mut client).await.unwrap();
    let setting: Option<String> = tx
        .query_one(
            "SELECT nullif(current_setting('app.council_id', true), '')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(setting, None);
    let role: String = tx
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "allot_app");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn the_application_role_cannot_bypass_row_level_security() {
    let test_db = TestDb::new().await;
    let su = superuser(&test_db).await;
    let row = su
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'allot_app'",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0) && !row.get::<_, bool>(1) && !row.get::<_, bool>(2));
    let unprotected: Vec<String> = su
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity
               AND EXISTS (SELECT 1 FROM information_schema.columns col
                           WHERE col.table_name = c.relname AND col.column_name = 'council_id')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        unprotected.is_empty(),
        "tenant tables without row-level security: {unprotected:?}"
    );
}

#[tokio::test]
async fn migrations_are_idempotent_and_refuse_edited_history() {
    let test_db = TestDb::new().await;
    let mut client = test_db.pool.get().await.unwrap();
    let applied = db::migrate::run(&mut client).await.unwrap();
    assert!(
        applied.is_empty(),
        "already migrated from the template: {applied:?}"
    );

    let su = superuser(&test_db).await;
    su.execute(
        "UPDATE refinery_schema_history SET checksum = '1' WHERE version = 1",
        &[],
    )
    .await
    .unwrap();
    let err = db::migrate::run(&mut client).await.unwrap_err();
    assert!(
        err.to_string().contains("is different than filesystem one"),
        "{err}"
    );
}

#[tokio::test]
async fn passwords_are_stored_as_pbkdf2_with_parameters() {
    let app = TestApp::with_settings(allot::config::Settings::default()).await;
    let council = app.council("Council A").await;
    let su = superuser(&app.db).await;
    let row = su
        .query_one(
            "SELECT password_algorithm, password_iterations, length(password_salt), length(password_hash), password_hash
             FROM users WHERE id = $1",
            &[&council.admin_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "pbkdf2-sha256");
    assert_eq!(row.get::<_, i32>(1), 600_000);
    assert_eq!(row.get::<_, i32>(2), 16);
    assert_eq!(row.get::<_, i32>(3), 32);
    let hash: Vec<u8> = row.get(4);
    assert!(!String::from_utf8_lossy(&hash).contains(crate::support::PASSWORD));
    let tokens: i64 = su
        .query_one(
            "SELECT count(*) FROM auth_tokens WHERE length(token_hash) = 32",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 1, "the admin's token is stored hashed");
}

#[tokio::test]
async fn a_one_round_trip_lookup_acts_as_the_app_role_and_leaves_nothing_behind() {
    // The token lookup on every request sends `SET LOCAL ROLE ...; SELECT ...` as one simple
    // query: the two run as one implicit transaction, so the role holds for the SELECT and ends
    // with it, leaving the pooled connection as it was.
    let app = TestApp::new().await;
    let client = app.db.pool.get().await.unwrap();
    let rows = |messages: Vec<tokio_postgres::SimpleQueryMessage>| -> Vec<String> {
        messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect()
    };
    let inside = client
        .simple_query("SET LOCAL ROLE allot_app; SELECT current_user")
        .await
        .unwrap();
    assert_eq!(rows(inside), vec!["allot_app"]);
    let after = client.simple_query("SELECT current_user").await.unwrap();
    assert_ne!(rows(after), vec!["allot_app"]);
    // A failing lookup rolls back with it and leaves no aborted transaction behind.
    assert!(client
        .simple_query("SET LOCAL ROLE allot_app; SELECT 1/0")
        .await
        .is_err());
    let again = client.simple_query("SELECT current_user").await.unwrap();
    assert_ne!(rows(again), vec!["allot_app"]);
}

#[tokio::test]
async fn every_tenant_table_forces_row_level_security_and_has_a_policy() {
    let test_db = TestDb::new().await;
    let su = superuser(&test_db).await;
    let rows = su
        .query(
            "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                    EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
               AND (c.relname = 'councils'
                    OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                               AND a.attname = 'council_id' AND NOT a.attisdropped))
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() > 30, "only {} tenant tables found", rows.len());
    let weak: Vec<String> = rows
        .iter()
        .filter(|r| !(r.get::<_, bool>(1) && r.get::<_, bool>(2) && r.get::<_, bool>(3)))
        .map(|r| r.get(0))
        .collect();
    assert!(
        weak.is_empty(),
        "tenant tables whose row-level security is not enabled, forced and with a policy: {weak:?}"
    );
}

/// A schema owner that is not a superuser, as with `DATABASE_URL` on a managed server: forced
/// row-level security binds it too, and sign-in, the upkeep's council lookups and the ledger's
/// own triggers still work.
#[tokio::test]
async fn a_schema_owner_that_is_not_a_superuser_is_bound_and_allot_still_works() {
    use allot::auth::{councils, sessions};
    let test_db = TestDb::new().await;
    let su = superuser(&test_db).await;
    let owner = format!("owner_{}", Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {owner} LOGIN CREATEROLE"),
        format!("CREATE DATABASE {owner} OWNER {owner}"),
    ] {
        su.batch_execute(&sql).await.unwrap();
    }
    let mut config = test_db.config.clone();
    config.user(&owner).dbname(&owner);
    let pool = db::pool_from_config(config.clone(), 4).unwrap();
    let mut client = pool.get().await.unwrap();
    db::migrate::run(&mut client).await.unwrap();
    let is_super: bool = client
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!is_super);
    drop(client);

    let settings = crate::support::test_settings();
    let email = "owner-test@council.example";
    let (council_id, _) = councils::create(
        &pool,
        "Owner Test Council",
        email,
        crate::support::PASSWORD,
        settings.password_iterations,
    )
    .await
    .unwrap();
    // Sign-in finds the user and the token across councils.
    let gate = allot::auth::throttle::SignInGate::new(&settings);
    let issued = sessions::login(
        &pool,
        &settings,
        &gate,
        sessions::Attempt {
            email,
            password: crate::support::PASSWORD,
            kind: sessions::TokenKind::Api,
            peer: None,
            now: allot::clock::system_now(),
            council: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(issued.actor.council_id, council_id);
    let found = sessions::find(&pool, &issued.secret, sessions::TokenKind::Api)
        .await
        .unwrap();
    assert_eq!(found.map(|(a, _)| a.council_id), Some(council_id));
    // The ledger's triggers keep totals as this owner, and the upkeep finds the council's work.
    let funding = crate::ledger_support::account(&pool, council_id, "council_funding", false).await;
    let holder = crate::ledger_support::account(&pool, council_id, "direct_payment", true).await;
    crate::ledger_support::fund(&pool, council_id, funding, holder, "12.34").await;
    let balances = crate::ledger_support::balances(&pool, council_id, holder).await;
    assert_eq!(balances.available_balance.to_string(), "12.34");
    assert_eq!(
        allot::ledger::maintenance::council_ids(&pool)
            .await
            .unwrap(),
        vec![council_id]
    );
    let now = allot::clock::system_now();
    let (_, sealed) =
        allot::ledger::maintenance::run_once(&pool, now, &crate::ledger_support::chain_key())
            .await
            .unwrap();
    assert_eq!(sealed, 1);
    crate::ledger_support::assert_invariants(&pool, council_id).await;

    // The owner itself sees no tenant rows without a council.
    let client = pool.get().await.unwrap();
    for table in [
        "councils",
        "users",
        "auth_tokens",
        "ledger_accounts",
        "ledger_entries",
    ] {
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 0, "the owner sees {table} without a council");
    }
}

#[tokio::test]
async fn allot_serves_as_a_role_that_owns_nothing_and_cannot_step_back_to_the_owner() {
    let app = TestApp::new().await;
    let council = app.council("Served Council").await;
    let mut config = app.db.config.clone();
    config.user("allot_server");
    let pool = db::pool_from_config(config, 4).unwrap();
    // The whole API works through it: sign in, and who am I.
    let state = allot::AppState::new(pool.clone(), crate::support::test_settings());
    let served = TestApp {
        db: allot::db::testing::TestDb {
            pool: pool.clone(),
            name: app.db.name.clone(),
            config: app.db.config.clone(),
        },
        router: allot::app(state.clone()),
        state,
    };
    let me = served.get("/api/v1/me", &council.admin_token).await;
    assert_eq!(me.status, axum::http::StatusCode::OK, "{}", me.text);
    // Outside a transaction's `SET LOCAL ROLE allot_app` it can read nothing, and `RESET ROLE`
    // leads back to itself, not to the schema owner.
    let client = pool.get().await.unwrap();
    client.batch_execute("RESET ROLE").await.unwrap();
    let who: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, "allot_server");
    for table in ["payments", "users", "ledger_accounts", "councils"] {
        let denied = client
            .query(&format!("SELECT 1 FROM {table} LIMIT 1"), &[])
            .await;
        assert!(denied.is_err(), "allot_server read {table} on its own");
    }
    let owned: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
             WHERE r.rolname = 'allot_server'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owned, 0);
}
