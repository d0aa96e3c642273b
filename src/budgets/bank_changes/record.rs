//! Logging bank details as they are given and changed. The caller holds the subject's row (it
//! is inserting it, or has it locked for the update) and writes the details and the subject's
//! `bank_verified` flag itself, in the same transaction.

use uuid::Uuid;

use super::Subject;
use crate::auth::{Actor, Role};
use crate::budgets::bank::BankDetails;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Logs the details given when `subject` is recorded. `verified` is whether the one recording it
/// vouches for them; only a finance officer can. Returns the subject's `bank_verified`.
pub async fn created(
    tx: &Tx<'_>,
    actor: &Actor,
    subject: Subject,
    bank: &BankDetails,
    verified: bool,
) -> AppResult<bool> {
    if verified && actor.role != Role::FinanceOfficer {
        return Err(AppError::Internal(
            "only a finance officer vouches for bank details".into(),
        ));
    }
    insert(tx, actor, subject, "created", None, bank, verified).await?;
    Ok(verified)
}

/// Logs a change of `subject`'s details from `old` to `new` (both as stored). Returns whether
/// anything changed: when it did, the subject's details are unverified, whoever changed them,
/// and any earlier change still waiting is superseded.
pub async fn changed(
    tx: &Tx<'_>,
    actor: &Actor,
    subject: Subject,
    old: Option<&BankDetails>,
    new: &BankDetails,
) -> AppResult<bool> {
    if old == Some(new) {
        return Ok(false);
    }
    let (_, column) = subject.table();
    tx.execute(
        &format!(
            "UPDATE bank_detail_changes SET status = 'superseded'
             WHERE council_id = $1 AND {column} = $2 AND status = 'unverified'"
        ),
        &[&actor.council_id, &subject.id()],
    )
    .await?;
    insert(tx, actor, subject, "changed", old, new, false).await?;
    Ok(true)
}

async fn insert(
    tx: &Tx<'_>,
    actor: &Actor,
    subject: Subject,
    event: &str,
    old: Option<&BankDetails>,
    new: &BankDetails,
    verified: bool,
) -> AppResult<()> {
    let (_, column) = subject.table();
    let status = if verified { "verified" } else { "unverified" };
    let verified_by = verified.then_some(actor.user_id);
    tx.execute(
        &format!(
            "INSERT INTO bank_detail_changes
                 (council_id, id, {column}, event, old_sort_code, old_account_number, old_account_name,
                  new_sort_code, new_account_number, new_account_name, changed_by, status, verified_by,
                  verified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                     CASE WHEN $13::uuid IS NULL THEN NULL ELSE now() END)"
        ),
        &[
            &actor.council_id,
            &Uuid::new_v4(),
            &subject.id(),
            &event,
            &old.map(|b| b.sort_code.as_str()),
            &old.map(|b| b.account_number.as_str()),
            &old.map(|b| b.account_name.as_str()),
            &new.sort_code,
            &new.account_number,
            &new.account_name,
            &actor.user_id,
            &status,
            &verified_by,
        ],
    )
    .await?;
    Ok(())
}
