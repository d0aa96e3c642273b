//! Timesheets of personal assistants (PAs): the hours a PA worked for a person in one week, at
//! their hourly rates. Submitted by whoever holds the money the PA is paid from — the staff of
//! the organisation holding a managed account or ISF, or the person and their representatives for
//! a direct payment (the person is then the PA's employer) — and approved by someone with an
//! `approve` grant on the budget, never by whoever submitted it on the PA's behalf. A week whose
//! timesheets come to more than the plan's weekly amount for personal assistants is flagged.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::{Money, PositiveMoney};
use crate::rules::Deployment;

/// The most hours one day can hold.
pub const MAX_HOURS_PER_DAY: u32 = 24;

/// One day's (or one rate's) work.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTimesheetEntry {
    /// A day of the week ending on `week_ending`, not after today.
    #[serde(with = "crate::dates")]
    #[schema(value_type = String, example = "2025-02-03")]
    pub date: NaiveDate,
    /// More than zero, at most two decimal places; a day's entries at most 24 hours together.
    #[schema(value_type = String, example = "7.5")]
    pub hours: Decimal,
    #[schema(value_type = String, example = "12.50")]
    pub hourly_rate: PositiveMoney,
}

/// A timesheet to submit (`POST /api/v1/timesheets`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTimesheet {
    pub budget_id: Uuid,
    /// The money the PA is paid from. Default: `managed_account` for provider staff,
    /// `direct_payment` for the person and their representatives.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "managed_account")]
    pub deployment: Option<Deployment>,
    /// A payee of kind `personal_assistant`.
    pub payee_id: Uuid,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String, example = "2025-02-09")]
    pub week_ending: NaiveDate,
    pub entries: Vec<NewTimesheetEntry>,
}

/// An entry as recorded, with its amount.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TimesheetEntry {
    #[serde(with = "crate::dates")]
    #[schema(value_type = String)]
    pub date: NaiveDate,
    #[schema(value_type = String)]
    pub hours: Decimal,
    #[schema(value_type = String)]
    pub hourly_rate: Money,
    /// Hours × rate, to the penny.
    #[schema(value_type = String)]
    pub amount: Money,
}

/// Where a timesheet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimesheetStatus {
    Submitted,
    Approved,
    /// Turned down with a reason; the hours may be corrected and submitted again.
    Rejected,
}

impl TimesheetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TimesheetStatus::Submitted => "submitted",
            TimesheetStatus::Approved => "approved",
            TimesheetStatus::Rejected => "rejected",
        }
    }
}

/// An earlier version of a timesheet, as it stood when a correction replaced it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TimesheetVersion {
    pub version: i32,
    pub entries: Vec<TimesheetEntry>,
    #[schema(value_type = String)]
    pub total_hours: Decimal,
    #[schema(value_type = String)]
    pub total: Money,
    pub over_allowance: bool,
    /// `submitted` or `rejected`.
    pub status: TimesheetStatus,
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub rejected_by: Option<Uuid>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub replaced_by: Uuid,
    pub replaced_at: DateTime<Utc>,
}

/// A correction (`POST /api/v1/timesheets/{id}/correct`): the week's entries in full, replacing
/// the submitted or rejected ones.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimesheetCorrection {
    pub entries: Vec<NewTimesheetEntry>,
}

/// A timesheet.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Timesheet {
    pub id: Uuid,
    pub budget_id: Uuid,
    #[schema(value_type = String)]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    pub payee_name: String,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String)]
    pub week_ending: NaiveDate,
    pub entries: Vec<TimesheetEntry>,
    #[schema(value_type = String)]
    pub total_hours: Decimal,
    #[schema(value_type = String)]
    pub total: Money,
    /// The plan's weekly amount for personal assistants paid from this deployment.
    #[schema(value_type = String)]
    pub weekly_allowance: Money,
    /// The week's timesheets of the budget (this one included) came to more than the allowance
    /// when it was submitted.
    pub over_allowance: bool,
    pub status: TimesheetStatus,
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// 1 when first submitted; each correction adds one.
    pub version: i32,
    pub rejected_by: Option<Uuid>,
    pub rejected_at: Option<DateTime<Utc>>,
    /// Why it was rejected (while it stands rejected).
    pub reject_reason: Option<String>,
    /// The versions a correction replaced, oldest first.
    pub history: Vec<TimesheetVersion>,
}

