//! Writing a decided batch: every payment row in one statement, and the "paid out" accounts a
//! first payment from a deployment account needs.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::outcome::Payment;
use crate::db::Tx;
use crate::error::AppResult;
use crate::ledger;
use crate::rules::RULESET_VERSION;

/// Opens the missing "paid out" counterparts of these deployment accounts (the caller holds the
/// deployment accounts' locks, so no two transactions open one for the same account).
pub(super) async fn open_paid_out(
    tx: &Tx<'_>,
    council_id: Uuid,
    accounts: &BTreeSet<Uuid>,
) -> AppResult<HashMap<Uuid, Uuid>> {
    let wanted: Vec<Uuid> = accounts.iter().copied().collect();
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT account_id, paid_out_id FROM paid_out_accounts
                 WHERE council_id = $1 AND account_id = ANY($2)",
            )
            .await?,
            &[&council_id, &wanted],
        )
        .await?;
    let mut found: HashMap<Uuid, Uuid> = rows
        .iter()
        .map(|r| (r.get("account_id"), r.get("paid_out_id")))
        .collect();
    for account in wanted {
        if found.contains_key(&account) {
            continue;
        }
        let paid_out = ledger::create_account(
            tx,
            council_id,
            &ledger::NewAccount {
                kind: "paid_out".into(),
                name: "Paid to payees".into(),
                holder: Some(format!("account:{account}")),
                no_overdraft: false,
            },
        )
        .await?;
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO paid_out_accounts (council_id, account_id, paid_out_id)
                 VALUES ($1, $2, $3)",
            )
            .await?,
            &[&council_id, &account, &paid_out],
        )
        .await?;
        found.insert(account, paid_out);
    }
    Ok(found)
}

/// The "paid out" counterpart of a deployment account, opened if it is missing (the account is
/// locked first, as every payment from it does).
pub async fn paid_out_account(tx: &Tx<'_>, council_id: Uuid, account: Uuid) -> AppResult<Uuid> {
    ledger::lock_accounts(tx, council_id, &[account]).await?;
    let opened = open_paid_out(tx, council_id, &BTreeSet::from([account])).await?;
    opened
        .get(&account)
        .copied()
        .ok_or_else(|| crate::error::AppError::Internal("no paid-out account opened".into()))
}

/// A payment decided, about to be written.
pub(super) struct Record {
    pub payment: Payment,
    pub merchant_category: Option<String>,
    pub is_cash: bool,
    pub evidence_sha256: Option<String>,
    pub outstanding: serde_json::Value,
    pub invoice_id: Option<Uuid>,
    pub card: Option<super::input::CardSpend>,
}

pub(super) async fn insert_payments(
    tx: &Tx<'_>,
    council_id: Uuid,
    records: &[(usize, Record)],
) -> AppResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.id).collect();
    let budgets: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.budget_id).collect();
    let accounts: Vec<Option<Uuid>> = records.iter().map(|(_, r)| r.payment.account_id).collect();
    let deployments: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.deployment.as_str())
        .collect();
    let payees: Vec<Uuid> = records.iter().map(|(_, r)| r.payment.payee_id).collect();
    let categories: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.category.as_str())
        .collect();
    let amounts: Vec<Decimal> = records
        .iter()
        .map(|(_, r)| r.payment.amount.amount())
        .collect();
    let service_dates: Vec<chrono::NaiveDate> = records
        .iter()
        .map(|(_, r)| r.payment.service_date)
        .collect();
    let memos: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.payment.memo.as_deref())
        .collect();
    let stay_from: Vec<Option<chrono::NaiveDate>> =
        records.iter().map(|(_, r)| r.payment.stay_from).collect();
    let stay_to: Vec<Option<chrono::NaiveDate>> =
        records.iter().map(|(_, r)| r.payment.stay_to).collect();
    let merchants: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.merchant_category.as_deref())
        .collect();
    let cash: Vec<bool> = records.iter().map(|(_, r)| r.is_cash).collect();
    let evidence: Vec<Option<&str>> = records
        .iter()
        .map(|(_, r)| r.evidence_sha256.as_deref())
        .collect();
    let requested_by: Vec<Uuid> = records
        .iter()
        .map(|(_, r)| r.payment.requested_by)
        .collect();
    let requested_at: Vec<DateTime<Utc>> = records
        .iter()
        .map(|(_, r)| r.payment.requested_at)
        .collect();
    let statuses: Vec<&str> = records
        .iter()
        .map(|(_, r)| r.payment.status.as_str())
        .collect();
    let decisions: Vec<serde_json::Value> = records
        .iter()
        .map(|(_, r)| {
            serde_json::to_value(&r.payment.decision)
                .map_err(|e| crate::error::AppError::Internal(e.to_string()))
        })
        .collect::<AppResult<_>>()?;
    let policy_versions: Vec<i32> = records
        .iter()
        .map(|(_, r)| r.payment.policy_version)
        .collect();
    let outstanding: Vec<&serde_json::Value> =
        records.iter().map(|(_, r)| &r.outstanding).collect();
    let holds: Vec<Option<Uuid>> = records
        .iter()
        .map(|(_, r)| r.payment.hold_entry_id)
        .collect();
    let expires: Vec<Option<DateTime<Utc>>> = records
        .iter()
        .map(|(_, r)| r.payment.hold_expires_at)
        .collect();
    let posted: Vec<Option<Uuid>> = records.iter().map(|(_, r)| r.payment.entry_id).collect();
    let resolved_at: Vec<Option<DateTime<Utc>>> =
        records.iter().map(|(_, r)| r.payment.resolved_at).collect();
    let resolved_by: Vec<Option<Uuid>> =
        records.iter().map(|(_, r)| r.payment.resolved_by).collect();
    let invoices: Vec<Option<Uuid>> = records.iter().map(|(_, r)| r.invoice_id).collect();
    tx.execute(
        &tx.prepare_cached(INSERT_PAYMENTS).await?,
        &[
            &council_id,
            &ids,
            &budgets,
            &accounts,
            &deployments,
            &payees,
            &categories,
            &amounts,
            &service_dates,
            &memos,
            &stay_from,
            &stay_to,
            &merchants,
            &cash,
            &evidence,
            &requested_by,
            &requested_at,
            &statuses,
            &decisions,
            &RULESET_VERSION,
            &policy_versions,
            &outstanding,
            &holds,
            &expires,
            &posted,
            &resolved_at,
            &resolved_by,
            &invoices,
        ],
    )
    .await?;
    Ok(())
}

