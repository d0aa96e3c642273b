//! Real races on a real PostgreSQL: many tokio tasks on a multi-threaded runtime, each with its
//! own pooled connection, contending for the same rows; then the invariants.

use std::sync::Arc;

use chrono::Duration;
use rust_decimal::Decimal;
use uuid::Uuid;

use allot::commands::claims::{self, Claimed};
use allot::commands::Claim;
use allot::db::testing::TestDb;
use allot::db::{tenant_tx, DbPool};
use allot::error::AppError;
use allot::ledger::{self, LedgerError};

use crate::ledger_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hot_no_overdraft_account_never_goes_below_zero() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let payee = account(&db.pool, council, "payee", false).await;
    fund(&db.pool, council, funding, holder, "100").await;

    // 60 spends of 3.00 race for 100.00 while 10 top-ups of 1.00 arrive: at most 36 fit (110.00),
    // at least 33 (the 100.00 alone); how many beyond 33 depends on when the top-ups land, since a
    // spend refused before a top-up is not tried again.
    let mut tasks = Vec::new();
    for i in 0..70 {
        let pool = db.pool.clone();
        tasks.push(tokio::spawn(async move {
            let entry = if i % 7 == 6 {
                transfer(funding, holder, "1")
            } else {
                transfer(holder, payee, "3")
            };
            (i % 7 == 6, ledger::post(&pool, council, &entry).await)
        }));
    }
    let (mut spent, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (true, result) => {
                result.expect("top-ups always succeed");
            }
            (false, Ok(_)) => spent += 1,
            (false, Err(LedgerError::InsufficientFunds { account_id })) => {
                assert_eq!(account_id, holder);
                refused += 1;
            }
            (false, Err(e)) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(spent + refused, 60);
    assert!((33..=36).contains(&spent), "{spent} spends posted");
    let b = balances(&db.pool, council, holder).await;
    // Every posted spend and every top-up is in the balance, and it never went below zero.
    assert_eq!(b.posted_balance, Decimal::from(110 - 3 * spent));
    assert!(b.available_balance >= Decimal::ZERO);
    assert_invariants(&db.pool, council).await;
}

/// One way to resolve a hold, run in a transaction of its own; Ok(true) if this call resolved it.
async fn resolve(
    pool: &DbPool,
    council: Uuid,
    hold: Uuid,
    how: usize,
) -> Result<bool, LedgerError> {
    let mut client = pool.get().await.expect("client");
    let tx = tenant_tx(&mut client, council).await?;
    let resolved = match how % 4 {
        0 => ledger::post_pending_in_tx(&tx, council, hold, None)
            .await
            .map(|_| true),
        1 => ledger::post_pending_in_tx(&tx, council, hold, Some(d("4.50")))
            .await
            .map(|_| true),
        2 => ledger::void_pending_in_tx(&tx, council, hold)
            .await
            .map(|_| true),
        _ => ledger::expire_due_holds_in_tx(
            &tx,
            council,
            allot::clock::system_now() + Duration::days(1),
        )
        .await
        .map(|n| n > 0),
    }?;
    tx.commit().await?;
    Ok(resolved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hold_resolved_concurrently_is_resolved_exactly_once() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let payee = account(&db.pool, council, "payee", false).await;
    fund(&db.pool, council, funding, holder, "100").await;
    for round in 0..6 {
        let mut client = db.pool.get().await.unwrap();
        let tx = tenant_tx(&mut client, council).await.unwrap();
        let hold = ledger::hold_in_tx(
            &tx,
            council,
            &transfer(holder, payee, "9"),
            allot::clock::system_now() + Duration::hours(1),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        drop(client);
        let mut tasks = Vec::new();
        for how in 0..16 {
            let pool = db.pool.clone();
            tasks.push(tokio::spawn(async move {
                resolve(&pool, council, hold.id, how + round).await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(true) => winners += 1,
                Ok(false) | Err(LedgerError::NotPending) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        assert_invariants(&db.pool, council).await;
    }
    let b = balances(&db.pool, council, holder).await;
    assert_eq!(
        b.available_balance, b.posted_balance,
        "no hold left pending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entry_reversed_concurrently_is_reversed_exactly_once() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let release = ledger::post(&db.pool, council, &transfer(funding, holder, "40"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let pool = db.pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = pool.get().await.expect("client");
            let tx = tenant_tx(&mut client, council).await?;
            let reversal =
                ledger::reverse_in_tx(&tx, council, release.id, "race", serde_json::json!({}))
                    .await?;
            tx.commit().await?;
            Ok::<_, LedgerError>(reversal)
        }));
    }
    let mut reversals = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(reversal) => reversals.push(reversal),
            Err(LedgerError::AlreadyReversed) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(reversals.len(), 1);
    assert_eq!(
        balances(&db.pool, council, holder).await.posted_balance,
        Decimal::ZERO
    );
    assert_invariants(&db.pool, council).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_idempotency_key_concurrently_has_one_effect() {
    let db = TestDb::new().await;
    let council = council(&db.pool).await;
    let funding = account(&db.pool, council, "council_funding", false).await;
    let holder = account(&db.pool, council, "direct_payment", true).await;
    let claim = Arc::new(
        Claim::new(
            "key-1",
            "test release",
            Uuid::nil(),
            "/release",
            &serde_json::json!({"amount": "25.00"}),
        )
        .unwrap(),
    );
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (pool, claim) = (db.pool.clone(), claim.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = pool.get().await.expect("client");
            let tx = tenant_tx(&mut client, council).await?;
            let mut claimed = claims::claim(&tx, council, std::slice::from_ref(&*claim)).await?;
            match claimed.remove(0)? {
                Claimed::Done(body) => Ok::<_, AppError>((body, true)),
                Claimed::Fresh => {
                    let entry =
                        ledger::post_in_tx(&tx, council, &transfer(funding, holder, "25")).await?;
                    let body = serde_json::json!({"id": entry.id});
                    claims::finish(&tx, council, &[(&*claim, body.clone())]).await?;
                    tx.commit().await?;
                    Ok((body, false))
                }
            }
        }));
    }
    let mut bodies = Vec::new();
    let mut fresh = 0;
    for task in tasks {
        let (body, replayed) = task.await.unwrap().expect("no errors");
        fresh += usize::from(!replayed);
        bodies.push(body);
    }
    assert_eq!(fresh, 1);
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every reply is the first reply"
    );
    assert_eq!(
        balances(&db.pool, council, holder).await.posted_balance,
        d("25")
    );
    assert_invariants(&db.pool, council).await;
}
