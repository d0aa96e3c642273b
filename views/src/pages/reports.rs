//! Statutory returns (SALT LTS001b-style delivery mechanisms with ASCOF 3D; Client Level Data) and
//! the auditor's "verify the chain" page.

use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One mechanism's counts.
#[derive(Debug, Clone)]
pub struct MechanismRow {
    pub label: String,
    pub aged_18_64: u32,
    pub aged_65_plus: u32,
    pub total: u32,
}

/// One ASCOF measure: `(label, all adults, 18–64, 65+)`, each as shown ("5 of 8, 62.5%").
#[derive(Debug, Clone)]
pub struct MeasureRow {
    pub label: String,
    pub all: String,
    pub aged_18_64: String,
    pub aged_65_plus: String,
}

pub struct DeliveryPage {
    /// The date as typed (kept on refusal).
    pub as_of: String,
    pub errors: Vec<String>,
    /// The counts, when the date was good: `(date shown, rows, totals row, measures)`.
    pub report: Option<(String, Vec<MechanismRow>, MechanismRow, Vec<MeasureRow>)>,
}

fn nav(current: &str) -> Markup {
    html! {
        p {
            @if current == "delivery" { strong { "Delivery mechanisms" } } @else { a href="/reports/delivery-mechanism" { "Delivery mechanisms" } }
            " · "
            @if current == "cld" { strong { "Client Level Data" } } @else { a href="/reports/cld" { "Client Level Data" } }
        }
    }
}

pub fn delivery(shell: &Shell, data: &DeliveryPage) -> Markup {
    page(
        shell,
        "Delivery mechanisms",
        html! {
            (error_summary(&data.errors))
            (nav("delivery"))
            p { "Adults (18 and over on the day) in long-term community support on one day, each counted once, by how their support is delivered (SALT LTS001b), with ASCOF 3D beside them. Read from the approved plans of council-funded budgets; reablement and NHS-funded budgets are not counted." }
            form method="get" action="/reports/delivery-mechanism" {
                @let invalid = !data.errors.is_empty();
                label for="as_of" { "Counted on (SALT counts on 31 March)" }
                input id="as_of" name="as_of" type="date" required value=(data.as_of)
                    aria-invalid=[invalid.then_some("true")];
                button.primary type="submit" { "Show" }
            }
            @if let Some((day, rows, totals, measures)) = &data.report {
                table {
                    caption { "People in long-term community support on " (day) }
                    thead { tr {
                        th scope="col" { "Delivery mechanism" } th scope="col" { "Aged 18–64" }
                        th scope="col" { "Aged 65 and over" } th scope="col" { "All" }
                    } }
                    tbody {
                        @for r in rows {
                            tr { th scope="row" { (r.label) } td { (r.aged_18_64) } td { (r.aged_65_plus) } td { (r.total) } }
                        }
                    }
                    tfoot {
                        tr { th scope="row" { (totals.label) } td { (totals.aged_18_64) } td { (totals.aged_65_plus) } td { (totals.total) } }
                    }
                }
                table {
                    caption { "ASCOF 3D on " (day) }
                    thead { tr {
                        th scope="col" { "Measure" } th scope="col" { "All adults" }
                        th scope="col" { "Aged 18–64" } th scope="col" { "Aged 65 and over" }
                    } }
                    tbody {
                        @for m in measures {
                            tr { th scope="row" { (m.label) } td { (m.all) } td { (m.aged_18_64) } td { (m.aged_65_plus) } }
                        }
                    }
                }
            }
        },
    )
}

/// One CLD row as shown.
#[derive(Debug, Clone)]
pub struct CldRow {
    pub person_id: String,
    pub person_name: String,
    pub start: String,
    pub end: String,
    pub mechanism: String,
    pub unit_cost: String,
}

pub struct CldPage {
    pub from: String,
    pub to: String,
    pub errors: Vec<String>,
    /// The rows, when the period was good, with the CSV's address.
    pub rows: Option<(Vec<CldRow>, String)>,
}

pub fn cld(shell: &Shell, data: &CldPage) -> Markup {
    page(
        shell,
        "Client Level Data",
        html! {
            (error_summary(&data.errors))
            (nav("cld"))
            p { "One row per plan line in force on some day of the period: a service event of long-term community support, costed weekly." }
            form method="get" action="/reports/cld" {
                @let invalid = !data.errors.is_empty();
                label for="from" { "From" }
                input id="from" name="from" type="date" required value=(data.from)
                    aria-invalid=[invalid.then_some("true")];
                label for="to" { "To (included)" }
                input id="to" name="to" type="date" required value=(data.to)
                    aria-invalid=[invalid.then_some("true")];
                button.primary type="submit" { "Show" }
            }
            @if let Some((rows, csv)) = &data.rows {
                p { a href=(csv) download { "Download the CSV (Client Level Data R2 headings)" } }
                @if rows.is_empty() {
                    p { "No plan line was in force in this period." }
                } @else {
                    table {
                        caption { (rows.len()) " plan lines in force" }
                        thead { tr {
                            th scope="col" { "Person" } th scope="col" { "Event start" } th scope="col" { "Event end" }
                            th scope="col" { "Delivery mechanism" } th scope="col" { "Weekly cost" }
                        } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td { a href={ "/people/" (r.person_id) } { (r.person_name) } }
                                    td { (r.start) } td { (r.end) } td { (r.mechanism) } td.amount { (r.unit_cost) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The outcome of verifying the chain.
#[derive(Debug, Clone)]
pub struct ChainResult {
    pub ok: bool,
    pub checked: u64,
    pub unsealed: u64,
    pub head_position: i64,
    pub head_hash: String,
    pub signed_head: Option<String>,
    /// What failed, in words (first bad entry or account with the problem).
    pub failures: Vec<String>,
}

pub struct ChainPage {
    pub csrf_token: String,
    pub result: Option<ChainResult>,
}

pub fn chain(shell: &Shell, data: &ChainPage) -> Markup {
    page(
        shell,
        "Verify the chain",
        html! {
            p { "Recomputes the council's hash chain under the chain key — every entry with its legs, every hold's resolution, every grant, policy version and bank-detail change — and checks every account's totals against its legs." }
            @if shell.nav.iter().any(|n| n.href == "/audit/samples") {
                p { "The chain shows the ledger is as it was written; whether payments were for the person's support is checked by " a href="/audit/samples" { "sampling payments for evidence" } "." }
            }
            form method="post" action="/audit/chain" {
                (csrf_field(&data.csrf_token))
                button.primary type="submit" { "Verify the chain" }
            }
            @if let Some(r) = &data.result {
                @if r.ok {
                    div.notice role="status" { h2 { "The chain verifies" } }
                } @else {
                    div.error-summary role="alert" tabindex="-1" {
                        h2 { "The chain does not verify" }
                        ul { @for f in &r.failures { li { (f) } } }
                    }
                }
                dl {
                    dt { "Links checked" } dd { (r.checked) }
                    dt { "Waiting to be sealed" } dd { (r.unsealed) }
                    dt { "Head position" } dd { (r.head_position) }
                    dt { "Head hash" } dd { code { (r.head_hash) } }
                    dt { "Signed head (HMAC)" } dd {
                        @match &r.signed_head { Some(mac) => code { (mac) }, None => "None: the chain did not verify" }
                    }
                }
                p { "Keep the head position, hash and signature somewhere the database's users cannot write: a later chain that no longer holds that link at that position has been cut short or rewritten." }
            }
        },
    )
}
