//! Property test: random sequences of ledger operations run against PostgreSQL and against a
//! simple in-memory model; after every operation they must agree, refused operations must change
//! nothing, and at the end the invariants recomputed from the rows must hold.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use uuid::Uuid;

use allot::commands::claims::{self, Claimed};
use allot::commands::Claim;
use allot::db::tenant_tx;
use allot::db::testing::TestDb;
use allot::error::AppError;
use allot::ledger::{self, EntryStatus, LedgerError, NewEntry, NewLeg, Side};

use crate::ledger_support::*;

/// Account 0 is the council's funding (may go negative); 1–3 are holders (`no_overdraft`).
const ACCOUNTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Post {
        from: usize,
        to: usize,
        cents: i64,
    },
    Split {
        from: usize,
        to: (usize, usize),
        cents: (i64, i64),
    },
    Hold {
        from: usize,
        to: usize,
        cents: i64,
        expires_in: i64,
    },
    PostHold {
        hold: Index,
        percent: Option<i64>,
    },
    Void {
        hold: Index,
    },
    Expire {
        at: i64,
    },
    Reverse {
        entry: Index,
    },
    Idempotent {
        key: usize,
        from: usize,
        to: usize,
        cents: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let acc = 0..ACCOUNTS;
    let cents = 1i64..8_000;
    prop_oneof![
        3 => (acc.clone(), acc.clone(), cents.clone()).prop_map(|(from, to, cents)| Op::Post { from, to, cents }),
        1 => (acc.clone(), (acc.clone(), acc.clone()), (cents.clone(), cents.clone()))
            .prop_map(|(from, to, cents)| Op::Split { from, to, cents }),
        2 => (acc.clone(), acc.clone(), cents.clone(), 1i64..5)
            .prop_map(|(from, to, cents, expires_in)| Op::Hold { from, to, cents, expires_in }),
        2 => (any::<Index>(), prop::option::of(1i64..=100)).prop_map(|(hold, percent)| Op::PostHold { hold, percent }),
        2 => any::<Index>().prop_map(|hold| Op::Void { hold }),
        1 => (0i64..6).prop_map(|at| Op::Expire { at }),
        2 => any::<Index>().prop_map(|entry| Op::Reverse { entry }),
        2 => (0usize..3, acc.clone(), acc, 1i64..5_000)
            .prop_map(|(key, from, to, cents)| Op::Idempotent { key, from, to, cents }),
    ]
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Totals {
    pd: Decimal,
    pc: Decimal,
    ed: Decimal,
    ec: Decimal,
}

#[derive(Debug, Clone)]
struct Hold {
    id: Uuid,
    legs: Vec<(usize, Side, Decimal)>,
    expires_in: i64,
    status: EntryStatus,
}

#[derive(Debug, Clone)]
struct Posted {
    id: Uuid,
    legs: Vec<(usize, Side, Decimal)>,
    reversed: bool,
}

/// The model: what the ledger should hold.
#[derive(Debug, Clone, Default)]
struct Model {
    totals: [Totals; ACCOUNTS],
    holds: Vec<Hold>,
    posted: Vec<Posted>,
    keys: HashMap<usize, ((usize, usize, i64), Uuid)>,
    entries: i64,
}

impl Model {
    /// Applies legs (posted or pending) if no holder account ends below zero counting holds.
    fn try_apply(&mut self, legs: &[(usize, Side, Decimal)], pending: bool) -> bool {
        let mut next = self.totals;
        for (acc, side, amount) in legs {
            let t = &mut next[*acc];
            match (side, pending) {
                (Side::Debit, false) => t.pd += amount,
                (Side::Credit, false) => t.pc += amount,
                (Side::Debit, true) => t.ed += amount,
                (Side::Credit, true) => t.ec += amount,
            }
        }
        let ok = (1..ACCOUNTS).all(|a| next[a].pd + next[a].ed <= next[a].pc);
        if ok {
            self.totals = next;
        }
        ok
    }

    fn release(&mut self, legs: &[(usize, Side, Decimal)]) {
        for (acc, side, amount) in legs {
            match side {
                Side::Debit => self.totals[*acc].ed -= amount,
                Side::Credit => self.totals[*acc].ec -= amount,
            }
        }
    }
}

fn new_entry(ids: &[Uuid], legs: &[(usize, Side, Decimal)]) -> NewEntry {
    NewEntry {
        effective_date: day(2025, 4, 1),
        description: "model".into(),
        legs: legs
            .iter()
            .map(|(acc, side, amount)| NewLeg {
                account_id: ids[*acc],
                side: *side,
                amount: *amount,
            })
            .collect(),
        metadata: serde_json::json!({"decision": "allowed"}),
        reverses: None,
    }
}

fn transfer_legs(from: usize, to: usize, cents: i64) -> Vec<(usize, Side, Decimal)> {
    vec![
        (from, Side::Debit, money(cents)),
        (to, Side::Credit, money(cents)),
    ]
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}

fn refused(e: &LedgerError) -> bool {
    matches!(e, LedgerError::InsufficientFunds { .. })
}

async fn run_case(db: &TestDb, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let pool = &db.pool;
    let council = council(pool).await;
    let mut ids = vec![account(pool, council, "council_funding", false).await];
    for _ in 1..ACCOUNTS {
        ids.push(account(pool, council, "direct_payment", true).await);
    }
    let base: DateTime<Utc> = allot::clock::system_now() + Duration::days(1);
    let mut model = Model::default();
    // Each holder starts with 150.00 released to it, so most operations can succeed.
    for holder in 1..ACCOUNTS {
        let legs = transfer_legs(0, holder, 15_000);
        let e = ledger::post(pool, council, &new_entry(&ids, &legs))
            .await
            .expect("funding");
        assert!(model.try_apply(&legs, false));
        model.entries += 1;
        model.posted.push(Posted {
            id: e.id,
            legs,
            reversed: false,
        });
    }
    let mut client = pool.get().await.expect("client");
    for (step, op) in ops.into_iter().enumerate() {
        let tx = tenant_tx(&mut client, council).await.expect("tx");
        let before = model.clone();
        // Each arm: Ok(commit?) after checking the outcome against the model.
        let commit = match &op {
            Op::Post { from, to, cents } => {
                let legs = transfer_legs(*from, *to, *cents);
                let result = ledger::post_in_tx(&tx, council, &new_entry(&ids, &legs)).await;
                let expect_ok = model.try_apply(&legs, false);
                match result {
                    Ok(e) if expect_ok => {
                        model.entries += 1;
                        model.posted.push(Posted {
                            id: e.id,
                            legs,
                            reversed: false,
                        });
                        true
                    }
                    Err(e) if !expect_ok && refused(&e) => false,
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?}: {other:?}, model ok={expect_ok}"
                        )))
                    }
                }
            }
            Op::Split { from, to, cents } => {
                let legs = vec![
                    (*from, Side::Debit, money(cents.0 + cents.1)),
                    (to.0, Side::Credit, money(cents.0)),
                    (to.1, Side::Credit, money(cents.1)),
                ];
                let result = ledger::post_in_tx(&tx, council, &new_entry(&ids, &legs)).await;
                let expect_ok = model.try_apply(&legs, false);
                match result {
                    Ok(e) if expect_ok => {
                        model.entries += 1;
                        model.posted.push(Posted {
                            id: e.id,
                            legs,
                            reversed: false,
                        });
                        true
                    }
                    Err(e) if !expect_ok && refused(&e) => false,
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?}: {other:?}"
                        )))
                    }
                }
            }
            Op::Hold {
                from,
                to,
                cents,
                expires_in,
            } => {
                let legs = transfer_legs(*from, *to, *cents);
                let at = base + Duration::hours(*expires_in);
                let result = ledger::hold_in_tx(&tx, council, &new_entry(&ids, &legs), at).await;
                let expect_ok = model.try_apply(&legs, true);
                match result {
                    Ok(e) if expect_ok => {
                        model.entries += 1;
                        model.holds.push(Hold {
                            id: e.id,
                            legs,
                            expires_in: *expires_in,
                            status: EntryStatus::Pending,
                        });
                        true
                    }
                    Err(e) if !expect_ok && refused(&e) => false,
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?}: {other:?}"
                        )))
                    }
                }
            }
            Op::PostHold { hold, percent } => {
                if model.holds.is_empty() {
                    continue;
                }
                let hold = &hold.index(model.holds.len());
                let h = model.holds[*hold].clone();
                let full = h.legs[0].2;
                let amount = percent.map(|p| {
                    (full * Decimal::new(p, 2))
                        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
                        .max(Decimal::new(1, 2))
                });
                let result = ledger::post_pending_in_tx(&tx, council, h.id, amount).await;
                match (result, h.status) {
                    (Ok(posting), EntryStatus::Pending) => {
                        ensure!(posting.hold_id == Some(h.id), "posting names its hold");
                        let amount = amount.unwrap_or(full);
                        let legs: Vec<_> =
                            h.legs.iter().map(|(a, s, _)| (*a, *s, amount)).collect();
                        model.release(&h.legs);
                        ensure!(
                            model.try_apply(&legs, false),
                            "posting a hold never overdraws"
                        );
                        model.holds[*hold].status = EntryStatus::Posted;
                        model.entries += 1;
                        model.posted.push(Posted {
                            id: posting.id,
                            legs,
                            reversed: false,
                        });
                        true
                    }
                    (Err(LedgerError::NotPending), status) if status != EntryStatus::Pending => {
                        false
                    }
                    (other, status) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?} ({status:?}): {other:?}"
                        )))
                    }
                }
            }
            Op::Void { hold } => {
                if model.holds.is_empty() {
                    continue;
                }
                let hold = &hold.index(model.holds.len());
                let h = model.holds[*hold].clone();
                match (
                    ledger::void_pending_in_tx(&tx, council, h.id).await,
                    h.status,
                ) {
                    (Ok(v), EntryStatus::Pending) => {
                        ensure!(v.status == EntryStatus::Voided, "voided");
                        model.release(&h.legs);
                        model.holds[*hold].status = EntryStatus::Voided;
                        true
                    }
                    (Err(LedgerError::NotPending), status) if status != EntryStatus::Pending => {
                        false
                    }
                    (other, status) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?} ({status:?}): {other:?}"
                        )))
                    }
                }
            }
            Op::Expire { at } => {
                let expired =
                    ledger::expire_due_holds_in_tx(&tx, council, base + Duration::hours(*at))
                        .await
                        .map_err(|e| TestCaseError::fail(format!("expire: {e:?}")))?;
                let mut expected = 0;
                for i in 0..model.holds.len() {
                    if model.holds[i].status == EntryStatus::Pending
                        && model.holds[i].expires_in <= *at
                    {
                        let legs = model.holds[i].legs.clone();
                        model.release(&legs);
                        model.holds[i].status = EntryStatus::Expired;
                        expected += 1;
                    }
                }
                ensure!(
                    expired == expected,
                    "step {step}: expired {expired}, model {expected}"
                );
                true
            }
            Op::Reverse { entry } => {
                if model.posted.is_empty() {
                    continue;
                }
                let entry = &entry.index(model.posted.len());
                let p = model.posted[*entry].clone();
                let result = ledger::reverse_in_tx(
                    &tx,
                    council,
                    p.id,
                    "model reversal",
                    serde_json::json!({}),
                )
                .await;
                let mirrored: Vec<_> = p
                    .legs
                    .iter()
                    .map(|(a, s, m)| (*a, s.opposite(), *m))
                    .collect();
                match result {
                    Err(LedgerError::AlreadyReversed) if p.reversed => false,
                    Ok(r) if !p.reversed && model.try_apply(&mirrored, false) => {
                        model.posted[*entry].reversed = true;
                        model.entries += 1;
                        model.posted.push(Posted {
                            id: r.id,
                            legs: mirrored,
                            reversed: false,
                        });
                        true
                    }
                    Err(e)
                        if !p.reversed
                            && refused(&e)
                            && !model.clone().try_apply(&mirrored, false) =>
                    {
                        false
                    }
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?}: {other:?}"
                        )))
                    }
                }
            }
            Op::Idempotent {
                key,
                from,
                to,
                cents,
            } => {
                let request = (*from, *to, *cents);
                let claim = Claim::new(
                    &format!("key-{key}"),
                    "model",
                    Uuid::nil(),
                    "/model",
                    &format!("{request:?}"),
                )
                .map_err(|e| TestCaseError::fail(format!("claim: {e:?}")))?;
                let begun = match claims::claim(&tx, council, std::slice::from_ref(&claim)).await {
                    Ok(mut answers) => answers.remove(0),
                    Err(e) => Err(e),
                };
                match (begun, model.keys.get(key).copied()) {
                    (Ok(Claimed::Done(body)), Some((stored, id))) if stored == request => {
                        ensure!(
                            body == serde_json::json!({"id": id}),
                            "replayed the first reply"
                        );
                        false
                    }
                    (
                        Err(AppError::Conflict {
                            code: "idempotency_key_reused",
                            ..
                        }),
                        Some((stored, _)),
                    ) if stored != request => false,
                    (Ok(Claimed::Fresh), None) => {
                        let legs = transfer_legs(*from, *to, *cents);
                        let expect_ok = model.try_apply(&legs, false);
                        match ledger::post_in_tx(&tx, council, &new_entry(&ids, &legs)).await {
                            Ok(e) if expect_ok => {
                                claims::finish(
                                    &tx,
                                    council,
                                    &[(&claim, serde_json::json!({"id": e.id}))],
                                )
                                .await
                                .map_err(|e| TestCaseError::fail(format!("finish: {e:?}")))?;
                                model.entries += 1;
                                model.keys.insert(*key, (request, e.id));
                                model.posted.push(Posted {
                                    id: e.id,
                                    legs,
                                    reversed: false,
                                });
                                true
                            }
                            // Refused: rolled back, so the key stays free.
                            Err(e) if !expect_ok && refused(&e) => false,
                            other => {
                                return Err(TestCaseError::fail(format!(
                                    "step {step} {op:?}: {other:?}"
                                )))
                            }
                        }
                    }
                    (other, stored) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step} {op:?}: {other:?}, stored {stored:?}"
                        )))
                    }
                }
            }
        };
        if commit {
            tx.commit().await.expect("commit");
        } else {
            drop(tx);
            let changed = model.totals != before.totals || model.entries != before.entries;
            ensure!(
                !changed || matches!(op, Op::Expire { .. }),
                "step {step}: a refused operation changed the model"
            );
        }
        // Model and PostgreSQL agree after every step.
        let tx = tenant_tx(&mut client, council).await.expect("tx");
        for (i, id) in ids.iter().enumerate() {
            let b = ledger::balances(&tx, council, *id).await.expect("balances");
            let t = model.totals[i];
            let expected = (t.pc - t.pd, t.pc + t.ec - t.pd - t.ed, t.pc - t.pd - t.ed);
            ensure!(
                (b.posted_balance, b.pending_balance, b.available_balance) == expected,
                "step {step} {op:?}: account {i} is {b:?}, model {expected:?}"
            );
            if i > 0 {
                ensure!(
                    b.available_balance >= Decimal::ZERO,
                    "holder {i} below zero counting holds"
                );
            }
        }
        let entries: i64 = tx
            .query_one("SELECT count(*) FROM ledger_entries", &[])
            .await
            .expect("count")
            .get(0);
        ensure!(
            entries == model.entries,
            "step {step} {op:?}: {entries} entries, model {}",
            model.entries
        );
    }
    let tx = tenant_tx(&mut client, council).await.expect("tx");
    for h in &model.holds {
        let stored = ledger::get_entry(&tx, council, h.id).await.expect("hold");
        ensure!(
            stored.status == h.status,
            "hold {}: {:?}, model {:?}",
            h.id,
            stored.status,
            h.status
        );
    }
    drop(tx);
    drop(client);
    assert_invariants(pool, council).await;
    Ok(())
}

#[test]
fn ledger_agrees_with_a_model_over_random_operations() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::new());
    // 24 cases in the ordinary run; `just fuzz` sets PROPTEST_CASES for a long one.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(op(), 1..=30), |ops| {
        runtime.block_on(run_case(&db, ops))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
