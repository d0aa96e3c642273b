//! Writing and reading payment runs. Lines and skips are written with one INSERT each
//! (`unnest` over arrays), so a run of ten thousand budgets is three statements.

use std::str::FromStr;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::compute::{DraftLine, Period, Skip};
use super::{PaymentRun, RunLine, RunSkip, RunStatus, RunSummary};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::rules::Deployment;

fn money(value: Decimal) -> AppResult<Money> {
    Money::new(value).map_err(|e| AppError::Internal(format!("{value}: {e}")))
}

fn to_i32(value: usize) -> AppResult<i32> {
    i32::try_from(value).map_err(|_| AppError::Internal(format!("{value} does not fit")))
}

/// Inserts a draft run with its lines and skips; returns its id.
pub async fn insert(
    tx: &Tx<'_>,
    council_id: Uuid,
    created_by: Uuid,
    period: Period,
    lines: &[DraftLine],
    skips: &[Skip],
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    let total: Decimal = lines.iter().map(|l| l.amount).sum();
    let last_day = period
        .last_day()
        .ok_or_else(|| AppError::invalid("period_start", "is too far in the future"))?;
    if total > crate::money::max_amount() {
        return Err(AppError::invalid_amount(
            "weeks",
            "the run's total is larger than one run can release: use fewer weeks",
        ));
    }
    // At most MAX_WEEKS (checked by the caller): it always fits.
    let weeks = i32::try_from(period.weeks).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO payment_runs (council_id, id, period_start, period_end, weeks, status, total_amount, created_by)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7)",
        &[&council_id, &id, &period.start, &last_day, &weeks, &total, &created_by],
    )
    .await?;
    insert_lines(tx, council_id, id, lines).await?;
    insert_skips(tx, council_id, id, skips).await?;
    Ok(id)
}

async fn insert_lines(
    tx: &Tx<'_>,
    council_id: Uuid,
    run_id: Uuid,
    lines: &[DraftLine],
) -> AppResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut line_no = Vec::with_capacity(lines.len());
    for index in 0..lines.len() {
        line_no.push(to_i32(index + 1)?);
    }
    let budget_id: Vec<Uuid> = lines.iter().map(|l| l.budget_id).collect();
    let deployment: Vec<&str> = lines.iter().map(|l| l.deployment.as_str()).collect();
    let account_id: Vec<Uuid> = lines.iter().map(|l| l.account_id).collect();
    let holder: Vec<Option<Uuid>> = lines.iter().map(|l| l.holder_organisation_id).collect();
    // Line weeks are at most the run's weeks.
    let weeks: Vec<i32> = lines
        .iter()
        .map(|l| i32::try_from(l.weeks).unwrap_or(i32::MAX))
        .collect();
    let amount: Vec<Decimal> = lines.iter().map(|l| l.amount).collect();
    let owed: Vec<Decimal> = lines.iter().map(|l| l.contribution_owed).collect();
    let pay_in: Vec<Decimal> = lines.iter().map(|l| l.contribution_to_pay_in).collect();
    let in_bank: Vec<bool> = lines.iter().map(|l| l.bank.is_some()).collect();
    let name: Vec<Option<&str>> = lines
        .iter()
        .map(|l| l.bank.as_ref().map(|b| b.account_name.as_str()))
        .collect();
    let sort_code: Vec<Option<String>> = lines
        .iter()
        .map(|l| l.bank.as_ref().map(|b| b.sort_code_digits()))
        .collect();
    let account_number: Vec<Option<&str>> = lines
        .iter()
        .map(|l| l.bank.as_ref().map(|b| b.account_number.as_str()))
        .collect();
    let reference: Vec<&str> = lines.iter().map(|l| l.payment_reference.as_str()).collect();
    tx.execute(
        "INSERT INTO payment_run_lines (council_id, run_id, line_no, budget_id, deployment, account_id,
                                        holder_organisation_id, weeks, amount, contribution_owed,
                                        contribution_to_pay_in, in_bank_file, payee_name, payee_sort_code,
                                        payee_account_number, payment_reference)
         SELECT $1, $2, * FROM unnest($3::int[], $4::uuid[], $5::text[], $6::uuid[], $7::uuid[], $8::int[],
                                      $9::numeric[], $10::numeric[], $11::numeric[], $12::bool[], $13::text[],
                                      $14::text[], $15::text[], $16::text[])",
        &[
            &council_id, &run_id, &line_no, &budget_id, &deployment, &account_id, &holder, &weeks, &amount,
            &owed, &pay_in, &in_bank, &name, &sort_code, &account_number, &reference,
        ],
    )
    .await?;
    Ok(())
}

async fn insert_skips(
    tx: &Tx<'_>,
    council_id: Uuid,
    run_id: Uuid,
    skips: &[Skip],
) -> AppResult<()> {
    if skips.is_empty() {
        return Ok(());
    }
    let mut skip_no = Vec::with_capacity(skips.len());
    for index in 0..skips.len() {
        skip_no.push(to_i32(index + 1)?);
    }
    let budget_id: Vec<Uuid> = skips.iter().map(|s| s.budget_id).collect();
    let deployment: Vec<Option<&str>> = skips
        .iter()
        .map(|s| s.deployment.map(|d| d.as_str()))
        .collect();
    let reason: Vec<&str> = skips.iter().map(|s| s.reason.as_str()).collect();
    let message: Vec<&str> = skips.iter().map(|s| s.message.as_str()).collect();
    tx.execute(
        "INSERT INTO payment_run_skips (council_id, run_id, skip_no, budget_id, deployment, reason, message)
         SELECT $1, $2, * FROM unnest($3::int[], $4::uuid[], $5::text[], $6::text[], $7::text[])",
        &[&council_id, &run_id, &skip_no, &budget_id, &deployment, &reason, &message],
    )
    .await?;
    Ok(())
}

