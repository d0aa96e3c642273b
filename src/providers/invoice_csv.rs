//! Invoices as CSV (`POST /api/v1/invoices/import`, `allot import invoices FILE`): one row per
//! invoice line, read into the same [`NewInvoice`] that `POST /api/v1/invoices` takes, so the
//! same checks apply. Pure: bytes in, invoices (with the rows they came from) out.
//!
//! The header names the columns, in any order (case and surrounding spaces ignored; a UTF-8
//! byte-order mark is skipped): `budget_id`, `deployment`, `payee_id`, `category`,
//! `invoice_number`, `issued_on`, `description`, `quantity`, `unit_price`, `total`, and
//! optionally `due_on`, `period_from`, `period_to`. A missing or unknown column, a column twice,
//! a row with more or fewer fields than the header, text that is not UTF-8, or more than
//! [`MAX_ROWS`] rows refuses the whole file (400 naming the column or row).
//!
//! The rows with the same `payee_id` and `invoice_number` are the lines of one invoice (they
//! need not be next to each other); they must agree on the invoice's columns. `total` is the
//! invoice's total, on every row or on its first only. Rows are numbered as a spreadsheet shows
//! them: the header is row 1. A row that cannot be read refuses its whole invoice: an invoice is
//! recorded with all its lines or not at all.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::csv_columns::columns;
use super::invoices::{NewInvoice, NewInvoiceLine};
use crate::error::{AppError, AppResult, Detail};
use crate::money::PositiveMoney;

/// Most rows one file may have.
pub const MAX_ROWS: usize = 2000;

/// Columns every file has.
pub const REQUIRED: [&str; 10] = [
    "budget_id",
    "deployment",
    "payee_id",
    "category",
    "invoice_number",
    "issued_on",
    "description",
    "quantity",
    "unit_price",
    "total",
];

/// Columns a file may leave out (or leave empty).
pub const OPTIONAL: [&str; 3] = ["due_on", "period_from", "period_to"];

/// One invoice read from the file: its rows, and the invoice or why it cannot be recorded.
#[derive(Debug)]
pub struct ParsedInvoice {
    /// Its rows, in file order (the header is row 1).
    pub rows: Vec<usize>,
    pub invoice_number: Option<String>,
    pub invoice: Result<NewInvoice, AppError>,
}

/// A file read: its invoices in the order their first rows come, and how many rows it had.
#[derive(Debug)]
pub struct ParsedFile {
    pub rows: usize,
    pub invoices: Vec<ParsedInvoice>,
}

/// Reads a CSV file of invoice lines. Errors are for the file as a whole; a row's problems
/// refuse only its invoice (see [`ParsedInvoice::invoice`]).
pub fn parse(bytes: &[u8]) -> AppResult<ParsedFile> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid(
            "file",
            "the file is empty: send a header row and one row per invoice line",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => return Err(unreadable(1, &e)),
        None => return Err(AppError::invalid("file", "the file has no header row")),
    };
    let columns = columns(&header, &REQUIRED, &OPTIONAL)?;
    let mut invoices: Vec<ParsedInvoice> = Vec::new();
    let mut by_key: HashMap<(Uuid, String), usize> = HashMap::new();
    let mut rows = 0;
    for (index, record) in records.enumerate() {
        let row = index + 2;
        let record = record.map_err(|e| unreadable(row, &e))?;
        if record.iter().all(|field| field.trim_ascii().is_empty()) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        rows += 1;
        if rows > MAX_ROWS {
            return Err(AppError::invalid(
                "file",
                format!("at most {MAX_ROWS} rows in one file; split it"),
            ));
        }
        if record.len() != columns.len() {
            return Err(AppError::invalid(
                "file",
                format!(
                    "row {row} has {} fields where the header has {}",
                    record.len(),
                    columns.len()
                ),
            ));
        }
        let mut fields: HashMap<&str, &str> = HashMap::with_capacity(columns.len());
        for (name, raw) in columns.iter().zip(record.iter()) {
            let text = std::str::from_utf8(raw).map_err(|_| {
                AppError::invalid(
                    "file",
                    format!("row {row}, column {name}: the file must be UTF-8 text"),
                )
            })?;
            fields.insert(name, text.trim());
        }
        let line = Row { row, fields };
        let key = line.key();
        let existing = key.as_ref().ok().and_then(|k| by_key.get(k).copied());
        match existing {
            Some(at) => {
                let parsed = &mut invoices[at];
                parsed.rows.push(row);
                if let Ok(invoice) = &mut parsed.invoice {
                    if let Err(e) = line.add_to(invoice) {
                        parsed.invoice = Err(e);
                    }
                }
            }
            None => {
                let invoice_number = line.get("invoice_number").map(str::to_owned);
                if let Ok(k) = &key {
                    by_key.insert(k.clone(), invoices.len());
                }
                invoices.push(ParsedInvoice {
                    rows: vec![row],
                    invoice_number,
                    invoice: key.and_then(|_| line.invoice()),
                });
            }
        }
    }
    if rows == 0 {
        return Err(AppError::invalid(
            "file",
            "the file has a header but no rows of invoice lines",
        ));
    }
    Ok(ParsedFile { rows, invoices })
}

