//! What a payment request comes to, as domain values: the recorded [`Payment`] and the
//! [`PaymentOutcome`] of a request. `http/` maps these to statuses and the error envelope; the
//! admin pages render the same values; a replayed request gives the stored outcome again.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::Actor;
use crate::budgets::budget::load::visible;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::{ApprovalNeed, Category, Decision, Deployment, Refusal};

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Posted,
    PendingApproval,
    Rejected,
    Expired,
    Refused,
    /// An approved card authorisation, its money held until the capture.
    Authorized,
    /// A card authorisation reversed before capture.
    Voided,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Posted => "posted",
            PaymentStatus::PendingApproval => "pending_approval",
            PaymentStatus::Rejected => "rejected",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Refused => "refused",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Voided => "voided",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "posted" => PaymentStatus::Posted,
            "pending_approval" => PaymentStatus::PendingApproval,
            "rejected" => PaymentStatus::Rejected,
            "expired" => PaymentStatus::Expired,
            "refused" => PaymentStatus::Refused,
            "authorized" => PaymentStatus::Authorized,
            "voided" => PaymentStatus::Voided,
            _ => return None,
        })
    }
}

/// A payment as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub account_id: Option<Uuid>,
    #[schema(value_type = String)]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    pub payee_name: String,
    #[schema(value_type = String)]
    pub category: Category,
    #[schema(value_type = String)]
    pub amount: Money,
    pub service_date: NaiveDate,
    pub memo: Option<String>,
    pub stay_from: Option<NaiveDate>,
    pub stay_to: Option<NaiveDate>,
    /// `posted`, `pending_approval`, `rejected`, `expired`, `refused`, or for a card
    /// authorisation `authorized` (held until captured) or `voided`.
    pub status: PaymentStatus,
    /// Approvals still needed while held.
    #[schema(value_type = Vec<Object>)]
    pub approvals_required: Vec<ApprovalNeed>,
    /// Who has approved so far.
    pub approved_by: Vec<Uuid>,
    /// The rules' decision as made: outcome, refusals, approvals required, flags.
    #[schema(value_type = Object)]
    pub decision: Decision,
    pub ruleset_version: String,
    pub policy_version: i32,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    pub requested_at: DateTime<Utc>,
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// The ledger entry that moved the money, once posted.
    pub entry_id: Option<Uuid>,
    /// The ledger hold reserving the money, while (or since) held.
    pub hold_entry_id: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
}

/// What a payment request came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PaymentOutcome {
    /// The money moved.
    Posted(Payment),
    /// The money is reserved until every approval it needs is given.
    Held(Payment),
    /// A card authorisation approved: the money is held until the processor captures it.
    Authorized(Payment),
    /// No money moved; the refusal is recorded as a decision under `payment_id`.
    Refused {
        payment_id: Uuid,
        refusals: Vec<Refusal>,
    },
}

impl PaymentOutcome {
    /// The id the request was recorded under, whatever it came to.
    pub fn payment_id(&self) -> Uuid {
        match self {
            PaymentOutcome::Posted(p) | PaymentOutcome::Held(p) | PaymentOutcome::Authorized(p) => {
                p.id
            }
            PaymentOutcome::Refused { payment_id, .. } => *payment_id,
        }
    }
}

