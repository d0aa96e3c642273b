//! Carers: a person who cares for another of the council's people. The link is recorded once and
//! read from both ends (`cares_for` on the carer, `carers` on the person cared for). A carer's own
//! budget comes from a carer's assessment (see [`super::assessments`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// A link as sent: the carer of the person in the path.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCarer {
    pub carer_person_id: Uuid,
}

/// One person at the other end of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LinkedPerson {
    pub person_id: Uuid,
    pub name: String,
}

/// Both ends of a person's links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CarerLinks {
    /// The people this person cares for.
    pub cares_for: Vec<LinkedPerson>,
    /// The people who care for this person.
    pub carers: Vec<LinkedPerson>,
}

/// A care manager records that `carer_person_id` cares for `person_id` (both the council's
/// people, else 404; oneself 400; the same link twice 409). Returns the person's links.
pub async fn link(
    tx: &Tx<'_>,
    actor: &Actor,
    person_id: Uuid,
    new: &NewCarer,
) -> AppResult<CarerLinks> {
    actor.require(&[Role::CareManager])?;
    crate::budgets::people::get(tx, actor, person_id).await?;
    if new.carer_person_id == person_id {
        return Err(AppError::invalid(
            "carer_person_id",
            "a person cannot be their own carer",
        ));
    }
    crate::budgets::people::get(tx, actor, new.carer_person_id).await?;
    let inserted = tx
        .execute(
            "INSERT INTO carer_links (council_id, carer_person_id, cared_for_person_id, created_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[
                &actor.council_id,
                &new.carer_person_id,
                &person_id,
                &actor.user_id,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(AppError::conflict(
            "That person is already recorded as this person's carer.",
        ));
    }
    of_person(tx, actor, person_id).await
}

/// A person's links both ways, naming only the people the actor may see (the caller has already
/// been allowed to see the person).
pub async fn of_person(tx: &Tx<'_>, actor: &Actor, person_id: Uuid) -> AppResult<CarerLinks> {
    let rows = tx
        .query(
            "SELECT l.cared_for_person_id = $2 AS is_carer_of_me, p.id, p.name
             FROM carer_links l
             JOIN people p ON p.council_id = l.council_id
                  AND p.id = CASE WHEN l.carer_person_id = $2 THEN l.cared_for_person_id
                                  ELSE l.carer_person_id END
             WHERE l.council_id = $1 AND (l.carer_person_id = $2 OR l.cared_for_person_id = $2)
               AND can_see_person($1, $3, p.id)
             ORDER BY p.name, p.id",
            &[&actor.council_id, &person_id, &actor.user_id],
        )
        .await?;
    let mut links = CarerLinks::default();
    for row in rows {
        let linked = LinkedPerson {
            person_id: row.get(1),
            name: row.get(2),
        };
        if row.get::<_, bool>(0) {
            links.carers.push(linked);
        } else {
            links.cares_for.push(linked);
        }
    }
    Ok(links)
}
