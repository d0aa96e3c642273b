//! Reversing a posted payment (API.md › `POST /api/v1/payments/{id}/reverse`): a reversing entry
//! mirrors the payment's posting, dated the council's business day. Only payments are reversed
//! here — a payment-run release or a contribution is corrected through its own maker-checker
//! path — and only by a finance officer, or provider staff whose organisation holds the account.

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::spend::visible_payment;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, Entry};

/// Reverses the payment's posting; 404 for anything that is not a payment the actor may see.
pub async fn reverse(
    tx: &Tx<'_>,
    actor: &Actor,
    payment_id: Uuid,
    reason: &str,
    today: NaiveDate,
) -> AppResult<Entry> {
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    let payment = visible_payment(tx, actor, payment_id).await?;
    let entry_id = payment.entry_id.ok_or_else(|| {
        AppError::conflict("This payment has not been posted, so there is nothing to reverse.")
    })?;
    let metadata = json!({
        "requested_by": {"user_id": actor.user_id, "role": actor.role, "name": actor.name},
        "decision": {"outcome": "allowed", "action": "reverse"},
        "reason": reason,
        "payment_id": payment.id,
    });
    Ok(ledger::reverse_on_in_tx(tx, actor.council_id, entry_id, reason, metadata, today).await?)
}

/// A payment as the reversal form shows it, and the entry reversing it if there is one.
pub async fn for_reversal(
    tx: &Tx<'_>,
    actor: &Actor,
    payment_id: Uuid,
) -> AppResult<(super::spend::Payment, Option<Uuid>)> {
    actor.require(&[Role::FinanceOfficer, Role::ProviderStaff])?;
    let payment = visible_payment(tx, actor, payment_id).await?;
    let reversed_by = match payment.entry_id {
        Some(entry_id) => tx
            .query_opt(
                "SELECT id FROM ledger_entries WHERE council_id = $1 AND reverses = $2",
                &[&actor.council_id, &entry_id],
            )
            .await?
            .map(|r| r.get(0)),
        None => None,
    };
    Ok((payment, reversed_by))
}

/// The payment whose posting `entry_id` is, when the actor may reverse payments, may see that
/// one and it is not reversed yet.
pub async fn reversible_payment_of_entry(
    tx: &Tx<'_>,
    actor: &Actor,
    entry_id: Uuid,
) -> AppResult<Option<Uuid>> {
    if !matches!(actor.role, Role::FinanceOfficer | Role::ProviderStaff) {
        return Ok(None);
    }
    let found = tx
        .query_opt(
            "SELECT p.id FROM payments p
             WHERE p.council_id = $1 AND p.posted_entry_id = $2 AND p.status = 'posted'
               AND NOT EXISTS (SELECT 1 FROM ledger_entries r
                               WHERE r.council_id = p.council_id AND r.reverses = p.posted_entry_id)",
            &[&actor.council_id, &entry_id],
        )
        .await?
        .map(|r| r.get::<_, Uuid>(0));
    let Some(payment_id) = found else {
        return Ok(None);
    };
    match visible_payment(tx, actor, payment_id).await {
        Ok(_) => Ok(Some(payment_id)),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
