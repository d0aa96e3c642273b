//! The person's own statement of their budget over a period, in figures read from the ledger:
//! the money that came in, what it was spent on by plan category against the plan, what is left
//! and how many weeks that lasts, what is waiting for approval, and whom to contact.
//!
//! Visible to whoever may see the budget (the person, representatives with a grant, staff);
//! anyone else gets not found.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use uuid::Uuid;

use super::budget::load;
use super::funding::{self, FunderAmount, FundingPart, FundingSource};
use super::plans;
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::statement::{statement, MAX_LIMIT};
use crate::ledger::Side;
use crate::rules::Category;

/// A decimal written with exactly two places.
fn pounds(mut value: Decimal) -> String {
    value = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(2);
    value.to_string()
}

/// One plan category over the period: planned (weekly amount × weeks in the period) and spent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryLine {
    /// The plan category's code (`other_out` for money that left without a payment).
    pub category: String,
    /// The category in plain words.
    pub label: String,
    #[schema(example = "240.00")]
    pub planned: String,
    #[schema(example = "180.00")]
    pub spent: String,
    #[serde(skip)]
    pub planned_value: Decimal,
    #[serde(skip)]
    pub spent_value: Decimal,
}

/// A payment waiting for approval.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitingPayment {
    pub payment_id: Uuid,
    pub category: String,
    pub label: String,
    #[schema(example = "45.00")]
    pub amount: String,
    pub service_date: NaiveDate,
}

/// Whom to contact about the budget.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementContact {
    pub council_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The person's statement of one budget over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnStatement {
    pub budget_id: Uuid,
    pub reference: String,
    pub person_name: String,
    /// Whether the person asked for easy read (their communication formats).
    pub easy_read: bool,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The money in the budget's accounts at the start of `from`.
    #[schema(example = "0.00")]
    pub opening_balance: String,
    /// Money paid into the budget's accounts in the period.
    #[schema(example = "1200.00")]
    pub money_in: String,
    /// The money in drawn from each funder of the budget (the council, the NHS, other funds), in
    /// the budget's funder order. What came in from elsewhere (the person's own payments, say) is
    /// the rest of `money_in`.
    pub money_in_by_funder: Vec<FunderAmount>,
    /// Spending by plan category, against the plan (payments net of their reversals).
    pub spending: Vec<CategoryLine>,
    #[schema(example = "400.00")]
    pub spent_total: String,
    /// Money that left the accounts without being a payment (a surplus taken back, for example).
    #[schema(example = "0.00")]
    pub other_out: String,
    /// The money left at the end of `to`.
    #[schema(example = "800.00")]
    pub left: String,
    /// The approved plan's weekly total (absent without an approved plan).
    pub weekly_plan: Option<String>,
    /// Whole weeks the money left lasts at the plan's weekly total.
    pub weeks_left: Option<i64>,
    pub waiting: Vec<WaitingPayment>,
    #[schema(example = "45.00")]
    pub waiting_total: String,
    pub contact: StatementContact,
}

/// The start of the plan year holding `today`: the latest anniversary of the budget's start.
pub fn plan_year_start(start: NaiveDate, today: NaiveDate) -> NaiveDate {
    if today < start {
        return start;
    }
    let anniversary = |year: i32| {
        start
            .with_year(year)
            .or_else(|| NaiveDate::from_ymd_opt(year, start.month(), 28))
            .unwrap_or(start)
    };
    let this_year = anniversary(today.year());
    if this_year <= today {
        this_year
    } else {
        anniversary(today.year() - 1).max(start)
    }
}

