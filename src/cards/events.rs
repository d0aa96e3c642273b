//! The processors' signed events (`POST /api/v1/card-events`). Nothing is read or recorded
//! before the Standard Webhooks signature checks out against one processor's key (tried against
//! each active processor's, constant-time); a `webhook-id` seen before gets its first answer.
//!
//! - `authorization.request`: decided by the rules through the coalescing payment path
//!   ([`crate::commands::PaymentDesk`]) with the cardholder as the actor; approved, the money is
//!   held until the capture (expiring per policy); declined, the decision is recorded all the
//!   same. The answer is always 200 `{"approved", "decline_reason"?, "message"}`, an unknown
//!   card included (the processor needs an answer). Not decided in time, the policy's
//!   `card_timeout_decision` answers (a `timeout` decline is recorded first, so a decision
//!   finishing later leaves no hold). With `stand_in: true` (the network approved it while allot
//!   was unreachable) it is held whatever the rules say and goes on the exceptions list.
//! - `authorization.incremental`: a further hold on an approved authorisation, decided like a new
//!   one.
//! - `authorization.reversal`: every hold of the authorisation is voided.
//! - `capture`: the holds post (a smaller capture releases the rest; a larger one, up to 20 % for
//!   the policy's tip-taking merchant categories, posts the extra as its own flagged entry; after
//!   the hold expired, the capture posts on its own, flagged). With `stand_in: true`, a capture of
//!   an authorisation allot did not approve posts and goes on the exceptions list.
//! - `force_capture`: a capture with no authorisation: posted, on the exceptions list.
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
use crate::rules::{CardTimeoutDecision, CashToday, Decision, Deployment, Refusal, RuleCode};

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
    /// The processors' keys, kept in memory.
    pub processor_keys: &'a processors::KeyCache,
    /// How long a decision may take before the policy answers ([`DECISION_BUDGET`] unless the
    /// settings say otherwise).
    pub decision_budget: Duration,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    data: Value,
}

#[derive(Debug, Clone, Deserialize)]
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
    /// Approved by the network while allot was unreachable (an advice, not a question): held
    /// whatever the rules say, and put on the exceptions list with their verdict.
    #[serde(default)]
    stand_in: bool,
}

