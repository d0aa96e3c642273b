//! Bank statements exported as CSV: the Barclays, Lloyds and NatWest export layouts, or any CSV
//! with a column mapping. Pure: bytes and options in, a [`CsvStatement`] out.
//!
//! The layouts, by their header rows (matched without regard to case or surrounding spaces; a
//! trailing empty heading and leading blank lines are ignored):
//!
//! * **Barclays** — `Number,Date,Account,Amount,Subcategory,Memo`: `Date` as `dd/mm/yyyy`,
//!   `Amount` signed (money out negative), `Memo` the payee or payer and reference. No balance
//!   column: the opening and closing balances are given with the request.
//! * **Lloyds** — `Transaction Date,Transaction Type,Sort Code,Account Number,Transaction
//!   Description,Debit Amount,Credit Amount,Balance`: money out in `Debit Amount`, money in in
//!   `Credit Amount`, `Balance` after the transaction; newest first.
//! * **NatWest** — `Date, Type, Description, Value, Balance, Account Name, Account Number`:
//!   `Value` signed, `Balance` after the transaction, text cells often led by `'` (a spreadsheet
//!   text marker, dropped here), dates as `dd/mm/yyyy` or `dd Mon yyyy`.
//!
//! Rows may run oldest or newest first (told by their dates, or by which way the balances chain
//! when every row has the same date). Where there is a balance column every row's balance must
//! follow from the one before and the row's amount; the opening balance is the first row's
//! balance less its amount and the closing balance the last row's. Rows of zero are left out (no
//! money moved). Rows are named by their line in the file (the header row is usually line 1).

use chrono::format::{Item, StrftimeItems};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult, Detail};
use crate::formats::camt053::{Direction, StatementLine};

/// Most rows a statement file may have.
pub const MAX_ROWS: usize = 10_000;

/// A bank's export layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Barclays,
    Lloyds,
    Natwest,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::Barclays, Layout::Lloyds, Layout::Natwest];

    pub fn parse(name: &str) -> Option<Layout> {
        match name.trim().to_ascii_lowercase().as_str() {
            "barclays" => Some(Layout::Barclays),
            "lloyds" => Some(Layout::Lloyds),
            "natwest" => Some(Layout::Natwest),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Barclays => "barclays",
            Layout::Lloyds => "lloyds",
            Layout::Natwest => "natwest",
        }
    }

    /// The export's header row.
    pub fn headings(self) -> &'static [&'static str] {
        match self {
            Layout::Barclays => &["Number", "Date", "Account", "Amount", "Subcategory", "Memo"],
            Layout::Lloyds => &[
                "Transaction Date",
                "Transaction Type",
                "Sort Code",
                "Account Number",
                "Transaction Description",
                "Debit Amount",
                "Credit Amount",
                "Balance",
            ],
            Layout::Natwest => &[
                "Date",
                "Type",
                "Description",
                "Value",
                "Balance",
                "Account Name",
                "Account Number",
            ],
        }
    }

    fn mapping(self) -> Mapping {
        let s = |v: &str| Some(v.to_owned());
        match self {
            Layout::Barclays => Mapping {
                date_column: "Date".into(),
                amount_column: s("Amount"),
                description_column: s("Memo"),
                account_column: s("Account"),
                ..Mapping::default()
            },
            Layout::Lloyds => Mapping {
                date_column: "Transaction Date".into(),
                debit_column: s("Debit Amount"),
                credit_column: s("Credit Amount"),
                description_column: s("Transaction Description"),
                balance_column: s("Balance"),
                account_column: s("Account Number"),
                ..Mapping::default()
            },
            Layout::Natwest => Mapping {
                date_column: "Date".into(),
                amount_column: s("Value"),
                description_column: s("Description"),
                balance_column: s("Balance"),
                account_column: s("Account Number"),
                ..Mapping::default()
            },
        }
    }
}

/// Which column holds what, by heading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub date_column: String,
    /// Signed: money in positive, money out negative.
    pub amount_column: Option<String>,
    /// Money out (its sign ignored); with `credit_column`, instead of `amount_column`.
    pub debit_column: Option<String>,
    pub credit_column: Option<String>,
    pub description_column: Option<String>,
    pub reference_column: Option<String>,
    pub balance_column: Option<String>,
    pub account_column: Option<String>,
    /// A chrono `strftime` format (`%d/%m/%Y`); without it `dd/mm/yyyy`, `yyyy-mm-dd`,
    /// `dd Mon yyyy` and `dd-mm-yyyy` are tried.
    pub date_format: Option<String>,
}

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The bank's layout; without it and without `mapping`, told from the header row.
    pub layout: Option<Layout>,
    pub mapping: Option<Mapping>,
    pub opening_balance: Option<Decimal>,
    pub closing_balance: Option<Decimal>,
}

