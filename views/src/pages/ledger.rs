//! Ledger pages: an account's statement (balances, lines with the running balance, paged) and one
//! entry (legs, decision record, reversals, seal). Written for the budget holder as much as for
//! council staff: money in and money out rather than credits and debits, with the technical side
//! alongside on the entry page.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::error_summary;
use crate::layout::{page, Shell};
use crate::money::Gbp;

/// The budget an account belongs to.
#[derive(Debug, Clone)]
pub struct BudgetLink {
    pub id: Uuid,
    pub reference: String,
    pub person_name: String,
    /// Whether the viewer may open the budget page (else the reference is shown unlinked).
    pub visible: bool,
}

/// One line of a statement.
#[derive(Debug, Clone)]
pub struct StatementRow {
    pub entry_id: Uuid,
    pub effective_date: NaiveDate,
    pub description: String,
    pub money_in: Option<Decimal>,
    pub money_out: Option<Decimal>,
    pub balance: Decimal,
    /// Set when this line's entry reverses another.
    pub reverses: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct AccountPage {
    pub id: Uuid,
    /// The page's heading.
    pub title: String,
    /// The ledger's name for the account.
    pub name: String,
    /// What the account is for, in words.
    pub kind: String,
    /// Who holds the money, in words, when known.
    pub holder: Option<String>,
    pub budget: Option<BudgetLink>,
    pub no_overdraft: bool,
    pub posted: Decimal,
    pub pending: Decimal,
    pub available: Decimal,
    /// The filter as typed (kept when it could not be read).
    pub from: String,
    pub to: String,
    pub errors: Vec<String>,
    pub opening_balance: Decimal,
    pub lines: Vec<StatementRow>,
    /// The next page, when there is one.
    pub next_href: Option<String>,
    /// The first page, when this is a later one.
    pub first_href: Option<String>,
    /// Balance and weeks of funding at each month end.
    pub history: Option<crate::pages::pictures::BalancePicture>,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn moment(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y, %H:%M:%S UTC").to_string()
}

pub fn account(shell: &Shell, data: &AccountPage) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            (error_summary(&data.errors))
            dl.summary {
                dt { "Account" } dd { (data.name) }
                dt { "For" } dd { (data.kind) }
                @if let Some(holder) = &data.holder { dt { "Held by" } dd { (holder) } }
                @if let Some(budget) = &data.budget {
                    dt { "Budget" }
                    dd {
                        @if budget.visible {
                            a href={ "/budgets/" (budget.id) } { (budget.reference) }
                        } @else {
                            (budget.reference)
                        }
                        " — " (budget.person_name)
                    }
                }
                @if data.no_overdraft { dt { "Overdraft" } dd { "Not allowed: payments cannot take it below zero" } }
            }
            h2 { "Balances" }
            dl.summary.balances {
                dt { "Posted" } dd { (Gbp(data.posted)) }
                dt { "Including pending" } dd { (Gbp(data.pending)) }
                dt { "Available to spend" } dd { (Gbp(data.available)) }
            }
            @if let Some(history) = &data.history { (crate::pages::pictures::balance(history)) }
            h2 { "Statement" }
            form.filter method="get" action={ "/accounts/" (data.id) } {
                div.field {
                    label for="from" { "From" }
                    input #from type="date" name="from" value=(data.from);
                }
                div.field {
                    label for="to" { "To" }
                    input #to type="date" name="to" value=(data.to);
                }
                button.secondary type="submit" { "Show" }
            }
            @if data.lines.is_empty() {
                p { "No posted entries in this period." }
            } @else {
                table.statement {
                    caption.visually-hidden { "Posted entries with the balance after each" }
                    thead { tr {
                        th scope="col" { "Date" } th scope="col" { "Description" }
                        th.num scope="col" { "Money in" } th.num scope="col" { "Money out" }
                        th.num scope="col" { "Balance" }
                    } }
                    tbody {
                        tr.opening {
                            td {} td { "Balance brought forward" } td {} td {}
                            td.num { (Gbp(data.opening_balance)) }
                        }
                        @for line in &data.lines {
                            tr {
                                td { (day(line.effective_date)) }
                                td {
                                    a href={ "/entries/" (line.entry_id) } { (line.description) }
                                    @if let Some(original) = line.reverses {
                                        " " a.tag href={ "/entries/" (original) } { "Reversal" }
                                    }
                                }
                                td.num { @if let Some(amount) = line.money_in { (Gbp(amount)) } }
                                td.num { @if let Some(amount) = line.money_out { (Gbp(amount)) } }
                                td.num { (Gbp(line.balance)) }
                            }
                        }
                    }
                }
            }
            @if data.first_href.is_some() || data.next_href.is_some() {
                nav.pages aria-label="Statement pages" {
                    @if let Some(first) = &data.first_href { a href=(first) { "First page" } " " }
                    @if let Some(next) = &data.next_href { a rel="next" href=(next) { "Next page" } }
                }
            }
        },
    )
}

/// A value of an entry's decision record, as a tree of text.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordValue {
    Text(String),
    List(Vec<RecordValue>),
    Fields(Vec<(String, RecordValue)>),
}

/// One leg of an entry.
#[derive(Debug, Clone)]
pub struct LegRow {
    /// The account, when the viewer may see it (else the leg shows "another account").
    pub account: Option<(Uuid, String)>,
    pub credit: bool,
    pub amount: Decimal,
}

