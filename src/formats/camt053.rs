//! ISO 20022 camt.053 bank-to-customer statements, versions `camt.053.001.02` and
//! `camt.053.001.08`, chosen by the root element's namespace. Pure: bytes in, a [`Statement`]
//! out. The official schemas are kept in `fixtures/xsd/` and the test fixtures are checked
//! against them with `xmllint --schema`; here the parts allot uses are read and checked (one
//! statement per file, GBP, amounts in pence, the balances allot needs).
//!
//! Only booked entries (`BOOK`) become lines; pending and information-only entries are left out.
//! An entry's reference is its transaction's `EndToEndId` (what allot put in the pain.001 file),
//! and its remittance text the unstructured remittance lines joined.

use chrono::NaiveDate;
use quick_xml::events::Event;
use rust_decimal::Decimal;
use serde::Deserialize;

/// Which camt.053 version a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Camt053Version {
    V02,
    V08,
}

impl Camt053Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Camt053Version::V02 => "camt.053.001.02",
            Camt053Version::V08 => "camt.053.001.08",
        }
    }
}

const NS_V02: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02";
const NS_V08: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

/// Money in or out of the account, as the bank says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Credit,
    Debit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }
}

/// One booked entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLine {
    pub direction: Direction,
    /// More than zero, whole pence.
    pub amount: Decimal,
    pub booked_on: NaiveDate,
    pub value_on: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub bank_reference: Option<String>,
    pub remittance: Option<String>,
    pub counterparty: Option<String>,
}

/// A statement as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub version: Camt053Version,
    /// The statement's `Id`.
    pub id: String,
    /// `ElctrncSeqNb` (0 when absent).
    pub sequence: Decimal,
    /// The IBAN or other account id.
    pub account: Option<String>,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    /// Signed: a debit balance is negative.
    pub opening_balance: Decimal,
    pub closing_balance: Decimal,
    /// Booked entries only.
    pub lines: Vec<StatementLine>,
}

impl Statement {
    /// Whether opening + credits − debits = closing.
    pub fn balances(&self) -> bool {
        let moved: Decimal = self
            .lines
            .iter()
            .map(|l| match l.direction {
                Direction::Credit => l.amount,
                Direction::Debit => -l.amount,
            })
            .sum();
        self.opening_balance + moved == self.closing_balance
    }
}

/// Why a document is not a statement allot can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{element}: {reason}")]
pub struct Camt053Error {
    /// The element (or `document`) at fault.
    pub element: String,
    pub reason: String,
}

fn error(element: &str, reason: impl Into<String>) -> Camt053Error {
    Camt053Error {
        element: element.to_owned(),
        reason: reason.into(),
    }
}

/// The version named by the root element's namespace.
pub fn version(xml: &[u8]) -> Result<Camt053Version, Camt053Error> {
    let mut reader = quick_xml::NsReader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(start))) => {
                if start.local_name().into_inner() != "Document" {
                    return Err(error("document", "the root element must be Document"));
                }
                return match ns {
                    quick_xml::name::ResolveResult::Bound(ns) if ns.into_inner() == NS_V02 => {
                        Ok(Camt053Version::V02)
                    }
                    quick_xml::name::ResolveResult::Bound(ns) if ns.into_inner() == NS_V08 => {
                        Ok(Camt053Version::V08)
                    }
                    _ => Err(error(
                        "Document",
                        format!("the namespace must be {NS_V02} or {NS_V08}"),
                    )),
                };
            }
            Ok((_, Event::Eof)) => return Err(error("document", "no root element")),
            Ok((_, Event::DocType(_))) => {
                return Err(error("document", "a DOCTYPE is not allowed"));
            }
            Ok(_) => {}
            Err(e) => return Err(error("document", format!("not well-formed XML: {e}"))),
        }
        buf.clear();
    }
}

