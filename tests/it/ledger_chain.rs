//! The hash chain: sealing, verification, and detection of each kind of direct tampering done
//! as the database superuser.

use chrono::Duration;
use tokio_postgres::NoTls;
use uuid::Uuid;

use allot::db::tenant_tx;
use allot::db::testing::TestDb;
use allot::ledger::{self, Side};

use crate::ledger_support::*;

/// A council with a little of everything, sealed; returns (council, an ordinary entry in the
/// middle of the chain, a spare account).
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
    let sealed = ledger::seal_pending(&db.pool, council).await.unwrap();
    assert_eq!(sealed, 7);
    let report = ledger::verify(&db.pool, council).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (
            report.entries_checked,
            report.unsealed,
            report.head_position
        ),
        (7, 0, 7)
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
    let report = ledger::verify(&db.pool, council).await.unwrap();
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
    let report = ledger::verify(&db.pool, council).await.unwrap();
    assert!(
        report.ok && report.unsealed == 1 && report.entries_checked == 7,
        "{report:?}"
    );
    assert_eq!(ledger::seal_pending(&db.pool, council).await.unwrap(), 1);
    let report = ledger::verify(&db.pool, council).await.unwrap();
    assert!(
        report.ok && report.unsealed == 0 && report.entries_checked == 8,
        "{report:?}"
    );
    // Another council's chain is its own.
    let empty = crate::ledger_support::council(&db.pool).await;
    let report = ledger::verify(&db.pool, empty).await.unwrap();
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
    let report = ledger::verify(&db.pool, council).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_account, Some(funding));
}
