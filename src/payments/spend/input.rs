//! A payment request as asked for, and its checks that need no database.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::money::PositiveMoney;
use rust_decimal::Decimal;

use crate::rules::{Category, Deployment, SpendRequest};

/// A payment request (`POST /api/v1/payments`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub budget_id: Uuid,
    #[schema(value_type = String, example = "direct_payment")]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    #[schema(value_type = String, example = "personal_care")]
    pub category: Category,
    #[schema(value_type = String, example = "120.00")]
    pub amount: PositiveMoney,
    /// The day the care or item was provided.
    #[serde(with = "crate::dates")]
    pub service_date: NaiveDate,
    #[serde(default)]
    pub memo: Option<String>,
    /// First night of a care-home stay.
    #[serde(default, with = "crate::dates::option")]
    pub stay_from: Option<NaiveDate>,
    /// Last night of a care-home stay.
    #[serde(default, with = "crate::dates::option")]
    pub stay_to: Option<NaiveDate>,
    /// Which holder's account, when several organisations hold money of this deployment.
    #[serde(default)]
    pub holder_organisation_id: Option<Uuid>,
    /// The card processor's merchant category, for card-style spending.
    #[serde(default)]
    pub merchant_category: Option<String>,
    /// A cash withdrawal.
    #[serde(default)]
    pub is_cash: bool,
    /// SHA-256 (hex) of the receipt, invoice or timesheet attached.
    #[serde(default)]
    pub evidence_sha256: Option<String>,
    /// The invoice this pays (set by the invoice service, never by a request body).
    #[serde(skip)]
    pub invoice_id: Option<Uuid>,
    /// The card authorisation this decides (set by the card service, never by a request body).
    #[serde(skip)]
    pub card: Option<CardSpend>,
}

/// A card authorisation decided as a payment: approved, it holds the money until the capture
/// (`authorized`); a hold for approval is declined (a till cannot wait).
#[derive(Debug, Clone, PartialEq)]
pub struct CardSpend {
    pub card_id: Uuid,
    pub processor_id: Uuid,
    /// The processor's authorisation id.
    pub authorization_ref: String,
    /// For an incremental authorisation: the event asking for it (its `webhook-id`); the
    /// further hold is recorded on `authorization_ref`'s authorisation.
    pub increment_ref: Option<String>,
    /// For an authorisation request: its event's `webhook-id`, under which the answer is recorded
    /// in the batch's transaction (for replays).
    pub webhook_id: Option<String>,
    pub merchant_name: String,
    /// The merchant category code (four digits).
    pub mcc: String,
    /// When an approved authorisation's hold expires.
    pub hold_expires_at: DateTime<Utc>,
    /// For a cash withdrawal: the council's daily limit per card. What the card has withdrawn
    /// today is read after the account is locked (so two withdrawals racing cannot both pass).
    pub cash_daily_limit: Option<Decimal>,
}

/// Checks what can be checked without the database (lengths, digests, stay dates).
pub fn check_input(new: &NewPayment) -> AppResult<()> {
    if let Some(memo) = &new.memo {
        if memo.trim().is_empty() || memo.chars().count() > 500 {
            return Err(AppError::invalid("memo", "1 to 500 characters"));
        }
    }
    if let Some(category) = &new.merchant_category {
        if category.trim().is_empty() || category.chars().count() > 100 {
            return Err(AppError::invalid(
                "merchant_category",
                "1 to 100 characters",
            ));
        }
    }
    if let Some(hash) = &new.evidence_sha256 {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid(
                "evidence_sha256",
                "64 hexadecimal characters (a SHA-256 digest)",
            ));
        }
    }
    match (new.stay_from, new.stay_to) {
        (Some(from), Some(to)) if to < from => Err(AppError::invalid(
            "stay_to",
            "the last night must be on or after the first",
        )),
        (Some(_), None) | (None, Some(_)) => Err(AppError::invalid(
            "stay_to",
            "give both stay_from and stay_to, or neither",
        )),
        _ => Ok(()),
    }
}

/// The request as the rules see it.
pub fn spend_request(actor: &Actor, new: &NewPayment) -> SpendRequest {
    SpendRequest {
        actor: actor.user_id,
        category: new.category,
        deployment: new.deployment,
        amount: new.amount.amount(),
        service_date: new.service_date,
        payee_id: new.payee_id,
        stay_from: new.stay_from,
        stay_to: new.stay_to,
        merchant_category: new.merchant_category.clone(),
        is_cash: new.is_cash,
        evidence_attached: new.evidence_sha256.is_some(),
        actor_organisation_id: actor.organisation_id,
    }
}
