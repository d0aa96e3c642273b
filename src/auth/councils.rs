//! Councils (the tenants) and their first administrator.

use uuid::Uuid;

use super::users::{self, NewUser};
use super::Role;
use crate::db::{self, DbPool};
use crate::error::{AppError, AppResult};

/// Creates a council and its `council_admin` in one transaction.
pub async fn create(
    pool: &DbPool,
    name: &str,
    admin_email: &str,
    admin_password: &str,
    password_iterations: u32,
) -> AppResult<(Uuid, Uuid)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "name",
            "a council needs a name of 1 to 200 characters",
        ));
    }
    let council_id = Uuid::new_v4();
    let mut client = pool.get().await?;
    let tx = db::tenant_tx(&mut client, council_id).await?;
    tx.execute(
        "INSERT INTO councils (id, name) VALUES ($1, $2)",
        &[&council_id, &name],
    )
    .await?;
    let admin = NewUser {
        email: admin_email.to_string(),
        name: "Council administrator".to_string(),
        role: Role::CouncilAdmin,
        password: admin_password.to_string(),
        organisation_id: None,
        person_id: None,
    };
    let admin_id = users::insert(&tx, council_id, &admin, password_iterations).await?;
    tx.commit().await?;
    Ok((council_id, admin_id))
}

/// The council's name, for page headers.
pub async fn name(tx: &crate::db::Tx<'_>, council_id: Uuid) -> AppResult<String> {
    let row = tx
        .query_opt("SELECT name FROM councils WHERE id = $1", &[&council_id])
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(row.get(0))
}
