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

/// How long the processors' keys are kept in memory before they are read again. A processor
/// made since is found at once (a signature no kept key checks is tried again with the keys read
/// afresh); one made inactive stops being accepted within this time.
pub const KEYS_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// The active processors' keys, kept in memory for [`KEYS_KEPT_FOR`] so that an event's
/// signature is checked without a round trip to the database.
#[derive(Default)]
pub struct KeyCache {
    kept: tokio::sync::RwLock<Option<(tokio::time::Instant, std::sync::Arc<Vec<ProcessorKey>>)>>,
}

impl KeyCache {
    /// The kept keys while they are fresh; read afresh (through `card_processor_keys()`, as the
    /// serving role) when they are not or when `afresh` is asked for. Whether they were read now
    /// is returned beside them.
    pub async fn get(
        &self,
        pool: &DbPool,
        afresh: bool,
    ) -> AppResult<(std::sync::Arc<Vec<ProcessorKey>>, bool)> {
        if !afresh {
            if let Some((at, keys)) = self.kept.read().await.as_ref() {
                if at.elapsed() < KEYS_KEPT_FOR {
                    return Ok((keys.clone(), false));
                }
            }
        }
        let mut kept = self.kept.write().await;
        let mut client = pool.get().await?;
        let tx = crate::db::anonymous_tx(&mut client).await?;
        let keys = std::sync::Arc::new(keys(&tx).await?);
        tx.commit().await?;
        *kept = Some((tokio::time::Instant::now(), keys.clone()));
        Ok((keys, true))
    }
}
