//! Sign-in, API tokens and browser sessions.
//!
//! Both kinds are opaque random secrets stored as SHA-256 with an expiry; a session also carries
//! the CSRF token that its forms must send back. Failed sign-ins are counted per email and per
//! network address, and past either limit further attempts are refused before the password is
//! even checked (see [`login`] and [`super::throttle`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::throttle::SignInGate;
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
    #[error("Too many people are signing in just now. Wait a moment and try again.")]
    Busy,
    /// The email and password are those of users in more than one council: say which.
    #[error(
        "This email address and password sign in to more than one council: say which council."
    )]
    CouncilRequired {
        /// The councils whose user the password matched (id and name), in id order.
        councils: Vec<(Uuid, String)>,
    },
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

/// One sign-in attempt.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub kind: TokenKind,
    /// The network address of the connection, if it came over one.
    pub peer: Option<std::net::IpAddr>,
    /// The clock's time (the per-address window is counted from it).
    pub now: DateTime<Utc>,
    /// The council to sign in to, when the caller says; without it, the council whose user the
    /// password matches.
    pub council: Option<Uuid>,
}

/// The most users one sign-in checks the password of: an email used in more councils than this
/// signs in to the others only with the council given.
pub const MAX_CANDIDATES: usize = 5;

/// A user's stored password, as sign-in finds it.
struct Stored {
    council_id: Uuid,
    council_name: String,
    user_id: Uuid,
    password: password::PasswordHash,
    active: bool,
}

/// Checks an email and password and issues a token of `kind`.
///
/// Throttled three ways, all before the password is checked: per address ([`SignInGate`]); per
/// email, where the attempt is recorded as a failure *before* it is checked, under a lock per
/// email, so however many arrive at once no more than `login_max_failures` are ever checked in
/// the window; and by the gate's few turns at hashing. No database connection is held while the
/// password is hashed.
///
/// An email may be used in several councils. Given the council, only its user is checked;
/// without it, the password is checked against each (at most [`MAX_CANDIDATES`], all within the
/// one turn at hashing, and counted as one attempt for the email and the address): the one user
/// it matches is signed in, and when it matches users of more than one council the caller is
/// asked to say which ([`LoginError::CouncilRequired`], not counted as a failure).
pub async fn login(
    pool: &DbPool,
    settings: &Settings,
    gate: &SignInGate,
    attempt: Attempt<'_>,
) -> Result<Issued, LoginError> {
    let email = attempt.email.trim().to_lowercase();
    let source = gate
        .reserve(attempt.peer, attempt.now)
        .ok_or(LoginError::TooManyAttempts)?;
    let (recorded_at, stored) =
        reserve_attempt(pool, settings, &email, attempt.council, attempt.now)
            .await?
            .ok_or(LoginError::TooManyAttempts)?;
    let Some(permit) = gate.hashing_permit().await else {
        // Never checked: it does not count against the email.
        forget_attempt(pool, &email, recorded_at).await?;
        return Err(LoginError::Busy);
    };
    let password_text = attempt.password.to_string();
    let iterations = settings.password_iterations;
    let expected: Vec<password::PasswordHash> = stored.iter().map(|s| s.password.clone()).collect();
    let checks = expected.len();
    let matched = tokio::task::spawn_blocking(move || {
        // The permit is held until every hash is done, even if the request is abandoned.
        let _permit = permit;
        if expected.is_empty() {
            password::verify_dummy(&password_text, iterations);
            return Vec::new();
        }
        expected
            .iter()
            .map(|expected| password::verify(&password_text, expected))
            .collect::<Vec<bool>>()
    })
    .await
    .unwrap_or_else(|_| vec![false; checks]);
    let mut users: Vec<Stored> = stored
        .into_iter()
        .zip(matched)
        .filter(|(s, matched)| *matched && s.active)
        .map(|(s, _)| s)
        .collect();
    if users.len() > 1 {
        // The right password, for more than one council: neither a failure nor a sign-in.
        forget_attempt(pool, &email, recorded_at).await?;
        drop(source);
        return Err(LoginError::CouncilRequired {
            councils: users
                .into_iter()
                .map(|u| (u.council_id, u.council_name))
                .collect(),
        });
    }
    let Some(user) = users.pop() else {
        source.count_failure();
        return Err(LoginError::InvalidCredentials);
    };
    clear_failures(pool, settings, &email, attempt.now).await?;
    drop(source);
    let ttl = match attempt.kind {
        TokenKind::Api => settings.api_token_ttl,
        TokenKind::Session => settings.session_ttl,
    };
    Ok(issue(pool, user.council_id, user.user_id, attempt.kind, ttl).await?)
}

