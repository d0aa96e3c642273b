//! Bank statements of client accounts: imported (camt.053), matched to the ledger's postings of
//! the account (see [`super::matcher`] for the rule), matched and unmatched by a person, and the
//! difference between the bank's closing balance and the ledger's explained by what is unmatched.
//!
//! Who: the staff of the organisation holding the account (a managed-account provider, an ISF
//! provider); other roles 403, an account their organisation does not hold 404.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::bank_csv;
use super::matcher;
use crate::auth::{Actor, Role};
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult};
use crate::formats::camt053::{self, Statement, StatementLine};
use crate::money::Money;

/// One line of a statement, with what it is matched to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub id: Uuid,
    pub line_no: i32,
    /// `credit` (money in) or `debit` (money out).
    pub direction: String,
    #[schema(value_type = String)]
    pub amount: Money,
    pub booked_on: NaiveDate,
    pub value_on: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub bank_reference: Option<String>,
    pub remittance: Option<String>,
    pub counterparty: Option<String>,
    /// The ledger entry it is matched to.
    pub posting_id: Option<Uuid>,
    /// `reference`, `amount_and_date`, `contribution` (money in recorded as an expected
    /// contribution) or `person`.
    pub matched_by: Option<String>,
}

/// A posting of the account no bank line is matched to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostingView {
    pub posting_id: Uuid,
    pub direction: String,
    #[schema(value_type = String)]
    pub amount: Money,
    pub effective_date: NaiveDate,
    pub description: String,
}

/// A statement with its reconciliation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub id: Uuid,
    pub account_id: Uuid,
    /// `camt.053.001.02`, `camt.053.001.08`, `csv.barclays`, `csv.lloyds`, `csv.natwest`, or `csv`
    /// (a column mapping).
    pub format: String,
    /// The bank's statement id (`CSV-` and the first 16 hex digits of the SHA-256 of a CSV file).
    pub statement_ref: String,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub opening_balance: Money,
    #[schema(value_type = String)]
    pub closing_balance: Money,
    pub lines: Vec<LineView>,
    /// Lines of this statement matched to a posting.
    pub matched: usize,
    /// Lines of this statement left for a person.
    pub unmatched: usize,
    /// The ledger's posted balance of the account at the statement's last day.
    #[schema(value_type = String)]
    pub ledger_balance: Money,
    /// Closing balance − ledger balance.
    #[schema(value_type = String)]
    pub difference: Money,
    /// Money in less money out of every unmatched bank line of the account, up to this statement.
    #[schema(value_type = String)]
    pub unmatched_lines_total: Money,
    /// The same of the account's unmatched postings up to the statement's last day.
    #[schema(value_type = String)]
    pub unmatched_postings_total: Money,
    /// What the unmatched items do not explain: difference − (unmatched lines − unmatched
    /// postings). Zero when the account was reconciled from its start.
    #[schema(value_type = String)]
    pub unexplained: Money,
    /// Postings of the account up to the statement's last day that no bank line is matched to.
    pub unmatched_postings: Vec<PostingView>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn money(value: Decimal) -> AppResult<Money> {
    Money::new(value).map_err(internal)
}

