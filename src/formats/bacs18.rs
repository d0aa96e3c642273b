//! Bacs Standard 18 direct-credit file, single processing day.
//!
//! # Structure
//!
//! ```text
//! VOL1  volume header label
//! HDR1  file header label 1
//! HDR2  file header label 2
//! UHL1  user header label (processing day)
//! ...   one credit record per payment (transaction code 99)
//!       one contra record debiting the originating account with the total (code 17)
//! EOF1  end-of-file label 1 (mirrors HDR1)
//! EOF2  end-of-file label 2 (mirrors HDR2)
//! UTL1  user trailer label (debit/credit totals and counts)
//! ```
//!
//! # Record widths and line ending
//!
//! Data records are 100 characters; the label layouts define 80 meaningful characters. Import
//! tools for Bacstel-IP take Standard 18 either as CR LF-delimited lines or as fixed 100-byte
//! records, and the fixed form needs the labels space-filled to 100. [`LabelWidth::Padded100`]
//! (the default) therefore pads labels to 100 so every record has the same width and the file
//! reads the same either way; [`LabelWidth::Exact80`] writes 80-character labels for software
//! that insists on them. Every record, the last included, ends with CR LF, the line ending
//! Bacs submission software (Windows-based) expects.
//!
//! # Field positions (1-based, inclusive)
//!
//! * VOL1: 1-4 `VOL1`; 5-10 submission serial; 11 accessibility (blank); 12-41 blank; 42-47
//!   owner = service user number; 48-79 blank; 80 label standard level `1`.
//! * HDR1/EOF1: 1-4 label; 5-21 file identifier `A` + SUN + `S` + 2 blanks + `1` + SUN; 22-27 set
//!   identification = submission serial; 28-31 file section `0001`; 32-35 file sequence `0001`;
//!   36-41 generation number/version (blank); 42-47 creation date; 48-53 expiration date (same as
//!   creation: the file may be discarded once made); 54 accessibility (blank); 55-60 block count
//!   `000000`; 61-80 blank.
//! * HDR2/EOF2: 1-4 label; 5 record format `F`; 6-10 block length `02000`; 11-15 record length
//!   `00100`; 16-50 blank; 51-52 buffer offset `00`; 53-80 blank.
//! * UHL1: 1-4 `UHL1`; 5-10 processing day; 11-20 receiving party `999999` + 4 blanks; 21-22
//!   currency `00` (sterling); 23-28 country `000000`; 29-37 work code `1 DAILY  `; 38-40 file
//!   number `001`; 41-80 blank (audit print identifier at 48-54 left blank).
//! * Data record: 1-6 destination sort code; 7-14 destination account; 15 account type `0`;
//!   16-17 transaction code; 18-23 originating sort code; 24-31 originating account; 32-35 free
//!   format (blank); 36-46 amount in pence, zero-filled; 47-64 service user's name; 65-82 service
//!   user's reference; 83-100 destination account name.
//! * Contra: destination = originating account, code `17`, amount = sum of credits, 47-64 a
//!   narrative naming the run, 65-82 `CONTRA`, 83-100 the originating account's name.
//! * UTL1: 1-4 `UTL1`; 5-17 debit value total; 18-30 credit value total; 31-37 debit count;
//!   38-44 credit count; 45-80 blank.
//!
//! Dates are Bacs Julian: a blank, two-digit year, three-digit day of the year (` YYDDD`).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;

use super::bacs_chars::clean_bacs_text;
use super::{account_number, amount_in_pence, sort_code, BankAccount, FormatError};

/// Width of a data record (payment or contra).
pub const DATA_RECORD_WIDTH: usize = 100;
/// Width the label layouts (VOL1, HDR1, HDR2, UHL1, EOF1, EOF2, UTL1) define.
pub const LABEL_WIDTH: usize = 80;
/// Widest name, reference or narrative a data record carries.
pub const TEXT_FIELD_WIDTH: usize = 18;
/// Record terminator.
pub const RECORD_END: &str = "\r\n";

/// Credit to the destination account.
const TC_DIRECT_CREDIT: &str = "99";
/// Debit of the originating account; used for the balancing contra.
const TC_CONTRA_DEBIT: &str = "17";
/// The 11-digit amount field holds at most £999,999,999.99.
const MAX_AMOUNT_PENCE: u64 = 99_999_999_999;
/// The 7-digit count fields hold at most this many records per side.
const MAX_COUNT: usize = 9_999_999;
/// Bacs refuses a processing day further ahead than this from the day the file is made.
const MAX_DAYS_AHEAD: u64 = 31;