/// Reads a camt.053 document holding one statement.
pub fn parse(xml: &[u8]) -> Result<Statement, Camt053Error> {
    let version = version(xml)?;
    let text = std::str::from_utf8(xml).map_err(|_| error("document", "not UTF-8"))?;
    let document: Document = quick_xml::de::from_str(text)
        .map_err(|e| error("document", format!("not a camt.053 statement: {e}")))?;
    let mut statements = document.statement.statements;
    if statements.len() != 1 {
        return Err(error(
            "Stmt",
            format!("one statement per file (this one has {})", statements.len()),
        ));
    }
    let stmt = statements.remove(0);
    read_statement(version, stmt)
}

fn read_statement(version: Camt053Version, stmt: Stmt) -> Result<Statement, Camt053Error> {
    let id = stmt.id.trim().to_owned();
    if id.is_empty() || id.chars().count() > 35 {
        return Err(error("Stmt/Id", "1 to 35 characters"));
    }
    let sequence = match stmt.sequence.as_deref().map(str::trim) {
        None | Some("") => Decimal::ZERO,
        Some(text) => text
            .parse::<Decimal>()
            .ok()
            .filter(|d| d.scale() == 0 && *d >= Decimal::ZERO && text.len() <= 18)
            .ok_or_else(|| error("Stmt/ElctrncSeqNb", "a whole number"))?,
    };
    let balance = |codes: &[&str]| -> Result<Option<Decimal>, Camt053Error> {
        for code in codes {
            if let Some(bal) = stmt.balances.iter().find(|b| b.code() == Some(code)) {
                let amount = amount("Stmt/Bal/Amt", &bal.amount, false)?;
                return Ok(Some(signed(&bal.indicator, amount, "Stmt/Bal/CdtDbtInd")?));
            }
        }
        Ok(None)
    };
    let opening_balance = balance(&["OPBD", "PRCD"])?
        .ok_or_else(|| error("Stmt/Bal", "no opening booked balance (OPBD or PRCD)"))?;
    let closing_balance =
        balance(&["CLBD"])?.ok_or_else(|| error("Stmt/Bal", "no closing booked balance (CLBD)"))?;
    let mut lines = Vec::new();
    for (i, entry) in stmt.entries.into_iter().enumerate() {
        let at = |name: &str| format!("Stmt/Ntry[{}]/{name}", i + 1);
        if !entry.status.is_booked() {
            continue;
        }
        if entry.reversal.as_deref().map(str::trim) == Some("true") {
            // A reversal is booked as the opposite direction already; nothing special to do.
        }
        let line_amount = amount(&at("Amt"), &entry.amount, true)?;
        let direction = match entry.indicator.trim() {
            "CRDT" => Direction::Credit,
            "DBIT" => Direction::Debit,
            _ => return Err(error(&at("CdtDbtInd"), "CRDT or DBIT")),
        };
        let booked_on = entry
            .booking_date
            .as_ref()
            .and_then(DateChoice::date)
            .ok_or_else(|| error(&at("BookgDt"), "a booked entry needs its booking date"))?;
        let details: Vec<&TxDtls> = entry
            .details
            .iter()
            .flat_map(|d| d.transactions.iter())
            .collect();
        let single = (details.len() == 1).then(|| details[0]);
        let end_to_end_id = single
            .and_then(|t| t.refs.as_ref())
            .and_then(|r| r.end_to_end_id.as_deref())
            .map(str::trim)
            .filter(|r| !r.is_empty() && *r != "NOTPROVIDED")
            .map(|r| clip(r, 35));
        let remittance = single
            .and_then(|t| t.remittance.as_ref())
            .map(|r| r.unstructured.join(" "))
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .map(|r| clip(&r, 500));
        let counterparty = single
            .and_then(|t| t.parties.as_ref())
            .and_then(|p| match direction {
                Direction::Credit => p.debtor.as_ref(),
                Direction::Debit => p.creditor.as_ref(),
            })
            .and_then(Party::name)
            .map(|n| clip(n, 140));
        lines.push(StatementLine {
            direction,
            amount: line_amount,
            booked_on,
            value_on: entry.value_date.as_ref().and_then(DateChoice::date),
            end_to_end_id,
            bank_reference: entry
                .bank_reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| clip(r, 35)),
            remittance,
            counterparty,
        });
    }
    Ok(Statement {
        version,
        id,
        sequence,
        account: stmt.account.id.iban.or(stmt.account.id.other.map(|o| o.id)),
        from_date: stmt.period.as_ref().and_then(|p| date_of(&p.from)),
        to_date: stmt.period.as_ref().and_then(|p| date_of(&p.to)),
        opening_balance,
        closing_balance,
        lines,
    })
}

fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn date_of(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim().get(..10)?, "%Y-%m-%d").ok()
}

fn amount(element: &str, amt: &Amount, positive: bool) -> Result<Decimal, Camt053Error> {
    if amt.currency.trim() != "GBP" {
        return Err(error(element, "only statements in GBP are read"));
    }
    let text = amt.value.trim();
    let value: Decimal = text
        .parse()
        .map_err(|_| error(element, "an amount, like 12.50"))?;
    if value.normalize().scale() > 2 || text.starts_with('-') || text.contains(['e', 'E']) {
        return Err(error(element, "a non-negative amount in pounds and pence"));
    }
    if value > crate::money::max_amount() || (positive && value.is_zero()) {
        return Err(error(element, "out of range"));
    }
    Ok(value.round_dp(2))
}

fn signed(indicator: &str, amount: Decimal, element: &str) -> Result<Decimal, Camt053Error> {
    match indicator.trim() {
        "CRDT" => Ok(amount),
        "DBIT" => Ok(-amount),
        _ => Err(error(element, "CRDT or DBIT")),
    }
}

// The parts of the document allot reads; quick-xml ignores the rest.

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "BkToCstmrStmt")]
    statement: BkToCstmrStmt,
}

#[derive(Deserialize)]
struct BkToCstmrStmt {
    #[serde(rename = "Stmt", default)]
    statements: Vec<Stmt>,
}

#[derive(Deserialize)]
struct Stmt {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "ElctrncSeqNb")]
    sequence: Option<String>,
    #[serde(rename = "FrToDt")]
    period: Option<FrToDt>,
    #[serde(rename = "Acct")]
    account: Acct,
    #[serde(rename = "Bal", default)]
    balances: Vec<Bal>,
    #[serde(rename = "Ntry", default)]
    entries: Vec<Ntry>,
}

#[derive(Deserialize)]
struct FrToDt {
    #[serde(rename = "FrDtTm")]
    from: String,
    #[serde(rename = "ToDtTm")]
    to: String,
}

#[derive(Deserialize)]
struct Acct {
    #[serde(rename = "Id")]
    id: AcctId,
}

#[derive(Deserialize)]
struct AcctId {
    #[serde(rename = "IBAN")]
    iban: Option<String>,
    #[serde(rename = "Othr")]
    other: Option<Othr>,
}

#[derive(Deserialize)]
struct Othr {
    #[serde(rename = "Id")]
    id: String,
}

#[derive(Deserialize)]
struct Bal {
    #[serde(rename = "Tp")]
    kind: BalTp,
    #[serde(rename = "Amt")]
    amount: Amount,
    #[serde(rename = "CdtDbtInd")]
    indicator: String,
}

impl Bal {
    fn code(&self) -> Option<&str> {
        self.kind.code_or_proprietary.code.as_deref().map(str::trim)
    }
}

#[derive(Deserialize)]
struct BalTp {
    #[serde(rename = "CdOrPrtry")]
    code_or_proprietary: CodeChoice,
}

#[derive(Deserialize)]
struct CodeChoice {
    #[serde(rename = "Cd")]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Amount {
    #[serde(rename = "@Ccy")]
    currency: String,
    #[serde(rename = "$text")]
    value: String,
}

#[derive(Deserialize)]
struct Ntry {
    #[serde(rename = "Amt")]
    amount: Amount,
    #[serde(rename = "CdtDbtInd")]
    indicator: String,
    #[serde(rename = "RvslInd")]
    reversal: Option<String>,
    #[serde(rename = "Sts")]
    status: EntryStatus,
    #[serde(rename = "BookgDt")]
    booking_date: Option<DateChoice>,
    #[serde(rename = "ValDt")]
    value_date: Option<DateChoice>,
    #[serde(rename = "AcctSvcrRef")]
    bank_reference: Option<String>,
    #[serde(rename = "NtryDtls", default)]
    details: Vec<NtryDtls>,
}

