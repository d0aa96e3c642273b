//! The processors' signed events (`POST /api/v1/card-events`). Nothing is read or recorded
//! before the Standard Webhooks signature checks out against one processor's key (tried against
//! each active processor's, constant-time); a `webhook-id` seen before gets its first answer.
//!
//! - `authorization.request`: decided by the rules through the coalescing payment path
//!   ([`crate::commands::PaymentDesk`]) with the cardholder as the actor; approved, the money is
//!   held until the capture (expiring per policy); declined, the decision is recorded all the
//!   same. The answer is always 200 `{"approved", "decline_reason"?, "message"}`, an unknown
//!   card included (the processor needs an answer). Not decided in time, the policy's
//!   `card_timeout_decision` answers.
//! - `authorization.reversal`: the hold is voided.
//! - `capture`: the hold posts (a smaller capture releases the rest; a larger one, up to 20 % for
//!   the policy's tip-taking merchant categories, posts the extra as its own flagged entry; after
//!   the hold expired, the capture posts on its own, flagged).
//! - `refund`: money back into the card's account, linked to the authorisation.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::processors;
use super::signature::{self, SignatureError, Signed};
use crate::auth::{Actor, Role};
use crate::budgets::policy;
use crate::clock::{london_date, Clock};
use crate::commands::{self, PaymentDesk};
use crate::db::{anonymous_tx, in_tenant_tx, DbPool, Tx};
use crate::error::{AppError, AppResult};
use crate::ledger::{self, LedgerError, NewEntry, NewLeg, Side};
use crate::money::PositiveMoney;
use crate::payments::spend::{CardSpend, NewPayment, PaymentOutcome};
use crate::rules::{CardTimeoutDecision, CashToday, Deployment, Refusal, RuleCode};

/// How long an authorisation may take before the policy answers for it: processors give up
/// after about two seconds, and the answer has to travel back.
pub const DECISION_BUDGET: Duration = Duration::from_millis(1500);

/// What an event came to: an answer (200), or a signature that did not check out (401).
#[derive(Debug)]
pub enum Received {
    Answer(Value),
    Unauthenticated(SignatureError),
}

/// What the event handler needs from the application.
pub struct Desk<'a> {
    pub pool: &'a DbPool,
    pub clock: &'a Clock,
    pub payments: &'a PaymentDesk,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    data: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Merchant {
    name: String,
    category_code: String,
    #[serde(default)]
    #[allow(dead_code)]
    city: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    country: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizationRequest {
    authorization_id: String,
    card_ref: String,
    amount: PositiveMoney,
    currency: String,
    merchant: Merchant,
    #[serde(default)]
    is_cash: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reversal {
    authorization_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Capture {
    authorization_id: String,
    amount: PositiveMoney,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Refund {
    authorization_id: String,
    amount: PositiveMoney,
}

fn data<T: serde::de::DeserializeOwned>(value: Value) -> AppResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        AppError::invalid(&format!("data.{field}"), e.inner().to_string())
    })
}

fn check_ref(field: &str, text: &str) -> AppResult<()> {
    if text.trim().is_empty() || text.chars().count() > 100 {
        return Err(AppError::invalid(field, "1 to 100 characters"));
    }
    Ok(())
}

fn declined(code: &str, message: &str) -> Value {
    json!({"approved": false, "decline_reason": code, "message": message})
}

