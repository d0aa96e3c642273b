//! The payment files of an approved run: Bacs Standard 18 and ISO 20022 pain.001. Built only from
//! what was stored when the run was approved (the bank details captured in its lines, the
//! approval date, the file serial), so the same run always gives byte-identical files.
//! Council-managed lines move money inside allot and are not in the files.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{store, RunStatus};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::formats::{
    encode_bacs18, encode_pain001, BacsFile, BacsPayment, BankAccount, FormatError, Pain001,
    Pain001Payment,
};
use crate::payments::banking;

/// Bacs credits payees on the third working day of the cycle: the processing day is two working
/// days before the money should arrive.
const BACS_WORKING_DAYS: u32 = 2;
/// Bacs refuses a processing day more than 31 days after the file is made.
const MAX_DAYS_AHEAD: u64 = 31;

/// A file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFile {
    pub file_name: String,
    pub content: String,
}

struct BankLine {
    sort_code: String,
    account_number: String,
    name: String,
    reference: String,
    amount: Decimal,
    line_no: i32,
}

struct Prepared {
    serial: i32,
    council_name: String,
    created_on: NaiveDate,
    created_at: chrono::NaiveDateTime,
    processing: NaiveDate,
    banking: banking::CouncilBanking,
    lines: Vec<BankLine>,
    run_id: Uuid,
}

async fn prepare(tx: &Tx<'_>, council_id: Uuid, run_id: Uuid) -> AppResult<Prepared> {
    let run = store::load(tx, council_id, run_id, false).await?;
    if run.status != RunStatus::Approved {
        return Err(AppError::conflict(
            "Payment files are made from approved runs only.",
        ));
    }
    let (Some(serial), Some(approved_at)) = (run.file_serial, run.approved_at) else {
        return Err(AppError::Internal(
            "an approved run has no serial or approval time".into(),
        ));
    };
    let banking = banking::get(tx, council_id).await?;
    let council_name = crate::auth::councils::name(tx, council_id).await?;
    let rows = tx
        .query(
            "SELECT payee_sort_code, payee_account_number, payee_name, payment_reference, amount, line_no
             FROM payment_run_lines
             WHERE council_id = $1 AND run_id = $2 AND in_bank_file AND amount > 0 ORDER BY line_no",
            &[&council_id, &run_id],
        )
        .await?;
    let lines = rows
        .iter()
        .map(|r| BankLine {
            sort_code: r.get(0),
            account_number: r.get(1),
            name: r.get(2),
            reference: r.get(3),
            amount: r.get(4),
            line_no: r.get(5),
        })
        .collect();
    let created_on = approved_at.date_naive();
    Ok(Prepared {
        serial,
        council_name,
        created_on,
        created_at: approved_at.naive_utc(),
        processing: processing_date(created_on, run.period_start),
        banking,
        lines,
        run_id,
    })
}

fn format_error(e: FormatError) -> AppError {
    match e {
        FormatError::NoPayments => AppError::conflict(
            "This run pays nothing through the bank (only council-managed money), so there is no file.",
        ),
        other => AppError::conflict(format!("The payment file cannot be made: {other}.")),
    }
}

fn originating(prepared: &Prepared) -> BankAccount {
    BankAccount {
        sort_code: prepared.banking.account.sort_code.clone(),
        account_number: prepared.banking.account.account_number.clone(),
        name: prepared.banking.account.account_name.clone(),
    }
}

pub async fn bacs18(tx: &Tx<'_>, actor: &Actor, run_id: Uuid) -> AppResult<PaymentFile> {
    super::require_reader(actor)?;
    let prepared = prepare(tx, actor.council_id, run_id).await?;
    let file = BacsFile {
        service_user_number: prepared.banking.service_user_number.clone(),
        service_user_name: prepared.council_name.clone(),
        originating: originating(&prepared),
        created_on: prepared.created_on,
        processing_date: prepared.processing,
        file_serial: u32::try_from(prepared.serial % 1_000_000)
            .map_err(|_| AppError::Internal("negative file serial".into()))?
            .max(1),
        payments: prepared
            .lines
            .iter()
            .map(|l| BacsPayment {
                destination: BankAccount {
                    sort_code: l.sort_code.clone(),
                    account_number: l.account_number.clone(),
                    name: l.name.clone(),
                },
                amount: l.amount,
                reference: l.reference.clone(),
            })
            .collect(),
    };
    Ok(PaymentFile {
        file_name: format!("allot-run-{:06}.bacs18.txt", prepared.serial),
        content: encode_bacs18(&file).map_err(format_error)?,
    })
}