/// A capture with no authorisation before it (`force_capture`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceCapture {
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
struct Incremental {
    authorization_id: String,
    amount: PositiveMoney,
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
    /// The network approved the authorisation while allot was unreachable: posted even when
    /// allot never approved it (unknown, or declined), and put on the exceptions list. Then
    /// `card_ref` and `merchant` say what allot may not know.
    #[serde(default)]
    stand_in: bool,
    #[serde(default)]
    card_ref: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    merchant: Option<Merchant>,
    #[serde(default)]
    is_cash: bool,
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
    let (keys, fresh) = desk.processor_keys.get(desk.pool, false).await?;
    let processor_id = match verify(&keys, signed, now) {
        Ok(id) => id,
        // A processor made since the keys were read: read them again once.
        Err(SignatureError::Mismatch) if !fresh => {
            let (keys, _) = desk.processor_keys.get(desk.pool, true).await?;
            match verify(&keys, signed, now) {
                Ok(id) => id,
                Err(e) => return Ok(Received::Unauthenticated(e)),
            }
        }
        Err(e) => return Ok(Received::Unauthenticated(e)),
    };
    if signed.id.chars().count() > 255 {
        return Err(AppError::invalid("webhook-id", "at most 255 characters"));
    }
    // The signature covers the body, so a replayed id always comes with the same body: reading
    // it before looking for the first answer answers a replay the same way.
    let envelope: Envelope = serde_json::from_slice(signed.body)
        .map_err(|e| AppError::invalid("body", format!("a JSON event with type and data: {e}")))?;
    if envelope.kind == "authorization.request" {
        // The hot path: the first answer, the card and the policy are looked up together.
        return Ok(Received::Answer(
            match authorize(desk, processor_id, signed.id, data(envelope.data)?).await? {
                Authorized::Replayed(answer) | Authorized::Recorded(answer) => answer,
                Authorized::Decided(council, answer) => {
                    record_answer(
                        desk.pool,
                        processor_id,
                        signed.id,
                        &envelope.kind,
                        council,
                        &answer,
                    )
                    .await?
                }
            },
        ));
    }
    if let Some(answer) = stored_answer(desk.pool, processor_id, signed.id).await? {
        return Ok(Received::Answer(answer));
    }
    let (council, answer) = match envelope.kind.as_str() {
        "authorization.incremental" => {
            increment(desk, processor_id, signed.id, data(envelope.data)?).await?
        }
        "authorization.reversal" => reverse(desk, processor_id, data(envelope.data)?).await?,
        "capture" => capture(desk, processor_id, data(envelope.data)?).await?,
        "force_capture" => force_capture(desk, processor_id, data(envelope.data)?).await?,
        "refund" => refund(desk, processor_id, data(envelope.data)?).await?,
        _ => {
            return Err(AppError::invalid(
                "type",
                "authorization.request, authorization.incremental, authorization.reversal, \
                 capture, force_capture or refund",
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

/// The processor whose key signed the event.
fn verify(
    keys: &[processors::ProcessorKey],
    signed: &Signed<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, SignatureError> {
    let key_refs: Vec<&[u8]> = keys.iter().map(|k| k.key.as_slice()).collect();
    signature::verify(&key_refs, signed, now).map(|index| keys[index].id)
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

/// What an authorisation request finds: the first answer to its `webhook-id`, or no such card,
/// or the card with its council's policy.
enum Lookup {
    Replayed(Value),
    UnknownCard,
    Card(Uuid, Box<CardFacts>, Box<crate::rules::CouncilPolicy>),
}

/// One transaction for everything an authorisation request reads before it is decided: the
/// first answer to its `webhook-id` and the card's council (through the `allot_directory`
/// functions, before the council is known), then, in that council, the card, its cardholder and
/// the policy.
async fn lookup(
    pool: &DbPool,
    processor: Uuid,
    webhook_id: &str,
    card_ref: &str,
    reference: &str,
) -> AppResult<Lookup> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Sent together (the connection keeps their order): the role first, then the lookup.
    let find = tx
        .prepare_cached(
            "SELECT card_event_answer($1, $2) AS answer, c.council_id, c.card_id
             FROM (SELECT 1) one LEFT JOIN card_find($1, $3) c ON true",
        )
        .await?;
    let (_, row) = tokio::try_join!(tx.batch_execute("SET LOCAL ROLE allot_app"), async {
        tx.query_one(&find, &[&processor, &webhook_id, &card_ref])
            .await
    },)?;
    if let Some(answer) = row.try_get::<_, Option<Value>>("answer")? {
        tx.commit().await?;
        return Ok(Lookup::Replayed(answer));
    }
    let found: (Option<Uuid>, Option<Uuid>) = (row.try_get("council_id")?, row.try_get("card_id")?);
    let (Some(council_id), Some(card_id)) = found else {
        tx.commit().await?;
        return Ok(Lookup::UnknownCard);
    };
    // The council first, then what is read in it, sent together.
    let council = tx
        .prepare_cached("SELECT set_config('app.council_id', $1, true)")
        .await?;
    let council_text = council_id.to_string();
    let (_, card, council_policy) = tokio::try_join!(
        async {
            tx.execute(&council, &[&council_text])
                .await
                .map_err(AppError::from)
        },
        load_card(&tx, council_id, card_id, processor, reference),
        policy::current(&tx, council_id),
    )?;
    tx.commit().await?;
    Ok(Lookup::Card(
        council_id,
        Box::new(card),
        Box::new(council_policy),
    ))
}

/// What an authorisation request came to: a replay's first answer, or a decision recorded
/// with its answer in the payment batch's transaction, or an answer still to record.
enum Authorized {
    Replayed(Value),
    Recorded(Value),
    Decided(Option<Uuid>, Value),
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
) -> AppResult<CardFacts> {
    let card = tx
        .prepare_cached(
            "SELECT c.id, c.status, c.budget_id, c.deployment, a.holder_organisation_id,
                    u.id AS user_id, u.role, u.email, u.name, u.organisation_id, u.person_id,
                    (SELECT payee_id FROM card_merchant_payees m WHERE m.council_id = $1)
                        AS payee_id
             FROM cards c
             JOIN budget_accounts a ON a.council_id = c.council_id AND a.account_id = c.account_id
             JOIN users u ON u.council_id = c.council_id AND u.id = c.cardholder_user_id
             WHERE c.council_id = $1 AND c.id = $2",
        )
        .await?;
    let decided = tx
        .prepare_cached(
            "SELECT approved, decline_reason FROM card_authorizations
             WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
        )
        .await?;
    let (row, existing) = tokio::try_join!(
        async { tx.query_one(&card, &[&council_id, &card_id]).await },
        async {
            tx.query_opt(&decided, &[&council_id, &processor, &reference])
                .await
        },
    )?;
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
    webhook_id: &str,
    request: AuthorizationRequest,
) -> AppResult<Authorized> {
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
    let reference = request.authorization_id.clone();
    let (council_id, card, council_policy) = match lookup(
        desk.pool,
        processor,
        webhook_id,
        &request.card_ref,
        &reference,
    )
    .await?
    {
        Lookup::Replayed(answer) => return Ok(Authorized::Replayed(answer)),
        Lookup::UnknownCard => {
            return Ok(Authorized::Decided(
                None,
                declined("unknown_card", "allot does not know this card."),
            ))
        }
        Lookup::Card(council_id, card, council_policy) => (council_id, *card, *council_policy),
    };
    let card_id = card.card_id;
    let now = desk.clock.now();
    if let Some(existing) = card.existing {
        return Ok(Authorized::Decided(Some(council_id), existing));
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
        return Ok(Authorized::Decided(
            Some(council_id),
            declined(code, message),
        ));
    }
    if request.stand_in {
        let spec = Forced {
            kind: ForcedKind::StandInAuthorization,
            card_id,
            reference,
            amount: request.amount,
            merchant_name,
            mcc,
            is_cash: request.is_cash,
        };
        let (council, answer) = forced(desk, council_id, processor, spec).await?;
        return Ok(Authorized::Decided(council, answer));
    }
    let new = card_payment(
        &card,
        &council_policy,
        processor,
        (reference.clone(), None, Some(webhook_id.to_owned())),
        (merchant_name.clone(), mcc.clone(), request.is_cash),
        request.amount,
        now,
    )?;
    let marker = TimeoutMarker {
        card_id,
        reference,
        increment_ref: None,
        amount: request.amount.amount(),
        merchant_name,
        mcc,
        is_cash: new.is_cash,
    };
    let (answer, recorded) = decide_in_time(
        desk,
        council_id,
        processor,
        &card.cardholder,
        new,
        council_policy.card_timeout_decision,
        marker,
    )
    .await?;
    Ok(if recorded {
        Authorized::Recorded(answer)
    } else {
        Authorized::Decided(Some(council_id), answer)
    })
}

/// A card authorisation (or a further hold on one) as a payment request.
fn card_payment(
    card: &CardFacts,
    council_policy: &crate::rules::CouncilPolicy,
    processor: Uuid,
    (reference, increment_ref, webhook_id): (String, Option<String>, Option<String>),
    (merchant_name, mcc, is_cash): (String, String, bool),
    amount: PositiveMoney,
    now: DateTime<Utc>,
) -> AppResult<NewPayment> {
    let payee_id = card
        .payee_id
        .ok_or_else(|| AppError::Internal("a council with cards has no card payee".into()))?;
    let is_cash = is_cash || council_policy.is_cash_mcc(&mcc);
    Ok(NewPayment {
        budget_id: card.budget_id,
        deployment: card.deployment,
        payee_id,
        category: council_policy.card_category(&mcc),
        amount,
        service_date: london_date(now),
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
            increment_ref,
            webhook_id,
            merchant_name,
            mcc,
            hold_expires_at: now
                + chrono::Duration::days(i64::from(council_policy.card_hold_expiry_days.max(1))),
            cash_daily_limit: is_cash.then_some(council_policy.card_cash_daily_limit),
        }),
    })
}

/// What a timeout's decline records, so that a decision finishing later meets it.
struct TimeoutMarker {
    card_id: Uuid,
    reference: String,
    increment_ref: Option<String>,
    amount: Decimal,
    merchant_name: String,
    mcc: String,
    is_cash: bool,
}

/// Decides through the payment path within the decision budget; past it, the policy answers.
///
/// With `decline` (the default) the decline is recorded before the processor is answered, on
/// the very key the decision records its authorisation (or increment) under. So whichever
/// commits second loses: a decision still running (waiting on the account's lock, say) fails
/// when it records the authorisation, and its transaction, hold and payment row with it, are
/// rolled back — no hold is left for an authorisation the processor was told was declined. A
/// decision that committed first stands, and is the answer given.
///
/// With `approve` the processor is told the authorisation is approved (`stand_in: true`) and the
/// decision still running is recorded as it comes out.
async fn decide_in_time(
    desk: &Desk<'_>,
    council_id: Uuid,
    processor: Uuid,
    cardholder: &Actor,
    new: NewPayment,
    on_timeout: CardTimeoutDecision,
    marker: TimeoutMarker,
) -> AppResult<(Value, bool)> {
    let in_batch = new.card.as_ref().is_some_and(|c| c.webhook_id.is_some());
    let payments = desk.payments.clone();
    let actor = cardholder.clone();
    let mut task = tokio::spawn(async move { payments.pay(&actor, new, None).await });
    let decided = match tokio::time::timeout(desk.decision_budget, &mut task).await {
        Ok(joined) => {
            joined.map_err(|e| AppError::Internal(format!("a card decision failed: {e}")))?
        }
        Err(_) => {
            return match on_timeout {
                CardTimeoutDecision::Decline => Ok((
                    record_timeout(desk, council_id, processor, marker).await?,
                    false,
                )),
                CardTimeoutDecision::Approve => Ok((
                    json!({"approved": true, "stand_in": true,
                    "message": "allot could not decide in time; this council approves then."}),
                    false,
                )),
            }
        }
    };
    Ok(match decided {
        Ok(ran) => match ran.value {
            PaymentOutcome::Authorized(payment) => (answer(payment.id, true, None), in_batch),
            PaymentOutcome::Refused {
                payment_id,
                refusals,
            } => (
                answer(payment_id, false, decline_reason(&refusals)),
                in_batch,
            ),
            PaymentOutcome::Posted(_) | PaymentOutcome::Held(_) => {
                return Err(AppError::Internal(
                    "a card authorisation was posted or held".into(),
                ))
            }
        },
        Err(AppError::NotFound) => (
            declined(
                "no_authority",
                "The cardholder may not spend from this budget.",
            ),
            false,
        ),
        Err(e) => return Err(e),
    })
}

/// The answer to an authorisation the rules decided (as its payment `payment_id`): approved, or
/// declined with the refusal that names it.
pub(crate) fn answer(payment_id: Uuid, approved: bool, refusal: Option<&Refusal>) -> Value {
    if approved {
        return json!({"approved": true, "payment_id": payment_id, "message": "Approved."});
    }
    json!({"approved": false,
           "decline_reason": refusal.map_or("declined", |r| r.code.as_str()),
           "message": refusal.map_or("Declined.", |r| r.message.as_str()),
           "payment_id": payment_id})
}

/// Records the timeout's decline unless a decision was recorded first; the answer that stands.
async fn record_timeout(
    desk: &Desk<'_>,
    council_id: Uuid,
    processor: Uuid,
    marker: TimeoutMarker,
) -> AppResult<Value> {
    let now = desk.clock.now();
    let marker = std::sync::Arc::new(marker);
    commands::write(desk.pool, council_id, move |tx| {
        let marker = marker.clone();
        Box::pin(async move {
            let inserted = match &marker.increment_ref {
                None => {
                    tx.execute(
                        "INSERT INTO card_authorizations (council_id, processor_id,
                             authorization_ref, card_id, amount, merchant_category, merchant_name,
                             is_cash, approved, decline_reason, status, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, 'timeout', 'declined', $9)
                         ON CONFLICT DO NOTHING",
                        &[
                            &council_id,
                            &processor,
                            &marker.reference,
                            &marker.card_id,
                            &marker.amount,
                            &marker.mcc,
                            &marker.merchant_name,
                            &marker.is_cash,
                            &now,
                        ],
                    )
                    .await?
                }
                Some(increment) => {
                    tx.execute(
                        "INSERT INTO card_authorization_increments (council_id, processor_id,
                             authorization_ref, increment_ref, amount, approved, decline_reason,
                             status, created_at)
                         VALUES ($1, $2, $3, $4, $5, false, 'timeout', 'declined', $6)
                         ON CONFLICT DO NOTHING",
                        &[
                            &council_id,
                            &processor,
                            &marker.reference,
                            increment,
                            &marker.amount,
                            &now,
                        ],
                    )
                    .await?
                }
            };
            if inserted == 1 {
                return Ok(declined(
                    "timeout",
                    "allot could not decide in time; this council declines then.",
                ));
            }
            // The decision committed first: it is the answer.
            let row = match &marker.increment_ref {
                None => {
                    tx.query_one(
                        "SELECT approved, decline_reason FROM card_authorizations
                         WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                        &[&council_id, &processor, &marker.reference],
                    )
                    .await?
                }
                Some(increment) => {
                    tx.query_one(
                        "SELECT approved, decline_reason FROM card_authorization_increments
                         WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3
                           AND increment_ref = $4",
                        &[&council_id, &processor, &marker.reference, increment],
                    )
                    .await?
                }
            };
            answer_of(&row)
        })
    })
    .await
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
    merchant_name: String,
    is_cash: bool,
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
                    ca.hold_entry_id, ca.captured_amount, c.account_id, c.cardholder_user_id,
                    ca.merchant_name, ca.is_cash
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
        merchant_name: row.try_get("merchant_name")?,
        is_cash: row.try_get("is_cash")?,
    })
}