/// Refuses anyone but the staff of the organisation holding `account_id` (403 for other roles,
/// 404 for an account their organisation does not hold).
pub async fn require_account(tx: &Tx<'_>, actor: &Actor, account_id: Uuid) -> AppResult<()> {
    actor.require(&[Role::ProviderStaff])?;
    let held = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM budget_accounts a
                                WHERE a.council_id = $1 AND a.account_id = $2
                                  AND a.purpose = 'deployment' AND a.holder_organisation_id = $3
                                  AND can_see_budget($1, $4, a.budget_id))",
            )
            .await?,
            &[
                &actor.council_id,
                &account_id,
                &actor.organisation_id,
                &actor.user_id,
            ],
        )
        .await?
        .try_get::<_, bool>(0)?;
    if held {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Reads a camt.053 statement (400 naming the element when it cannot; 422
/// `statement_does_not_balance` when opening + credits − debits ≠ closing).
pub fn read(xml: &[u8]) -> AppResult<Statement> {
    let statement = camt053::parse(xml).map_err(|e| {
        AppError::invalid(
            &e.element,
            format!("{} (the statement must be a valid camt.053)", e.reason),
        )
    })?;
    if !statement.balances() {
        let moved = statement.closing_balance - statement.opening_balance;
        return Err(AppError::refused(
            "statement_does_not_balance",
            format!(
                "The opening balance {:.2} plus credits less debits of the booked entries does not \
                 come to the closing balance {:.2} (the entries move {moved:.2}).",
                statement.opening_balance, statement.closing_balance
            ),
        ));
    }
    Ok(statement)
}

/// What kind of file a statement came in.
#[derive(Debug, Clone)]
pub enum Source {
    /// ISO 20022 camt.053 (XML).
    Camt053,
    /// A bank's CSV export (see [`bank_csv`]).
    Csv(Box<bank_csv::Options>),
}

/// Told how many of the statement's lines have been recorded, out of how many.
pub type Progress = std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>;

/// A statement as read, whatever its format.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub format: String,
    pub statement_ref: String,
    pub sequence: Decimal,
    pub account: Option<String>,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    pub opening_balance: Decimal,
    pub closing_balance: Decimal,
    pub lines: Vec<StatementLine>,
}

/// Reads a statement of either kind (400 naming what is wrong, 422
/// `statement_does_not_balance`), with the SHA-256 of its bytes.
pub fn read_any(bytes: &[u8], source: &Source) -> AppResult<(Incoming, Vec<u8>)> {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec();
    let incoming = match source {
        Source::Camt053 => {
            let s = read(bytes)?;
            Incoming {
                format: s.version.as_str().to_owned(),
                statement_ref: s.id,
                sequence: s.sequence,
                account: s.account,
                from_date: s.from_date,
                to_date: s.to_date,
                opening_balance: s.opening_balance,
                closing_balance: s.closing_balance,
                lines: s.lines,
            }
        }
        Source::Csv(options) => {
            let s = bank_csv::parse(bytes, options)?;
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            Incoming {
                format: s.format,
                statement_ref: format!("CSV-{hex}"),
                sequence: Decimal::ZERO,
                account: s.account,
                from_date: s.from_date,
                to_date: s.to_date,
                opening_balance: s.opening_balance,
                closing_balance: s.closing_balance,
                lines: s.lines,
            }
        }
    };
    Ok((incoming, digest))
}

/// Imports a camt.053 statement for a client account and matches its lines (201). The same
/// statement again (its id and sequence, or its content) is 409 `statement_already_imported`.
pub async fn import(
    pool: &DbPool,
    actor: &Actor,
    account_id: Uuid,
    xml: &[u8],
    now: DateTime<Utc>,
) -> AppResult<StatementView> {
    import_from(
        pool,
        actor,
        account_id,
        xml,
        &Source::Camt053,
        now,
        std::sync::Arc::new(|_, _| {}),
    )
    .await
}

/// Imports a statement of either kind (see [`import`]); `progress` hears after each line.
pub async fn import_from(
    pool: &DbPool,
    actor: &Actor,
    account_id: Uuid,
    bytes: &[u8],
    source: &Source,
    now: DateTime<Utc>,
    progress: Progress,
) -> AppResult<StatementView> {
    actor.require(&[Role::ProviderStaff])?;
    let (incoming, digest) = read_any(bytes, source)?;
    let incoming = std::sync::Arc::new(incoming);
    crate::commands::write(pool, actor.council_id, move |tx| {
        let (actor, incoming, digest, progress) = (
            actor.clone(),
            incoming.clone(),
            digest.clone(),
            progress.clone(),
        );
        Box::pin(async move {
            require_account(tx, &actor, account_id).await?;
            let id = insert(tx, &actor, account_id, &incoming, &digest, now, &progress).await?;
            auto_match(tx, &actor, account_id, id, now).await?;
            view_of(tx, actor.council_id, id).await
        })
    })
    .await
}

async fn insert(
    tx: &Tx<'_>,
    actor: &Actor,
    account_id: Uuid,
    statement: &Incoming,
    digest: &[u8],
    now: DateTime<Utc>,
    progress: &Progress,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    let inserted = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO bank_statements (council_id, id, account_id, format, statement_ref,
                     sequence, content_sha256, bank_account, from_date, to_date, opening_balance,
                     closing_balance, imported_by, imported_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT DO NOTHING",
            )
            .await?,
            &[
                &actor.council_id,
                &id,
                &account_id,
                &statement.format,
                &statement.statement_ref,
                &statement.sequence,
                &digest,
                &statement
                    .account
                    .as_deref()
                    .map(|a| a.chars().take(70).collect::<String>()),
                &statement.from_date,
                &statement.to_date,
                &statement.opening_balance,
                &statement.closing_balance,
                &actor.user_id,
                &now,
            ],
        )
        .await?;
    if inserted == 0 {
        let what = if statement.format.starts_with("csv") {
            "A statement with the same content".to_owned()
        } else {
            format!(
                "Statement {} (sequence {}) of this account, or one with the same content,",
                statement.statement_ref, statement.sequence
            )
        };
        return Err(AppError::Conflict {
            code: "statement_already_imported",
            message: format!("{what} is already imported; nothing was added."),
        });
    }
    let insert_line = tx
        .prepare_cached(
            "INSERT INTO bank_statement_lines (council_id, id, statement_id, account_id, line_no,
                 direction, amount, booked_on, value_on, end_to_end_id, bank_reference,
                 remittance, counterparty)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .await?;
    let total = statement.lines.len();
    progress(0, total);
    for (i, line) in statement.lines.iter().enumerate() {
        let line_no = i32::try_from(i + 1).map_err(internal)?;
        tx.execute(
            &insert_line,
            &[
                &actor.council_id,
                &Uuid::new_v4(),
                &id,
                &account_id,
                &line_no,
                &line.direction.as_str(),
                &line.amount,
                &line.booked_on,
                &line.value_on,
                &line.end_to_end_id,
                &line.bank_reference,
                &line.remittance,
                &line.counterparty,
            ],
        )
        .await?;
        progress(i + 1, total);
    }
    Ok(id)
}