pub async fn own_statement(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> AppResult<OwnStatement> {
    let council_id = actor.council_id;
    let budget = load::visible(tx, actor, budget_id).await?;
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| plan_year_start(budget.start_date, to));
    if from > to {
        return Err(AppError::invalid("from", "must not be after `to`"));
    }
    let person = tx
        .query_one(
            "SELECT p.name, 'easy_read' = ANY (p.communication_formats), c.name
             FROM people p JOIN councils c ON c.id = p.council_id
             WHERE p.council_id = $1 AND p.id = $2",
            &[&council_id, &budget.person_id],
        )
        .await?;
    let accounts: Vec<Uuid> = tx
        .query(
            "SELECT account_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2 AND purpose = 'deployment'
             ORDER BY account_id",
            &[&council_id, &budget_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Posted payment entries (and the entries reversing them) → category.
    let mut categories: HashMap<Uuid, String> = HashMap::new();
    for r in tx
        .query(
            "SELECT p.posted_entry_id, p.category, r.id
             FROM payments p
             LEFT JOIN ledger_entries r ON r.council_id = p.council_id AND r.reverses = p.posted_entry_id
             WHERE p.council_id = $1 AND p.budget_id = $2 AND p.status = 'posted'",
            &[&council_id, &budget_id],
        )
        .await?
    {
        let category: String = r.get(1);
        categories.insert(r.get(0), category.clone());
        if let Some(reversal) = r.get::<_, Option<Uuid>>(2) {
            categories.insert(reversal, category);
        }
    }
    let (mut opening, mut money_in, mut other_out) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut spent: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut money_in_entries: Vec<Uuid> = Vec::new();
    for account_id in &accounts {
        let mut cursor: Option<String> = None;
        let mut first = true;
        loop {
            let page = statement(
                tx,
                council_id,
                *account_id,
                Some(from),
                Some(to),
                cursor.as_deref(),
                MAX_LIMIT,
            )
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
            if first {
                opening += page.opening_balance;
                first = false;
            }
            for line in &page.lines {
                match (categories.get(&line.entry_id), line.side) {
                    (Some(c), Side::Debit) => *spent.entry(c.clone()).or_default() += line.amount,
                    (Some(c), Side::Credit) => *spent.entry(c.clone()).or_default() -= line.amount,
                    (None, Side::Credit) => {
                        money_in += line.amount;
                        money_in_entries.push(line.entry_id);
                    }
                    (None, Side::Debit) => other_out += line.amount,
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    let money_in_by_funder = by_funder(tx, council_id, &budget.funding, &money_in_entries).await?;
    let plan = plans::load::approved(tx, council_id, budget_id).await?;
    let days = (to - from).num_days() + 1;
    let weeks = Decimal::from(days) / Decimal::from(7);
    let mut planned: BTreeMap<String, Decimal> = BTreeMap::new();
    if let Some(plan) = &plan {
        for line in &plan.lines {
            *planned
                .entry(line.category.as_str().to_string())
                .or_default() += line.weekly_amount.amount() * weeks;
        }
    }
    let mut codes: Vec<String> = planned.keys().cloned().collect();
    for code in spent.keys() {
        if !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    let spending: Vec<CategoryLine> = codes
        .into_iter()
        .map(|code| {
            let planned_value = planned
                .get(&code)
                .copied()
                .unwrap_or_default()
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let spent_value = spent.get(&code).copied().unwrap_or_default();
            CategoryLine {
                label: label(&code),
                category: code,
                planned: pounds(planned_value),
                spent: pounds(spent_value),
                planned_value,
                spent_value,
            }
        })
        .collect();
    let spent_total: Decimal = spending.iter().map(|l| l.spent_value).sum();
    let left = opening + money_in - spent_total - other_out;
    let weekly = plan.as_ref().map(|p| p.weekly_total.amount());
    let weeks_left = weekly.filter(|w| *w > Decimal::ZERO).map(|w| {
        (left.max(Decimal::ZERO) / w)
            .floor()
            .to_string()
            .parse::<i64>()
            .unwrap_or(0)
    });
    let waiting: Vec<WaitingPayment> = tx
        .query(
            "SELECT id, category, amount, service_date FROM payments
             WHERE council_id = $1 AND budget_id = $2 AND status = 'pending_approval'
             ORDER BY requested_at, id",
            &[&council_id, &budget_id],
        )
        .await?
        .iter()
        .map(|r| {
            let category: String = r.get(1);
            WaitingPayment {
                payment_id: r.get(0),
                label: label(&category),
                category,
                amount: pounds(r.get(2)),
                service_date: r.get(3),
            }
        })
        .collect();
    let waiting_total: Decimal = tx
        .query_one(
            "SELECT coalesce(sum(amount), 0) FROM payments
             WHERE council_id = $1 AND budget_id = $2 AND status = 'pending_approval'",
            &[&council_id, &budget_id],
        )
        .await?
        .get(0);
    let policy = super::policy::current(tx, council_id).await?;
    Ok(OwnStatement {
        budget_id,
        reference: budget.reference.clone(),
        person_name: person.get(0),
        easy_read: person.get(1),
        from,
        to,
        opening_balance: pounds(opening),
        money_in: pounds(money_in),
        money_in_by_funder,
        spending,
        spent_total: pounds(spent_total),
        other_out: pounds(other_out),
        left: pounds(left),
        weekly_plan: weekly.map(pounds),
        weeks_left,
        waiting,
        waiting_total: pounds(waiting_total),
        contact: StatementContact {
            council_name: person.get(2),
            phone: policy.contact_phone.clone(),
            email: policy.contact_email.clone(),
        },
    })
}

/// What the entries bringing money in drew from each funder's account: the budget's funders in
/// order (each shown, if only with nothing), then any other funder an entry drew from.
async fn by_funder(
    tx: &Tx<'_>,
    council_id: Uuid,
    funding: &[FundingPart],
    entries: &[Uuid],
) -> AppResult<Vec<FunderAmount>> {
    let accounts = funding::funder_accounts(tx, council_id).await?;
    let ids: Vec<Uuid> = accounts.keys().copied().collect();
    let mut entries = entries.to_vec();
    entries.sort_unstable();
    entries.dedup();
    let rows = tx
        .query(
            "SELECT account_id, sum(amount) FROM ledger_legs
             WHERE council_id = $1 AND entry_id = ANY($2) AND account_id = ANY($3) AND side = 'D'
             GROUP BY account_id",
            &[&council_id, &entries, &ids],
        )
        .await?;
    let mut drawn: Vec<((FundingSource, String), Option<String>, Decimal)> = funding
        .iter()
        .map(|p| (p.key(), p.name.clone(), Decimal::ZERO))
        .collect();
    for row in &rows {
        let account: Uuid = row.try_get(0)?;
        let amount: Decimal = row.try_get(1)?;
        let Some((source, name)) = accounts.get(&account) else {
            continue;
        };
        let key = FundingPart {
            funder: *source,
            name: name.clone(),
            weekly_amount: crate::money::Money::ZERO,
        }
        .key();
        match drawn.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, total)) => *total += amount,
            None => drawn.push((key, name.clone(), amount)),
        }
    }
    drawn
        .into_iter()
        .map(|((funder, _), name, amount)| {
            Ok(FunderAmount {
                funder,
                name,
                amount: crate::money::Money::new(amount)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            })
        })
        .collect()
}

fn label(code: &str) -> String {
    match code.parse::<Category>() {
        Ok(c) => {
            let l = c.label();
            let mut chars = l.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            }
        }
        Err(_) => "Other".to_string(),
    }
}

/// The statement as CSV: one row per figure (`section,category,label,planned,amount`).
pub fn to_csv(s: &OwnStatement) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| AppError::Internal(e.to_string());
    w.write_record(["section", "category", "label", "planned", "amount"])
        .map_err(err)?;
    let row = |section: &str, category: &str, label: &str, planned: &str, amount: &str| {
        [section, category, label, planned, amount].map(str::to_string)
    };
    let mut rows = vec![
        row("period", "", "from", "", &s.from.to_string()),
        row("period", "", "to", "", &s.to.to_string()),
        row(
            "opening_balance",
            "",
            "Money at the start",
            "",
            &s.opening_balance,
        ),
        row("money_in", "", "Money in", "", &s.money_in),
    ];
    for f in &s.money_in_by_funder {
        let label = match (f.funder, f.name.as_deref()) {
            (FundingSource::Council, _) => "From the council".to_string(),
            (FundingSource::Nhs, _) => "From the NHS".to_string(),
            (FundingSource::Other, Some(name)) => format!("From {name}"),
            (FundingSource::Other, None) => "From another fund".to_string(),
        };
        rows.push(row(
            "money_in_by_funder",
            f.funder.as_str(),
            &label,
            "",
            &f.amount.to_string(),
        ));
    }
    for l in &s.spending {
        rows.push(row("spent", &l.category, &l.label, &l.planned, &l.spent));
    }
    rows.push(row("spent_total", "", "Spent", "", &s.spent_total));
    rows.push(row("other_out", "", "Other money out", "", &s.other_out));
    rows.push(row("left", "", "Money left", "", &s.left));
    rows.push(row(
        "weeks_left",
        "",
        "Weeks left",
        s.weekly_plan.as_deref().unwrap_or(""),
        &s.weeks_left.map(|w| w.to_string()).unwrap_or_default(),
    ));
    for p in &s.waiting {
        rows.push(row("waiting", &p.category, &p.label, "", &p.amount));
    }
    rows.push(row(
        "waiting_total",
        "",
        "Waiting for approval",
        "",
        &s.waiting_total,
    ));
    for r in rows {
        w.write_record(&r).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_plan_year_starts_on_the_latest_anniversary() {
        assert_eq!(
            plan_year_start(d(2025, 4, 1), d(2026, 11, 30)),
            d(2026, 4, 1)
        );
        assert_eq!(
            plan_year_start(d(2025, 12, 1), d(2026, 11, 30)),
            d(2025, 12, 1)
        );
        assert_eq!(
            plan_year_start(d(2026, 12, 1), d(2026, 11, 30)),
            d(2026, 12, 1)
        );
        assert_eq!(
            plan_year_start(d(2024, 2, 29), d(2025, 3, 1)),
            d(2025, 2, 28)
        );
    }
}