const SELECT_PAYMENT: &str = "SELECT p.id, p.budget_id, p.account_id, p.deployment, p.payee_id,
        y.name AS payee_name, p.category, p.amount, p.service_date, p.memo, p.stay_from, p.stay_to,
        CASE WHEN p.status IN ('pending_approval', 'authorized') AND r.outcome = 'expired'
             THEN 'expired'
             ELSE p.status END AS status,
        p.outstanding, p.decision, p.ruleset_version, p.policy_version, p.requested_by,
        u.name AS requested_by_name, p.requested_at, p.hold_expires_at, p.posted_entry_id,
        p.hold_entry_id, p.resolved_at, p.resolved_by,
        ARRAY(SELECT a.approver_id FROM payment_approvals a
              WHERE a.council_id = p.council_id AND a.payment_id = p.id
              ORDER BY a.approved_at) AS approved_by
     FROM payments p
     JOIN payees y ON y.council_id = p.council_id AND y.id = p.payee_id
     JOIN users u ON u.council_id = p.council_id AND u.id = p.requested_by
     LEFT JOIN ledger_hold_resolutions r ON r.council_id = p.council_id AND r.hold_id = p.hold_entry_id";

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn from_row(row: &Row) -> AppResult<Payment> {
    let parse_err = |what: &str| internal(format!("stored payment has a bad {what}"));
    let deployment: &str = row.try_get("deployment")?;
    let category: &str = row.try_get("category")?;
    let amount: Decimal = row.try_get("amount")?;
    let status: &str = row.try_get("status")?;
    let status = PaymentStatus::parse(status).ok_or_else(|| parse_err("status"))?;
    let outstanding: serde_json::Value = row.try_get("outstanding")?;
    let decision: serde_json::Value = row.try_get("decision")?;
    Ok(Payment {
        id: row.try_get("id")?,
        budget_id: row.try_get("budget_id")?,
        account_id: row.try_get("account_id")?,
        deployment: deployment.parse().map_err(|_| parse_err("deployment"))?,
        payee_id: row.try_get("payee_id")?,
        payee_name: row.try_get("payee_name")?,
        category: category.parse().map_err(|_| parse_err("category"))?,
        amount: Money::new(amount).map_err(|_| parse_err("amount"))?,
        service_date: row.try_get("service_date")?,
        memo: row.try_get("memo")?,
        stay_from: row.try_get("stay_from")?,
        stay_to: row.try_get("stay_to")?,
        approvals_required: if status == PaymentStatus::PendingApproval {
            serde_json::from_value(outstanding).map_err(|_| parse_err("outstanding"))?
        } else {
            Vec::new()
        },
        status,
        decision: serde_json::from_value(decision).map_err(|_| parse_err("decision"))?,
        ruleset_version: row.try_get("ruleset_version")?,
        policy_version: row.try_get("policy_version")?,
        requested_by: row.try_get("requested_by")?,
        requested_by_name: row.try_get("requested_by_name")?,
        requested_at: row.try_get("requested_at")?,
        hold_expires_at: row.try_get("hold_expires_at")?,
        entry_id: row.try_get("posted_entry_id")?,
        hold_entry_id: row.try_get("hold_entry_id")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        approved_by: row.try_get("approved_by")?,
    })
}

/// A payment by id (no visibility check: see [`visible_payment`]).
pub async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Payment> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.id = $2"
            ))
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// Whether the actor may see this payment: they may see its budget, and provider staff only
/// payments from accounts their organisation holds.
pub(super) async fn may_see(tx: &Tx<'_>, actor: &Actor, payment: &Payment) -> AppResult<bool> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT can_see_budget($1, $2, $3)
                AND ($4::uuid IS NULL OR can_see_account($1, $2, $4))",
            )
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &payment.budget_id,
                &payment.account_id,
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// A payment the actor may see (404 otherwise).
pub async fn visible_payment(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payment> {
    let payment = load(tx, actor.council_id, id).await?;
    if !may_see(tx, actor, &payment).await? {
        return Err(AppError::NotFound);
    }
    Ok(payment)
}

/// The budget's decisions, newest first (posted, held, refused, approved, rejected, expired).
pub async fn decisions(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    limit: i64,
) -> AppResult<Vec<Payment>> {
    visible(tx, actor, budget_id).await?;
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.budget_id = $2
                   AND (p.account_id IS NULL OR can_see_account($1, $3, p.account_id))
                 ORDER BY p.requested_at DESC, p.id LIMIT $4"
            ))
            .await?,
            &[&actor.council_id, &budget_id, &actor.user_id, &limit],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Held payments that may still be approved (not expired), oldest first, of budgets the actor
/// may see; the caller keeps those this actor could approve.
pub(super) async fn held_visible(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Payment>> {
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.status = 'pending_approval'
                   AND r.outcome IS NULL
                   AND can_see_budget($1, $2, p.budget_id)
                   AND (p.account_id IS NULL OR can_see_account($1, $2, p.account_id))
                 ORDER BY p.requested_at, p.id LIMIT 500"
            ))
            .await?,
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}
