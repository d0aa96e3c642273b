//! The ledger as the admin pages show it: an account's statement with the budget it belongs to
//! and who holds it, and one entry with its legs, decision record, reversals and seal.
//!
//! Visibility is the statement API's (`GET /api/v1/accounts/{id}/entries`): an account the
//! caller may see (`can_see_account`), an entry touching at least one such account; anything else
//! is not found. On an entry, legs on accounts the caller may not see are shown without the
//! account's name.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::auth::{visibility, Actor};
use crate::db::Tx;
use crate::error::AppResult;
use crate::ledger::{self, Account, ChainLink, Entry, Leg, StatementPage};
use crate::rules::Deployment;

/// The budget an account belongs to, and who holds its money.
#[derive(Debug, Clone)]
pub struct AccountOwner {
    pub budget_id: Uuid,
    pub budget_reference: String,
    pub person_name: String,
    /// `None` for the account of contributions owed.
    pub deployment: Option<Deployment>,
    pub holder_name: String,
    /// Whether the caller may open the budget itself.
    pub budget_visible: bool,
}

/// An account, its owner if it belongs to a budget, and one page of its statement.
#[derive(Debug, Clone)]
pub struct AccountStatement {
    pub account: Account,
    pub owner: Option<AccountOwner>,
    pub page: StatementPage,
}

/// The filter and position of a statement page.
#[derive(Debug, Clone, Default)]
pub struct StatementRequest {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: u32,
}

pub async fn account_statement(
    tx: &Tx<'_>,
    actor: &Actor,
    account_id: Uuid,
    request: &StatementRequest,
) -> AppResult<AccountStatement> {
    visibility::require_account(tx, actor, account_id).await?;
    let account = ledger::account(tx, actor.council_id, account_id).await?;
    let page = ledger::statement(
        tx,
        actor.council_id,
        account_id,
        request.from,
        request.to,
        request.cursor.as_deref(),
        request.limit,
    )
    .await?;
    Ok(AccountStatement {
        owner: owner(tx, actor, account_id).await?,
        account,
        page,
    })
}

async fn owner(tx: &Tx<'_>, actor: &Actor, account_id: Uuid) -> AppResult<Option<AccountOwner>> {
    let row = tx
        .query_opt(
            "SELECT b.id, b.reference, p.name, a.deployment,
                    coalesce(o.name, CASE a.holder_kind WHEN 'council' THEN c.name ELSE p.name END),
                    can_see_budget($1, $3, b.id)
             FROM budget_accounts a
             JOIN budgets b ON b.council_id = a.council_id AND b.id = a.budget_id
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             JOIN councils c ON c.id = a.council_id
             LEFT JOIN organisations o ON o.council_id = a.council_id AND o.id = a.holder_organisation_id
             WHERE a.council_id = $1 AND a.account_id = $2",
            &[&actor.council_id, &account_id, &actor.user_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let deployment = row
        .get::<_, Option<&str>>(3)
        .map(str::parse::<Deployment>)
        .transpose()
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    Ok(Some(AccountOwner {
        budget_id: row.get(0),
        budget_reference: row.get(1),
        person_name: row.get(2),
        deployment,
        holder_name: row.get(4),
        budget_visible: row.get(5),
    }))
}

/// A leg of an entry, with its account's name when the caller may see the account.
#[derive(Debug, Clone)]
pub struct EntryLeg {
    pub leg: Leg,
    pub account_name: Option<String>,
}

/// An entry, its legs and the link sealing it (once sealed).
#[derive(Debug, Clone)]
pub struct EntryDetail {
    pub entry: Entry,
    pub legs: Vec<EntryLeg>,
    pub seal: Option<ChainLink>,
}

pub async fn entry_detail(tx: &Tx<'_>, actor: &Actor, entry_id: Uuid) -> AppResult<EntryDetail> {
    visibility::require_entry(tx, actor, entry_id).await?;
    let council_id = actor.council_id;
    let entry = ledger::get_entry(tx, council_id, entry_id).await?;
    let mut legs = Vec::with_capacity(entry.legs.len());
    for leg in &entry.legs {
        let account_name = if visibility::can_see_account(tx, actor, leg.account_id).await? {
            Some(ledger::account(tx, council_id, leg.account_id).await?.name)
        } else {
            None
        };
        legs.push(EntryLeg {
            leg: leg.clone(),
            account_name,
        });
    }
    Ok(EntryDetail {
        seal: ledger::link_of(tx, council_id, entry_id).await?,
        legs,
        entry,
    })
}
