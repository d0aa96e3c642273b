//! The JSON API's error: every failure becomes the envelope of API.md,
//! `{"error":{"code","message","details"}}`, with a fixed status per code.
//!
//! Policy: input problems are the caller's (4xx, with a message a person understands and details
//! naming the field or rule); a database that cannot be reached is 503 `unavailable`; anything
//! else is logged in full and answered with a bare 500 `internal` that reveals nothing.

use super::extract::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::sessions::LoginError;
use crate::db::DbError;
use crate::error::{AppError, Detail};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (API.md, RULES.md).
    pub code: String,
    /// A sentence a person understands.
    pub message: String,
    pub details: Vec<Detail>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Vec<Detail>) -> Self {
        self.details = details;
        self
    }

    pub fn invalid_request(message: impl Into<String>, details: Vec<Detail>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).with_details(details)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in first: send a valid token as `Authorization: Bearer <token>`.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing here, or you may not see it.",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Nothing was changed; please try again.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is unavailable just now. Nothing was changed; please try again shortly.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { message, details } => ApiError::invalid_request(message, details),
            AppError::InvalidAmount { message, details } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount", message)
                    .with_details(details)
            }
            AppError::NotFound => ApiError::not_found(),
            AppError::Gone { message } => ApiError::new(StatusCode::GONE, "gone", message),
            AppError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role does not allow this.",
            ),
            AppError::NoAuthority { message, details } => {
                ApiError::new(StatusCode::FORBIDDEN, "no_authority", message).with_details(details)
            }
            AppError::Denied { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message.clone())
                    .with_details(vec![Detail::rule(code, message)])
            }
            AppError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            AppError::Refused {
                code,
                message,
                details,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, &code, message)
                .with_details(details),
            AppError::Internal(what) => {
                tracing::error!(%what, "internal error");
                ApiError::internal()
            }
            AppError::Db(e) => e.into(),
            AppError::Rows {
                first,
                message,
                details,
            } => {
                let first = ApiError::from(*first);
                if first.status.is_server_error() {
                    return first;
                }
                ApiError::new(first.status, &first.code, message).with_details(details)
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_connection_error() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::unavailable()
        } else {
            tracing::error!(error = ?e, "database error");
            ApiError::internal()
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                e.to_string(),
            ),
            LoginError::TooManyAttempts | LoginError::Busy => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                e.to_string(),
            ),
            LoginError::CouncilRequired { ref councils } => {
                let details = councils
                    .iter()
                    .map(|(id, name)| Detail::field("council", format!("{id}: {name}")))
                    .collect();
                ApiError::new(StatusCode::BAD_REQUEST, "council_required", e.to_string())
                    .with_details(details)
            }
            LoginError::App(e) => e.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
