//! The council's policy settings (RULES.md values marked *policy*), versioned. A council starts on
//! the defaults of `rules::CouncilPolicy` (version 1, not stored); each change stores a new
//! version. Decisions record the version they were made under, so changing policy never changes
//! a past decision.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::CouncilPolicy;

/// Upper bounds on settings that would otherwise make no sense (a hold waiting for years).
const MAX_HOLD_EXPIRY_DAYS: u32 = 90;
const MAX_SURPLUS_WEEKS: u32 = 52;
const MAX_INTERIM_WEEKS: u32 = 12;
const MAX_BLOCKED_CATEGORIES: usize = 100;
const MAX_CARD_HOLD_DAYS: u32 = 31;
/// Evidence is kept at least six years (RULES.md › Monitoring) and for no more than a century.
const MIN_RETENTION_YEARS: u32 = 6;
const MAX_RETENTION_YEARS: u32 = 100;
/// Notice of a surplus recovery: at least a week, at most six months.
const MAX_NOTICE_WEEKS: u32 = 26;
/// The first review: statutory ceiling of six months (26 weeks).
const MAX_FIRST_REVIEW_WEEKS: u32 = 26;

/// One stored version with who made it and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyVersion {
    #[schema(value_type = Object)]
    pub policy: CouncilPolicy,
    pub reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
}

/// The policy in force for the council (the defaults, version 1, until a council changes it).
/// A decision records the version it read here.
pub async fn current(tx: &Tx<'_>, council_id: Uuid) -> AppResult<CouncilPolicy> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT version, settings FROM council_policies WHERE council_id = $1
             ORDER BY version DESC LIMIT 1",
            )
            .await?,
            &[&council_id],
        )
        .await?;
    match row {
        None => Ok(CouncilPolicy::default()),
        Some(row) => from_stored(row.get(0), row.get(1)),
    }
}

fn from_stored(version: i32, settings: serde_json::Value) -> AppResult<CouncilPolicy> {
    let mut policy: CouncilPolicy = serde_json::from_value(settings)
        .map_err(|e| AppError::Internal(format!("stored policy version {version}: {e}")))?;
    policy.version = version;
    Ok(policy)
}