/// An authorisation's further holds still open (approved), oldest first, locked.
struct Increment {
    increment_ref: String,
    amount: Decimal,
    hold_entry_id: Uuid,
    payment_id: Option<Uuid>,
}

async fn open_increments(
    tx: &Tx<'_>,
    council_id: Uuid,
    processor: Uuid,
    reference: &str,
) -> AppResult<Vec<Increment>> {
    let rows = tx
        .query(
            "SELECT increment_ref, amount, hold_entry_id, payment_id
             FROM card_authorization_increments
             WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3
               AND status = 'approved'
             ORDER BY created_at, increment_ref
             FOR UPDATE",
            &[&council_id, &processor, &reference],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Increment {
                increment_ref: row.try_get("increment_ref")?,
                amount: row.try_get("amount")?,
                hold_entry_id: row
                    .try_get::<_, Option<Uuid>>("hold_entry_id")?
                    .ok_or_else(|| {
                        AppError::Internal("an approved increment has no hold".into())
                    })?,
                payment_id: row.try_get("payment_id")?,
            })
        })
        .collect()
}

/// Voids a hold unless it is resolved already (expired, say).
async fn void_hold(tx: &Tx<'_>, council_id: Uuid, hold: Uuid, reason: &str) -> AppResult<()> {
    match ledger::void_pending_with_in_tx(tx, council_id, hold, json!({ "reason": reason })).await {
        Ok(_) | Err(LedgerError::NotPending) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn settle_payment(
    tx: &Tx<'_>,
    council_id: Uuid,
    payment: Option<Uuid>,
    posted: Option<Uuid>,
    now: DateTime<Utc>,
    by: Uuid,
) -> AppResult<()> {
    let Some(payment) = payment else {
        return Ok(());
    };
    let status = if posted.is_some() { "posted" } else { "voided" };
    tx.execute(
        "UPDATE payments SET status = $3, posted_entry_id = $4, resolved_at = $5, resolved_by = $6
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &payment, &status, &posted, &now, &by],
    )
    .await?;
    Ok(())
}

async fn set_increments_status(
    tx: &Tx<'_>,
    council_id: Uuid,
    processor: Uuid,
    reference: &str,
    increments: &[Increment],
    status: &str,
) -> AppResult<()> {
    let refs: Vec<&str> = increments
        .iter()
        .map(|i| i.increment_ref.as_str())
        .collect();
    tx.execute(
        "UPDATE card_authorization_increments SET status = $5
         WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3
           AND increment_ref = ANY($4)",
        &[&council_id, &processor, &reference, &refs, &status],
    )
    .await?;
    Ok(())
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
            let reason = "reversed by the card processor";
            void_hold(tx, council_id, hold, reason).await?;
            settle_payment(tx, council_id, auth.payment_id, None, now, auth.cardholder).await?;
            let increments = open_increments(tx, council_id, processor, &reference).await?;
            for increment in &increments {
                void_hold(tx, council_id, increment.hold_entry_id, reason).await?;
                settle_payment(
                    tx,
                    council_id,
                    increment.payment_id,
                    None,
                    now,
                    auth.cardholder,
                )
                .await?;
            }
            set_increments_status(
                tx,
                council_id,
                processor,
                &reference,
                &increments,
                "reversed",
            )
            .await?;
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

/// Checks a merchant as an event names it: (name, four-digit category code).
fn check_merchant(currency: &str, merchant: &Merchant) -> AppResult<(String, String)> {
    if currency != "GBP" {
        return Err(AppError::invalid("data.currency", "GBP"));
    }
    let mcc = merchant.category_code.trim().to_owned();
    if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            "data.merchant.category_code",
            "a merchant category code of four digits",
        ));
    }
    let name = merchant.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "data.merchant.name",
            "1 to 200 characters",
        ));
    }
    Ok((name, mcc))
}

