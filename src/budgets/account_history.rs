//! An account's balance over time: its posted balance at each of the last twelve month ends
//! and today, from the ledger (by effective date, as known now), with the weeks of funding each
//! balance is at the approved plan's weekly amount for the account's holding — the same weekly
//! amount the surplus list divides by.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use crate::auth::{visibility, Actor};
use crate::db::Tx;
use crate::error::AppResult;
use crate::ledger::periods::balance_at;

/// The balance at the end of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct BalancePoint {
    pub date: NaiveDate,
    pub balance: Decimal,
    /// Balance ÷ weekly amount to one decimal place (none without a weekly amount).
    pub weeks_of_funding: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct AccountHistory {
    /// The approved plan's weekly amount for the account's holding (none when it is not a
    /// budget's deployment account or no plan pays into it).
    pub weekly_amount: Option<Decimal>,
    /// Oldest first: twelve month ends, then today.
    pub points: Vec<BalancePoint>,
}

/// The last day of each of the twelve months before `today`'s month, oldest first, then today.
pub fn dates(today: NaiveDate) -> Vec<NaiveDate> {
    let first = today.with_day(1).unwrap_or(today);
    let mut dates: Vec<NaiveDate> = (1..=12u32)
        .rev()
        .filter_map(|back| first.checked_sub_months(Months::new(back - 1)))
        .filter_map(|next_first| next_first.pred_opt())
        .collect();
    dates.push(today);
    dates
}

pub async fn history(
    tx: &Tx<'_>,
    actor: &Actor,
    account_id: Uuid,
    today: NaiveDate,
) -> AppResult<AccountHistory> {
    visibility::require_account(tx, actor, account_id).await?;
    let council_id = actor.council_id;
    let weekly: Option<Decimal> = tx
        .query_opt(
            "SELECT (SELECT sum(l.weekly_amount)
                     FROM support_plans sp
                     JOIN support_plan_lines l ON l.council_id = sp.council_id AND l.plan_id = sp.id
                     WHERE sp.council_id = a.council_id AND sp.budget_id = a.budget_id
                       AND sp.status = 'approved' AND l.deployment = a.deployment
                       AND l.holder_organisation_id IS NOT DISTINCT FROM a.holder_organisation_id)
             FROM budget_accounts a
             WHERE a.council_id = $1 AND a.account_id = $2 AND a.purpose = 'deployment'",
            &[&council_id, &account_id],
        )
        .await?
        .and_then(|r| r.get::<_, Option<Decimal>>(0))
        .filter(|w| *w > Decimal::ZERO);
    let mut points = Vec::new();
    for date in dates(today) {
        let balance = balance_at(tx, council_id, account_id, date).await?;
        points.push(BalancePoint {
            date,
            balance,
            weeks_of_funding: weekly.map(|w| {
                (balance / w).round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
            }),
        });
    }
    Ok(AccountHistory {
        weekly_amount: weekly,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_month_ends_then_today() {
        let today = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        let d = dates(today);
        assert_eq!(d.len(), 13);
        assert_eq!(d[0], NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
        assert_eq!(d[10], NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
        assert_eq!(d[11], NaiveDate::from_ymd_opt(2025, 2, 28).unwrap());
        assert_eq!(d[12], today);
    }
}
