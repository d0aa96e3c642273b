//! Card processors: made from the command line (`allot processor create --name`), which prints
//! the `whsec_` secret once. The secret's key is stored as it is (HMAC verification needs the key
//! itself) in a table the serving role cannot read; only `card_processor_keys()` (a function of
//! `allot_directory`, sql/V20) hands the keys to the verifier. It is never logged.

use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::signature;
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult};

/// A processor just made, with its secret (shown this once).
pub struct Created {
    pub id: Uuid,
    pub name: String,
    pub secret: String,
}

/// Makes a processor (as the schema owner: the command line's connection).
pub async fn create(pool: &DbPool, name: &str) -> AppResult<Created> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "1 to 100 characters"));
    }
    let key = signature::new_key()
        .map_err(|_| AppError::Internal("no random bytes for the secret".into()))?;
    let id = Uuid::new_v4();
    let client = pool.get().await?;
    match client
        .execute(
            "INSERT INTO card_processors (id, name, secret) VALUES ($1, $2, $3)",
            &[&id, &name, &key],
        )
        .await
    {
        Ok(_) => Ok(Created {
            id,
            name: name.to_owned(),
            secret: signature::secret_text(&key),
        }),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(AppError::conflict(
            "A processor of that name exists already.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A processor's id with its key (for verifying its events only).
pub struct ProcessorKey {
    pub id: Uuid,
    pub key: Vec<u8>,
}

/// Every active processor's key.
pub async fn keys(tx: &Tx<'_>) -> AppResult<Vec<ProcessorKey>> {
    let rows = tx
        .query(
            &tx.prepare_cached("SELECT id, secret FROM card_processor_keys()")
                .await?,
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(ProcessorKey {
                id: row.try_get("id")?,
                key: row.try_get("secret")?,
            })
        })
        .collect()
}

/// Every active processor's id and name (no secrets).
pub async fn list(tx: &Tx<'_>) -> AppResult<Vec<(Uuid, String)>> {
    let rows = tx
        .query(
            &tx.prepare_cached("SELECT id, name FROM card_processor_list()")
                .await?,
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
        .collect()
}
