//! Invoices: what a care agency or other payee bills a client for, recorded by the staff of the
//! organisation holding the account it is paid from (a managed-account provider, an ISF
//! provider), or by the person or their representative for their own direct payment. An invoice
//! is paid through the same rules and ledger as any payment (its payments carry its id); paid,
//! held and outstanding amounts are worked out from those payments, so they cannot drift from
//! the ledger. A disputed or rejected invoice is never paid.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::{Money, PositiveMoney};
use crate::payments::spend::NewPayment;
use crate::rules::{Category, Deployment};

/// One line of an invoice as received.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoiceLine {
    pub description: String,
    /// How many (hours, visits, items): more than zero, at most four decimal places.
    #[schema(value_type = String, example = "7.5")]
    pub quantity: Decimal,
    #[schema(value_type = String, example = "22.40")]
    pub unit_price: PositiveMoney,
}

/// An invoice to record (`POST /api/v1/invoices`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    pub budget_id: Uuid,
    #[schema(value_type = String, example = "managed_account")]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    #[schema(value_type = String, example = "personal_care")]
    pub category: Category,
    pub invoice_number: String,
    #[serde(with = "crate::dates")]
    pub issued_on: NaiveDate,
    #[serde(default, with = "crate::dates::option")]
    pub due_on: Option<NaiveDate>,
    #[serde(default, with = "crate::dates::option")]
    pub period_from: Option<NaiveDate>,
    #[serde(default, with = "crate::dates::option")]
    pub period_to: Option<NaiveDate>,
    pub lines: Vec<NewInvoiceLine>,
    /// Must equal the lines' amounts added up (quantity × unit price, to the penny).
    #[schema(value_type = String, example = "168.00")]
    pub total: PositiveMoney,
}

/// A line as recorded, with its amount.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct InvoiceLine {
    pub description: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Money,
    #[schema(value_type = String)]
    pub amount: Money,
}

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Nothing paid yet.
    Received,
    /// Some paid (or held for approval), some outstanding.
    PartPaid,
    /// Paid in full.
    Paid,
    /// Not paid until the dispute is resolved.
    Disputed,
    /// Will not be paid.
    Rejected,
}

/// An invoice with what has been paid of it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    pub budget_id: Uuid,
    #[schema(value_type = String)]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    pub payee_name: String,
    #[schema(value_type = String)]
    pub category: Category,
    pub invoice_number: String,
    #[serde(with = "crate::dates")]
    pub issued_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub lines: Vec<InvoiceLine>,
    #[schema(value_type = String)]
    pub total: Money,
    /// Posted payments of it (reversed ones do not count).
    #[schema(value_type = String)]
    pub paid: Money,
    /// Payments of it held for approval.
    #[schema(value_type = String)]
    pub held: Money,
    /// Total less paid and held.
    #[schema(value_type = String)]
    pub outstanding: Money,
    pub status: InvoiceStatus,
    /// Why it was disputed or rejected.
    pub status_reason: Option<String>,
    /// Its payments, oldest first.
    pub payment_ids: Vec<Uuid>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// A filter of the worklist.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvoiceFilter {
    pub status: Option<InvoiceStatus>,
    pub budget_id: Option<Uuid>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// Who may record and handle invoices: the staff of the organisation holding the account, or the
/// person and their representatives for their own direct payment.
pub(crate) fn require_invoicer(actor: &Actor) -> AppResult<()> {
    actor.require(&[
        Role::ProviderStaff,
        Role::BudgetHolder,
        Role::Representative,
    ])
}

