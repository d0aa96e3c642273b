//! The auditor's pages: reproducible samples (draw one, record findings on its payments) and
//! payments still missing their evidence.

use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One drawn sample in the list.
#[derive(Debug, Clone)]
pub struct SampleRow {
    pub id: String,
    pub seed: String,
    pub period: String,
    pub drawn: usize,
    pub findings: usize,
    pub drawn_at: String,
}

pub struct SamplesPage {
    pub samples: Vec<SampleRow>,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn samples(shell: &Shell, data: &SamplesPage) -> Markup {
    page(
        shell,
        "Audit samples",
        html! {
            (error_summary(&data.errors))
            p { "A sample is drawn from the payments posted between two dates, ordered by the SHA-256 of the seed followed by each payment's id. The same seed and dates over the same ledger always draw the same payments, so anyone can check it." }
            form method="post" action="/audit/samples" {
                (csrf_field(&data.csrf_token))
                label for="seed" { "Seed" } input id="seed" name="seed" required maxlength="200";
                label for="size" { "How many payments" } input id="size" name="size" type="number" min="1" max="1000" value="20" required;
                label for="from" { "Posted from" } input id="from" name="from" type="date" required;
                label for="to" { "Posted to" } input id="to" name="to" type="date" required;
                label for="min_amount" { "Only payments of at least (optional)" } input id="min_amount" name="min_amount" inputmode="decimal";
                button.primary type="submit" { "Draw the sample" }
            }
            @if data.samples.is_empty() {
                p { "No samples have been drawn." }
            } @else {
                table {
                    caption.visually-hidden { "Samples drawn, newest first" }
                    thead { tr {
                        th scope="col" { "Drawn" } th scope="col" { "Seed" } th scope="col" { "Period" }
                        th scope="col" { "Payments" } th scope="col" { "Findings" }
                    } }
                    tbody {
                        @for s in &data.samples {
                            tr {
                                td { a href={ "/audit/samples/" (s.id) } { (s.drawn_at) } }
                                td { (s.seed) } td { (s.period) } td { (s.drawn) } td { (s.findings) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One sampled payment with its latest finding.
#[derive(Debug, Clone)]
pub struct SampledRow {
    pub position: usize,
    pub payment_id: String,
    pub budget_id: String,
    pub payee: String,
    pub amount: String,
    pub posted_on: String,
    /// `(outcome, note)` of the latest finding.
    pub finding: Option<(String, String)>,
    /// SHA-256 of each evidence file attached.
    pub evidence: Vec<String>,
}

pub struct SamplePage {
    pub id: String,
    pub seed: String,
    pub period: String,
    pub rows: Vec<SampledRow>,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn sample(shell: &Shell, data: &SamplePage) -> Markup {
    page(
        shell,
        "Audit sample",
        html! {
            (error_summary(&data.errors))
            p { "Seed " strong { (data.seed) } ", payments posted " (data.period) "." }
            @if data.rows.is_empty() {
                p { "No payments were posted in this period." }
            } @else {
                table {
                    caption.visually-hidden { "Sampled payments in sampling order" }
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Payment" } th scope="col" { "Payee" }
                        th scope="col" { "Amount" } th scope="col" { "Posted" } th scope="col" { "Evidence" } th scope="col" { "Finding" }
                        th scope="col" { "Record a finding" }
                    } }
                    tbody {
                        @for r in &data.rows {
                            tr {
                                td { (r.position) }
                                td { a href={ "/budgets/" (r.budget_id) "/decisions" } { (r.payment_id) } }
                                td { (r.payee) } td.amount { (r.amount) } td { (r.posted_on) }
                                td {
                                    @if r.evidence.is_empty() { "None" }
                                    @for (i, sha) in r.evidence.iter().enumerate() {
                                        a href={ "/evidence/" (sha) } title=(sha) { "File " (i + 1) } " "
                                    }
                                }
                                td {
                                    @match &r.finding {
                                        Some((outcome, note)) => { strong { (outcome) } " " (note) },
                                        None => "None yet",
                                    }
                                }
                                td {
                                    form method="post" action={ "/audit/samples/" (data.id) "/findings" } {
                                        (csrf_field(&data.csrf_token))
                                        input type="hidden" name="payment_id" value=(r.payment_id);
                                        label for={ "outcome-" (r.position) } { "Outcome" }
                                        select id={ "outcome-" (r.position) } name="outcome" {
                                            option value="ok" { "OK" }
                                            option value="query" { "Query" }
                                            option value="misuse" { "Misuse" }
                                        }
                                        label for={ "note-" (r.position) } { "Note" }
                                        input id={ "note-" (r.position) } name="note" maxlength="4000";
                                        button type="submit" aria-label={ "Record a finding on payment " (r.position) } { "Record" }
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

/// A payment overdue for evidence.
#[derive(Debug, Clone)]
pub struct MissingRow {
    pub payment_id: String,
    pub budget_id: String,
    pub payee: String,
    pub amount: String,
    pub posted_on: String,
    pub due_on: String,
}

pub fn missing_evidence(shell: &Shell, rows: &[MissingRow], threshold: &str) -> Markup {
    page(
        shell,
        "Missing evidence",
        html! {
            p { "Posted payments above " (threshold) " with no receipt, invoice, timesheet or other evidence 30 days after they were posted. Evidence attached later takes a payment off this list." }
            @if shell.nav.iter().any(|n| n.href == "/audit/samples") {
                p { "To check the evidence behind payments, " a href="/audit/samples" { "sample payments for evidence" } "." }
            }
            @if rows.is_empty() {
                p { "No payment is missing its evidence." }
            } @else {
                table {
                    caption.visually-hidden { "Payments missing evidence, oldest first" }
                    thead { tr {
                        th scope="col" { "Payment" } th scope="col" { "Payee" } th scope="col" { "Amount" }
                        th scope="col" { "Posted" } th scope="col" { "Evidence due" }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { a href={ "/budgets/" (r.budget_id) "/decisions" } { (r.payment_id) } }
                                td { (r.payee) } td.amount { (r.amount) } td { (r.posted_on) } td { (r.due_on) }
                            }
                        }
                    }
                }
            }
        },
    )
}
