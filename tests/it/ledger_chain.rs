//! The hash chain: sealing, verification, and detection of each kind of direct tampering done
//! as the database superuser.

use chrono::Duration;
use tokio_postgres::NoTls;
use uuid::Uuid;

use allot::db::tenant_tx;
use allot::db::testing::TestDb;
use allot::ledger::chain::{self, ChainKey, LinkKind, Sealed};
use allot::ledger::{self, Side, SignedHead};

use crate::ledger_support::*;

/// A council with a little of everything, sealed; returns (council, an ordinary entry in the
/// middle of the chain, the funding account).
async fn sealed_ledger(db: &TestDb) -> (Uuid, Uuid, Uuid) {
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let payee = account(&db.pool, council, "payee", false).await;
    fund(&db.pool, council, funding, holder, "500").await;
    let middle = ledger::post(&db.pool, council, &transfer(holder, payee, "20"))
        .await
        .unwrap();
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let hold = ledger::hold_in_tx(
        &tx,
        council,
        &transfer(holder, payee, "30"),
        allot::clock::system_now() + Duration::hours(1),
    )
    .await
    .unwrap();
    ledger::post_pending_in_tx(&tx, council, hold.id, Some(d("25")))
        .await
        .unwrap();
    let split = entry_on(
        day(2025, 4, 2),
        &[
            (holder, Side::Debit, "15"),
            (payee, Side::Credit, "10"),
            (funding, Side::Credit, "5"),
        ],
    );
    let third = ledger::post_in_tx(&tx, council, &split).await.unwrap();
    ledger::reverse_in_tx(&tx, council, third.id, "mistake", serde_json::json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    fund(&db.pool, council, funding, holder, "1").await;
    let sealed = ledger::seal_pending(&db.pool, council, &chain_key())
        .await
        .unwrap();
    // Seven entries and the resolution of the hold.
    assert_eq!(sealed, 8);
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (
            report.entries_checked,
            report.unsealed,
            report.head_position
        ),
        (8, 0, 8)
    );
    (council, middle.id, funding)
}

/// Runs SQL as the cluster's superuser (not subject to grants or row-level security).
async fn as_superuser(
    db: &TestDb,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) {
    let (client, connection) = db
        .config
        .connect(NoTls)
        .await
        .expect("superuser connection");
    let task = tokio::spawn(connection);
    client.execute(sql, params).await.expect("tampering");
    drop(client);
    let _ = task.await;
}

async fn assert_detected(db: &TestDb, council: Uuid, bad: Option<Uuid>) {
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(!report.ok, "tampering went unnoticed: {report:?}");
    assert!(report.problem.is_some());
    if bad.is_some() {
        assert_eq!(report.first_bad_entry, bad, "{report:?}");
    }
}

#[tokio::test]
async fn verification_passes_and_grows_with_new_entries() {
    let db = TestDb::new().await;
    let (council, _, funding) = sealed_ledger(&db).await;
    let other = account(&db.pool, council, "direct_payment", true).await;
    fund(&db.pool, council, funding, other, "3").await;
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(
        report.ok && report.unsealed == 1 && report.entries_checked == 8,
        "{report:?}"
    );
    assert_eq!(
        ledger::seal_pending(&db.pool, council, &chain_key())
            .await
            .unwrap(),
        1
    );
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(
        report.ok && report.unsealed == 0 && report.entries_checked == 9,
        "{report:?}"
    );
    // Another council's chain is its own.
    let empty = crate::ledger_support::council(&db.pool).await;
    let report = ledger::verify(&db.pool, empty, &chain_key()).await.unwrap();
    assert!(report.ok && report.entries_checked == 0, "{report:?}");
}

#[tokio::test]
async fn an_edited_amount_is_detected() {
    let db = TestDb::new().await;
    let (council, middle, _) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "UPDATE ledger_legs SET amount = amount + 0.01 WHERE entry_id = $1 AND leg_no = 1",
        &[&middle],
    )
    .await;
    assert_detected(&db, council, Some(middle)).await;
}

#[tokio::test]
async fn an_edited_account_is_detected() {
    let db = TestDb::new().await;
    let (council, middle, funding) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "UPDATE ledger_legs SET account_id = $2 WHERE entry_id = $1 AND leg_no = 2",
        &[&middle, &funding],
    )
    .await;
    assert_detected(&db, council, Some(middle)).await;
}

#[tokio::test]
async fn an_edited_date_is_detected() {
    let db = TestDb::new().await;
    let (council, middle, _) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "UPDATE ledger_entries SET effective_date = effective_date - 1 WHERE id = $1",
        &[&middle],
    )
    .await;
    assert_detected(&db, council, Some(middle)).await;
    // The legs' copy of the date (what statements read) is covered too.
    let db = TestDb::new().await;
    let (council, middle, _) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "UPDATE ledger_legs SET effective_date = effective_date + 1 WHERE entry_id = $1",
        &[&middle],
    )
    .await;
    assert_detected(&db, council, Some(middle)).await;
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    let db = TestDb::new().await;
    let (council, middle, _) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "WITH l AS (DELETE FROM ledger_legs WHERE entry_id = $1) DELETE FROM ledger_entries WHERE id = $1",
        &[&middle],
    )
    .await;
    assert_detected(&db, council, Some(middle)).await;
    // Deleting its link as well breaks the chain at that point.
    let db = TestDb::new().await;
    let (council, middle, _) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "WITH l AS (DELETE FROM ledger_legs WHERE entry_id = $1), c AS (DELETE FROM ledger_chain WHERE entry_id = $1)
         DELETE FROM ledger_entries WHERE id = $1",
        &[&middle],
    )
    .await;
    assert_detected(&db, council, None).await;
}

