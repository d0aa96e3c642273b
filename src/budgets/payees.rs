//! Payees: whoever receives money from a deployment account (care agencies, personal assistants,
//! care homes, council services, individuals, retailers), with their relationship to the person
//! and whether they live with them (DP Regs reg 3), and two flags the spending rules read:
//! `active`, and `bank_verified` (only a finance officer may say the bank details were verified).
//! Bank details are logged as they are given and changed ([`crate::budgets::bank_changes`]): a
//! change makes them unverified until another finance officer verifies it.

use serde::{Deserialize, Serialize};
use std::str::FromStr;
use uuid::Uuid;

use super::bank::BankDetails;
use super::bank_changes::{self, Subject};
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::{PayeeKind, Relationship};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayee {
    pub name: String,
    #[schema(value_type = String, example = "personal_assistant")]
    pub kind: PayeeKind,
    /// The person this payee works for, when it is someone's own PA or relative.
    #[serde(default)]
    pub person_id: Option<Uuid>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "sibling")]
    pub relationship: Option<Relationship>,
    #[serde(default)]
    pub lives_with_person: bool,
    pub bank: BankDetails,
    #[serde(default = "yes")]
    pub active: bool,
    /// Set by a finance officer who has verified the account (confirmation of payee, a letter).
    #[serde(default)]
    pub bank_verified: bool,
    /// The organisation the payee is, recorded by council staff (a broker's organisation, for
    /// its fee): a broker then cannot pay it (`self_payment`). Provider staff's payees are their
    /// own organisation's; they may leave this out or name it.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payee {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = String, example = "personal_assistant")]
    pub kind: PayeeKind,
    pub person_id: Option<Uuid>,
    #[schema(value_type = String, example = "sibling")]
    pub relationship: Relationship,
    pub lives_with_person: bool,
    pub bank: BankDetails,
    pub active: bool,
    pub bank_verified: bool,
    /// The organisation of the provider staff who recorded it, if any.
    pub organisation_id: Option<Uuid>,
}

/// Who records and changes payees.
const RECORDERS: &[Role] = &[Role::CareManager, Role::FinanceOfficer, Role::ProviderStaff];

fn checked_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name)
}

/// Records a payee: care managers, finance officers and provider staff; and a budget holder,
/// only their own personal assistant (a payee of their own record, with bank details that wait,
/// like anyone's but a finance officer's, for a finance officer to verify them: until then every
/// payment to it is refused `payee_not_approved`).
pub async fn create(tx: &Tx<'_>, actor: &Actor, new: &NewPayee) -> AppResult<Payee> {
    if actor.role == Role::BudgetHolder {
        own_personal_assistant(actor, new)?;
    } else {
        actor.require(RECORDERS)?;
    }
    let council_id = actor.council_id;
    let name = checked_name(&new.name)?;
    new.bank.validate("bank")?;
    if new.bank_verified && actor.role != Role::FinanceOfficer {
        return Err(AppError::invalid(
            "bank_verified",
            "only a finance officer can record that bank details were verified",
        ));
    }
    let relationship = new.relationship.unwrap_or(Relationship::NoRelationship);
    if let Some(person_id) = new.person_id {
        let visible = tx
            .query_one(
                &tx.prepare_cached("SELECT can_see_person($1, $2, $3)")
                    .await?,
                &[&council_id, &actor.user_id, &person_id],
            )
            .await?
            .get::<_, bool>(0);
        if !visible {
            return Err(AppError::NotFound);
        }
    } else if relationship != Relationship::NoRelationship || new.lives_with_person {
        return Err(AppError::invalid(
            "person_id",
            "a relationship or shared household is to someone: name the person",
        ));
    }
    let bank = new.bank.normalised();
    let organisation_id = match (actor.organisation_id, new.organisation_id) {
        (Some(own), Some(named)) if own != named => {
            return Err(AppError::invalid(
                "organisation_id",
                "provider staff record payees of their own organisation only",
            ))
        }
        (Some(own), _) => Some(own),
        (None, Some(named)) => {
            super::organisations::get(tx, council_id, named)
                .await
                .map_err(|e| match e {
                    AppError::NotFound => {
                        AppError::invalid("organisation_id", "no such organisation")
                    }
                    other => other,
                })?;
            Some(named)
        }
        (None, None) => None,
    };
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO payees (council_id, id, name, kind, person_id, relationship, lives_with_person,
                             bank_sort_code, bank_account_number, bank_account_name, active, bank_verified,
                             organisation_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &council_id,
            &id,
            &name,
            &new.kind.as_str(),
            &new.person_id,
            &relationship.as_str(),
            &new.lives_with_person,
            &bank.sort_code,
            &bank.account_number,
            &bank.account_name,
            &new.active,
            &new.bank_verified,
            &organisation_id,
            &actor.user_id,
        ],
    )
    .await?;
    bank_changes::created(tx, actor, Subject::Payee(id), &bank, new.bank_verified).await?;
    Ok(Payee {
        id,
        name: name.to_string(),
        kind: new.kind,
        person_id: new.person_id,
        relationship,
        lives_with_person: new.lives_with_person,
        bank,
        active: new.active,
        bank_verified: new.bank_verified,
        organisation_id,
    })
}

