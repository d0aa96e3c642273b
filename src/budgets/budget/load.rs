//! Reading budgets. Who may see one is decided in SQL by `can_see_budget` (council staff all;
//! budget holders their own; brokers what they broker; provider staff what their organisation
//! holds money for); anything else is 404, as if it did not exist. The budget comes with its
//! bank details in full: whoever shows them to someone passes it through
//! [`super::disclosure::disclose`] first.

use std::str::FromStr;

use uuid::Uuid;

use super::statement::funded_statement;
use super::{Budget, BudgetKind, DirectPaymentTerms, DpRecipient, Funder};
use crate::auth::Actor;
use crate::budgets::bank::BankDetails;
use crate::budgets::funding::FundingPart;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::ContributionBasis;

const COLUMNS: &str =
    "b.id, b.reference, b.person_id, b.funder, b.kind, b.annual_cost, b.weekly_contribution,
     b.contribution_basis, b.start_date, b.end_date, b.broker_organisation_id, b.bank_sort_code,
     b.bank_account_number, b.bank_account_name, b.dp_consent_recorded, b.dp_recipient,
     b.dp_recipient_user_id, b.dp_recipient_agreed, b.bank_verified, b.nhs_dp_separate_account,
     (SELECT coalesce(json_agg(json_build_object('funder', f.funder, 'name', f.name,
                                                 'weekly_amount', f.weekly_amount::text)
                               ORDER BY f.position), '[]'::json)
      FROM budget_funders f WHERE f.council_id = b.council_id AND f.budget_id = b.id),
     b.assessment_id, b.cost_reason, b.is_carer_budget";

/// A budget the actor may see.
pub async fn visible(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Budget> {
    let sql = format!(
        "SELECT {COLUMNS} FROM budgets b
         WHERE b.council_id = $1 AND b.id = $2 AND can_see_budget($1, $3, b.id)"
    );
    let row = tx
        .query_opt(
            &tx.prepare_cached(&sql).await?,
            &[&actor.council_id, &id, &actor.user_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// A budget the actor may see, locked against concurrent changes for the rest of the transaction.
pub async fn visible_for_update(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Budget> {
    let sql = format!(
        "SELECT {COLUMNS} FROM budgets b
         WHERE b.council_id = $1 AND b.id = $2 AND can_see_budget($1, $3, b.id) FOR UPDATE"
    );
    let row = tx
        .query_opt(
            &tx.prepare_cached(&sql).await?,
            &[&actor.council_id, &id, &actor.user_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// Budgets of one person that the actor may see, newest first.
pub async fn of_person(tx: &Tx<'_>, actor: &Actor, person_id: Uuid) -> AppResult<Vec<Budget>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM budgets b
         WHERE b.council_id = $1 AND b.person_id = $2 AND can_see_budget($1, $3, b.id)
         ORDER BY b.start_date DESC, b.reference DESC"
    );
    let rows = tx
        .query(
            &tx.prepare_cached(&sql).await?,
            &[&actor.council_id, &person_id, &actor.user_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

pub(crate) fn from_row(row: &tokio_postgres::Row) -> AppResult<Budget> {
    let annual_cost: rust_decimal::Decimal = row.get(5);
    let weekly_contribution: rust_decimal::Decimal = row.get(6);
    let kind = BudgetKind::parse(row.get(4))?;
    let basis: &str = row.get(7);
    let contribution_basis =
        ContributionBasis::from_str(basis).map_err(|e| AppError::Internal(e.to_string()))?;
    let bank = match (
        row.get::<_, Option<String>>(11),
        row.get::<_, Option<String>>(12),
        row.get::<_, Option<String>>(13),
    ) {
        (Some(sort_code), Some(account_number), Some(account_name)) => Some(BankDetails {
            sort_code,
            account_number,
            account_name,
        }),
        _ => None,
    };
    let funding: Vec<FundingPart> = serde_json::from_value(row.get(20))
        .map_err(|e| AppError::Internal(format!("budget funding: {e}")))?;
    let s26 = funded_statement(
        annual_cost,
        weekly_contribution,
        kind == BudgetKind::Reablement,
        &funding,
    );
    let money = |value| Money::new(value).map_err(|e| AppError::Internal(e.to_string()));
    Ok(Budget {
        id: row.get(0),
        reference: row.get(1),
        person_id: row.get(2),
        funder: Funder::parse(row.get(3))?,
        kind,
        annual_cost: money(annual_cost)?,
        weekly_contribution: money(weekly_contribution)?,
        contribution_basis,
        start_date: row.get(8),
        end_date: row.get(9),
        broker_organisation_id: row.get(10),
        bank,
        bank_verified: row.get(18),
        direct_payment: DirectPaymentTerms {
            consent_recorded: row.get(14),
            recipient: DpRecipient::parse(row.get(15))?,
            recipient_user_id: row.get(16),
            recipient_agreed: row.get(17),
        },
        cost: s26.cost,
        person_amount: s26.person_amount,
        council_amount: s26.council_amount,
        assessment_id: row.get(21),
        cost_reason: row.get(22),
        is_carer_budget: row.get(23),
        paid_by: s26.paid_by,
        funding,
        nhs_dp_separate_account: row.get(19),
    })
}
