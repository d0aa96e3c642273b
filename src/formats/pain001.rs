//! ISO 20022 `pain.001.001.03` (CustomerCreditTransferInitiationV03) in GBP.
//!
//! Version 03 is the one UK banks' host-to-host and file-upload channels most widely take;
//! the schema it is checked against is `fixtures/xsd/pain.001.001.03.xsd`.
//!
//! One message holds one payment information block (`PmtInf`): one debit of the council's
//! account, booked as a batch, with one `CdtTrfTxInf` per payee.
//!
//! UK accounts are identified the way UK banks' implementation guides describe for domestic
//! payments: the sort code as the agent's clearing-system member id under `GBDSC` (UK domestic
//! sort code) and the 8-digit account number as the account's `Othr/Id`. When the council's
//! IBAN is given it identifies the debtor account instead (the sort code still identifies the
//! debtor's bank, and a GB IBAN must agree with it).
//!
//! Text goes into the XML escaped. Identifiers (`MsgId`, `EndToEndId`) are refused when they
//! break the schema's limits, because cutting an identifier would make it match something else;
//! names and remittance text are tidied and cut to the schema's 140 characters.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;

use super::{account_number, amount_in_pence, sort_code, BankAccount, FormatError};

/// The namespace of the message, and the name of the schema file it validates against.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// `Max35Text`, the type of `MsgId`, `PmtInfId` and `EndToEndId`.
const MAX_ID_LEN: usize = 35;
/// `Max140Text`, the type of `Nm` and `Ustrd`.
const MAX_TEXT_LEN: usize = 140;
/// Amounts have `totalDigits` 18; with 2 decimals that is 9,999,999,999,999,999.99.
const MAX_PENCE: u64 = 999_999_999_999_999_999;
/// `Max15NumericText` for `NbOfTxs`.
const MAX_TRANSACTIONS: usize = 999_999_999_999_999;
/// External code for a UK domestic sort code as a clearing-system member id.
const UK_SORT_CODE_SCHEME: &str = "GBDSC";

/// One credit-transfer initiation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pain001 {
    /// Unique per message for the bank; up to 35 characters. Also used as the `PmtInfId`.
    pub message_id: String,
    /// When the message was made (local time, no offset, as UK bank guides show it).
    pub created_at: NaiveDateTime,
    /// Who is sending the file: usually the council.
    pub initiating_party: String,
    /// The council account the money leaves.
    pub debtor: BankAccount,
    /// The council account's IBAN; when present it identifies the debtor account.
    pub debtor_iban: Option<String>,
    /// The day the bank should pay.
    pub requested_execution_date: NaiveDate,
    pub payments: Vec<Pain001Payment>,
}

/// One credit transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pain001Payment {
    /// Returned on the payee's side and in status reports; up to 35 characters, unique in
    /// the message.
    pub end_to_end_id: String,
    pub creditor: BankAccount,
    /// Pounds, whole pence, greater than zero.
    pub amount: Decimal,
    /// Unstructured remittance text for the payee; may be empty. Banks sending the payment by
    /// Bacs pass on only the first 18 characters.
    pub remittance: String,
}