/// Unmatched postings of the account (up to `through` when given), with their references.
const UNMATCHED_POSTINGS: &str = "
SELECT l.entry_id, l.side, l.amount, l.effective_date, e.description,
       array_remove(ARRAY[
           l.entry_id::text,
           replace(l.entry_id::text, '-', ''),
           (SELECT p.id::text FROM payments p
            WHERE p.council_id = l.council_id AND p.posted_entry_id = l.entry_id LIMIT 1),
           (SELECT c.id::text FROM contributions c
            WHERE c.council_id = l.council_id AND c.entry_id = l.entry_id LIMIT 1),
           (SELECT substr(replace(r.run_id::text, '-', ''), 1, 12) || '-' || r.line_no
            FROM payment_run_lines r
            WHERE r.council_id = l.council_id AND r.entry_id = l.entry_id LIMIT 1),
           (SELECT r.payment_reference FROM payment_run_lines r
            WHERE r.council_id = l.council_id AND r.entry_id = l.entry_id LIMIT 1)
       ], NULL) AS refs
FROM ledger_legs l
JOIN ledger_entries e ON e.council_id = l.council_id AND e.id = l.entry_id
WHERE l.council_id = $1 AND l.account_id = $2 AND NOT l.pending
  AND ($3::date IS NULL OR l.effective_date <= $3)
  AND NOT EXISTS (SELECT 1 FROM bank_statement_lines b
                  WHERE b.council_id = l.council_id AND b.account_id = l.account_id
                    AND b.matched_entry_id = l.entry_id)
ORDER BY l.effective_date, l.entry_seq, l.leg_no
LIMIT 5000";

async fn unmatched_postings(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
    through: Option<NaiveDate>,
) -> AppResult<Vec<(matcher::Posting, String)>> {
    let rows = tx
        .query(
            &tx.prepare_cached(UNMATCHED_POSTINGS).await?,
            &[&council_id, &account_id, &through],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let side: &str = row.try_get("side")?;
            Ok((
                matcher::Posting {
                    entry_id: row.try_get("entry_id")?,
                    credit: side == "C",
                    amount: row.try_get("amount")?,
                    effective_date: row.try_get("effective_date")?,
                    references: row.try_get("refs")?,
                },
                row.try_get("description")?,
            ))
        })
        .collect()
}