/// Whether the actor may reach the money of this budget's deployment: provider staff the
/// accounts their organisation holds; the person and representatives the direct payment of a
/// budget they may see. Anything else is 404.
pub(crate) async fn require_reach(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    deployment: Deployment,
) -> AppResult<()> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT can_see_budget($1, $2, $3) AS visible,
                        EXISTS (SELECT 1 FROM budget_accounts a
                                WHERE a.council_id = $1 AND a.budget_id = $3
                                  AND a.purpose = 'deployment' AND a.deployment = $4
                                  AND a.holder_organisation_id = $5) AS holds",
            )
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &budget_id,
                &deployment.as_str(),
                &actor.organisation_id,
            ],
        )
        .await?;
    let visible: bool = row.try_get("visible")?;
    let holds: bool = row.try_get("holds")?;
    let reach = match actor.role {
        Role::ProviderStaff => visible && holds,
        Role::BudgetHolder | Role::Representative => {
            visible && deployment == Deployment::DirectPayment
        }
        _ => false,
    };
    if reach {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn check_text(field: &str, text: &str, max: usize) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(AppError::invalid(field, format!("1 to {max} characters")));
    }
    Ok(text.to_owned())
}

/// The lines with their amounts, checked; refuses a total that is not what they add up to.
fn priced_lines(new: &NewInvoice) -> AppResult<Vec<InvoiceLine>> {
    if new.lines.is_empty() || new.lines.len() > 200 {
        return Err(AppError::invalid("lines", "1 to 200 lines"));
    }
    let mut lines = Vec::with_capacity(new.lines.len());
    for (i, line) in new.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let description = check_text(&field("description"), &line.description, 200)?;
        let quantity = line.quantity.normalize();
        if quantity <= Decimal::ZERO || quantity.scale() > 4 || quantity > Decimal::from(100_000) {
            return Err(AppError::invalid(
                &field("quantity"),
                "more than zero, at most 100000, at most four decimal places",
            ));
        }
        let amount = (quantity * line.unit_price.amount())
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let amount = Money::new(amount)
            .map_err(|e| AppError::invalid_amount(&field("quantity"), e.to_string()))?;
        lines.push(InvoiceLine {
            description,
            quantity,
            unit_price: line.unit_price.money(),
            amount,
        });
    }
    let sum: Decimal = lines.iter().map(|l| l.amount.amount()).sum();
    if sum != new.total.amount() {
        return Err(AppError::refused(
            "invoice_total_mismatch",
            format!(
                "The lines add up to {sum:.2}, not the total of {:.2}.",
                new.total.amount()
            ),
        ));
    }
    Ok(lines)
}

fn check_dates(new: &NewInvoice) -> AppResult<()> {
    if new.due_on.is_some_and(|due| due < new.issued_on) {
        return Err(AppError::invalid("due_on", "on or after the issue date"));
    }
    match (new.period_from, new.period_to) {
        (Some(from), Some(to)) if to < from => {
            Err(AppError::invalid("period_to", "on or after period_from"))
        }
        _ => Ok(()),
    }
}

/// Records an invoice (201); 422 `invoice_total_mismatch` when the lines do not add up; 409
/// `duplicate_invoice` for the same payee's invoice number again.
pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    new: &NewInvoice,
    now: DateTime<Utc>,
) -> AppResult<Invoice> {
    require_invoicer(actor)?;
    let invoice_number = check_text("invoice_number", &new.invoice_number, 64)?;
    check_dates(new)?;
    let lines = priced_lines(new)?;
    require_reach(tx, actor, new.budget_id, new.deployment).await?;
    let payee = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT y.person_id, b.person_id AS budget_person FROM payees y
                 JOIN budgets b ON b.council_id = y.council_id AND b.id = $3
                 WHERE y.council_id = $1 AND y.id = $2",
            )
            .await?,
            &[&actor.council_id, &new.payee_id, &new.budget_id],
        )
        .await?
        .ok_or_else(|| AppError::invalid("payee_id", "no such payee"))?;
    let payee_person: Option<Uuid> = payee.try_get("person_id")?;
    let budget_person: Uuid = payee.try_get("budget_person")?;
    if payee_person.is_some_and(|p| p != budget_person) {
        return Err(AppError::invalid(
            "payee_id",
            "this payee is recorded for someone else",
        ));
    }
    let id = Uuid::new_v4();
    let inserted = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO invoices (council_id, id, budget_id, deployment, payee_id, category,
                     invoice_number, issued_on, due_on, period_from, period_to, lines, total,
                     recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (council_id, payee_id, invoice_number) DO NOTHING",
            )
            .await?,
            &[
                &actor.council_id,
                &id,
                &new.budget_id,
                &new.deployment.as_str(),
                &new.payee_id,
                &new.category.as_str(),
                &invoice_number,
                &new.issued_on,
                &new.due_on,
                &new.period_from,
                &new.period_to,
                &serde_json::to_value(&lines).map_err(internal)?,
                &new.total.amount(),
                &actor.user_id,
                &now,
            ],
        )
        .await
        .map_err(|e| match e.code() {
            Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
                AppError::invalid("payee_id", "no such payee")
            }
            _ => e.into(),
        })?;
    if inserted == 0 {
        return Err(AppError::Conflict {
            code: "duplicate_invoice",
            message: format!(
                "Invoice {invoice_number} from this payee is already recorded; it is paid once."
            ),
        });
    }
    load(tx, actor.council_id, id).await
}

