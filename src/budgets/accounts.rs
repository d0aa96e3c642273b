//! The ledger accounts of budgets and councils. Each deployment (and holder) of a budget has an
//! account of its own, never pooled: a direct payment held by the person, a managed account or
//! ISF held by the named provider, a council-managed budget held by the council. A budget with a
//! contribution also has an account in which contributions recorded as owed accumulate. The
//! council has a funding account (which may go negative) and the counterpart of contributions
//! paid in from outside.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::budget::Budget;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewAccount};
use crate::money::Money;
use crate::rules::Deployment;

/// Who holds a deployment's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    Person,
    Organisation,
    Council,
}

impl HolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Person => "person",
            HolderKind::Organisation => "organisation",
            HolderKind::Council => "council",
        }
    }
    fn of(deployment: Deployment) -> Self {
        match deployment {
            Deployment::DirectPayment => HolderKind::Person,
            Deployment::ManagedAccount | Deployment::Isf => HolderKind::Organisation,
            Deployment::CouncilManaged => HolderKind::Council,
        }
    }
}

/// The council's own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouncilPurpose {
    Funding,
    ContributionsReceived,
    /// Surplus taken back from budgets under a notice.
    RecoveredFunds,
}

impl CouncilPurpose {
    fn as_str(self) -> &'static str {
        match self {
            CouncilPurpose::Funding => "funding",
            CouncilPurpose::ContributionsReceived => "contributions_received",
            CouncilPurpose::RecoveredFunds => "recovered_funds",
        }
    }
    fn name(self) -> &'static str {
        match self {
            CouncilPurpose::Funding => "Council funding",
            CouncilPurpose::ContributionsReceived => "Contributions received from people",
            CouncilPurpose::RecoveredFunds => "Surplus recovered from budgets",
        }
    }
}

/// The account of a deployment (and holder) of a budget, opened if it has none yet. The caller
/// holds the budget row locked, so two openings cannot race.
pub async fn ensure_deployment_account(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget: &Budget,
    deployment: Deployment,
    holder_organisation_id: Option<Uuid>,
) -> AppResult<Uuid> {
    let existing = tx
        .query_opt(
            "SELECT account_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2 AND purpose = 'deployment' AND deployment = $3
               AND holder_organisation_id IS NOT DISTINCT FROM $4",
            &[
                &council_id,
                &budget.id,
                &deployment.as_str(),
                &holder_organisation_id,
            ],
        )
        .await?;
    if let Some(row) = existing {
        return Ok(row.get(0));
    }
    let holder_kind = HolderKind::of(deployment);
    let holder = match holder_organisation_id {
        Some(organisation) => format!("organisation:{organisation}"),
        None if holder_kind == HolderKind::Person => format!("person:{}", budget.person_id),
        None => format!("council:{council_id}"),
    };
    let account_id = ledger::create_account(
        tx,
        council_id,
        &NewAccount {
            kind: deployment.as_str().to_string(),
            name: format!("{} {}", budget.reference, deployment.label()),
            holder: Some(holder),
            no_overdraft: true,
        },
    )
    .await?;
    tx.execute(
        "INSERT INTO budget_accounts (council_id, account_id, budget_id, purpose, deployment, holder_kind,
                                      holder_organisation_id)
         VALUES ($1, $2, $3, 'deployment', $4, $5, $6)",
        &[
            &council_id,
            &account_id,
            &budget.id,
            &deployment.as_str(),
            &holder_kind.as_str(),
            &holder_organisation_id,
        ],
    )
    .await?;
    Ok(account_id)
}

/// The account in which the budget's contributions recorded as owed accumulate (negative while
/// owed), opened if it has none yet.
pub async fn ensure_contribution_account(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget: &Budget,
) -> AppResult<Uuid> {
    let existing = tx
        .query_opt(
            "SELECT account_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2 AND purpose = 'contribution_owed'",
            &[&council_id, &budget.id],
        )
        .await?;
    if let Some(row) = existing {
        return Ok(row.get(0));
    }
    let account_id = ledger::create_account(
        tx,
        council_id,
        &NewAccount {
            kind: "contribution_owed".to_string(),
            name: format!("{} contributions owed", budget.reference),
            holder: Some(format!("person:{}", budget.person_id)),
            no_overdraft: false,
        },
    )
    .await?;
    tx.execute(
        "INSERT INTO budget_accounts (council_id, account_id, budget_id, purpose, holder_kind)
         VALUES ($1, $2, $3, 'contribution_owed', 'person')",
        &[&council_id, &account_id, &budget.id],
    )
    .await?;
    Ok(account_id)
}