/// Receives one signed event. Bad input after a good signature is the envelope's 400 (nothing
/// recorded); the caller maps [`Received`] to 200 or 401.
pub async fn receive(desk: &Desk<'_>, signed: &Signed<'_>) -> AppResult<Received> {
    let now = desk.clock.now();
    let keys = {
        let mut client = desk.pool.get().await?;
        let tx = anonymous_tx(&mut client).await?;
        let keys = processors::keys(&tx).await?;
        tx.commit().await?;
        keys
    };
    let key_refs: Vec<&[u8]> = keys.iter().map(|k| k.key.as_slice()).collect();
    let processor_id = match signature::verify(&key_refs, signed, now) {
        Ok(index) => keys[index].id,
        Err(e) => return Ok(Received::Unauthenticated(e)),
    };
    if signed.id.chars().count() > 255 {
        return Err(AppError::invalid("webhook-id", "at most 255 characters"));
    }
    if let Some(answer) = stored_answer(desk.pool, processor_id, signed.id).await? {
        return Ok(Received::Answer(answer));
    }
    let envelope: Envelope = serde_json::from_slice(signed.body)
        .map_err(|e| AppError::invalid("body", format!("a JSON event with type and data: {e}")))?;
    let (council, answer) = match envelope.kind.as_str() {
        "authorization.request" => authorize(desk, processor_id, data(envelope.data)?).await?,
        "authorization.incremental" => (
            None,
            declined(
                "not_supported",
                "Incremental authorisations are not accepted yet; ask for a new authorisation.",
            ),
        ),
        "authorization.reversal" => reverse(desk, processor_id, data(envelope.data)?).await?,
        "capture" => capture(desk, processor_id, data(envelope.data)?).await?,
        "refund" => refund(desk, processor_id, data(envelope.data)?).await?,
        _ => {
            return Err(AppError::invalid(
                "type",
                "authorization.request, authorization.reversal, capture or refund",
            ))
        }
    };
    let answer = record_answer(
        desk.pool,
        processor_id,
        signed.id,
        &envelope.kind,
        council,
        &answer,
    )
    .await?;
    Ok(Received::Answer(answer))
}

async fn stored_answer(
    pool: &DbPool,
    processor: Uuid,
    webhook_id: &str,
) -> AppResult<Option<Value>> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let row = tx
        .query_one(
            "SELECT card_event_answer($1, $2)",
            &[&processor, &webhook_id],
        )
        .await?;
    let answer: Option<Value> = row.try_get(0)?;
    tx.commit().await?;
    Ok(answer)
}

async fn record_answer(
    pool: &DbPool,
    processor: Uuid,
    webhook_id: &str,
    kind: &str,
    council: Option<Uuid>,
    answer: &Value,
) -> AppResult<Value> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let row = tx
        .query_one(
            "SELECT card_event_record($1, $2, $3, $4, $5)",
            &[&processor, &webhook_id, &kind, &council, answer],
        )
        .await?;
    let stands: Value = row.try_get(0)?;
    tx.commit().await?;
    Ok(stands)
}

/// A card as an authorisation needs it, with its cardholder.
struct CardFacts {
    card_id: Uuid,
    status: String,
    budget_id: Uuid,
    deployment: Deployment,
    holder_organisation_id: Option<Uuid>,
    cardholder: Actor,
    payee_id: Option<Uuid>,
    cash_today: Decimal,
    existing: Option<Value>,
}

async fn card_council(
    pool: &DbPool,
    processor: Uuid,
    card_ref: &str,
) -> AppResult<Option<(Uuid, Uuid)>> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let row = tx
        .query_opt(
            "SELECT council_id, card_id FROM card_find($1, $2)",
            &[&processor, &card_ref],
        )
        .await?;
    tx.commit().await?;
    Ok(match row {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
        None => None,
    })
}

async fn authorization_council(pool: &DbPool, processor: Uuid, reference: &str) -> AppResult<Uuid> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let row = tx
        .query_one(
            "SELECT card_authorization_council($1, $2)",
            &[&processor, &reference],
        )
        .await?;
    tx.commit().await?;
    row.try_get::<_, Option<Uuid>>(0)?.ok_or(AppError::NotFound)
}

/// The answer recorded for an authorisation decided before (the same authorisation id again).
fn answer_of(row: &tokio_postgres::Row) -> AppResult<Value> {
    let approved: bool = row.try_get("approved")?;
    let reason: Option<String> = row.try_get("decline_reason")?;
    Ok(match reason {
        Some(code) if !approved => declined(&code, "This authorisation was declined."),
        _ => json!({"approved": true, "message": "Approved."}),
    })
}