const SELECT_INVOICE: &str = "
SELECT i.id, i.budget_id, i.deployment, i.payee_id, y.name AS payee_name, i.category,
       i.invoice_number, i.issued_on, i.due_on, i.period_from, i.period_to, i.lines, i.total,
       i.status, i.status_reason, i.recorded_by, i.recorded_at,
       coalesce(p.paid, 0) AS paid, coalesce(p.held, 0) AS held,
       coalesce(p.ids, '{}') AS payment_ids
FROM invoices i
JOIN payees y ON y.council_id = i.council_id AND y.id = i.payee_id
LEFT JOIN LATERAL (
    SELECT sum(pm.amount) FILTER (WHERE pm.status = 'posted') AS paid,
           sum(pm.amount) FILTER (WHERE pm.status = 'pending_approval') AS held,
           array_agg(pm.id ORDER BY pm.requested_at, pm.id) AS ids
    FROM payments pm
    WHERE pm.council_id = i.council_id AND pm.invoice_id = i.id
      AND pm.status IN ('posted', 'pending_approval')
      AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                      WHERE r.council_id = pm.council_id AND r.hold_id = pm.hold_entry_id
                        AND r.outcome = 'expired')
      AND NOT EXISTS (SELECT 1 FROM ledger_entries rev
                      WHERE rev.council_id = pm.council_id AND rev.reverses = pm.posted_entry_id)
) p ON true";