/// A statement read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvStatement {
    /// `csv.barclays`, `csv.lloyds`, `csv.natwest` or `csv` (a mapping).
    pub format: String,
    pub account: Option<String>,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    pub opening_balance: Decimal,
    pub closing_balance: Decimal,
    /// Oldest first.
    pub lines: Vec<StatementLine>,
}

/// Whether `bytes` looks like XML rather than CSV (its first non-blank character is `<`).
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

fn at(row: usize, column: &str, message: impl Into<String>) -> AppError {
    let message = message.into();
    AppError::Invalid {
        message: format!("row {row}, {column}: {message}"),
        details: vec![Detail {
            row: Some(row),
            ..Detail::field(column, message)
        }],
    }
}

/// A cell as text: trimmed, without a leading `'` text marker.
fn clean(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('\'').unwrap_or(cell).trim()
}

fn norm(heading: &str) -> String {
    clean(heading).to_lowercase()
}

/// An amount of money as banks write it: `-1,234.50`, `£12.00`, `+3.1`. At most two places.
pub fn amount(text: &str) -> Result<Decimal, String> {
    let cleaned: String = clean(text)
        .chars()
        .filter(|c| !matches!(c, ',' | '£' | ' '))
        .collect();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (
            false,
            cleaned.strip_prefix('+').unwrap_or(&cleaned).to_owned(),
        ),
    };
    let (digits, negative) = match digits.strip_prefix('£') {
        Some(rest) => (rest.to_owned(), negative),
        None => (digits, negative),
    };
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(format!("{text:?} is not an amount of money"));
    }
    if digits.split('.').nth(1).is_some_and(|p| p.len() > 2) {
        return Err(format!("{text:?} has more than two decimal places"));
    }
    let value: Decimal = digits
        .parse()
        .map_err(|_| format!("{text:?} is not an amount of money"))?;
    if value >= Decimal::new(1_000_000_000_000, 0) {
        return Err(format!("{text:?} is too large"));
    }
    Ok(if negative { -value } else { value })
}

const DATE_FORMATS: [&str; 4] = ["%d/%m/%Y", "%Y-%m-%d", "%d %b %Y", "%d-%m-%Y"];

fn date(text: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    let text = clean(text);
    let parsed = match format {
        Some(format) => NaiveDate::parse_from_str(text, format).ok(),
        None => DATE_FORMATS
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(text, f).ok()),
    };
    match parsed {
        Some(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Ok(d),
        Some(_) => Err(format!("{text:?} is not a date between 2000 and 2100")),
        None => Err(match format {
            Some(f) => format!("{text:?} is not a date in the format {f:?}"),
            None => format!("{text:?} is not a date (dd/mm/yyyy, yyyy-mm-dd or dd Mon yyyy)"),
        }),
    }
}

/// The layout whose headings are all in `header`.
pub fn detect(header: &[String]) -> Option<Layout> {
    Layout::ALL.into_iter().find(|layout| {
        layout
            .headings()
            .iter()
            .all(|h| header.iter().any(|c| *c == norm(h)))
    })
}

struct Row {
    line: usize,
    on: NaiveDate,
    signed: Decimal,
    balance: Option<Decimal>,
    description: Option<String>,
    reference: Option<String>,
}

fn cell_text(cell: Option<&str>, max: usize) -> Option<String> {
    let cell = clean(cell?);
    (!cell.is_empty()).then(|| cell.chars().take(max).collect())
}

