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
