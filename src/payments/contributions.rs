//! Contributions people pay (their assessed charge). Net basis: the person pays it into the
//! account they hold (their direct payment, or failing that their managed account), which the
//! council's release was reduced by. Gross basis (or a budget with no account the person holds):
//! the payment settles the contribution recorded as owed. Either way the money comes from outside
//! allot, through the council's "contributions received" account.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::accounts::{self, CouncilPurpose};
use crate::budgets::budget::load::visible_for_update;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewEntry, NewLeg, Side};
use crate::money::{Money, PositiveMoney};
use crate::rules::ContributionBasis;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContribution {
    #[schema(value_type = String, example = "45.50")]
    pub amount: PositiveMoney,
    pub received_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contribution {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub amount: Money,
    pub received_on: NaiveDate,
    /// The account credited.
    pub account_id: Uuid,
    pub entry_id: Uuid,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewContribution,
    today: NaiveDate,
) -> AppResult<Contribution> {
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    if new.received_on > today {
        return Err(AppError::invalid(
            "received_on",
            "a contribution cannot be received in the future",
        ));
    }
    let account_id = target_account(tx, council_id, budget_id, budget.contribution_basis).await?;
    let source =
        accounts::council_account(tx, council_id, CouncilPurpose::ContributionsReceived).await?;
    let amount = new.amount.amount();
    let id = Uuid::new_v4();
    let entry = NewEntry {
        effective_date: new.received_on,
        description: format!("Contribution received: {}", budget.reference),
        legs: vec![
            NewLeg {
                account_id: source,
                side: Side::Debit,
                amount,
            },
            NewLeg {
                account_id,
                side: Side::Credit,
                amount,
            },
        ],
        metadata: json!({
            "contribution_id": id,
            "budget_id": budget_id,
            "requested_by": actor.user_id,
            "decision": {"outcome": "allowed", "rules": "contribution_received"},
        }),
        reverses: None,
    };
    let entry_id = ledger::post_in_tx(tx, council_id, &entry).await?.id;
    let row = tx
        .query_one(
            "INSERT INTO contributions (council_id, id, budget_id, amount, received_on, account_id, entry_id, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING recorded_at",
            &[&council_id, &id, &budget_id, &amount, &new.received_on, &account_id, &entry_id, &actor.user_id],
        )
        .await?;
    Ok(Contribution {
        id,
        budget_id,
        amount: new.amount.money(),
        received_on: new.received_on,
        account_id,
        entry_id,
        recorded_by: actor.user_id,
        recorded_at: row.get(0),
    })
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