fn unreadable(row: usize, e: &csv::Error) -> AppError {
    AppError::invalid("file", format!("row {row} is not well-formed CSV: {e}"))
}

/// One row's fields by column name.
struct Row<'a> {
    row: usize,
    fields: HashMap<&'a str, &'a str>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        self.fields.get(column).copied().filter(|t| !t.is_empty())
    }

    /// A problem with one of this row's columns (400 `invalid_request`).
    fn invalid(&self, column: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::Invalid {
            message: format!("Row {}, {column}: {message}", self.row),
            details: vec![at_row(Detail::field(column, message), self.row)],
        }
    }

    fn text(&self, column: &str) -> AppResult<&str> {
        let text = self
            .get(column)
            .ok_or_else(|| self.invalid(column, "must not be empty"))?;
        if let Some(found) = text
            .chars()
            .find(|c| crate::http::control_chars::is_refused(*c))
        {
            return Err(self.invalid(
                column,
                format!(
                    "{} (found U+{:04X})",
                    crate::http::control_chars::REASON,
                    u32::from(found)
                ),
            ));
        }
        Ok(text)
    }

    fn parsed<T: FromStr>(&self, column: &str, what: &str) -> AppResult<T> {
        self.text(column)?
            .parse()
            .map_err(|_| self.invalid(column, what.to_string()))
    }

    fn date(&self, column: &str) -> AppResult<Option<NaiveDate>> {
        if self.get(column).is_none() {
            return Ok(None);
        }
        let date: NaiveDate = self.parsed(column, "a date written YYYY-MM-DD")?;
        crate::dates::in_range(date)
            .map(Some)
            .map_err(|reason| self.invalid(column, reason))
    }

    fn money(&self, column: &str) -> AppResult<PositiveMoney> {
        PositiveMoney::parse(self.text(column)?).map_err(|e| {
            let message = e.to_string();
            AppError::InvalidAmount {
                message: format!("Row {}, {column}: {message}", self.row),
                details: vec![at_row(Detail::field(column, message), self.row)],
            }
        })
    }

    /// The invoice this row belongs to: its payee and invoice number.
    fn key(&self) -> AppResult<(Uuid, String)> {
        let payee: Uuid = self.parsed("payee_id", "an id (a UUID)")?;
        Ok((payee, self.text("invoice_number")?.to_owned()))
    }

    fn line(&self) -> AppResult<NewInvoiceLine> {
        let quantity = Decimal::from_str(self.text("quantity")?)
            .map_err(|_| self.invalid("quantity", "a number, like 7.5"))?;
        Ok(NewInvoiceLine {
            description: self.text("description")?.to_owned(),
            quantity,
            unit_price: self.money("unit_price")?,
        })
    }

    /// The invoice of which this row is the first line.
    fn invoice(&self) -> AppResult<NewInvoice> {
        let (payee_id, invoice_number) = self.key()?;
        Ok(NewInvoice {
            budget_id: self.parsed("budget_id", "an id (a UUID)")?,
            deployment: self.parsed(
                "deployment",
                "direct_payment, managed_account, isf or council_managed",
            )?,
            payee_id,
            category: self.parsed("category", "one of the plan categories (API.md)")?,
            invoice_number,
            issued_on: self
                .date("issued_on")?
                .ok_or_else(|| self.invalid("issued_on", "must not be empty"))?,
            due_on: self.date("due_on")?,
            period_from: self.date("period_from")?,
            period_to: self.date("period_to")?,
            lines: vec![self.line()?],
            total: self.money("total")?,
        })
    }

    /// Adds this row as a further line of `invoice`, whose columns it must repeat.
    fn add_to(&self, invoice: &mut NewInvoice) -> AppResult<()> {
        let same = [
            (
                "budget_id",
                self.parsed::<Uuid>("budget_id", "an id (a UUID)")? == invoice.budget_id,
            ),
            (
                "deployment",
                self.get("deployment") == Some(invoice.deployment.as_str()),
            ),
            (
                "category",
                self.get("category") == Some(invoice.category.as_str()),
            ),
            (
                "issued_on",
                self.date("issued_on")? == Some(invoice.issued_on),
            ),
            ("due_on", self.date("due_on")? == invoice.due_on),
            (
                "period_from",
                self.date("period_from")? == invoice.period_from,
            ),
            ("period_to", self.date("period_to")? == invoice.period_to),
            // The total may be left empty on all but the first line.
            (
                "total",
                self.get("total").is_none() || self.money("total")? == invoice.total,
            ),
        ];
        if let Some((column, _)) = same.iter().find(|(_, same)| !same) {
            return Err(self.invalid(
                column,
                format!(
                    "differs from the first line of invoice {}",
                    invoice.invoice_number
                ),
            ));
        }
        if invoice.lines.len() >= 200 {
            return Err(self.invalid("invoice_number", "an invoice has at most 200 lines"));
        }
        invoice.lines.push(self.line()?);
        Ok(())
    }
}

