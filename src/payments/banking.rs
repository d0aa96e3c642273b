//! The council's own banking for payment files: the account money leaves from and the Bacs
//! service user number (SUN) its bank issued.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::bank::BankDetails;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouncilBanking {
    /// Six digits, issued by the council's sponsoring bank.
    pub service_user_number: String,
    pub account: BankDetails,
}

pub async fn set(
    tx: &Tx<'_>,
    actor: &Actor,
    banking: &CouncilBanking,
) -> AppResult<CouncilBanking> {
    actor.require(&[Role::CouncilAdmin])?;
    let sun = banking.service_user_number.trim();
    if sun.len() != 6 || !sun.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid(
            "service_user_number",
            "a Bacs service user number is six digits",
        ));
    }
    banking.account.validate("account")?;
    let account = BankDetails {
        sort_code: banking.account.sort_code_digits(),
        account_number: banking.account.account_number.clone(),
        account_name: banking.account.account_name.trim().to_string(),
    };
    tx.execute(
        "INSERT INTO council_banking (council_id, service_user_number, sort_code, account_number, account_name, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (council_id) DO UPDATE SET service_user_number = $2, sort_code = $3, account_number = $4,
             account_name = $5, updated_by = $6, updated_at = now()",
        &[&actor.council_id, &sun, &account.sort_code, &account.account_number, &account.account_name, &actor.user_id],
    )
    .await?;
    Ok(CouncilBanking {
        service_user_number: sun.to_string(),
        account,
    })
}

/// The council's banking (409 when it has not been set: no payment file can be made without it).
pub async fn get(tx: &Tx<'_>, council_id: Uuid) -> AppResult<CouncilBanking> {
    let row = tx
        .query_opt(
            "SELECT service_user_number, sort_code, account_number, account_name FROM council_banking WHERE council_id = $1",
            &[&council_id],
        )
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "The council's bank account and Bacs service user number have not been set, so no payment file can be made.",
            )
        })?;
    Ok(CouncilBanking {
        service_user_number: row.get(0),
        account: BankDetails {
            sort_code: row.get(1),
            account_number: row.get(2),
            account_name: row.get(3),
        },
    })
}