/// The link sealing an entry into the council's hash chain.
#[derive(Debug, Clone)]
pub struct SealRow {
    pub position: i64,
    pub hash: String,
    pub prev_hash: String,
    pub sealed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct EntryPage {
    pub id: Uuid,
    /// posted, pending, voided or expired.
    pub status: &'static str,
    pub is_hold: bool,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    pub legs: Vec<LegRow>,
    pub record: RecordValue,
    pub reverses: Option<Uuid>,
    pub reversed_by: Option<Uuid>,
    /// For the posting of a hold: the hold.
    pub hold_id: Option<Uuid>,
    /// For a posted hold: the entry that posted it.
    pub posted_by: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub seal: Option<SealRow>,
    /// The payment this entry posted, when the signed-in user may reverse it.
    pub reversible_payment: Option<Uuid>,
}

fn status_label(status: &str, is_hold: bool) -> &'static str {
    match (status, is_hold) {
        ("pending", _) => "Pending: money held, not yet paid",
        ("posted", true) => "Held, then paid",
        ("posted", false) => "Posted",
        ("voided", _) => "Voided: the hold was released",
        ("expired", _) => "Expired: the hold ran out and was released",
        _ => "Unknown",
    }
}

/// `requested_by` → `Requested by`.
fn field_label(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

fn record(value: &RecordValue) -> Markup {
    html! {
        @match value {
            RecordValue::Text(text) => { (text) }
            RecordValue::List(items) => {
                @if items.is_empty() { "none" } @else {
                    ul { @for item in items { li { (record(item)) } } }
                }
            }
            RecordValue::Fields(fields) => {
                @if fields.is_empty() { "nothing recorded" } @else {
                    dl.summary.record {
                        @for (key, value) in fields {
                            dt { (field_label(key)) }
                            dd { (record(value)) }
                        }
                    }
                }
            }
        }
    }
}

fn entry_link(label: &str, id: Uuid) -> Markup {
    html! { dt { (label) } dd { a href={ "/entries/" (id) } { (id) } } }
}

pub fn entry(shell: &Shell, data: &EntryPage) -> Markup {
    let total: Decimal = data
        .legs
        .iter()
        .filter(|l| l.credit)
        .map(|l| l.amount)
        .sum();
    let title = if data.description.trim().is_empty() {
        "Ledger entry"
    } else {
        data.description.as_str()
    };
    page(
        shell,
        title,
        html! {
            dl.summary.facts {
                dt { "Status" } dd { (status_label(data.status, data.is_hold)) }
                dt { "For the day" } dd { (day(data.effective_date)) }
                dt { "Recorded" } dd { (moment(data.recorded_at)) }
                dt { "Amount" } dd { (Gbp(total)) }
                @if let Some(at) = data.expires_at { dt { "Hold expires" } dd { (moment(at)) } }
                @if let Some(id) = data.reverses { (entry_link("Reverses", id)) }
                @if let Some(id) = data.reversed_by { (entry_link("Reversed by", id)) }
                @if let Some(id) = data.hold_id { (entry_link("Pays the hold", id)) }
                @if let Some(id) = data.posted_by { (entry_link("Paid by", id)) }
            }
            @if let Some(payment) = data.reversible_payment {
                p { a href={ "/payments/" (payment) "/reverse" } { "Reverse this payment" } }
            }
            h2 { "Where the money went" }
            table.legs {
                caption.visually-hidden { "The legs of this entry" }
                thead { tr {
                    th scope="col" { "Account" } th scope="col" { "Side" } th.num scope="col" { "Amount" }
                } }
                tbody {
                    @for leg in &data.legs {
                        tr {
                            td {
                                @match &leg.account {
                                    Some((id, name)) => { a href={ "/accounts/" (id) } { (name) } }
                                    None => { "Another account" }
                                }
                            }
                            td { @if leg.credit { "Credit (money in)" } @else { "Debit (money out)" } }
                            td.num { (Gbp(leg.amount)) }
                        }
                    }
                }
            }
            h2 { "Decision record" }
            p.hint { "Who asked for this, who approved it, and what the rules decided, as recorded with the entry." }
            (record(&data.record))
            h2 { "Tamper evidence" }
            @match &data.seal {
                Some(seal) => {
                    dl.summary.seal {
                        dt { "Sealed" } dd { (moment(seal.sealed_at)) }
                        dt { "Position in the chain" } dd { (seal.position) }
                        dt { "Hash" } dd { code { (seal.hash) } }
                        dt { "Previous hash" } dd { code { (seal.prev_hash) } }
                    }
                }
                None => { p { "Not sealed yet: entries are added to the council's hash chain shortly after they are recorded." } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_labels_read_as_words() {
        assert_eq!(field_label("requested_by"), "Requested by");
        assert_eq!(field_label("rule_set_version"), "Rule set version");
        assert_eq!(field_label(""), "");
    }

    #[test]
    fn records_escape_what_they_show() {
        let value = RecordValue::Fields(vec![(
            "<b>key</b>".into(),
            RecordValue::List(vec![RecordValue::Text("<script>x</script>".into())]),
        )]);
        let html = record(&value).into_string();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;key&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