/// The detail with the row it concerns.
pub fn at_row(mut detail: Detail, row: usize) -> Detail {
    detail.row = Some(row);
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "budget_id,deployment,payee_id,category,invoice_number,issued_on,description,quantity,unit_price,total\n";

    fn row(number: &str, quantity: &str, price: &str, total: &str) -> String {
        format!(
            "{},managed_account,{},personal_care,{number},2025-02-08,Calls,{quantity},{price},{total}\n",
            Uuid::nil(),
            Uuid::from_u128(1)
        )
    }

    #[test]
    fn rows_of_one_invoice_are_its_lines() {
        let csv = format!(
            "{HEADER}{}{}{}",
            row("A-1", "5", "22.40", "168.00"),
            row("B-1", "1", "10", "10"),
            row("A-1", "2.5", "22.40", ""),
        );
        let file = parse(csv.as_bytes()).unwrap();
        assert_eq!(file.rows, 3);
        assert_eq!(file.invoices.len(), 2);
        assert_eq!(file.invoices[0].rows, vec![2, 4]);
        let a = file.invoices[0].invoice.as_ref().unwrap();
        assert_eq!(a.lines.len(), 2);
        assert_eq!(a.total.amount(), Decimal::new(16800, 2));
    }

    #[test]
    fn the_header_must_name_every_column_and_no_others() {
        let missing = parse(b"budget_id,deployment\n1,2\n").unwrap_err();
        assert!(missing.to_string().contains("payee_id"), "{missing}");
        let unknown = parse(HEADER.replace("total", "totl").as_bytes());
        assert!(unknown.unwrap_err().to_string().contains("totl"));
        let twice = HEADER.replace("\n", ",total\n");
        assert!(parse(twice.as_bytes()).is_err());
        assert!(parse(b"").is_err());
        assert!(parse(HEADER.as_bytes()).is_err());
    }

    #[test]
    fn bad_amounts_and_text_refuse_their_invoice() {
        for (price, code) in [
            ("1.234", "invalid_amount"),
            ("-5", "invalid_amount"),
            ("100000000", "invalid_amount"),
            ("abc", "invalid_amount"),
        ] {
            let csv = format!("{HEADER}{}", row("A-1", "1", price, "1"));
            let file = parse(csv.as_bytes()).unwrap();
            let error = file.invoices[0].invoice.as_ref().unwrap_err();
            assert_eq!(error.code(), code, "{price}");
            assert_eq!(error.details()[0].row, Some(2));
        }
        let csv = format!("{HEADER}{}", row("A\u{1b}1", "1", "1", "1"));
        let file = parse(csv.as_bytes()).unwrap();
        assert_eq!(
            file.invoices[0].invoice.as_ref().unwrap_err().code(),
            "invalid_request"
        );
        // A later line that disagrees with the first refuses the invoice.
        let csv = format!(
            "{HEADER}{}{}",
            row("A-1", "1", "1", "2"),
            row("A-1", "1", "1", "3")
        );
        let file = parse(csv.as_bytes()).unwrap();
        let error = file.invoices[0].invoice.as_ref().unwrap_err();
        assert_eq!(error.details()[0].field.as_deref(), Some("total"));
        assert_eq!(error.details()[0].row, Some(3));
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_refuse_the_file() {
        let csv = format!("{HEADER}a,b,c\n");
        assert!(parse(csv.as_bytes()).is_err());
    }
}
