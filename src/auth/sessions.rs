//! Sign-in, API tokens and browser sessions.
//!
//! Both kinds are opaque random secrets stored as SHA-256 with an expiry; a session also carries
//! the CSRF token that its forms must send back. Failed sign-ins are counted per email, and past
//! the limit further attempts are refused before the password is even checked.

use std::time::Duration;

use uuid::Uuid;

use super::{password, token, Actor, Role};
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};

/// Why sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("The email address or password is not right.")]
    InvalidCredentials,
    #[error("Too many failed attempts to sign in. Wait a few minutes and try again.")]
    TooManyAttempts,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<tokio_postgres::Error> for LoginError {
    fn from(e: tokio_postgres::Error) -> Self {
        LoginError::App(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for LoginError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        LoginError::App(e.into())
    }
}

impl From<db::DbError> for LoginError {
    fn from(e: db::DbError) -> Self {
        LoginError::App(e.into())
    }
}

/// Which kind of secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Api,
    Session,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
        }
    }
}

/// A secret just issued: shown to the caller once, never stored in this form.
#[derive(Debug)]
pub struct Issued {
    pub secret: String,
    pub csrf_token: Option<String>,
    pub actor: Actor,
}

/// Checks an email and password (with throttling) and issues a token of `kind`.
pub async fn login(
    pool: &DbPool,
    settings: &Settings,
    email: &str,
    password_text: &str,
    kind: TokenKind,
) -> Result<Issued, LoginError> {
    let email = email.trim().to_lowercase();
    let mut client = pool.get().await?;
    let window_secs = settings.login_window.as_secs_f64();
    {
        let tx = db::anonymous_tx(&mut client).await?;
        let failures: i64 = tx
            .query_one(
                "SELECT count(*) FROM login_failures
                 WHERE email = $1 AND failed_at > now() - make_interval(secs => $2)",
                &[&email, &window_secs],
            )
            .await?
            .get(0);
        tx.commit().await?;
        if failures >= settings.login_max_failures {
            return Err(LoginError::TooManyAttempts);
        }
    }
    let tx = db::anonymous_tx(&mut client).await?;
    let row = tx
        .query_opt(
            "SELECT council_id, user_id, password_iterations, password_salt, password_hash, active
             FROM auth_find_user($1)",
            &[&email],
        )
        .await?;
    let matched = match &row {
        Some(row) => {
            let stored = password::PasswordHash {
                iterations: u32::try_from(row.get::<_, i32>(2)).unwrap_or(password::MIN_ITERATIONS),
                salt: row.get(3),
                hash: row.get(4),
            };
            let password_text = password_text.to_string();
            let ok = tokio::task::spawn_blocking(move || password::verify(&password_text, &stored))
                .await
                .unwrap_or(false);
            ok && row.get::<_, bool>(5)
        }
        None => {
            let password_text = password_text.to_string();
            let iterations = settings.password_iterations;
            let _ = tokio::task::spawn_blocking(move || {
                password::verify_dummy(&password_text, iterations)
            })
            .await;
            false
        }
    };
    if !matched {
        tx.execute("INSERT INTO login_failures (email) VALUES ($1)", &[&email])
            .await?;
        // Old failures are no longer counted; drop them as we go so the table stays small.
        tx.execute(
            "DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => $1)",
            &[&window_secs],
        )
        .await?;
        tx.commit().await?;
        return Err(LoginError::InvalidCredentials);
    }
    tx.execute("DELETE FROM login_failures WHERE email = $1", &[&email])
        .await?;
    tx.commit().await?;
    let Some(row) = row else {
        return Err(LoginError::InvalidCredentials);
    };
    let (council_id, user_id): (Uuid, Uuid) = (row.get(0), row.get(1));
    let ttl = match kind {
        TokenKind::Api => settings.api_token_ttl,
        TokenKind::Session => settings.session_ttl,
    };
    Ok(issue(pool, council_id, user_id, kind, ttl).await?)
}

/// Issues a new secret for a user (after sign-in, or in tests).
pub async fn issue(
    pool: &DbPool,
    council_id: Uuid,
    user_id: Uuid,
    kind: TokenKind,
    ttl: Duration,
) -> AppResult<Issued> {
    let secret = token::generate();
    let csrf_token = (kind == TokenKind::Session).then(token::generate);
    let expires_at = crate::clock::system_now()
        + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    let mut client = pool.get().await?;
    let tx = db::tenant_tx(&mut client, council_id).await?;
    tx.execute(
        "INSERT INTO auth_tokens (council_id, token_hash, user_id, kind, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &council_id,
            &token::hash(&secret),
            &user_id,
            &kind.as_str(),
            &csrf_token,
            &expires_at,
        ],
    )
    .await?;
    tx.commit().await?;
    let actor = find(pool, &secret, kind)
        .await?
        .map(|(a, _)| a)
        .ok_or(AppError::NotFound)?;
    Ok(Issued {
        secret,
        csrf_token,
        actor,
    })
}

/// The actor behind a secret (and the session's CSRF token), if it is valid and unexpired.
pub async fn find(
    pool: &DbPool,
    secret: &str,
    kind: TokenKind,
) -> AppResult<Option<(Actor, Option<String>)>> {
    let client = pool.get().await?;
    // One round trip on every request: the two statements run as one implicit transaction (so
    // `SET LOCAL` holds for the lookup and ends with it, and an error rolls both back). The only
    // values spliced in are the hash as hex digits and the kind's fixed name.
    let sql = format!(
        "SET LOCAL ROLE allot_app;
         SELECT council_id, user_id, csrf_token, email, name, role, organisation_id, person_id
         FROM auth_find_token('\\x{}'::bytea, '{}')",
        hex::encode(token::hash(secret)),
        kind.as_str()
    );
    let messages = client.simple_query(&sql).await?;
    let Some(row) = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    }) else {
        return Ok(None);
    };
    let uuid = |i: usize| -> AppResult<Option<Uuid>> {
        row.get(i)
            .map(|text| {
                text.parse()
                    .map_err(|_| AppError::Internal("a stored id does not read".into()))
            })
            .transpose()
    };
    let text = |i: usize| row.get(i).map(str::to_owned);
    let (Some(council_id), Some(user_id)) = (uuid(0)?, uuid(1)?) else {
        return Ok(None);
    };
    let Some(role) = row.get(5).and_then(Role::parse) else {
        return Ok(None);
    };
    let actor = Actor {
        council_id,
        user_id,
        email: text(3).unwrap_or_default(),
        name: text(4).unwrap_or_default(),
        role,
        organisation_id: uuid(6)?,
        person_id: uuid(7)?,
    };
    Ok(Some((actor, text(2))))
}

/// Ends a session or withdraws a token.
pub async fn revoke(pool: &DbPool, actor: &Actor, secret: &str) -> AppResult<()> {
    let mut client = pool.get().await?;
    let tx = db::tenant_tx(&mut client, actor.council_id).await?;
    tx.execute(
        "UPDATE auth_tokens SET revoked_at = now()
         WHERE council_id = $1 AND token_hash = $2 AND user_id = $3 AND revoked_at IS NULL",
        &[&actor.council_id, &token::hash(secret), &actor.user_id],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
