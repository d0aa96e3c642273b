//! Organisations: managed-account providers, ISF providers, brokers, care providers and
//! user-controlled trusts. Provider organisations hold people's money (each person's in an account
//! of its own, never pooled); brokers draft plans. An organisation's bank details (where a
//! provider's managed accounts and ISFs are paid) are logged as they are given and changed, and
//! paid only once a finance officer has verified them ([`crate::budgets::bank_changes`]).

use crate::db::Tx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::bank::BankDetails;
use super::bank_changes::{self, Subject};
use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    ManagedAccountProvider,
    IsfProvider,
    Broker,
    CareProvider,
    UserControlledTrust,
}

impl OrganisationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::ManagedAccountProvider => "managed_account_provider",
            OrganisationKind::IsfProvider => "isf_provider",
            OrganisationKind::Broker => "broker",
            OrganisationKind::CareProvider => "care_provider",
            OrganisationKind::UserControlledTrust => "user_controlled_trust",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            OrganisationKind::ManagedAccountProvider,
            OrganisationKind::IsfProvider,
            OrganisationKind::Broker,
            OrganisationKind::CareProvider,
            OrganisationKind::UserControlledTrust,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: OrganisationKind,
    pub bank: Option<BankDetails>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    pub bank: Option<BankDetails>,
    /// False while its bank details wait for a finance officer's verification (payment runs
    /// skip what would be paid to it with `bank_details_unverified`).
    pub bank_verified: bool,
}

/// What may change about an organisation. Anything left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    /// New bank details: unverified until a finance officer other than the one who changed them
    /// verifies them (`POST /api/v1/bank-detail-changes/{id}/verify`).
    pub bank: Option<BankDetails>,
}

const COLUMNS: &str =
    "id, name, kind, bank_sort_code, bank_account_number, bank_account_name, bank_verified";

fn checked_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name)
}

/// Registers an organisation (council administrators).
pub async fn create(tx: &Tx<'_>, actor: &Actor, new: &NewOrganisation) -> AppResult<Organisation> {
    actor.require(&[Role::CouncilAdmin])?;
    let council_id = actor.council_id;
    let name = checked_name(&new.name)?;
    if let Some(bank) = &new.bank {
        bank.validate("bank")?;
    }
    let id = Uuid::new_v4();
    let bank = new.bank.as_ref().map(BankDetails::normalised);
    // Only a finance officer vouches for details as they give them; nobody else does.
    let bank_verified = actor.role == Role::FinanceOfficer;
    tx.execute(
        "INSERT INTO organisations (council_id, id, name, kind, bank_sort_code, bank_account_number,
                                    bank_account_name, bank_verified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &council_id,
            &id,
            &name,
            &new.kind.as_str(),
            &bank.as_ref().map(|b| b.sort_code.clone()),
            &bank.as_ref().map(|b| b.account_number.clone()),
            &bank.as_ref().map(|b| b.account_name.clone()),
            &bank_verified,
        ],
    )
    .await?;
    if let Some(bank) = &bank {
        bank_changes::created(tx, actor, Subject::Organisation(id), bank, bank_verified).await?;
    }
    Ok(Organisation {
        id,
        name: name.to_string(),
        kind: new.kind,
        bank,
        bank_verified,
    })
}

/// Changes an organisation's name or bank details (council administrators).
pub async fn update(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    changes: &OrganisationChanges,
) -> AppResult<Organisation> {
    actor.require(&[Role::CouncilAdmin])?;
    let council_id = actor.council_id;
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM organisations WHERE council_id = $1 AND id = $2 FOR UPDATE"
            ),
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let mut organisation = from_row(&row);
    if let Some(name) = &changes.name {
        organisation.name = checked_name(name)?.to_string();
    }
    if let Some(bank) = &changes.bank {
        bank.validate("bank")?;
        let bank = bank.normalised();
        let old = organisation.bank.as_ref();
        if bank_changes::changed(tx, actor, Subject::Organisation(id), old, &bank).await? {
            organisation.bank_verified = false;
        }
        organisation.bank = Some(bank);
    }
    let bank = organisation.bank.as_ref();
    tx.execute(
        "UPDATE organisations SET name = $3, bank_sort_code = $4, bank_account_number = $5,
                bank_account_name = $6, bank_verified = $7
         WHERE council_id = $1 AND id = $2",
        &[
            &council_id,
            &id,
            &organisation.name,
            &bank.map(|b| b.sort_code.clone()),
            &bank.map(|b| b.account_number.clone()),
            &bank.map(|b| b.account_name.clone()),
            &organisation.bank_verified,
        ],
    )
    .await?;
    Ok(organisation)
}

pub async fn get(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Organisation> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM organisations WHERE council_id = $1 AND id = $2"),
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(from_row(&row))
}

pub async fn list(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<Organisation>> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM organisations WHERE council_id = $1 ORDER BY name, id"),
            &[&council_id],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

fn from_row(row: &tokio_postgres::Row) -> Organisation {
    let sort_code: Option<String> = row.get(3);
    let account_number: Option<String> = row.get(4);
    let account_name: Option<String> = row.get(5);
    let bank = match (sort_code, account_number, account_name) {
        (Some(sort_code), Some(account_number), Some(account_name)) => Some(BankDetails {
            sort_code,
            account_number,
            account_name,
        }),
        _ => None,
    };
    Organisation {
        id: row.get(0),
        name: row.get(1),
        // The database CHECK constraint admits only the kinds above.
        kind: OrganisationKind::parse(row.get(2)).unwrap_or(OrganisationKind::CareProvider),
        bank,
        bank_verified: row.get(6),
    }
}
