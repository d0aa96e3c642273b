//! Shared by the ledger's integration tests: councils and accounts made directly, entries built
//! tersely, and the invariants checked from the rows.
#![allow(dead_code)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use allot::db::{tenant_tx, DbPool};
use allot::ledger::{self, ChainKey, NewAccount, NewEntry, NewLeg, Side};

/// The chain key of the tests (the one `AppState::new` uses too).
pub fn chain_key() -> ChainKey {
    ChainKey::fixed_for_tests()
}

pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

pub fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).expect("date")
}

/// A council row of its own (no users): ledger state is per council.
pub async fn council(pool: &DbPool) -> Uuid {
    let id = Uuid::new_v4();
    let mut client = pool.get().await.expect("client");
    let tx = tenant_tx(&mut client, id).await.expect("tx");
    tx.execute(
        "INSERT INTO councils (id, name) VALUES ($1, $2)",
        &[&id, &format!("Council {}", &id.simple().to_string()[..8])],
    )
    .await
    .expect("council");
    tx.commit().await.expect("commit");
    id
}

pub async fn account(pool: &DbPool, council_id: Uuid, kind: &str, no_overdraft: bool) -> Uuid {
    let mut client = pool.get().await.expect("client");
    let tx = tenant_tx(&mut client, council_id).await.expect("tx");
    let id = ledger::create_account(
        &tx,
        council_id,
        &NewAccount {
            kind: kind.into(),
            name: format!("{kind} account"),
            holder: None,
            no_overdraft,
        },
    )
    .await
    .expect("account");
    tx.commit().await.expect("commit");
    id
}

pub fn entry_on(date: NaiveDate, legs: &[(Uuid, Side, &str)]) -> NewEntry {
    NewEntry {
        effective_date: date,
        description: "test entry".into(),
        legs: legs
            .iter()
            .map(|(account_id, side, amount)| NewLeg {
                account_id: *account_id,
                side: *side,
                amount: d(amount),
            })
            .collect(),
        metadata: serde_json::json!({"requested_by": "test"}),
        reverses: None,
    }
}

/// `amount` from `from` (debit) to `to` (credit), dated 1 April 2025.
pub fn transfer(from: Uuid, to: Uuid, amount: &str) -> NewEntry {
    entry_on(
        day(2025, 4, 1),
        &[(from, Side::Debit, amount), (to, Side::Credit, amount)],
    )
}

/// Posts with retries and panics on refusal (for setting up).
pub async fn fund(pool: &DbPool, council_id: Uuid, from: Uuid, to: Uuid, amount: &str) {
    ledger::post(pool, council_id, &transfer(from, to, amount))
        .await
        .expect("funding post");
}

pub async fn balances(pool: &DbPool, council_id: Uuid, account_id: Uuid) -> ledger::Balances {
    let mut client = pool.get().await.expect("client");
    let tx = tenant_tx(&mut client, council_id).await.expect("tx");
    ledger::balances(&tx, council_id, account_id)
        .await
        .expect("balances")
}

/// The ledger's invariants, from the rows: every entry balances, every account's totals are the
/// sums of its legs, no `no_overdraft` account below zero counting holds, every hold resolved at
/// most once and open or resolved (never both).
pub async fn assert_invariants(pool: &DbPool, council_id: Uuid) {
    let mut client = pool.get().await.expect("client");
    let tx = tenant_tx(&mut client, council_id).await.expect("tx");
    let report = ledger::audit::consistency(&tx, council_id)
        .await
        .expect("consistency");
    assert!(report.is_ok(), "ledger invariants broken: {report:?}");
    let both: i64 = tx
        .query_one(
            "SELECT count(*) FROM ledger_open_holds h JOIN ledger_hold_resolutions r
                 ON r.council_id = h.council_id AND r.hold_id = h.hold_id
             WHERE h.council_id = $1",
            &[&council_id],
        )
        .await
        .expect("holds")
        .get(0);
    assert_eq!(both, 0, "a hold is both open and resolved");
    let unaccounted: i64 = tx
        .query_one(
            "SELECT count(*) FROM ledger_entries e WHERE e.council_id = $1 AND e.pending
               AND NOT EXISTS (SELECT 1 FROM ledger_open_holds h WHERE h.council_id = e.council_id AND h.hold_id = e.id)
               AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r WHERE r.council_id = e.council_id AND r.hold_id = e.id)",
            &[&council_id],
        )
        .await
        .expect("holds")
        .get(0);
    assert_eq!(unaccounted, 0, "a hold is neither open nor resolved");
    let posted_twice: i64 = tx
        .query_one(
            "SELECT count(*) FROM (SELECT hold_id FROM ledger_entries
                                   WHERE council_id = $1 AND hold_id IS NOT NULL
                                   GROUP BY hold_id HAVING count(*) > 1) t",
            &[&council_id],
        )
        .await
        .expect("postings")
        .get(0);
    assert_eq!(posted_twice, 0, "a hold was posted twice");
}
