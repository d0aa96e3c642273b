use axum::extract::State;
use maud::Markup;

use super::session::AdminSession;
use super::AdminResult;
use crate::auth::Role;
use crate::http::AppState;
use allot_views::pages::dashboard::{dashboard, Dashboard, DueReview};

/// The council dashboard: headline figures and what needs this user's attention.
pub async fn show(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    if session.actor.role == Role::ProviderStaff && session.actor.organisation_id.is_some() {
        return super::provider::worklist(&state, &session).await;
    }
    let shell = session.shell(&state, "/").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let mut data = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let row = tx
                    .query_one(
                        "SELECT (SELECT count(*) FROM people p WHERE p.council_id = $1 AND can_see_person($1, $2, p.id)),
                                (SELECT count(*) FROM organisations WHERE council_id = $1),
                                (SELECT count(*) FROM users WHERE council_id = $1)",
                        &[&council_id, &actor.user_id],
                    )
                    .await?;
                Ok(Dashboard { people: row.get(0), organisations: row.get(1), users: row.get(2), notes: Vec::new(), reviews_due: Vec::new(), can_complete_reviews: false })
            })
        })
        .await?;
    // Overdue reviews stay in sight: on the care manager's dashboard, where they are done, and on
    // the council administrator's.
    if matches!(session.actor.role, Role::CareManager | Role::CouncilAdmin) {
        data.can_complete_reviews = session.actor.role == Role::CareManager;
        let today = state.clock.today();
        let due = state
            .in_tenant_tx(council_id, |tx| {
                Box::pin(
                    async move { crate::budgets::reviews::due_now(tx, council_id, today).await },
                )
            })
            .await?;
        data.reviews_due = due
            .into_iter()
            .map(|r| DueReview {
                budget_id: r.budget_id,
                due: if r.overdue {
                    format!("Overdue since {}", r.due_on.format("%-d %B %Y"))
                } else {
                    "Today".to_owned()
                },
                why: r
                    .triggers
                    .iter()
                    .map(super::reviews::trigger_words)
                    .collect(),
                reference: r.budget_reference,
                person_name: r.person_name,
            })
            .collect();
    }
    data.notes = match session.actor.role {
        Role::CareManager => {
            vec!["Check reviews that are due, and approve support plans waiting for you.".into()]
        }
        Role::FinanceOfficer => vec!["Prepare or approve the next payment run.".into()],
        Role::Auditor => {
            vec!["Verify the ledger's hash chain and sample payments for evidence.".into()]
        }
        Role::CouncilAdmin => vec!["Add organisations and users for your council.".into()],
        _ => Vec::new(),
    };
    Ok(dashboard(&shell, &data))
}
