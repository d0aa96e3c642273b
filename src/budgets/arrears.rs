//! Contribution arrears of a budget: what approved payment runs expected the person to pay (into
//! their account under the net basis, or to the council under the gross basis) for periods that
//! have begun, less what was received (posted: a contribution held for a finance officer is not
//! received until it is approved).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;

/// Expected against received, for the budget response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContributionSummary {
    /// What approved runs expected for periods that have begun.
    pub expected: Money,
    pub received: Money,
    /// Expected less received, never below zero.
    pub arrears: Money,
}

/// Expected, received and arrears for a budget, as of `today`.
pub async fn summary(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    today: NaiveDate,
) -> AppResult<ContributionSummary> {
    let row = tx
        .query_one(
            "SELECT coalesce((SELECT sum(l.contribution_owed + l.contribution_to_pay_in)
                              FROM payment_run_lines l
                              JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
                              WHERE l.council_id = $1 AND l.budget_id = $2 AND r.status = 'approved'
                                AND r.period_start <= $3), 0),
                    coalesce((SELECT sum(amount) FROM contributions
                              WHERE council_id = $1 AND budget_id = $2 AND status = 'posted'), 0)",
            &[&council_id, &budget_id, &today],
        )
        .await?;
    let (expected, received): (Decimal, Decimal) = (row.get(0), row.get(1));
    let money = |value: Decimal| Money::new(value).map_err(|e| AppError::Internal(e.to_string()));
    Ok(ContributionSummary {
        expected: money(expected)?,
        received: money(received)?,
        arrears: money((expected - received).max(Decimal::ZERO))?,
    })
}
