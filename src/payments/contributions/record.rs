//! Recording a contribution: into the account it belongs in (for a provider, only the managed
//! account its organisation holds), posted at once or held for a finance officer.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::{Contribution, ContributionStatus, NewContribution};
use crate::auth::{Actor, Role};
use crate::budgets::accounts::{self, CouncilPurpose};
use crate::budgets::arrears;
use crate::budgets::budget::load::visible_for_update;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewEntry, NewLeg, Side};
use crate::money::Money;
use crate::rules::ContributionBasis;

pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewContribution,
    today: NaiveDate,
) -> AppResult<Contribution> {
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    let council_id = actor.council_id;
    // Locked, so contributions to one budget are judged against its arrears one at a time.
    let budget = visible_for_update(tx, actor, budget_id).await?;
    if new.received_on > today {
        return Err(AppError::invalid(
            "received_on",
            "a contribution cannot be received in the future",
        ));
    }
    let amount = new.amount.amount();
    let (account_id, hold_reason) = if actor.role == Role::FinanceOfficer {
        let account = target_account(tx, council_id, budget_id, budget.contribution_basis).await?;
        (account, None)
    } else {
        let account = provider_account(tx, actor, budget_id, budget.contribution_basis).await?;
        let owed = arrears::summary(tx, council_id, budget_id, today)
            .await?
            .arrears
            .amount();
        (account, above_arrears(amount, owed))
    };
    let id = Uuid::new_v4();
    let status = match hold_reason {
        Some(_) => ContributionStatus::PendingApproval,
        None => ContributionStatus::Posted,
    };
    let entry_id = match status {
        ContributionStatus::Posted => Some(
            post(
                tx,
                actor,
                PostFor {
                    contribution_id: id,
                    budget_id,
                    reference: &budget.reference,
                    account_id,
                    amount,
                    received_on: new.received_on,
                    requested_by: actor.user_id,
                    approved_by: None,
                },
            )
            .await?,
        ),
        _ => None,
    };
    let row = tx
        .query_one(
            "INSERT INTO contributions (council_id, id, budget_id, amount, received_on, account_id, entry_id,
                                        recorded_by, status, hold_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING recorded_at",
            &[&council_id, &id, &budget_id, &amount, &new.received_on, &account_id, &entry_id,
              &actor.user_id, &status.as_str(), &hold_reason],
        )
        .await?;
    Ok(Contribution {
        id,
        budget_id,
        amount: new.amount.money(),
        received_on: new.received_on,
        status,
        hold_reason,
        account_id,
        entry_id,
        recorded_by: actor.user_id,
        recorded_at: row.try_get("recorded_at")?,
        resolved_by: None,
        resolved_at: None,
    })
}

/// Why a provider's contribution of `amount` waits, when the person owes only `owed`.
fn above_arrears(amount: Decimal, owed: Decimal) -> Option<String> {
    (amount > owed).then(|| {
        let owed = Money::new(owed).map(|m| m.to_string()).unwrap_or_default();
        format!(
            "More than the {owed} the person owes in contributions: a finance officer approves it before it is posted."
        )
    })
}

/// What one contribution entry is for.
pub(super) struct PostFor<'a> {
    pub contribution_id: Uuid,
    pub budget_id: Uuid,
    pub reference: &'a str,
    pub account_id: Uuid,
    pub amount: Decimal,
    pub received_on: NaiveDate,
    pub requested_by: Uuid,
    pub approved_by: Option<Uuid>,
}

/// Posts a contribution: contributions received (the money from outside) → the account.
pub(super) async fn post(tx: &Tx<'_>, actor: &Actor, what: PostFor<'_>) -> AppResult<Uuid> {
    let council_id = actor.council_id;
    let source =
        accounts::council_account(tx, council_id, CouncilPurpose::ContributionsReceived).await?;
    let mut metadata = json!({
        "contribution_id": what.contribution_id,
        "budget_id": what.budget_id,
        "requested_by": what.requested_by,
        "decision": {"outcome": "allowed", "rules": "contribution_received"},
    });
    if let Some(approved_by) = what.approved_by {
        metadata["approved_by"] = json!(approved_by);
        metadata["decision"]["held"] = json!("above_arrears");
    }
    let entry = NewEntry {
        effective_date: what.received_on,
        description: format!("Contribution received: {}", what.reference),
        legs: vec![
            NewLeg {
                account_id: source,
                side: Side::Debit,
                amount: what.amount,
            },
            NewLeg {
                account_id: what.account_id,
                side: Side::Credit,
                amount: what.amount,
            },
        ],
        metadata,
        reverses: None,
    };
    Ok(ledger::post_in_tx(tx, council_id, &entry).await?.id)
}

/// Net: the direct payment, else the managed account; otherwise (and for gross) the account of
/// contributions owed. 409 while the budget has none of these (no approved plan yet).
async fn target_account(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    basis: ContributionBasis,
) -> AppResult<Uuid> {
    let row = tx
        .query_opt(
            "SELECT account_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2
               AND (($3 AND purpose = 'deployment' AND deployment IN ('direct_payment', 'managed_account'))
                    OR purpose = 'contribution_owed')
             ORDER BY CASE WHEN $3 AND deployment = 'direct_payment' THEN 0
                           WHEN $3 AND deployment = 'managed_account' THEN 1 ELSE 2 END, created_at
             LIMIT 1",
            &[&council_id, &budget_id, &(basis == ContributionBasis::Net)],
        )
        .await?;
    row.map(|r| r.get(0)).ok_or_else(|| {
        AppError::conflict(
            "This budget has no account to receive a contribution yet: it has no approved plan, or no contribution is due.",
        )
    })
}

/// A provider's: the managed account its organisation holds on a net-basis budget (the only
/// account of a budget a person pays a contribution into that a provider holds). Anything else
/// is outside the provider's organisation: 404, as the account is to it everywhere else.
async fn provider_account(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    basis: ContributionBasis,
) -> AppResult<Uuid> {
    let Some(organisation_id) = actor.organisation_id else {
        return Err(AppError::NotFound);
    };
    if basis != ContributionBasis::Net {
        return Err(AppError::NotFound);
    }
    let row = tx
        .query_opt(
            "SELECT account_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2 AND purpose = 'deployment'
               AND deployment = 'managed_account' AND holder_organisation_id = $3",
            &[&actor.council_id, &budget_id, &organisation_id],
        )
        .await?;
    row.map(|r| r.get(0)).ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_more_than_is_owed_waits() {
        let owed = Decimal::new(12000, 2);
        assert!(above_arrears(Decimal::new(12000, 2), owed).is_none());
        assert!(above_arrears(Decimal::new(1, 2), owed).is_none());
        let reason = above_arrears(Decimal::new(12001, 2), owed).unwrap();
        assert!(reason.contains("120.00"), "{reason}");
        assert!(above_arrears(Decimal::new(1, 2), Decimal::ZERO).is_some());
    }
}
