//! Payroll results as CSV (`POST /api/v1/payroll-runs` with `Content-Type: text/csv`, and the
//! payroll page): one row per payslip, read into the same [`NewPayrollRun`] the JSON takes, so
//! the same service checks and pays it. Pure: bytes and the run's header in, the run out.
//!
//! The header names the columns, in any order (case and surrounding spaces ignored; a UTF-8
//! byte-order mark is skipped): `budget_id`, `payee_id`, `gross`, `tax`, `employee_ni`,
//! `employer_ni`, `employee_pension`, `employer_pension`, `net`, and optionally `deployment`
//! (empty: the caller's default). The period, pay date and the HMRC and pension payees are the
//! run's, given beside the file (query parameters of the API, fields of the page). A missing or
//! unknown column, a column twice, a row with more or fewer fields than the header, a field that
//! cannot be read, text that is not UTF-8 or more than [`MAX_ROWS`] rows refuses the whole file:
//! 400 naming the column or the row (the header is row 1).

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::csv_columns::{columns, shown};
use super::payroll::{NewPayrollRun, Payslip};
use crate::error::{AppError, AppResult, Detail};
use crate::money::Money;
use crate::rules::Deployment;

/// Most payslips one file may have (as a JSON run).
pub const MAX_ROWS: usize = 500;

/// Columns every file has.
pub const REQUIRED: [&str; 9] = [
    "budget_id",
    "payee_id",
    "gross",
    "tax",
    "employee_ni",
    "employer_ni",
    "employee_pension",
    "employer_pension",
    "net",
];

/// Columns a file may leave out (or leave empty).
pub const OPTIONAL: [&str; 1] = ["deployment"];

/// What the file does not say: the run's period, pay date and payees.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RunHeader {
    #[serde(with = "crate::dates")]
    pub period_start: NaiveDate,
    #[serde(with = "crate::dates")]
    pub period_end: NaiveDate,
    #[serde(with = "crate::dates")]
    pub pay_date: NaiveDate,
    pub hmrc_payee_id: Uuid,
    #[serde(default)]
    pub pension_payee_id: Option<Uuid>,
}

fn row_error(row: usize, field: &str, message: impl Into<String>) -> AppError {
    let message = message.into();
    AppError::Invalid {
        message: format!("Row {row}, {field}: {message}."),
        details: vec![Detail {
            row: Some(row),
            code: Some("invalid_request".into()),
            field: Some(field.to_owned()),
            rule: None,
            message,
        }],
    }
}

/// Reads a CSV file of payslips into a run (see the module).
pub fn parse(bytes: &[u8], header: RunHeader) -> AppResult<NewPayrollRun> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid(
            "file",
            "the file is empty: send a header row and one row per payslip",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let names = match records.next() {
        Some(Ok(h)) => columns(&h, &REQUIRED, &OPTIONAL)?,
        Some(Err(e)) => return Err(unreadable(1, &e)),
        None => return Err(AppError::invalid("file", "the file has no header row")),
    };
    let mut payslips = Vec::new();
    for (index, record) in records.enumerate() {
        let row = index + 2;
        let record = record.map_err(|e| unreadable(row, &e))?;
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        if payslips.len() == MAX_ROWS {
            return Err(AppError::invalid(
                "file",
                format!("at most {MAX_ROWS} payslips in one file; split it"),
            ));
        }
        if record.len() != names.len() {
            return Err(row_error(
                row,
                "file",
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    names.len()
                ),
            ));
        }
        let mut fields: HashMap<&str, &str> = HashMap::with_capacity(names.len());
        for (name, raw) in names.iter().zip(record.iter()) {
            let text = std::str::from_utf8(raw)
                .map_err(|_| row_error(row, name, "the file must be UTF-8 text"))?;
            fields.insert(name, text.trim());
        }
        payslips.push(payslip(row, &fields)?);
    }
    if payslips.is_empty() {
        return Err(AppError::invalid(
            "file",
            "the file has a header but no payslips",
        ));
    }
    Ok(NewPayrollRun {
        period_start: header.period_start,
        period_end: header.period_end,
        pay_date: header.pay_date,
        hmrc_payee_id: header.hmrc_payee_id,
        pension_payee_id: header.pension_payee_id,
        payslips,
    })
}