/// `BOOK` as text (version 02) or as `<Cd>BOOK</Cd>` (version 08).
#[derive(Deserialize)]
struct EntryStatus {
    #[serde(rename = "$text")]
    text: Option<String>,
    #[serde(rename = "Cd")]
    code: Option<String>,
}

impl EntryStatus {
    fn is_booked(&self) -> bool {
        self.code.as_deref().or(self.text.as_deref()).map(str::trim) == Some("BOOK")
    }
}

#[derive(Deserialize)]
struct DateChoice {
    #[serde(rename = "Dt")]
    date: Option<String>,
    #[serde(rename = "DtTm")]
    date_time: Option<String>,
}

impl DateChoice {
    fn date(&self) -> Option<NaiveDate> {
        self.date
            .as_deref()
            .or(self.date_time.as_deref())
            .and_then(date_of)
    }
}

#[derive(Deserialize)]
struct NtryDtls {
    #[serde(rename = "TxDtls", default)]
    transactions: Vec<TxDtls>,
}

#[derive(Deserialize)]
struct TxDtls {
    #[serde(rename = "Refs")]
    refs: Option<Refs>,
    #[serde(rename = "RltdPties")]
    parties: Option<RltdPties>,
    #[serde(rename = "RmtInf")]
    remittance: Option<RmtInf>,
}

#[derive(Deserialize)]
struct Refs {
    #[serde(rename = "EndToEndId")]
    end_to_end_id: Option<String>,
}

#[derive(Deserialize)]
struct RltdPties {
    #[serde(rename = "Dbtr")]
    debtor: Option<Party>,
    #[serde(rename = "Cdtr")]
    creditor: Option<Party>,
}

/// A party: `<Nm>` directly (version 02) or inside `<Pty>` (version 08).
#[derive(Deserialize)]
struct Party {
    #[serde(rename = "Nm")]
    name: Option<String>,
    #[serde(rename = "Pty")]
    party: Option<Box<Party>>,
}

impl Party {
    fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or_else(|| self.party.as_ref().and_then(|p| p.name.as_deref()))
            .map(str::trim)
            .filter(|n| !n.is_empty())
    }
}

#[derive(Deserialize)]
struct RmtInf {
    #[serde(rename = "Ustrd", default)]
    unstructured: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const V02: &str = include_str!("../../fixtures/camt053/statement.001.02.xml");
    const V08: &str = include_str!("../../fixtures/camt053/statement.001.08.xml");

    #[test]
    fn both_versions_read_the_same_statement() {
        let a = parse(V02.as_bytes()).unwrap();
        let b = parse(V08.as_bytes()).unwrap();
        assert_eq!(a.version, Camt053Version::V02);
        assert_eq!(b.version, Camt053Version::V08);
        assert_eq!(a.lines, b.lines);
        assert!(a.balances() && b.balances());
        assert_eq!(a.opening_balance, Decimal::new(50000, 2));
        // The pending entry is left out.
        assert_eq!(a.lines.len(), 3);
        assert_eq!(a.lines[0].end_to_end_id.as_deref(), Some("E2E-REF-0001"));
        assert_eq!(a.lines[1].counterparty.as_deref(), Some("Helping Hands"));
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(parse(b"<Document/>").is_err());
        assert!(parse(b"not xml").is_err());
        let other_ns = V02.replace("camt.053.001.02", "camt.052.001.02");
        assert!(parse(other_ns.as_bytes()).is_err());
        let dollars = V02.replace("Ccy=\"GBP\"", "Ccy=\"USD\"");
        assert!(parse(dollars.as_bytes()).is_err());
        let pennies = V02.replace(">120.00<", ">120.001<");
        assert!(parse(pennies.as_bytes()).is_err());
        let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{V02}");
        assert!(parse(doctype.as_bytes()).is_err());
    }
}
