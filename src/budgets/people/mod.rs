//! People with eligible care needs (or carers with a budget of their own).

pub mod contact;
pub mod update;

use crate::db::Tx;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
pub use contact::{Communication, CommunicationFormat, Contact, ContactMethod};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    #[serde(with = "crate::dates")]
    pub date_of_birth: NaiveDate,
    pub has_capacity: bool,
    #[serde(default)]
    pub excluded_from_direct_payments: bool,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub communication: Option<Communication>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub has_capacity: bool,
    pub excluded_from_direct_payments: bool,
    pub contact: Contact,
    pub communication: Communication,
}

pub(crate) fn check_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name)
}

/// A care manager records a person (the role is checked here, for every caller).
pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    new: &NewPerson,
    today: chrono::NaiveDate,
) -> AppResult<Person> {
    actor.require(&[crate::auth::Role::CareManager])?;
    create(tx, actor.council_id, new, today).await
}

/// Records a person without a role check (loaders: the demo council, benchmarks); `today` is the
/// council's business date (a birth date after it is refused).
pub async fn create(
    tx: &Tx<'_>,
    council_id: Uuid,
    new: &NewPerson,
    today: chrono::NaiveDate,
) -> AppResult<Person> {
    let name = check_name(&new.name)?;
    if new.date_of_birth > today || new.date_of_birth.year() < 1900 {
        return Err(AppError::invalid(
            "date_of_birth",
            "must be a real date of birth, not in the future",
        ));
    }
    let contact = new.contact.clone().unwrap_or_default().validated()?;
    let communication = new.communication.clone().unwrap_or_default().validated()?;
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO people (council_id, id, name, date_of_birth, has_capacity, excluded_from_direct_payments,
                             contact_phone, contact_email, contact_address, preferred_contact,
                             communication_formats, preferred_language, communication_notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &council_id,
            &id,
            &name,
            &new.date_of_birth,
            &new.has_capacity,
            &new.excluded_from_direct_payments,
            &contact.phone,
            &contact.email,
            &contact.address,
            &contact.preferred.map(ContactMethod::as_str),
            &communication.format_strings(),
            &communication.language,
            &communication.notes,
        ],
    )
    .await?;
    Ok(Person {
        id,
        name: name.to_string(),
        date_of_birth: new.date_of_birth,
        has_capacity: new.has_capacity,
        excluded_from_direct_payments: new.excluded_from_direct_payments,
        contact,
        communication,
    })
}

/// The people an actor may see are decided in SQL by `can_see_person` (council staff: everyone;
/// a budget holder: themselves; brokers and provider staff: the people whose budgets they broker
/// or hold money for), so that every query asking about people applies the same rule.
const SELECT_VISIBLE: &str =
    "SELECT p.id, p.name, p.date_of_birth, p.has_capacity, p.excluded_from_direct_payments,
            p.contact_phone, p.contact_email, p.contact_address, p.preferred_contact,
            p.communication_formats, p.preferred_language, p.communication_notes
     FROM people p WHERE p.council_id = $1 AND can_see_person($1, $2, p.id)";

pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Person>> {
    let sql = format!("{SELECT_VISIBLE} ORDER BY p.name, p.id");
    let rows = tx.query(&sql, &[&actor.council_id, &actor.user_id]).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Person> {
    let sql = format!("{SELECT_VISIBLE} AND p.id = $3");
    let row = tx
        .query_opt(&sql, &[&actor.council_id, &actor.user_id, &id])
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

fn from_row(row: &tokio_postgres::Row) -> AppResult<Person> {
    let preferred: Option<&str> = row.get(8);
    let preferred = preferred
        .map(|p| {
            ContactMethod::parse(p)
                .ok_or_else(|| AppError::Internal(format!("unknown contact method {p}")))
        })
        .transpose()?;
    let formats: Vec<String> = row.get(9);
    let formats = formats
        .iter()
        .map(|f| {
            CommunicationFormat::parse(f)
                .ok_or_else(|| AppError::Internal(format!("unknown communication format {f}")))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Person {
        id: row.get(0),
        name: row.get(1),
        date_of_birth: row.get(2),
        has_capacity: row.get(3),
        excluded_from_direct_payments: row.get(4),
        contact: Contact {
            phone: row.get(5),
            email: row.get(6),
            address: row.get(7),
            preferred,
        },
        communication: Communication {
            formats,
            language: row.get(10),
            notes: row.get(11),
        },
    })
}
