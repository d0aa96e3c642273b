//! Monitoring returns to the council: for an organisation holding client accounts (a
//! managed-account or ISF provider), one row per account over a period — every figure computed
//! from the ledger's statement of the account — and its submission as a hashed snapshot.
//!
//! Who: the staff of the organisation (their own only; another organisation's id is 404), the
//! council's finance officers and auditors (any organisation of their council); others 403.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::statement::{self, MAX_LIMIT};
use crate::ledger::types::Side;
use crate::money::Money;

/// A return's period, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One client account's figures over the period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountReturn {
    pub account_id: Uuid,
    pub budget_id: Uuid,
    /// `managed_account` or `isf`.
    pub deployment: String,
    /// The posted balance at the start of `from`.
    #[schema(value_type = String)]
    pub opening_balance: Money,
    /// Payment-run releases into the account.
    #[schema(value_type = String)]
    pub council_money_in: Money,
    /// Contributions paid into the account.
    #[schema(value_type = String)]
    pub contributions_in: Money,
    /// Payments posted from the account, by plan category (reversed payments not counted).
    #[schema(value_type = BTreeMap<String, String>)]
    pub spending: BTreeMap<String, Money>,
    #[schema(value_type = String)]
    pub spending_total: Money,
    /// Every other posting (reversals, corrections): closing − opening − money in + spending.
    #[schema(value_type = String)]
    pub other_movements: Money,
    /// The posted balance at the end of `to`.
    #[schema(value_type = String)]
    pub closing_balance: Money,
    /// The approved plan's weekly amount for this holding (zero without an approved plan).
    #[schema(value_type = String)]
    pub weekly_amount: Money,
    /// Closing balance ÷ weekly amount, to one decimal place (none without a weekly amount).
    #[schema(value_type = Option<String>)]
    pub weeks_of_funding: Option<Decimal>,
    /// The council's surplus threshold in weeks for this deployment (`surplus_weeks_dp` for a
    /// managed account, `surplus_weeks_isf` for an ISF).
    pub surplus_weeks_policy: u32,
    /// Closing balance above that many weeks of the weekly amount (zero if none).
    #[schema(value_type = String)]
    pub surplus_above_policy: Money,
    /// Payments posted from the account in the period (not reversed) with no evidence attached.
    pub payments_without_evidence: i64,
    /// Bank statement lines of the account booked up to `to` that no posting is matched to.
    pub unreconciled_items: i64,
}

/// An organisation's return for a period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Return {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub accounts: Vec<AccountReturn>,
}

/// A submitted return: its snapshot and the snapshot's SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmittedReturn {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// SHA-256 (hex) of `snapshot` as stored: the return's JSON, byte for byte.
    pub sha256: String,
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
    /// The return as submitted.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
}

/// `submitted` or `overdue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Submitted,
    Overdue,
}

/// A line of the council's list: a submitted return, or a return due and not submitted.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnListItem {
    pub status: ReturnStatus,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    /// The period returned (overdue: the last full quarter).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Submitted returns only.
    pub id: Option<Uuid>,
    pub sha256: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn money(value: Decimal) -> AppResult<Money> {
    Money::new(value).map_err(internal)
}

/// The last full calendar quarter before `today`.
pub fn last_full_quarter(today: NaiveDate) -> Period {
    let month = (today.month0() / 3) * 3 + 1;
    let this_quarter = NaiveDate::from_ymd_opt(today.year(), month, 1).unwrap_or(today);
    let from = this_quarter
        .checked_sub_months(Months::new(3))
        .unwrap_or(this_quarter);
    let to = this_quarter.pred_opt().unwrap_or(this_quarter);
    Period { from, to }
}

/// Checks a period: `from` not after `to`, both within 2000–2100.
pub fn check_period(period: Period) -> AppResult<()> {
    for (field, date) in [("from", period.from), ("to", period.to)] {
        if !(2000..=2100).contains(&date.year()) {
            return Err(AppError::invalid(field, "must be a date from 2000 to 2100"));
        }
    }
    if period.from > period.to {
        return Err(AppError::invalid("from", "must not be after `to`"));
    }
    Ok(())
}

