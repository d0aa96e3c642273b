//! Changing a person's record: capacity, exclusion from direct payments, contact and communication
//! preferences. Capacity and exclusion decide whether money may be released to them, so every
//! change is kept in `person_changes` (who, when, from what to what). Nothing else needs updating:
//! a change in capacity makes the person's reviews due now (sql/V25); payment runs and the rules read the record as it stands when they run, so a grant that no
//! longer fits, or a direct payment whose conditions stop being met, stops working at once.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{check_name, get, Communication, Contact, ContactMethod, Person};
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// The fields to change; absent fields stay as they are. `contact` and `communication` replace
/// the whole of what was recorded.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChanges {
    pub name: Option<String>,
    pub has_capacity: Option<bool>,
    pub excluded_from_direct_payments: Option<bool>,
    pub contact: Option<Contact>,
    pub communication: Option<Communication>,
}

/// Applies the changes (care managers only; checked by the caller) and returns the person.
pub async fn update(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    changes: &PersonChanges,
    now: DateTime<Utc>,
) -> AppResult<Person> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    // Lock the row so two simultaneous changes are recorded one after the other.
    tx.query_opt(
        "SELECT 1 FROM people WHERE council_id = $1 AND id = $2 FOR UPDATE",
        &[&council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let before = get(tx, actor, id).await?;
    let mut after = before.clone();
    if let Some(name) = &changes.name {
        after.name = check_name(name)?.to_string();
    }
    if let Some(has_capacity) = changes.has_capacity {
        after.has_capacity = has_capacity;
    }
    if let Some(excluded) = changes.excluded_from_direct_payments {
        after.excluded_from_direct_payments = excluded;
    }
    if let Some(contact) = &changes.contact {
        after.contact = contact.validated()?;
    }
    if let Some(communication) = &changes.communication {
        after.communication = communication.validated()?;
    }
    let diff = difference(&before, &after);
    if diff.is_empty() {
        return Ok(after);
    }
    tx.execute(
        "UPDATE people SET name = $3, has_capacity = $4, excluded_from_direct_payments = $5,
                contact_phone = $6, contact_email = $7, contact_address = $8, preferred_contact = $9,
                communication_formats = $10, preferred_language = $11, communication_notes = $12,
                updated_at = now()
         WHERE council_id = $1 AND id = $2",
        &[
            &council_id,
            &id,
            &after.name,
            &after.has_capacity,
            &after.excluded_from_direct_payments,
            &after.contact.phone,
            &after.contact.email,
            &after.contact.address,
            &after.contact.preferred.map(ContactMethod::as_str),
            &after.communication.format_strings(),
            &after.communication.language,
            &after.communication.notes,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO person_changes (council_id, id, person_id, changed_by, changes, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &council_id,
            &Uuid::new_v4(),
            &id,
            &actor.user_id,
            &Value::Object(diff),
            &now,
        ],
    )
    .await?;
    Ok(after)
}

/// `{"field": {"from": .., "to": ..}}` for every field that changed.
fn difference(before: &Person, after: &Person) -> Map<String, Value> {
    let mut diff = Map::new();
    let mut note = |field: &str, from: Value, to: Value| {
        if from != to {
            diff.insert(field.to_string(), json!({"from": from, "to": to}));
        }
    };
    note("name", json!(before.name), json!(after.name));
    note(
        "has_capacity",
        json!(before.has_capacity),
        json!(after.has_capacity),
    );
    note(
        "excluded_from_direct_payments",
        json!(before.excluded_from_direct_payments),
        json!(after.excluded_from_direct_payments),
    );
    note("contact", json!(before.contact), json!(after.contact));
    note(
        "communication",
        json!(before.communication),
        json!(after.communication),
    );
    diff
}
