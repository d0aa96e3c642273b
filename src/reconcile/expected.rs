//! Money in on a bank line that is a contribution the person was expected to pay.
//!
//! The expected contributions are the schedule charging produced: for each approved payment run
//! of a net-basis budget, the period's `contribution_to_pay_in` (the weekly contribution times the
//! run's weeks, by which the release was reduced), due from the period's start. Each is received
//! once (`expected_contribution_receipts`).
//!
//! After the lines of a statement are matched to postings, each credit line still unmatched is
//! matched to an expected contribution of the account's budget not yet received, of the same
//! amount: **by reference** when the line's text holds the budget's reference (`PB000123`, not
//! followed by another digit) — the earliest such period; else **by amount and date** when
//! exactly one period starts within ± 3 banking days of the booking date and no other line has
//! it as its candidate. A matched line is recorded through the contributions service
//! ([`crate::payments::contributions::record`]) with its controls, as the importing staff member:
//! a contribution beyond the budget's arrears is held for a finance officer rather than posted.
//! A posted contribution's entry is matched to the line (`matched_by: "contribution"`); a held
//! one leaves the line for a person once it is decided. Anything else is left for a person.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::matcher::{banking_days_between, DATE_WINDOW_BANKING_DAYS};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::PositiveMoney;
use crate::payments::contributions::{self, ContributionStatus, NewContribution};

struct Expected {
    run_id: Uuid,
    period_start: NaiveDate,
    amount: Decimal,
}

struct Line {
    id: Uuid,
    amount: Decimal,
    booked_on: NaiveDate,
    text: String,
}

/// Whether `text` holds `reference` not followed by another digit.
fn holds_reference(text: &str, reference: &str) -> bool {
    let text = text.to_uppercase();
    text.match_indices(reference).any(|(at, _)| {
        !text[at + reference.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Matches the statement's unmatched money in to the budget's expected contributions (see the
/// module doc).
pub async fn match_lines(
    tx: &Tx<'_>,
    actor: &Actor,
    account_id: Uuid,
    statement_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let council_id = actor.council_id;
    let Some(budget) = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT b.id, b.reference FROM budget_accounts a
                 JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
                 WHERE a.council_id = $1 AND a.account_id = $2 AND a.purpose = 'deployment'",
            )
            .await?,
            &[&council_id, &account_id],
        )
        .await?
    else {
        return Ok(());
    };
    let budget_id: Uuid = budget.try_get("id")?;
    let reference: String = budget.try_get("reference")?;
    let expected: Vec<Expected> = tx
        .query(
            &tx.prepare_cached(
                "SELECT r.id, r.period_start, sum(l.contribution_to_pay_in) AS amount
                 FROM payment_run_lines l
                 JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
                 WHERE l.council_id = $1 AND l.budget_id = $2 AND r.status = 'approved'
                   AND NOT EXISTS (SELECT 1 FROM expected_contribution_receipts e
                                   WHERE e.council_id = l.council_id AND e.run_id = r.id
                                     AND e.budget_id = l.budget_id)
                 GROUP BY r.id, r.period_start
                 HAVING sum(l.contribution_to_pay_in) > 0
                 ORDER BY r.period_start, r.id",
            )
            .await?,
            &[&council_id, &budget_id],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(Expected {
                run_id: row.try_get("id")?,
                period_start: row.try_get("period_start")?,
                amount: row.try_get("amount")?,
            })
        })
        .collect::<AppResult<_>>()?;
    if expected.is_empty() {
        return Ok(());
    }
    let lines: Vec<Line> = tx
        .query(
            &tx.prepare_cached(
                "SELECT id, amount, booked_on,
                        concat_ws(' ', end_to_end_id, bank_reference, remittance) AS text
                 FROM bank_statement_lines
                 WHERE council_id = $1 AND statement_id = $2 AND direction = 'credit'
                   AND matched_entry_id IS NULL
                 ORDER BY line_no",
            )
            .await?,
            &[&council_id, &statement_id],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(Line {
                id: row.try_get("id")?,
                amount: row.try_get("amount")?,
                booked_on: row.try_get("booked_on")?,
                text: row.try_get("text")?,
            })
        })
        .collect::<AppResult<_>>()?;

    let mut taken = vec![false; expected.len()];
    let mut found: Vec<Option<(usize, &'static str)>> = vec![None; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if !holds_reference(&line.text, &reference) {
            continue;
        }
        if let Some(j) =
            (0..expected.len()).find(|&j| !taken[j] && expected[j].amount == line.amount)
        {
            taken[j] = true;
            found[i] = Some((j, "reference"));
        }
    }
    let candidates: Vec<Vec<usize>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if found[i].is_some() {
                return Vec::new();
            }
            (0..expected.len())
                .filter(|&j| {
                    !taken[j]
                        && expected[j].amount == line.amount
                        && banking_days_between(line.booked_on, expected[j].period_start).abs()
                            <= DATE_WINDOW_BANKING_DAYS
                })
                .collect()
        })
        .collect();
    for (i, mine) in candidates.iter().enumerate() {
        if let [only] = mine[..] {
            let shared = candidates
                .iter()
                .enumerate()
                .any(|(k, theirs)| k != i && theirs.contains(&only));
            if !shared {
                found[i] = Some((only, "amount_and_date"));
            }
        }
    }

    let today = crate::clock::london_date(now);
    for (i, matched) in found.into_iter().enumerate() {
        let Some((j, how)) = matched else { continue };
        let (line, due) = (&lines[i], &expected[j]);
        let amount = PositiveMoney::parse(&format!("{:.2}", line.amount))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let new = NewContribution {
            amount,
            received_on: line.booked_on,
        };
        // A refusal (a booking date after today, an account not the actor's to credit) leaves
        // the line for a person and undoes only this contribution's statements.
        tx.batch_execute("SAVEPOINT expected_contribution").await?;
        let recorded = match contributions::record(tx, actor, budget_id, &new, today).await {
            Ok(c) => c,
            Err(e @ (AppError::Db(_) | AppError::Internal(_))) => return Err(e),
            Err(_) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT expected_contribution")
                    .await?;
                continue;
            }
        };
        tx.batch_execute("RELEASE SAVEPOINT expected_contribution")
            .await?;
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO expected_contribution_receipts (council_id, run_id, budget_id,
                     bank_line_id, contribution_id, matched_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?,
            &[
                &council_id,
                &due.run_id,
                &budget_id,
                &line.id,
                &recorded.id,
                &how,
                &now,
            ],
        )
        .await?;
        if let (ContributionStatus::Posted, Some(entry_id), true) = (
            recorded.status,
            recorded.entry_id,
            recorded.account_id == account_id,
        ) {
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE bank_statement_lines
                     SET matched_entry_id = $3, matched_by = 'contribution', matched_at = $4
                     WHERE council_id = $1 AND id = $2",
                )
                .await?,
                &[&council_id, &line.id, &entry_id, &now],
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::holds_reference;

    #[test]
    fn a_reference_is_not_part_of_a_longer_number() {
        assert!(holds_reference("J SMITH PB000123 FEB", "PB000123"));
        assert!(holds_reference("pb000123", "PB000123"));
        assert!(!holds_reference("PB0001234", "PB000123"));
        assert!(holds_reference("PB0001234 PB000123", "PB000123"));
        assert!(!holds_reference("", "PB000123"));
    }
}