async fn capture(
    desk: &Desk<'_>,
    processor: Uuid,
    event: Capture,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    let council_id = match authorization_council(desk.pool, processor, &event.authorization_id)
        .await
    {
        Ok(council_id) => council_id,
        // A capture the network stood in for, of an authorisation allot never saw.
        Err(AppError::NotFound) if event.stand_in => {
            let card_ref = event
                .card_ref
                .as_deref()
                .ok_or_else(|| AppError::invalid("data.card_ref", "required with stand_in"))?;
            check_ref("data.card_ref", card_ref)?;
            let merchant = event
                .merchant
                .as_ref()
                .ok_or_else(|| AppError::invalid("data.merchant", "required with stand_in"))?;
            let (merchant_name, mcc) =
                check_merchant(event.currency.as_deref().unwrap_or("GBP"), merchant)?;
            let Some((council_id, card_id)) = card_council(desk.pool, processor, card_ref).await?
            else {
                return Err(AppError::NotFound);
            };
            let spec = Forced {
                kind: ForcedKind::StandInCapture,
                card_id,
                reference: event.authorization_id,
                amount: event.amount,
                merchant_name,
                mcc,
                is_cash: event.is_cash,
            };
            return forced(desk, council_id, processor, spec).await;
        }
        Err(e) => return Err(e),
    };
    let now = desk.clock.now();
    let today = london_date(now);
    let reference = event.authorization_id;
    let amount = event.amount;
    let stand_in = event.stand_in;
    let answer = commands::write(desk.pool, council_id, move |tx| {
        let reference = reference.clone();
        Box::pin(async move {
            let auth = lock_authorization(tx, council_id, processor, &reference).await?;
            if auth.status == "declined" && stand_in {
                // Declined by allot (a timeout, say) but approved by the network: posted.
                let spec = Forced {
                    kind: ForcedKind::StandInCapture,
                    card_id: auth.card_id,
                    reference: reference.clone(),
                    amount,
                    merchant_name: auth.merchant_name.clone(),
                    mcc: auth.mcc.clone(),
                    is_cash: auth.is_cash,
                };
                return forced_in_tx(tx, council_id, processor, &spec, now).await;
            }
            if auth.status != "approved" {
                return Err(AppError::conflict(format!(
                    "This authorisation is {}: it cannot be captured.",
                    auth.status
                )));
            }
            let amount = amount.amount();
            let hold = auth.hold_entry_id.ok_or_else(|| {
                AppError::Internal("an approved authorisation has no hold".into())
            })?;
            let increments = open_increments(tx, council_id, processor, &reference).await?;
            let authorised: Decimal =
                auth.amount + increments.iter().map(|i| i.amount).sum::<Decimal>();
            let council_policy = policy::current(tx, council_id).await?;
            let ceiling = (authorised * Decimal::new(12, 1)).round_dp(2);
            let over = amount > authorised;
            if over && !(council_policy.allows_over_capture(&auth.mcc) && amount <= ceiling) {
                return Err(AppError::invalid_amount(
                    "data.amount",
                    format!(
                        "at most the {authorised:.2} authorised (up to 20 % more only at \
                         restaurants, bars, taxis and salons)"
                    ),
                ));
            }
            let metadata = json!({"card_authorization": reference, "payment_id": auth.payment_id,
                                  "card_id": auth.card_id});
            let mut flags: Vec<&str> = Vec::new();
            let mut extra_entry = None;
            let mut increment_entries: Vec<Uuid> = Vec::new();
            let capture_entry = if hold_expired(tx, council_id, hold, now).await? {
                // The hold is gone (or due to go): the capture posts on its own, flagged.
                void_hold(tx, council_id, hold, "captured after expiry").await?;
                for increment in &increments {
                    void_hold(
                        tx,
                        council_id,
                        increment.hold_entry_id,
                        "captured after expiry",
                    )
                    .await?;
                    settle_payment(
                        tx,
                        council_id,
                        increment.payment_id,
                        None,
                        now,
                        auth.cardholder,
                    )
                    .await?;
                }
                flags.push("captured_after_expiry");
                let paid_out = paid_out_of(tx, council_id, auth.account_id).await?;
                let entry = post_card_entry(
                    tx,
                    council_id,
                    (auth.account_id, paid_out),
                    amount,
                    today,
                    "Card capture after the authorisation expired".into(),
                    json!({"card_authorization": reference, "payment_id": auth.payment_id,
                           "flag": "captured_after_expiry"}),
                )
                .await?;
                entry
            } else {
                // Each hold posts what it covers of the capture, in order; the rest is released.
                let first = amount.min(auth.amount);
                let posted_entry = ledger::post_pending_with_in_tx(
                    tx,
                    council_id,
                    hold,
                    Some(first),
                    Some(metadata),
                    now,
                )
                .await?;
                let mut posted = first;
                for increment in &increments {
                    let portion = (amount - posted).min(increment.amount);
                    let live = !hold_expired(tx, council_id, increment.hold_entry_id, now).await?;
                    if portion > Decimal::ZERO && live {
                        let entry = ledger::post_pending_with_in_tx(
                            tx,
                            council_id,
                            increment.hold_entry_id,
                            Some(portion),
                            Some(json!({"card_authorization": reference,
                                        "payment_id": increment.payment_id,
                                        "card_id": auth.card_id})),
                            now,
                        )
                        .await?;
                        posted += portion;
                        increment_entries.push(entry.id);
                        settle_payment(
                            tx,
                            council_id,
                            increment.payment_id,
                            Some(entry.id),
                            now,
                            auth.cardholder,
                        )
                        .await?;
                    } else {
                        void_hold(tx, council_id, increment.hold_entry_id, "not captured").await?;
                        settle_payment(
                            tx,
                            council_id,
                            increment.payment_id,
                            None,
                            now,
                            auth.cardholder,
                        )
                        .await?;
                    }
                }
                if amount > posted {
                    let flag = if over {
                        "over_capture"
                    } else {
                        "captured_after_expiry"
                    };
                    flags.push(flag);
                    let paid_out = paid_out_of(tx, council_id, auth.account_id).await?;
                    extra_entry = Some(
                        post_card_entry(
                            tx,
                            council_id,
                            (auth.account_id, paid_out),
                            amount - posted,
                            today,
                            if over {
                                "Card capture above the authorisation (tip)".into()
                            } else {
                                "Card capture of a further hold that expired".into()
                            },
                            json!({"card_authorization": reference, "payment_id": auth.payment_id,
                                   "flag": flag}),
                        )
                        .await?,
                    );
                }
                posted_entry.id
            };
            settle_payment(
                tx,
                council_id,
                auth.payment_id,
                Some(capture_entry),
                now,
                auth.cardholder,
            )
            .await?;
            set_increments_status(
                tx,
                council_id,
                processor,
                &reference,
                &increments,
                "captured",
            )
            .await?;
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
                      "authorized": format!("{authorised:.2}"),
                      "entry_id": capture_entry, "increment_entry_ids": increment_entries,
                      "extra_entry_id": extra_entry, "flags": flags}),
            )
        })
    })
    .await?;
    Ok((Some(council_id), answer))
}