async fn load_card(
    tx: &Tx<'_>,
    council_id: Uuid,
    card_id: Uuid,
    processor: Uuid,
    reference: &str,
    today: chrono::NaiveDate,
) -> AppResult<CardFacts> {
    let row = tx
        .query_one(
            "SELECT c.id, c.status, c.budget_id, c.deployment, a.holder_organisation_id,
                    u.id AS user_id, u.role, u.email, u.name, u.organisation_id, u.person_id,
                    (SELECT payee_id FROM card_merchant_payees m WHERE m.council_id = $1)
                        AS payee_id,
                    coalesce((SELECT sum(ca.amount) FROM card_authorizations ca
                              WHERE ca.council_id = $1 AND ca.card_id = c.id AND ca.is_cash
                                AND ca.status IN ('approved', 'captured')
                                AND (ca.created_at AT TIME ZONE 'Europe/London')::date = $3),
                             0) AS cash_today
             FROM cards c
             JOIN budget_accounts a ON a.council_id = c.council_id AND a.account_id = c.account_id
             JOIN users u ON u.council_id = c.council_id AND u.id = c.cardholder_user_id
             WHERE c.council_id = $1 AND c.id = $2",
            &[&council_id, &card_id, &today],
        )
        .await?;
    let existing = tx
        .query_opt(
            "SELECT approved, decline_reason FROM card_authorizations
             WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
            &[&council_id, &processor, &reference],
        )
        .await?;
    let role: &str = row.try_get("role")?;
    let deployment: &str = row.try_get("deployment")?;
    let stored = |what: &str| AppError::Internal(format!("stored card has a bad {what}"));
    Ok(CardFacts {
        card_id: row.try_get("id")?,
        status: row.try_get("status")?,
        budget_id: row.try_get("budget_id")?,
        deployment: deployment.parse().map_err(|_| stored("deployment"))?,
        holder_organisation_id: row.try_get("holder_organisation_id")?,
        cardholder: Actor {
            user_id: row.try_get("user_id")?,
            council_id,
            role: Role::parse(role).ok_or_else(|| stored("cardholder role"))?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            organisation_id: row.try_get("organisation_id")?,
            person_id: row.try_get("person_id")?,
        },
        payee_id: row.try_get("payee_id")?,
        cash_today: row.try_get("cash_today")?,
        existing: existing.as_ref().map(answer_of).transpose()?,
    })
}

/// Which refusal names a card decline: the most specific first.
pub(crate) fn decline_reason(refusals: &[Refusal]) -> Option<&Refusal> {
    const ORDER: [RuleCode; 6] = [
        RuleCode::BlockedMerchant,
        RuleCode::CashLimit,
        RuleCode::NotInPlan,
        RuleCode::NoAuthority,
        RuleCode::NeedsApproval,
        RuleCode::InsufficientFunds,
    ];
    ORDER
        .iter()
        .find_map(|code| refusals.iter().find(|r| r.code == *code))
        .or_else(|| refusals.first())
}