/// Matches the statement's unmatched lines to the account's unmatched postings.
async fn auto_match(
    tx: &Tx<'_>,
    actor: &Actor,
    account_id: Uuid,
    statement_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let council_id = actor.council_id;
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT id, direction, amount, booked_on, end_to_end_id, bank_reference, remittance
                 FROM bank_statement_lines
                 WHERE council_id = $1 AND statement_id = $2 AND matched_entry_id IS NULL
                 ORDER BY line_no",
            )
            .await?,
            &[&council_id, &statement_id],
        )
        .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        let direction: &str = row.try_get("direction")?;
        let texts = ["end_to_end_id", "bank_reference", "remittance"]
            .iter()
            .map(|c| row.try_get::<_, Option<String>>(*c))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        ids.push(row.try_get::<_, Uuid>("id")?);
        lines.push(matcher::Line {
            credit: direction == "credit",
            amount: row.try_get("amount")?,
            booked_on: row.try_get("booked_on")?,
            texts,
        });
    }
    let postings: Vec<matcher::Posting> = unmatched_postings(tx, council_id, account_id, None)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let update = tx
        .prepare_cached(
            "UPDATE bank_statement_lines
             SET matched_entry_id = $3, matched_by = $4, matched_at = $5
             WHERE council_id = $1 AND id = $2",
        )
        .await?;
    for (i, found) in matcher::match_lines(&lines, &postings)
        .into_iter()
        .enumerate()
    {
        if let Some((j, how)) = found {
            tx.execute(
                &update,
                &[
                    &council_id,
                    &ids[i],
                    &postings[j].entry_id,
                    &how.as_str(),
                    &now,
                ],
            )
            .await?;
        }
    }
    // Money in left over may be a contribution the person was expected to pay.
    super::expected::match_lines(tx, actor, account_id, statement_id, now).await
}

/// A statement with its reconciliation (no reach check).
async fn view_of(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<StatementView> {
    let head = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT s.account_id, s.format, s.statement_ref, s.from_date, s.to_date,
                        s.opening_balance, s.closing_balance,
                        coalesce(s.to_date, (SELECT max(booked_on) FROM bank_statement_lines b
                                             WHERE b.council_id = s.council_id
                                               AND b.statement_id = s.id)) AS through
                 FROM bank_statements s WHERE s.council_id = $1 AND s.id = $2",
            )
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let account_id: Uuid = head.try_get("account_id")?;
    let through: Option<NaiveDate> = head.try_get("through")?;
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT id, line_no, direction, amount, booked_on, value_on, end_to_end_id,
                        bank_reference, remittance, counterparty, matched_entry_id, matched_by
                 FROM bank_statement_lines WHERE council_id = $1 AND statement_id = $2
                 ORDER BY line_no",
            )
            .await?,
            &[&council_id, &id],
        )
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        lines.push(LineView {
            id: row.try_get("id")?,
            line_no: row.try_get("line_no")?,
            direction: row.try_get("direction")?,
            amount: money(row.try_get("amount")?)?,
            booked_on: row.try_get("booked_on")?,
            value_on: row.try_get("value_on")?,
            end_to_end_id: row.try_get("end_to_end_id")?,
            bank_reference: row.try_get("bank_reference")?,
            remittance: row.try_get("remittance")?,
            counterparty: row.try_get("counterparty")?,
            posting_id: row.try_get("matched_entry_id")?,
            matched_by: row.try_get("matched_by")?,
        });
    }
    let totals = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT
                   coalesce((SELECT sum(CASE WHEN side = 'C' THEN amount ELSE -amount END)
                             FROM ledger_legs
                             WHERE council_id = $1 AND account_id = $2 AND NOT pending
                               AND ($3::date IS NULL OR effective_date <= $3)), 0) AS ledger,
                   coalesce((SELECT sum(CASE WHEN b.direction = 'credit' THEN b.amount
                                             ELSE -b.amount END)
                             FROM bank_statement_lines b
                             JOIN bank_statements s ON s.council_id = b.council_id
                                                   AND s.id = b.statement_id
                             WHERE b.council_id = $1 AND b.account_id = $2
                               AND b.matched_entry_id IS NULL AND s.imported_at <= $4), 0)
                     AS unmatched_lines",
            )
            .await?,
            &[
                &council_id,
                &account_id,
                &through,
                &imported_at(tx, council_id, id).await?,
            ],
        )
        .await?;
    let postings = unmatched_postings(tx, council_id, account_id, through).await?;
    let unmatched_postings_total: Decimal = postings
        .iter()
        .map(|(p, _)| if p.credit { p.amount } else { -p.amount })
        .sum();
    let closing: Decimal = head.try_get("closing_balance")?;
    let ledger: Decimal = totals.try_get("ledger")?;
    let unmatched_lines: Decimal = totals.try_get("unmatched_lines")?;
    let difference = closing - ledger;
    let matched = lines.iter().filter(|l| l.posting_id.is_some()).count();
    Ok(StatementView {
        id,
        account_id,
        format: head.try_get("format")?,
        statement_ref: head.try_get("statement_ref")?,
        from_date: head.try_get("from_date")?,
        to_date: head.try_get("to_date")?,
        opening_balance: money(head.try_get("opening_balance")?)?,
        closing_balance: money(closing)?,
        unmatched: lines.len() - matched,
        matched,
        lines,
        ledger_balance: money(ledger)?,
        difference: money(difference)?,
        unmatched_lines_total: money(unmatched_lines)?,
        unmatched_postings_total: money(unmatched_postings_total)?,
        unexplained: money(difference - (unmatched_lines - unmatched_postings_total))?,
        unmatched_postings: postings
            .into_iter()
            .map(|(p, description)| {
                Ok(PostingView {
                    posting_id: p.entry_id,
                    direction: if p.credit { "credit" } else { "debit" }.into(),
                    amount: money(p.amount)?,
                    effective_date: p.effective_date,
                    description,
                })
            })
            .collect::<AppResult<_>>()?,
    })
}