fn from_row(row: &Row) -> AppResult<Invoice> {
    let stored = |what: &str| internal(format!("stored invoice has a bad {what}"));
    let money = |name: &str| -> AppResult<Money> {
        Money::new(row.try_get::<_, Decimal>(name)?).map_err(|_| stored(name))
    };
    let deployment: &str = row.try_get("deployment")?;
    let category: &str = row.try_get("category")?;
    let (total, paid, held) = (money("total")?, money("paid")?, money("held")?);
    let outstanding = Money::new(total.amount() - paid.amount() - held.amount())
        .map_err(|_| stored("outstanding"))?;
    let stored_status: &str = row.try_get("status")?;
    let status = match stored_status {
        "disputed" => InvoiceStatus::Disputed,
        "rejected" => InvoiceStatus::Rejected,
        "received" if paid.amount() >= total.amount() => InvoiceStatus::Paid,
        "received" if paid.amount() + held.amount() > Decimal::ZERO => InvoiceStatus::PartPaid,
        "received" => InvoiceStatus::Received,
        _ => return Err(stored("status")),
    };
    Ok(Invoice {
        id: row.try_get("id")?,
        budget_id: row.try_get("budget_id")?,
        deployment: deployment.parse().map_err(|_| stored("deployment"))?,
        payee_id: row.try_get("payee_id")?,
        payee_name: row.try_get("payee_name")?,
        category: category.parse().map_err(|_| stored("category"))?,
        invoice_number: row.try_get("invoice_number")?,
        issued_on: row.try_get("issued_on")?,
        due_on: row.try_get("due_on")?,
        period_from: row.try_get("period_from")?,
        period_to: row.try_get("period_to")?,
        lines: serde_json::from_value(row.try_get("lines")?).map_err(|_| stored("lines"))?,
        total,
        paid,
        held,
        outstanding,
        status,
        status_reason: row.try_get("status_reason")?,
        payment_ids: row.try_get("payment_ids")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

/// An invoice by id (no reach check).
async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Invoice> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(&format!(
                "{SELECT_INVOICE} WHERE i.council_id = $1 AND i.id = $2"
            ))
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// An invoice the actor may handle (404 otherwise).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Invoice> {
    require_invoicer(actor)?;
    let invoice = load(tx, actor.council_id, id).await?;
    require_reach(tx, actor, invoice.budget_id, invoice.deployment).await?;
    Ok(invoice)
}

/// The actor's invoices (the worklist), oldest due first.
pub async fn list(tx: &Tx<'_>, actor: &Actor, filter: InvoiceFilter) -> AppResult<Vec<Invoice>> {
    require_invoicer(actor)?;
    // Provider staff: invoices of the accounts their organisation holds; the person and their
    // representatives: those of the direct payment.
    let provider: Option<Uuid> =
        (actor.role == Role::ProviderStaff).then(|| actor.organisation_id.unwrap_or(Uuid::nil()));
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_INVOICE}
                 WHERE i.council_id = $1 AND ($3::uuid IS NULL OR i.budget_id = $3)
                   AND can_see_budget($1, $2, i.budget_id)
                   AND CASE WHEN $4::uuid IS NOT NULL
                            THEN EXISTS (SELECT 1 FROM budget_accounts a
                                         WHERE a.council_id = i.council_id
                                           AND a.budget_id = i.budget_id
                                           AND a.purpose = 'deployment'
                                           AND a.deployment = i.deployment
                                           AND a.holder_organisation_id = $4)
                            ELSE i.deployment = 'direct_payment' END
                 ORDER BY coalesce(i.due_on, i.issued_on), i.recorded_at, i.id
                 LIMIT 1000"
            ))
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &filter.budget_id,
                &provider,
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let invoice = from_row(row)?;
        if filter.status.is_none_or(|s| s == invoice.status) {
            out.push(invoice);
        }
    }
    Ok(out)
}

/// A reason for disputing or rejecting.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

