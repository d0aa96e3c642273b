//! The webhook endpoints page (council administrators; provider staff for their organisation):
//! each endpoint with its delivery log, the register form (the secret shown once, on the page
//! that answers it) and delete buttons. The same services as the API.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::payments::Empty;
use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminResult};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::webhooks::endpoints;
use crate::webhooks::secrets::SecretSealer;
use crate::webhooks::{NewEndpoint, EVENTS};
use allot_views::pages::webhooks::{
    self as views, DeliveryRow, EndpointForm, EndpointRow, WebhooksPage,
};

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.format("%-d %b %Y %H:%M:%S").to_string())
        .unwrap_or_default()
}

async fn render(
    state: &AppState,
    session: &AdminSession,
    form: EndpointForm,
    created: Option<(String, String)>,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/webhooks").await?;
    let actor = session.actor.clone();
    let listed = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let mut listed = Vec::new();
                for endpoint in endpoints::list(tx, &actor).await? {
                    let deliveries = endpoints::deliveries(tx, &actor, endpoint.id).await?;
                    listed.push((endpoint, deliveries));
                }
                Ok(listed)
            })
        })
        .await?;
    let rows = listed
        .into_iter()
        .map(|(e, deliveries)| EndpointRow {
            id: e.id.to_string(),
            url: e.url,
            events: e.events.join(", "),
            status: match e.disabled_reason {
                Some(reason) => format!("{} ({reason})", e.status),
                None => e.status,
            },
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    event: d.event_type,
                    webhook_id: d.webhook_id,
                    status: d.status,
                    attempts: d.attempts,
                    last: match (d.last_status_code, d.last_error) {
                        (Some(code), _) => format!("{} — {code}", when(d.last_attempt_at)),
                        (None, Some(error)) => format!("{} — {error}", when(d.last_attempt_at)),
                        (None, None) => when(d.last_attempt_at),
                    },
                    next: when(d.next_attempt_at),
                })
                .collect(),
        })
        .collect();
    Ok(views::webhooks(
        &shell,
        &WebhooksPage {
            endpoints: rows,
            events: EVENTS.to_vec(),
            form,
            created,
            csrf_token: session.csrf_token.clone(),
            errors,
        },
    ))
}

fn refusal(e: AppError) -> Result<(axum::http::StatusCode, String), AppError> {
    match e {
        AppError::NotFound | AppError::Forbidden => Err(e),
        other => {
            let error = ApiError::from(other);
            Ok((error.status, error.message))
        }
    }
}

/// The endpoints with their delivery logs.
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<maud::Markup> {
    render(&state, &session, EndpointForm::default(), None, Vec::new()).await
}

/// Registers an endpoint and shows its secret once (or the refusal, the form as typed).
pub async fn create(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Vec<(String, String)>>,
) -> AdminResult<Response> {
    let mut typed = EndpointForm::default();
    for (name, value) in form {
        match name.as_str() {
            "url" => typed.url = value.trim().to_owned(),
            "events" => typed.events.push(value),
            _ => {}
        }
    }
    let new = NewEndpoint {
        url: typed.url.clone(),
        events: typed.events.clone(),
    };
    let actor = session.actor.clone();
    let (allow_private, now) = (state.settings.webhook_allow_private, state.clock.now());
    let sealer = SecretSealer::new(&state.chain_key);
    let done = crate::commands::write(&state.pool, actor.council_id, |tx| {
        let (actor, new, sealer) = (actor.clone(), new.clone(), sealer.clone());
        Box::pin(
            async move { endpoints::create(tx, &actor, &new, allow_private, &sealer, now).await },
        )
    })
    .await;
    match done {
        Ok(created) => {
            let shown = Some((created.endpoint.url.clone(), created.secret));
            let page = render(&state, &session, EndpointForm::default(), shown, Vec::new()).await?;
            Ok((axum::http::StatusCode::CREATED, page).into_response())
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = render(&state, &session, typed, None, vec![message]).await?;
            Ok((status, page).into_response())
        }
    }
}

/// Deletes an endpoint, then back to the list.
pub async fn delete(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    crate::commands::write(&state.pool, actor.council_id, |tx| {
        let actor = actor.clone();
        Box::pin(async move { endpoints::delete(tx, &actor, id).await })
    })
    .await?;
    Ok(Redirect::to("/webhooks").into_response())
}
