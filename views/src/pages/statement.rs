//! The person's own statement of their budget: plain words, large type and short sentences, a
//! chart of spending against the plan with the same figures as a table, and an easy-read layout
//! (one idea a line, pictures beside headings, no jargon). Printed, it reads as a letter.

use chrono::NaiveDate;
use maud::{html, Markup, PreEscaped};
use uuid::Uuid;

use crate::charts::{bar_chart, Bar, BarChart, BarRow};
use crate::components::error_summary;
use crate::layout::{page, Shell};
use crate::static_files::icons;

/// One plan category over the period.
#[derive(Debug, Clone)]
pub struct SpendRow {
    pub label: String,
    pub planned: String,
    pub spent: String,
    pub planned_value: f64,
    pub spent_value: f64,
}

/// A payment waiting for approval.
#[derive(Debug, Clone)]
pub struct WaitingRow {
    pub label: String,
    pub amount: String,
    pub service_date: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct StatementPage {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    pub easy_read: bool,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
    pub opening_balance: String,
    pub money_in: String,
    /// Who the money came from, in words (`the council`, `the NHS`, a fund's name), with the
    /// amount; shown when someone other than the council pays part of the budget.
    pub money_in_by_funder: Vec<(String, String)>,
    pub spending: Vec<SpendRow>,
    pub spent_total: String,
    pub other_out: String,
    pub left: String,
    pub weekly_plan: Option<String>,
    pub weeks_left: Option<i64>,
    pub waiting: Vec<WaitingRow>,
    pub waiting_total: String,
    pub council_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A period that could not be shown, in words.
    pub errors: Vec<String>,
}

/// An amount as pounds with thousands separators: `1234.50` → `£1,234.50`.
pub fn gbp(amount: &str) -> String {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, pence) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{pence}")
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn is_zero(amount: &str) -> bool {
    amount
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
}

/// Planned and spent per category as horizontal bars (planned pale, spent dark).
fn chart(data: &StatementPage) -> Markup {
    let rows: Vec<BarRow> = data
        .spending
        .iter()
        .map(|r| BarRow {
            label: r.label.clone(),
            bars: vec![
                Bar {
                    value: r.planned_value,
                    text: format!("Planned {}", gbp(&r.planned)),
                    class: "planned",
                },
                Bar {
                    value: r.spent_value,
                    text: format!("Spent {}", gbp(&r.spent)),
                    class: "spent",
                },
            ],
            mark: None,
        })
        .collect();
    let description: String = data
        .spending
        .iter()
        .map(|r| {
            format!(
                "{}: planned {}, spent {}. ",
                r.label,
                gbp(&r.planned),
                gbp(&r.spent)
            )
        })
        .collect();
    bar_chart(&BarChart {
        id: "spend",
        class: "spend-chart",
        title: "Planned and spent, by kind of support",
        description,
        rows: &rows,
        label_width: 230,
        bar_width: 380,
        bar_height: 20,
        axis: None,
        max: None,
    })
}

fn table(data: &StatementPage) -> Markup {
    html! {
        table.statement-table {
            caption { "Planned and spent" }
            thead { tr { th scope="col" { "Kind of support" } th scope="col" { "Planned" } th scope="col" { "Spent" } } }
            tbody {
                @for r in &data.spending {
                    tr { th scope="row" { (r.label) } td { (gbp(&r.planned)) } td { (gbp(&r.spent)) } }
                }
            }
            tfoot { tr { th scope="row" { "Total spent" } td {} td { (gbp(&data.spent_total)) } } }
        }
    }
}

fn icon_heading(icon: &str, text: &str) -> Markup {
    html! { h2.icon-heading { span.icon { (PreEscaped(icon)) } (text) } }
}

fn chooser(data: &StatementPage) -> Markup {
    html! {
        form.no-print.period method="get" action={ "/budgets/" (data.budget_id) "/statement" } {
            div.field { label for="from" { "From" } input #from name="from" type="date" value=(data.from); }
            div.field { label for="to" { "To" } input #to name="to" type="date" value=(data.to); }
            div.field.checkbox {
                input #easy_read name="easy_read" type="checkbox" value="1" checked[data.easy_read];
                label for="easy_read" { "Easy read" }
            }
            button.secondary type="submit" { "Show" }
        }
    }
}

fn letter_head(data: &StatementPage) -> Markup {
    html! {
        div.print-only.letter-head {
            p { (data.council_name) }
            p { (data.person_name) }
            p { (day(data.today)) }
        }
    }
}

fn contact_lines(data: &StatementPage, easy: bool) -> Markup {
    html! {
        @if let Some(phone) = &data.phone {
            p { "Phone " (data.council_name) " on " (phone) "." }
        }
        @if let Some(email) = &data.email {
            p { "Email " (email) "." }
        }
        @if easy {
            p { "Or talk to your care manager." }
        } @else {
            p { "You can also ask your care manager. They can explain any figure on this page." }
        }
    }
}

fn waiting_lines(data: &StatementPage, easy: bool) -> Markup {
    let n = data.waiting.len();
    html! {
        @if n == 0 {
            p { "Nothing is waiting for approval." }
        } @else {
            @if easy {
                p { (n) @if n == 1 { " payment is waiting for a yes." } @else { " payments are waiting for a yes." } }
                p { "Together they come to " (gbp(&data.waiting_total)) "." }
            } @else {
                p {
                    (n) @if n == 1 { " payment is" } @else { " payments are" }
                    " waiting for approval. Together they come to " (gbp(&data.waiting_total)) "."
                }
            }
            ul {
                @for w in &data.waiting {
                    li { (w.label) ": " (gbp(&w.amount)) ", for " (day(w.service_date)) "." }
                }
            }
        }
    }
}

fn left_lines(data: &StatementPage, easy: bool) -> Markup {
    html! {
        p.big-figure { "You have " (gbp(&data.left)) " left." }
        @match (data.weeks_left, &data.weekly_plan) {
            (Some(weeks), Some(weekly)) => {
                @if easy {
                    p { "Your plan uses " (gbp(weekly)) " a week." }
                    p { "So the money left lasts about " (weeks) @if weeks == 1 { " week." } @else { " weeks." } }
                } @else {
                    p {
                        "Your plan costs " (gbp(weekly)) " a week. At that rate, the money left lasts about "
                        (weeks) @if weeks == 1 { " week." } @else { " weeks." }
                    }
                }
            }
            _ => { p { "Your plan is not agreed yet." } }
        }
    }
}

/// Where the money came from, funder by funder (a budget paid for by the council alone shows
/// nothing more).
fn funder_table(data: &StatementPage) -> Markup {
    html! {
        @if !data.money_in_by_funder.is_empty() {
            table.funders {
                caption { "Where the money came from" }
                thead { tr { th scope="col" { "Paid by" } th.num scope="col" { "Amount" } } }
                tbody {
                    @for (who, amount) in &data.money_in_by_funder {
                        tr { th scope="row" { (who) } td.num { (gbp(amount)) } }
                    }
                }
            }
        }
    }
}

fn standard(data: &StatementPage) -> Markup {
    html! {
        div.statement {
            (letter_head(data))
            p { "This statement covers " (day(data.from)) " to " (day(data.to)) "." }
            (chooser(data))
            h2 { "Money in" }
            p { "At the start you had " (gbp(&data.opening_balance)) "." }
            p.big-figure { (gbp(&data.money_in)) " came into your budget." }
            (funder_table(data))
            h2 { "What the money was spent on" }
            p { "You spent " (gbp(&data.spent_total)) ". The chart and the table compare it with your plan." }
            (chart(data))
            (table(data))
            @if !is_zero(&data.other_out) {
                p { (gbp(&data.other_out)) " left your budget in other ways, such as money the council took back." }
            }
            h2 { "Money left" }
            (left_lines(data, false))
            h2 { "Waiting for approval" }
            (waiting_lines(data, false))
            h2 { "Who to contact" }
            (contact_lines(data, false))
        }
    }
}

fn easy(data: &StatementPage) -> Markup {
    html! {
        div.statement.easy-read {
            (letter_head(data))
            (icon_heading(icons::CALENDAR, "Dates"))
            p { "This is about your money." }
            p { "It starts on " (day(data.from)) "." }
            p { "It ends on " (day(data.to)) "." }
            (chooser(data))
            (icon_heading(icons::MONEY_IN, "Money in"))
            p { "You had " (gbp(&data.opening_balance)) " at the start." }
            p.big-figure { (gbp(&data.money_in)) " came in." }
            @for (who, amount) in &data.money_in_by_funder {
                p { (gbp(amount)) " came from " (who) "." }
            }
            (icon_heading(icons::SPENT, "Money spent"))
            p.big-figure { "You spent " (gbp(&data.spent_total)) "." }
            p { "The picture shows what you spent." }
            p { "It also shows your plan." }
            (chart(data))
            (table(data))
            @if !is_zero(&data.other_out) {
                p { (gbp(&data.other_out)) " went out in other ways." }
            }
            (icon_heading(icons::LEFT, "Money left"))
            (left_lines(data, true))
            (icon_heading(icons::WAITING, "Waiting for a yes"))
            (waiting_lines(data, true))
            (icon_heading(icons::CONTACT, "Who to contact"))
            (contact_lines(data, true))
        }
    }
}

pub fn statement(shell: &Shell, data: &StatementPage) -> Markup {
    let title = if data.easy_read {
        format!("Your money: {}", data.person_name)
    } else {
        format!("Budget statement: {}", data.person_name)
    };
    page(
        shell,
        &title,
        html! {
            (error_summary(&data.errors))
            @if data.easy_read { (easy(data)) } @else { (standard(data)) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::gbp;

    #[test]
    fn pounds_are_grouped_in_thousands() {
        assert_eq!(gbp("1234567.50"), "£1,234,567.50");
        assert_eq!(gbp("999.00"), "£999.00");
        assert_eq!(gbp("-1000.10"), "-£1,000.10");
    }
}
