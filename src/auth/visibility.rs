//! Who may see what, asked of the database so every query applies the same rule (the SQL
//! functions `can_see_person`, `can_see_account`, widened by later migrations).

use uuid::Uuid;

use super::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Whether the actor may see this ledger account.
pub async fn can_see_account(tx: &Tx<'_>, actor: &Actor, account_id: Uuid) -> AppResult<bool> {
    let row = tx
        .query_one(
            "SELECT can_see_account($1, $2, $3)",
            &[&actor.council_id, &actor.user_id, &account_id],
        )
        .await?;
    Ok(row.get(0))
}

/// 404 unless the actor may see this ledger account (never reveal that it exists).
pub async fn require_account(tx: &Tx<'_>, actor: &Actor, account_id: Uuid) -> AppResult<()> {
    if can_see_account(tx, actor, account_id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// 404 unless the actor may see at least one account an entry touches.
pub async fn require_entry(tx: &Tx<'_>, actor: &Actor, entry_id: Uuid) -> AppResult<()> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ledger_legs l
                            WHERE l.council_id = $1 AND l.entry_id = $3
                              AND can_see_account($1, $2, l.account_id))",
            &[&actor.council_id, &actor.user_id, &entry_id],
        )
        .await?;
    if row.get::<_, bool>(0) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