async fn increment(
    desk: &Desk<'_>,
    processor: Uuid,
    webhook_id: &str,
    event: Incremental,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    let council_id = authorization_council(desk.pool, processor, &event.authorization_id).await?;
    let now = desk.clock.now();
    let reference = event.authorization_id;
    let increment_ref = webhook_id.to_owned();
    let (row, card, council_policy, existing) = in_tenant_tx(desk.pool, council_id, |tx| {
        let (reference, increment_ref) = (reference.clone(), increment_ref.clone());
        Box::pin(async move {
            let row = tx
                .query_one(
                    "SELECT card_id, status, merchant_name, merchant_category, is_cash
                     FROM card_authorizations
                     WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                    &[&council_id, &processor, &reference],
                )
                .await?;
            let card_id: Uuid = row.try_get("card_id")?;
            let card = load_card(tx, council_id, card_id, processor, &reference).await?;
            let council_policy = policy::current(tx, council_id).await?;
            let existing = tx
                .query_opt(
                    "SELECT approved, decline_reason FROM card_authorization_increments
                     WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3
                       AND increment_ref = $4",
                    &[&council_id, &processor, &reference, &increment_ref],
                )
                .await?;
            Ok((row, card, council_policy, existing))
        })
    })
    .await?;
    if let Some(existing) = existing {
        return Ok((Some(council_id), answer_of(&existing)?));
    }
    match card.status.as_str() {
        "active" => {}
        "frozen" => {
            return Ok((
                Some(council_id),
                declined("card_frozen", "This card is frozen."),
            ))
        }
        _ => {
            return Ok((
                Some(council_id),
                declined("card_cancelled", "This card is cancelled."),
            ))
        }
    }
    let status: String = row.try_get("status")?;
    if status != "approved" {
        return Ok((
            Some(council_id),
            declined(
                "authorization_not_open",
                &format!("This authorisation is {status}: it cannot be added to."),
            ),
        ));
    }
    let merchant_name: String = row.try_get("merchant_name")?;
    let mcc: String = row.try_get("merchant_category")?;
    let is_cash: bool = row.try_get("is_cash")?;
    let new = card_payment(
        &card,
        &council_policy,
        processor,
        (reference.clone(), Some(increment_ref.clone()), None),
        (merchant_name.clone(), mcc.clone(), is_cash),
        event.amount,
        now,
    )?;
    let marker = TimeoutMarker {
        card_id: card.card_id,
        reference,
        increment_ref: Some(increment_ref),
        amount: event.amount.amount(),
        merchant_name,
        mcc,
        is_cash: new.is_cash,
    };
    let (answer, _) = decide_in_time(
        desk,
        council_id,
        processor,
        &card.cardholder,
        new,
        council_policy.card_timeout_decision,
        marker,
    )
    .await?;
    Ok((Some(council_id), answer))
}

