//! A budget's evidence pack for an auditor: a zip holding a statement CSV for each of the
//! budget's accounts, every evidence file of the budget's payments in the period (named by
//! payment), `purged.csv` for files whose bytes were purged past retention (name, SHA-256, size,
//! when, policy version), and `manifest.csv` with the SHA-256 and size of every other file.

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use uuid::Uuid;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::csv;
use super::file::{sha256_hex, MediaType};
use super::retention;
use super::store::EvidenceStore;
use crate::auth::{Actor, Role};
use crate::budgets::accounts;
use crate::budgets::budget::load::visible;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, statement::MAX_LIMIT};

/// Council staff who may take a budget's evidence pack.
pub const PACK_ROLES: &[Role] = &[Role::CareManager, Role::FinanceOfficer, Role::Auditor];

struct Pack {
    zip: ZipWriter<Cursor<Vec<u8>>>,
    manifest: String,
}

impl Pack {
    fn new() -> Self {
        Pack {
            zip: ZipWriter::new(Cursor::new(Vec::new())),
            manifest: csv::line(["file", "sha256", "size"]),
        }
    }

    fn add(&mut self, name: &str, bytes: &[u8]) -> AppResult<()> {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        self.zip.start_file(name, options).map_err(zip_error)?;
        self.zip.write_all(bytes).map_err(zip_error)?;
        self.manifest.push_str(&csv::line([
            name.to_owned(),
            sha256_hex(bytes),
            bytes.len().to_string(),
        ]));
        Ok(())
    }

    fn finish(mut self) -> AppResult<Vec<u8>> {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        self.zip
            .start_file("manifest.csv", options)
            .map_err(zip_error)?;
        self.zip
            .write_all(self.manifest.as_bytes())
            .map_err(zip_error)?;
        Ok(self.zip.finish().map_err(zip_error)?.into_inner())
    }
}

fn zip_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("evidence pack: {e}"))
}

/// The zip's bytes for `budget_id`, statements and evidence dated `from..=to` (either open).
pub async fn evidence_pack<'a>(
    tx: &'a Tx<'a>,
    store: &dyn EvidenceStore,
    actor: &Actor,
    budget_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Vec<u8>> {
    actor.require(PACK_ROLES)?;
    let budget = visible(tx, actor, budget_id).await?;
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(AppError::invalid("to", "on or after `from`"));
        }
    }
    let mut pack = Pack::new();
    for account in accounts::of_budget(tx, actor.council_id, budget.id).await? {
        let name = match account.deployment {
            Some(deployment) => format!("statements/{}-{}.csv", deployment.as_str(), account.id),
            None => format!("statements/{}-{}.csv", account.purpose, account.id),
        };
        let mut text = csv::line([
            "effective_date",
            "entry_id",
            "description",
            "debit",
            "credit",
            "balance",
            "reverses",
        ]);
        let mut cursor: Option<String> = None;
        loop {
            let page = ledger::statement(
                tx,
                actor.council_id,
                account.id,
                from,
                to,
                cursor.as_deref(),
                MAX_LIMIT,
            )
            .await?;
            for l in &page.lines {
                let amount = format!("{:.2}", l.amount);
                let (debit, credit) = match l.side {
                    ledger::Side::Debit => (amount, String::new()),
                    ledger::Side::Credit => (String::new(), amount),
                };
                text.push_str(&csv::line([
                    l.effective_date.to_string(),
                    l.entry_id.to_string(),
                    l.description.clone(),
                    debit,
                    credit,
                    format!("{:.2}", l.balance),
                    l.reverses.map(|r| r.to_string()).unwrap_or_default(),
                ]));
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        pack.add(&name, text.as_bytes())?;
    }
    let rows = tx
        .query(
            "SELECT v.payment_id, v.kind, v.sha256, v.content_type
             FROM payment_evidence v
             JOIN payments p ON p.council_id = v.council_id AND p.id = v.payment_id
             LEFT JOIN ledger_entries e ON e.council_id = p.council_id AND e.id = p.posted_entry_id
             WHERE v.council_id = $1 AND p.budget_id = $2
               AND ($3::date IS NULL OR coalesce(e.effective_date, p.service_date) >= $3)
               AND ($4::date IS NULL OR coalesce(e.effective_date, p.service_date) <= $4)
             ORDER BY v.payment_id, v.attached_at, v.sha256",
            &[&actor.council_id, &budget.id, &from, &to],
        )
        .await?;
    let mut purged = csv::line([
        "file",
        "sha256",
        "size",
        "purged_at",
        "policy_version",
        "retention_years",
    ]);
    for row in &rows {
        let payment_id: Uuid = row.try_get(0)?;
        let kind: &str = row.try_get(1)?;
        let sha256: &str = row.try_get(2)?;
        let content_type: &str = row.try_get(3)?;
        let extension = MediaType::from_header(content_type).map_or("bin", MediaType::extension);
        let name = format!("evidence/{payment_id}-{kind}-{}.{extension}", &sha256[..12]);
        // A file past retention has no bytes left: `purged.csv` says what was there.
        if let Some(bytes) = store.get(tx, actor.council_id, sha256).await? {
            pack.add(&name, &bytes)?;
        } else if let Some(p) = retention::purge_of(tx, actor.council_id, sha256).await? {
            purged.push_str(&csv::line([
                name,
                p.sha256,
                p.size.to_string(),
                p.purged_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                p.policy_version.to_string(),
                p.retention_years.to_string(),
            ]));
        }
    }
    if purged.lines().count() > 1 {
        pack.add("purged.csv", purged.as_bytes())?;
    }
    pack.finish()
}
