//! The card registry: a card spends from one direct-payment or managed-account account; finance
//! officers register, freeze, unfreeze and cancel cards; council staff may list them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;
use uuid::Uuid;

use super::processors;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

const READERS: &[Role] = &[
    Role::CouncilAdmin,
    Role::CareManager,
    Role::FinanceOfficer,
    Role::Auditor,
];

/// A card to register (`POST /api/v1/cards`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCard {
    /// The direct-payment or managed-account account the card spends from.
    pub account_id: Uuid,
    /// The processor's reference for the card (its events name the card by it).
    pub processor_card_ref: String,
    /// Who uses the card: their grant on the budget decides what they may spend.
    pub cardholder_user_id: Uuid,
    /// The card number's last four digits.
    pub last4: String,
    /// Which processor issues it; may be left out when there is only one.
    #[serde(default)]
    pub processor_id: Option<Uuid>,
}

/// A card as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Card {
    pub id: Uuid,
    pub account_id: Uuid,
    pub budget_id: Uuid,
    /// `direct_payment` or `managed_account`.
    pub deployment: String,
    pub processor_id: Uuid,
    pub processor_card_ref: String,
    pub cardholder_user_id: Uuid,
    pub last4: String,
    /// `active`, `frozen` or `cancelled`.
    pub status: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

const SELECT_CARD: &str = "SELECT id, account_id, budget_id, deployment, processor_id,
    processor_card_ref, cardholder_user_id, last4, status, created_by, created_at FROM cards";

pub(super) fn from_row(row: &Row) -> AppResult<Card> {
    Ok(Card {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        budget_id: row.try_get("budget_id")?,
        deployment: row.try_get("deployment")?,
        processor_id: row.try_get("processor_id")?,
        processor_card_ref: row.try_get("processor_card_ref")?,
        cardholder_user_id: row.try_get("cardholder_user_id")?,
        last4: row.try_get("last4")?,
        status: row.try_get("status")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn check_input(new: &NewCard) -> AppResult<()> {
    let reference = new.processor_card_ref.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(AppError::invalid(
            "processor_card_ref",
            "1 to 100 characters",
        ));
    }
    if new.last4.len() != 4 || !new.last4.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            "last4",
            "the last four digits of the card number",
        ));
    }
    Ok(())
}

/// The processor a new card is issued by: the one named, or the only one there is.
async fn processor_for(tx: &Tx<'_>, wanted: Option<Uuid>) -> AppResult<Uuid> {
    let known = processors::list(tx).await?;
    match (wanted, known.as_slice()) {
        (Some(id), _) if known.iter().any(|(p, _)| *p == id) => Ok(id),
        (Some(_), _) => Err(AppError::invalid("processor_id", "no such card processor")),
        (None, [(id, _)]) => Ok(*id),
        (None, []) => Err(AppError::conflict(
            "No card processor is set up yet (`allot processor create --name`).",
        )),
        (None, _) => Err(AppError::invalid(
            "processor_id",
            "several card processors are set up: say which",
        )),
    }
}

/// The payee card spending is recorded against, made with the council's first card.
pub(super) async fn merchant_payee(tx: &Tx<'_>, actor: &Actor) -> AppResult<Uuid> {
    let council_id = actor.council_id;
    if let Some(row) = tx
        .query_opt(
            "SELECT payee_id FROM card_merchant_payees WHERE council_id = $1",
            &[&council_id],
        )
        .await?
    {
        return Ok(row.try_get(0)?);
    }
    let payee_id = Uuid::new_v4();
    // The merchant is paid by the card scheme, not by allot's payment files: the bank details
    // here are placeholders that no payment run uses (card spending leaves no run line).
    tx.execute(
        "INSERT INTO payees (council_id, id, name, kind, bank_sort_code, bank_account_number,
             bank_account_name, bank_verified, created_by)
         VALUES ($1, $2, 'Card merchants', 'retailer', '000000', '00000000', 'Card scheme', true, $3)",
        &[&council_id, &payee_id, &actor.user_id],
    )
    .await?;
    tx.execute(
        "INSERT INTO card_merchant_payees (council_id, payee_id) VALUES ($1, $2)",
        &[&council_id, &payee_id],
    )
    .await?;
    Ok(payee_id)
}