async fn force_capture(
    desk: &Desk<'_>,
    processor: Uuid,
    event: ForceCapture,
) -> AppResult<(Option<Uuid>, Value)> {
    check_ref("data.authorization_id", &event.authorization_id)?;
    check_ref("data.card_ref", &event.card_ref)?;
    let (merchant_name, mcc) = check_merchant(&event.currency, &event.merchant)?;
    let Some((council_id, card_id)) = card_council(desk.pool, processor, &event.card_ref).await?
    else {
        return Err(AppError::NotFound);
    };
    let spec = Forced {
        kind: ForcedKind::ForceCapture,
        card_id,
        reference: event.authorization_id,
        amount: event.amount,
        merchant_name,
        mcc,
        is_cash: event.is_cash,
    };
    forced(desk, council_id, processor, spec).await
}

/// Money the network moved (or will) without allot's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForcedKind {
    /// A capture with no authorisation: posted.
    ForceCapture,
    /// An authorisation approved while allot was unreachable: held until its capture.
    StandInAuthorization,
    /// A capture of an authorisation allot did not approve (unknown, or declined): posted.
    StandInCapture,
}

impl ForcedKind {
    fn as_str(self) -> &'static str {
        match self {
            ForcedKind::ForceCapture => "force_capture",
            ForcedKind::StandInAuthorization => "stand_in_authorization",
            ForcedKind::StandInCapture => "stand_in_capture",
        }
    }
}

