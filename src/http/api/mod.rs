//! The JSON API under `/api/v1`. Every handler is annotated for OpenAPI and registered through
//! `utoipa_axum::routes!`, so the published description is generated from the handlers themselves.

mod auth;
mod ledger;
mod ledger_views;
mod me;
mod organisations;
mod people;
mod users;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "allot API", version = "1", description = "Double-entry ledger for UK social-care personal budgets."),
    modifiers(&BearerAuth),
    components(schemas(super::error::ErrorEnvelope))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A page of a list: `{"items":[...],"next_cursor":...}` (API.md).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct List<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: utoipa::ToSchema> List<T> {
    /// A complete list in one page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::create_token))
        .routes(routes!(me::me))
        .routes(routes!(organisations::create, organisations::list))
        .routes(routes!(users::create))
        .routes(routes!(people::create, people::list))
        .routes(routes!(people::get))
        .routes(routes!(ledger::statement))
        .routes(routes!(ledger::reverse))
        .routes(routes!(ledger::verify))
}
