use axum::extract::State;
use serde::Serialize;

use crate::auth::{councils, Actor, Role};
use crate::budgets::organisations::{self, Organisation};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    id: uuid::Uuid,
    email: String,
    name: String,
    role: Role,
    council: CouncilRef,
    organisation: Option<Organisation>,
    person_id: Option<uuid::Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CouncilRef {
    id: uuid::Uuid,
    name: String,
}

/// The caller: who they are, their role, council and organisation.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorEnvelope)))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<Me>> {
    let (council_id, organisation_id) = (actor.council_id, actor.organisation_id);
    let (council_name, organisation) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let name = councils::name(tx, council_id).await?;
                let organisation = match organisation_id {
                    Some(id) => Some(organisations::get(tx, council_id, id).await?),
                    None => None,
                };
                Ok((name, organisation))
            })
        })
        .await?;
    Ok(Json(Me {
        id: actor.user_id,
        email: actor.email,
        name: actor.name,
        role: actor.role,
        council: CouncilRef {
            id: actor.council_id,
            name: council_name,
        },
        organisation,
        person_id: actor.person_id,
    }))
}
