use axum::extract::State;
use maud::Markup;

use super::session::AdminSession;
use super::AdminResult;
use crate::auth::Role;
use crate::budgets::reviews::{self, Review, ReviewFilter};
use crate::http::AppState;
use allot_views::pages::reviews::{reviews as reviews_page, ReviewListRow};

fn row(review: Review) -> ReviewListRow {
    ReviewListRow {
        budget_id: review.budget_id,
        reference: review.budget_reference,
        person_name: review.person_name,
        kind: if review.kind == "first" {
            "First review".into()
        } else {
            "Annual review".into()
        },
        due_on: review.due_on,
    }
}

/// Reviews overdue and due soon (care managers).
pub async fn list(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    session.actor.require(&[Role::CareManager])?;
    let shell = session.shell(&state, "/reviews").await?;
    let council_id = session.actor.council_id;
    let today = state.clock.today();
    let (overdue, due) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                Ok((
                    reviews::list(tx, council_id, ReviewFilter::Overdue, today).await?,
                    reviews::list(tx, council_id, ReviewFilter::Due, today).await?,
                ))
            })
        })
        .await?;
    let overdue: Vec<_> = overdue.into_iter().map(row).collect();
    let due: Vec<_> = due.into_iter().map(row).collect();
    Ok(reviews_page(&shell, &overdue, &due))
}