/// How wide to write the label records; see the module notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelWidth {
    /// Labels space-filled to 100 characters, so every record is 100 characters.
    #[default]
    Padded100,
    /// Labels exactly 80 characters; data records stay 100.
    Exact80,
}

/// One payment file: everything one Bacs submission for one service user needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacsFile {
    /// Service user number (SUN), six digits, issued by the sponsoring bank.
    pub service_user_number: String,
    /// Shown to every payee next to the reference; cleaned and cut to 18 characters.
    pub service_user_name: String,
    /// The council account the money leaves; debited once by the contra.
    pub originating: BankAccount,
    /// The day the file is produced (HDR1 creation date).
    pub created_on: NaiveDate,
    /// The Bacs processing day (UHL1). Payees are credited two working days later.
    pub processing_date: NaiveDate,
    /// Submission serial, 1-999999; must not repeat for the same day.
    pub file_serial: u32,
    pub payments: Vec<BacsPayment>,
}

/// One direct credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacsPayment {
    /// The payee's account; its `name` becomes the destination account name.
    pub destination: BankAccount,
    /// Pounds, whole pence, greater than zero.
    pub amount: Decimal,
    /// What the payee sees on their statement; at most 18 characters once cleaned.
    pub reference: String,
}

/// Encodes `file` with every record 100 characters wide ([`LabelWidth::Padded100`]).
pub fn encode_bacs18(file: &BacsFile) -> Result<String, FormatError> {
    encode_bacs18_with(file, LabelWidth::default())
}

/// Encodes `file`, choosing how wide the label records are.
pub fn encode_bacs18_with(file: &BacsFile, labels: LabelWidth) -> Result<String, FormatError> {
    let header = validate_header(file)?;
    let credits = validate_payments(&file.payments)?;

    let total_pence = credits.iter().try_fold(0u64, |sum, c| {
        sum.checked_add(c.pence)
            .filter(|total| *total <= MAX_AMOUNT_PENCE)
    });
    // The contra carries the total in the same 11-digit field, so the total has the same cap.
    let total_pence = total_pence.ok_or_else(|| FormatError::AmountTooLarge {
        field: "payments (total for the contra)".to_owned(),
        amount: file.payments.iter().map(|p| p.amount).sum(),
        max: Decimal::new(MAX_AMOUNT_PENCE as i64, 2),
    })?;

    let label_width = match labels {
        LabelWidth::Padded100 => DATA_RECORD_WIDTH,
        LabelWidth::Exact80 => LABEL_WIDTH,
    };
    let serial = format!("{:06}", file.file_serial);
    let created = julian(file.created_on);
    let processing = julian(file.processing_date);

    let mut records: Vec<String> = Vec::with_capacity(credits.len() + 8);
    records.push(vol1(&serial, &header.sun, label_width));
    records.push(hdr1_or_eof1(
        "HDR1",
        &serial,
        &header.sun,
        &created,
        label_width,
    ));
    records.push(hdr2_or_eof2("HDR2", label_width));
    records.push(uhl1(&processing, label_width));
    for credit in &credits {
        records.push(credit_record(credit, &header));
    }
    records.push(contra_record(total_pence, &serial, &header));
    records.push(hdr1_or_eof1(
        "EOF1",
        &serial,
        &header.sun,
        &created,
        label_width,
    ));
    records.push(hdr2_or_eof2("EOF2", label_width));
    // One contra debit balances all the credits, so the two value totals are equal.
    records.push(utl1(
        total_pence,
        total_pence,
        1,
        credits.len() as u64,
        label_width,
    ));

    let mut out = String::with_capacity(records.len() * (DATA_RECORD_WIDTH + RECORD_END.len()));
    for record in records {
        out.push_str(&record);
        out.push_str(RECORD_END);
    }
    Ok(out)
}

/// Bacs Julian date: a blank, two-digit year and three-digit day of the year.
pub fn julian(date: NaiveDate) -> String {
    format!(" {:02}{:03}", date.year().rem_euclid(100), date.ordinal())
}

/// Header fields after validation and cleaning.
struct Header {
    sun: String,
    user_name: String,
    orig_sort_code: String,
    orig_account: String,
    orig_name: String,
}

/// One payment after validation and cleaning.
struct Credit {
    sort_code: String,
    account: String,
    name: String,
    reference: String,
    pence: u64,
}