/// Reads a statement exported as CSV (see the module doc). 400 naming the column or the row and
/// column at fault; 422 `statement_does_not_balance` when the balances do not follow.
pub fn parse(bytes: &[u8], options: &Options) -> AppResult<CsvStatement> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| AppError::invalid("file", "the statement is not UTF-8 text"))?;
    // Lines ended with CR LF are read as ended with LF, so rows are named by their line.
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            AppError::invalid("file", format!("line {line}: not readable as CSV ({e})"))
        })?;
        if record.iter().all(|c| clean(c).is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        records.push((line, record));
        if records.len() > MAX_ROWS + 1 {
            return Err(AppError::invalid(
                "file",
                format!("more than {MAX_ROWS} rows: split the statement"),
            ));
        }
    }
    let mut records = records.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| AppError::invalid("file", "the file is empty: a header row is needed"))?;
    let mut header: Vec<String> = header.iter().map(norm).collect();
    while header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    let (format, mapping) = match (&options.layout, &options.mapping) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "layout",
                "give a layout or a column mapping, not both",
            ))
        }
        (Some(layout), None) => (format!("csv.{}", layout.as_str()), layout.mapping()),
        (None, Some(mapping)) => ("csv".to_owned(), mapping.clone()),
        (None, None) => {
            let layout = detect(&header).ok_or_else(|| {
                AppError::invalid(
                    "layout",
                    "the header row is not a Barclays, Lloyds or NatWest export: give \
                     `layout` or a column mapping (`date_column`, `amount_column` or \
                     `debit_column` and `credit_column`, …)",
                )
            })?;
            (format!("csv.{}", layout.as_str()), layout.mapping())
        }
    };
    if let Some(f) = &mapping.date_format {
        if f.trim().is_empty() || StrftimeItems::new(f).any(|i| matches!(i, Item::Error)) {
            return Err(AppError::invalid(
                "date_format",
                "not a date format (use strftime, e.g. %d/%m/%Y)",
            ));
        }
    }
    let column = |heading: &str| -> AppResult<usize> {
        let wanted = norm(heading);
        let mut found = header.iter().enumerate().filter(|(_, h)| **h == wanted);
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err(AppError::invalid(
                heading,
                format!("the column {heading:?} appears more than once in the header row"),
            )),
            (None, _) => Err(AppError::invalid(
                heading,
                format!("the column {heading:?} is missing from the header row"),
            )),
        }
    };
    let optional = |heading: &Option<String>| heading.as_deref().map(column).transpose();
    let date_at = column(&mapping.date_column)?;
    let amount_at = optional(&mapping.amount_column)?;
    let debit_at = optional(&mapping.debit_column)?;
    let credit_at = optional(&mapping.credit_column)?;
    let description_at = optional(&mapping.description_column)?;
    let reference_at = optional(&mapping.reference_column)?;
    let balance_at = optional(&mapping.balance_column)?;
    let account_at = optional(&mapping.account_column)?;

    let mut rows = Vec::new();
    let mut account = None;
    for (line, record) in records {
        let cell = |i: usize| record.get(i).unwrap_or("");
        let heading = |h: &Option<String>| h.clone().unwrap_or_default();
        let on = date(cell(date_at), mapping.date_format.as_deref())
            .map_err(|m| at(line, &mapping.date_column, m))?;
        let signed = match (amount_at, debit_at, credit_at) {
            (Some(i), _, _) => {
                amount(cell(i)).map_err(|m| at(line, &heading(&mapping.amount_column), m))?
            }
            (None, Some(d), Some(c)) => {
                let read = |i: usize, h: &Option<String>| {
                    let value = clean(cell(i));
                    if value.is_empty() {
                        Ok(Decimal::ZERO)
                    } else {
                        amount(value)
                            .map(|a| a.abs())
                            .map_err(|m| at(line, &heading(h), m))
                    }
                };
                let debit = read(d, &mapping.debit_column)?;
                let credit = read(c, &mapping.credit_column)?;
                if !debit.is_zero() && !credit.is_zero() {
                    return Err(at(
                        line,
                        &heading(&mapping.debit_column),
                        "both money out and money in on one row",
                    ));
                }
                if clean(cell(d)).is_empty() && clean(cell(c)).is_empty() {
                    return Err(at(
                        line,
                        &heading(&mapping.debit_column),
                        "no amount: neither money out nor money in",
                    ));
                }
                credit - debit
            }
            _ => {
                return Err(AppError::invalid(
                    "amount_column",
                    "give amount_column, or debit_column and credit_column",
                ))
            }
        };
        let balance = match balance_at {
            Some(i) => {
                Some(amount(cell(i)).map_err(|m| at(line, &heading(&mapping.balance_column), m))?)
            }
            None => None,
        };
        if account.is_none() {
            account = account_at.and_then(|i| cell_text(Some(cell(i)), 70));
        }
        rows.push(Row {
            line,
            on,
            signed,
            balance,
            description: description_at.and_then(|i| cell_text(Some(cell(i)), 500)),
            reference: reference_at.and_then(|i| cell_text(Some(cell(i)), 500)),
        });
    }
    // Oldest first: by the dates, else by which way the balances chain.
    let descending = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) if first.on != last.on => first.on > last.on,
        _ => balance_at.is_some() && !chains(rows.iter()) && chains(rows.iter().rev()),
    };
    if descending {
        rows.reverse();
    }
    let given = |value: Option<Decimal>, name: &str| {
        value.ok_or_else(|| {
            AppError::invalid(
                name,
                "required: the file has no balance column (or no rows) to take it from",
            )
        })
    };
    let moved: Decimal = rows.iter().map(|r| r.signed).sum();
    let (opening, closing) = match (balance_at, rows.first(), rows.last()) {
        (Some(_), Some(first), Some(last)) => {
            if let Some(bad) = first_break(&rows) {
                return Err(AppError::refused(
                    "statement_does_not_balance",
                    format!(
                        "row {}: the balance does not follow from the row before and this \
                         row's amount (a row missing or changed?)",
                        bad.line
                    ),
                ));
            }
            let opening = first.balance.unwrap_or_default() - first.signed;
            let closing = last.balance.unwrap_or_default();
            for (value, name, derived) in [
                (options.opening_balance, "opening_balance", opening),
                (options.closing_balance, "closing_balance", closing),
            ] {
                if value.is_some_and(|v| v != derived) {
                    return Err(AppError::refused(
                        "statement_does_not_balance",
                        format!("{name} given is not the file's: {derived:.2} by its balances"),
                    ));
                }
            }
            (opening, closing)
        }
        _ => {
            let opening = given(options.opening_balance, "opening_balance")?;
            let closing = given(options.closing_balance, "closing_balance")?;
            if opening + moved != closing {
                return Err(AppError::refused(
                    "statement_does_not_balance",
                    format!(
                        "The opening balance {opening:.2} plus money in less money out of the \
                         rows ({moved:.2}) does not come to the closing balance {closing:.2}."
                    ),
                ));
            }
            (opening, closing)
        }
    };
    let lines: Vec<StatementLine> = rows
        .iter()
        .filter(|r| !r.signed.is_zero())
        .map(|r| {
            let (bank_reference, extra) = match &r.reference {
                Some(reference) if reference.chars().count() <= 35 => {
                    (Some(reference.clone()), None)
                }
                other => (None, other.clone()),
            };
            let remittance = match (&r.description, extra) {
                (Some(d), Some(e)) => Some(format!("{d} {e}").chars().take(500).collect()),
                (Some(d), None) => Some(d.clone()),
                (None, e) => e,
            };
            StatementLine {
                direction: if r.signed > Decimal::ZERO {
                    Direction::Credit
                } else {
                    Direction::Debit
                },
                amount: r.signed.abs(),
                booked_on: r.on,
                value_on: None,
                end_to_end_id: None,
                bank_reference,
                remittance,
                counterparty: None,
            }
        })
        .collect();
    Ok(CsvStatement {
        format,
        account,
        from_date: rows.iter().map(|r| r.on).min(),
        to_date: rows.iter().map(|r| r.on).max(),
        opening_balance: opening,
        closing_balance: closing,
        lines,
    })
}

