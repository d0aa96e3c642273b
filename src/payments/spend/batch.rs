//! Deciding and recording payment requests, any number at once, in the caller's transaction:
//! resolve every request (one query), lock every account involved in sorted order (one
//! statement), load every budget's facts (one query), decide each request in arrival order
//! against the running balances and spending (pure), then write every entry (one statement) and
//! every payment row (one statement). A request that fails on its own (bad input, not visible, a
//! closed period) gets its error and never fails the others.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::decide::{no_account_refusal, spend_facts, Decider};
use super::facts::{self, Resolved};
use super::input::{check_input, spend_request, NewPayment};
use super::outcome::{PaymentOutcome, PaymentStatus};
use super::store::{insert_card_authorizations, insert_payments, open_paid_out, Record};
use crate::auth::Actor;
use crate::clock::london_date;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, LockedSet, Plan};
use crate::rules::Decision;

/// One payment request and who makes it.
#[derive(Debug, Clone)]
pub struct Request {
    pub actor: Actor,
    pub new: NewPayment,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// Decides without moving money or recording anything: what would happen now (the admin form's
/// check before sending).
pub async fn check(
    tx: &Tx<'_>,
    actor: &Actor,
    new: &NewPayment,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    check_input(new)?;
    let today = london_date(now);
    let resolved = facts::resolve(tx, actor.council_id, &[(actor, new)])
        .await?
        .pop()
        .ok_or_else(|| internal("a request was not resolved"))??;
    let available = match resolved.account_id {
        Some(id) => {
            ledger::balances(tx, actor.council_id, id)
                .await?
                .available_balance
        }
        None => Decimal::ZERO,
    };
    let (budgets, council) =
        facts::budgets(tx, actor.council_id, &[resolved.budget_id], today).await?;
    let budget = budgets
        .get(&resolved.budget_id)
        .ok_or_else(|| internal("budget facts missing"))?;
    let facts = spend_facts(
        &resolved,
        budget,
        &budget.stays,
        &council,
        available,
        new,
        today,
    );
    Ok(no_account_refusal(
        &resolved,
        crate::rules::decide(&facts, &spend_request(actor, new)),
    ))
}

/// Decides and records every request; one result per request, in order. An `Err` of the whole
/// call is a failure of the batch (the database), not of one request.
pub async fn decide_and_record(
    tx: &Tx<'_>,
    council_id: Uuid,
    requests: &[&Request],
    now: DateTime<Utc>,
) -> AppResult<Vec<AppResult<PaymentOutcome>>> {
    let mut results: Vec<Option<AppResult<PaymentOutcome>>> =
        requests.iter().map(|_| None).collect();
    let mut resolved = resolve_all(tx, council_id, requests, &mut results).await?;
    let plan = lock_all(tx, council_id, &mut resolved).await?;
    let budget_ids: Vec<Uuid> = resolved.iter().map(|(_, r)| r.budget_id).collect();
    let mut records: Vec<(usize, Record)> = Vec::with_capacity(resolved.len());
    let plan = if budget_ids.is_empty() {
        plan
    } else {
        let today = london_date(now);
        let (budgets, council) = facts::budgets(tx, council_id, &budget_ids, today).await?;
        let invoice_ids: Vec<Uuid> = resolved
            .iter()
            .filter_map(|(i, _)| requests[*i].new.invoice_id)
            .collect();
        let invoices = facts::invoices(tx, council_id, &invoice_ids).await?;
        // Read under the accounts' locks (cards of one account queue on its lock).
        let cash_cards: Vec<Uuid> = resolved
            .iter()
            .filter_map(|(i, _)| requests[*i].new.card.as_ref())
            .filter(|card| card.cash_daily_limit.is_some())
            .map(|card| card.card_id)
            .collect();
        let card_cash = facts::card_cash_today(tx, council_id, &cash_cards, today).await?;
        let mut decider = Decider::new(plan, budgets, council, invoices, card_cash, now);
        for (i, r) in resolved {
            match decider.decide(&requests[i].actor, &requests[i].new, &r)? {
                Ok(record) => records.push((i, record)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        decider.into_plan()
    };
    if !plan.is_empty() {
        plan.write(tx, council_id).await?;
    }
    insert_payments(tx, council_id, &records).await?;
    insert_card_authorizations(tx, council_id, &records).await?;
    for (i, record) in records {
        let payment = record.payment;
        results[i] = Some(Ok(match payment.status {
            PaymentStatus::Posted => PaymentOutcome::Posted(payment),
            PaymentStatus::PendingApproval => PaymentOutcome::Held(payment),
            PaymentStatus::Authorized => PaymentOutcome::Authorized(payment),
            _ => PaymentOutcome::Refused {
                payment_id: payment.id,
                refusals: payment.decision.refusals().to_vec(),
            },
        }));
    }
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| internal("a request was left undecided")))
        .collect()
}

/// Checks every request's input and resolves the rest in one query; failures go to `results`.
async fn resolve_all(
    tx: &Tx<'_>,
    council_id: Uuid,
    requests: &[&Request],
    results: &mut [Option<AppResult<PaymentOutcome>>],
) -> AppResult<Vec<(usize, Resolved)>> {
    let mut live = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        if request.actor.council_id != council_id {
            results[i] = Some(Err(AppError::NotFound));
        } else {
            match check_input(&request.new) {
                Ok(()) => live.push(i),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
    }
    let pairs: Vec<(&Actor, &NewPayment)> = live
        .iter()
        .map(|&i| (&requests[i].actor, &requests[i].new))
        .collect();
    let answers = if pairs.is_empty() {
        Vec::new()
    } else {
        facts::resolve(tx, council_id, &pairs).await?
    };
    let mut resolved = Vec::with_capacity(answers.len());
    for (&i, answer) in live.iter().zip(answers) {
        match answer {
            Ok(r) => resolved.push((i, r)),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    Ok(resolved)
}

/// Locks every account of the batch once, in id order (concurrent batches touching the same
/// accounts queue here, and each decides on the balances the one before left), opening the
/// "paid out" accounts that first payments need.
async fn lock_all(
    tx: &Tx<'_>,
    council_id: Uuid,
    resolved: &mut [(usize, Resolved)],
) -> AppResult<Plan> {
    let mut lock_ids: Vec<Uuid> = Vec::new();
    for (_, r) in resolved.iter() {
        lock_ids.extend(r.account_id);
        lock_ids.extend(r.paid_out_id);
    }
    let mut plan = if lock_ids.is_empty() {
        Plan::new(&LockedSet {
            accounts: HashMap::new(),
            closed_through: None,
        })
    } else {
        Plan::new(&ledger::lock_accounts(tx, council_id, &lock_ids).await?)
    };
    let missing: BTreeSet<Uuid> = resolved
        .iter()
        .filter(|(_, r)| r.paid_out_id.is_none())
        .filter_map(|(_, r)| r.account_id)
        .collect();
    if !missing.is_empty() {
        let opened = open_paid_out(tx, council_id, &missing).await?;
        let ids: Vec<Uuid> = opened.values().copied().collect();
        plan.extend(&ledger::lock_accounts(tx, council_id, &ids).await?);
        for (_, r) in resolved.iter_mut() {
            if r.paid_out_id.is_none() {
                r.paid_out_id = r.account_id.and_then(|a| opened.get(&a).copied());
            }
        }
    }
    Ok(plan)
}