const INSERT_PAYMENTS: &str = "
INSERT INTO payments (council_id, id, budget_id, account_id, deployment, payee_id, category,
    amount, service_date, memo, stay_from, stay_to, merchant_category, is_cash, evidence_sha256,
    requested_by, requested_at, status, decision, ruleset_version, policy_version, outstanding,
    hold_entry_id, hold_expires_at, posted_entry_id, resolved_at, resolved_by, invoice_id)
SELECT $1, u.id, u.budget_id, u.account_id, u.deployment, u.payee_id, u.category, u.amount,
    u.service_date, u.memo, u.stay_from, u.stay_to, u.merchant_category, u.is_cash,
    u.evidence_sha256, u.requested_by, u.requested_at, u.status, u.decision, $20,
    u.policy_version, u.outstanding, u.hold_entry_id, u.hold_expires_at, u.posted_entry_id,
    u.resolved_at, u.resolved_by, u.invoice_id
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[],
            $8::numeric[], $9::date[], $10::text[], $11::date[], $12::date[], $13::text[],
            $14::bool[], $15::text[], $16::uuid[], $17::timestamptz[], $18::text[],
            $19::jsonb[], $21::int4[], $22::jsonb[], $23::uuid[], $24::timestamptz[],
            $25::uuid[], $26::timestamptz[], $27::uuid[], $28::uuid[])
     AS u(id, budget_id, account_id, deployment, payee_id, category, amount, service_date, memo,
          stay_from, stay_to, merchant_category, is_cash, evidence_sha256, requested_by,
          requested_at, status, decision, policy_version, outstanding, hold_entry_id,
          hold_expires_at, posted_entry_id, resolved_at, resolved_by, invoice_id)";

