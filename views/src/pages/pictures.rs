//! The pictures on the budget, account and payment-run pages: each an SVG chart (from
//! [`crate::charts`]) with the same figures as a table beside it.

use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

use crate::charts::{bar_chart, step_chart, Bar, BarChart, BarRow, Point, StepChart};
use crate::money::Gbp;

fn value(amount: Decimal) -> f64 {
    amount.to_f64().unwrap_or(0.0)
}

/// One kind of support: planned and spent over the period.
#[derive(Debug, Clone)]
pub struct SpendingRow {
    pub label: String,
    pub planned: Decimal,
    pub spent: Decimal,
}

/// Spending against plan by category over a period.
#[derive(Debug, Clone)]
pub struct SpendingPicture {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<SpendingRow>,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

pub fn spending(data: &SpendingPicture) -> Markup {
    let period = format!("{} to {}", day(data.from), day(data.to));
    let rows: Vec<BarRow> = data
        .rows
        .iter()
        .map(|r| BarRow {
            label: r.label.clone(),
            bars: vec![
                Bar {
                    value: value(r.planned),
                    text: format!("Planned {}", Gbp(r.planned).text()),
                    class: "planned",
                },
                Bar {
                    value: value(r.spent),
                    text: format!("Spent {}", Gbp(r.spent).text()),
                    class: "spent",
                },
            ],
            mark: None,
        })
        .collect();
    let description: String = data
        .rows
        .iter()
        .map(|r| {
            format!(
                "{}: planned {}, spent {}. ",
                r.label,
                Gbp(r.planned).text(),
                Gbp(r.spent).text()
            )
        })
        .collect();
    let planned: Decimal = data.rows.iter().map(|r| r.planned).sum();
    let spent: Decimal = data.rows.iter().map(|r| r.spent).sum();
    html! {
        section.picture aria-labelledby="spending-heading" {
            h2 #spending-heading { "Spending against the plan" }
            p { "From " (period) " (the plan year so far), from the ledger: reversed payments are not counted." }
            @if data.rows.is_empty() {
                p { "No approved plan and no spending yet." }
            } @else {
                (bar_chart(&BarChart {
                    id: "spending",
                    class: "spend-chart",
                    title: "Planned and spent by kind of support",
                    description,
                    rows: &rows,
                    label_width: 230,
                    bar_width: 380,
                    bar_height: 20,
                    axis: None,
                    max: None,
                }))
                table.spending-table {
                    caption { "Planned and spent by kind of support, " (period) }
                    thead { tr { th scope="col" { "Kind of support" } th.num scope="col" { "Planned" } th.num scope="col" { "Spent" } } }
                    tbody {
                        @for r in &data.rows {
                            tr { th scope="row" { (r.label) } td.num { (Gbp(r.planned)) } td.num { (Gbp(r.spent)) } }
                        }
                    }
                    tfoot { tr { th scope="row" { "Total" } td.num { (Gbp(planned)) } td.num { (Gbp(spent)) } } }
                }
            }
        }
    }
}

/// An account's balance at one day's end.
#[derive(Debug, Clone)]
pub struct BalanceRow {
    pub date: NaiveDate,
    pub balance: Decimal,
    pub weeks: Option<Decimal>,
}

/// Balance and weeks of funding over time.
#[derive(Debug, Clone)]
pub struct BalancePicture {
    pub weekly_amount: Option<Decimal>,
    pub rows: Vec<BalanceRow>,
}

fn month(date: NaiveDate) -> String {
    date.format("%b %y").to_string()
}

fn pounds_axis(v: f64) -> String {
    Gbp(Decimal::from_f64(v.round()).unwrap_or_default()).text()
}

fn weeks_axis(v: f64) -> String {
    format!("{v:.1} wk")
}

pub fn balance(data: &BalancePicture) -> Markup {
    let points: Vec<Point> = data
        .rows
        .iter()
        .map(|r| Point {
            label: month(r.date),
            value: value(r.balance),
            text: Gbp(r.balance).text(),
        })
        .collect();
    let description: String = data
        .rows
        .iter()
        .map(|r| format!("{}: {}. ", day(r.date), Gbp(r.balance).text()))
        .collect();
    let weeks: Vec<Point> = data
        .rows
        .iter()
        .filter_map(|r| {
            r.weeks.map(|w| Point {
                label: month(r.date),
                value: value(w),
                text: format!("{w} weeks"),
            })
        })
        .collect();
    let weeks_description: String = data
        .rows
        .iter()
        .filter_map(|r| r.weeks.map(|w| format!("{}: {w} weeks. ", day(r.date))))
        .collect();
    html! {
        section.picture aria-labelledby="history-heading" {
            h2 #history-heading { "Balance over the last year" }
            p { "The posted balance at each month end and today, from the ledger." }
            (step_chart(&StepChart {
                id: "balance",
                class: "balance-chart",
                title: "Balance at each month end",
                description,
                points: &points,
                axis_text: pounds_axis,
            }))
            @if let Some(weekly) = data.weekly_amount {
                p { "Weeks of funding: the balance divided by the plan's " (Gbp(weekly)) " a week." }
                (step_chart(&StepChart {
                    id: "weeks",
                    class: "weeks-chart",
                    title: "Weeks of funding at each month end",
                    description: weeks_description,
                    points: &weeks,
                    axis_text: weeks_axis,
                }))
            }
            table.history-table {
                caption { "Balance and weeks of funding at each month end" }
                thead { tr {
                    th scope="col" { "At the end of" } th.num scope="col" { "Balance" }
                    @if data.weekly_amount.is_some() { th.num scope="col" { "Weeks of funding" } }
                } }
                tbody {
                    @for r in &data.rows {
                        tr {
                            th scope="row" { (day(r.date)) }
                            td.num { (Gbp(r.balance)) }
                            @if data.weekly_amount.is_some() {
                                td.num { @if let Some(w) = r.weeks { (w) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A payment run's total for one kind of money.
#[derive(Debug, Clone)]
pub struct DeploymentTotal {
    pub label: String,
    pub lines: usize,
    pub total: Decimal,
}

pub fn run_totals(rows: &[DeploymentTotal]) -> Markup {
    let bars: Vec<BarRow> = rows
        .iter()
        .map(|r| BarRow {
            label: r.label.clone(),
            bars: vec![Bar {
                value: value(r.total),
                text: Gbp(r.total).text(),
                class: "",
            }],
            mark: None,
        })
        .collect();
    let description: String = rows
        .iter()
        .map(|r| format!("{}: {}. ", r.label, Gbp(r.total).text()))
        .collect();
    let total: Decimal = rows.iter().map(|r| r.total).sum();
    html! {
        section.picture aria-labelledby="by-deployment-heading" {
            h2 #by-deployment-heading { "Total by kind of money" }
            @if rows.is_empty() {
                p { "The run pays nothing." }
            } @else {
                (bar_chart(&BarChart {
                    id: "by-deployment",
                    class: "run-chart",
                    title: "The run's total by kind of money",
                    description,
                    rows: &bars,
                    label_width: 230,
                    bar_width: 380,
                    bar_height: 22,
                    axis: None,
                    max: None,
                }))
                table.run-totals {
                    caption { "The run's total by kind of money" }
                    thead { tr { th scope="col" { "Kind of money" } th.num scope="col" { "Lines" } th.num scope="col" { "Total" } } }
                    tbody {
                        @for r in rows {
                            tr { th scope="row" { (r.label) } td.num { (r.lines) } td.num { (Gbp(r.total)) } }
                        }
                    }
                    tfoot { tr { th scope="row" { "Total" } td {} td.num { (Gbp(total)) } } }
                }
            }
        }
    }
}
