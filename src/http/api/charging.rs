use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::budgets::charging::{self, CapitalAssessment, ChargingParameters};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{Json, Query};
use crate::http::AppState;
use crate::money::Money;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChargingQuery {
    /// The date the parameters apply on (default today).
    #[serde(default, with = "crate::dates::option")]
    on: Option<NaiveDate>,
    /// Capital to assess, as an amount like `15000.00`.
    #[param(value_type = Option<String>)]
    capital: Option<Money>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChargingAnswer {
    parameters: ChargingParameters,
    /// Present when `capital` was given.
    capital_assessment: Option<CapitalAssessment>,
}

/// The national charging parameters in force on a date (capital limits, tariff income, MIG by
/// age band), and optionally what some capital means under them.
#[utoipa::path(get, path = "/api/v1/charging-parameters", tag = "budgets", security(("bearer" = [])),
    params(ChargingQuery),
    responses((status = 200, body = ChargingAnswer), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope, description = "no parameters that early")))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ChargingQuery>,
) -> ApiResult<Json<ChargingAnswer>> {
    let on = query.on.unwrap_or_else(|| state.clock.today());
    let parameters = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { charging::parameters_on(tx, on).await })
        })
        .await?;
    let capital_assessment = query
        .capital
        .map(|capital| charging::assess_capital(capital.amount(), &parameters.capital));
    Ok(Json(ChargingAnswer {
        parameters,
        capital_assessment,
    }))
}
