//! The database's own walls around the ledger, tried as `allot_app` with SQL the ledger would
//! never send: account totals are kept by the database (and `allot_app` cannot write them), legs
//! are only ever written with their entry, and a hold is pending exactly while it is open.

use rust_decimal::Decimal;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use allot::db::testing::TestDb;
use allot::db::{tenant_tx, DbPool};
use allot::ledger;

use crate::ledger_support::*;

/// An account's four totals as stored: posted debits, posted credits, pending debits, pending
/// credits.
async fn totals(pool: &DbPool, council: Uuid, account: Uuid) -> [Decimal; 4] {
    let mut client = pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let row = tx
        .query_one(
            "SELECT posted_debits, posted_credits, pending_debits, pending_credits
             FROM ledger_accounts WHERE council_id = $1 AND id = $2",
            &[&council, &account],
        )
        .await
        .unwrap();
    [row.get(0), row.get(1), row.get(2), row.get(3)]
}

/// Runs one statement as `allot_app` acting for `council` and commits; the SQLSTATE if refused.
async fn as_app(
    pool: &DbPool,
    council: Uuid,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, String> {
    let mut client = pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    match tx.execute(sql, params).await {
        Ok(n) => {
            tx.commit().await.unwrap();
            Ok(n)
        }
        Err(e) => Err(e.code().map(|c| c.code().to_string()).unwrap_or_default()),
    }
}

/// An entry and its two legs written by hand in one statement, as the ledger writes them but
/// without touching any account row: `pending` makes it a hold (with its open-hold row unless
/// `open_hold` is false).
const HAND_ENTRY: &str = "
WITH e AS (
    INSERT INTO ledger_entries (council_id, id, pending, effective_date, description, expires_at)
    VALUES ($1, $2, $5, '2025-04-01', 'by hand',
            CASE WHEN $5 THEN now() + interval '1 hour' END)
    RETURNING id, seq, effective_date, pending, expires_at
), h AS (
    INSERT INTO ledger_open_holds (council_id, hold_id, expires_at)
    SELECT $1, id, expires_at FROM e WHERE pending AND $6
)
INSERT INTO ledger_legs (council_id, entry_id, leg_no, account_id, side, amount, effective_date,
                         entry_seq, pending)
SELECT $1, e.id, v.n, v.a, v.s, 7.50, e.effective_date, e.seq, e.pending
FROM e, (VALUES (1::int2, $3::uuid, 'D'), (2::int2, $4::uuid, 'C')) AS v(n, a, s)";

#[tokio::test]
async fn the_app_role_cannot_write_account_totals() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let other = crate::ledger_support::council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    fund(&db.pool, council, funding, holder, "5").await;
    let before = totals(&db.pool, council, holder).await;
    for column in [
        "posted_debits",
        "posted_credits",
        "pending_debits",
        "pending_credits",
    ] {
        let sql = format!("UPDATE ledger_accounts SET {column} = {column} + 100 WHERE id = $1");
        let refused = as_app(&db.pool, council, &sql, &[&holder]).await;
        assert_eq!(
            refused,
            Err(SqlState::INSUFFICIENT_PRIVILEGE.code().to_string()),
            "{column}"
        );
    }
    assert_eq!(totals(&db.pool, council, holder).await, before);
    // What allot_app keeps, to lock accounts, cannot move one to another council.
    let moved = as_app(
        &db.pool,
        council,
        "UPDATE ledger_accounts SET council_id = $2 WHERE id = $1",
        &[&holder, &other],
    )
    .await;
    assert!(moved.is_err(), "{moved:?}");
    let locked = as_app(
        &db.pool,
        council,
        "SELECT 1 FROM ledger_accounts WHERE council_id = $1 AND id = $2 FOR UPDATE",
        &[&council, &holder],
    )
    .await;
    assert_eq!(locked, Ok(1));
}

