use axum::extract::State;
use maud::Markup;
use uuid::Uuid;

use super::session::AdminSession;
use super::{labels, AdminPath, AdminResult};
use crate::budgets::{listing, people};
use crate::http::AppState;
use allot_views::pages::people::{people as people_page, PersonRow};
use allot_views::pages::person::{person as person_page, PersonBudgetRow, PersonPage};

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
    let can_add = session.actor.role == crate::auth::Role::CareManager;
    Ok(people_page(&shell, &rows, can_add))
}

/// One person, with how to reach them, their budgets, assessments and carers.
pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    render(&state, &session, id, super::assessments::Typed::default()).await
}

/// The person's page, with what was typed into its assessment and carer forms.
pub(super) async fn render(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    typed: super::assessments::Typed,
) -> AdminResult<Markup> {
    let errors = typed.errors.clone();
    let section = super::assessments::section(state, session, id, typed).await?;
    let shell = session.shell(state, "/people").await?;
    let actor = session.actor.clone();
    let (person, budgets) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let person = people::get(tx, &actor, id).await?;
                let budgets = listing::list(tx, &actor, Some(id)).await?;
                Ok((person, budgets))
            })
        })
        .await?;
    let mut contact = Vec::new();
    if let Some(phone) = &person.contact.phone {
        contact.push(("Phone", phone.clone()));
    }
    if let Some(email) = &person.contact.email {
        contact.push(("Email", email.clone()));
    }
    if let Some(address) = &person.contact.address {
        contact.push(("Address", address.clone()));
    }
    let data = PersonPage {
        id: person.id,
        name: person.name,
        date_of_birth: Some(person.date_of_birth),
        has_capacity: person.has_capacity,
        excluded_from_direct_payments: person.excluded_from_direct_payments,
        contact,
        preferred_contact: person.contact.preferred.map(|p| match p {
            people::ContactMethod::Post => "Post",
            people::ContactMethod::Email => "Email",
            people::ContactMethod::Phone => "Phone call",
            people::ContactMethod::TextMessage => "Text message",
        }),
        communication_formats: person
            .communication
            .formats
            .iter()
            .map(|f| f.label())
            .collect(),
        language: person.communication.language,
        communication_notes: person.communication.notes,
        budgets: budgets
            .into_iter()
            .map(|b| PersonBudgetRow {
                id: b.id,
                reference: b.reference,
                kind: labels::budget_kind_code(&b.kind),
                start_date: b.start_date,
                end_date: b.end_date,
                cost: b.annual_cost,
                plan: labels::plan_state(b.approved_version, b.has_draft),
            })
            .collect(),
        errors,
        assessments: section,
        actions: if session.actor.role == crate::auth::Role::CareManager {
            vec![
                (
                    format!("/budgets/new?person_id={id}"),
                    "Add a budget".to_owned(),
                ),
                (
                    format!("/people/{id}/capacity"),
                    "Record a change in capacity".to_owned(),
                ),
            ]
        } else {
            Vec::new()
        },
    };
    Ok(person_page(&shell, &data))
}