/// Who may read an organisation's returns; the organisation's name.
async fn require_reader(tx: &Tx<'_>, actor: &Actor, organisation_id: Uuid) -> AppResult<String> {
    match actor.role {
        Role::ProviderStaff => {
            if actor.organisation_id != Some(organisation_id) {
                return Err(AppError::NotFound);
            }
        }
        Role::FinanceOfficer | Role::Auditor => {}
        _ => return Err(AppError::Forbidden),
    }
    let row = tx
        .query_opt(
            &tx.prepare_cached("SELECT name FROM organisations WHERE council_id = $1 AND id = $2")
                .await?,
            &[&actor.council_id, &organisation_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// The organisation's return for the period.
pub async fn compute(
    tx: &Tx<'_>,
    actor: &Actor,
    organisation_id: Uuid,
    period: Period,
) -> AppResult<Return> {
    let name = require_reader(tx, actor, organisation_id).await?;
    check_period(period)?;
    build(tx, actor.council_id, organisation_id, name, period).await
}

async fn build(
    tx: &Tx<'_>,
    council_id: Uuid,
    organisation_id: Uuid,
    organisation_name: String,
    period: Period,
) -> AppResult<Return> {
    let policy = crate::budgets::policy::current(tx, council_id).await?;
    let holdings = tx
        .query(
            &tx.prepare_cached(
                "SELECT a.account_id, a.budget_id, a.deployment,
                        coalesce((SELECT sum(l.weekly_amount)
                                  FROM support_plans p
                                  JOIN support_plan_lines l
                                    ON l.council_id = p.council_id AND l.plan_id = p.id
                                  WHERE p.council_id = a.council_id AND p.budget_id = a.budget_id
                                    AND p.status = 'approved' AND l.deployment = a.deployment
                                    AND l.holder_organisation_id = a.holder_organisation_id), 0)
                 FROM budget_accounts a
                 WHERE a.council_id = $1 AND a.holder_organisation_id = $2
                   AND a.purpose = 'deployment'
                 ORDER BY a.created_at, a.account_id",
            )
            .await?,
            &[&council_id, &organisation_id],
        )
        .await?;
    let mut accounts = Vec::with_capacity(holdings.len());
    for row in holdings {
        let account_id: Uuid = row.try_get(0)?;
        let deployment: String = row.try_get(2)?;
        let weekly: Decimal = row.try_get(3)?;
        let surplus_weeks = crate::rules::surplus::threshold_weeks(&policy, &deployment);
        let mut figures = account(tx, council_id, account_id, period).await?;
        figures.budget_id = row.try_get(1)?;
        figures.deployment = deployment;
        let closing = figures.closing_balance.amount();
        figures.weekly_amount = money(weekly)?;
        figures.surplus_weeks_policy = surplus_weeks;
        let assessed = crate::rules::surplus::assess(closing, weekly, surplus_weeks, Decimal::ZERO);
        figures.weeks_of_funding = assessed.weeks_of_funding;
        figures.surplus_above_policy = money(assessed.surplus)?;
        accounts.push(figures);
    }
    Ok(Return {
        organisation_id,
        organisation_name,
        from: period.from,
        to: period.to,
        accounts,
    })
}

/// What each posting of the account is: a release, a contribution, a payment.
struct Kinds {
    releases: HashSet<Uuid>,
    contributions: HashSet<Uuid>,
    /// Posted entry → (category, without evidence, reversed).
    payments: HashMap<Uuid, (String, bool, bool)>,
}

async fn kinds(tx: &Tx<'_>, council_id: Uuid, account_id: Uuid) -> AppResult<Kinds> {
    let ids = |sql: &'static str| async move {
        let rows = tx
            .query(&tx.prepare_cached(sql).await?, &[&council_id, &account_id])
            .await?;
        rows.iter()
            .map(|r| r.try_get::<_, Uuid>(0).map_err(AppError::from))
            .collect::<AppResult<HashSet<Uuid>>>()
    };
    let releases = ids("SELECT entry_id FROM payment_run_lines
                        WHERE council_id = $1 AND account_id = $2 AND entry_id IS NOT NULL")
    .await?;
    let contributions =
        ids("SELECT entry_id FROM contributions WHERE council_id = $1 AND account_id = $2").await?;
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT p.posted_entry_id, p.category, p.evidence_sha256 IS NULL,
                        EXISTS (SELECT 1 FROM ledger_entries r
                                WHERE r.council_id = p.council_id AND r.reverses = p.posted_entry_id)
                 FROM payments p
                 WHERE p.council_id = $1 AND p.account_id = $2 AND p.status = 'posted'",
            )
            .await?,
            &[&council_id, &account_id],
        )
        .await?;
    let mut payments = HashMap::with_capacity(rows.len());
    for r in rows {
        payments.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
    }
    Ok(Kinds {
        releases,
        contributions,
        payments,
    })
}

/// The ledger's figures of one account over the period, read from its statement.
async fn account(
    tx: &Tx<'_>,
    council_id: Uuid,
    account_id: Uuid,
    period: Period,
) -> AppResult<AccountReturn> {
    let kinds = kinds(tx, council_id, account_id).await?;
    let ledger = |e: crate::ledger::error::LedgerError| internal(e);
    let mut cursor: Option<String> = None;
    let mut opening: Option<Decimal> = None;
    let mut closing = Decimal::ZERO;
    let (mut council_in, mut contributions_in, mut spent) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut spending: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut without_evidence = 0i64;
    let mut counted: BTreeSet<Uuid> = BTreeSet::new();
    loop {
        let page = statement::statement(
            tx,
            council_id,
            account_id,
            Some(period.from),
            Some(period.to),
            cursor.as_deref(),
            MAX_LIMIT,
        )
        .await
        .map_err(ledger)?;
        if opening.is_none() {
            opening = Some(page.opening_balance);
            closing = page.opening_balance;
        }
        for line in &page.lines {
            closing = line.balance;
            match line.side {
                Side::Credit if kinds.releases.contains(&line.entry_id) => {
                    council_in += line.amount
                }
                Side::Credit if kinds.contributions.contains(&line.entry_id) => {
                    contributions_in += line.amount
                }
                Side::Debit => {
                    if let Some((category, no_evidence, false)) = kinds.payments.get(&line.entry_id)
                    {
                        spent += line.amount;
                        *spending.entry(category.clone()).or_default() += line.amount;
                        if *no_evidence && counted.insert(line.entry_id) {
                            without_evidence += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let opening = opening.unwrap_or_default();
    let unreconciled: i64 = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT count(*) FROM bank_statement_lines
                 WHERE council_id = $1 AND account_id = $2 AND matched_entry_id IS NULL
                   AND booked_on <= $3",
            )
            .await?,
            &[&council_id, &account_id, &period.to],
        )
        .await?
        .try_get(0)?;
    Ok(AccountReturn {
        account_id,
        budget_id: Uuid::nil(),
        deployment: String::new(),
        opening_balance: money(opening)?,
        council_money_in: money(council_in)?,
        contributions_in: money(contributions_in)?,
        spending: spending
            .into_iter()
            .map(|(k, v)| Ok((k, money(v)?)))
            .collect::<AppResult<_>>()?,
        spending_total: money(spent)?,
        other_movements: money(closing - opening - council_in - contributions_in + spent)?,
        closing_balance: money(closing)?,
        weekly_amount: Money::ZERO,
        weeks_of_funding: None,
        surplus_weeks_policy: 0,
        surplus_above_policy: Money::ZERO,
        payments_without_evidence: without_evidence,
        unreconciled_items: unreconciled,
    })
}

/// The return as CSV: one row per account; a spending column per category any account spent on.
pub fn to_csv(ret: &Return) -> AppResult<String> {
    let categories: BTreeSet<&String> = ret
        .accounts
        .iter()
        .flat_map(|a| a.spending.keys())
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "organisation_id",
        "from",
        "to",
        "account_id",
        "budget_id",
        "deployment",
        "opening_balance",
        "council_money_in",
        "contributions_in",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(categories.iter().map(|c| format!("spending_{c}")));
    header.extend(
        [
            "spending_total",
            "other_movements",
            "closing_balance",
            "weekly_amount",
            "weeks_of_funding",
            "surplus_weeks_policy",
            "surplus_above_policy",
            "payments_without_evidence",
            "unreconciled_items",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    writer.write_record(&header).map_err(internal)?;
    for a in &ret.accounts {
        let mut row = vec![
            ret.organisation_id.to_string(),
            ret.from.to_string(),
            ret.to.to_string(),
            a.account_id.to_string(),
            a.budget_id.to_string(),
            a.deployment.clone(),
            a.opening_balance.to_string(),
            a.council_money_in.to_string(),
            a.contributions_in.to_string(),
        ];
        row.extend(categories.iter().map(|c| {
            a.spending
                .get(*c)
                .copied()
                .unwrap_or(Money::ZERO)
                .to_string()
        }));
        row.extend([
            a.spending_total.to_string(),
            a.other_movements.to_string(),
            a.closing_balance.to_string(),
            a.weekly_amount.to_string(),
            a.weeks_of_funding
                .map(|w| w.to_string())
                .unwrap_or_default(),
            a.surplus_weeks_policy.to_string(),
            a.surplus_above_policy.to_string(),
            a.payments_without_evidence.to_string(),
            a.unreconciled_items.to_string(),
        ]);
        writer.write_record(&row).map_err(internal)?;
    }
    String::from_utf8(writer.into_inner().map_err(internal)?).map_err(internal)
}

/// Submits the organisation's return for the period (its staff only): the return computed now,
/// stored as JSON with its SHA-256. The same period twice is 409 `return_already_submitted`.
pub async fn submit(
    tx: &Tx<'_>,
    actor: &Actor,
    organisation_id: Uuid,
    period: Period,
    now: DateTime<Utc>,
) -> AppResult<SubmittedReturn> {
    actor.require(&[Role::ProviderStaff])?;
    let name = require_reader(tx, actor, organisation_id).await?;
    check_period(period)?;
    let ret = build(tx, actor.council_id, organisation_id, name, period).await?;
    let snapshot = serde_json::to_string(&ret).map_err(internal)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, snapshot.as_bytes());
    let sha256 = hex::encode(digest.as_ref());
    let id = Uuid::new_v4();
    let inserted = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO organisation_returns (council_id, id, organisation_id, period_from,
                     period_to, snapshot, snapshot_sha256, submitted_by, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?,
            &[
                &actor.council_id,
                &id,
                &organisation_id,
                &period.from,
                &period.to,
                &snapshot,
                &sha256,
                &actor.user_id,
                &now,
            ],
        )
        .await;
    match inserted {
        Ok(_) => {}
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(AppError::Conflict {
                code: "return_already_submitted",
                message: "A return for this organisation and period was already submitted.".into(),
            })
        }
        Err(e) => return Err(e.into()),
    }
    Ok(SubmittedReturn {
        id,
        organisation_id,
        from: period.from,
        to: period.to,
        sha256,
        submitted_by: actor.user_id,
        submitted_at: now,
        snapshot: serde_json::to_value(&ret).map_err(internal)?,
    })
}

/// The council's submitted returns (newest first) and overdue ones: an organisation holding
/// client accounts with no submitted return covering the last full quarter before `today`.
/// Finance officers and auditors only.
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    status: Option<ReturnStatus>,
    today: NaiveDate,
) -> AppResult<Vec<ReturnListItem>> {
    actor.require(&[Role::FinanceOfficer, Role::Auditor])?;
    let mut items = Vec::new();
    if status != Some(ReturnStatus::Overdue) {
        let rows = tx
            .query(
                &tx.prepare_cached(
                    "SELECT r.id, r.organisation_id, o.name, r.period_from, r.period_to,
                            r.snapshot_sha256, r.submitted_at
                     FROM organisation_returns r
                     JOIN organisations o ON o.council_id = r.council_id AND o.id = r.organisation_id
                     WHERE r.council_id = $1
                     ORDER BY r.submitted_at DESC, r.id",
                )
                .await?,
                &[&actor.council_id],
            )
            .await?;
        for r in rows {
            items.push(ReturnListItem {
                status: ReturnStatus::Submitted,
                id: Some(r.try_get(0)?),
                organisation_id: r.try_get(1)?,
                organisation_name: r.try_get(2)?,
                from: r.try_get(3)?,
                to: r.try_get(4)?,
                sha256: Some(r.try_get(5)?),
                submitted_at: Some(r.try_get(6)?),
            });
        }
    }
    if status != Some(ReturnStatus::Submitted) {
        let quarter = last_full_quarter(today);
        let rows = tx
            .query(
                &tx.prepare_cached(
                    "SELECT o.id, o.name FROM organisations o
                     WHERE o.council_id = $1
                       AND EXISTS (SELECT 1 FROM budget_accounts a
                                   WHERE a.council_id = o.council_id
                                     AND a.holder_organisation_id = o.id
                                     AND a.purpose = 'deployment')
                       AND NOT EXISTS (SELECT 1 FROM organisation_returns r
                                       WHERE r.council_id = o.council_id
                                         AND r.organisation_id = o.id
                                         AND r.period_from <= $2 AND r.period_to >= $3)
                     ORDER BY o.name, o.id",
                )
                .await?,
                &[&actor.council_id, &quarter.from, &quarter.to],
            )
            .await?;
        for r in rows {
            items.push(ReturnListItem {
                status: ReturnStatus::Overdue,
                id: None,
                organisation_id: r.try_get(0)?,
                organisation_name: r.try_get(1)?,
                from: quarter.from,
                to: quarter.to,
                sha256: None,
                submitted_at: None,
            });
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_last_full_quarter_ends_before_this_one() {
        let q = last_full_quarter(day(2025, 5, 14));
        assert_eq!((q.from, q.to), (day(2025, 1, 1), day(2025, 3, 31)));
        let q = last_full_quarter(day(2025, 1, 1));
        assert_eq!((q.from, q.to), (day(2024, 10, 1), day(2024, 12, 31)));
    }

    #[test]
    fn periods_are_checked() {
        assert!(check_period(Period {
            from: day(2025, 2, 1),
            to: day(2025, 1, 1)
        })
        .is_err());
        assert!(check_period(Period {
            from: day(1900, 1, 1),
            to: day(2025, 1, 1)
        })
        .is_err());
        assert!(check_period(Period {
            from: day(2025, 1, 1),
            to: day(2025, 1, 1)
        })
        .is_ok());
    }
}
