//! The web layer: the JSON API under `/api/v1` and the admin pages, built by [`app`].
//! Handlers are thin: parse, call one service function, render.
//!
//! Every response carries `X-Content-Type-Options: nosniff`, a Content-Security-Policy that
//! allows only our own scripts and styles (no inline script, no framing), `Referrer-Policy:
//! no-referrer` and, unless the handler says otherwise (the stylesheet may be cached),
//! `Cache-Control: no-store`. A request that outlives `request_timeout` is answered 503
//! `unavailable` (the API.md envelope, or the HTML error page).

pub mod admin;
pub mod api;
pub mod auth;
pub mod control_chars;
pub mod error;
pub mod extract;
pub mod idempotency;

use std::sync::Arc;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::throttle::SignInGate;
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
    /// Turns at password hashing and the per-address sign-in limit.
    pub sign_in: Arc<SignInGate>,
    /// The key of the ledger's hash chain, kept outside the database (see
    /// [`crate::ledger::chain::key`]).
    pub chain_key: ChainKey,
    /// Where evidence files are kept (see [`crate::evidence::store`]).
    pub evidence: crate::evidence::SharedEvidenceStore,
    /// The card processors' keys, kept in memory (see [`crate::cards::processors::KeyCache`]).
    pub processor_keys: Arc<crate::cards::processors::KeyCache>,
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
            sign_in: Arc::new(SignInGate::new(&settings)),
            pool,
            settings: Arc::new(settings),
            clock,
            chain_key: ChainKey::fixed_for_tests(),
            evidence: Arc::new(crate::evidence::PgEvidenceStore),
            processor_keys: Arc::default(),
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

    /// Runs a change that carries no idempotency key (see [`crate::commands::write`]): committed
    /// when `work` succeeds, the whole transaction run again after a deadlock or serialization
    /// failure, so `work` may run more than once.
    pub async fn write<T, F>(&self, council_id: uuid::Uuid, work: F) -> crate::error::AppResult<T>
    where
        F: for<'a> Fn(
            &'a crate::db::Tx<'a>,
        ) -> crate::db::BoxFuture<'a, crate::error::AppResult<T>>,
    {
        crate::commands::write(&self.pool, council_id, work).await
    }

    /// Runs `work` in one transaction acting for `council_id` (see [`crate::db::in_tenant_tx`]):
    /// for reads; changes go through [`AppState::write`] or [`AppState::command`].
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

/// Our own scripts and styles only: no inline script or style, no plugins, no framing.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

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
        // The Open Referral UK root as the standard writes it, with a trailing slash.
        .route(
            "/openreferral/{council_id}/",
            axum::routing::get(api::directory::oruk_root),
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
                .layer(SetResponseHeaderLayer::overriding(
                    X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(axum::middleware::from_fn_with_state(timeout, time_limit))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

/// Answers 503 `unavailable` (envelope or HTML page) when the rest of the request takes longer
/// than `limit`; the handler's future is dropped, so its transaction rolls back.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            if api {
                error::ApiError::unavailable().into_response()
            } else {
                admin::unavailable_page().into_response()
            }
        }
    }
}

async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        error::ApiError::not_found().into_response()
    } else {
        admin::not_found_page().into_response()
    }
}