/// A filter of the worklist.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimesheetFilter {
    pub status: Option<TimesheetStatus>,
    pub budget_id: Option<Uuid>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// Who may submit timesheets (the same people who record invoices).
fn require_submitter(actor: &Actor) -> AppResult<()> {
    crate::providers::invoices::require_invoicer(actor)
}

/// Who may ever approve one: those a grant can give `approve` on a budget.
fn require_approver_role(actor: &Actor) -> AppResult<()> {
    actor.require(&[
        Role::ProviderStaff,
        Role::BudgetHolder,
        Role::Representative,
        Role::Broker,
    ])
}

/// Whether the actor reaches the money of this deployment (as for invoices).
async fn reaches(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    deployment: Deployment,
) -> AppResult<bool> {
    if !matches!(
        actor.role,
        Role::ProviderStaff | Role::BudgetHolder | Role::Representative
    ) {
        return Ok(false);
    }
    match crate::providers::invoices::require_reach(tx, actor, budget_id, deployment).await {
        Ok(()) => Ok(true),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the actor has an `approve` grant on the budget that counts today for personal
/// assistants paid from this deployment.
async fn may_approve(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    deployment: Deployment,
    today: NaiveDate,
) -> AppResult<bool> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT can_see_budget($1, $2, $3) AND EXISTS (
                     SELECT 1 FROM agreement_grants g
                     JOIN budgets b ON b.council_id = g.council_id AND b.id = g.budget_id
                     JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
                     WHERE g.council_id = $1 AND g.budget_id = $3 AND g.user_id = $2
                       AND 'approve' = ANY (g.powers) AND $4 = ANY (g.deployments)
                       AND (g.categories IS NULL OR 'personal_assistant' = ANY (g.categories))
                       AND g.ended_at IS NULL AND g.valid_from <= $5
                       AND (g.valid_to IS NULL OR g.valid_to >= $5)
                       AND grant_fits_person(g.acting_as, p.has_capacity, g.lpa_registered,
                                             g.court_order_ref))",
            )
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &budget_id,
                &deployment.as_str(),
                &today,
            ],
        )
        .await?;
    Ok(row.try_get::<_, Option<bool>>(0)?.unwrap_or(false))
}

/// The entries with their amounts, checked against the week and today.
fn priced_entries(new: &NewTimesheet, today: NaiveDate) -> AppResult<Vec<TimesheetEntry>> {
    if new.week_ending > today + Days::new(6) {
        return Err(AppError::invalid(
            "week_ending",
            "a week that has begun: at most six days after today",
        ));
    }
    if new.entries.is_empty() || new.entries.len() > 21 {
        return Err(AppError::invalid("entries", "1 to 21 entries"));
    }
    let first_day = new.week_ending - Days::new(6);
    let mut per_day: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    let mut entries = Vec::with_capacity(new.entries.len());
    for (i, entry) in new.entries.iter().enumerate() {
        let field = |name: &str| format!("entries[{i}].{name}");
        if entry.date < first_day || entry.date > new.week_ending {
            return Err(AppError::invalid(
                &field("date"),
                format!(
                    "a day of the week {first_day} to {} (week_ending)",
                    new.week_ending
                ),
            ));
        }
        if entry.date > today {
            return Err(AppError::invalid(
                &field("date"),
                "not after today: hours are submitted once worked",
            ));
        }
        let hours = entry.hours.normalize();
        if hours <= Decimal::ZERO || hours.scale() > 2 || hours > Decimal::from(MAX_HOURS_PER_DAY) {
            return Err(AppError::invalid(
                &field("hours"),
                "more than zero, at most 24, at most two decimal places",
            ));
        }
        let day = per_day.entry(entry.date).or_default();
        *day += hours;
        if *day > Decimal::from(MAX_HOURS_PER_DAY) {
            return Err(AppError::invalid(
                &field("hours"),
                format!("{} has more than 24 hours", entry.date),
            ));
        }
        if entry.hourly_rate.amount() > Decimal::from(1000) {
            return Err(AppError::invalid_amount(
                &field("hourly_rate"),
                "at most 1000.00 an hour",
            ));
        }
        let amount = (hours * entry.hourly_rate.amount())
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let amount = Money::new(amount)
            .map_err(|e| AppError::invalid_amount(&field("hours"), e.to_string()))?;
        entries.push(TimesheetEntry {
            date: entry.date,
            hours,
            hourly_rate: entry.hourly_rate.money(),
            amount,
        });
    }
    entries.sort_by_key(|e| e.date);
    Ok(entries)
}