/// Encodes `doc` as a pain.001.001.03 XML document (UTF-8, with an XML declaration).
pub fn encode_pain001(doc: &Pain001) -> Result<String, FormatError> {
    let message_id = identifier("message_id", &doc.message_id)?;
    let created_at = iso_date_time("created_at", doc.created_at)?;
    let execution_date = iso_date("requested_execution_date", doc.requested_execution_date)?;
    if doc.requested_execution_date < doc.created_at.date() {
        return Err(FormatError::InvalidDate {
            field: "requested_execution_date".to_owned(),
            date: execution_date,
            reason: "it is before the message was created".to_owned(),
        });
    }
    let initiating_party = name("initiating_party", &doc.initiating_party)?;
    let debtor_name = name("debtor.name", &doc.debtor.name)?;
    let debtor_sort_code = sort_code("debtor.sort_code", &doc.debtor.sort_code)?;
    let debtor_account = account_number("debtor.account_number", &doc.debtor.account_number)?;
    let debtor_iban = doc
        .debtor_iban
        .as_deref()
        .map(|iban| checked_iban(iban, &debtor_sort_code, &debtor_account))
        .transpose()?;

    let payments = validate_payments(&doc.payments)?;
    // Summed in whole pence, so the control sum is exact whatever the amounts.
    let total_pence = payments
        .iter()
        .try_fold(0u64, |sum, p| {
            sum.checked_add(p.pence).filter(|t| *t <= MAX_PENCE)
        })
        .ok_or_else(|| FormatError::AmountTooLarge {
            field: "payments (control sum)".to_owned(),
            amount: doc.payments.iter().map(|p| p.amount).sum(),
            max: max_amount(),
        })?;
    let count = payments.len().to_string();
    let control_sum = pounds(total_pence);

    let mut x = Xml::new();
    x.open_with(
        "Document",
        &[
            ("xmlns", NAMESPACE),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ],
    );
    x.open("CstmrCdtTrfInitn");

    x.open("GrpHdr");
    x.leaf("MsgId", &message_id);
    x.leaf("CreDtTm", &created_at);
    x.leaf("NbOfTxs", &count);
    x.leaf("CtrlSum", &control_sum);
    x.open("InitgPty");
    x.leaf("Nm", &initiating_party);
    x.close("InitgPty");
    x.close("GrpHdr");

    x.open("PmtInf");
    // One payment block per message, so the message id identifies it uniquely too.
    x.leaf("PmtInfId", &message_id);
    x.leaf("PmtMtd", "TRF");
    // Ask for one debit on the council's statement for the whole run, as the Bacs contra does.
    x.leaf("BtchBookg", "true");
    x.leaf("NbOfTxs", &count);
    x.leaf("CtrlSum", &control_sum);
    x.open("PmtTpInf");
    x.open("SvcLvl");
    // Non-urgent: the bank routes it as a bulk (Bacs) payment rather than a same-day one.
    x.leaf("Cd", "NURG");
    x.close("SvcLvl");
    x.close("PmtTpInf");
    x.leaf("ReqdExctnDt", &execution_date);
    x.open("Dbtr");
    x.leaf("Nm", &debtor_name);
    x.close("Dbtr");
    x.open("DbtrAcct");
    x.open("Id");
    match &debtor_iban {
        Some(iban) => x.leaf("IBAN", iban),
        None => other_account_id(&mut x, &debtor_account),
    }
    x.close("Id");
    x.leaf("Ccy", "GBP");
    x.close("DbtrAcct");
    agent(&mut x, "DbtrAgt", &debtor_sort_code);

    for p in &payments {
        x.open("CdtTrfTxInf");
        x.open("PmtId");
        x.leaf("EndToEndId", &p.end_to_end_id);
        x.close("PmtId");
        x.open("Amt");
        x.leaf_with("InstdAmt", &[("Ccy", "GBP")], &pounds(p.pence));
        x.close("Amt");
        agent(&mut x, "CdtrAgt", &p.sort_code);
        x.open("Cdtr");
        x.leaf("Nm", &p.name);
        x.close("Cdtr");
        x.open("CdtrAcct");
        x.open("Id");
        other_account_id(&mut x, &p.account);
        x.close("Id");
        x.close("CdtrAcct");
        if let Some(remittance) = &p.remittance {
            x.open("RmtInf");
            x.leaf("Ustrd", remittance);
            x.close("RmtInf");
        }
        x.close("CdtTrfTxInf");
    }

    x.close("PmtInf");
    x.close("CstmrCdtTrfInitn");
    x.close("Document");
    x.finish()
}

/// One payment after validation and tidying.
struct Transfer {
    end_to_end_id: String,
    sort_code: String,
    account: String,
    name: String,
    remittance: Option<String>,
    pence: u64,
}

