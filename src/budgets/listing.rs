//! The budgets list: every budget the actor may see, with its person, plan state and next review.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::Tx;
use crate::error::AppResult;

#[derive(Debug, Clone)]
pub struct BudgetListing {
    pub id: Uuid,
    pub reference: String,
    pub person_id: Uuid,
    pub person_name: String,
    pub kind: String,
    pub annual_cost: Decimal,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Version of the approved plan, if any.
    pub approved_version: Option<i32>,
    pub has_draft: bool,
    pub next_review: Option<NaiveDate>,
}

/// Every budget the actor may see, or only one person's.
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    person_id: Option<Uuid>,
) -> AppResult<Vec<BudgetListing>> {
    let rows = tx
        .query(
            "SELECT b.id, b.reference, p.id, p.name, b.kind, b.annual_cost, b.start_date, b.end_date,
                    (SELECT version FROM support_plans s WHERE s.council_id = b.council_id AND s.budget_id = b.id AND s.status = 'approved'),
                    EXISTS (SELECT 1 FROM support_plans s WHERE s.council_id = b.council_id AND s.budget_id = b.id AND s.status = 'draft'),
                    (SELECT due_on FROM reviews r WHERE r.council_id = b.council_id AND r.budget_id = b.id AND r.completed_on IS NULL)
             FROM budgets b JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             WHERE b.council_id = $1 AND can_see_budget($1, $2, b.id) AND ($3::uuid IS NULL OR b.person_id = $3)
             ORDER BY p.name, b.reference",
            &[&actor.council_id, &actor.user_id, &person_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| BudgetListing {
            id: r.get(0),
            reference: r.get(1),
            person_id: r.get(2),
            person_name: r.get(3),
            kind: r.get(4),
            annual_cost: r.get(5),
            start_date: r.get(6),
            end_date: r.get(7),
            approved_version: r.get(8),
            has_draft: r.get(9),
            next_review: r.get(10),
        })
        .collect())
}