/// Records the card authorisations among a batch's payments (approved or declined by the rules),
/// in one statement, and the incremental ones in another. The processor's authorisation id (and
/// an increment's event id) is unique: a second decision on the same authorisation, or one coming
/// after the processor was answered for it (a timeout's recorded decline), fails here, in the
/// transaction that would have held the money, so no hold is left behind.
pub(super) async fn insert_card_authorizations(
    tx: &Tx<'_>,
    council_id: Uuid,
    records: &[(usize, Record)],
) -> AppResult<()> {
    let cards: Vec<(&Record, &super::input::CardSpend)> = records
        .iter()
        .filter_map(|(_, r)| r.card.as_ref().map(|card| (r, card)))
        .collect();
    let (increments, cards): (Vec<_>, Vec<_>) = cards
        .into_iter()
        .partition(|(_, c)| c.increment_ref.is_some());
    insert_increments(tx, council_id, &increments).await?;
    if cards.is_empty() {
        return Ok(());
    }
    let processors: Vec<Uuid> = cards.iter().map(|(_, c)| c.processor_id).collect();
    let refs: Vec<&str> = cards
        .iter()
        .map(|(_, c)| c.authorization_ref.as_str())
        .collect();
    let card_ids: Vec<Uuid> = cards.iter().map(|(_, c)| c.card_id).collect();
    let payment_ids: Vec<Uuid> = cards.iter().map(|(r, _)| r.payment.id).collect();
    let amounts: Vec<Decimal> = cards
        .iter()
        .map(|(r, _)| r.payment.amount.amount())
        .collect();
    let mccs: Vec<&str> = cards.iter().map(|(_, c)| c.mcc.as_str()).collect();
    let names: Vec<&str> = cards
        .iter()
        .map(|(_, c)| c.merchant_name.as_str())
        .collect();
    let cash: Vec<bool> = cards.iter().map(|(r, _)| r.is_cash).collect();
    let reasons: Vec<Option<&str>> = cards.iter().map(|(r, _)| reason(r)).collect();
    let holds: Vec<Option<Uuid>> = cards.iter().map(|(r, _)| r.payment.hold_entry_id).collect();
    let created: Vec<DateTime<Utc>> = cards.iter().map(|(r, _)| r.payment.requested_at).collect();
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO card_authorizations (council_id, processor_id, authorization_ref, card_id,
                 payment_id, amount, merchant_category, merchant_name, is_cash, approved,
                 decline_reason, status, hold_entry_id, created_at)
             SELECT $1, u.processor_id, u.authorization_ref, u.card_id, u.payment_id, u.amount,
                 u.mcc, u.merchant_name, u.is_cash, u.reason IS NULL, u.reason,
                 CASE WHEN u.reason IS NULL THEN 'approved' ELSE 'declined' END,
                 u.hold_entry_id, u.created_at
             FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::numeric[],
                         $7::text[], $8::text[], $9::bool[], $10::text[], $11::uuid[],
                         $12::timestamptz[])
                  AS u(processor_id, authorization_ref, card_id, payment_id, amount, mcc,
                       merchant_name, is_cash, reason, hold_entry_id, created_at)",
        )
        .await?,
        &[
            &council_id,
            &processors,
            &refs,
            &card_ids,
            &payment_ids,
            &amounts,
            &mccs,
            &names,
            &cash,
            &reasons,
            &holds,
            &created,
        ],
    )
    .await?;
    let receipts: Vec<(Uuid, &str, serde_json::Value)> = cards
        .iter()
        .filter_map(|(r, c)| {
            c.webhook_id.as_deref().map(|id| {
                let refusal = crate::cards::events::decline_reason(r.payment.decision.refusals());
                (
                    c.processor_id,
                    id,
                    crate::cards::events::answer(r.payment.id, refusal.is_none(), refusal),
                )
            })
        })
        .collect();
    if !receipts.is_empty() {
        let processors: Vec<Uuid> = receipts.iter().map(|r| r.0).collect();
        let ids: Vec<&str> = receipts.iter().map(|r| r.1).collect();
        let answers: Vec<&serde_json::Value> = receipts.iter().map(|r| &r.2).collect();
        tx.execute(
            &tx.prepare_cached(
                "SELECT card_event_record_many($1, $2, 'authorization.request', $3, $4)",
            )
            .await?,
            &[&processors, &ids, &council_id, &answers],
        )
        .await?;
    }
    Ok(())
}

/// The refusal the processor is answered with, if any.
fn reason(record: &Record) -> Option<&str> {
    crate::cards::events::decline_reason(record.payment.decision.refusals())
        .map(|f| f.code.as_str())
}

async fn insert_increments(
    tx: &Tx<'_>,
    council_id: Uuid,
    increments: &[(&Record, &super::input::CardSpend)],
) -> AppResult<()> {
    if increments.is_empty() {
        return Ok(());
    }
    let processors: Vec<Uuid> = increments.iter().map(|(_, c)| c.processor_id).collect();
    let refs: Vec<&str> = increments
        .iter()
        .map(|(_, c)| c.authorization_ref.as_str())
        .collect();
    let increment_refs: Vec<&str> = increments
        .iter()
        .map(|(_, c)| c.increment_ref.as_deref().unwrap_or_default())
        .collect();
    let payment_ids: Vec<Uuid> = increments.iter().map(|(r, _)| r.payment.id).collect();
    let amounts: Vec<Decimal> = increments
        .iter()
        .map(|(r, _)| r.payment.amount.amount())
        .collect();
    let reasons: Vec<Option<&str>> = increments.iter().map(|(r, _)| reason(r)).collect();
    let holds: Vec<Option<Uuid>> = increments
        .iter()
        .map(|(r, _)| r.payment.hold_entry_id)
        .collect();
    let created: Vec<DateTime<Utc>> = increments
        .iter()
        .map(|(r, _)| r.payment.requested_at)
        .collect();
    tx.execute(
        "INSERT INTO card_authorization_increments (council_id, processor_id, authorization_ref,
             increment_ref, payment_id, amount, approved, decline_reason, status, hold_entry_id,
             created_at)
         SELECT $1, u.processor_id, u.authorization_ref, u.increment_ref, u.payment_id, u.amount,
             u.reason IS NULL, u.reason,
             CASE WHEN u.reason IS NULL THEN 'approved' ELSE 'declined' END,
             u.hold_entry_id, u.created_at
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::numeric[], $7::text[],
                     $8::uuid[], $9::timestamptz[])
              AS u(processor_id, authorization_ref, increment_ref, payment_id, amount, reason,
                   hold_entry_id, created_at)",
        &[
            &council_id,
            &processors,
            &refs,
            &increment_refs,
            &payment_ids,
            &amounts,
            &reasons,
            &holds,
            &created,
        ],
    )
    .await?;
    Ok(())
}