/// Submits a timesheet (201 `submitted`). 400 for entries outside the week, in the future or
/// over 24 hours a day, or a payee who is not a personal assistant of this person; 409
/// `duplicate_timesheet` for the same PA's week on this budget again.
pub async fn submit(
    tx: &Tx<'_>,
    actor: &Actor,
    new: &NewTimesheet,
    now: DateTime<Utc>,
) -> AppResult<Timesheet> {
    require_submitter(actor)?;
    let today = crate::clock::london_date(now);
    let entries = priced_entries(new, today)?;
    let deployment = new
        .deployment
        .unwrap_or(if actor.role == Role::ProviderStaff {
            Deployment::ManagedAccount
        } else {
            Deployment::DirectPayment
        });
    crate::providers::invoices::require_reach(tx, actor, new.budget_id, deployment).await?;
    let payee = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT y.kind, y.active, y.person_id, b.person_id AS budget_person FROM payees y
                 JOIN budgets b ON b.council_id = y.council_id AND b.id = $3
                 WHERE y.council_id = $1 AND y.id = $2",
            )
            .await?,
            &[&actor.council_id, &new.payee_id, &new.budget_id],
        )
        .await?
        .ok_or_else(|| AppError::invalid("payee_id", "no such payee"))?;
    let kind: &str = payee.try_get("kind")?;
    if kind != "personal_assistant" {
        return Err(AppError::invalid(
            "payee_id",
            "not a personal assistant (payee kind personal_assistant)",
        ));
    }
    let payee_person: Option<Uuid> = payee.try_get("person_id")?;
    let budget_person: Uuid = payee.try_get("budget_person")?;
    if payee_person.is_some_and(|p| p != budget_person) {
        return Err(AppError::invalid(
            "payee_id",
            "this personal assistant is recorded for someone else",
        ));
    }
    if !payee.try_get::<_, bool>("active")? {
        return Err(AppError::invalid("payee_id", "this payee is not active"));
    }
    let total_hours: Decimal = entries.iter().map(|e| e.hours).sum();
    let total: Decimal = entries.iter().map(|e| e.amount.amount()).sum();
    if total <= Decimal::ZERO {
        return Err(AppError::invalid_amount(
            "entries",
            "the week comes to nothing at these hours and rates",
        ));
    }
    // The plan's weekly amount for personal assistants of this deployment, and what the week's
    // timesheets of the budget already come to.
    let allowance = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT coalesce((SELECT sum(l.weekly_amount) FROM support_plans sp
                                  JOIN support_plan_lines l ON l.council_id = sp.council_id
                                                          AND l.plan_id = sp.id
                                  WHERE sp.council_id = $1 AND sp.budget_id = $2
                                    AND sp.status = 'approved'
                                    AND l.category = 'personal_assistant'
                                    AND l.deployment = $3), 0)::numeric(14,2) AS allowance,
                        coalesce((SELECT sum(t.total) FROM timesheets t
                                  WHERE t.council_id = $1 AND t.budget_id = $2
                                    AND t.deployment = $3 AND t.week_ending = $4
                                    AND t.status <> 'rejected'), 0)
                            ::numeric(14,2) AS already",
            )
            .await?,
            &[
                &actor.council_id,
                &new.budget_id,
                &deployment.as_str(),
                &new.week_ending,
            ],
        )
        .await?;
    let weekly_allowance: Decimal = allowance.try_get("allowance")?;
    let already: Decimal = allowance.try_get("already")?;
    let over_allowance = already + total > weekly_allowance;
    let id = Uuid::new_v4();
    let inserted = tx
        .execute(
            &tx.prepare_cached(
                "INSERT INTO timesheets (council_id, id, budget_id, deployment, payee_id,
                     week_ending, entries, total_hours, total, weekly_allowance, over_allowance,
                     submitted_by, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (council_id, budget_id, payee_id, week_ending) DO NOTHING",
            )
            .await?,
            &[
                &actor.council_id,
                &id,
                &new.budget_id,
                &deployment.as_str(),
                &new.payee_id,
                &new.week_ending,
                &serde_json::to_value(&entries).map_err(internal)?,
                &total_hours,
                &total,
                &weekly_allowance,
                &over_allowance,
                &actor.user_id,
                &now,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(AppError::Conflict {
            code: "duplicate_timesheet",
            message: format!(
                "This personal assistant's timesheet for the week ending {} is already submitted.",
                new.week_ending
            ),
        });
    }
    load(tx, actor.council_id, id).await
}

