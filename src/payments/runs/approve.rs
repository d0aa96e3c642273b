//! Submitting, approving and rejecting payment runs (maker-checker).
//!
//! Approval re-checks every line against the facts as they stand now (a person excluded, a plan
//! superseded, a capacity record or bank details changed since the draft makes it stale: 409,
//! nothing posted),
//! then posts every line through `ledger::post_batch_in_tx` in the caller's transaction, numbers
//! the Bacs file and marks the run approved. The run row is locked, so a second approval waits
//! and then finds it approved (409): a run is never posted twice.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::compute::{DraftLine, Period};
use super::create::{compute, lock_runs};
use super::{store, PaymentRun, RunLine, RunStatus};
use crate::auth::Actor;
use crate::budgets::accounts::{self, CouncilPurpose};
use crate::budgets::funding::{self, FundingPart, FundingSource};
use crate::budgets::policy;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewEntry, NewLeg, Side};
use crate::money::Money;
use crate::rules::{Deployment, RULESET_VERSION};

pub async fn submit(tx: &Tx<'_>, actor: &Actor, run_id: Uuid) -> AppResult<PaymentRun> {
    super::require_officer(actor)?;
    let council_id = actor.council_id;
    let run = store::load(tx, council_id, run_id, true).await?;
    if run.status != RunStatus::Draft {
        return Err(AppError::conflict(format!(
            "Only a draft run can be submitted; this one is {}.",
            run.status.as_str()
        )));
    }
    tx.execute(
        "UPDATE payment_runs SET status = 'submitted', submitted_by = $3, submitted_at = now()
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &run_id, &actor.user_id],
    )
    .await?;
    store::load(tx, council_id, run_id, false).await
}

pub async fn reject(tx: &Tx<'_>, actor: &Actor, run_id: Uuid) -> AppResult<PaymentRun> {
    super::require_officer(actor)?;
    let council_id = actor.council_id;
    let run = store::load(tx, council_id, run_id, true).await?;
    if !matches!(run.status, RunStatus::Draft | RunStatus::Submitted) {
        return Err(AppError::conflict(format!(
            "Only a draft or submitted run can be rejected; this one is {}.",
            run.status.as_str()
        )));
    }
    tx.execute(
        "UPDATE payment_runs SET status = 'rejected', rejected_by = $3, rejected_at = now()
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &run_id, &actor.user_id],
    )
    .await?;
    store::load(tx, council_id, run_id, false).await
}

pub async fn approve(tx: &Tx<'_>, actor: &Actor, run_id: Uuid) -> AppResult<PaymentRun> {
    super::require_officer(actor)?;
    let council_id = actor.council_id;
    lock_runs(tx, council_id).await?;
    let run = store::load(tx, council_id, run_id, true).await?;
    match run.status {
        RunStatus::Submitted => {}
        RunStatus::Approved => {
            return Err(AppError::conflict(
                "This run has already been approved; its money was released once.",
            ))
        }
        RunStatus::Draft => {
            return Err(AppError::conflict("Submit the run before it is approved."))
        }
        RunStatus::Rejected => return Err(AppError::conflict("This run was rejected.")),
    }
    if actor.user_id == run.created_by || Some(actor.user_id) == run.submitted_by {
        return Err(AppError::Denied {
            code: "approver_conflict",
            message:
                "A payment run is approved by a different finance officer from the one who made it."
                    .into(),
        });
    }
    let period = Period {
        start: run.period_start,
        weeks: u32::try_from(run.weeks).map_err(|_| AppError::Internal("negative weeks".into()))?,
    };
    refuse_if_stale(tx, council_id, run_id, period, &run.lines).await?;

    let entries = entries(tx, council_id, &run, actor.user_id).await?;
    let (posted_lines, new_entries): (Vec<i32>, Vec<NewEntry>) = entries.into_iter().unzip();
    let entry_ids = ledger::post_batch_in_tx(tx, council_id, &new_entries).await?;
    if entry_ids.len() != posted_lines.len() {
        return Err(AppError::Internal(
            "the ledger posted a different number of entries".into(),
        ));
    }
    tx.execute(
        "UPDATE payment_run_lines l SET entry_id = u.entry_id
         FROM unnest($3::int[], $4::uuid[]) AS u(line_no, entry_id)
         WHERE l.council_id = $1 AND l.run_id = $2 AND l.line_no = u.line_no",
        &[&council_id, &run_id, &posted_lines, &entry_ids],
    )
    .await?;
    tx.execute(
        "UPDATE payment_runs SET status = 'approved', approved_by = $3, approved_at = now(),
                file_serial = (SELECT coalesce(max(file_serial), 0) + 1 FROM payment_runs WHERE council_id = $1)
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &run_id, &actor.user_id],
    )
    .await?;
    store::load(tx, council_id, run_id, false).await
}