#[tokio::test]
async fn an_inserted_entry_is_detected() {
    let db = TestDb::new().await;
    let (council, _, funding) = sealed_ledger(&db).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let forged = Uuid::new_v4();
    as_superuser(
        &db,
        "WITH e AS (INSERT INTO ledger_entries (council_id, id, pending, effective_date, description)
                    VALUES ($1, $2, false, '2025-04-03', 'forged') RETURNING id, seq, effective_date)
         INSERT INTO ledger_legs (council_id, entry_id, leg_no, account_id, side, amount, effective_date, entry_seq, pending)
         SELECT $1, e.id, v.n, v.a, v.s, 99.00, e.effective_date, e.seq, false
         FROM e, (VALUES (1::int2, $3::uuid, 'D'), (2::int2, $4::uuid, 'C')) v(n, a, s)",
        &[&council, &forged, &funding, &holder],
    )
    .await;
    assert_detected(&db, council, Some(forged)).await;
}

#[tokio::test]
async fn edited_account_totals_are_detected() {
    let db = TestDb::new().await;
    let (council, _, funding) = sealed_ledger(&db).await;
    as_superuser(
        &db,
        "UPDATE ledger_accounts SET posted_debits = posted_debits - 100 WHERE id = $1",
        &[&funding],
    )
    .await;
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_account, Some(funding));
}