fn chains<'a>(rows: impl Iterator<Item = &'a Row>) -> bool {
    let mut previous: Option<Decimal> = None;
    for row in rows {
        if let (Some(before), Some(now)) = (previous, row.balance) {
            if before + row.signed != now {
                return false;
            }
        }
        previous = row.balance;
    }
    true
}

fn first_break(rows: &[Row]) -> Option<&Row> {
    rows.windows(2)
        .find_map(|pair| match (pair[0].balance, pair[1].balance) {
            (Some(before), Some(now)) if before + pair[1].signed != now => Some(&pair[1]),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_as_banks_write_them() {
        assert_eq!(amount("-1,234.50"), Ok(d("-1234.50")));
        assert_eq!(amount("£12"), Ok(d("12")));
        assert_eq!(amount("'+3.1"), Ok(d("3.1")));
        assert_eq!(amount("-£4.00"), Ok(d("-4.00")));
        assert!(amount("1.005").unwrap_err().contains("two decimal places"));
        for bad in ["", "abc", "1.2.3", "-", "1e5"] {
            assert!(amount(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn layouts_are_told_by_their_headers() {
        let header = |s: &str| s.split(',').map(norm).collect::<Vec<_>>();
        assert_eq!(
            detect(&header("Number,Date,Account,Amount,Subcategory,Memo")),
            Some(Layout::Barclays)
        );
        assert_eq!(
            detect(&header(
                "Date, Type, Description, Value, Balance, Account Name, Account Number"
            )),
            Some(Layout::Natwest)
        );
        assert_eq!(
            detect(&header("Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance")),
            Some(Layout::Lloyds)
        );
        assert_eq!(detect(&header("Date,Amount")), None);
    }

    #[test]
    fn newest_first_rows_with_balances_give_the_opening_and_closing() {
        let csv = "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance\n\
                   05/02/2025,DEB,'30-91-74,12345678,SHOP,10.00,,90.00\n\
                   03/02/2025,FPI,'30-91-74,12345678,COUNCIL,,100.00,100.00\n";
        let s = parse(csv.as_bytes(), &Options::default()).unwrap();
        assert_eq!(s.format, "csv.lloyds");
        assert_eq!((s.opening_balance, s.closing_balance), (d("0"), d("90.00")));
        assert_eq!(s.lines[0].direction, Direction::Credit);
        assert_eq!(s.lines[1].amount, d("10.00"));
        let broken = csv.replace("90.00\n", "91.00\n");
        let e = parse(broken.as_bytes(), &Options::default()).unwrap_err();
        assert_eq!(e.code(), "statement_does_not_balance");
    }
}
