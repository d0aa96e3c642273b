use axum::extract::State;
use maud::Markup;

use super::session::AdminSession;
use super::AdminResult;
use crate::budgets::people;
use crate::http::AppState;
use allot_views::pages::people::{people as people_page, PersonRow};

/// The people this user may see.
pub async fn list(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    let shell = session.shell(&state, "/people").await?;
    let actor = session.actor.clone();
    let rows = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { people::list(tx, &actor).await })
        })
        .await?;
    let rows: Vec<PersonRow> = rows
        .into_iter()
        .map(|p| PersonRow {
            id: p.id,
            name: p.name,
            date_of_birth: p.date_of_birth,
            has_capacity: p.has_capacity,
            excluded_from_direct_payments: p.excluded_from_direct_payments,
        })
        .collect();
    Ok(people_page(&shell, &rows))
}