async fn authorize(
    desk: &Desk<'_>,
    processor: Uuid,
    request: AuthorizationRequest,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &request.authorization_id)?;
    check_ref("data.card_ref", &request.card_ref)?;
    if request.currency != "GBP" {
        return Err(AppError::invalid("data.currency", "GBP"));
    }
    let mcc = request.merchant.category_code.trim().to_owned();
    if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            "data.merchant.category_code",
            "a merchant category code of four digits",
        ));
    }
    let merchant_name = request.merchant.name.trim().to_owned();
    if merchant_name.is_empty() || merchant_name.chars().count() > 200 {
        return Err(AppError::invalid(
            "data.merchant.name",
            "1 to 200 characters",
        ));
    }
    let Some((council_id, card_id)) = card_council(desk.pool, processor, &request.card_ref).await?
    else {
        return Ok((
            None,
            declined("unknown_card", "allot does not know this card."),
        ));
    };
    let now = desk.clock.now();
    let today = london_date(now);
    let reference = request.authorization_id.clone();
    let (card, council_policy) = in_tenant_tx(desk.pool, council_id, |tx| {
        let reference = reference.clone();
        Box::pin(async move {
            let card = load_card(tx, council_id, card_id, processor, &reference, today).await?;
            let council_policy = policy::current(tx, council_id).await?;
            Ok((card, council_policy))
        })
    })
    .await?;
    if let Some(existing) = card.existing {
        return Ok((Some(council_id), existing));
    }
    if card.status != "active" {
        let code = if card.status == "frozen" {
            "card_frozen"
        } else {
            "card_cancelled"
        };
        let message = if card.status == "frozen" {
            "This card is frozen."
        } else {
            "This card is cancelled."
        };
        let amount = request.amount.amount();
        let (is_cash, name, mcc, reference) = (
            request.is_cash,
            merchant_name.clone(),
            mcc.clone(),
            reference.clone(),
        );
        commands::write(desk.pool, council_id, move |tx| {
            let (name, mcc, reference) = (name.clone(), mcc.clone(), reference.clone());
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO card_authorizations (council_id, processor_id, authorization_ref,
                         card_id, amount, merchant_category, merchant_name, is_cash, approved,
                         decline_reason, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, 'declined', $10)",
                    &[
                        &council_id,
                        &processor,
                        &reference,
                        &card_id,
                        &amount,
                        &mcc,
                        &name,
                        &is_cash,
                        &code,
                        &now,
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        return Ok((Some(council_id), declined(code, message)));
    }
    let payee_id = card
        .payee_id
        .ok_or_else(|| AppError::Internal("a council with cards has no card payee".into()))?;
    let is_cash = request.is_cash || council_policy.is_cash_mcc(&mcc);
    let new = NewPayment {
        budget_id: card.budget_id,
        deployment: card.deployment,
        payee_id,
        category: council_policy.card_category(&mcc),
        amount: request.amount,
        service_date: today,
        memo: Some(merchant_name.chars().take(500).collect()),
        stay_from: None,
        stay_to: None,
        holder_organisation_id: card.holder_organisation_id,
        merchant_category: Some(mcc.clone()),
        is_cash,
        evidence_sha256: None,
        invoice_id: None,
        card: Some(CardSpend {
            card_id: card.card_id,
            processor_id: processor,
            authorization_ref: reference,
            merchant_name,
            mcc,
            hold_expires_at: now
                + chrono::Duration::days(i64::from(council_policy.card_hold_expiry_days.max(1))),
            cash: is_cash.then_some(CashToday {
                withdrawn: card.cash_today,
                daily_limit: council_policy.card_cash_daily_limit,
            }),
        }),
    };
    let decided = tokio::time::timeout(
        DECISION_BUDGET,
        desk.payments.pay(&card.cardholder, new, None),
    )
    .await;
    let answer = match decided {
        Err(_) => match council_policy.card_timeout_decision {
            CardTimeoutDecision::Decline => declined(
                "timeout",
                "allot could not decide in time; this council declines then.",
            ),
            CardTimeoutDecision::Approve => json!({"approved": true, "stand_in": true,
                "message": "allot could not decide in time; this council approves then."}),
        },
        Ok(Ok(ran)) => match ran.value {
            PaymentOutcome::Authorized(payment) => json!({"approved": true,
                "payment_id": payment.id, "message": "Approved."}),
            PaymentOutcome::Refused {
                payment_id,
                refusals,
            } => {
                let reason = decline_reason(&refusals);
                json!({"approved": false,
                       "decline_reason": reason.map_or("declined", |r| r.code.as_str()),
                       "message": reason.map_or("Declined.", |r| r.message.as_str()),
                       "payment_id": payment_id})
            }
            PaymentOutcome::Posted(_) | PaymentOutcome::Held(_) => {
                return Err(AppError::Internal(
                    "a card authorisation was posted or held".into(),
                ))
            }
        },
        Ok(Err(AppError::NotFound)) => declined(
            "no_authority",
            "The cardholder may not spend from this budget.",
        ),
        Ok(Err(e)) => return Err(e),
    };
    Ok((Some(council_id), answer))
}

/// An authorisation as a capture, reversal or refund needs it (locked).
struct Authorization {
    card_id: Uuid,
    payment_id: Option<Uuid>,
    amount: Decimal,
    mcc: String,
    status: String,
    hold_entry_id: Option<Uuid>,
    account_id: Uuid,
    captured: Option<Decimal>,
    cardholder: Uuid,
}

async fn lock_authorization(
    tx: &Tx<'_>,
    council_id: Uuid,
    processor: Uuid,
    reference: &str,
) -> AppResult<Authorization> {
    let row = tx
        .query_opt(
            "SELECT ca.card_id, ca.payment_id, ca.amount, ca.merchant_category, ca.status,
                    ca.hold_entry_id, ca.captured_amount, c.account_id, c.cardholder_user_id
             FROM card_authorizations ca
             JOIN cards c ON c.council_id = ca.council_id AND c.id = ca.card_id
             WHERE ca.council_id = $1 AND ca.processor_id = $2 AND ca.authorization_ref = $3
             FOR UPDATE OF ca",
            &[&council_id, &processor, &reference],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Authorization {
        card_id: row.try_get("card_id")?,
        payment_id: row.try_get("payment_id")?,
        amount: row.try_get("amount")?,
        mcc: row.try_get("merchant_category")?,
        status: row.try_get("status")?,
        hold_entry_id: row.try_get("hold_entry_id")?,
        account_id: row.try_get("account_id")?,
        captured: row.try_get("captured_amount")?,
        cardholder: row.try_get("cardholder_user_id")?,
    })
}

async fn paid_out_of(tx: &Tx<'_>, council_id: Uuid, account: Uuid) -> AppResult<Uuid> {
    let row = tx
        .query_opt(
            "SELECT paid_out_id FROM paid_out_accounts WHERE council_id = $1 AND account_id = $2",
            &[&council_id, &account],
        )
        .await?
        .ok_or_else(|| AppError::Internal("a card account has no paid-out account".into()))?;
    Ok(row.try_get(0)?)
}

/// Posts money between the card's account and its paid-out account.
async fn post_card_entry(
    tx: &Tx<'_>,
    council_id: Uuid,
    (from, to): (Uuid, Uuid),
    amount: Decimal,
    today: chrono::NaiveDate,
    description: String,
    metadata: Value,
) -> AppResult<Uuid> {
    let entry = NewEntry {
        effective_date: today,
        description,
        legs: vec![
            NewLeg {
                account_id: from,
                side: Side::Debit,
                amount,
            },
            NewLeg {
                account_id: to,
                side: Side::Credit,
                amount,
            },
        ],
        metadata,
        reverses: None,
    };
    Ok(ledger::post_in_tx(tx, council_id, &entry).await?.id)
}

async fn hold_expired(
    tx: &Tx<'_>,
    council_id: Uuid,
    hold: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ledger_hold_resolutions
                            WHERE council_id = $1 AND hold_id = $2 AND outcome = 'expired')
                 OR EXISTS (SELECT 1 FROM ledger_open_holds
                            WHERE council_id = $1 AND hold_id = $2 AND expires_at <= $3)",
            &[&council_id, &hold, &now],
        )
        .await?;
    Ok(row.try_get(0)?)
}