fn reason(text: Option<&str>) -> AppResult<Option<String>> {
    match text.map(str::trim) {
        None => Ok(None),
        Some("") => Err(AppError::refused(
            "reason_required",
            "Say why, in a sentence the payee and the person will read.",
        )),
        Some(text) if text.chars().count() > 500 => {
            Err(AppError::invalid("reason", "at most 500 characters"))
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// What can be done to an invoice's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Received → disputed: not paid until resolved.
    Dispute,
    /// Disputed → received.
    Resolve,
    /// Received or disputed, nothing paid or held → rejected: never paid.
    Reject,
}

/// Disputes, resolves or rejects an invoice (the invoice locked, so a payment deciding on it
/// waits or sees the new state).
pub async fn act(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    action: Action,
    why: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Invoice> {
    require_invoicer(actor)?;
    let why = reason(why)?;
    if action != Action::Resolve && why.is_none() {
        return Err(AppError::refused(
            "reason_required",
            "Say why, in a sentence the payee and the person will read.",
        ));
    }
    tx.query_opt(
        &tx.prepare_cached("SELECT 1 FROM invoices WHERE council_id = $1 AND id = $2 FOR UPDATE")
            .await?,
        &[&actor.council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let invoice = get(tx, actor, id).await?;
    let (allowed, to) = match action {
        Action::Dispute => (
            matches!(
                invoice.status,
                InvoiceStatus::Received | InvoiceStatus::PartPaid
            ),
            "disputed",
        ),
        Action::Resolve => (invoice.status == InvoiceStatus::Disputed, "received"),
        Action::Reject => (
            matches!(
                invoice.status,
                InvoiceStatus::Received | InvoiceStatus::Disputed
            ) && invoice.paid.amount().is_zero()
                && invoice.held.amount().is_zero(),
            "rejected",
        ),
    };
    if !allowed {
        return Err(AppError::conflict(format!(
            "This invoice is {}; that cannot be done to it now.",
            serde_json::to_value(invoice.status)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default()
        )));
    }
    tx.execute(
        &tx.prepare_cached(
            "UPDATE invoices SET status = $3, status_reason = $4, updated_by = $5, updated_at = $6
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&actor.council_id, &id, &to, &why, &actor.user_id, &now],
    )
    .await?;
    load(tx, actor.council_id, id).await
}

/// Paying (part of) an invoice (`POST /api/v1/invoices/{id}/pay`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInvoice {
    /// Default: everything outstanding.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "84.00")]
    pub amount: Option<PositiveMoney>,
}

/// The payment request that pays this invoice: decided by the same rules as any payment, and
/// checked against the invoice again under the account's lock when it is decided.
pub async fn payment_for(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    pay: &PayInvoice,
) -> AppResult<NewPayment> {
    let invoice = get(tx, actor, id).await?;
    let amount = match pay.amount {
        Some(amount) => amount,
        None => {
            let outstanding = invoice.outstanding.amount();
            if outstanding <= Decimal::ZERO {
                return Err(AppError::conflict(
                    "This invoice is paid in full (or its payment is waiting for approval).",
                ));
            }
            serde_json::from_value(serde_json::json!(format!("{outstanding:.2}")))
                .map_err(internal)?
        }
    };
    Ok(NewPayment {
        budget_id: invoice.budget_id,
        deployment: invoice.deployment,
        payee_id: invoice.payee_id,
        category: invoice.category,
        amount,
        service_date: invoice.period_to.unwrap_or(invoice.issued_on),
        memo: Some(format!("Invoice {}", invoice.invoice_number)),
        stay_from: None,
        stay_to: None,
        holder_organisation_id: (actor.role == Role::ProviderStaff)
            .then_some(actor.organisation_id)
            .flatten(),
        merchant_category: None,
        is_cash: false,
        evidence_sha256: None,
        invoice_id: Some(invoice.id),
        card: None,
    })
}

/// Pays (part of) an invoice through the payment path: the same rules, the same coalesced
/// writer, the same outcomes as `POST /api/v1/payments`. A replay of the key gives the first
/// outcome, whatever the invoice has come to since.
pub async fn pay(
    pool: &crate::db::DbPool,
    desk: &crate::commands::PaymentDesk,
    actor: &Actor,
    id: Uuid,
    pay: &PayInvoice,
    claim: crate::commands::Claim,
) -> AppResult<crate::commands::Ran<crate::payments::spend::PaymentOutcome>> {
    let (actor_for_tx, pay_for_tx, claim_for_tx) = (actor.clone(), pay.clone(), claim.clone());
    let prepared = crate::db::in_tenant_tx(pool, actor.council_id, |tx| {
        Box::pin(async move {
            let council_id = actor_for_tx.council_id;
            if let Some(stored) =
                crate::commands::claims::peek(tx, council_id, &claim_for_tx).await?
            {
                return Ok(Err(stored));
            }
            Ok(Ok(payment_for(tx, &actor_for_tx, id, &pay_for_tx).await?))
        })
    })
    .await?;
    match prepared {
        Err(stored) => Ok(crate::commands::Ran {
            value: crate::commands::claims::stored_outcome(stored)?,
            replayed: true,
        }),
        Ok(new) => desk.pay(actor, new, Some(claim)).await,
    }
}