fn payslip(row: usize, fields: &HashMap<&str, &str>) -> AppResult<Payslip> {
    let text = |name: &str| fields.get(name).copied().unwrap_or_default();
    let id =
        |name: &str| Uuid::parse_str(text(name)).map_err(|_| row_error(row, name, "not an id"));
    let money = |name: &str| {
        Money::parse(text(name)).map_err(|_| {
            row_error(
                row,
                name,
                format!("\"{}\" is not an amount like 12.50", shown(text(name))),
            )
        })
    };
    let deployment = match text("deployment") {
        "" => None,
        d => Some(d.parse::<Deployment>().map_err(|_| {
            row_error(
                row,
                "deployment",
                "one of direct_payment, managed_account, isf, council_managed",
            )
        })?),
    };
    Ok(Payslip {
        budget_id: id("budget_id")?,
        deployment,
        payee_id: id("payee_id")?,
        gross: money("gross")?,
        tax: money("tax")?,
        employee_ni: money("employee_ni")?,
        employer_ni: money("employer_ni")?,
        employee_pension: money("employee_pension")?,
        employer_pension: money("employer_pension")?,
        net: money("net")?,
    })
}

fn unreadable(row: usize, e: &csv::Error) -> AppError {
    row_error(row, "file", format!("not well-formed CSV: {e}"))
}

/// The service names a payslip by its place (`payslips[i]`); a file's reader wants its row. Adds
/// the row (the header is row 1) to every detail naming a payslip, and to the message.
pub fn with_rows(e: AppError) -> AppError {
    fn place(field: &str) -> Option<usize> {
        let rest = field.strip_prefix("payslips[")?;
        rest[..rest.find(']')?].parse().ok()
    }
    fn fix(message: &mut String, details: &mut [Detail]) {
        for d in details.iter_mut() {
            if let Some(i) = d.field.as_deref().and_then(place) {
                d.row = Some(i + 2);
            }
        }
        if let Some(row) = details.iter().find_map(|d| d.row) {
            *message = format!("Row {row}: {message}");
        }
    }
    match e {
        AppError::Invalid {
            mut message,
            mut details,
        } => {
            fix(&mut message, &mut details);
            AppError::Invalid { message, details }
        }
        AppError::InvalidAmount {
            mut message,
            mut details,
        } => {
            fix(&mut message, &mut details);
            AppError::InvalidAmount { message, details }
        }
        AppError::Refused {
            code,
            mut message,
            mut details,
        } => {
            fix(&mut message, &mut details);
            AppError::Refused {
                code,
                message,
                details,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RunHeader {
        RunHeader {
            period_start: NaiveDate::from_ymd_opt(2025, 2, 3).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2025, 2, 9).unwrap(),
            pay_date: NaiveDate::from_ymd_opt(2025, 2, 14).unwrap(),
            hmrc_payee_id: Uuid::nil(),
            pension_payee_id: None,
        }
    }

    #[test]
    fn a_missing_column_is_named() {
        let e = parse(
            b"budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,net\n",
            header(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("employer_pension"), "{e}");
    }

    #[test]
    fn a_bad_amount_names_its_row_and_column() {
        let csv = format!(
            "payee_id,budget_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,net\n\
             {id},{id},250.00,10,5,7,0,0,235.00\n{id},{id},2x0,10,5,7,0,0,235.00\n",
            id = Uuid::nil()
        );
        let e = parse(csv.as_bytes(), header()).unwrap_err();
        assert_eq!(e.details()[0].row, Some(3));
        assert_eq!(e.details()[0].field.as_deref(), Some("gross"));
    }

    #[test]
    fn rows_are_read_in_any_column_order() {
        let csv = format!(
            "NET , payee_id,budget_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,deployment\n\
             235.00,{id},{id},250.00,10.00,5.00,7.00,0,0,\n",
            id = Uuid::nil()
        );
        let run = parse(csv.as_bytes(), header()).unwrap();
        assert_eq!(run.payslips.len(), 1);
        assert_eq!(run.payslips[0].net.amount().to_string(), "235.00");
        assert!(run.payslips[0].deployment.is_none());
    }
}