/// The hold of the sealed ledger (posted in part).
async fn the_hold(db: &TestDb, council: Uuid) -> Uuid {
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    tx.query_one(
        "SELECT hold_id FROM ledger_hold_resolutions WHERE council_id = $1",
        &[&council],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn an_edited_or_deleted_hold_resolution_is_detected() {
    let db = TestDb::new().await;
    let (council, _, _) = sealed_ledger(&db).await;
    let hold = the_hold(&db, council).await;
    // Who decided, rewritten after the fact.
    as_superuser(
        &db,
        "UPDATE ledger_hold_resolutions SET metadata = '{\"approved_by\": \"someone else\"}'
         WHERE hold_id = $1",
        &[&hold],
    )
    .await;
    let report = ledger::verify(&db.pool, council, &chain_key())
        .await
        .unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.first_bad_entry, Some(hold), "{report:?}");
    assert!(
        report
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("resolution"),
        "{report:?}"
    );

    let db = TestDb::new().await;
    let (council, _, _) = sealed_ledger(&db).await;
    let hold = the_hold(&db, council).await;
    as_superuser(
        &db,
        "UPDATE ledger_hold_resolutions SET outcome = 'voided' WHERE hold_id = $1",
        &[&hold],
    )
    .await;
    assert_detected(&db, council, Some(hold)).await;

    let db = TestDb::new().await;
    let (council, _, _) = sealed_ledger(&db).await;
    let hold = the_hold(&db, council).await;
    as_superuser(
        &db,
        "DELETE FROM ledger_hold_resolutions WHERE hold_id = $1",
        &[&hold],
    )
    .await;
    assert_detected(&db, council, Some(hold)).await;
}

/// What someone able to write the tables, but without the key, does after editing sealed rows:
/// recomputes every link of the council's chain with `link` (position, previous hash, what the
/// link seals).
async fn forge_links(db: &TestDb, council: Uuid, link: impl Fn(i64, &[u8], &Sealed) -> Vec<u8>) {
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let links = tx
        .query(
            "SELECT position, kind, entry_id FROM ledger_chain WHERE council_id = $1
             ORDER BY position",
            &[&council],
        )
        .await
        .unwrap();
    let keys: Vec<(LinkKind, Uuid)> = links
        .iter()
        .map(|r| (LinkKind::parse(r.get(1)).unwrap(), r.get(2)))
        .collect();
    let sealed = chain::load(&tx, council, &keys).await.unwrap();
    drop(tx);
    let mut prev = chain::GENESIS.to_vec();
    for (row, key) in links.iter().zip(&keys) {
        let position: i64 = row.get(0);
        let hash = link(position, &prev, &sealed[key]);
        as_superuser(
            db,
            "UPDATE ledger_chain SET prev_hash = $3, hash = $4 WHERE council_id = $1 AND position = $2",
            &[&council, &position, &prev, &hash],
        )
        .await;
        prev = hash;
    }
}

/// Someone able to write the tables edits a sealed entry (its description: no total changes) and
/// recomputes every link, as a plain SHA-256 chain or under a key of their own: without the key,
/// the chain no longer verifies from its first link.
#[tokio::test]
async fn a_chain_recomputed_without_the_key_is_detected() {
    let plain = |council: Uuid| {
        move |position: i64, prev: &[u8], sealed: &Sealed| {
            let message = chain::link_message(council, position, prev, sealed);
            ring::digest::digest(&ring::digest::SHA256, &message)
                .as_ref()
                .to_vec()
        }
    };
    let other_key = ChainKey::from_bytes(&[0x5a; 32]).unwrap();
    let keyed = |council: Uuid| {
        let key = other_key.clone();
        move |position: i64, prev: &[u8], sealed: &Sealed| {
            chain::link_hash(&key, council, position, prev, sealed).to_vec()
        }
    };
    for forger in ["plain SHA-256", "another key"] {
        let db = TestDb::new().await;
        let (council, middle, _) = sealed_ledger(&db).await;
        as_superuser(
            &db,
            "UPDATE ledger_entries SET description = 'forged' WHERE id = $1",
            &[&middle],
        )
        .await;
        match forger {
            "plain SHA-256" => forge_links(&db, council, plain(council)).await,
            _ => forge_links(&db, council, keyed(council)).await,
        }
        let first: Uuid = {
            let mut client = db.pool.get().await.unwrap();
            let tx = tenant_tx(&mut client, council).await.unwrap();
            tx.query_one(
                "SELECT entry_id FROM ledger_chain WHERE council_id = $1 AND position = 1",
                &[&council],
            )
            .await
            .unwrap()
            .get(0)
        };
        let report = ledger::verify(&db.pool, council, &chain_key())
            .await
            .unwrap();
        assert!(!report.ok, "{forger}: {report:?}");
        assert_eq!(report.first_bad_entry, Some(first), "{forger}: {report:?}");
        assert_eq!(
            report.signed_head, None,
            "{forger}: a broken chain is not signed"
        );
        // The forger's own key "verifies" their chain; that is why the key stays elsewhere.
        if forger == "another key" {
            let theirs = ledger::verify(&db.pool, council, &other_key).await.unwrap();
            assert!(theirs.ok, "{theirs:?}");
        }
    }
}

/// Runs the `allot` binary against the test's database, with `key` (hexadecimal) as
/// `ALLOT_CHAIN_KEY` if given.
async fn allot_cli(db: &TestDb, key: Option<&str>, args: &[&str]) -> std::process::Output {
    let Some(tokio_postgres::config::Host::Unix(socket)) = db.config.get_hosts().first() else {
        panic!("the test cluster listens on a unix socket");
    };
    let url = format!(
        "host={} port={} user={} dbname={}",
        socket.display(),
        db.config.get_ports().first().copied().unwrap_or(5432),
        db.config.get_user().unwrap_or("postgres"),
        db.name
    );
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_allot"));
    command
        .env("DATABASE_URL", url)
        .env_remove("ALLOT_CHAIN_KEY")
        .env_remove("ALLOT_CHAIN_KEY_FILE")
        .env("ALLOT_LOG", "warn")
        .args(args);
    if let Some(key) = key {
        command.env("ALLOT_CHAIN_KEY", key);
    }
    command.output().await.expect("running allot")
}

#[tokio::test]
async fn the_signed_head_is_stable_and_only_verifies_under_the_key() {
    let db = TestDb::new().await;
    let key_hex = "3c".repeat(32);
    let key = ChainKey::from_hex(&key_hex).unwrap();
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    fund(&db.pool, council, funding, holder, "10").await;
    fund(&db.pool, council, funding, holder, "2.50").await;
    assert_eq!(
        ledger::seal_pending(&db.pool, council, &key).await.unwrap(),
        2
    );

    let args = ["audit", "verify", "--head"];
    let first = allot_cli(&db, Some(&key_hex), &args).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = allot_cli(&db, Some(&key_hex), &args).await;
    assert_eq!(
        first.stdout, second.stdout,
        "the head of an unchanged ledger changed"
    );
    let line = String::from_utf8(first.stdout.clone()).unwrap();
    let head: SignedHead = line.trim().parse().unwrap();
    assert!(head.verifies(&key), "{line}");
    assert!(!head.verifies(&chain_key()));
    assert_eq!((head.council_id, head.position), (council, 2));
    let report = ledger::verify(&db.pool, council, &key).await.unwrap();
    assert_eq!(report.signed_head.as_deref(), Some(line.trim()));

    // A new sealed entry moves the head.
    fund(&db.pool, council, funding, holder, "1").await;
    ledger::seal_pending(&db.pool, council, &key).await.unwrap();
    let moved = allot_cli(&db, Some(&key_hex), &args).await;
    assert!(moved.status.success());
    assert_ne!(moved.stdout, first.stdout);

    // Under another key the chain does not verify, and nothing is signed.
    let wrong = allot_cli(&db, Some(&"3d".repeat(32)), &args).await;
    assert!(!wrong.status.success());
    let out = String::from_utf8_lossy(&wrong.stdout);
    assert!(out.contains("NOT OK") && !out.contains(" mac "), "{out}");
    // With DATABASE_URL the key must be named.
    let none = allot_cli(&db, None, &args).await;
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("ALLOT_CHAIN_KEY_FILE"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
}