fn validate_payments(payments: &[Pain001Payment]) -> Result<Vec<Transfer>, FormatError> {
    if payments.is_empty() {
        return Err(FormatError::NoPayments);
    }
    if payments.len() > MAX_TRANSACTIONS {
        return Err(FormatError::TooManyPayments {
            count: payments.len(),
            max: MAX_TRANSACTIONS,
        });
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(payments.len());
    let mut out = Vec::with_capacity(payments.len());
    for (i, p) in payments.iter().enumerate() {
        let field = |name: &str| format!("payments[{i}].{name}");
        let end_to_end_id = identifier(&field("end_to_end_id"), &p.end_to_end_id)?;
        // Status reports and returns are matched on this id, so two payments sharing one
        // could not be told apart.
        if let Some(first) = seen.insert(end_to_end_id.clone(), i) {
            return Err(FormatError::InvalidText {
                field: field("end_to_end_id"),
                reason: format!("{end_to_end_id:?} is already used by payments[{first}]"),
            });
        }
        let remittance = tidy_text(&p.remittance);
        out.push(Transfer {
            end_to_end_id,
            sort_code: sort_code(&field("creditor.sort_code"), &p.creditor.sort_code)?,
            account: account_number(
                &field("creditor.account_number"),
                &p.creditor.account_number,
            )?,
            name: name(&field("creditor.name"), &p.creditor.name)?,
            remittance: (!remittance.is_empty()).then(|| truncate(&remittance, MAX_TEXT_LEN)),
            pence: amount_in_pence(&field("amount"), p.amount, max_amount())?,
        });
    }
    Ok(out)
}

fn max_amount() -> Decimal {
    Decimal::from(MAX_PENCE) / Decimal::ONE_HUNDRED
}

/// Whole pence as pounds with exactly two decimals, as ISO 20022 amounts are written.
fn pounds(pence: u64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// `Max35Text` identifiers: trimmed, 1-35 characters, printable.
fn identifier(field: &str, raw: &str) -> Result<String, FormatError> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(FormatError::EmptyText {
            field: field.to_owned(),
        });
    }
    if id.chars().any(char::is_control) {
        return Err(FormatError::InvalidText {
            field: field.to_owned(),
            reason: "it contains a control character".to_owned(),
        });
    }
    let length = id.chars().count();
    if length > MAX_ID_LEN {
        return Err(FormatError::TextTooLong {
            field: field.to_owned(),
            value: id.to_owned(),
            length,
            max: MAX_ID_LEN,
        });
    }
    Ok(id.to_owned())
}

/// `Max140Text` names: tidied, required, cut to 140 characters.
fn name(field: &str, raw: &str) -> Result<String, FormatError> {
    let tidy = tidy_text(raw);
    if tidy.is_empty() {
        return Err(FormatError::EmptyText {
            field: field.to_owned(),
        });
    }
    Ok(truncate(&tidy, MAX_TEXT_LEN))
}