async fn reverse(
    desk: &Desk<'_>,
    processor: Uuid,
    event: Reversal,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    let council_id = authorization_council(desk.pool, processor, &event.authorization_id).await?;
    let now = desk.clock.now();
    let reference = event.authorization_id;
    let answer = commands::write(desk.pool, council_id, move |tx| {
        let reference = reference.clone();
        Box::pin(async move {
            let auth = lock_authorization(tx, council_id, processor, &reference).await?;
            match auth.status.as_str() {
                "reversed" => return Ok(json!({"recorded": true, "status": "reversed"})),
                "approved" => {}
                other => {
                    return Err(AppError::conflict(format!(
                        "This authorisation is {other}: it cannot be reversed."
                    )))
                }
            }
            let hold = auth.hold_entry_id.ok_or_else(|| {
                AppError::Internal("an approved authorisation has no hold".into())
            })?;
            match ledger::void_pending_with_in_tx(
                tx,
                council_id,
                hold,
                json!({"reason": "reversed by the card processor"}),
            )
            .await
            {
                Ok(_) | Err(LedgerError::NotPending) => {}
                Err(e) => return Err(e.into()),
            }
            if let Some(payment) = auth.payment_id {
                tx.execute(
                    "UPDATE payments SET status = 'voided', resolved_at = $3, resolved_by = $4
                     WHERE council_id = $1 AND id = $2",
                    &[&council_id, &payment, &now, &auth.cardholder],
                )
                .await?;
            }
            tx.execute(
                "UPDATE card_authorizations SET status = 'reversed'
                 WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                &[&council_id, &processor, &reference],
            )
            .await?;
            Ok(json!({"recorded": true, "status": "reversed"}))
        })
    })
    .await?;
    Ok((Some(council_id), answer))
}