/// Every budget's contribution account, by budget.
pub async fn contribution_accounts(
    tx: &Tx<'_>,
    council_id: Uuid,
) -> AppResult<HashMap<Uuid, Uuid>> {
    let rows = tx
        .query(
            "SELECT budget_id, account_id FROM budget_accounts
             WHERE council_id = $1 AND purpose = 'contribution_owed'",
            &[&council_id],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// One of the council's own accounts, opened on first use.
pub async fn council_account(
    tx: &Tx<'_>,
    council_id: Uuid,
    purpose: CouncilPurpose,
) -> AppResult<Uuid> {
    let find = || async {
        tx.query_opt(
            "SELECT account_id FROM council_accounts WHERE council_id = $1 AND purpose = $2",
            &[&council_id, &purpose.as_str()],
        )
        .await
    };
    if let Some(row) = find().await? {
        return Ok(row.get(0));
    }
    // Opened once per council: serialise the first use.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.council_accounts.' || $1, 0))",
        &[&council_id.to_string()],
    )
    .await?;
    if let Some(row) = find().await? {
        return Ok(row.get(0));
    }
    let account_id = ledger::create_account(
        tx,
        council_id,
        &NewAccount {
            kind: format!("council_{}", purpose.as_str()),
            name: purpose.name().to_string(),
            holder: Some(format!("council:{council_id}")),
            no_overdraft: false,
        },
    )
    .await?;
    tx.execute(
        "INSERT INTO council_accounts (council_id, purpose, account_id) VALUES ($1, $2, $3)",
        &[&council_id, &purpose.as_str(), &account_id],
    )
    .await?;
    Ok(account_id)
}

/// A budget's account with its balances, as the budget response shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    /// `deployment` or `contribution_owed`.
    pub purpose: String,
    #[schema(value_type = Option<String>, example = "direct_payment")]
    pub deployment: Option<Deployment>,
    pub holder: Holder,
    pub posted_balance: Money,
    pub pending_balance: Money,
    pub available_balance: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holder {
    pub kind: HolderKind,
    /// The holding organisation, for managed accounts and ISFs.
    pub organisation_id: Option<Uuid>,
    /// Who holds it, in words.
    pub name: String,
}

/// The budget's accounts with their balances, deployments first.
pub async fn of_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Vec<AccountView>> {
    let rows = tx
        .query(
            "SELECT a.account_id, a.purpose, a.deployment, a.holder_kind, a.holder_organisation_id,
                    coalesce(o.name, CASE a.holder_kind WHEN 'council' THEN c.name ELSE p.name END)
             FROM budget_accounts a
             JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             JOIN councils c ON c.id = a.council_id
             LEFT JOIN organisations o ON o.council_id = a.council_id AND o.id = a.holder_organisation_id
             WHERE a.council_id = $1 AND a.budget_id = $2
             ORDER BY a.purpose DESC, a.deployment, a.created_at",
            &[&council_id, &budget_id],
        )
        .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in &rows {
        let account_id: Uuid = row.get(0);
        let deployment: Option<&str> = row.get(2);
        let deployment = deployment
            .map(str::parse::<Deployment>)
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let kind = match row.get::<_, &str>(3) {
            "person" => HolderKind::Person,
            "organisation" => HolderKind::Organisation,
            _ => HolderKind::Council,
        };
        let balances = ledger::balances(tx, council_id, account_id).await?;
        accounts.push(AccountView {
            id: account_id,
            purpose: row.get(1),
            deployment,
            holder: Holder {
                kind,
                organisation_id: row.get(4),
                name: row.get(5),
            },
            posted_balance: money(balances.posted_balance)?,
            pending_balance: money(balances.pending_balance)?,
            available_balance: money(balances.available_balance)?,
        });
    }
    Ok(accounts)
}

fn money(value: rust_decimal::Decimal) -> AppResult<Money> {
    Money::new(value).map_err(|e| AppError::Internal(format!("{value}: {e}")))
}