struct Forced {
    kind: ForcedKind,
    card_id: Uuid,
    reference: String,
    amount: PositiveMoney,
    merchant_name: String,
    mcc: String,
    is_cash: bool,
}

async fn forced(
    desk: &Desk<'_>,
    council_id: Uuid,
    processor: Uuid,
    spec: Forced,
) -> AppResult<(Option<Uuid>, Value)> {
    let now = desk.clock.now();
    let spec = std::sync::Arc::new(spec);
    let answer = commands::write(desk.pool, council_id, move |tx| {
        let spec = spec.clone();
        Box::pin(async move { forced_in_tx(tx, council_id, processor, &spec, now).await })
    })
    .await?;
    Ok((Some(council_id), answer))
}

/// What the rules would have said of this card spending now (`rules::decide` with the card's
/// own rules), without recording anything.
async fn verdict(
    tx: &Tx<'_>,
    council_id: Uuid,
    card: &CardFacts,
    new: &NewPayment,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let decision = match crate::payments::spend::check(tx, &card.cardholder, new, now).await {
        Ok(decision) => decision,
        Err(AppError::NotFound) => Decision::Refuse {
            refusals: vec![Refusal::new(
                RuleCode::NoAuthority,
                "The cardholder may not spend from this budget.",
            )],
        },
        Err(e) => return Err(e),
    };
    let cash = match new.card.as_ref().and_then(|c| c.cash_daily_limit) {
        Some(daily_limit) => {
            let today = crate::payments::spend::facts::card_cash_today(
                tx,
                council_id,
                &[card.card_id],
                london_date(now),
            )
            .await?;
            Some(CashToday {
                withdrawn: today.get(&card.card_id).copied().unwrap_or_default(),
                daily_limit,
            })
        }
        None => None,
    };
    let decision = crate::rules::decide_card(decision, new.amount.amount(), cash);
    Ok(match card.status.as_str() {
        "active" => decision,
        status => Decision::Refuse {
            refusals: vec![Refusal::new(
                RuleCode::NoAuthority,
                format!("The card is {status}."),
            )],
        },
    })
}

