//! Organisations: managed-account providers, ISF providers, brokers, care providers and
//! user-controlled trusts. Provider organisations hold people's money (each person's in an account
//! of its own, never pooled); brokers draft plans.

use crate::db::Tx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::bank::BankDetails;
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
}

pub async fn create(
    tx: &Tx<'_>,
    council_id: Uuid,
    new: &NewOrganisation,
) -> AppResult<Organisation> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    if let Some(bank) = &new.bank {
        bank.validate("bank")?;
    }
    let id = Uuid::new_v4();
    let bank = new.bank.as_ref();
    tx.execute(
        "INSERT INTO organisations (council_id, id, name, kind, bank_sort_code, bank_account_number, bank_account_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &council_id,
            &id,
            &name,
            &new.kind.as_str(),
            &bank.map(|b| b.sort_code_digits()),
            &bank.map(|b| b.account_number.clone()),
            &bank.map(|b| b.account_name.trim().to_string()),
        ],
    )
    .await?;
    Ok(Organisation {
        id,
        name: name.to_string(),
        kind: new.kind,
        bank: new.bank.clone(),
    })
}

pub async fn get(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Organisation> {
    let row = tx
        .query_opt(
            "SELECT id, name, kind, bank_sort_code, bank_account_number, bank_account_name
             FROM organisations WHERE council_id = $1 AND id = $2",
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(from_row(&row))
}

pub async fn list(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<Organisation>> {
    let rows = tx
        .query(
            "SELECT id, name, kind, bank_sort_code, bank_account_number, bank_account_name
             FROM organisations WHERE council_id = $1 ORDER BY name, id",
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
    }
}