fn validate_header(file: &BacsFile) -> Result<Header, FormatError> {
    let sun = file.service_user_number.trim();
    if sun.len() != 6 || !sun.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FormatError::InvalidServiceUserNumber {
            value: file.service_user_number.clone(),
        });
    }
    if !(1..=999_999).contains(&file.file_serial) {
        return Err(FormatError::InvalidFileSerial {
            value: file.file_serial,
        });
    }
    validate_dates(file.created_on, file.processing_date)?;
    Ok(Header {
        sun: sun.to_owned(),
        user_name: required_name("service_user_name", &file.service_user_name)?,
        orig_sort_code: sort_code("originating.sort_code", &file.originating.sort_code)?,
        orig_account: account_number(
            "originating.account_number",
            &file.originating.account_number,
        )?,
        orig_name: required_name("originating.name", &file.originating.name)?,
    })
}

/// Bacs never processes on a weekend and refuses dates in the past or too far ahead. Bank
/// holidays need a calendar this pure module does not have; callers check those.
fn validate_dates(created_on: NaiveDate, processing: NaiveDate) -> Result<(), FormatError> {
    // Only overflows at the end of chrono's calendar, where no later date exists anyway.
    let latest = created_on
        .checked_add_days(Days::new(MAX_DAYS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    let problem = if processing < created_on {
        Some("the processing date is before the day the file is created".to_owned())
    } else if processing > latest {
        Some(format!(
            "the processing date is more than {MAX_DAYS_AHEAD} days after the file is created"
        ))
    } else if matches!(processing.weekday(), Weekday::Sat | Weekday::Sun) {
        Some("Bacs does not process on a Saturday or Sunday".to_owned())
    } else {
        None
    };
    match problem {
        Some(reason) => Err(FormatError::InvalidDate {
            field: "processing_date".to_owned(),
            date: processing.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn validate_payments(payments: &[BacsPayment]) -> Result<Vec<Credit>, FormatError> {
    if payments.is_empty() {
        return Err(FormatError::NoPayments);
    }
    if payments.len() > MAX_COUNT {
        return Err(FormatError::TooManyPayments {
            count: payments.len(),
            max: MAX_COUNT,
        });
    }
    let max_amount = Decimal::new(MAX_AMOUNT_PENCE as i64, 2);
    payments
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let field = |name: &str| format!("payments[{i}].{name}");
            Ok(Credit {
                sort_code: sort_code(&field("destination.sort_code"), &p.destination.sort_code)?,
                account: account_number(
                    &field("destination.account_number"),
                    &p.destination.account_number,
                )?,
                name: required_name(&field("destination.name"), &p.destination.name)?,
                reference: reference(&field("reference"), &p.reference)?,
                pence: amount_in_pence(&field("amount"), p.amount, max_amount)?,
            })
        })
        .collect()
}

/// Names are cut to the field: Bacs itself shows only the first 18 characters, and refusing a
/// long care-agency name would block a payment for no benefit.
fn required_name(field: &str, raw: &str) -> Result<String, FormatError> {
    let cleaned = clean_bacs_text(raw);
    if cleaned.is_empty() {
        return Err(FormatError::EmptyText {
            field: field.to_owned(),
        });
    }
    Ok(cleaned.chars().take(TEXT_FIELD_WIDTH).collect())
}

/// References are refused rather than cut: a payee matches money to an invoice by it, and a
/// silently shortened reference can match the wrong one.
fn reference(field: &str, raw: &str) -> Result<String, FormatError> {
    let cleaned = clean_bacs_text(raw);
    if cleaned.is_empty() {
        return Err(FormatError::EmptyText {
            field: field.to_owned(),
        });
    }
    if cleaned.len() > TEXT_FIELD_WIDTH {
        return Err(FormatError::TextTooLong {
            field: field.to_owned(),
            length: cleaned.len(),
            value: cleaned,
            max: TEXT_FIELD_WIDTH,
        });
    }
    // Bacs identifies the balancing record by this word in the reference field.
    if cleaned == "CONTRA" {
        return Err(FormatError::InvalidText {
            field: field.to_owned(),
            reason: "\"CONTRA\" is reserved for the balancing record".to_owned(),
        });
    }
    Ok(cleaned)
}

/// Builds a fixed-width record field by field, left to right, so each field's position
/// follows from the widths before it and a record can never drift.
struct Record(String);

impl Record {
    fn new() -> Self {
        Record(String::with_capacity(DATA_RECORD_WIDTH))
    }

    /// Left-justified, space-filled. Values reaching here are validated ASCII that fits; the
    /// `take` is a last guard so a wider value could never shift the fields after it.
    fn alpha(mut self, value: &str, width: usize) -> Self {
        let mut used = 0;
        for c in value.chars().take(width) {
            self.0.push(c);
            used += 1;
        }
        self.0.extend(std::iter::repeat_n(' ', width - used));
        self
    }

    fn blank(self, width: usize) -> Self {
        self.alpha("", width)
    }

    /// Right-justified, zero-filled. Callers check limits first; the debug assertion documents
    /// that and the slice keeps the width fixed regardless.
    fn numeric(mut self, value: u64, width: usize) -> Self {
        let digits = format!("{value:0width$}");
        debug_assert!(digits.len() <= width, "{value} does not fit {width} digits");
        // ASCII digits, so any byte offset is a character boundary.
        self.0.push_str(&digits[digits.len() - width..]);
        self
    }

    fn finish(mut self, width: usize) -> String {
        debug_assert!(self.0.len() <= width);
        let pad = width.saturating_sub(self.0.len());
        self.0.extend(std::iter::repeat_n(' ', pad));
        self.0
    }
}

fn vol1(serial: &str, sun: &str, width: usize) -> String {
    Record::new()
        .alpha("VOL1", 4)
        .alpha(serial, 6)
        .blank(1) // accessibility indicator
        .blank(30) // 12-41 reserved
        .alpha(sun, 6) // 42-47 owner identification
        .blank(32) // 48-79 reserved
        .alpha("1", 1) // label standard level
        .finish(width)
}

fn hdr1_or_eof1(label: &str, serial: &str, sun: &str, created: &str, width: usize) -> String {
    Record::new()
        .alpha(label, 4)
        .alpha("A", 1)
        .alpha(sun, 6)
        .alpha("S", 1)
        .blank(2)
        .alpha("1", 1)
        .alpha(sun, 6)
        .alpha(serial, 6) // set identification
        .alpha("0001", 4) // file section number
        .alpha("0001", 4) // file sequence number
        .blank(6) // generation number and version
        .alpha(created, 6)
        .alpha(created, 6) // expiration date
        .blank(1) // accessibility indicator
        .alpha("000000", 6) // block count
        .blank(20)
        .finish(width)
}

fn hdr2_or_eof2(label: &str, width: usize) -> String {
    Record::new()
        .alpha(label, 4)
        .alpha("F", 1) // fixed-length records
        .alpha("02000", 5) // block length
        .alpha("00100", 5) // record length
        .blank(35)
        .alpha("00", 2) // buffer offset
        .blank(28)
        .finish(width)
}

fn uhl1(processing: &str, width: usize) -> String {
    Record::new()
        .alpha("UHL1", 4)
        .alpha(processing, 6)
        .alpha("999999", 6) // receiving party: Bacs
        .blank(4)
        .alpha("00", 2) // currency: sterling
        .alpha("000000", 6) // country
        .alpha("1 DAILY", 9) // single processing day
        .alpha("001", 3) // file number within the submission
        .blank(40)
        .finish(width)
}

fn credit_record(credit: &Credit, header: &Header) -> String {
    data_record(DataRecord {
        dest_sort_code: &credit.sort_code,
        dest_account: &credit.account,
        transaction_code: TC_DIRECT_CREDIT,
        orig_sort_code: &header.orig_sort_code,
        orig_account: &header.orig_account,
        pence: credit.pence,
        user_name: &header.user_name,
        user_reference: &credit.reference,
        dest_name: &credit.name,
    })
}

fn contra_record(total_pence: u64, serial: &str, header: &Header) -> String {
    // Shows on the council's own statement, so it names the run the debit belongs to.
    let narrative = format!("PAYMENT RUN {serial}");
    data_record(DataRecord {
        dest_sort_code: &header.orig_sort_code,
        dest_account: &header.orig_account,
        transaction_code: TC_CONTRA_DEBIT,
        orig_sort_code: &header.orig_sort_code,
        orig_account: &header.orig_account,
        pence: total_pence,
        user_name: &narrative,
        user_reference: "CONTRA",
        dest_name: &header.orig_name,
    })
}

struct DataRecord<'a> {
    dest_sort_code: &'a str,
    dest_account: &'a str,
    transaction_code: &'a str,
    orig_sort_code: &'a str,
    orig_account: &'a str,
    pence: u64,
    user_name: &'a str,
    user_reference: &'a str,
    dest_name: &'a str,
}

fn data_record(r: DataRecord<'_>) -> String {
    Record::new()
        .alpha(r.dest_sort_code, 6)
        .alpha(r.dest_account, 8)
        .alpha("0", 1) // account type
        .alpha(r.transaction_code, 2)
        .alpha(r.orig_sort_code, 6)
        .alpha(r.orig_account, 8)
        .blank(4) // free format
        .numeric(r.pence, 11)
        .alpha(r.user_name, TEXT_FIELD_WIDTH)
        .alpha(r.user_reference, TEXT_FIELD_WIDTH)
        .alpha(r.dest_name, TEXT_FIELD_WIDTH)
        .finish(DATA_RECORD_WIDTH)
}

fn utl1(debit_total: u64, credit_total: u64, debits: u64, credits: u64, width: usize) -> String {
    Record::new()
        .alpha("UTL1", 4)
        .numeric(debit_total, 13)
        .numeric(credit_total, 13)
        .numeric(debits, 7)
        .numeric(credits, 7)
        .blank(36)
        .finish(width)
}

#[cfg(test)]
mod tests {
    use super::super::bacs_chars::is_bacs_text;
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => date,
            None => panic!("test date {y}-{m}-{d} does not exist"),
        }
    }

    fn account(sort_code: &str, account_number: &str, name: &str) -> BankAccount {
        BankAccount {
            sort_code: sort_code.to_owned(),
            account_number: account_number.to_owned(),
            name: name.to_owned(),
        }
    }

    fn payment(sort: &str, acct: &str, name: &str, pence: i64, reference: &str) -> BacsPayment {
        BacsPayment {
            destination: account(sort, acct, name),
            amount: Decimal::new(pence, 2),
            reference: reference.to_owned(),
        }
    }

    /// Created Monday 3 March 2025 (day 062), processed Wednesday 5 March 2025 (day 064).
    fn sample() -> BacsFile {
        BacsFile {
            service_user_number: "123456".to_owned(),
            service_user_name: "Anytown Council".to_owned(),
            originating: account("40-11-22", "12345678", "Anytown Council DP"),
            created_on: date(2025, 3, 3),
            processing_date: date(2025, 3, 5),
            file_serial: 42,
            payments: vec![
                payment(
                    "20-00-00",
                    "55779911",
                    "Bright Care Ltd",
                    125_050,
                    "INV 1001",
                ),
                payment("309634", "00112233", "Siân O'Brien", 4_999, "PA wk 10/25"),
                payment("60 16 13", "31926819", "Home Adapt & Co", 1, "REF-3"),
            ],
        }
    }

    fn records(file: &str) -> Vec<&str> {
        file.strip_suffix(RECORD_END)
            .unwrap_or(file)
            .split(RECORD_END)
            .collect()
    }

    #[test]
    fn every_record_is_100_characters_and_crlf_terminated() -> TestResult {
        let out = encode_bacs18(&sample())?;
        assert!(out.is_ascii());
        assert!(out.ends_with("\r\n"));
        // No bare LF or CR anywhere: each line break is exactly one CR LF.
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count());
        assert_eq!(out.matches('\r').count(), out.matches("\r\n").count());
        let recs = records(&out);
        assert_eq!(recs.len(), 4 + 3 + 1 + 3);
        for rec in &recs {
            assert_eq!(rec.len(), 100, "{rec:?}");
        }
        Ok(())
    }

    #[test]
    fn records_come_in_the_standard_order() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let recs = records(&out);
        let labels: Vec<&str> = recs.iter().map(|r| &r[..4]).collect();
        assert_eq!(&labels[..4], ["VOL1", "HDR1", "HDR2", "UHL1"]);
        assert_eq!(&labels[recs.len() - 3..], ["EOF1", "EOF2", "UTL1"]);
        let codes: Vec<&str> = recs[4..recs.len() - 3].iter().map(|r| &r[15..17]).collect();
        assert_eq!(codes, ["99", "99", "99", "17"]);
        Ok(())
    }

    #[test]
    fn vol1_fields() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let vol1 = records(&out)[0];
        let expected = format!(
            "VOL1000042{}123456{}1{}",
            " ".repeat(31),
            " ".repeat(32),
            " ".repeat(20)
        );
        assert_eq!(vol1, expected);
        assert_eq!(&vol1[41..47], "123456"); // positions 42-47
        assert_eq!(&vol1[79..80], "1"); // position 80
        Ok(())
    }

    #[test]
    fn hdr1_fields_and_eof1_mirror() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let recs = records(&out);
        let hdr1 = recs[1];
        assert_eq!(&hdr1[0..4], "HDR1");
        assert_eq!(&hdr1[4..21], "A123456S  1123456"); // file identifier, 5-21
        assert_eq!(&hdr1[21..27], "000042"); // set identification, 22-27
        assert_eq!(&hdr1[27..31], "0001"); // file section, 28-31
        assert_eq!(&hdr1[31..35], "0001"); // file sequence, 32-35
        assert_eq!(&hdr1[35..41], "      "); // generation, 36-41
        assert_eq!(&hdr1[41..47], " 25062"); // creation date, 42-47
        assert_eq!(&hdr1[47..53], " 25062"); // expiration date, 48-53
        assert_eq!(&hdr1[53..54], " "); // accessibility, 54
        assert_eq!(&hdr1[54..60], "000000"); // block count, 55-60
        assert_eq!(hdr1[60..].trim(), "");
        let eof1 = recs[recs.len() - 3];
        assert_eq!(&eof1[..4], "EOF1");
        assert_eq!(&eof1[4..], &hdr1[4..]);
        Ok(())
    }

    #[test]
    fn hdr2_fields_and_eof2_mirror() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let recs = records(&out);
        let hdr2 = recs[2];
        assert_eq!(&hdr2[..15], "HDR2F0200000100");
        assert_eq!(hdr2[15..50].trim(), "");
        assert_eq!(&hdr2[50..52], "00"); // buffer offset, 51-52
        assert_eq!(hdr2[52..].trim(), "");
        let eof2 = recs[recs.len() - 2];
        assert_eq!(&eof2[..4], "EOF2");
        assert_eq!(&eof2[4..], &hdr2[4..]);
        Ok(())
    }

    #[test]
    fn uhl1_fields() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let uhl1 = records(&out)[3];
        assert_eq!(&uhl1[0..4], "UHL1");
        assert_eq!(&uhl1[4..10], " 25064"); // processing day, 5-10
        assert_eq!(&uhl1[10..20], "999999    "); // receiving party, 11-20
        assert_eq!(&uhl1[20..22], "00"); // currency, 21-22
        assert_eq!(&uhl1[22..28], "000000"); // country, 23-28
        assert_eq!(&uhl1[28..37], "1 DAILY  "); // work code, 29-37
        assert_eq!(&uhl1[37..40], "001"); // file number, 38-40
        assert_eq!(uhl1[40..].trim(), "");
        Ok(())
    }

    #[test]
    fn credit_record_fields() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let recs = records(&out);
        let first = recs[4];
        assert_eq!(&first[0..6], "200000"); // destination sort code, 1-6
        assert_eq!(&first[6..14], "55779911"); // destination account, 7-14
        assert_eq!(&first[14..15], "0"); // account type, 15
        assert_eq!(&first[15..17], "99"); // transaction code, 16-17
        assert_eq!(&first[17..23], "401122"); // originating sort code, 18-23
        assert_eq!(&first[23..31], "12345678"); // originating account, 24-31
        assert_eq!(&first[31..35], "    "); // free format, 32-35
        assert_eq!(&first[35..46], "00000125050"); // amount in pence, 36-46
        assert_eq!(&first[46..64], "ANYTOWN COUNCIL   "); // service user's name, 47-64
        assert_eq!(&first[64..82], "INV 1001          "); // reference, 65-82
        assert_eq!(&first[82..100], "BRIGHT CARE LTD   "); // beneficiary name, 83-100

        let second = recs[5];
        assert_eq!(&second[0..6], "309634");
        assert_eq!(&second[35..46], "00000004999");
        assert_eq!(&second[64..82], "PA WK 10/25       ");
        assert_eq!(&second[82..100], "SIAN OBRIEN       ");

        let third = recs[6];
        assert_eq!(&third[0..14], "60161331926819");
        assert_eq!(&third[35..46], "00000000001");
        assert_eq!(&third[82..100], "HOME ADAPT & CO   ");
        Ok(())
    }

    #[test]
    fn contra_debits_the_originating_account_with_the_sum_of_credits() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let recs = records(&out);
        let contra = recs[recs.len() - 4];
        assert_eq!(&contra[0..6], "401122");
        assert_eq!(&contra[6..14], "12345678");
        assert_eq!(&contra[14..15], "0");
        assert_eq!(&contra[15..17], "17");
        assert_eq!(&contra[17..31], "40112212345678");
        assert_eq!(&contra[31..35], "    ");
        assert_eq!(&contra[46..64], "PAYMENT RUN 000042");
        assert_eq!(&contra[64..82], "CONTRA            ");
        assert_eq!(&contra[82..100], "ANYTOWN COUNCIL DP");

        let credit_sum: u64 = recs[4..recs.len() - 4]
            .iter()
            .map(|r| r[35..46].parse::<u64>())
            .sum::<Result<u64, _>>()?;
        assert_eq!(credit_sum, 125_050 + 4_999 + 1);
        assert_eq!(contra[35..46].parse::<u64>()?, credit_sum);
        Ok(())
    }

    #[test]
    fn utl1_totals_and_counts() -> TestResult {
        let out = encode_bacs18(&sample())?;
        let utl1 = *records(&out).last().ok_or("no records")?;
        assert_eq!(&utl1[0..4], "UTL1");
        assert_eq!(&utl1[4..17], "0000000130050"); // debit value total, 5-17
        assert_eq!(&utl1[17..30], "0000000130050"); // credit value total, 18-30
        assert_eq!(&utl1[30..37], "0000001"); // debit count, 31-37
        assert_eq!(&utl1[37..44], "0000003"); // credit count, 38-44
        assert_eq!(utl1[44..].trim(), "");
        Ok(())
    }

    #[test]
    fn totals_are_exact_for_many_awkward_amounts() -> TestResult {
        let mut file = sample();
        // 0.01 + 0.02 + ... + 3.00 = 45150 pence; summing floats here would drift.
        file.payments = (1..=300)
            .map(|p| payment("200000", "55779911", "PAYEE", p, &format!("REF {p}")))
            .collect();
        let out = encode_bacs18(&file)?;
        let recs = records(&out);
        let contra = recs[recs.len() - 4];
        assert_eq!(&contra[35..46], "00000045150");
        let utl1 = recs[recs.len() - 1];
        assert_eq!(&utl1[4..30], "00000000451500000000045150");
        assert_eq!(&utl1[30..44], "00000010000300");
        Ok(())
    }

    #[test]
    fn exact80_labels_keep_data_records_at_100() -> TestResult {
        let out = encode_bacs18_with(&sample(), LabelWidth::Exact80)?;
        let padded = encode_bacs18(&sample())?;
        for (narrow, wide) in records(&out).iter().zip(records(&padded)) {
            let is_label =
                ["VOL1", "HDR1", "HDR2", "UHL1", "EOF1", "EOF2", "UTL1"].contains(&&narrow[..4]);
            if is_label {
                assert_eq!(narrow.len(), 80, "{narrow:?}");
                assert_eq!(*narrow, &wide[..80]);
                assert_eq!(wide[80..].trim(), "");
            } else {
                assert_eq!(narrow.len(), 100);
                assert_eq!(*narrow, wide);
            }
        }
        Ok(())
    }

    #[test]
    fn julian_dates() {
        assert_eq!(julian(date(2025, 1, 1)), " 25001");
        assert_eq!(julian(date(2025, 3, 5)), " 25064");
        assert_eq!(julian(date(2024, 12, 31)), " 24366"); // leap year
        assert_eq!(julian(date(2025, 12, 31)), " 25365");
        assert_eq!(julian(date(2100, 2, 1)), " 00032");
        assert_eq!(julian(date(2009, 10, 10)), " 09283");
    }

    #[test]
    fn text_fields_use_only_the_bacs_character_set() -> TestResult {
        let mut file = sample();
        file.service_user_name = "Llanfair Pwllgwyngyll Town Council (Social Care)".to_owned();
        file.payments[0].destination.name = "Zoë's Care — \"Home\" Services, Ltd.".to_owned();
        file.payments[0].reference = "inv#77 / wk3".to_owned();
        let out = encode_bacs18(&file)?;
        let credit = records(&out)[4];
        assert_eq!(&credit[46..64], "LLANFAIR PWLLGWYNG"); // cut to 18
        assert_eq!(&credit[64..82], "INV 77 / WK3      ");
        assert_eq!(&credit[82..100], "ZOES CARE - HOME S");
        for rec in records(&out) {
            assert!(is_bacs_text(rec), "{rec:?}");
        }
        Ok(())
    }

    #[test]
    fn validation_rejects_an_empty_run() {
        let mut file = sample();
        file.payments.clear();
        assert_eq!(encode_bacs18(&file), Err(FormatError::NoPayments));
    }

    #[test]
    fn validation_rejects_bad_bank_details() {
        let mut file = sample();
        file.payments[1].destination.sort_code = "30963".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::InvalidSortCode { field, .. }) if field == "payments[1].destination.sort_code"
        ));

        let mut file = sample();
        file.payments[2].destination.account_number = "1234567".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::InvalidAccountNumber { field, .. }) if field == "payments[2].destination.account_number"
        ));

        let mut file = sample();
        file.originating.sort_code = "ab-cd-ef".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::InvalidSortCode { field, .. }) if field == "originating.sort_code"
        ));

        let mut file = sample();
        file.originating.account_number = "123456789".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::InvalidAccountNumber { .. })
        ));
    }

    #[test]
    fn validation_rejects_bad_amounts() {
        let cases = [
            (Decimal::ZERO, "zero"),
            (Decimal::new(-500, 2), "negative"),
            (Decimal::new(12345, 3), "sub-penny"),
            (Decimal::new(100_000_000_000, 2), "too large"),
        ];
        for (amount, why) in cases {
            let mut file = sample();
            file.payments[0].amount = amount;
            let result = encode_bacs18(&file);
            let ok = match why {
                "zero" | "negative" => {
                    matches!(result, Err(FormatError::NonPositiveAmount { ref field, .. }) if field == "payments[0].amount")
                }
                "sub-penny" => matches!(result, Err(FormatError::SubPennyAmount { .. })),
                _ => matches!(result, Err(FormatError::AmountTooLarge { .. })),
            };
            assert!(ok, "{why}: {result:?}");
        }
    }

    #[test]
    fn validation_rejects_a_total_too_large_for_the_contra() -> TestResult {
        let mut file = sample();
        // Each fits the 11-digit field; together they do not.
        file.payments[0].amount = Decimal::new(60_000_000_000, 2);
        file.payments[1].amount = Decimal::new(40_000_000_000, 2);
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::AmountTooLarge { .. })
        ));
        // The largest total that fits is accepted.
        file.payments[1].amount = Decimal::new(39_999_999_998, 2);
        file.payments[2].amount = Decimal::new(1, 2);
        let out = encode_bacs18(&file)?;
        let recs = records(&out);
        assert_eq!(&recs[recs.len() - 4][35..46], "99999999999");
        Ok(())
    }

    #[test]
    fn validation_rejects_bad_references() {
        let mut file = sample();
        file.payments[0].reference = "Invoice 2025-000123 (March)".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::TextTooLong { ref field, length: 25, max: 18, .. }) if field == "payments[0].reference"
        ));

        // Longer than 18 as typed, but the apostrophes and double space go: accepted.
        file.payments[0].reference = "O'Neil's  inv 12345".to_owned();
        assert!(encode_bacs18(&file).is_ok());

        file.payments[0].reference = "‘’ ☺".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::EmptyText { ref field }) if field == "payments[0].reference"
        ));

        file.payments[0].reference = "contra".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::InvalidText { .. })
        ));
    }

    #[test]
    fn validation_rejects_names_that_clean_to_nothing() {
        let mut file = sample();
        file.payments[2].destination.name = "李雷".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::EmptyText { ref field }) if field == "payments[2].destination.name"
        ));
        let mut file = sample();
        file.service_user_name = "   ".to_owned();
        assert!(matches!(
            encode_bacs18(&file),
            Err(FormatError::EmptyText { .. })
        ));
    }

    #[test]
    fn validation_rejects_bad_sun_and_serial() {
        for sun in ["12345", "1234567", "12345A", ""] {
            let mut file = sample();
            file.service_user_number = sun.to_owned();
            assert!(
                matches!(
                    encode_bacs18(&file),
                    Err(FormatError::InvalidServiceUserNumber { .. })
                ),
                "{sun:?}"
            );
        }
        for serial in [0, 1_000_000] {
            let mut file = sample();
            file.file_serial = serial;
            assert_eq!(
                encode_bacs18(&file),
                Err(FormatError::InvalidFileSerial { value: serial })
            );
        }
    }

    #[test]
    fn validation_rejects_unprocessable_dates() {
        let cases = [
            date(2025, 3, 8), // Saturday
            date(2025, 3, 9), // Sunday
            date(2025, 3, 2), // before creation
            date(2025, 4, 4), // 32 days ahead
        ];
        for processing in cases {
            let mut file = sample();
            file.processing_date = processing;
            assert!(
                matches!(encode_bacs18(&file), Err(FormatError::InvalidDate { .. })),
                "{processing}"
            );
        }
        // Same day and 31 days ahead (a Thursday) are fine.
        for processing in [date(2025, 3, 3), date(2025, 4, 3)] {
            let mut file = sample();
            file.processing_date = processing;
            assert!(encode_bacs18(&file).is_ok(), "{processing}");
        }
    }

    #[test]
    fn encoding_is_deterministic() -> TestResult {
        assert_eq!(encode_bacs18(&sample())?, encode_bacs18(&sample())?);
        Ok(())
    }
}
