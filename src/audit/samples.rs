//! Reproducible audit samples (issue 11 §3). A sample is drawn from the payments posted (by the
//! business date of their posting entry) in `from..=to`, optionally at least `min_amount` and of
//! the given deployments, ordered by SHA-256 of the UTF-8 bytes of `seed` followed by the
//! payment's id in its lower-case hyphenated form, ties (never seen) by id; the first `size` are
//! the sample. The same parameters over the same ledger always draw the same payments, so anyone
//! can redraw a sample and check it. Auditors only.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::findings::{self, Finding};
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::Deployment;

/// The largest sample that may be drawn.
pub const MAX_SAMPLE_SIZE: u32 = 1000;

/// What to draw.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// Any text of 1 to 200 characters; write it down to redraw the sample.
    pub seed: String,
    /// How many payments, 1 to 1000 (fewer when fewer qualify).
    pub size: u32,
    /// First posting date (inclusive).
    pub from: NaiveDate,
    /// Last posting date (inclusive).
    pub to: NaiveDate,
    /// Only payments of at least this amount.
    #[schema(value_type = Option<String>, example = "250.00")]
    #[serde(default)]
    pub min_amount: Option<Money>,
    /// Only payments from these deployments.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default)]
    pub deployments: Option<Vec<Deployment>>,
}

/// A drawn sample with its findings so far.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sample {
    pub id: Uuid,
    pub seed: String,
    pub size: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = Option<String>)]
    pub min_amount: Option<Money>,
    pub deployments: Option<Vec<String>>,
    /// The sampled payments' ids, in sampling order.
    pub items: Vec<Uuid>,
    pub drawn_by: Uuid,
    pub drawn_at: DateTime<Utc>,
    pub findings: Vec<Finding>,
}

fn check(request: &SampleRequest) -> AppResult<()> {
    let seed_len = request.seed.chars().count();
    if request.seed.trim().is_empty() || seed_len > 200 {
        return Err(AppError::invalid("seed", "1 to 200 characters"));
    }
    if !(1..=MAX_SAMPLE_SIZE).contains(&request.size) {
        return Err(AppError::invalid("size", "1 to 1000"));
    }
    if request.to < request.from {
        return Err(AppError::invalid("to", "on or after `from`"));
    }
    if request.deployments.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::invalid(
            "deployments",
            "at least one, or leave it out",
        ));
    }
    Ok(())
}