pub async fn pain001(tx: &Tx<'_>, actor: &Actor, run_id: Uuid) -> AppResult<PaymentFile> {
    super::require_reader(actor)?;
    let prepared = prepare(tx, actor.council_id, run_id).await?;
    let run_ref = prepared.run_id.simple().to_string();
    let doc = Pain001 {
        message_id: format!("ALLOT-{:06}-{}", prepared.serial, &run_ref[..12]),
        created_at: prepared.created_at,
        initiating_party: prepared.council_name.clone(),
        debtor: originating(&prepared),
        debtor_iban: None,
        requested_execution_date: prepared.processing,
        payments: prepared
            .lines
            .iter()
            .map(|l| Pain001Payment {
                end_to_end_id: format!("{}-{}", &run_ref[..12], l.line_no),
                creditor: BankAccount {
                    sort_code: l.sort_code.clone(),
                    account_number: l.account_number.clone(),
                    name: l.name.clone(),
                },
                amount: l.amount,
                remittance: l.reference.clone(),
            })
            .collect(),
    };
    Ok(PaymentFile {
        file_name: format!("allot-run-{:06}.pain001.xml", prepared.serial),
        content: encode_pain001(&doc).map_err(format_error)?,
    })
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_weekday(mut date: NaiveDate) -> NaiveDate {
    while is_weekend(date) {
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    date
}

fn previous_weekday(mut date: NaiveDate) -> NaiveDate {
    while is_weekend(date) {
        match date.pred_opt() {
            Some(previous) => date = previous,
            None => break,
        }
    }
    date
}

/// The Bacs processing day: two working days before the period starts, so the money is there on
/// its first day; never before the file is made (then as soon as possible), and never more than
/// 31 days after (then as late as Bacs allows: early money is better than a refused file).
/// Weekends are skipped; bank holidays are not known here.
pub fn processing_date(created_on: NaiveDate, period_start: NaiveDate) -> NaiveDate {
    let mut wanted = period_start;
    let mut working_days = 0;
    while working_days < BACS_WORKING_DAYS {
        match wanted.pred_opt() {
            Some(previous) => wanted = previous,
            None => break,
        }
        if !is_weekend(wanted) {
            working_days += 1;
        }
    }
    let earliest = next_weekday(created_on);
    let latest = previous_weekday(
        created_on
            .checked_add_days(Days::new(MAX_DAYS_AHEAD))
            .unwrap_or(created_on),
    );
    wanted.clamp(earliest, latest.max(earliest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn processing_is_two_working_days_before_the_period() {
        // Monday 5 January 2026 -> Thursday 1 January (ignoring the bank holiday).
        assert_eq!(
            processing_date(date(2025, 12, 20), date(2026, 1, 5)),
            date(2026, 1, 1)
        );
        // Wednesday -> Monday.
        assert_eq!(
            processing_date(date(2026, 1, 1), date(2026, 1, 7)),
            date(2026, 1, 5)
        );
    }

    #[test]
    fn never_before_the_file_nor_on_a_weekend() {
        // Approved on Saturday for a period already started: the next Monday.
        assert_eq!(
            processing_date(date(2026, 1, 10), date(2026, 1, 5)),
            date(2026, 1, 12)
        );
    }

    #[test]
    fn never_more_than_31_days_ahead() {
        let created = date(2026, 1, 1);
        let processing = processing_date(created, date(2026, 6, 1));
        assert!(processing <= date(2026, 2, 1));
        assert!(!is_weekend(processing));
    }
}