async fn capture(
    desk: &Desk<'_>,
    processor: Uuid,
    event: Capture,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    let council_id = authorization_council(desk.pool, processor, &event.authorization_id).await?;
    let now = desk.clock.now();
    let today = london_date(now);
    let reference = event.authorization_id;
    let amount = event.amount.amount();
    let answer = commands::write(desk.pool, council_id, move |tx| {
        let reference = reference.clone();
        Box::pin(async move {
            let auth = lock_authorization(tx, council_id, processor, &reference).await?;
            if auth.status != "approved" {
                return Err(AppError::conflict(format!(
                    "This authorisation is {}: it cannot be captured.",
                    auth.status
                )));
            }
            let hold = auth.hold_entry_id.ok_or_else(|| {
                AppError::Internal("an approved authorisation has no hold".into())
            })?;
            let council_policy = policy::current(tx, council_id).await?;
            let ceiling = (auth.amount * Decimal::new(12, 1)).round_dp(2);
            let over = amount > auth.amount;
            if over && !(council_policy.allows_over_capture(&auth.mcc) && amount <= ceiling) {
                return Err(AppError::invalid_amount(
                    "data.amount",
                    format!(
                        "at most the {:.2} authorised (up to 20 % more only at restaurants, bars, \
                         taxis and salons)",
                        auth.amount
                    ),
                ));
            }
            let metadata = json!({"card_authorization": reference, "payment_id": auth.payment_id,
                                  "card_id": auth.card_id});
            let mut flags: Vec<&str> = Vec::new();
            let mut extra_entry = None;
            let capture_entry = if hold_expired(tx, council_id, hold, now).await? {
                // The hold is gone (or due to go): the capture posts on its own, flagged.
                match ledger::void_pending_with_in_tx(
                    tx,
                    council_id,
                    hold,
                    json!({"reason": "captured after expiry"}),
                )
                .await
                {
                    Ok(_) | Err(LedgerError::NotPending) => {}
                    Err(e) => return Err(e.into()),
                }
                flags.push("captured_after_expiry");
                let paid_out = paid_out_of(tx, council_id, auth.account_id).await?;
                post_card_entry(
                    tx,
                    council_id,
                    (auth.account_id, paid_out),
                    amount,
                    today,
                    "Card capture after the authorisation expired".into(),
                    json!({"card_authorization": reference, "payment_id": auth.payment_id,
                           "flag": "captured_after_expiry"}),
                )
                .await?
            } else {
                let posted = ledger::post_pending_with_in_tx(
                    tx,
                    council_id,
                    hold,
                    Some(amount.min(auth.amount)),
                    Some(metadata),
                    now,
                )
                .await?;
                if over {
                    flags.push("over_capture");
                    let paid_out = paid_out_of(tx, council_id, auth.account_id).await?;
                    extra_entry = Some(
                        post_card_entry(
                            tx,
                            council_id,
                            (auth.account_id, paid_out),
                            amount - auth.amount,
                            today,
                            "Card capture above the authorisation (tip)".into(),
                            json!({"card_authorization": reference, "payment_id": auth.payment_id,
                                   "flag": "over_capture"}),
                        )
                        .await?,
                    );
                }
                posted.id
            };
            if let Some(payment) = auth.payment_id {
                tx.execute(
                    "UPDATE payments SET status = 'posted', posted_entry_id = $3, resolved_at = $4,
                         resolved_by = $5
                     WHERE council_id = $1 AND id = $2",
                    &[
                        &council_id,
                        &payment,
                        &capture_entry,
                        &now,
                        &auth.cardholder,
                    ],
                )
                .await?;
            }
            let flags_json = json!(flags);
            tx.execute(
                "UPDATE card_authorizations SET status = 'captured', captured_amount = $4,
                     capture_entry_id = $5, extra_entry_id = $6, flags = $7
                 WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                &[
                    &council_id,
                    &processor,
                    &reference,
                    &amount,
                    &capture_entry,
                    &extra_entry,
                    &flags_json,
                ],
            )
            .await?;
            Ok(
                json!({"recorded": true, "status": "captured", "amount": format!("{amount:.2}"),
                      "entry_id": capture_entry, "extra_entry_id": extra_entry,
                      "flags": flags}),
            )
        })
    })
    .await?;
    Ok((Some(council_id), answer))
}