/// Registers a card (finance officers).
pub async fn create(tx: &Tx<'_>, actor: &Actor, new: &NewCard) -> AppResult<Card> {
    actor.require(&[Role::FinanceOfficer])?;
    check_input(new)?;
    let council_id = actor.council_id;
    let account = tx
        .query_opt(
            "SELECT budget_id, deployment FROM budget_accounts
             WHERE council_id = $1 AND account_id = $2 AND purpose = 'deployment'",
            &[&council_id, &new.account_id],
        )
        .await?;
    let Some(account) = account else {
        return Err(AppError::invalid("account_id", "no such budget account"));
    };
    let budget_id: Uuid = account.try_get("budget_id")?;
    let deployment: String = account.try_get("deployment")?;
    if deployment != "direct_payment" && deployment != "managed_account" {
        return Err(AppError::invalid(
            "account_id",
            "cards spend from a direct-payment or managed-account account",
        ));
    }
    let holder = tx
        .query_opt(
            "SELECT 1 FROM users WHERE council_id = $1 AND id = $2 AND active",
            &[&council_id, &new.cardholder_user_id],
        )
        .await?;
    if holder.is_none() {
        return Err(AppError::invalid("cardholder_user_id", "no such user"));
    }
    let processor_id = processor_for(tx, new.processor_id).await?;
    merchant_payee(tx, actor).await?;
    let id = Uuid::new_v4();
    let inserted = tx
        .query_one(
            &format!(
                "INSERT INTO cards (council_id, id, processor_id, processor_card_ref, account_id,
                     budget_id, deployment, cardholder_user_id, last4, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 RETURNING {}",
                SELECT_CARD
                    .trim_start_matches("SELECT ")
                    .trim_end_matches(" FROM cards")
            ),
            &[
                &council_id,
                &id,
                &processor_id,
                &new.processor_card_ref.trim(),
                &new.account_id,
                &budget_id,
                &deployment,
                &new.cardholder_user_id,
                &new.last4,
                &actor.user_id,
            ],
        )
        .await;
    match inserted {
        Ok(row) => from_row(&row),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(AppError::conflict(
            "That processor's card reference is registered already.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Every card of the council (council staff).
pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Card>> {
    actor.require(READERS)?;
    let rows = tx
        .query(
            &format!("{SELECT_CARD} WHERE council_id = $1 ORDER BY created_at, id"),
            &[&actor.council_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One card (council staff).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Card> {
    actor.require(READERS)?;
    let row = tx
        .query_opt(
            &format!("{SELECT_CARD} WHERE council_id = $1 AND id = $2"),
            &[&actor.council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// What a finance officer may do to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    Freeze,
    Unfreeze,
    Cancel,
}

/// Freezes, unfreezes or cancels a card (finance officers). Doing it twice is harmless; a
/// cancelled card stays cancelled (409 for anything else).
pub async fn change(tx: &Tx<'_>, actor: &Actor, id: Uuid, action: CardAction) -> AppResult<Card> {
    actor.require(&[Role::FinanceOfficer])?;
    let row = tx
        .query_opt(
            "SELECT status FROM cards WHERE council_id = $1 AND id = $2 FOR UPDATE",
            &[&actor.council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let status: String = row.try_get(0)?;
    let next = match (status.as_str(), action) {
        ("cancelled", CardAction::Cancel) => "cancelled",
        ("cancelled", _) => {
            return Err(AppError::conflict("This card is cancelled."));
        }
        (_, CardAction::Freeze) => "frozen",
        (_, CardAction::Unfreeze) => "active",
        (_, CardAction::Cancel) => "cancelled",
    };
    tx.execute(
        "UPDATE cards SET status = $3 WHERE council_id = $1 AND id = $2",
        &[&actor.council_id, &id, &next],
    )
    .await?;
    get(tx, actor, id).await
}

/// One authorisation of a card as its page shows it, with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CardAuthorization {
    pub authorization_id: String,
    pub amount: String,
    /// The further holds approved on it (incremental authorisations), summed.
    pub increments: String,
    pub merchant_name: String,
    pub merchant_category: String,
    pub is_cash: bool,
    pub approved: bool,
    pub decline_reason: Option<String>,
    /// `approved`, `declined`, `reversed`, `captured` or `expired`.
    pub status: String,
    pub captured_amount: Option<String>,
    pub flags: Vec<String>,
    /// `force_capture` or `stand_in` when the network moved the money without allot's approval.
    pub forced: Option<String>,
    pub payment_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A card's authorisations, newest first (council staff).
pub async fn authorizations(
    tx: &Tx<'_>,
    actor: &Actor,
    card_id: Uuid,
) -> AppResult<Vec<CardAuthorization>> {
    get(tx, actor, card_id).await?;
    let rows = tx
        .query(
            "SELECT ca.authorization_ref, ca.amount::text AS amount,
                    coalesce((SELECT sum(i.amount) FROM card_authorization_increments i
                              WHERE i.council_id = ca.council_id
                                AND i.processor_id = ca.processor_id
                                AND i.authorization_ref = ca.authorization_ref
                                AND i.approved), 0)::numeric(14,2)::text AS increments,
                    ca.merchant_name, ca.merchant_category, ca.is_cash, ca.approved,
                    ca.decline_reason, ca.status, ca.captured_amount::text AS captured_amount,
                    ca.flags, ca.forced, ca.payment_id, ca.created_at
             FROM card_authorizations ca
             WHERE ca.council_id = $1 AND ca.card_id = $2
             ORDER BY ca.created_at DESC, ca.authorization_ref
             LIMIT 500",
            &[&actor.council_id, &card_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let flags: serde_json::Value = row.try_get("flags")?;
            Ok(CardAuthorization {
                authorization_id: row.try_get("authorization_ref")?,
                amount: row.try_get("amount")?,
                increments: row.try_get("increments")?,
                merchant_name: row.try_get("merchant_name")?,
                merchant_category: row.try_get("merchant_category")?,
                is_cash: row.try_get("is_cash")?,
                approved: row.try_get("approved")?,
                decline_reason: row.try_get("decline_reason")?,
                status: row.try_get("status")?,
                captured_amount: row.try_get("captured_amount")?,
                flags: flags
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                forced: row.try_get("forced")?,
                payment_id: row.try_get("payment_id")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
