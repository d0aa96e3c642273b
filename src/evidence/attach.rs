//! Attaching evidence to a payment, and reading it back. Whoever may see a payment and act on its
//! account may attach (not the council's administrator or auditor, who only look); whoever may
//! see a payment a file is attached to may read the file. Anything else is 404.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::file::{is_sha256, EvidenceFile, EvidenceKind, MediaType};
use super::store::EvidenceStore;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::payments::spend::{visible_payment, Payment, PaymentStatus};

/// Roles that may attach evidence (to payments they may see).
pub const ATTACH_ROLES: &[Role] = &[
    Role::CareManager,
    Role::FinanceOfficer,
    Role::Broker,
    Role::ProviderStaff,
    Role::BudgetHolder,
    Role::Representative,
];

/// A file linked to a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub payment_id: Uuid,
    pub sha256: String,
    pub kind: EvidenceKind,
    /// Bytes.
    pub size: i64,
    pub content_type: String,
    pub attached_at: DateTime<Utc>,
    pub attached_by: Uuid,
}

const COLUMNS: &str = "payment_id, sha256, kind, size, content_type, attached_at, attached_by";

fn from_row(row: &Row) -> AppResult<Attachment> {
    let kind: &str = row.try_get("kind")?;
    Ok(Attachment {
        payment_id: row.try_get("payment_id")?,
        sha256: row.try_get("sha256")?,
        kind: kind
            .parse()
            .map_err(|_| AppError::Internal(format!("stored evidence kind {kind}")))?,
        size: i64::from(row.try_get::<_, i32>("size")?),
        content_type: row.try_get("content_type")?,
        attached_at: row.try_get("attached_at")?,
        attached_by: row.try_get("attached_by")?,
    })
}

/// The payment evidence may be attached to by this actor (403 for the role, 404 when they may
/// not see it, 409 for a refused request that moved no money).
pub async fn attachable_payment(
    tx: &Tx<'_>,
    actor: &Actor,
    payment_id: Uuid,
) -> AppResult<Payment> {
    actor.require(ATTACH_ROLES)?;
    let payment = visible_payment(tx, actor, payment_id).await?;
    if payment.status == PaymentStatus::Refused {
        return Err(AppError::conflict(
            "This request was refused and moved no money, so there is nothing to evidence.",
        ));
    }
    Ok(payment)
}

/// Stores the file (once per council, by its SHA-256) and links it to the payment. Attaching the
/// same file to the same payment again returns the first link.
pub async fn attach<'a>(
    tx: &'a Tx<'a>,
    store: &dyn EvidenceStore,
    actor: &Actor,
    payment_id: Uuid,
    kind: EvidenceKind,
    file: &'a EvidenceFile,
    now: DateTime<Utc>,
) -> AppResult<Attachment> {
    let payment = attachable_payment(tx, actor, payment_id).await?;
    store
        .put(tx, actor.council_id, &file.sha256, &file.bytes, now)
        .await?;
    let size =
        i32::try_from(file.bytes.len()).map_err(|_| AppError::Internal("evidence size".into()))?;
    let inserted = tx
        .query_opt(
            &format!(
                "INSERT INTO payment_evidence (council_id, payment_id, sha256, kind, content_type,
                     size, attached_at, attached_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (council_id, payment_id, sha256) DO NOTHING
                 RETURNING {COLUMNS}"
            ),
            &[
                &actor.council_id,
                &payment.id,
                &file.sha256,
                &kind.as_str(),
                &file.media_type.as_str(),
                &size,
                &now,
                &actor.user_id,
            ],
        )
        .await?;
    let row = match inserted {
        Some(row) => row,
        None => {
            tx.query_one(
                &format!(
                    "SELECT {COLUMNS} FROM payment_evidence
                     WHERE council_id = $1 AND payment_id = $2 AND sha256 = $3"
                ),
                &[&actor.council_id, &payment.id, &file.sha256],
            )
            .await?
        }
    };
    from_row(&row)
}

/// The evidence linked to a payment the actor may see, oldest first.
pub async fn of_payment(
    tx: &Tx<'_>,
    actor: &Actor,
    payment_id: Uuid,
) -> AppResult<Vec<Attachment>> {
    let payment = visible_payment(tx, actor, payment_id).await?;
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM payment_evidence WHERE council_id = $1 AND payment_id = $2
                 ORDER BY attached_at, sha256"
            ),
            &[&actor.council_id, &payment.id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// A stored file as read back.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub media_type: MediaType,
    pub bytes: Bytes,
}

/// The file with this SHA-256, if it is attached to a payment the actor may see (404 otherwise);
/// 410 once its bytes were purged past retention.
pub async fn fetch<'a>(
    tx: &'a Tx<'a>,
    store: &dyn EvidenceStore,
    actor: &Actor,
    sha256: &'a str,
) -> AppResult<StoredFile> {
    if !is_sha256(sha256) {
        return Err(AppError::NotFound);
    }
    let row = tx
        .query_opt(
            "SELECT e.content_type FROM payment_evidence e
             JOIN payments p ON p.council_id = e.council_id AND p.id = e.payment_id
             WHERE e.council_id = $1 AND e.sha256 = $3
               AND can_see_budget($1, $2, p.budget_id)
               AND (p.account_id IS NULL OR can_see_account($1, $2, p.account_id))
             LIMIT 1",
            &[&actor.council_id, &actor.user_id, &sha256],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let content_type: &str = row.try_get(0)?;
    let media_type = MediaType::from_header(content_type)
        .ok_or_else(|| AppError::Internal(format!("stored content type {content_type}")))?;
    let Some(bytes) = store.get(tx, actor.council_id, sha256).await? else {
        return Err(
            match super::retention::purge_of(tx, actor.council_id, sha256).await? {
                Some(purge) => AppError::Gone {
                    message: format!(
                    "This file was removed on {} when it passed the council's retention period \
                     of {} years (policy version {}); its record is kept.",
                    crate::clock::london_date(purge.purged_at),
                    purge.retention_years,
                    purge.policy_version
                ),
                },
                None => AppError::NotFound,
            },
        );
    };
    Ok(StoredFile {
        sha256: sha256.to_owned(),
        media_type,
        bytes,
    })
}
