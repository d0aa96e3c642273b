//! Who is calling: the bearer token of an API request becomes an [`Actor`].

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::AppState;
use crate::auth::sessions::{self, TokenKind};
use crate::auth::Actor;

/// The bearer token in a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 200)
}

/// The network address of the connection a request came over (the server must be run with
/// `into_make_service_with_connect_info::<SocketAddr>()`); `None` for requests that did not come
/// over a socket, such as in-process tests. Never taken from a header: `X-Forwarded-For` and
/// the like are whatever the client wants them to be.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(PeerAddress(peer))
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        match sessions::find(&state.pool, token, TokenKind::Api).await? {
            Some((actor, _)) => Ok(actor),
            None => Err(ApiError::unauthenticated()),
        }
    }
}
