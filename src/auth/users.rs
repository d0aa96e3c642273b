//! Users of a council: staff, organisation staff, budget holders and representatives.

use crate::db::Tx;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::{password, Role};
use crate::error::{AppError, AppResult};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub organisation_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
}

/// A user as others see them (no secrets).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub council_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
}

/// Normalised email, or an error naming the field.
pub fn normalise_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(AppError::invalid(
            "email",
            "must be an email address like name@example.org",
        ))
    }
}

/// Validates and inserts a user in the council of `tx` (loaders and the first administrator;
/// no role check, no maker recorded); returns the new id.
pub async fn insert(
    tx: &Tx<'_>,
    council_id: Uuid,
    user: &NewUser,
    iterations: u32,
) -> AppResult<Uuid> {
    check(user)?;
    let hashed = password::hash(&user.password, iterations);
    insert_hashed(tx, council_id, user, &hashed, None).await
}

/// Checks a new user's fields (before any password is hashed).
pub fn check(user: &NewUser) -> AppResult<()> {
    normalise_email(&user.email)?;
    let name = user.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    password::check_policy(&user.password).map_err(|e| AppError::invalid("password", e.to_string()))
}

/// A council administrator adds a user (the role checked here); `hashed` is the password,
/// hashed by the caller outside any transaction. The administrator is recorded as its maker.
pub async fn create(
    tx: &Tx<'_>,
    actor: &crate::auth::Actor,
    user: &NewUser,
    hashed: &password::PasswordHash,
) -> AppResult<User> {
    actor.require(&[Role::CouncilAdmin])?;
    check(user)?;
    let id = insert_hashed(tx, actor.council_id, user, hashed, Some(actor.user_id)).await?;
    get(tx, actor.council_id, id).await
}

async fn insert_hashed(
    tx: &Tx<'_>,
    council_id: Uuid,
    user: &NewUser,
    hashed: &password::PasswordHash,
    created_by: Option<Uuid>,
) -> AppResult<Uuid> {
    let email = normalise_email(&user.email)?;
    let name = user.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    match (user.role.needs_organisation(), user.organisation_id) {
        (true, None) => {
            return Err(AppError::invalid(
                "organisation_id",
                "brokers and provider staff belong to an organisation",
            ))
        }
        (false, Some(_)) => {
            return Err(AppError::invalid(
                "organisation_id",
                "only brokers and provider staff belong to an organisation",
            ))
        }
        _ => {}
    }
    if user.role == Role::BudgetHolder && user.person_id.is_none() {
        return Err(AppError::invalid(
            "person_id",
            "a budget holder is one of the council's people",
        ));
    }
    if let Some(org) = user.organisation_id {
        let found = tx
            .query_opt(
                "SELECT 1 FROM organisations WHERE council_id = $1 AND id = $2",
                &[&council_id, &org],
            )
            .await?;
        if found.is_none() {
            return Err(AppError::NotFound);
        }
    }
    if let Some(person) = user.person_id {
        let found = tx
            .query_opt(
                "SELECT 1 FROM people WHERE council_id = $1 AND id = $2",
                &[&council_id, &person],
            )
            .await?;
        if found.is_none() {
            return Err(AppError::NotFound);
        }
    }
    let id = Uuid::new_v4();
    let iterations = i32::try_from(hashed.iterations).unwrap_or(i32::MAX);
    let result = tx
        .execute(
            "INSERT INTO users (council_id, id, email, name, role, organisation_id, person_id,
                                password_iterations, password_salt, password_hash, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &council_id,
                &id,
                &email,
                &name,
                &user.role.as_str(),
                &user.organisation_id,
                &user.person_id,
                &iterations,
                &hashed.salt,
                &hashed.hash,
                &created_by,
            ],
        )
        .await;
    match result {
        Ok(_) => Ok(id),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(AppError::Conflict {
            code: "conflict",
            message: "A user with this email address already exists.".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// One user of the council.
pub async fn get(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<User> {
    let row = tx
        .query_opt(
            "SELECT id, council_id, email, name, role, organisation_id, person_id
             FROM users WHERE council_id = $1 AND id = $2",
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(User {
        id: row.get(0),
        council_id: row.get(1),
        email: row.get(2),
        name: row.get(3),
        role: Role::parse(row.get(4)).ok_or(AppError::NotFound)?,
        organisation_id: row.get(5),
        person_id: row.get(6),
    })
}

/// A user in the council's list, with who made them and when.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserRecord {
    #[serde(flatten)]
    pub user: User,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The administrator who added them (none for the first administrator and loaded users).
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
}

/// The council's users, newest first, with their makers (council administrators and auditors).
pub async fn list(tx: &Tx<'_>, actor: &crate::auth::Actor) -> AppResult<Vec<UserRecord>> {
    actor.require(&[Role::CouncilAdmin, Role::Auditor])?;
    let rows = tx
        .query(
            "SELECT u.id, u.council_id, u.email, u.name, u.role, u.organisation_id, u.person_id,
                    u.active, u.created_at, u.created_by, m.name AS created_by_name
             FROM users u
             LEFT JOIN users m ON m.council_id = u.council_id AND m.id = u.created_by
             WHERE u.council_id = $1
             ORDER BY u.created_at DESC, u.id LIMIT 5000",
            &[&actor.council_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let role: &str = row.try_get("role")?;
            Ok(UserRecord {
                user: User {
                    id: row.try_get("id")?,
                    council_id: row.try_get("council_id")?,
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    role: Role::parse(role)
                        .ok_or_else(|| AppError::Internal(format!("stored role {role}")))?,
                    organisation_id: row.try_get("organisation_id")?,
                    person_id: row.try_get("person_id")?,
                },
                active: row.try_get("active")?,
                created_at: row.try_get("created_at")?,
                created_by: row.try_get("created_by")?,
                created_by_name: row.try_get("created_by_name")?,
            })
        })
        .collect()
}