/// What a budget holder may ask for: their own personal assistant, nothing else.
fn own_personal_assistant(actor: &Actor, new: &NewPayee) -> AppResult<()> {
    if new.person_id.is_none() || new.person_id != actor.person_id {
        return Err(AppError::invalid(
            "person_id",
            "a budget holder asks for a payee of their own: give your own person id",
        ));
    }
    if new.kind != PayeeKind::PersonalAssistant {
        return Err(AppError::invalid(
            "kind",
            "a budget holder asks only for their own personal assistant (personal_assistant)",
        ));
    }
    if new.organisation_id.is_some() {
        return Err(AppError::invalid(
            "organisation_id",
            "a personal assistant is a person, not an organisation",
        ));
    }
    Ok(())
}

/// What may change about a payee. Anything left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeChanges {
    pub name: Option<String>,
    /// New bank details: unverified until a finance officer other than the one who changed them
    /// verifies them (`POST /api/v1/bank-detail-changes/{id}/verify`).
    pub bank: Option<BankDetails>,
    pub active: Option<bool>,
}

/// Changes a payee: council care managers and finance officers any of the council's, provider
/// staff those their organisation recorded (anyone else's: 404).
pub async fn update(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    changes: &PayeeChanges,
) -> AppResult<Payee> {
    actor.require(RECORDERS)?;
    let council_id = actor.council_id;
    tx.query_opt(
        "SELECT 1 FROM payees WHERE council_id = $1 AND id = $2 FOR UPDATE",
        &[&council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let mut payee = visible(tx, actor, id).await?;
    if let Some(name) = &changes.name {
        payee.name = checked_name(name)?.to_string();
    }
    if let Some(bank) = &changes.bank {
        bank.validate("bank")?;
        let bank = bank.normalised();
        if bank_changes::changed(tx, actor, Subject::Payee(id), Some(&payee.bank), &bank).await? {
            payee.bank_verified = false;
        }
        payee.bank = bank;
    }
    if let Some(active) = changes.active {
        payee.active = active;
    }
    tx.execute(
        "UPDATE payees SET name = $3, bank_sort_code = $4, bank_account_number = $5,
                bank_account_name = $6, active = $7, bank_verified = $8
         WHERE council_id = $1 AND id = $2",
        &[
            &council_id,
            &id,
            &payee.name,
            &payee.bank.sort_code,
            &payee.bank.account_number,
            &payee.bank.account_name,
            &payee.active,
            &payee.bank_verified,
        ],
    )
    .await?;
    Ok(payee)
}

/// One payee of the council (404 if there is none).
pub async fn get(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Payee> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT id, name, kind, person_id, relationship, lives_with_person, bank_sort_code,
                    bank_account_number, bank_account_name, active, bank_verified, organisation_id
             FROM payees WHERE council_id = $1 AND id = $2",
            )
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// The payees recorded for a person.
pub async fn of_person(tx: &Tx<'_>, council_id: Uuid, person_id: Uuid) -> AppResult<Vec<Payee>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT id, name, kind, person_id, relationship, lives_with_person, bank_sort_code,
                    bank_account_number, bank_account_name, active, bank_verified, organisation_id
             FROM payees WHERE council_id = $1 AND person_id = $2 ORDER BY name, id",
            )
            .await?,
            &[&council_id, &person_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &tokio_postgres::Row) -> AppResult<Payee> {
    let internal = |e: crate::rules::UnknownValue| AppError::Internal(e.to_string());
    Ok(Payee {
        id: row.get(0),
        name: row.get(1),
        kind: PayeeKind::from_str(row.get(2)).map_err(internal)?,
        person_id: row.get(3),
        relationship: Relationship::from_str(row.get(4)).map_err(internal)?,
        lives_with_person: row.get(5),
        bank: BankDetails {
            sort_code: row.get(6),
            account_number: row.get(7),
            account_name: row.get(8),
        },
        active: row.get(9),
        bank_verified: row.get(10),
        organisation_id: row.get(11),
    })
}

/// A payee the actor may see: council staff all; provider staff those their organisation
/// recorded; anyone else none (404).
pub async fn visible(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payee> {
    let payee = get(tx, actor.council_id, id).await?;
    let allowed = actor.role.is_council_staff()
        || (actor.role == Role::ProviderStaff
            && actor.organisation_id.is_some()
            && payee.organisation_id == actor.organisation_id);
    if allowed {
        Ok(payee)
    } else {
        Err(AppError::NotFound)
    }
}