/// The payment ids the rule picks (see the module doc), without storing anything.
pub async fn select(
    tx: &Tx<'_>,
    council_id: Uuid,
    request: &SampleRequest,
) -> AppResult<Vec<Uuid>> {
    let min_amount: Option<Decimal> = request.min_amount.map(Money::amount);
    let deployments: Option<Vec<&str>> = request
        .deployments
        .as_ref()
        .map(|d| d.iter().map(|d| d.as_str()).collect());
    let size = i64::from(request.size);
    let rows = tx
        .query(
            "SELECT p.id FROM payments p
             JOIN ledger_entries e ON e.council_id = p.council_id AND e.id = p.posted_entry_id
             WHERE p.council_id = $1 AND p.status = 'posted'
               AND e.effective_date BETWEEN $2 AND $3
               AND ($4::numeric IS NULL OR p.amount >= $4)
               AND ($5::text[] IS NULL OR p.deployment = ANY ($5))
             ORDER BY sha256(convert_to($6 || p.id::text, 'UTF8')), p.id
             LIMIT $7",
            &[
                &council_id,
                &request.from,
                &request.to,
                &min_amount,
                &deployments,
                &request.seed,
                &size,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Draws and stores a sample.
pub async fn draw(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    request: &SampleRequest,
    now: DateTime<Utc>,
) -> AppResult<Sample> {
    actor.require(&[Role::Auditor])?;
    check(request)?;
    let items = select(tx, actor.council_id, request).await?;
    let min_amount = request.min_amount.map(Money::amount);
    let deployments: Option<Vec<&str>> = request
        .deployments
        .as_ref()
        .map(|d| d.iter().map(|d| d.as_str()).collect());
    let size = i32::try_from(request.size).map_err(|_| AppError::invalid("size", "1 to 1000"))?;
    tx.execute(
        "INSERT INTO audit_samples (council_id, id, seed, size, date_from, date_to, min_amount,
             deployments, items, drawn_by, drawn_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &actor.council_id,
            &id,
            &request.seed,
            &size,
            &request.from,
            &request.to,
            &min_amount,
            &deployments,
            &items,
            &actor.user_id,
            &now,
        ],
    )
    .await?;
    get(tx, actor, id).await
}

fn from_row(row: &Row, findings: Vec<Finding>) -> AppResult<Sample> {
    let min_amount: Option<Decimal> = row.try_get("min_amount")?;
    Ok(Sample {
        id: row.try_get("id")?,
        seed: row.try_get("seed")?,
        size: row.try_get("size")?,
        from: row.try_get("date_from")?,
        to: row.try_get("date_to")?,
        min_amount: min_amount
            .map(Money::new)
            .transpose()
            .map_err(|e| AppError::Internal(e.to_string()))?,
        deployments: row.try_get("deployments")?,
        items: row.try_get("items")?,
        drawn_by: row.try_get("drawn_by")?,
        drawn_at: row.try_get("drawn_at")?,
        findings,
    })
}

/// A stored sample with its findings (auditors only; 404 for anything else).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Sample> {
    actor.require(&[Role::Auditor])?;
    let row = tx
        .query_opt(
            "SELECT id, seed, size, date_from, date_to, min_amount, deployments, items, drawn_by,
                    drawn_at
             FROM audit_samples WHERE council_id = $1 AND id = $2",
            &[&actor.council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let findings = findings::of_sample(tx, actor.council_id, id).await?;
    from_row(&row, findings)
}

/// The council's samples, newest first (auditors only).
pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Sample>> {
    actor.require(&[Role::Auditor])?;
    let rows = tx
        .query(
            "SELECT id, seed, size, date_from, date_to, min_amount, deployments, items, drawn_by,
                    drawn_at
             FROM audit_samples WHERE council_id = $1 ORDER BY drawn_at DESC, id LIMIT 200",
            &[&actor.council_id],
        )
        .await?;
    let mut samples = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Uuid = row.try_get("id")?;
        samples.push(from_row(
            row,
            findings::of_sample(tx, actor.council_id, id).await?,
        )?);
    }
    Ok(samples)
}

/// One sampled payment as the CSV shows it.
#[derive(Debug, Clone)]
pub struct SampledPayment {
    pub position: usize,
    pub payment_id: Uuid,
    pub budget_id: Uuid,
    pub deployment: String,
    pub payee_name: String,
    pub amount: Decimal,
    pub posted_on: Option<NaiveDate>,
    /// SHA-256 of the evidence attached, oldest first.
    pub evidence: Vec<String>,
}

/// The sample's payments in sampling order, with what the ledger says of each.
pub async fn payments(
    tx: &Tx<'_>,
    council_id: Uuid,
    sample: &Sample,
) -> AppResult<Vec<SampledPayment>> {
    let rows = tx
        .query(
            "SELECT s.pos, p.id, p.budget_id, p.deployment, y.name, p.amount, e.effective_date,
                    ARRAY(SELECT v.sha256 FROM payment_evidence v
                          WHERE v.council_id = p.council_id AND v.payment_id = p.id
                          ORDER BY v.attached_at, v.sha256) AS evidence
             FROM unnest($2::uuid[]) WITH ORDINALITY AS s(payment_id, pos)
             JOIN payments p ON p.council_id = $1 AND p.id = s.payment_id
             JOIN payees y ON y.council_id = p.council_id AND y.id = p.payee_id
             LEFT JOIN ledger_entries e ON e.council_id = p.council_id AND e.id = p.posted_entry_id
             ORDER BY s.pos",
            &[&council_id, &sample.items],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SampledPayment {
                position: usize::try_from(r.try_get::<_, i64>(0)?).unwrap_or_default(),
                payment_id: r.try_get(1)?,
                budget_id: r.try_get(2)?,
                deployment: r.try_get(3)?,
                payee_name: r.try_get(4)?,
                amount: r.try_get(5)?,
                posted_on: r.try_get(6)?,
                evidence: r.try_get(7)?,
            })
        })
        .collect()
}