/// 409 when a line would no longer be released as drafted.
async fn refuse_if_stale(
    tx: &Tx<'_>,
    council_id: Uuid,
    run_id: Uuid,
    period: Period,
    lines: &[RunLine],
) -> AppResult<()> {
    let (now, _) = compute(tx, council_id, period).await?;
    let current: HashMap<(Uuid, Deployment, Option<Uuid>), &DraftLine> = now
        .iter()
        .map(|l| ((l.budget_id, l.deployment, l.holder_organisation_id), l))
        .collect();
    let paid_to = drafted_bank_accounts(tx, council_id, run_id).await?;
    let stale: Vec<String> = lines
        .iter()
        .filter(|line| {
            current
                .get(&(line.budget_id, line.deployment, line.holder_organisation_id))
                .is_none_or(|now| {
                    now.amount != line.amount.amount()
                        || now.account_id != line.account_id
                        || now.contribution_owed != line.contribution_owed.amount()
                        || now.contribution_to_pay_in != line.contribution_to_pay_in.amount()
                        // Bank details changed (and verified) since: the draft would pay the old account.
                        || paid_to.get(&line.line_no).cloned().flatten()
                            != now.bank.as_ref().map(|b| {
                                (b.sort_code_digits(), b.account_number.clone())
                            })
                })
        })
        .map(|line| format!("{} ({})", line.budget_reference, line.deployment.label()))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = stale.iter().take(10).map(String::as_str).collect();
    Err(AppError::conflict(format!(
        "Budgets have changed since this run was drafted ({}{}). Reject it and draft the run again.",
        shown.join(", "),
        if stale.len() > shown.len() { ", ..." } else { "" }
    )))
}

/// The bank account (sort code, account number) each drafted line pays, by line number.
async fn drafted_bank_accounts(
    tx: &Tx<'_>,
    council_id: Uuid,
    run_id: Uuid,
) -> AppResult<HashMap<i32, Option<(String, String)>>> {
    let rows = tx
        .query(
            "SELECT line_no, payee_sort_code, payee_account_number FROM payment_run_lines
             WHERE council_id = $1 AND run_id = $2",
            &[&council_id, &run_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let sort_code: Option<String> = row.try_get("payee_sort_code")?;
            let account_number: Option<String> = row.try_get("payee_account_number")?;
            Ok((row.try_get("line_no")?, sort_code.zip(account_number)))
        })
        .collect()
}

