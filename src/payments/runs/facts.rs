//! Loads the facts snapshot of a payment run: every budget of the council in force during the
//! period, with its person, direct-payment terms, approved plan holdings, accounts, urgent interim
//! support and the bank accounts money would go to. A handful of set-based queries, whatever the
//! number of budgets, in the caller's transaction (which holds the run lock).

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::compute::{BudgetFacts, HoldingFacts, InterimFacts, Period};
use crate::budgets::bank::BankDetails;
use crate::budgets::budget::{DirectPaymentTerms, DpRecipient};
use crate::budgets::funding;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::{ContributionBasis, Deployment, PersonFacts};

fn bank(
    sort_code: Option<String>,
    account_number: Option<String>,
    name: Option<String>,
) -> Option<BankDetails> {
    match (sort_code, account_number, name) {
        (Some(sort_code), Some(account_number), Some(account_name)) => Some(BankDetails {
            sort_code,
            account_number,
            account_name,
        }),
        _ => None,
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// The budgets in force during the period, ordered by reference.
pub async fn load(tx: &Tx<'_>, council_id: Uuid, period: Period) -> AppResult<Vec<BudgetFacts>> {
    let last_day = period
        .last_day()
        .ok_or_else(|| AppError::invalid("period_start", "is too far in the future"))?;
    let rows = tx
        .query(
            // Correlated lookups rather than outer joins: each is one index probe per budget,
            // whatever the planner's row estimates (fresh councils have no statistics yet).
            "SELECT b.id, b.reference, p.has_capacity, p.excluded_from_direct_payments, b.start_date, b.end_date,
                    b.kind, b.weekly_contribution, b.contribution_basis, b.dp_consent_recorded, b.dp_recipient,
                    b.dp_recipient_user_id, b.dp_recipient_agreed, b.bank_sort_code, b.bank_account_number,
                    b.bank_account_name, b.bank_verified,
                    (SELECT sp.id FROM support_plans sp
                     WHERE sp.council_id = b.council_id AND sp.budget_id = b.id AND sp.status = 'approved'),
                    u.weekly_amount, u.start_date,
                    (SELECT ua.account_id FROM budget_accounts ua
                     WHERE ua.council_id = b.council_id AND ua.budget_id = b.id AND ua.purpose = 'deployment'
                       AND ua.deployment = 'council_managed' AND ua.holder_organisation_id IS NULL),
                    b.nhs_dp_separate_account
             FROM budgets b
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             LEFT JOIN LATERAL (SELECT weekly_amount, start_date FROM urgent_interim_support i
                                WHERE i.council_id = b.council_id AND i.budget_id = b.id) u ON true
             WHERE b.council_id = $1 AND b.start_date <= $3 AND (b.end_date IS NULL OR b.end_date >= $2)
             ORDER BY b.reference",
            &[&council_id, &period.start, &last_day],
        )
        .await?;
    let mut holdings = load_holdings(tx, council_id, period.start, last_day).await?;
    let mut funding = funding::all(tx, council_id).await?;
    let mut budgets = Vec::with_capacity(rows.len());
    for row in &rows {
        let budget_id: Uuid = row.get(0);
        let start_date = row.get(4);
        let terms = DirectPaymentTerms {
            consent_recorded: row.get(9),
            recipient: DpRecipient::parse(row.get(10))?,
            recipient_user_id: row.get(11),
            recipient_agreed: row.get(12),
        };
        let plan_id: Option<Uuid> = row.get(17);
        let interim = match (row.get::<_, Option<Decimal>>(18), row.get(19), row.get(20)) {
            (Some(weekly), Some(start), Some(account_id)) => Some(InterimFacts {
                weekly,
                start,
                account_id,
            }),
            _ => None,
        };
        budgets.push(BudgetFacts {
            budget_id,
            reference: row.get(1),
            person: PersonFacts {
                has_capacity: row.get(2),
                excluded_from_direct_payments: row.get(3),
            },
            start_date,
            end_date: row.get(5),
            free: row.get::<_, &str>(6) == "reablement",
            weekly_contribution: row.get(7),
            basis: ContributionBasis::from_str(row.get(8)).map_err(internal)?,
            consent_recorded: terms.consent_recorded,
            nominated_person_agreed: terms.nominated_person_agreed(),
            grants: terms.grants(start_date),
            dp_bank: bank(row.get(13), row.get(14), row.get(15)),
            dp_bank_verified: row.get(16),
            plan_approved: plan_id.is_some(),
            holdings: holdings.remove(&budget_id).unwrap_or_default(),
            interim,
            funding: funding.remove(&budget_id).unwrap_or_default(),
            nhs_dp_separate_account: row.get(21),
        });
    }
    Ok(budgets)
}

/// The approved plans' holdings (weekly totals per deployment and holder) with their accounts.
async fn load_holdings(
    tx: &Tx<'_>,
    council_id: Uuid,
    first_day: chrono::NaiveDate,
    last_day: chrono::NaiveDate,
) -> AppResult<HashMap<Uuid, Vec<HoldingFacts>>> {
    let rows = tx
        .query(
            "SELECT sp.budget_id, l.deployment, l.holder_organisation_id, sum(l.weekly_amount),
                    min(a.account_id::text), min(o.bank_sort_code), min(o.bank_account_number),
                    min(o.bank_account_name), coalesce(bool_and(o.bank_verified), true)
             FROM support_plans sp
             JOIN budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id
             JOIN support_plan_lines l ON l.council_id = sp.council_id AND l.plan_id = sp.id
             LEFT JOIN budget_accounts a ON a.council_id = sp.council_id AND a.budget_id = sp.budget_id
                  AND a.purpose = 'deployment' AND a.deployment = l.deployment
                  AND a.holder_organisation_id IS NOT DISTINCT FROM l.holder_organisation_id
             LEFT JOIN organisations o ON o.council_id = l.council_id AND o.id = l.holder_organisation_id
             WHERE sp.council_id = $1 AND sp.status = 'approved'
               AND b.start_date <= $3 AND (b.end_date IS NULL OR b.end_date >= $2)
             GROUP BY sp.budget_id, l.deployment, l.holder_organisation_id",
            &[&council_id, &first_day, &last_day],
        )
        .await?;
    let mut holdings: HashMap<Uuid, Vec<HoldingFacts>> = HashMap::new();
    for row in &rows {
        let account: Option<String> = row.get(4);
        // Approving a plan opens an account for every holding in the same transaction.
        let account_id = account
            .as_deref()
            .map(Uuid::from_str)
            .transpose()
            .map_err(internal)?
            .ok_or_else(|| internal("an approved plan's holding has no account"))?;
        holdings.entry(row.get(0)).or_default().push(HoldingFacts {
            deployment: Deployment::from_str(row.get(1)).map_err(internal)?,
            holder_organisation_id: row.get(2),
            weekly: row.get(3),
            account_id,
            provider_bank: bank(row.get(5), row.get(6), row.get(7)),
            provider_bank_verified: row.get(8),
        });
    }
    Ok(holdings)
}
