//! The managed-account provider's workspace: the worklist dashboard, invoices, timesheets,
//! payroll, bank statements with their reconciliation, and the monitoring return. View models
//! carry text already worded by the handlers; every value is escaped by maud.

use maud::{html, Markup};
use rust_decimal::Decimal;

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};
use crate::money::Gbp;
use crate::pages::payments::Choice;

/// One thing to do, linking to the page that does it.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub label: String,
    pub detail: String,
    pub href: String,
}

/// A heading of the worklist and its items.
#[derive(Debug, Clone)]
pub struct WorkSection {
    pub heading: &'static str,
    pub empty: &'static str,
    pub items: Vec<WorkItem>,
}

pub fn worklist(shell: &Shell, organisation: &str, sections: &[WorkSection]) -> Markup {
    page(
        shell,
        "Dashboard",
        html! {
            p { "What needs doing for the clients of " (organisation) "." }
            @for section in sections {
                section.worklist aria-labelledby={ "wl-" (slug(section.heading)) } {
                    h2 id={ "wl-" (slug(section.heading)) } {
                        (section.heading) " "
                        span.tag.warn[!section.items.is_empty()] { (section.items.len()) }
                    }
                    @if section.items.is_empty() {
                        p.hint { (section.empty) }
                    } @else {
                        ul {
                            @for item in &section.items {
                                li { a href=(item.href) { (item.label) } " — " (item.detail) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn text_field(id: &str, label: &str, kind: &str, value: &str, hint: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            @if let Some(hint) = hint { p.hint { (hint) } }
            input type=(kind) id=(id) name=(id) value=(value);
        }
    }
}

fn select(id: &str, label: &str, choices: &[Choice], chosen: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                @for c in choices {
                    option value=(c.value) selected[c.value == chosen] { (c.label) }
                }
            }
        }
    }
}

fn outcome(notice: &Option<(String, Vec<String>)>) -> Markup {
    html! {
        @if let Some((heading, sentences)) = notice {
            section.notice aria-live="polite" {
                h2 { (heading) }
                @for s in sentences { p { (s) } }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Invoices

#[derive(Debug, Clone)]
pub struct InvoiceRow {
    pub id: String,
    pub invoice_number: String,
    pub payee: String,
    pub budget_reference: String,
    pub due_on: String,
    pub total: Decimal,
    pub outstanding: Decimal,
    pub status: String,
}

pub struct InvoicesPage {
    pub rows: Vec<InvoiceRow>,
    pub statuses: Vec<Choice>,
    pub status: String,
    pub budget_reference: String,
}

pub fn invoices(shell: &Shell, data: &InvoicesPage) -> Markup {
    page(
        shell,
        "Invoices",
        html! {
            form method="get" action="/invoices" {
                (select("status", "Status", &data.statuses, &data.status))
                (text_field("budget", "Budget reference", "text", &data.budget_reference, Some("For example PB000123")))
                button type="submit" { "Show" }
            }
            @if data.rows.is_empty() {
                p { "No invoices match." }
            } @else {
                table {
                    caption.visually-hidden { "Invoices, by due date" }
                    thead { tr {
                        th scope="col" { "Invoice" } th scope="col" { "From" } th scope="col" { "Budget" }
                        th scope="col" { "Due" } th.num scope="col" { "Total" }
                        th.num scope="col" { "Outstanding" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for r in &data.rows {
                            tr {
                                td { a href={ "/invoices/" (r.id) } { (r.invoice_number) } }
                                td { (r.payee) } td { (r.budget_reference) } td { (r.due_on) }
                                td.num { (Gbp(r.total)) } td.num { (Gbp(r.outstanding)) }
                                td { span.tag { (r.status) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub struct InvoicePage {
    pub id: String,
    pub title: String,
    pub summary: Vec<(String, String)>,
    pub lines: Vec<(String, String, Decimal, Decimal)>,
    pub payments: Vec<(String, String)>,
    pub csrf_token: String,
    pub idempotency_key: String,
    pub errors: Vec<String>,
    pub outcome: Option<(String, Vec<String>)>,
    pub may_send: bool,
    pub amount: String,
    pub reason: String,
    /// What can be done now.
    pub can_pay: bool,
    pub can_dispute: bool,
    pub can_resolve: bool,
    pub can_reject: bool,
}

pub fn invoice(shell: &Shell, data: &InvoicePage) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            p { a href="/invoices" { "All invoices" } }
            (error_summary(&data.errors))
            (outcome(&data.outcome))
            dl.summary {
                @for (k, v) in &data.summary { dt { (k) } dd { (v) } }
            }
            h2 { "Lines" }
            table {
                thead { tr {
                    th scope="col" { "Description" } th.num scope="col" { "Quantity" }
                    th.num scope="col" { "Unit price" } th.num scope="col" { "Amount" }
                } }
                tbody {
                    @for (d, q, p, a) in &data.lines {
                        tr { td { (d) } td.num { (q) } td.num { (Gbp(*p)) } td.num { (Gbp(*a)) } }
                    }
                }
            }
            @if !data.payments.is_empty() {
                h2 { "Payments" }
                ul { @for (href, text) in &data.payments { li { a href=(href) { (text) } } } }
            }
            @if data.can_pay {
                h2 { "Pay this invoice" }
                form method="post" action={ "/invoices/" (data.id) "/pay" } novalidate {
                    (csrf_field(&data.csrf_token))
                    input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                    (text_field("amount", "Amount in pounds", "text", &data.amount, Some("Leave empty to pay everything outstanding")))
                    button type="submit" name="action" value="check" { "Check the payment" }
                    @if data.may_send {
                        " "
                        button.primary type="submit" name="action" value="send" { "Send the payment" }
                    }
                }
            }
            @if data.can_dispute || data.can_reject {
                h2 { "Dispute or reject" }
                form method="post" action={ "/invoices/" (data.id) "/decide" } novalidate {
                    (csrf_field(&data.csrf_token))
                    div.field {
                        label for="reason" { "Why" }
                        p.hint { "The payee and the person will read this." }
                        textarea id="reason" name="reason" rows="3" { (data.reason) }
                    }
                    @if data.can_dispute {
                        button type="submit" name="action" value="dispute" { "Dispute" } " "
                    }
                    @if data.can_reject {
                        button.danger type="submit" name="action" value="reject" { "Reject" }
                    }
                }
            }
            @if data.can_resolve {
                form method="post" action={ "/invoices/" (data.id) "/decide" } {
                    (csrf_field(&data.csrf_token))
                    button type="submit" name="action" value="resolve" { "Resolve the dispute" }
                }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Timesheets

#[derive(Debug, Clone)]
pub struct TimesheetRow {
    pub id: String,
    pub week_ending: String,
    pub assistant: String,
    pub budget_reference: String,
    pub hours: String,
    pub total: Decimal,
    pub allowance: Decimal,
    pub over_allowance: bool,
    pub status: String,
    pub version: i32,
    pub reason: Option<String>,
    pub decidable: bool,
    /// Whoever submitted it may correct it (submitted or rejected): the entries as text, one
    /// day a line (`date, hours, hourly rate`).
    pub correctable: bool,
    pub entries_text: String,
}

pub struct TimesheetsPage {
    pub rows: Vec<TimesheetRow>,
    pub csrf_token: String,
    pub errors: Vec<String>,
    /// The timesheet a refused rejection was for, and what was typed.
    pub typed: Option<(String, String)>,
    /// The timesheet a refused correction was for, and the entries typed.
    pub typed_entries: Option<(String, String)>,
}

pub fn timesheets(shell: &Shell, data: &TimesheetsPage) -> Markup {
    page(
        shell,
        "Timesheets",
        html! {
            (error_summary(&data.errors))
            @if data.rows.is_empty() {
                p { "No timesheets." }
            } @else {
                table {
                    caption.visually-hidden { "Personal assistants' timesheets, oldest week first" }
                    thead { tr {
                        th scope="col" { "Week ending" } th scope="col" { "Assistant" }
                        th scope="col" { "Budget" } th.num scope="col" { "Hours" }
                        th.num scope="col" { "Amount" } th scope="col" { "Status" }
                        th scope="col" { "Decide" }
                    } }
                    tbody {
                        @for r in &data.rows {
                            tr {
                                td { (r.week_ending) } td { (r.assistant) } td { (r.budget_reference) }
                                td.num { (r.hours) } td.num { (Gbp(r.total)) }
                                td {
                                    span.tag { (r.status) }
                                    @if r.version > 1 { " (version " (r.version) ")" }
                                    @if r.over_allowance {
                                        p { span.tag.warn { "Over the allowance" } " The week comes to more than the plan's " (Gbp(r.allowance)) "." }
                                    }
                                    @if let Some(reason) = &r.reason { p { "Rejected: " (reason) } }
                                }
                                td {
                                    @if r.decidable {
                                        form method="post" action={ "/timesheets/" (r.id) "/approve" } {
                                            (csrf_field(&data.csrf_token))
                                            button.primary type="submit" aria-label={ "Approve the timesheet of " (r.assistant) " for the week ending " (r.week_ending) } { "Approve" }
                                        }
                                        form method="post" action={ "/timesheets/" (r.id) "/reject" } {
                                            (csrf_field(&data.csrf_token))
                                            div.field {
                                                label for={ "reason-" (r.id) } { "Why reject it" }
                                                @let typed = data.typed.as_ref().filter(|(id, _)| *id == r.id).map(|(_, t)| t.as_str()).unwrap_or("");
                                                input type="text" id={ "reason-" (r.id) } name="reason" value=(typed);
                                            }
                                            button type="submit" { "Reject" }
                                        }
                                    }
                                    @if r.correctable {
                                        form method="post" action={ "/timesheets/" (r.id) "/correct" } {
                                            (csrf_field(&data.csrf_token))
                                            div.field {
                                                label for={ "entries-" (r.id) } { "Correct the hours" }
                                                p.hint { "One day a line: date, hours, hourly rate — for example 2025-02-03, 7.5, 12.50" }
                                                @let typed = data.typed_entries.as_ref().filter(|(id, _)| *id == r.id).map(|(_, t)| t.as_str()).unwrap_or(&r.entries_text);
                                                textarea id={ "entries-" (r.id) } name="entries" rows="4" { (typed) }
                                            }
                                            button type="submit" { "Submit the correction" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Payroll

#[derive(Debug, Clone, Default)]
pub struct PayrollValues {
    pub period_start: String,
    pub period_end: String,
    pub pay_date: String,
    pub hmrc_payee_id: String,
    pub pension_payee_id: String,
    pub csv: String,
}

/// One payslip's result: who, status, and each payment in words.
#[derive(Debug, Clone)]
pub struct PayslipLine {
    pub row: usize,
    pub assistant: String,
    pub status: String,
    pub payments: Vec<String>,
}

pub struct PayrollPage {
    pub csrf_token: String,
    pub idempotency_key: String,
    pub payees: Vec<Choice>,
    pub columns: String,
    pub values: PayrollValues,
    pub errors: Vec<String>,
    pub results: Vec<PayslipLine>,
}

pub fn payroll(shell: &Shell, data: &PayrollPage) -> Markup {
    let v = &data.values;
    page(
        shell,
        "Payroll",
        html! {
            (error_summary(&data.errors))
            @if !data.results.is_empty() {
                section.notice aria-live="polite" {
                    h2 { "The payroll run was loaded" }
                    table {
                        caption.visually-hidden { "What each payslip came to" }
                        thead { tr { th scope="col" { "Row" } th scope="col" { "Assistant" } th scope="col" { "Outcome" } th scope="col" { "Payments" } } }
                        tbody {
                            @for r in &data.results {
                                tr {
                                    td { (r.row) } td { (r.assistant) } td { span.tag { (r.status) } }
                                    td { @for p in &r.payments { p { (p) } } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Load the payroll bureau's results" }
            form method="post" action="/payroll" novalidate {
                (csrf_field(&data.csrf_token))
                input type="hidden" name="idempotency_key" value=(data.idempotency_key);
                (text_field("period_start", "First day of the pay period", "date", &v.period_start, None))
                (text_field("period_end", "Last day of the pay period", "date", &v.period_end, None))
                (text_field("pay_date", "Pay day", "date", &v.pay_date, None))
                (select("hmrc_payee_id", "Tax and National Insurance are paid to", &data.payees, &v.hmrc_payee_id))
                (select("pension_payee_id", "Pensions are paid to", &data.payees, &v.pension_payee_id))
                div.field {
                    label for="csv" { "Payslips (CSV)" }
                    p.hint { "Paste the file, a header row then one row per payslip. Columns: " (data.columns) "." }
                    textarea id="csv" name="csv" rows="8" { (v.csv) }
                }
                button.primary type="submit" { "Load and pay" }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Bank statements

#[derive(Debug, Clone)]
pub struct ClientAccountRow {
    pub account_id: String,
    pub person: String,
    pub budget_reference: String,
    pub deployment: String,
    pub balance: Decimal,
}

pub fn client_accounts(shell: &Shell, rows: &[ClientAccountRow]) -> Markup {
    page(
        shell,
        "Bank statements",
        html! {
            p { "Choose a client account to load its bank statement or reconcile it." }
            table {
                caption.visually-hidden { "Client accounts your organisation holds" }
                thead { tr { th scope="col" { "Client" } th scope="col" { "Budget" } th scope="col" { "Money" } th.num scope="col" { "Ledger balance" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href={ "/accounts/" (r.account_id) "/bank-statements" } { (r.person) } }
                            td { (r.budget_reference) } td { (r.deployment) } td.num { (Gbp(r.balance)) }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Debug, Clone)]
pub struct StatementRow {
    pub id: String,
    pub reference: String,
    pub period: String,
    pub closing: Decimal,
    pub unmatched: i64,
}

pub struct AccountStatementsPage {
    pub account_id: String,
    pub title: String,
    pub csrf_token: String,
    pub errors: Vec<String>,
    pub statements: Vec<StatementRow>,
}

pub fn account_statements(shell: &Shell, data: &AccountStatementsPage) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            p { a href="/bank-statements" { "All client accounts" } }
            (error_summary(&data.errors))
            h2 { "Load a statement" }
            form method="post" action={ "/accounts/" (data.account_id) "/bank-statements" } enctype="multipart/form-data" {
                (csrf_field(&data.csrf_token))
                div.field {
                    label for="statement" { "Statement file (camt.053 XML)" }
                    input type="file" id="statement" name="statement" accept=".xml,application/xml,text/xml";
                }
                button.primary type="submit" { "Load the statement" }
            }
            h2 { "Statements" }
            @if data.statements.is_empty() {
                p { "No statement has been loaded for this account." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Statement" } th scope="col" { "Period" } th.num scope="col" { "Closing balance" } th.num scope="col" { "Unmatched lines" } } }
                    tbody {
                        @for s in &data.statements {
                            tr {
                                td { a href={ "/bank-statements/" (s.id) } { (s.reference) } }
                                td { (s.period) } td.num { (Gbp(s.closing)) } td.num { (s.unmatched) }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Debug, Clone)]
pub struct BankLineRow {
    pub id: String,
    pub line_no: i32,
    pub booked_on: String,
    pub description: String,
    /// Money in positive, money out negative.
    pub amount: Decimal,
    /// How it is matched, in words; none when unmatched.
    pub matched: Option<String>,
    /// Postings it could be matched to (same direction and amount).
    pub candidates: Vec<Choice>,
}

pub struct StatementPage {
    pub title: String,
    pub account_id: String,
    pub csrf_token: String,
    pub errors: Vec<String>,
    pub summary: Vec<(String, String)>,
    pub explanation: Vec<String>,
    pub lines: Vec<BankLineRow>,
    pub unmatched_postings: Vec<(String, String, Decimal)>,
}

pub fn statement(shell: &Shell, data: &StatementPage) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            p { a href={ "/accounts/" (data.account_id) "/bank-statements" } { "The account's statements" } }
            (error_summary(&data.errors))
            dl.summary { @for (k, v) in &data.summary { dt { (k) } dd { (v) } } }
            section.notice { h2 { "The difference explained" } @for s in &data.explanation { p { (s) } } }
            h2 { "Lines" }
            table {
                thead { tr {
                    th scope="col" { "Line" } th scope="col" { "Booked" } th scope="col" { "Details" }
                    th.num scope="col" { "Amount" } th scope="col" { "Matched" }
                } }
                tbody {
                    @for l in &data.lines {
                        tr {
                            td { (l.line_no) } td { (l.booked_on) } td { (l.description) }
                            td.num { (Gbp(l.amount)) }
                            td {
                                @if let Some(m) = &l.matched {
                                    span.tag.ok { "Matched" } " " (m)
                                    form.inline method="post" action={ "/bank-statement-lines/" (l.id) "/unmatch" } {
                                        (csrf_field(&data.csrf_token))
                                        button type="submit" aria-label={ "Unmatch line " (l.line_no) } { "Unmatch" }
                                    }
                                } @else {
                                    span.tag.warn { "Unmatched" }
                                    @if l.candidates.is_empty() {
                                        p.hint { "No posting of this account has this amount and direction." }
                                    } @else {
                                        form method="post" action={ "/bank-statement-lines/" (l.id) "/match" } {
                                            (csrf_field(&data.csrf_token))
                                            (select(&format!("posting-{}", l.line_no), "Match to", &l.candidates, ""))
                                            button type="submit" aria-label={ "Match line " (l.line_no) } { "Match" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Postings no bank line is matched to" }
            @if data.unmatched_postings.is_empty() {
                p { "None." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Date" } th scope="col" { "Description" } th.num scope="col" { "Amount" } } }
                    tbody { @for (d, t, a) in &data.unmatched_postings { tr { td { (d) } td { (t) } td.num { (Gbp(*a)) } } } }
                }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Returns

pub struct ReturnPage {
    pub title: String,
    pub from: String,
    pub to: String,
    pub csrf_token: String,
    pub errors: Vec<String>,
    pub notice: Option<(String, Vec<String>)>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub submitted: Option<String>,
}

pub fn return_page(shell: &Shell, data: &ReturnPage) -> Markup {
    page(
        shell,
        &data.title,
        html! {
            (error_summary(&data.errors))
            (outcome(&data.notice))
            form.no-print method="get" action="/returns" {
                (text_field("from", "From", "date", &data.from, None))
                (text_field("to", "To", "date", &data.to, None))
                button type="submit" { "Show the return" }
            }
            p.print-only { "Period " (data.from) " to " (data.to) "." }
            table.return {
                caption { "One row per client account; every figure from the ledger" }
                thead { tr { @for c in &data.columns { th scope="col" { (c) } } } }
                tbody { @for r in &data.rows { tr { @for v in r { td { (v) } } } } }
            }
            @if let Some(s) = &data.submitted {
                p { span.tag.ok { "Submitted" } " " (s) }
            } @else {
                form.no-print method="post" action="/returns" {
                    (csrf_field(&data.csrf_token))
                    input type="hidden" name="from" value=(data.from);
                    input type="hidden" name="to" value=(data.to);
                    button.primary type="submit" { "Submit this return to the council" }
                }
            }
            p.no-print.hint { "Print this page for a paper copy: the navigation and forms are left off." }
        },
    )
}