/// One ledger entry per line that moves money: the release (funding → deployment account) and the
/// contribution recorded as owed (contribution account → funding).
async fn entries(
    tx: &Tx<'_>,
    council_id: Uuid,
    run: &PaymentRun,
    approved_by: Uuid,
) -> AppResult<Vec<(i32, NewEntry)>> {
    let funding = accounts::council_account(tx, council_id, CouncilPurpose::Funding).await?;
    let owed_accounts = accounts::contribution_accounts(tx, council_id).await?;
    let funders = funding::all(tx, council_id).await?;
    let mut funder_accounts: HashMap<(FundingSource, String), Uuid> = HashMap::new();
    let policy = policy::current(tx, council_id).await?;
    let mut entries = Vec::with_capacity(run.lines.len());
    for line in &run.lines {
        let amount = line.amount.amount();
        let owed = line.contribution_owed.amount();
        let mut legs = Vec::with_capacity(6);
        let parts = drawn_from_funders(line, funders.get(&line.budget_id))?;
        if amount > Decimal::ZERO {
            for (part, drawn) in &parts {
                if drawn.amount() <= Decimal::ZERO {
                    continue;
                }
                let account_id = match funder_accounts.get(&part.key()) {
                    Some(id) => *id,
                    None => {
                        let id = funding::funder_account(tx, council_id, part).await?;
                        funder_accounts.insert(part.key(), id);
                        id
                    }
                };
                legs.push(NewLeg {
                    account_id,
                    side: Side::Debit,
                    amount: drawn.amount(),
                });
            }
            legs.push(NewLeg {
                account_id: line.account_id,
                side: Side::Credit,
                amount,
            });
        }
        if owed > Decimal::ZERO {
            let owed_account = *owed_accounts.get(&line.budget_id).ok_or_else(|| {
                AppError::Internal(format!(
                    "{} has no contribution account",
                    line.budget_reference
                ))
            })?;
            legs.push(NewLeg {
                account_id: owed_account,
                side: Side::Debit,
                amount: owed,
            });
            legs.push(NewLeg {
                account_id: funding,
                side: Side::Credit,
                amount: owed,
            });
        }
        if legs.is_empty() {
            continue;
        }
        let entry = NewEntry {
            effective_date: run.period_start,
            description: format!(
                "Payment run {} ({} weeks): {} {}",
                run.period_start.format("%-d %b %Y"),
                run.weeks,
                line.budget_reference,
                line.deployment.label()
            ),
            legs,
            metadata: json!({
                "payment_run_id": run.id,
                "line_no": line.line_no,
                "budget_id": line.budget_id,
                "deployment": line.deployment,
                "weeks": line.weeks,
                "contribution_owed": line.contribution_owed,
                "contribution_to_pay_in": line.contribution_to_pay_in,
                "funders": parts.iter().map(|(p, drawn)| json!({
                    "funder": p.funder, "name": p.name, "amount": drawn,
                })).collect::<Vec<_>>(),
                "requested_by": run.created_by,
                "approved_by": approved_by,
                "decision": {"outcome": "allowed", "rules": "release_eligibility",
                             "ruleset_version": RULESET_VERSION, "policy_version": policy.version},
            }),
            reverses: None,
        };
        entries.push((line.line_no, entry));
    }
    Ok(entries)
}

/// What each funder pays of a line's release: the line's cost (release plus what the person pays
/// in themselves) apportioned between the funders in proportion to their weekly amounts, the
/// council's part less the person's contribution (NHS money and other funds are never charged
/// for). The parts add up to the release exactly. Without recorded funding: the council.
pub fn drawn_from_funders(
    line: &RunLine,
    parts: Option<&Vec<FundingPart>>,
) -> AppResult<Vec<(FundingPart, Money)>> {
    let amount = line.amount.amount();
    let to_pay_in = line.contribution_to_pay_in.amount();
    let parts: Vec<FundingPart> = match parts {
        Some(parts) if !parts.is_empty() => parts.clone(),
        _ => vec![FundingPart {
            funder: FundingSource::Council,
            name: None,
            weekly_amount: line.amount,
        }],
    };
    let gross = Money::new(amount + to_pay_in).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut drawn: Vec<Decimal> = funding::apportion(gross, &funding::shares(&parts))
        .into_iter()
        .map(Money::amount)
        .collect();
    let mut left = to_pay_in;
    for (part, value) in parts.iter().zip(drawn.iter_mut()) {
        if part.funder == FundingSource::Council && left > Decimal::ZERO {
            let take = left.min(*value);
            *value -= take;
            left -= take;
        }
    }
    if left > Decimal::ZERO {
        return Err(AppError::Internal(format!(
            "{}: the contribution is more than the council's share",
            line.budget_reference
        )));
    }
    parts
        .into_iter()
        .zip(drawn)
        .map(|(p, d)| {
            Ok((
                p,
                Money::new(d).map_err(|e| AppError::Internal(e.to_string()))?,
            ))
        })
        .collect()
}
