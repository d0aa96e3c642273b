use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::carers::{self, CarerLinks};
use crate::budgets::people::update::{self, PersonChanges};
use crate::budgets::people::{self, NewPerson, Person};
use crate::http::api::List;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Path};
use crate::http::AppState;

/// Record a person with eligible needs.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", security(("bearer" = [])),
    request_body = NewPerson,
    responses((status = 201, body = Person), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<NewPerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    let today = state.clock.today();
    let person = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { people::record(tx, &actor, &body, today).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(person)))
}

/// The people the caller may see.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = List<Person>), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<List<Person>>> {
    let items = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { people::list(tx, &actor).await })
        })
        .await?;
    Ok(Json(List::all(items)))
}

/// A person with their carer links both ways.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PersonWithCarers {
    #[serde(flatten)]
    pub person: Person,
    #[serde(flatten)]
    pub links: CarerLinks,
}

/// One person, with `cares_for` and `carers`.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonWithCarers), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PersonWithCarers>> {
    let person = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let person = people::get(tx, &actor, id).await?;
                let links = carers::of_person(tx, &actor, id).await?;
                Ok(PersonWithCarers { person, links })
            })
        })
        .await?;
    Ok(Json(person))
}

/// Change a person's capacity, exclusion, contact or communication preferences (care managers).
/// Releases and grants follow the record at once: a direct payment whose conditions stop being
/// met is skipped by the next payment run.
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PersonChanges,
    responses((status = 200, body = PersonChanged), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn patch(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(body): Json<PersonChanges>,
) -> ApiResult<Json<PersonChanged>> {
    let now = state.clock.now();
    let changed = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move {
                let person = update::update(tx, &actor, id, &body, now).await?;
                let grants_stopped =
                    crate::budgets::agreements::misfits_of_person(tx, actor.council_id, id).await?;
                Ok(PersonChanged {
                    person,
                    grants_stopped,
                })
            })
        })
        .await?;
    Ok(Json(changed))
}

/// The person as changed, with the grants on their budgets that no longer fit them (each with
/// the sentence saying why); those grants stop working at once.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PersonChanged {
    #[serde(flatten)]
    pub person: Person,
    pub grants_stopped: Vec<crate::budgets::agreements::Grant>,
}
