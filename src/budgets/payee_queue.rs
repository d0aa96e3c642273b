//! The finance officers' payees: every payee of the council with its bank details masked and,
//! when they wait for verification, the newest logged change (the one a finance officer other
//! than its maker verifies through [`crate::budgets::bank_changes::verify`]). Unverified first.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::bank::BankDetails;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Who may read the queue (as the bank-detail log).
const READERS: &[Role] = &[Role::FinanceOfficer, Role::Auditor];

/// The newest unverified change of a payee's bank details.
#[derive(Debug, Clone)]
pub struct WaitingChange {
    pub change_id: Uuid,
    pub changed_by: Uuid,
    pub changed_by_name: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct QueuedPayee {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub active: bool,
    pub bank_verified: bool,
    /// Masked.
    pub bank: BankDetails,
    pub waiting: Option<WaitingChange>,
}

/// The council's payees (at most 1000), unverified first, then by name.
pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<QueuedPayee>> {
    actor.require(READERS)?;
    let rows = tx
        .query(
            "SELECT p.id, p.name, p.kind, p.active, p.bank_verified, p.bank_sort_code,
                    p.bank_account_number, p.bank_account_name,
                    c.id, c.changed_by, u.name, c.changed_at
             FROM payees p
             LEFT JOIN LATERAL (
                 SELECT id, changed_by, changed_at FROM bank_detail_changes
                 WHERE council_id = p.council_id AND payee_id = p.id AND status = 'unverified'
                 ORDER BY changed_at DESC, id LIMIT 1) c ON true
             LEFT JOIN users u ON u.council_id = p.council_id AND u.id = c.changed_by
             WHERE p.council_id = $1
             ORDER BY p.bank_verified, p.name, p.id
             LIMIT 1000",
            &[&actor.council_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| QueuedPayee {
            id: r.get(0),
            name: r.get(1),
            kind: r.get(2),
            active: r.get(3),
            bank_verified: r.get(4),
            bank: BankDetails {
                sort_code: r.get(5),
                account_number: r.get(6),
                account_name: r.get(7),
            }
            .masked(),
            waiting: r.get::<_, Option<Uuid>>(8).map(|change_id| WaitingChange {
                change_id,
                changed_by: r.get(9),
                changed_by_name: r.get::<_, Option<String>>(10).unwrap_or_default(),
                changed_at: r.get(11),
            }),
        })
        .collect())
}

/// The newest unverified change of one payee's bank details: 404 for a payee the council does
/// not have, 409 when nothing waits.
pub async fn waiting_change(tx: &Tx<'_>, actor: &Actor, payee_id: Uuid) -> AppResult<Uuid> {
    actor.require(READERS)?;
    super::payees::get(tx, actor.council_id, payee_id).await?;
    tx.query_opt(
        "SELECT id FROM bank_detail_changes
         WHERE council_id = $1 AND payee_id = $2 AND status = 'unverified'
         ORDER BY changed_at DESC, id LIMIT 1",
        &[&actor.council_id, &payee_id],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or_else(|| {
        AppError::conflict("This payee's bank details are not waiting for verification.")
    })
}