#[tokio::test]
async fn legs_cannot_be_added_to_a_recorded_entry() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let entry = ledger::post(&db.pool, council, &transfer(funding, holder, "10"))
        .await
        .unwrap();
    let before = totals(&db.pool, council, holder).await;
    // Two legs that balance each other, so the balance check alone would let them in.
    let extra = "
        INSERT INTO ledger_legs (council_id, entry_id, leg_no, account_id, side, amount,
                                 effective_date, entry_seq, pending)
        SELECT council_id, id, v.n, v.a, v.s, 1000.00, effective_date, seq, pending
        FROM ledger_entries, (VALUES (3::int2, $3::uuid, 'D'), (4::int2, $4::uuid, 'C')) AS v(n, a, s)
        WHERE council_id = $1 AND id = $2";
    let refused = as_app(
        &db.pool,
        council,
        extra,
        &[&council, &entry.id, &funding, &holder],
    )
    .await;
    assert_eq!(refused, Err("LD004".to_string()));
    // Nor in the transaction that recorded it, by a later statement.
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let fresh = ledger::post_in_tx(&tx, council, &transfer(funding, holder, "1"))
        .await
        .unwrap();
    let err = tx
        .execute(extra, &[&council, &fresh.id, &funding, &holder])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("LD004"), "{err}");
    drop(tx);
    assert_eq!(totals(&db.pool, council, holder).await, before);
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn the_database_keeps_account_totals_and_open_holds() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", false).await;
    let zero = Decimal::ZERO;
    let amount = d("7.50");

    // A posting written by hand moves the totals with no UPDATE from the writer.
    let posted = Uuid::new_v4();
    let no = false;
    let written = as_app(
        &db.pool,
        council,
        HAND_ENTRY,
        &[&council, &posted, &funding, &holder, &no, &no],
    )
    .await;
    assert_eq!(written, Ok(2));
    assert_eq!(
        totals(&db.pool, council, funding).await,
        [amount, zero, zero, zero]
    );
    assert_eq!(
        totals(&db.pool, council, holder).await,
        [zero, amount, zero, zero]
    );

    // A hold counts as pending while it is open...
    let hold = Uuid::new_v4();
    let yes = true;
    let written = as_app(
        &db.pool,
        council,
        HAND_ENTRY,
        &[&council, &hold, &holder, &funding, &yes, &yes],
    )
    .await;
    assert_eq!(written, Ok(2));
    assert_eq!(
        totals(&db.pool, council, holder).await,
        [zero, amount, amount, zero]
    );
    // ...and cannot be closed without recording its resolution, nor resolved while open.
    let close = "DELETE FROM ledger_open_holds WHERE council_id = $1 AND hold_id = $2";
    assert_eq!(
        as_app(&db.pool, council, close, &[&council, &hold]).await,
        Err("LD005".to_string())
    );
    let resolve_only = "INSERT INTO ledger_hold_resolutions (council_id, hold_id, outcome)
                        VALUES ($1, $2, 'voided')";
    assert_eq!(
        as_app(&db.pool, council, resolve_only, &[&council, &hold]).await,
        Err("LD005".to_string())
    );
    // A posted entry is not a hold to resolve.
    assert_eq!(
        as_app(&db.pool, council, resolve_only, &[&council, &posted]).await,
        Err("LD005".to_string())
    );
    // Resolving it (as the ledger does, in one statement) releases it.
    let resolve = "WITH d AS (DELETE FROM ledger_open_holds WHERE council_id = $1 AND hold_id = $2
                              RETURNING hold_id)
                   INSERT INTO ledger_hold_resolutions (council_id, hold_id, outcome)
                   SELECT $1, hold_id, 'voided' FROM d";
    assert_eq!(
        as_app(&db.pool, council, resolve, &[&council, &hold]).await,
        Ok(1)
    );
    assert_eq!(
        totals(&db.pool, council, holder).await,
        [zero, amount, zero, zero]
    );
    assert_eq!(
        totals(&db.pool, council, funding).await,
        [amount, zero, zero, zero]
    );
    // A resolved hold cannot be opened again, nor a hold recorded without opening it.
    let reopen = "INSERT INTO ledger_open_holds (council_id, hold_id, expires_at)
                  VALUES ($1, $2, now() + interval '1 hour')";
    assert_eq!(
        as_app(&db.pool, council, reopen, &[&council, &hold]).await,
        Err("LD006".to_string())
    );
    let unopened = Uuid::new_v4();
    assert_eq!(
        as_app(
            &db.pool,
            council,
            HAND_ENTRY,
            &[&council, &unopened, &holder, &funding, &yes, &no],
        )
        .await,
        Err("LD006".to_string())
    );
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn entries_written_by_hand_must_balance_and_their_legs_agree() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let before = totals(&db.pool, council, holder).await;
    // Legs of 7.50 and 7.49: unbalanced.
    let unbalanced = HAND_ENTRY.replace(
        "SELECT $1, e.id, v.n, v.a, v.s, 7.50,",
        "SELECT $1, e.id, v.n, v.a, v.s, CASE WHEN v.n = 1 THEN 7.50 ELSE 7.49 END,",
    );
    let refused = as_app(
        &db.pool,
        council,
        &unbalanced,
        &[&council, &Uuid::new_v4(), &funding, &holder, &false, &true],
    )
    .await;
    assert_eq!(refused, Err("LD001".to_string()));
    // Legs dated otherwise than their entry.
    let disagreeing = HAND_ENTRY.replace("7.50, e.effective_date,", "7.50, e.effective_date + 1,");
    let refused = as_app(
        &db.pool,
        council,
        &disagreeing,
        &[&council, &Uuid::new_v4(), &funding, &holder, &false, &true],
    )
    .await;
    assert_eq!(refused, Err("LD003".to_string()));
    // The same entry written as it should be is recorded.
    let fine = as_app(
        &db.pool,
        council,
        HAND_ENTRY,
        &[&council, &Uuid::new_v4(), &funding, &holder, &false, &true],
    )
    .await;
    assert_eq!(fine, Ok(2));
    assert_ne!(totals(&db.pool, council, holder).await, before);
    assert_invariants(&db.pool, council).await;
}
