//! Importing invoices from CSV (see [`super::invoice_csv`] for the columns): each invoice of the
//! file is recorded through [`invoices::record`], with the same role, reach and checks as
//! `POST /api/v1/invoices`, all in one transaction.
//!
//! By default the file is all or nothing: if any invoice is refused, nothing is recorded and the
//! answer is the first refusal's status and code, with a detail for every refused row. With
//! `partial`, the invoices that can be recorded are, and the others are reported row by row; an
//! invoice is still recorded with all its lines or not at all. A file of which nothing could be
//! recorded is refused either way.

use std::sync::Arc;

use super::invoice_csv::{self, at_row, ParsedFile};
use super::invoices::{self, Invoice};
use crate::auth::Actor;
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult, Detail};
use chrono::{DateTime, Utc};

/// Told how many of the file's invoices have been handled, out of how many.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// What became of one invoice of the file.
#[derive(Debug)]
pub struct InvoiceOutcome {
    /// Its rows (the header is row 1).
    pub rows: Vec<usize>,
    pub invoice_number: Option<String>,
    /// Recorded, or why not (the details name the rows).
    pub result: Result<Invoice, AppError>,
}

/// What an import came to.
#[derive(Debug)]
pub struct ImportReport {
    /// Rows of invoice lines in the file.
    pub rows: usize,
    pub invoices: Vec<InvoiceOutcome>,
}

impl ImportReport {
    pub fn imported(&self) -> impl Iterator<Item = &InvoiceOutcome> {
        self.invoices.iter().filter(|i| i.result.is_ok())
    }

    pub fn refused(&self) -> impl Iterator<Item = &InvoiceOutcome> {
        self.invoices.iter().filter(|i| i.result.is_err())
    }
}

/// Reads `csv` and records its invoices (see the module doc). `progress` hears after each
/// invoice; a run retried after a deadlock starts it again from zero.
pub async fn import(
    pool: &DbPool,
    actor: &Actor,
    csv: &[u8],
    partial: bool,
    now: DateTime<Utc>,
    progress: Progress,
) -> AppResult<ImportReport> {
    invoices::require_invoicer(actor)?;
    let file = Arc::new(invoice_csv::parse(csv)?);
    crate::commands::write(pool, actor.council_id, move |tx| {
        let (actor, file, progress) = (actor.clone(), file.clone(), progress.clone());
        Box::pin(async move { import_in_tx(tx, &actor, &file, partial, now, &progress).await })
    })
    .await
}

/// The import in the caller's transaction; an `Err` means nothing of it may be committed.
pub async fn import_in_tx(
    tx: &Tx<'_>,
    actor: &Actor,
    file: &ParsedFile,
    partial: bool,
    now: DateTime<Utc>,
    progress: &Progress,
) -> AppResult<ImportReport> {
    invoices::require_invoicer(actor)?;
    let total = file.invoices.len();
    progress(0, total);
    let mut outcomes = Vec::with_capacity(total);
    for (done, parsed) in file.invoices.iter().enumerate() {
        let result = match &parsed.invoice {
            Err(e) => Err(e.copy()),
            Ok(new) => {
                // A refusal rolls back only this invoice's statements, so the transaction goes
                // on (a foreign-key violation would otherwise abort it).
                tx.batch_execute("SAVEPOINT invoice_import").await?;
                match invoices::record(tx, actor, new, now).await {
                    Ok(invoice) => {
                        tx.batch_execute("RELEASE SAVEPOINT invoice_import").await?;
                        Ok(invoice)
                    }
                    Err(e @ (AppError::Db(_) | AppError::Internal(_))) => return Err(e),
                    Err(e) => {
                        tx.batch_execute("ROLLBACK TO SAVEPOINT invoice_import")
                            .await?;
                        Err(e)
                    }
                }
            }
        };
        outcomes.push(InvoiceOutcome {
            rows: parsed.rows.clone(),
            invoice_number: parsed.invoice_number.clone(),
            result: result.map_err(|e| on_rows(e, &parsed.rows)),
        });
        progress(done + 1, total);
    }
    let report = ImportReport {
        rows: file.rows,
        invoices: outcomes,
    };
    let refused_rows: usize = report.refused().map(|i| i.rows.len()).sum();
    let nothing_imported = report.imported().next().is_none();
    if refused_rows > 0 && (!partial || nothing_imported) {
        return Err(refusal(&report, refused_rows, partial));
    }
    Ok(report)
}

/// The refusal of the whole file: the first refused invoice's status and code, a detail for
/// each refused row.
fn refusal(report: &ImportReport, refused_rows: usize, partial: bool) -> AppError {
    let mut refused = report.refused().filter_map(|i| i.result.as_ref().err());
    let first = refused
        .next()
        .map(AppError::copy)
        .unwrap_or(AppError::NotFound);
    let details: Vec<Detail> = report
        .refused()
        .filter_map(|i| i.result.as_ref().err())
        .flat_map(|e| e.details().iter().cloned())
        .collect();
    let message = if partial {
        format!(
            "None of the {} rows could be imported. The first refusal: {first}",
            report.rows
        )
    } else {
        format!(
            "{refused_rows} of {} rows were refused, so nothing was imported (send \
             ?partial=true to import the rest). The first refusal: {first}",
            report.rows
        )
    };
    AppError::Rows {
        first: Box::new(first),
        message,
        details,
    }
}

/// The error with every detail naming its row and code, the invoice's first row where the
/// refusal is about the whole invoice (a duplicate, a total that does not add up).
fn on_rows(error: AppError, rows: &[usize]) -> AppError {
    let first_row = rows.first().copied().unwrap_or(2);
    let code = error.code().to_owned();
    let mut details: Vec<Detail> = error.details().to_vec();
    if details.is_empty() {
        details.push(match &error {
            AppError::NotFound => Detail::field(
                "budget_id",
                "no such budget, or not one whose money you may record invoices against",
            ),
            other => Detail::rule(other.code(), other.to_string()),
        });
    }
    let details = details
        .into_iter()
        .map(|d| {
            // `lines[i].quantity` is the quantity column of the invoice's i-th row.
            let line = d.field.as_deref().and_then(|f| {
                let (index, column) = f.strip_prefix("lines[")?.split_once("].")?;
                Some((
                    rows.get(index.parse::<usize>().ok()?).copied()?,
                    column.to_owned(),
                ))
            });
            let (row, field) = match line {
                Some((row, column)) => (row, Some(column)),
                None => (d.row.unwrap_or(first_row), d.field.clone()),
            };
            Detail {
                code: Some(code.clone()),
                field,
                ..at_row(d, row)
            }
        })
        .collect();
    let message = match &error {
        AppError::NotFound => format!(
            "Row {first_row}: no such budget, or not one whose money you may record invoices \
             against."
        ),
        other
            if matches!(
                other,
                AppError::Invalid { .. } | AppError::InvalidAmount { .. }
            ) && other.details().iter().any(|d| d.row.is_some()) =>
        {
            other.to_string()
        }
        other => format!("Row {first_row}: {other}"),
    };
    match error {
        AppError::Invalid { .. } => AppError::Invalid { message, details },
        AppError::InvalidAmount { .. } => AppError::InvalidAmount { message, details },
        AppError::NoAuthority { .. } => AppError::NoAuthority { message, details },
        AppError::Refused { code, .. } => AppError::Refused {
            code,
            message,
            details,
        },
        // Errors that are only a code and a sentence keep their kind; the file's refusal carries
        // the details.
        other => AppError::Rows {
            first: Box::new(other),
            message,
            details,
        },
    }
}
