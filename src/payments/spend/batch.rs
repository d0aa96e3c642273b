//! Deciding and recording payment requests, any number at once, in the caller's transaction:
//! resolve every request (one query), lock every account involved in sorted order (one
//! statement), load every budget's facts (one query), decide each request in arrival order
//! against the running balances and spending (pure), then write every entry (one statement) and
//! every payment row (one statement). A request that fails on its own (bad input, not visible, a
//! closed period) gets its error and never fails the others.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::facts::{self, BudgetFacts, Resolved};
use super::input::{check_input, spend_request, NewPayment};
use super::outcome::{Payment, PaymentOutcome, PaymentStatus};
use crate::auth::Actor;
use crate::clock::london_date;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, LedgerError, LockedSet, NewEntry, NewLeg, Plan, Side};
use crate::money::Money;
use crate::rules::{
    AccountFacts, Decision, Refusal, RuleCode, SpendFacts, StayFacts, RULESET_VERSION,
};

/// One payment request and who makes it.
#[derive(Debug, Clone)]
pub struct Request {
    pub actor: Actor,
    pub new: NewPayment,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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

fn spend_facts(
    resolved: &Resolved,
    budget: &BudgetFacts,
    stays: &[StayFacts],
    council: &facts::CouncilFacts,
    available: Decimal,
    new: &NewPayment,
    today: chrono::NaiveDate,
) -> SpendFacts {
    SpendFacts {
        today,
        person: resolved.person,
        plan: budget.plan.clone(),
        account: AccountFacts {
            deployment: new.deployment,
            available_balance: available,
        },
        payee: resolved.payee,
        grants: budget.grants.clone(),
        previous_stays: stays.to_vec(),
        policy: council.policy.clone(),
        care_manager_available: council.care_manager_available,
    }
}

/// Money can only leave an account the budget has.
fn no_account_refusal(resolved: &Resolved, decision: Decision) -> Decision {
    if resolved.account_id.is_none() && !matches!(decision, Decision::Refuse { .. }) {
        return Decision::Refuse {
            refusals: vec![Refusal::new(
                RuleCode::NotInPlan,
                "No money is held for this budget in that deployment.",
            )],
        };
    }
    decision
}

/// Opens the missing "paid out" counterparts of these deployment accounts (the caller holds the
/// deployment accounts' locks, so no two transactions open one for the same account).
async fn open_paid_out(
    tx: &Tx<'_>,
    council_id: Uuid,
    accounts: &BTreeSet<Uuid>,
) -> AppResult<HashMap<Uuid, Uuid>> {
    let wanted: Vec<Uuid> = accounts.iter().copied().collect();
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT account_id, paid_out_id FROM paid_out_accounts
                 WHERE council_id = $1 AND account_id = ANY($2)",
            )
            .await?,
            &[&council_id, &wanted],
        )
        .await?;
    let mut found: HashMap<Uuid, Uuid> = rows
        .iter()
        .map(|r| (r.get("account_id"), r.get("paid_out_id")))
        .collect();
    for account in wanted {
        if found.contains_key(&account) {
            continue;
        }
        let paid_out = ledger::create_account(
            tx,
            council_id,
            &ledger::NewAccount {
                kind: "paid_out".into(),
                name: "Paid to payees".into(),
                holder: Some(format!("account:{account}")),
                no_overdraft: false,
            },
        )
        .await?;
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO paid_out_accounts (council_id, account_id, paid_out_id)
                 VALUES ($1, $2, $3)",
            )
            .await?,
            &[&council_id, &account, &paid_out],
        )
        .await?;
        found.insert(account, paid_out);
    }
    Ok(found)
}

/// A payment decided, about to be written.
struct Record {
    payment: Payment,
    merchant_category: Option<String>,
    is_cash: bool,
    evidence_sha256: Option<String>,
    outstanding: serde_json::Value,
}