const SELECT_TIMESHEET: &str = "
SELECT t.id, t.budget_id, t.deployment, t.payee_id, y.name AS payee_name, t.week_ending,
       t.entries, t.total_hours, t.total, t.weekly_allowance, t.over_allowance, t.status,
       t.submitted_by, t.submitted_at, t.approved_by, t.approved_at, t.version,
       t.rejected_by, t.rejected_at, t.reject_reason,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'version', v.version, 'entries', v.entries, 'total_hours', v.total_hours::text,
                'total', v.total::text, 'over_allowance', v.over_allowance, 'status', v.status,
                'submitted_by', v.submitted_by, 'submitted_at', v.submitted_at,
                'rejected_by', v.rejected_by, 'rejected_at', v.rejected_at,
                'reject_reason', v.reject_reason, 'replaced_by', v.replaced_by,
                'replaced_at', v.replaced_at) ORDER BY v.version), '[]'::jsonb)
        FROM timesheet_versions v
        WHERE v.council_id = t.council_id AND v.timesheet_id = t.id) AS history
FROM timesheets t
JOIN payees y ON y.council_id = t.council_id AND y.id = t.payee_id";

fn from_row(row: &Row) -> AppResult<Timesheet> {
    let stored = |what: &str| internal(format!("stored timesheet has a bad {what}"));
    let money = |name: &str| -> AppResult<Money> {
        Money::new(row.try_get::<_, Decimal>(name)?).map_err(|_| stored(name))
    };
    let deployment: &str = row.try_get("deployment")?;
    let status = match row.try_get::<_, &str>("status")? {
        "submitted" => TimesheetStatus::Submitted,
        "approved" => TimesheetStatus::Approved,
        "rejected" => TimesheetStatus::Rejected,
        _ => return Err(stored("status")),
    };
    Ok(Timesheet {
        id: row.try_get("id")?,
        budget_id: row.try_get("budget_id")?,
        deployment: deployment.parse().map_err(|_| stored("deployment"))?,
        payee_id: row.try_get("payee_id")?,
        payee_name: row.try_get("payee_name")?,
        week_ending: row.try_get("week_ending")?,
        entries: serde_json::from_value(row.try_get("entries")?).map_err(|_| stored("entries"))?,
        total_hours: row.try_get::<_, Decimal>("total_hours")?.normalize(),
        total: money("total")?,
        weekly_allowance: money("weekly_allowance")?,
        over_allowance: row.try_get("over_allowance")?,
        status,
        submitted_by: row.try_get("submitted_by")?,
        submitted_at: row.try_get("submitted_at")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: row.try_get("approved_at")?,
        version: row.try_get("version")?,
        rejected_by: row.try_get("rejected_by")?,
        rejected_at: row.try_get("rejected_at")?,
        reject_reason: row.try_get("reject_reason")?,
        history: serde_json::from_value(row.try_get("history")?).map_err(|_| stored("history"))?,
    })
}

async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Timesheet> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(&format!(
                "{SELECT_TIMESHEET} WHERE t.council_id = $1 AND t.id = $2"
            ))
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// A timesheet the actor may see: whoever may submit it or approve it (404 otherwise).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid, today: NaiveDate) -> AppResult<Timesheet> {
    require_approver_role(actor)?;
    let sheet = load(tx, actor.council_id, id).await?;
    if reaches(tx, actor, sheet.budget_id, sheet.deployment).await?
        || may_approve(tx, actor, sheet.budget_id, sheet.deployment, today).await?
    {
        Ok(sheet)
    } else {
        Err(AppError::NotFound)
    }
}

