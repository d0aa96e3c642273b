//! The service layer's error: what went wrong in terms a caller can act on. The web layer turns
//! each kind into a status and code of API.md (`http::error`), or into an HTML error page.

use crate::db::DbError;

/// One failed check, named by the field or rule it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Detail {
    /// The row of an imported file it concerns (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The code of that row's refusal, when a file's rows are refused for different reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
}

impl Detail {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            code: None,
            field: Some(field.into()),
            rule: None,
            message: message.into(),
        }
    }
    pub fn rule(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            code: None,
            field: None,
            rule: Some(rule.into()),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that is well-formed JSON but not acceptable (400 `invalid_request`).
    #[error("{message}")]
    Invalid {
        message: String,
        details: Vec<Detail>,
    },
    /// An amount that is not a valid amount (422 `invalid_amount`).
    #[error("{message}")]
    InvalidAmount {
        message: String,
        details: Vec<Detail>,
    },
    /// Does not exist, or belongs to someone the caller may not see (404).
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this at all (403 `forbidden`).
    #[error("your role does not allow this")]
    Forbidden,
    /// The decision-making agreement does not allow it (403 `no_authority`).
    #[error("{message}")]
    NoAuthority {
        message: String,
        details: Vec<Detail>,
    },
    /// The caller may not do this particular thing, for a stated reason (403 with the rule's
    /// code, e.g. `approver_conflict`).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// The state does not allow it, or a unique value is taken (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// It was here and is no longer kept (410 `gone`), e.g. an evidence file past retention.
    #[error("{message}")]
    Gone { message: String },
    /// A rule refused it (422 with the rule's code).
    #[error("{message}")]
    Refused {
        code: String,
        message: String,
        details: Vec<Detail>,
    },
    /// Something that cannot happen unless the database or the code is wrong (500, logged).
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Several items of one request refused (the rows of an imported file): answered with the
    /// status and code of the first, and a detail per refused item naming its row.
    #[error("{message}")]
    Rows {
        first: Box<AppError>,
        message: String,
        details: Vec<Detail>,
    },
}

impl AppError {
    /// The stable code a caller sees for this error (API.md, RULES.md).
    pub fn code(&self) -> &str {
        match self {
            AppError::Invalid { .. } => "invalid_request",
            AppError::InvalidAmount { .. } => "invalid_amount",
            AppError::NotFound => "not_found",
            AppError::Gone { .. } => "gone",
            AppError::Forbidden => "forbidden",
            AppError::NoAuthority { .. } => "no_authority",
            AppError::Denied { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::Refused { code, .. } => code,
            AppError::Internal(_) | AppError::Db(_) => "internal",
            AppError::Rows { first, .. } => first.code(),
        }
    }

    /// The details this error carries (none for those that are only a code and a sentence).
    pub fn details(&self) -> &[Detail] {
        match self {
            AppError::Invalid { details, .. }
            | AppError::InvalidAmount { details, .. }
            | AppError::NoAuthority { details, .. }
            | AppError::Refused { details, .. }
            | AppError::Rows { details, .. } => details,
            _ => &[],
        }
    }

    /// The same refusal again (one file's several rows may share it). A database or internal
    /// error, which says nothing to a caller, becomes an internal error with its text.
    pub fn copy(&self) -> AppError {
        match self {
            AppError::Invalid { message, details } => AppError::Invalid {
                message: message.clone(),
                details: details.clone(),
            },
            AppError::InvalidAmount { message, details } => AppError::InvalidAmount {
                message: message.clone(),
                details: details.clone(),
            },
            AppError::NotFound => AppError::NotFound,
            AppError::Gone { message } => AppError::Gone {
                message: message.clone(),
            },
            AppError::Forbidden => AppError::Forbidden,
            AppError::NoAuthority { message, details } => AppError::NoAuthority {
                message: message.clone(),
                details: details.clone(),
            },
            AppError::Denied { code, message } => AppError::Denied {
                code,
                message: message.clone(),
            },
            AppError::Conflict { code, message } => AppError::Conflict {
                code,
                message: message.clone(),
            },
            AppError::Refused {
                code,
                message,
                details,
            } => AppError::Refused {
                code: code.clone(),
                message: message.clone(),
                details: details.clone(),
            },
            AppError::Internal(what) => AppError::Internal(what.clone()),
            AppError::Db(e) => AppError::Internal(e.to_string()),
            AppError::Rows {
                first,
                message,
                details,
            } => AppError::Rows {
                first: Box::new(first.copy()),
                message: message.clone(),
                details: details.clone(),
            },
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Invalid {
            message: format!("{field}: {message}"),
            details: vec![Detail::field(field, message)],
        }
    }

    pub fn invalid_amount(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::InvalidAmount {
            message: format!("{field}: {message}"),
            details: vec![Detail::field(field, message)],
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            code: "conflict",
            message: message.into(),
        }
    }

    pub fn refused(code: impl Into<String>, message: impl Into<String>) -> Self {
        let (code, message) = (code.into(), message.into());
        AppError::Refused {
            details: vec![Detail::rule(code.clone(), message.clone())],
            code,
            message,
        }
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(e: tokio_postgres::Error) -> Self {
        AppError::Db(DbError::Postgres(e))
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        AppError::Db(DbError::from(e))
    }
}

pub type AppResult<T> = Result<T, AppError>;