async fn forced_in_tx(
    tx: &Tx<'_>,
    council_id: Uuid,
    processor: Uuid,
    spec: &Forced,
    now: DateTime<Utc>,
) -> AppResult<Value> {
    let card = load_card(tx, council_id, spec.card_id, processor, &spec.reference).await?;
    let existing = tx
        .query_opt(
            "SELECT status FROM card_authorizations
             WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
            &[&council_id, &processor, &spec.reference],
        )
        .await?;
    let existing: Option<String> = existing.map(|r| r.try_get(0)).transpose()?;
    match (&existing, spec.kind) {
        (None, _) => {}
        (Some(status), ForcedKind::StandInCapture) if status == "declined" => {}
        (Some(_), ForcedKind::StandInAuthorization) => {
            return card
                .existing
                .ok_or_else(|| AppError::Internal("no answer".into()));
        }
        (Some(status), _) => {
            return Err(AppError::conflict(format!(
                "This authorisation id is recorded already ({status})."
            )))
        }
    }
    let council_policy = policy::current(tx, council_id).await?;
    let new = card_payment(
        &card,
        &council_policy,
        processor,
        (spec.reference.clone(), None, None),
        (spec.merchant_name.clone(), spec.mcc.clone(), spec.is_cash),
        spec.amount,
        now,
    )?;
    let decision = verdict(tx, council_id, &card, &new, now).await?;
    let amount = spec.amount.amount();
    let today = london_date(now);
    let account = tx
        .query_one(
            "SELECT account_id FROM cards WHERE council_id = $1 AND id = $2",
            &[&council_id, &spec.card_id],
        )
        .await?
        .try_get::<_, Uuid>(0)?;
    let paid_out = crate::payments::spend::paid_out_account(tx, council_id, account).await?;
    let metadata = json!({"card_authorization": spec.reference, "card_id": spec.card_id,
                          "forced": spec.kind.as_str(), "verdict": decision});
    let forced = if spec.kind == ForcedKind::StandInAuthorization {
        "stand_in"
    } else if spec.kind == ForcedKind::ForceCapture {
        "force_capture"
    } else {
        "stand_in"
    };
    let (entry_id, answer) = if spec.kind == ForcedKind::StandInAuthorization {
        let entry = NewEntry {
            effective_date: today,
            description: format!("Card: {} (approved by the network)", spec.merchant_name),
            legs: vec![
                NewLeg {
                    account_id: account,
                    side: Side::Debit,
                    amount,
                },
                NewLeg {
                    account_id: paid_out,
                    side: Side::Credit,
                    amount,
                },
            ],
            metadata,
            reverses: None,
        };
        let expires =
            now + chrono::Duration::days(i64::from(council_policy.card_hold_expiry_days.max(1)));
        let hold = ledger::hold_in_tx(tx, council_id, &entry, expires)
            .await?
            .id;
        tx.execute(
            "INSERT INTO card_authorizations (council_id, processor_id, authorization_ref, card_id,
                 amount, merchant_category, merchant_name, is_cash, approved, status,
                 hold_entry_id, forced, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, 'approved', $9, 'stand_in', $10)",
            &[
                &council_id,
                &processor,
                &spec.reference,
                &spec.card_id,
                &amount,
                &spec.mcc,
                &spec.merchant_name,
                &new.is_cash,
                &hold,
                &now,
            ],
        )
        .await?;
        (
            hold,
            json!({"approved": true, "stand_in": true, "hold_entry_id": hold,
                   "message": "Recorded as approved by the network; held until its capture."}),
        )
    } else {
        let entry = post_card_entry(
            tx,
            council_id,
            (account, paid_out),
            amount,
            today,
            format!(
                "Card: {} (captured without allot's approval)",
                spec.merchant_name
            ),
            metadata,
        )
        .await?;
        let flags = json!([spec.kind.as_str()]);
        if existing.is_some() {
            tx.execute(
                "UPDATE card_authorizations SET status = 'captured', captured_amount = $4,
                     capture_entry_id = $5, flags = $6, forced = 'stand_in'
                 WHERE council_id = $1 AND processor_id = $2 AND authorization_ref = $3",
                &[
                    &council_id,
                    &processor,
                    &spec.reference,
                    &amount,
                    &entry,
                    &flags,
                ],
            )
            .await?;
        } else {
            tx.execute(
                "INSERT INTO card_authorizations (council_id, processor_id, authorization_ref,
                     card_id, amount, merchant_category, merchant_name, is_cash, approved, status,
                     captured_amount, capture_entry_id, flags, forced, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, 'captured', $5, $9, $10, $11, $12)",
                &[
                    &council_id,
                    &processor,
                    &spec.reference,
                    &spec.card_id,
                    &amount,
                    &spec.mcc,
                    &spec.merchant_name,
                    &new.is_cash,
                    &entry,
                    &flags,
                    &forced,
                    &now,
                ],
            )
            .await?;
        }
        (
            entry,
            json!({"recorded": true, "status": "captured", "amount": format!("{amount:.2}"),
                   "entry_id": entry, "flags": [spec.kind.as_str()]}),
        )
    };
    let exception = Uuid::new_v4();
    let verdict_json =
        serde_json::to_value(&decision).map_err(|e| AppError::Internal(e.to_string()))?;
    let approved = matches!(decision, Decision::Post { .. });
    let reason = decline_reason(decision.refusals()).map(|r| r.code.as_str());
    tx.execute(
        "INSERT INTO card_exceptions (council_id, id, kind, processor_id, authorization_ref,
             card_id, amount, merchant_category, merchant_name, entry_id, verdict,
             verdict_approved, verdict_reason, created_at, budget_id, deployment, category)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        &[
            &council_id,
            &exception,
            &spec.kind.as_str(),
            &processor,
            &spec.reference,
            &spec.card_id,
            &amount,
            &spec.mcc,
            &spec.merchant_name,
            &entry_id,
            &verdict_json,
            &approved,
            &reason,
            &now,
            &new.budget_id,
            &new.deployment.as_str(),
            &new.category.as_str(),
        ],
    )
    .await?;
    let mut answer = answer;
    answer["exception_id"] = json!(exception);
    Ok(answer)
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