/// The timesheets the actor may submit or approve (the worklist), oldest week first.
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    filter: TimesheetFilter,
    today: NaiveDate,
) -> AppResult<Vec<Timesheet>> {
    require_approver_role(actor)?;
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_TIMESHEET}
                 WHERE t.council_id = $1 AND ($3::uuid IS NULL OR t.budget_id = $3)
                   AND ($4::text IS NULL OR t.status = $4)
                   AND can_see_budget($1, $2, t.budget_id)
                 ORDER BY t.week_ending, t.submitted_at, t.id
                 LIMIT 1000"
            ))
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &filter.budget_id,
                &filter.status.map(TimesheetStatus::as_str),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let sheet = from_row(row)?;
        if reaches(tx, actor, sheet.budget_id, sheet.deployment).await?
            || may_approve(tx, actor, sheet.budget_id, sheet.deployment, today).await?
        {
            out.push(sheet);
        }
    }
    Ok(out)
}

/// Approves a submitted timesheet: by someone with an `approve` grant on the budget (403
/// `no_authority` otherwise) who did not submit it (403 `approver_conflict`); an approved one
/// again is 409.
pub async fn approve(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Timesheet> {
    require_approver_role(actor)?;
    let today = crate::clock::london_date(now);
    lock(tx, actor, id).await?;
    let sheet = get(tx, actor, id, today).await?;
    if !may_approve(tx, actor, sheet.budget_id, sheet.deployment, today).await? {
        return Err(AppError::NoAuthority {
            message: "Approving a personal assistant's timesheet needs an approve grant on this \
                      budget for personal assistants paid from this money."
                .into(),
            details: vec![crate::error::Detail::rule(
                "no_authority",
                "no approve grant on this budget for personal assistants",
            )],
        });
    }
    refuse_submitter(&sheet, actor)?;
    match sheet.status {
        TimesheetStatus::Submitted => {}
        TimesheetStatus::Approved => {
            return Err(AppError::conflict("This timesheet is already approved."))
        }
        TimesheetStatus::Rejected => {
            return Err(AppError::conflict(
                "This timesheet was rejected; it is approved once corrected and submitted again.",
            ))
        }
    }
    tx.execute(
        &tx.prepare_cached(
            "UPDATE timesheets SET status = 'approved', approved_by = $3, approved_at = $4
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&actor.council_id, &id, &actor.user_id, &now],
    )
    .await?;
    load(tx, actor.council_id, id).await
}

/// 403 `approver_conflict` for anyone who submitted any version of the timesheet: they may not
/// approve or reject what they put in for the personal assistant.
fn refuse_submitter(sheet: &Timesheet, actor: &Actor) -> AppResult<()> {
    if sheet.submitted_by == actor.user_id
        || sheet
            .history
            .iter()
            .any(|v| v.submitted_by == actor.user_id)
    {
        return Err(AppError::Denied {
            code: "approver_conflict",
            message: "A timesheet is approved or rejected by someone other than whoever \
                      submitted it for the personal assistant."
                .into(),
        });
    }
    Ok(())
}

/// The timesheet locked, for a change.
async fn lock(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<()> {
    tx.query_opt(
        &tx.prepare_cached("SELECT 1 FROM timesheets WHERE council_id = $1 AND id = $2 FOR UPDATE")
            .await?,
        &[&actor.council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(())
}

/// Rejects a submitted timesheet with a reason: by someone who could approve it (403
/// `no_authority` otherwise), never whoever submitted it (403 `approver_conflict`); no reason is
/// 422 `reason_required`; one that is not waiting (approved, or already rejected) 409.
pub async fn reject(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Timesheet> {
    require_approver_role(actor)?;
    let today = crate::clock::london_date(now);
    lock(tx, actor, id).await?;
    let sheet = get(tx, actor, id, today).await?;
    if !may_approve(tx, actor, sheet.budget_id, sheet.deployment, today).await? {
        return Err(AppError::NoAuthority {
            message: "Rejecting a personal assistant's timesheet needs an approve grant on this \
                      budget for personal assistants paid from this money."
                .into(),
            details: vec![crate::error::Detail::rule(
                "no_authority",
                "no approve grant on this budget for personal assistants",
            )],
        });
    }
    refuse_submitter(&sheet, actor)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::refused(
            "reason_required",
            "Say why the timesheet is rejected, so whoever submitted it can correct it.",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "at most 500 characters"));
    }
    if sheet.status != TimesheetStatus::Submitted {
        return Err(AppError::conflict(format!(
            "This timesheet is {}; only a submitted one can be rejected.",
            sheet.status.as_str()
        )));
    }
    tx.execute(
        &tx.prepare_cached(
            "UPDATE timesheets SET status = 'rejected', rejected_by = $3, rejected_at = $4,
                 reject_reason = $5
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&actor.council_id, &id, &actor.user_id, &now, &reason],
    )
    .await?;
    load(tx, actor.council_id, id).await
}

/// Corrects a submitted or rejected timesheet: the entries given replace the week's, checked as
/// when submitted, and it is submitted again as its next version (status `submitted`, the
/// allowance flag worked out again). The version replaced is kept in its history. By whoever may
/// submit it (another's client 404); an approved timesheet is 409.
pub async fn correct(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    correction: &TimesheetCorrection,
    now: DateTime<Utc>,
) -> AppResult<Timesheet> {
    require_submitter(actor)?;
    let today = crate::clock::london_date(now);
    lock(tx, actor, id).await?;
    let sheet = load(tx, actor.council_id, id).await?;
    if !reaches(tx, actor, sheet.budget_id, sheet.deployment).await? {
        return Err(AppError::NotFound);
    }
    if sheet.status == TimesheetStatus::Approved {
        return Err(AppError::conflict(
            "This timesheet is approved; an approved timesheet is not corrected.",
        ));
    }
    let new = NewTimesheet {
        budget_id: sheet.budget_id,
        deployment: Some(sheet.deployment),
        payee_id: sheet.payee_id,
        week_ending: sheet.week_ending,
        entries: correction.entries.clone(),
    };
    let entries = priced_entries(&new, today)?;
    let total_hours: Decimal = entries.iter().map(|e| e.hours).sum();
    let total: Decimal = entries.iter().map(|e| e.amount.amount()).sum();
    if total <= Decimal::ZERO {
        return Err(AppError::invalid_amount(
            "entries",
            "the week comes to nothing at these hours and rates",
        ));
    }
    let others = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT coalesce(sum(t.total), 0)::numeric(14,2) FROM timesheets t
                 WHERE t.council_id = $1 AND t.budget_id = $2 AND t.deployment = $3
                   AND t.week_ending = $4 AND t.status <> 'rejected' AND t.id <> $5",
            )
            .await?,
            &[
                &actor.council_id,
                &sheet.budget_id,
                &sheet.deployment.as_str(),
                &sheet.week_ending,
                &id,
            ],
        )
        .await?;
    let already: Decimal = others.try_get(0)?;
    let allowance = sheet.weekly_allowance.amount();
    let over_allowance = already + total > allowance;
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO timesheet_versions (council_id, timesheet_id, version, entries,
                 total_hours, total, weekly_allowance, over_allowance, status, submitted_by,
                 submitted_at, rejected_by, rejected_at, reject_reason, replaced_by, replaced_at)
             SELECT council_id, id, version, entries, total_hours, total, weekly_allowance,
                    over_allowance, status, submitted_by, submitted_at, rejected_by, rejected_at,
                    reject_reason, $3, $4
             FROM timesheets WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&actor.council_id, &id, &actor.user_id, &now],
    )
    .await?;
    tx.execute(
        &tx.prepare_cached(
            "UPDATE timesheets SET entries = $3, total_hours = $4, total = $5,
                 over_allowance = $6, status = 'submitted', submitted_by = $7, submitted_at = $8,
                 version = version + 1, rejected_by = NULL, rejected_at = NULL,
                 reject_reason = NULL
             WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[
            &actor.council_id,
            &id,
            &serde_json::to_value(&entries).map_err(internal)?,
            &total_hours,
            &total,
            &over_allowance,
            &actor.user_id,
            &now,
        ],
    )
    .await?;
    load(tx, actor.council_id, id).await
}