/// Decides and records every request; one result per request, in order. An `Err` of the whole
/// call is a failure of the batch (the database), not of one request.
pub async fn decide_and_record(
    tx: &Tx<'_>,
    council_id: Uuid,
    requests: &[&Request],
    now: DateTime<Utc>,
) -> AppResult<Vec<AppResult<PaymentOutcome>>> {
    let today = london_date(now);
    let mut results: Vec<Option<AppResult<PaymentOutcome>>> =
        requests.iter().map(|_| None).collect();
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
    let mut resolved: Vec<(usize, Resolved)> = Vec::with_capacity(answers.len());
    for (&i, answer) in live.iter().zip(answers) {
        match answer {
            Ok(r) => resolved.push((i, r)),
            Err(e) => results[i] = Some(Err(e)),
        }
    }

    // Every account of the batch, locked once in id order: concurrent batches touching the same
    // accounts queue here, and each decides on the balances the one before left.
    let mut lock_ids: Vec<Uuid> = Vec::new();
    for (_, r) in &resolved {
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

    let budget_ids: Vec<Uuid> = resolved.iter().map(|(_, r)| r.budget_id).collect();
    let (mut budgets, council) = if budget_ids.is_empty() {
        Default::default()
    } else {
        let (b, c) = facts::budgets(tx, council_id, &budget_ids, today).await?;
        (b, Some(c))
    };
    // Care-home stays by person: a stay decided earlier in the batch counts for the next.
    let mut stays: HashMap<Uuid, Vec<StayFacts>> = HashMap::new();
    for budget in budgets.values() {
        stays
            .entry(budget.person_id)
            .or_insert_with(|| budget.stays.clone());
    }

    let mut records: Vec<(usize, Record)> = Vec::with_capacity(resolved.len());
    for (i, r) in resolved {
        let (Some(council), Some(budget)) = (&council, budgets.get_mut(&r.budget_id)) else {
            return Err(internal("budget facts missing"));
        };
        let Request { actor, new } = requests[i];
        let available = r
            .account_id
            .and_then(|a| plan.available(a))
            .unwrap_or(Decimal::ZERO);
        let person_stays = stays.get(&r.person_id).cloned().unwrap_or_default();
        let facts = spend_facts(&r, budget, &person_stays, council, available, new, today);
        let mut decision =
            no_account_refusal(&r, crate::rules::decide(&facts, &spend_request(actor, new)));
        let id = Uuid::new_v4();
        let amount = new.amount.amount();
        let hold_expires = match &decision {
            Decision::Hold { .. } => {
                Some(now + Duration::days(i64::from(council.policy.hold_expiry_days.max(1))))
            }
            _ => None,
        };
        let mut entry_id = None;
        if let (Decision::Post { .. } | Decision::Hold { .. }, Some(account), Some(paid_out)) =
            (&decision, r.account_id, r.paid_out_id)
        {
            let description = format!("{} to {}", capitalised(new.category.label()), r.payee_name);
            let entry = NewEntry {
                effective_date: today,
                description: if hold_expires.is_some() {
                    format!("{description} (awaiting approval)")
                } else {
                    description
                },
                legs: vec![
                    NewLeg {
                        account_id: account,
                        side: Side::Debit,
                        amount,
                    },
                    NewLeg {
                        account_id: paid_out,
                        side: Side::Credit,
                        amount,
                    },
                ],
                metadata: json!({
                    "payment_id": id,
                    "budget_id": r.budget_id,
                    "requested_by": actor.user_id,
                    "requested_by_name": actor.name,
                    "decision": decision,
                    "ruleset_version": RULESET_VERSION,
                    "policy_version": council.policy.version,
                }),
                reverses: None,
            };
            let planned = match ledger::planned(&entry, hold_expires) {
                Ok(planned) => planned,
                Err(e) => {
                    results[i] = Some(Err(e.into()));
                    continue;
                }
            };
            let planned_id = planned.id;
            match plan.add(planned) {
                Ok(()) => entry_id = Some(planned_id),
                // The rules saw the same running balance, so this is a safety net only.
                Err(LedgerError::InsufficientFunds { .. }) => {
                    decision = Decision::Refuse {
                        refusals: vec![Refusal::new(
                            RuleCode::InsufficientFunds,
                            "The available balance does not cover this amount.",
                        )],
                    }
                }
                Err(e) => {
                    results[i] = Some(Err(e.into()));
                    continue;
                }
            }
        }
        let (status, approvals_required) = match &decision {
            Decision::Post { .. } => (PaymentStatus::Posted, Vec::new()),
            Decision::Hold {
                approvals_required, ..
            } => (PaymentStatus::PendingApproval, approvals_required.clone()),
            Decision::Refuse { .. } => (PaymentStatus::Refused, Vec::new()),
        };
        if status != PaymentStatus::Refused {
            // Spending and stays decided now count for the rest of the batch.
            if let Some(line) = budget.plan.as_mut().and_then(|p| {
                p.lines
                    .iter_mut()
                    .find(|l| l.category == new.category && l.deployment == new.deployment)
            }) {
                line.spent_this_plan_year += amount;
            }
            if let (Some(from), Some(to), true) = (
                new.stay_from,
                new.stay_to,
                new.deployment.is_direct_payment(),
            ) {
                stays
                    .entry(r.person_id)
                    .or_default()
                    .push(StayFacts { from, to });
            }
        }
        let settled = status != PaymentStatus::PendingApproval;
        let payment = Payment {
            id,
            budget_id: r.budget_id,
            account_id: r.account_id,
            deployment: new.deployment,
            payee_id: r.payee.id,
            payee_name: r.payee_name.clone(),
            category: new.category,
            amount: Money::new(amount).map_err(internal)?,
            service_date: new.service_date,
            memo: new.memo.as_deref().map(|m| m.trim().to_owned()),
            stay_from: new.stay_from,
            stay_to: new.stay_to,
            status,
            approved_by: Vec::new(),
            decision: decision.clone(),
            ruleset_version: RULESET_VERSION.to_owned(),
            policy_version: council.policy.version,
            requested_by: actor.user_id,
            requested_by_name: actor.name.clone(),
            requested_at: now,
            hold_expires_at: hold_expires,
            entry_id: if status == PaymentStatus::Posted {
                entry_id
            } else {
                None
            },
            hold_entry_id: if status == PaymentStatus::PendingApproval {
                entry_id
            } else {
                None
            },
            resolved_at: settled.then_some(now),
            resolved_by: settled.then_some(actor.user_id),
            approvals_required,
        };
        records.push((
            i,
            Record {
                outstanding: serde_json::to_value(&payment.approvals_required).map_err(internal)?,
                merchant_category: new
                    .merchant_category
                    .as_deref()
                    .map(|m| m.trim().to_owned()),
                is_cash: new.is_cash,
                evidence_sha256: new.evidence_sha256.as_deref().map(str::to_ascii_lowercase),
                payment,
            },
        ));
    }

    if !plan.is_empty() {
        plan.write(tx, council_id).await?;
    }
    insert_payments(tx, council_id, &records).await?;
    for (i, record) in records {
        let payment = record.payment;
        results[i] = Some(Ok(match payment.status {
            PaymentStatus::Posted => PaymentOutcome::Posted(payment),
            PaymentStatus::PendingApproval => PaymentOutcome::Held(payment),
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

async fn insert_payments(
    tx: &Tx<'_>,
    council_id: Uuid,
    records: &[(usize, Record)],
) -> AppResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.id).collect();
    let budgets: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.budget_id).collect();
    let accounts: Vec<Option<Uuid>> = records.iter().map(|(_, r)| r.payment.account_id).collect();
    let deployments: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.deployment.as_str())
        .collect();
    let payees: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.payee_id).collect();
    let categories: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.category.as_str())
        .collect();
    let amounts: Vec<Decimal> = records
        .iter()
        .map(|(_, r)| r.payment.amount.amount())
        .collect();
    let service_dates: Vec<chrono::NaiveDate> = records
        .iter()
        .map(|(_, r)| r.payment.service_date)
        .collect();
    let memos: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.payment.memo.as_deref())
        .collect();
    let stay_from: Vec<Option<chrono::NaiveDate>> =
        records.iter().map(|(_, r)| r.payment.stay_from).collect();
    let stay_to: Vec<Option<chrono::NaiveDate>> =
        records.iter().map(|(_, r)| r.payment.stay_to).collect();
    let merchants: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.merchant_category.as_deref())
        .collect();
    let cash: Vec<bool> = records.iter().map(|(_, r)| r.is_cash).collect();
    let evidence: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.evidence_sha256.as_deref())
        .collect();
    let requested_by: Vec<Uuid> = records
        .iter()
        .map(|(_, r)| r.payment.requested_by)
        .collect();
    let requested_at: Vec<DateTime<Utc>> = records
        .iter()
        .map(|(_, r)| r.payment.requested_at)
        .collect();
    let statuses: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.status.as_str())
        .collect();
    let decisions: Vec<serde_json::Value> = records
        .iter()
        .map(|(_, r)| serde_json::to_value(&r.payment.decision).map_err(internal))
        .collect::<AppResult<_>>()?;
    let policy_versions: Vec<i32> = records
        .iter()
        .map(|(_, r)| r.payment.policy_version)
        .collect();
    let outstanding: Vec<&serde_json::Value> =
        records.iter().map(|(_, r)| &r.outstanding).collect();
    let holds: Vec<Option<Uuid>> = records
        .iter()
        .map(|(_, r)| r.payment.hold_entry_id)
        .collect();
    let expires: Vec<Option<DateTime<Utc>>> = records
        .iter()
        .map(|(_, r)| r.payment.hold_expires_at)
        .collect();
    let posted: Vec<Option<Uuid>> = records.iter().map(|(_, r)| r.payment.entry_id).collect();
    let resolved_at: Vec<Option<DateTime<Utc>>> =
        records.iter().map(|(_, r)| r.payment.resolved_at).collect();
    let resolved_by: Vec<Option<Uuid>> =
        records.iter().map(|(_, r)| r.payment.resolved_by).collect();
    tx.execute(
        &tx.prepare_cached(INSERT_PAYMENTS).await?,
        &[
            &council_id,
            &ids,
            &budgets,
            &accounts,
            &deployments,
            &payees,
            &categories,
            &amounts,
            &service_dates,
            &memos,
            &stay_from,
            &stay_to,
            &merchants,
            &cash,
            &evidence,
            &requested_by,
            &requested_at,
            &statuses,
            &decisions,
            &RULESET_VERSION,
            &policy_versions,
            &outstanding,
            &holds,
            &expires,
            &posted,
            &resolved_at,
            &resolved_by,
        ],
    )
    .await?;
    Ok(())
}