/// Every version, newest first (the defaults appear as version 1 when never changed).
pub async fn history(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<PolicyVersion>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT version, settings, reason, created_by, created_at FROM council_policies
             WHERE council_id = $1 ORDER BY version DESC",
            )
            .await?,
            &[&council_id],
        )
        .await?;
    let mut versions = rows
        .into_iter()
        .map(|row| {
            Ok(PolicyVersion {
                policy: from_stored(row.get(0), row.get(1))?,
                reason: row.get(2),
                created_by: row.get(3),
                created_at: row.get(4),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    if versions.last().is_none_or(|v| v.policy.version > 1) {
        versions.push(PolicyVersion {
            policy: CouncilPolicy::default(),
            reason: None,
            created_by: None,
            created_at: None,
        });
    }
    Ok(versions)
}

fn check(policy: &CouncilPolicy) -> AppResult<()> {
    if policy.receipt_threshold.is_sign_negative() || policy.receipt_threshold.scale() > 2 {
        return Err(AppError::invalid_amount(
            "receipt_threshold",
            "zero or more, at most two decimal places",
        ));
    }
    if !(1..=MAX_HOLD_EXPIRY_DAYS).contains(&policy.hold_expiry_days) {
        return Err(AppError::invalid("hold_expiry_days", "1 to 90 days"));
    }
    for (field, weeks) in [
        ("surplus_weeks_dp", policy.surplus_weeks_dp),
        ("surplus_weeks_isf", policy.surplus_weeks_isf),
    ] {
        if !(1..=MAX_SURPLUS_WEEKS).contains(&weeks) {
            return Err(AppError::invalid(field, "1 to 52 weeks"));
        }
    }
    if !(1..=MAX_INTERIM_WEEKS).contains(&policy.interim_max_weeks) {
        return Err(AppError::invalid("interim_max_weeks", "1 to 12 weeks"));
    }
    if !(MIN_RETENTION_YEARS..=MAX_RETENTION_YEARS).contains(&policy.evidence_retention_years) {
        return Err(AppError::invalid(
            "evidence_retention_years",
            "6 to 100 years",
        ));
    }
    if !(1..=MAX_NOTICE_WEEKS).contains(&policy.surplus_notice_weeks) {
        return Err(AppError::invalid("surplus_notice_weeks", "1 to 26 weeks"));
    }
    if !(1..=MAX_FIRST_REVIEW_WEEKS).contains(&policy.first_review_weeks) {
        return Err(AppError::invalid("first_review_weeks", "1 to 26 weeks"));
    }
    for (field, value) in [
        ("contact_phone", &policy.contact_phone),
        ("contact_email", &policy.contact_email),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.trim().is_empty() || v.chars().count() > 200)
        {
            return Err(AppError::invalid(field, "1 to 200 characters when given"));
        }
    }
    if policy.blocked_merchant_categories.len() > MAX_BLOCKED_CATEGORIES
        || policy
            .blocked_merchant_categories
            .iter()
            .any(|c| c.trim().is_empty() || c.len() > 100)
    {
        return Err(AppError::invalid(
            "blocked_merchant_categories",
            "up to 100 categories of 1 to 100 characters",
        ));
    }
    check_cards(policy)
}

fn is_mcc(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The card settings: merchant category codes are four digits, lists are bounded.
fn check_cards(policy: &CouncilPolicy) -> AppResult<()> {
    if policy.card_mcc_categories.len() > 1000
        || policy.card_mcc_categories.keys().any(|code| !is_mcc(code))
    {
        return Err(AppError::invalid(
            "card_mcc_categories",
            "up to 1000 merchant category codes of four digits, each to a plan category",
        ));
    }
    for (field, codes) in [
        ("card_blocked_mccs", &policy.card_blocked_mccs),
        ("card_cash_mccs", &policy.card_cash_mccs),
        ("card_over_capture_mccs", &policy.card_over_capture_mccs),
    ] {
        if codes.len() > 1000 || codes.iter().any(|code| !is_mcc(code)) {
            return Err(AppError::invalid(
                field,
                "up to 1000 merchant category codes of four digits",
            ));
        }
    }
    let limit = policy.card_cash_daily_limit;
    if limit.is_sign_negative()
        || limit.scale() > 2
        || limit > rust_decimal::Decimal::new(1_000_000, 2)
    {
        return Err(AppError::invalid_amount(
            "card_cash_daily_limit",
            "0.00 to 10000.00, at most two decimal places",
        ));
    }
    if !(1..=MAX_CARD_HOLD_DAYS).contains(&policy.card_hold_expiry_days) {
        return Err(AppError::invalid("card_hold_expiry_days", "1 to 31 days"));
    }
    Ok(())
}

/// Stores a new version of the council's policy (council admins only) and returns it. Serialised
/// per council by locking the council row, so two changes never claim the same version.
pub async fn change(
    tx: &Tx<'_>,
    actor: &Actor,
    settings: &CouncilPolicy,
    reason: Option<&str>,
) -> AppResult<CouncilPolicy> {
    actor.require(&[Role::CouncilAdmin])?;
    check(settings)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("reason", "at most 2000 characters"));
    }
    let council_id = actor.council_id;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.policy.' || $1::uuid::text, 0))",
        &[&council_id],
    )
    .await?;
    let version = current(tx, council_id).await?.version + 1;
    let mut stored = settings.clone();
    stored.version = version;
    let json = serde_json::to_value(&stored).map_err(|e| AppError::Internal(e.to_string()))?;
    tx.execute(
        "INSERT INTO council_policies (council_id, version, settings, reason, created_by)
         VALUES ($1, $2, $3, $4, $5)",
        &[&council_id, &version, &json, &reason, &actor.user_id],
    )
    .await?;
    Ok(stored)
}