const RUN_COLUMNS: &str =
    "id, status, period_start, period_end, weeks, total_amount, created_by, created_at,
     submitted_by, submitted_at, approved_by, approved_at, rejected_by, rejected_at, file_serial";

/// A run with its lines and skips (404 if the council has none with this id).
pub async fn load(
    tx: &Tx<'_>,
    council_id: Uuid,
    id: Uuid,
    for_update: bool,
) -> AppResult<PaymentRun> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT {RUN_COLUMNS} FROM payment_runs WHERE council_id = $1 AND id = $2{lock}");
    let row = tx
        .query_opt(&sql, &[&council_id, &id])
        .await?
        .ok_or(AppError::NotFound)?;
    let lines = load_lines(tx, council_id, id).await?;
    let skipped = load_skips(tx, council_id, id).await?;
    let bank_total: Decimal = lines
        .iter()
        .filter(|l| l.in_bank_file)
        .map(|l| l.amount.amount())
        .sum();
    Ok(PaymentRun {
        id: row.get(0),
        status: RunStatus::parse(row.get(1))?,
        period_start: row.get(2),
        period_end: row.get(3),
        weeks: row.get(4),
        total_amount: money(row.get(5))?,
        bank_total: money(bank_total)?,
        lines,
        skipped,
        created_by: row.get(6),
        created_at: row.get(7),
        submitted_by: row.get(8),
        submitted_at: row.get(9),
        approved_by: row.get(10),
        approved_at: row.get(11),
        rejected_by: row.get(12),
        rejected_at: row.get(13),
        file_serial: row.get(14),
    })
}

async fn load_lines(tx: &Tx<'_>, council_id: Uuid, run_id: Uuid) -> AppResult<Vec<RunLine>> {
    let rows = tx
        .query(
            "SELECT l.line_no, l.budget_id, b.reference, p.name, l.deployment, l.holder_organisation_id,
                    l.account_id, l.weeks, l.amount, l.contribution_owed, l.contribution_to_pay_in,
                    l.in_bank_file, l.payee_name, l.payment_reference, l.entry_id
             FROM payment_run_lines l
             JOIN budgets b ON b.council_id = l.council_id AND b.id = l.budget_id
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             WHERE l.council_id = $1 AND l.run_id = $2 ORDER BY l.line_no",
            &[&council_id, &run_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(RunLine {
                line_no: row.get(0),
                budget_id: row.get(1),
                budget_reference: row.get(2),
                person_name: row.get(3),
                deployment: Deployment::from_str(row.get(4))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                holder_organisation_id: row.get(5),
                account_id: row.get(6),
                weeks: row.get(7),
                amount: money(row.get(8))?,
                contribution_owed: money(row.get(9))?,
                contribution_to_pay_in: money(row.get(10))?,
                in_bank_file: row.get(11),
                payee_name: row.get(12),
                payment_reference: row.get(13),
                entry_id: row.get(14),
            })
        })
        .collect()
}

async fn load_skips(tx: &Tx<'_>, council_id: Uuid, run_id: Uuid) -> AppResult<Vec<RunSkip>> {
    let rows = tx
        .query(
            "SELECT s.budget_id, b.reference, p.name, s.deployment, s.reason, s.message
             FROM payment_run_skips s
             JOIN budgets b ON b.council_id = s.council_id AND b.id = s.budget_id
             JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             WHERE s.council_id = $1 AND s.run_id = $2 ORDER BY s.skip_no",
            &[&council_id, &run_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let deployment: Option<&str> = row.get(3);
            Ok(RunSkip {
                budget_id: row.get(0),
                budget_reference: row.get(1),
                person_name: row.get(2),
                deployment: deployment
                    .map(Deployment::from_str)
                    .transpose()
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                reason: row.get(4),
                message: row.get(5),
            })
        })
        .collect()
}

/// The council's runs, newest period first.
pub async fn list(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<RunSummary>> {
    let rows = tx
        .query(
            "SELECT r.id, r.status, r.period_start, r.period_end, r.weeks, r.total_amount, r.created_by, r.approved_by,
                    (SELECT count(*) FROM payment_run_lines l WHERE l.council_id = r.council_id AND l.run_id = r.id),
                    (SELECT count(*) FROM payment_run_skips s WHERE s.council_id = r.council_id AND s.run_id = r.id)
             FROM payment_runs r WHERE r.council_id = $1 ORDER BY r.period_start DESC, r.created_at DESC",
            &[&council_id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(RunSummary {
                id: row.get(0),
                status: RunStatus::parse(row.get(1))?,
                period_start: row.get(2),
                period_end: row.get(3),
                weeks: row.get(4),
                total_amount: money(row.get(5))?,
                created_by: row.get(6),
                approved_by: row.get(7),
                lines: row.get(8),
                skipped: row.get(9),
            })
        })
        .collect()
}