/// Turns control characters (which XML 1.0 cannot carry, or which would break a bank's
/// single-line field) and whitespace runs into single spaces, and trims the ends.
fn tidy_text(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts by characters, because the schema's lengths count characters, not bytes.
fn truncate(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn iso_date(field: &str, date: NaiveDate) -> Result<String, FormatError> {
    // xs:date needs a four-digit year; chrono would write others with a sign or fewer digits.
    if !(1..=9999).contains(&date.year()) {
        return Err(FormatError::InvalidDate {
            field: field.to_owned(),
            date: date.to_string(),
            reason: "the year must have four digits".to_owned(),
        });
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

fn iso_date_time(field: &str, at: NaiveDateTime) -> Result<String, FormatError> {
    iso_date(field, at.date())?;
    // chrono represents a leap second as nanoseconds past 1e9, which would print second 60.
    if at.nanosecond() >= 1_000_000_000 {
        return Err(FormatError::InvalidDate {
            field: field.to_owned(),
            date: at.to_string(),
            reason: "a leap second cannot be written as an ISO date-time".to_owned(),
        });
    }
    // Whole seconds: some bank gateways refuse fractional seconds.
    Ok(at.format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// Normalises an IBAN and checks its form and its ISO 7064 mod-97 check digits. A GB IBAN
/// embeds the sort code and account number, so it must agree with the ones given.
fn checked_iban(raw: &str, sort_code: &str, account: &str) -> Result<String, FormatError> {
    let field = "debtor_iban";
    let iban: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let invalid = |reason: &str| FormatError::InvalidIban {
        field: field.to_owned(),
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = iban.as_bytes();
    let well_formed = (5..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric);
    if !well_formed {
        return Err(invalid(
            "expected a country code, two check digits and up to 30 letters or digits",
        ));
    }
    // Move the first four characters to the end, read letters as 10-35, and take the whole
    // number mod 97 piecewise so it never overflows.
    let remainder = bytes[4..].iter().chain(&bytes[..4]).fold(0u32, |acc, b| {
        let value = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        let shifted = if value >= 10 { acc * 100 } else { acc * 10 };
        (shifted + value) % 97
    });
    if remainder != 1 {
        return Err(invalid("the check digits do not match"));
    }
    if iban.starts_with("GB") {
        // GBkk BBBB SSSSSS AAAAAAAA: bank code, sort code, account number.
        if iban.len() != 22 {
            return Err(invalid("a GB IBAN has 22 characters"));
        }
        if &iban[8..14] != sort_code || &iban[14..22] != account {
            return Err(invalid(
                "it does not contain the debtor's sort code and account number",
            ));
        }
    }
    Ok(iban)
}

fn agent(x: &mut Xml, tag: &str, sort_code: &str) {
    x.open(tag);
    x.open("FinInstnId");
    x.open("ClrSysMmbId");
    x.open("ClrSysId");
    x.leaf("Cd", UK_SORT_CODE_SCHEME);
    x.close("ClrSysId");
    x.leaf("MmbId", sort_code);
    x.close("ClrSysMmbId");
    x.close("FinInstnId");
    x.close(tag);
}

fn other_account_id(x: &mut Xml, account: &str) {
    x.open("Othr");
    x.leaf("Id", account);
    x.close("Othr");
}

/// The document as it is written: `quick-xml`'s writer (which escapes text and attribute values),
/// indented by two spaces, into memory. Writing into memory cannot fail, but the writer's
/// signature can, so the first error is kept and returned by [`Xml::finish`].
struct Xml {
    writer: Writer<Vec<u8>>,
    failed: Option<std::io::Error>,
}

impl Xml {
    fn new() -> Self {
        let mut xml = Xml {
            writer: Writer::new_with_indent(Vec::new(), b' ', 2),
            failed: None,
        };
        xml.write(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        xml
    }

    fn write(&mut self, event: Event<'_>) {
        if self.failed.is_none() {
            if let Err(e) = self.writer.write_event(event) {
                self.failed = Some(e);
            }
        }
    }

    fn open(&mut self, tag: &str) {
        self.open_with(tag, &[]);
    }

    fn open_with(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.write(Event::Start(
            BytesStart::new(tag).with_attributes(attrs.iter().copied()),
        ));
    }

    fn close(&mut self, tag: &str) {
        self.write(Event::End(BytesEnd::new(tag)));
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.leaf_with(tag, &[], text);
    }

    fn leaf_with(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.open_with(tag, attrs);
        self.write(Event::Text(BytesText::new(text)));
        self.close(tag);
    }

    fn finish(self) -> Result<String, FormatError> {
        if let Some(e) = self.failed {
            return Err(FormatError::Write(e.to_string()));
        }
        let mut out = String::from_utf8(self.writer.into_inner())
            .map_err(|e| FormatError::Write(e.to_string()))?;
        out.push('\n');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn xsd_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/xsd/pain.001.001.03.xsd")
    }

    /// Validates `xml` against the official schema with xmllint. Returns whether it passed and
    /// what xmllint said. A missing xmllint fails the test: schema validity is the point.
    fn xmllint(xml: &str) -> Result<(bool, String), Box<dyn std::error::Error>> {
        let xsd = xsd_path();
        assert!(xsd.is_file(), "schema missing at {}", xsd.display());
        let mut file = tempfile::Builder::new().suffix(".xml").tempfile()?;
        file.write_all(xml.as_bytes())?;
        file.flush()?;
        let output = match Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(file.path())
            .output()
        {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "xmllint is not installed; install libxml2-utils \
                 (apt-get install -y libxml2-utils) to run the schema tests"
            ),
            Err(e) => return Err(e.into()),
        };
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok((output.status.success(), said))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => date,
            None => panic!("test date {y}-{m}-{d} does not exist"),
        }
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
        match date(y, m, d).and_hms_opt(h, min, s) {
            Some(at) => at,
            None => panic!("test time {h}:{min}:{s} does not exist"),
        }
    }

    fn account(sort_code: &str, account_number: &str, name: &str) -> BankAccount {
        BankAccount {
            sort_code: sort_code.to_owned(),
            account_number: account_number.to_owned(),
            name: name.to_owned(),
        }
    }

    fn transfer(id: &str, name: &str, pence: i64, remittance: &str) -> Pain001Payment {
        Pain001Payment {
            end_to_end_id: id.to_owned(),
            creditor: account("20-00-00", "55779911", name),
            amount: Decimal::new(pence, 2),
            remittance: remittance.to_owned(),
        }
    }

    fn sample() -> Pain001 {
        Pain001 {
            message_id: "RUN-2025-03-0042".to_owned(),
            created_at: at(2025, 3, 3, 9, 30, 15),
            initiating_party: "Anytown Council".to_owned(),
            debtor: account("60-16-13", "31926819", "Anytown Council Direct Payments"),
            debtor_iban: None,
            requested_execution_date: date(2025, 3, 5),
            payments: vec![
                transfer("RUN42-L1", "Bright Care Ltd", 125_050, "INV 1001"),
                // Characters that must be escaped, and some that need UTF-8.
                transfer(
                    "RUN42-L2",
                    "Smith & Sons <Care> \"Ltd\" 'Home'",
                    4_999,
                    "Siân's a&b <wk 10>",
                ),
                transfer("RUN42-L3", "Home Adapt", 1, ""),
            ],
        }
    }

    #[test]
    fn sample_is_valid_against_the_official_schema() -> TestResult {
        let xml = encode_pain001(&sample())?;
        let (valid, said) = xmllint(&xml)?;
        assert!(valid, "xmllint rejected the document:\n{said}\n{xml}");
        Ok(())
    }

    #[test]
    fn sample_with_iban_is_valid_against_the_official_schema() -> TestResult {
        let mut doc = sample();
        doc.debtor_iban = Some("gb29 nwbk 6016 1331 9268 19".to_owned());
        let xml = encode_pain001(&doc)?;
        assert!(xml.contains("<IBAN>GB29NWBK60161331926819</IBAN>"));
        let (valid, said) = xmllint(&xml)?;
        assert!(valid, "xmllint rejected the document:\n{said}\n{xml}");
        Ok(())
    }

    #[test]
    fn long_names_and_remittance_stay_valid() -> TestResult {
        let mut doc = sample();
        doc.initiating_party = "N".repeat(300);
        doc.payments[0].creditor.name = "Ŵ".repeat(200);
        doc.payments[0].remittance = "r\u{0001}e\tm\n".repeat(100);
        let xml = encode_pain001(&doc)?;
        assert!(xml.contains(&format!("<Nm>{}</Nm>", "N".repeat(140))));
        assert!(xml.contains(&format!("<Nm>{}</Nm>", "Ŵ".repeat(140))));
        let (valid, said) = xmllint(&xml)?;
        assert!(valid, "xmllint rejected the document:\n{said}\n{xml}");
        Ok(())
    }

    #[test]
    fn xmllint_rejects_broken_documents() -> TestResult {
        let mut doc = sample();
        doc.payments[2].amount = Decimal::new(1234, 2);
        let xml = encode_pain001(&doc)?;
        let (valid, said) = xmllint(&xml)?;
        assert!(valid, "the unbroken document must pass first:\n{said}");
        // Each breaks the schema in a different way, and each must be caught.
        let broken = [
            xml.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>"),
            xml.replacen("<NbOfTxs>3</NbOfTxs>", "", 1),
            xml.replace("Ccy=\"GBP\">12.34<", "Ccy=\"GBP\">12.345678<"),
            xml.replace("Ccy=\"GBP\"", "Ccy=\"gbp\""),
            xml.replace(
                "<MsgId>RUN-2025-03-0042</MsgId>",
                &format!("<MsgId>{}</MsgId>", "M".repeat(36)),
            ),
            // Not even well-formed.
            xml.replace("</GrpHdr>", "</GrpHeader>"),
        ];
        for (i, bad) in broken.iter().enumerate() {
            assert_ne!(bad, &xml, "breakage {i} did not change the document");
            let (valid, said) = xmllint(bad)?;
            assert!(!valid, "xmllint accepted broken document {i}:\n{bad}");
            assert!(!said.trim().is_empty(), "xmllint gave no reason for {i}");
        }
        Ok(())
    }

    #[test]
    fn counts_sums_and_amounts_have_exact_form() -> TestResult {
        let xml = encode_pain001(&sample())?;
        assert_eq!(xml.matches("<NbOfTxs>3</NbOfTxs>").count(), 2);
        assert_eq!(xml.matches("<CtrlSum>1300.50</CtrlSum>").count(), 2);
        assert!(xml.contains("<InstdAmt Ccy=\"GBP\">1250.50</InstdAmt>"));
        assert!(xml.contains("<InstdAmt Ccy=\"GBP\">49.99</InstdAmt>"));
        assert!(xml.contains("<InstdAmt Ccy=\"GBP\">0.01</InstdAmt>"));
        assert_eq!(xml.matches("<CdtTrfTxInf>").count(), 3);

        let mut doc = sample();
        doc.payments = (1..=300)
            .map(|p| transfer(&format!("E2E-{p}"), "Payee", p, ""))
            .collect();
        doc.payments[0].amount = Decimal::new(70, 0); // whole pounds still get two decimals
        let xml = encode_pain001(&doc)?;
        // 0.02 + ... + 3.00 plus 70.00 = 451.49 + 70.00
        assert!(xml.contains("<CtrlSum>521.49</CtrlSum>"));
        assert!(xml.contains("<InstdAmt Ccy=\"GBP\">70.00</InstdAmt>"));
        assert!(xml.contains("<NbOfTxs>300</NbOfTxs>"));
        Ok(())
    }

    #[test]
    fn header_dates_and_uk_account_form() -> TestResult {
        let xml = encode_pain001(&sample())?;
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\""));
        assert!(xml.contains("<CreDtTm>2025-03-03T09:30:15</CreDtTm>"));
        assert!(xml.contains("<ReqdExctnDt>2025-03-05</ReqdExctnDt>"));
        assert!(xml.contains("<PmtInfId>RUN-2025-03-0042</PmtInfId>"));
        let debtor_agent = "<DbtrAgt>\n        <FinInstnId>\n          <ClrSysMmbId>\n            \
             <ClrSysId>\n              <Cd>GBDSC</Cd>\n            </ClrSysId>\n            \
             <MmbId>601613</MmbId>";
        assert!(xml.contains(debtor_agent), "{xml}");
        assert!(xml.contains("<Othr>\n            <Id>31926819</Id>\n          </Othr>"));
        assert!(xml.contains("<MmbId>200000</MmbId>"));
        assert!(xml.contains("<Id>55779911</Id>"));
        Ok(())
    }

    #[test]
    fn text_is_escaped() -> TestResult {
        let xml = encode_pain001(&sample())?;
        assert!(
            xml.contains("<Nm>Smith &amp; Sons &lt;Care&gt; &quot;Ltd&quot; &apos;Home&apos;</Nm>")
        );
        assert!(xml.contains("<Ustrd>Siân&apos;s a&amp;b &lt;wk 10&gt;</Ustrd>"));
        // Empty remittance leaves the optional block out rather than writing an empty one.
        assert_eq!(xml.matches("<RmtInf>").count(), 2);
        Ok(())
    }

    #[test]
    fn identifiers_are_refused_not_cut() {
        let mut doc = sample();
        doc.message_id = "M".repeat(36);
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::TextTooLong { ref field, length: 36, max: 35, .. }) if field == "message_id"
        ));
        let mut doc = sample();
        doc.payments[1].end_to_end_id = "  ".to_owned();
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::EmptyText { ref field }) if field == "payments[1].end_to_end_id"
        ));
        let mut doc = sample();
        doc.payments[1].end_to_end_id = "A\u{0007}B".to_owned();
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::InvalidText { .. })
        ));
        let mut doc = sample();
        doc.payments[2].end_to_end_id = "RUN42-L1".to_owned();
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::InvalidText { ref field, .. }) if field == "payments[2].end_to_end_id"
        ));
        // Exactly 35 is fine.
        let mut doc = sample();
        doc.message_id = "M".repeat(35);
        assert!(encode_pain001(&doc).is_ok());
    }

    #[test]
    fn validation_errors() {
        let mut doc = sample();
        doc.payments.clear();
        assert_eq!(encode_pain001(&doc), Err(FormatError::NoPayments));

        let mut doc = sample();
        doc.payments[0].amount = Decimal::new(100_001, 3);
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::SubPennyAmount { .. })
        ));

        let mut doc = sample();
        doc.payments[0].amount = Decimal::ZERO;
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::NonPositiveAmount { .. })
        ));

        let mut doc = sample();
        doc.payments[0].creditor.sort_code = "2000".to_owned();
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::InvalidSortCode { .. })
        ));

        let mut doc = sample();
        doc.debtor.name = "\t\n".to_owned();
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::EmptyText { ref field }) if field == "debtor.name"
        ));

        let mut doc = sample();
        doc.requested_execution_date = date(2025, 3, 2);
        assert!(matches!(
            encode_pain001(&doc),
            Err(FormatError::InvalidDate { .. })
        ));
    }

    #[test]
    fn iban_checks() {
        let cases = [
            ("GB28NWBK60161331926819", "check digits"),
            ("GB29NWBK60161331926818", "check digits"),
            ("GB29 NWBK 6016 13", "check digits"),
            ("29GBNWBK60161331926819", "form"),
            ("GB29NWBK6016133192681!", "form"),
            // Valid IBAN, but for a different account than the debtor's.
            ("GB33BUKB20201555555555", "mismatch"),
        ];
        for (iban, why) in cases {
            let mut doc = sample();
            doc.debtor_iban = Some(iban.to_owned());
            assert!(
                matches!(encode_pain001(&doc), Err(FormatError::InvalidIban { .. })),
                "{iban} ({why})"
            );
        }
        // A valid non-GB IBAN is accepted as is.
        let mut doc = sample();
        doc.debtor_iban = Some("DE89370400440532013000".to_owned());
        assert!(encode_pain001(&doc).is_ok());
    }

    #[test]
    fn encoding_is_deterministic() -> TestResult {
        assert_eq!(encode_pain001(&sample())?, encode_pain001(&sample())?);
        Ok(())
    }
}
