//! Account statements: posted lines in effective-date order with the running balance, paged by
//! an opaque cursor (`date.seq.leg` of the last line given). The opening balance of a page is one
//! index range sum over the legs before it, so every page costs the same however deep it is.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::error::LedgerError;
use super::types::Side;
use crate::db::Tx;

/// Most lines in one page.
pub const MAX_LIMIT: u32 = 500;

/// One line of a statement: a leg on the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementLine {
    pub entry_id: Uuid,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    pub side: Side,
    pub amount: Decimal,
    /// The posted balance after this line (credits − debits).
    pub balance: Decimal,
    pub reverses: Option<Uuid>,
}

/// A page of a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementPage {
    /// The balance before the first line of this page.
    pub opening_balance: Decimal,
    pub lines: Vec<StatementLine>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Position of a line: (effective date, entry seq, leg number).
type Position = (NaiveDate, i64, i16);

fn parse_cursor(cursor: &str) -> Option<Position> {
    let mut parts = cursor.split('.');
    let date = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
    let seq = parts.next()?.parse().ok()?;
    let leg = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((date, seq, leg))
}

fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn latest() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Lines of `account_id` dated `from..=to` (either open), after `cursor`, at most `limit`.
pub async fn statement(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<StatementPage, LedgerError> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(LedgerError::invalid(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(LedgerError::invalid("from", "must not be after `to`"));
        }
    }
    let start = from.unwrap_or_else(earliest).max(earliest());
    let after: Position = match cursor {
        Some(c) => parse_cursor(c)
            .ok_or_else(|| LedgerError::invalid("cursor", "not a cursor this API gave"))?
            .max((start, i64::MIN, i16::MIN)),
        None => (start, i64::MIN, i16::MIN),
    };
    let to = to.unwrap_or_else(latest).min(latest());
    let fetch = i64::from(limit) + 1;
    let stmt = tx.prepare_cached(PAGE).await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &council_id,
                &account_id,
                &after.0,
                &after.1,
                &after.2,
                &to,
                &fetch,
            ],
        )
        .await?;
    let first = rows.first().ok_or(LedgerError::AccountNotFound)?;
    let opening_balance: Decimal = first.get(0);
    let mut balance = opening_balance;
    let mut lines = Vec::new();
    let mut next_cursor = None;
    let mut last_position: Option<Position> = None;
    for row in rows
        .iter()
        .filter(|r| r.get::<_, Option<Uuid>>(1).is_some())
    {
        if lines.len() == limit as usize {
            // A line beyond the page exists: the next page starts after the last one given.
            next_cursor =
                last_position.map(|(d, s, l)| format!("{}.{s}.{l}", d.format("%Y-%m-%d")));
            break;
        }
        let side_code: String = row.get(3);
        let side = Side::from_code(&side_code)
            .ok_or_else(|| LedgerError::Internal(format!("unknown side {side_code:?}")))?;
        let amount: Decimal = row.get(4);
        balance += side.signed(amount);
        last_position = Some((row.get(5), row.get(6), row.get(7)));
        lines.push(StatementLine {
            entry_id: row.get(1),
            recorded_at: row.get(2),
            side,
            amount,
            effective_date: row.get(5),
            description: row.get(8),
            reverses: row.get(9),
            balance,
        });
    }
    Ok(StatementPage {
        opening_balance,
        lines,
        next_cursor,
    })
}

/// The account (no row: not found), its balance before the page, then the page's lines.
const PAGE: &str = "
WITH acc AS (
    SELECT a.council_id, a.id FROM ledger_accounts a WHERE a.council_id = $1 AND a.id = $2
), opening AS (
    SELECT coalesce(sum(CASE l.side WHEN 'C' THEN l.amount ELSE -l.amount END), 0) AS balance
    FROM ledger_legs l, acc
    WHERE l.council_id = acc.council_id AND l.account_id = acc.id AND NOT l.pending
      AND (l.effective_date, l.entry_seq, l.leg_no) <= ($3, $4, $5)
), page AS (
    SELECT l.entry_id, e.recorded_at, l.side, l.amount, l.effective_date, l.entry_seq, l.leg_no,
           e.description, e.reverses
    FROM ledger_legs l
    JOIN acc ON l.council_id = acc.council_id AND l.account_id = acc.id
    JOIN ledger_entries e ON e.council_id = l.council_id AND e.id = l.entry_id
    WHERE NOT l.pending AND (l.effective_date, l.entry_seq, l.leg_no) > ($3, $4, $5)
      AND l.effective_date <= $6
    ORDER BY l.effective_date, l.entry_seq, l.leg_no
    LIMIT $7
)
SELECT opening.balance, page.entry_id, page.recorded_at, page.side, page.amount,
       page.effective_date, page.entry_seq, page.leg_no, page.description, page.reverses
FROM acc CROSS JOIN opening LEFT JOIN page ON true
ORDER BY page.effective_date, page.entry_seq, page.leg_no";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let date = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
        assert_eq!(parse_cursor("2025-04-01.42.2"), Some((date, 42, 2)));
        for bad in [
            "",
            "x",
            "2025-04-01.42",
            "2025-04-01.42.2.1",
            "2025-13-01.1.1",
            "2025-04-01.a.1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }
}