const INSERT_PAYMENTS: &str = "
INSERT INTO payments (council_id, id, budget_id, account_id, deployment, payee_id, category,
    amount, service_date, memo, stay_from, stay_to, merchant_category, is_cash, evidence_sha256,
    requested_by, requested_at, status, decision, ruleset_version, policy_version, outstanding,
    hold_entry_id, hold_expires_at, posted_entry_id, resolved_at, resolved_by)
SELECT $1, u.id, u.budget_id, u.account_id, u.deployment, u.payee_id, u.category, u.amount,
    u.service_date, u.memo, u.stay_from, u.stay_to, u.merchant_category, u.is_cash,
    u.evidence_sha256, u.requested_by, u.requested_at, u.status, u.decision, $20,
    u.policy_version, u.outstanding, u.hold_entry_id, u.hold_expires_at, u.posted_entry_id,
    u.resolved_at, u.resolved_by
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[],
            $8::numeric[], $9::date[], $10::text[], $11::date[], $12::date[], $13::text[],
            $14::bool[], $15::text[], $16::uuid[], $17::timestamptz[], $18::text[],
            $19::jsonb[], $21::int4[], $22::jsonb[], $23::uuid[], $24::timestamptz[],
            $25::uuid[], $26::timestamptz[], $27::uuid[])
     AS u(id, budget_id, account_id, deployment, payee_id, category, amount, service_date, memo,
          stay_from, stay_to, merchant_category, is_cash, evidence_sha256, requested_by,
          requested_at, status, decision, policy_version, outstanding, hold_entry_id,
          hold_expires_at, posted_entry_id, resolved_at, resolved_by)";