async fn imported_at(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<DateTime<Utc>> {
    Ok(tx
        .query_one(
            &tx.prepare_cached(
                "SELECT imported_at FROM bank_statements WHERE council_id = $1 AND id = $2",
            )
            .await?,
            &[&council_id, &id],
        )
        .await?
        .try_get(0)?)
}

/// A statement the actor may see (404 otherwise).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<StatementView> {
    actor.require(&[Role::ProviderStaff])?;
    let view = view_of(tx, actor.council_id, id).await?;
    require_account(tx, actor, view.account_id).await?;
    Ok(view)
}

/// The statement and account of a line, locked, once the actor's reach is checked.
async fn line_for_update(
    tx: &Tx<'_>,
    actor: &Actor,
    line_id: Uuid,
) -> AppResult<tokio_postgres::Row> {
    actor.require(&[Role::ProviderStaff])?;
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT statement_id, account_id, direction, amount, matched_entry_id
                 FROM bank_statement_lines WHERE council_id = $1 AND id = $2 FOR UPDATE",
            )
            .await?,
            &[&actor.council_id, &line_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    require_account(tx, actor, row.try_get("account_id")?).await?;
    Ok(row)
}

/// A person matches a line to a posting of the same account, direction and amount that no other
/// line is matched to (409 when the line or the posting is already matched).
pub async fn match_line(
    tx: &Tx<'_>,
    actor: &Actor,
    line_id: Uuid,
    posting_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<StatementView> {
    let line = line_for_update(tx, actor, line_id).await?;
    if line
        .try_get::<_, Option<Uuid>>("matched_entry_id")?
        .is_some()
    {
        return Err(AppError::conflict(
            "This line is already matched: unmatch it first.",
        ));
    }
    let account_id: Uuid = line.try_get("account_id")?;
    let direction: &str = line.try_get("direction")?;
    let amount: Decimal = line.try_get("amount")?;
    let fits = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM ledger_legs
                                WHERE council_id = $1 AND entry_id = $2 AND account_id = $3
                                  AND NOT pending AND side = $4 AND amount = $5)",
            )
            .await?,
            &[
                &actor.council_id,
                &posting_id,
                &account_id,
                &if direction == "credit" { "C" } else { "D" },
                &amount,
            ],
        )
        .await?
        .try_get::<_, bool>(0)?;
    if !fits {
        return Err(AppError::invalid(
            "posting_id",
            "not a posting of this account with the line's amount and direction",
        ));
    }
    tx.execute(
        &tx.prepare_cached(
            "UPDATE bank_statement_lines
             SET matched_entry_id = $3, matched_by = 'person', matched_by_user = $4, matched_at = $5
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[
            &actor.council_id,
            &line_id,
            &posting_id,
            &actor.user_id,
            &now,
        ],
    )
    .await
    .map_err(|e| match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
            AppError::conflict("That posting is already matched to another bank line.")
        }
        _ => e.into(),
    })?;
    view_of(tx, actor.council_id, line.try_get("statement_id")?).await
}

/// Takes a line's match away, so it is listed as unmatched again (409 when it has none).
pub async fn unmatch_line(tx: &Tx<'_>, actor: &Actor, line_id: Uuid) -> AppResult<StatementView> {
    let line = line_for_update(tx, actor, line_id).await?;
    if line
        .try_get::<_, Option<Uuid>>("matched_entry_id")?
        .is_none()
    {
        return Err(AppError::conflict("This line is not matched."));
    }
    tx.execute(
        &tx.prepare_cached(
            "UPDATE bank_statement_lines
             SET matched_entry_id = NULL, matched_by = NULL, matched_by_user = NULL,
                 matched_at = NULL
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&actor.council_id, &line_id],
    )
    .await?;
    view_of(tx, actor.council_id, line.try_get("statement_id")?).await
}
