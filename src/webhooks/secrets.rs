//! Webhook signing secrets, sealed. The delivery worker signs with each endpoint's key, so the
//! key itself must be recoverable (a hash would not do); it is kept as AES-256-GCM ciphertext
//! under a key derived with HKDF-SHA256 from the ledger's chain key, which is never in the
//! database. A read of `webhook_endpoints` alone (a backup, a leaked query) does not give the
//! secrets. The council and endpoint ids are the ciphertext's associated data, so a sealed
//! secret copied onto another endpoint does not open.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use crate::db::{in_tenant_tx, DbPool};
use crate::error::{AppError, AppResult};
use crate::ledger::chain::ChainKey;

/// What the sealing key is derived for (HKDF's `info`).
const PURPOSE: &[u8] = b"allot webhook endpoint secrets v1";

/// Seals and opens endpoint secrets.
#[derive(Clone)]
pub struct SecretSealer {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer")
    }
}

fn aad(council_id: Uuid, endpoint_id: Uuid) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(council_id.as_bytes());
    out[16..].copy_from_slice(endpoint_id.as_bytes());
    out
}

impl SecretSealer {
    /// The sealer of the chain key's installation.
    pub fn new(chain_key: &ChainKey) -> Self {
        SecretSealer {
            key: chain_key.derive(PURPOSE),
        }
    }

    fn aead_key(&self) -> AppResult<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, &self.key)
            .map(LessSafeKey::new)
            .map_err(|_| AppError::Internal("the sealing key".into()))
    }

    /// `nonce ‖ ciphertext ‖ tag` of `secret` for this endpoint.
    pub fn seal(&self, council_id: Uuid, endpoint_id: Uuid, secret: &[u8]) -> AppResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| AppError::Internal("no random bytes for a nonce".into()))?;
        let mut sealed = secret.to_vec();
        self.aead_key()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(council_id, endpoint_id)),
                &mut sealed,
            )
            .map_err(|_| AppError::Internal("sealing a secret".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The secret sealed for this endpoint; an error if it was sealed under another key or for
    /// another endpoint, or altered.
    pub fn open(&self, council_id: Uuid, endpoint_id: Uuid, sealed: &[u8]) -> AppResult<Vec<u8>> {
        if sealed.len() < NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return Err(AppError::Internal("a sealed secret is too short".into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| AppError::Internal("a sealed secret's nonce".into()))?;
        let mut buffer = ciphertext.to_vec();
        let opened = self
            .aead_key()?
            .open_in_place(nonce, Aad::from(aad(council_id, endpoint_id)), &mut buffer)
            .map_err(|_| {
                AppError::Internal(
                    "a webhook secret does not open under this chain key (was the key changed?)"
                        .into(),
                )
            })?;
        Ok(opened.to_vec())
    }
}

/// Seals every endpoint secret still kept in clear (endpoints made before sealing existed) and
/// clears the clear copy; returns how many. Run when allot starts; running it again finds none.
pub async fn seal_existing(pool: &DbPool, sealer: &SecretSealer) -> AppResult<usize> {
    let mut sealed = 0;
    for council_id in crate::ledger::maintenance::council_ids(pool).await? {
        let sealer = sealer.clone();
        sealed += in_tenant_tx(pool, council_id, move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "SELECT id, secret FROM webhook_endpoints
                         WHERE council_id = $1 AND secret IS NOT NULL FOR UPDATE",
                        &[&council_id],
                    )
                    .await?;
                for row in &rows {
                    let id: Uuid = row.try_get("id")?;
                    let secret: Vec<u8> = row.try_get("secret")?;
                    let box_ = sealer.seal(council_id, id, &secret)?;
                    tx.execute(
                        "UPDATE webhook_endpoints SET secret = NULL, secret_sealed = $3
                         WHERE council_id = $1 AND id = $2",
                        &[&council_id, &id, &box_],
                    )
                    .await?;
                }
                Ok(rows.len())
            })
        })
        .await?;
    }
    Ok(sealed)
}