async fn refund(
    desk: &Desk<'_>,
    processor: Uuid,
    event: Refund,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    let council_id = authorization_council(desk.pool, processor, &event.authorization_id).await?;
    let today = london_date(desk.clock.now());
    let reference = event.authorization_id;
    let amount = event.amount.amount();
    let answer = commands::write(desk.pool, council_id, move |tx| {
        let reference = reference.clone();
        Box::pin(async move {
            let auth = lock_authorization(tx, council_id, processor, &reference).await?;
            let Some(captured) = auth.captured else {
                return Err(AppError::conflict(
                    "This authorisation has not been captured: there is nothing to refund.",
                ));
            };
            let refunded: Decimal = tx
                .query_one(
                    "SELECT coalesce(sum(amount), 0) FROM card_refunds
                     WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                    &[&council_id, &processor, &reference],
                )
                .await?
                .try_get(0)?;
            if refunded + amount > captured {
                return Err(AppError::invalid_amount(
                    "data.amount",
                    format!(
                        "at most the {:.2} captured and not yet refunded",
                        captured - refunded
                    ),
                ));
            }
            let paid_out = paid_out_of(tx, council_id, auth.account_id).await?;
            let id = Uuid::new_v4();
            let entry = post_card_entry(
                tx,
                council_id,
                (paid_out, auth.account_id),
                amount,
                today,
                "Card refund".into(),
                json!({"card_authorization": reference, "payment_id": auth.payment_id,
                       "card_refund": id}),
            )
            .await?;
            tx.execute(
                "INSERT INTO card_refunds (council_id, id, processor_id, card_id,
                     authorization_ref, amount, entry_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &council_id,
                    &id,
                    &processor,
                    &auth.card_id,
                    &reference,
                    &amount,
                    &entry,
                ],
            )
            .await?;
            Ok(json!({"recorded": true, "refund_id": id, "entry_id": entry,
                      "amount": format!("{amount:.2}")}))
        })
    })
    .await?;
    Ok((Some(council_id), answer))
}
