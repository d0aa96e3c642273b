//! The web layer: the JSON API under `/api/v1` and the admin pages, built by [`app`].
//! Handlers are thin: parse, call one service function, render.

pub mod admin;
pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::commands::PaymentDesk;
use crate::config::Settings;
use crate::db::DbPool;
use crate::ledger::ChainKey;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    /// The one clock (see [`crate::clock`]).
    pub clock: Clock,
    /// The coalescing payment path (see [`crate::commands::coalesce`]).
    pub payments: PaymentDesk,
    /// The key of the ledger's hash chain, kept outside the database (see
    /// [`crate::ledger::chain::key`]).
    pub chain_key: ChainKey,
}

impl AppState {
    /// State for tests and tools: the system clock and [`ChainKey::fixed_for_tests`]. A server
    /// gives its own key with [`AppState::with_chain_key`].
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        Self::with_clock(pool, settings, Clock::system())
    }

    /// State whose time is `clock`'s (tests set it).
    pub fn with_clock(pool: DbPool, settings: Settings, clock: Clock) -> Self {
        Self {
            payments: PaymentDesk::new(pool.clone(), clock.clone()),
            pool,
            settings: Arc::new(settings),
            clock,
            chain_key: ChainKey::fixed_for_tests(),
        }
    }

    /// The same state with the chain sealed and verified under `key`.
    pub fn with_chain_key(mut self, key: ChainKey) -> Self {
        self.chain_key = key;
        self
    }

    /// Runs `work` as one command (see [`crate::commands::run`]): retried on deadlocks, under
    /// the idempotency claim when there is one.
    pub async fn command<T, F>(
        &self,
        council_id: uuid::Uuid,
        claim: Option<&crate::commands::Claim>,
        work: F,
    ) -> crate::error::AppResult<crate::commands::Ran<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: for<'a> Fn(
            &'a crate::db::Tx<'a>,
        ) -> crate::db::BoxFuture<'a, crate::error::AppResult<T>>,
    {
        crate::commands::run(&self.pool, council_id, claim, work).await
    }

    /// Runs `work` in one transaction acting for `council_id` (see [`crate::db::in_tenant_tx`]).
    pub async fn in_tenant_tx<T, F>(
        &self,
        council_id: uuid::Uuid,
        work: F,
    ) -> crate::error::AppResult<T>
    where
        F: for<'a> FnOnce(
            &'a crate::db::Tx<'a>,
        ) -> crate::db::BoxFuture<'a, crate::error::AppResult<T>>,
    {
        crate::db::in_tenant_tx(&self.pool, council_id, work).await
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, OpenAPI description, admin pages, static files.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    let timeout = state.settings.request_timeout;
    let body_limit = state.settings.body_limit;
    Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { extract::Json(openapi.as_ref().clone()) }
            }),
        )
        .merge(admin::router())
        .fallback(fallback)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    // Logs method, path (never the query string or headers: tokens live there) and request id.
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        error::ApiError::not_found().into_response()
    } else {
        admin::not_found_page().into_response()
    }
}
