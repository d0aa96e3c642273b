//! The ledger's behaviour, one feature at a time, against a real PostgreSQL.

use chrono::Duration;
use rust_decimal::Decimal;
use uuid::Uuid;

use allot::commands::claims::{self, Claimed};
use allot::commands::Claim;
use allot::db::tenant_tx;
use allot::db::testing::TestDb;
use allot::error::AppError;
use allot::ledger::{self, EntryStatus, LedgerError, Side};

use crate::ledger_support::*;

/// Whether an error is the one a case expects.
type ErrorCheck = fn(&LedgerError) -> bool;

#[tokio::test]
async fn posting_moves_money_with_credits_minus_debits() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let posted = ledger::post(&db.pool, council, &transfer(funding, holder, "100.5"))
        .await
        .unwrap();
    assert_eq!(posted.status, EntryStatus::Posted);
    assert_eq!(posted.legs.len(), 2);
    assert_eq!(posted.legs[0].amount.to_string(), "100.50");
    let h = balances(&db.pool, council, holder).await;
    assert_eq!(h.posted_balance, d("100.50"));
    assert_eq!(h.available_balance, d("100.50"));
    let f = balances(&db.pool, council, funding).await;
    assert_eq!(f.posted_balance, d("-100.50"));

    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let stored = ledger::get_entry(&tx, council, posted.id).await.unwrap();
    assert_eq!(stored.legs, posted.legs);
    assert_eq!(stored.metadata, posted.metadata);
    assert_eq!(stored.recorded_at, posted.recorded_at);
    drop(tx);
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn refusals_are_typed_and_change_nothing() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let other = crate::ledger_support::council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let elsewhere = account(&db.pool, other, "direct_payment", true).await;
    fund(&db.pool, council, funding, holder, "50").await;

    let unbalanced = entry_on(
        day(2025, 4, 1),
        &[(holder, Side::Debit, "10"), (funding, Side::Credit, "9")],
    );
    let cases: Vec<(allot::ledger::NewEntry, ErrorCheck)> = vec![
        (unbalanced, |e| matches!(e, LedgerError::Unbalanced)),
        (transfer(holder, funding, "50.01"), |e| {
            matches!(e, LedgerError::InsufficientFunds { .. })
        }),
        (transfer(holder, elsewhere, "1"), |e| {
            matches!(e, LedgerError::AccountNotFound)
        }),
        (transfer(holder, funding, "0"), |e| {
            matches!(e, LedgerError::InvalidAmount)
        }),
        (transfer(holder, funding, "1.001"), |e| {
            matches!(e, LedgerError::InvalidAmount)
        }),
        (entry_on(day(2025, 4, 1), &[]), |e| {
            matches!(e, LedgerError::EmptyEntry)
        }),
    ];
    for (entry, expected) in cases {
        let err = ledger::post(&db.pool, council, &entry).await.unwrap_err();
        assert!(expected(&err), "unexpected {err:?}");
    }
    if let LedgerError::InsufficientFunds { account_id } =
        ledger::post(&db.pool, council, &transfer(holder, funding, "60"))
            .await
            .unwrap_err()
    {
        assert_eq!(account_id, holder);
    }
    assert_eq!(
        balances(&db.pool, council, holder).await.posted_balance,
        d("50")
    );
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let entries: i64 = tx
        .query_one("SELECT count(*) FROM ledger_entries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(entries, 1);
    drop(tx);
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn holds_reserve_then_post_in_part_void_or_expire_once() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let payee = account(&db.pool, council, "payee", false).await;
    fund(&db.pool, council, funding, holder, "100").await;
    let later = allot::clock::system_now() + Duration::hours(1);

    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let hold = ledger::hold_in_tx(&tx, council, &transfer(holder, payee, "70"), later)
        .await
        .unwrap();
    assert_eq!(hold.status, EntryStatus::Pending);
    let b = ledger::balances(&tx, council, holder).await.unwrap();
    assert_eq!(
        (b.posted_balance, b.available_balance, b.pending_balance),
        (d("100"), d("30"), d("30"))
    );
    // The hold counts against what can be spent.
    let refused = ledger::post_in_tx(&tx, council, &transfer(holder, payee, "30.01")).await;
    assert!(matches!(
        refused,
        Err(LedgerError::InsufficientFunds { .. })
    ));
    // Refused before anything was written: the transaction is still good.
    tx.commit().await.unwrap();

    let tx = tenant_tx(&mut client, council).await.unwrap();
    let posting = ledger::post_pending_in_tx(&tx, council, hold.id, Some(d("45")))
        .await
        .unwrap();
    assert_eq!(posting.hold_id, Some(hold.id));
    assert!(posting.legs.iter().all(|l| l.amount == d("45.00")));
    let again = ledger::void_pending_in_tx(&tx, council, hold.id).await;
    assert!(matches!(again, Err(LedgerError::NotPending)));
    tx.commit().await.unwrap();
    let b = balances(&db.pool, council, holder).await;
    assert_eq!((b.posted_balance, b.available_balance), (d("55"), d("55")));

    let tx = tenant_tx(&mut client, council).await.unwrap();
    let held = ledger::get_entry(&tx, council, hold.id).await.unwrap();
    assert_eq!(
        (held.status, held.posted_by),
        (EntryStatus::Posted, Some(posting.id))
    );
    let voided = ledger::hold_in_tx(&tx, council, &transfer(holder, payee, "5"), later)
        .await
        .unwrap();
    let v = ledger::void_pending_in_tx(&tx, council, voided.id)
        .await
        .unwrap();
    assert_eq!(v.status, EntryStatus::Voided);
    let too_much = ledger::hold_in_tx(&tx, council, &transfer(holder, payee, "5"), later)
        .await
        .unwrap();
    let over = ledger::post_pending_in_tx(&tx, council, too_much.id, Some(d("5.01"))).await;
    assert!(matches!(over, Err(LedgerError::InvalidAmount)));
    let expiring = ledger::hold_in_tx(&tx, council, &transfer(holder, payee, "10"), later)
        .await
        .unwrap();
    let expired = ledger::expire_due_holds_in_tx(&tx, council, later + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(expired, 2);
    let e = ledger::get_entry(&tx, council, expiring.id).await.unwrap();
    assert_eq!(e.status, EntryStatus::Expired);
    assert!(matches!(
        ledger::post_pending_in_tx(&tx, council, expiring.id, None).await,
        Err(LedgerError::NotPending)
    ));
    tx.commit().await.unwrap();
    let b = balances(&db.pool, council, holder).await;
    assert_eq!(
        (b.posted_balance, b.available_balance, b.pending_balance),
        (d("55"), d("55"), d("55"))
    );
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn reversals_mirror_the_original_once() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let payee = account(&db.pool, council, "payee", false).await;
    let release = ledger::post(&db.pool, council, &transfer(funding, holder, "80"))
        .await
        .unwrap();

    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let reversal = ledger::reverse_in_tx(
        &tx,
        council,
        release.id,
        "released twice",
        serde_json::json!({"requested_by": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(reversal.reverses, Some(release.id));
    assert_eq!(reversal.metadata["reason"], "released twice");
    for (orig, rev) in release.legs.iter().zip(&reversal.legs) {
        assert_eq!((orig.account_id, orig.amount), (rev.account_id, rev.amount));
        assert_eq!(orig.side.opposite(), rev.side);
    }
    let twice =
        ledger::reverse_in_tx(&tx, council, release.id, "again", serde_json::json!({})).await;
    assert!(matches!(twice, Err(LedgerError::AlreadyReversed)));
    tx.commit().await.unwrap();
    assert_eq!(
        balances(&db.pool, council, holder).await.posted_balance,
        Decimal::ZERO
    );

    // A hold: pending cannot be reversed; once posted, reversing it reverses its posting.
    fund(&db.pool, council, funding, holder, "20").await;
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let hold = ledger::hold_in_tx(
        &tx,
        council,
        &transfer(holder, payee, "20"),
        allot::clock::system_now() + Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(matches!(
        ledger::reverse_in_tx(&tx, council, hold.id, "no", serde_json::json!({})).await,
        Err(LedgerError::NotPosted)
    ));
    let posting = ledger::post_pending_in_tx(&tx, council, hold.id, None)
        .await
        .unwrap();
    let undone = ledger::reverse_in_tx(&tx, council, hold.id, "refund", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(undone.reverses, Some(posting.id));
    // Spent money cannot be taken back from a no_overdraft account by a reversal.
    let spend = ledger::post_in_tx(&tx, council, &transfer(holder, payee, "20"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let release2 = ledger::get_entry(&tx, council, spend.id).await.unwrap();
    assert_eq!(release2.status, EntryStatus::Posted);
    drop(tx);
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn closed_periods_refuse_back_dated_entries() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    for (date, amount) in [
        (day(2025, 3, 31), "10"),
        (day(2025, 4, 1), "20"),
        (day(2025, 4, 2), "30"),
    ] {
        ledger::post_in_tx(
            &tx,
            council,
            &entry_on(
                date,
                &[
                    (funding, Side::Debit, amount),
                    (holder, Side::Credit, amount),
                ],
            ),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        ledger::close_period(&tx, council, day(2025, 4, 1))
            .await
            .unwrap(),
        day(2025, 4, 1)
    );
    // Closing an earlier day does not reopen anything.
    assert_eq!(
        ledger::close_period(&tx, council, day(2025, 1, 1))
            .await
            .unwrap(),
        day(2025, 4, 1)
    );
    tx.commit().await.unwrap();
    let back_dated = entry_on(
        day(2025, 4, 1),
        &[(funding, Side::Debit, "1"), (holder, Side::Credit, "1")],
    );
    assert!(matches!(
        ledger::post(&db.pool, council, &back_dated).await,
        Err(LedgerError::PeriodClosed)
    ));
    let current = entry_on(
        day(2025, 4, 2),
        &[(funding, Side::Debit, "1"), (holder, Side::Credit, "1")],
    );
    ledger::post(&db.pool, council, &current).await.unwrap();

    let tx = tenant_tx(&mut client, council).await.unwrap();
    assert_eq!(
        ledger::balance_at(&tx, council, holder, day(2025, 3, 30))
            .await
            .unwrap(),
        d("0")
    );
    assert_eq!(
        ledger::balance_at(&tx, council, holder, day(2025, 4, 1))
            .await
            .unwrap(),
        d("30")
    );
    assert_eq!(
        ledger::balance_at(&tx, council, holder, day(2025, 4, 2))
            .await
            .unwrap(),
        d("61")
    );
    assert_eq!(
        ledger::balance_at(&tx, council, funding, day(2025, 4, 2))
            .await
            .unwrap(),
        d("-61")
    );
    assert!(matches!(
        ledger::balance_at(&tx, council, uuid::Uuid::new_v4(), day(2025, 4, 2)).await,
        Err(LedgerError::AccountNotFound)
    ));
}

#[tokio::test]
async fn statements_page_with_running_balances() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    // Recorded out of date order: statements follow the effective date.
    for (dd, amount) in [(5, "5"), (1, "1"), (3, "3"), (2, "2"), (4, "4")] {
        ledger::post_in_tx(
            &tx,
            council,
            &entry_on(
                day(2025, 4, dd),
                &[
                    (funding, Side::Debit, amount),
                    (holder, Side::Credit, amount),
                ],
            ),
        )
        .await
        .unwrap();
    }
    ledger::post_in_tx(
        &tx,
        council,
        &entry_on(
            day(2025, 4, 6),
            &[(holder, Side::Debit, "2.5"), (funding, Side::Credit, "2.5")],
        ),
    )
    .await
    .unwrap();
    let page = ledger::statement(&tx, council, holder, None, None, None, 4)
        .await
        .unwrap();
    let balances: Vec<String> = page.lines.iter().map(|l| l.balance.to_string()).collect();
    assert_eq!(balances, ["1.00", "3.00", "6.00", "10.00"]);
    assert_eq!(page.opening_balance, d("0"));
    let cursor = page.next_cursor.clone().unwrap();
    let rest = ledger::statement(&tx, council, holder, None, None, Some(&cursor), 4)
        .await
        .unwrap();
    assert_eq!(rest.opening_balance, d("10"));
    let balances: Vec<String> = rest.lines.iter().map(|l| l.balance.to_string()).collect();
    assert_eq!(balances, ["15.00", "12.50"]);
    assert_eq!(rest.lines[1].side, Side::Debit);
    assert_eq!(rest.next_cursor, None);

    let window = ledger::statement(
        &tx,
        council,
        holder,
        Some(day(2025, 4, 3)),
        Some(day(2025, 4, 4)),
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(window.opening_balance, d("3"));
    assert_eq!(window.lines.len(), 2);
    assert!(matches!(
        ledger::statement(&tx, council, holder, None, None, Some("garbage"), 10).await,
        Err(LedgerError::Invalid {
            field: "cursor",
            ..
        })
    ));
    assert!(matches!(
        ledger::statement(&tx, council, uuid::Uuid::new_v4(), None, None, None, 10).await,
        Err(LedgerError::AccountNotFound)
    ));
}

#[tokio::test]
async fn batches_post_together_or_not_at_all() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let mut holders = Vec::new();
    for _ in 0..20 {
        holders.push(account(&db.pool, council, "direct_payment", true).await);
    }
    let mut entries: Vec<_> = holders
        .iter()
        .map(|h| transfer(funding, *h, "10"))
        .collect();
    let mut client = db.pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let ids = ledger::post_batch_in_tx(&tx, council, &entries)
        .await
        .unwrap();
    assert_eq!(ids.len(), 20);
    tx.commit().await.unwrap();
    // The last entry of this batch overdraws: nothing of it is written.
    entries = holders.iter().map(|h| transfer(*h, funding, "4")).collect();
    entries.push(transfer(holders[0], funding, "6.01"));
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let refused = ledger::post_batch_in_tx(&tx, council, &entries).await;
    assert!(
        matches!(refused, Err(LedgerError::InsufficientFunds { account_id }) if account_id == holders[0])
    );
    drop(tx);
    assert_eq!(
        balances(&db.pool, council, holders[0]).await.posted_balance,
        d("10")
    );
    assert_eq!(
        balances(&db.pool, council, funding).await.posted_balance,
        d("-200")
    );
    drop(client);
    assert_invariants(&db.pool, council).await;
}

#[tokio::test]
async fn idempotency_keys_replay_or_refuse() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let caller = Uuid::new_v4();
    let claim = |key: &str, op: &str, body: &str| {
        Claim::new(
            key,
            op,
            caller,
            "/test",
            &serde_json::json!({ "body": body }),
        )
    };
    let (a, b) = (
        claim("k1", "test", "one").unwrap(),
        claim("k1", "test", "two").unwrap(),
    );
    let mut client = db.pool.get().await.unwrap();

    // A rolled-back attempt leaves the key free.
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let first = claims::claim(&tx, council, std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(matches!(first.as_slice(), [Ok(Claimed::Fresh)]));
    drop(tx);
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let again = claims::claim(&tx, council, std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(matches!(again.as_slice(), [Ok(Claimed::Fresh)]));
    claims::finish(&tx, council, &[(&a, serde_json::json!({"id": 1}))])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Done: the stored outcome again; the same key with another request is refused.
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let replay = claims::claim(&tx, council, &[a.clone(), b.clone()])
        .await
        .unwrap();
    assert!(
        matches!(&replay[0], Ok(Claimed::Done(v)) if *v == serde_json::json!({"id": 1})),
        "{replay:?}"
    );
    assert!(
        matches!(
            &replay[1],
            Err(AppError::Conflict {
                code: "idempotency_key_reused",
                ..
            })
        ),
        "{replay:?}"
    );
    drop(tx);
    // Operations (scopes) are separate; malformed keys are refused before any claim.
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let other = claim("k1", "other", "two").unwrap();
    let separate = claims::claim(&tx, council, &[other]).await.unwrap();
    assert!(matches!(separate.as_slice(), [Ok(Claimed::Fresh)]));
    assert!(matches!(
        claim("bad key", "test", "two"),
        Err(AppError::Invalid { .. })
    ));
}

#[tokio::test]
async fn the_app_role_cannot_edit_posted_data_or_see_other_councils() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let other = crate::ledger_support::council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    fund(&db.pool, council, funding, holder, "5").await;
    let mut client = db.pool.get().await.unwrap();
    for sql in [
        "UPDATE ledger_legs SET amount = 1",
        "DELETE FROM ledger_legs",
        "UPDATE ledger_entries SET effective_date = '2020-01-01'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_accounts SET no_overdraft = false",
        "DELETE FROM ledger_hold_resolutions",
        "UPDATE ledger_chain SET hash = hash",
    ] {
        let tx = tenant_tx(&mut client, council).await.unwrap();
        let err = tx.batch_execute(sql).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}"
        );
    }
    let tx = tenant_tx(&mut client, other).await.unwrap();
    assert!(matches!(
        ledger::balances(&tx, other, holder).await,
        Err(LedgerError::AccountNotFound)
    ));
    let seen: i64 = tx
        .query_one("SELECT count(*) FROM ledger_legs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
}

#[tokio::test]
async fn a_backlog_of_due_holds_expires_batch_by_batch() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let council = council(pool).await;
    let funding = account(pool, council, "council_funding", false).await;
    let holder = account(pool, council, "direct_payment", true).await;
    let payee = account(pool, council, "payee", false).await;
    fund(pool, council, funding, holder, "1000").await;
    let soon = allot::clock::system_now() + Duration::hours(1);
    // More than one batch (500) of holds, all due at once.
    let mut client = pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    for _ in 0..501 {
        ledger::hold_in_tx(&tx, council, &transfer(holder, payee, "1"), soon)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    drop(client);
    assert_eq!(
        balances(pool, council, holder).await.available_balance,
        d("499")
    );
    let expired = ledger::expire_due_holds(pool, council, soon + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(expired, 501);
    assert_eq!(
        balances(pool, council, holder).await.available_balance,
        d("1000")
    );
    assert_invariants(pool, council).await;
    // Nothing left to do.
    let again = ledger::expire_due_holds(pool, council, soon + Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!(again, 0);
}