/// Records an attempt for `email` as a failure unless the email already has
/// `login_max_failures` in the window (then `None`), and finds the users with that email (of
/// `council` only, when given; at most [`MAX_CANDIDATES`]). Serialised per email by an advisory
/// lock, so parallel attempts cannot all see room under the limit. The window is counted on the
/// clock's time (`now`), as the per-address one is.
async fn reserve_attempt(
    pool: &DbPool,
    settings: &Settings,
    email: &str,
    council: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, Vec<Stored>)>, LoginError> {
    let window_secs = settings.login_window.as_secs_f64();
    let mut client = pool.get().await?;
    let tx = db::anonymous_tx(&mut client).await?;
    // Old failures are no longer counted: one sign-in at a time drops them (the others skip it
    // rather than wait). It only touches rows past the window, which nothing else writes.
    let sweep: bool = tx
        .query_one(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('allot.login_failures.sweep', 0))",
            &[],
        )
        .await?
        .get(0);
    if sweep {
        tx.execute(
            "DELETE FROM login_failures WHERE failed_at < $2::timestamptz - make_interval(secs => $1)",
            &[&(window_secs + 60.0), &now],
        )
        .await?;
    }
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.login.' || $1, 0))",
        &[&email],
    )
    .await?;
    let recorded = tx
        .query_opt(
            "WITH recent AS (
                 SELECT count(*) AS failures FROM login_failures
                 WHERE email = $1 AND failed_at > $4::timestamptz - make_interval(secs => $2))
             INSERT INTO login_failures (email, failed_at)
             SELECT $1, $4::timestamptz FROM recent WHERE failures < $3
             RETURNING failed_at",
            &[&email, &window_secs, &settings.login_max_failures, &now],
        )
        .await?;
    let Some(recorded) = recorded else {
        tx.commit().await?;
        return Ok(None);
    };
    let limit = MAX_CANDIDATES as i32;
    let rows = tx
        .query(
            "SELECT council_id, council_name, user_id, password_iterations, password_salt,
                    password_hash, active
             FROM auth_find_user($1, $2, $3)",
            &[&email, &council, &limit],
        )
        .await?;
    tx.commit().await?;
    let stored = rows
        .iter()
        .map(|row| Stored {
            council_id: row.get(0),
            council_name: row.get(1),
            user_id: row.get(2),
            password: password::PasswordHash {
                iterations: u32::try_from(row.get::<_, i32>(3)).unwrap_or(password::MIN_ITERATIONS),
                salt: row.get(4),
                hash: row.get(5),
            },
            active: row.get(6),
        })
        .collect();
    Ok(Some((recorded.get(0), stored)))
}

/// Takes back an attempt recorded by [`reserve_attempt`] that was never checked.
async fn forget_attempt(
    pool: &DbPool,
    email: &str,
    recorded_at: DateTime<Utc>,
) -> Result<(), LoginError> {
    let mut client = pool.get().await?;
    let tx = db::anonymous_tx(&mut client).await?;
    tx.execute(
        "DELETE FROM login_failures WHERE ctid IN (
             SELECT ctid FROM login_failures WHERE email = $1 AND failed_at = $2 LIMIT 1)",
        &[&email, &recorded_at],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A right password: the email's failures in the window no longer count.
async fn clear_failures(
    pool: &DbPool,
    settings: &Settings,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), LoginError> {
    let mut client = pool.get().await?;
    let tx = db::anonymous_tx(&mut client).await?;
    tx.execute(
        "DELETE FROM login_failures
         WHERE email = $1 AND failed_at >= $3::timestamptz - make_interval(secs => $2)",
        &[&email, &settings.login_window.as_secs_f64(), &now],
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
