//! Assessment to indicative budget. The council's Resource Allocation System (RAS) gives each need
//! domain a point scale and a price per point (or one price for every domain); an assessment gives
//! points per domain and is priced under the RAS version in force, so the indicative weekly
//! amount and how it was worked out never change afterwards. The RAS is versioned like the
//! policy: a council starts on the defaults (version 1, not stored) and each change stores a new
//! version.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::money::Money;

/// Council staff may read the RAS and assessments; only administrators change the RAS and only
/// care managers assess.
pub const STAFF: &[Role] = &[
    Role::CouncilAdmin,
    Role::CareManager,
    Role::FinanceOfficer,
    Role::Auditor,
];
const MAX_DOMAINS: usize = 50;
const MAX_POINTS: u32 = 1000;
const MAX_NOTES: usize = 5000;

/// One need domain: its name (the key assessments use), a label, its point scale (0 to
/// `max_points`) and, unless the RAS has one price for every domain, its price per point.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RasDomain {
    /// Lower-case letters, digits and `_` (1 to 60 characters).
    pub name: String,
    /// How the domain is shown to people (defaults to the name).
    #[serde(default)]
    pub label: Option<String>,
    /// The top of the domain's scale (1 to 1000 points).
    pub max_points: u32,
    /// The price of one point in this domain; without it the RAS's `price_per_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12.50")]
    pub price_per_point: Option<Money>,
}

/// A version of the council's RAS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ras {
    /// Set by the server; ignored on input.
    #[serde(default, skip_deserializing)]
    pub version: i32,
    pub domains: Vec<RasDomain>,
    /// One price per point for every domain that has none of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "10.00")]
    pub price_per_point: Option<Money>,
}

impl Ras {
    /// The price of a point in a domain.
    pub fn price_of(&self, domain: &RasDomain) -> Decimal {
        domain
            .price_per_point
            .or(self.price_per_point)
            .map(Money::amount)
            .unwrap_or_default()
    }
}

impl Default for Ras {
    /// The eligibility outcomes of the Care and Support (Eligibility Criteria) Regulations 2015
    /// reg 2(2), ten points each at 10.00 a point.
    fn default() -> Self {
        let domains = [
            ("nutrition", "Managing and maintaining nutrition"),
            ("personal_hygiene", "Maintaining personal hygiene"),
            ("toilet_needs", "Managing toilet needs"),
            ("dressing", "Being appropriately clothed"),
            ("home_safety", "Being able to make use of the home safely"),
            ("habitable_home", "Maintaining a habitable home environment"),
            ("relationships", "Family and other personal relationships"),
            (
                "work_and_learning",
                "Work, training, education or volunteering",
            ),
            (
                "community",
                "Using facilities and services in the community",
            ),
            ("caring_for_a_child", "Caring responsibilities for a child"),
        ];
        Ras {
            version: 1,
            domains: domains
                .iter()
                .map(|(name, label)| RasDomain {
                    name: (*name).to_owned(),
                    label: Some((*label).to_owned()),
                    max_points: 10,
                    price_per_point: None,
                })
                .collect(),
            price_per_point: Money::new(Decimal::new(1000, 2)).ok(),
        }
    }
}

/// A stored RAS version with who made it and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RasVersion {
    #[serde(flatten)]
    pub ras: Ras,
    pub reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
}

fn from_stored(version: i32, mut settings: serde_json::Value) -> AppResult<Ras> {
    // The version is the row's (the settings carry it too, which input refuses).
    if let Some(object) = settings.as_object_mut() {
        object.remove("version");
    }
    let mut ras: Ras = serde_json::from_value(settings)
        .map_err(|e| AppError::Internal(format!("stored RAS version {version}: {e}")))?;
    ras.version = version;
    Ok(ras)
}

/// The RAS in force (the defaults, version 1, until the council changes it).
pub async fn current(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Ras> {
    let row = tx
        .query_opt(
            "SELECT version, settings FROM ras_versions WHERE council_id = $1
             ORDER BY version DESC LIMIT 1",
            &[&council_id],
        )
        .await?;
    match row {
        None => Ok(Ras::default()),
        Some(row) => from_stored(row.get(0), row.get(1)),
    }
}

/// Every version, newest first (the defaults appear as version 1).
pub async fn history(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<RasVersion>> {
    actor.require(STAFF)?;
    let rows = tx
        .query(
            "SELECT version, settings, reason, created_by, created_at FROM ras_versions
             WHERE council_id = $1 ORDER BY version DESC",
            &[&actor.council_id],
        )
        .await?;
    let mut versions = rows
        .into_iter()
        .map(|row| {
            Ok(RasVersion {
                ras: from_stored(row.get(0), row.get(1))?,
                reason: row.get(2),
                created_by: row.get(3),
                created_at: row.get(4),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    versions.push(RasVersion {
        ras: Ras::default(),
        reason: None,
        created_by: None,
        created_at: None,
    });
    Ok(versions)
}

/// One version with who made it (the current one without `version`); an unknown version 404.
pub async fn version(tx: &Tx<'_>, actor: &Actor, version: Option<i32>) -> AppResult<RasVersion> {
    let versions = history(tx, actor).await?;
    let found = match version {
        None => versions.into_iter().next(),
        Some(v) => versions.into_iter().find(|r| r.ras.version == v),
    };
    found.ok_or(AppError::NotFound)
}

/// A change as sent: the new domains and prices, and why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RasChange {
    pub domains: Vec<RasDomain>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10.00")]
    pub price_per_point: Option<Money>,
    #[serde(default)]
    pub reason: Option<String>,
}

fn check(ras: &Ras) -> AppResult<()> {
    if ras.domains.is_empty() || ras.domains.len() > MAX_DOMAINS {
        return Err(AppError::invalid("domains", "1 to 50 need domains"));
    }
    let mut names = BTreeSet::new();
    for (index, domain) in ras.domains.iter().enumerate() {
        let field = format!("domains[{index}]");
        let name_ok = (1..=60).contains(&domain.name.len())
            && domain
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(AppError::invalid(
                &format!("{field}.name"),
                "lower-case letters, digits and _ (1 to 60 characters)",
            ));
        }
        if !names.insert(domain.name.as_str()) {
            return Err(AppError::invalid(
                &format!("{field}.name"),
                format!("{} is named twice", domain.name),
            ));
        }
        if domain
            .label
            .as_deref()
            .is_some_and(|l| l.trim().is_empty() || l.chars().count() > 200)
        {
            return Err(AppError::invalid(
                &format!("{field}.label"),
                "1 to 200 characters when given",
            ));
        }
        if !(1..=MAX_POINTS).contains(&domain.max_points) {
            return Err(AppError::invalid(
                &format!("{field}.max_points"),
                "1 to 1000 points",
            ));
        }
        match domain.price_per_point.or(ras.price_per_point) {
            None => {
                return Err(AppError::invalid(
                    &format!("{field}.price_per_point"),
                    "give the domain a price per point, or the RAS one price for every domain",
                ))
            }
            Some(price) if price.amount().is_sign_negative() => {
                return Err(AppError::invalid_amount(
                    &format!("{field}.price_per_point"),
                    "a price per point cannot be negative",
                ))
            }
            Some(_) => {}
        }
    }
    if ras
        .price_per_point
        .is_some_and(|p| p.amount().is_sign_negative())
    {
        return Err(AppError::invalid_amount(
            "price_per_point",
            "a price per point cannot be negative",
        ));
    }
    Ok(())
}

/// Stores a new version of the council's RAS (council administrators) and returns it.
pub async fn change(tx: &Tx<'_>, actor: &Actor, change: &RasChange) -> AppResult<RasVersion> {
    actor.require(&[Role::CouncilAdmin])?;
    let ras = Ras {
        version: 0,
        domains: change.domains.clone(),
        price_per_point: change.price_per_point,
    };
    check(&ras)?;
    let reason = change
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("reason", "at most 2000 characters"));
    }
    let council_id = actor.council_id;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.ras.' || $1::uuid::text, 0))",
        &[&council_id],
    )
    .await?;
    let mut stored = ras.clone();
    stored.version = current(tx, council_id).await?.version + 1;
    let json = serde_json::to_value(&stored).map_err(|e| AppError::Internal(e.to_string()))?;
    let row = tx
        .query_one(
            "INSERT INTO ras_versions (council_id, version, settings, reason, created_by)
             VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
            &[&council_id, &stored.version, &json, &reason, &actor.user_id],
        )
        .await?;
    Ok(RasVersion {
        ras: stored,
        reason: reason.map(str::to_owned),
        created_by: Some(actor.user_id),
        created_at: Some(row.get(0)),
    })
}

/// Whose needs an assessment is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentKind {
    /// The person's own needs for care and support.
    #[default]
    Needs,
    /// A carer's needs for support (Care Act s.10): a budget from it is a carer's budget.
    Carer,
}

impl AssessmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentKind::Needs => "needs",
            AssessmentKind::Carer => "carer",
        }
    }
    pub fn parse(text: &str) -> AppResult<Self> {
        match text {
            "needs" => Ok(AssessmentKind::Needs),
            "carer" => Ok(AssessmentKind::Carer),
            other => Err(AppError::Internal(format!(
                "unknown assessment kind {other}"
            ))),
        }
    }
}

/// An assessment as sent: points per domain of the RAS in force (domains left out score 0).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// `{domain name: points}`, each 0 to the domain's `max_points`.
    #[schema(value_type = Object, example = json!({"nutrition": 4, "personal_hygiene": 6}))]
    pub domains: BTreeMap<String, u32>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub kind: AssessmentKind,
}

/// One domain's part of the indicative amount: points × price per point.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Working {
    pub domain: String,
    pub label: String,
    pub points: u32,
    pub max_points: u32,
    #[schema(value_type = String, example = "10.00")]
    pub price_per_point: Decimal,
    #[schema(value_type = String, example = "40.00")]
    pub amount: Decimal,
}

/// A stored assessment with its indicative weekly amount and how it was worked out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: AssessmentKind,
    /// The RAS version the points were priced under.
    pub ras_version: i32,
    #[schema(value_type = Object)]
    pub domains: BTreeMap<String, u32>,
    pub notes: String,
    pub indicative_weekly: Money,
    /// Each scored domain: points × price per point; they add up to `indicative_weekly`.
    pub workings: Vec<Working>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// Prices points under a RAS: every domain named must be the RAS's, with points within its scale.
pub fn work_out(ras: &Ras, points: &BTreeMap<String, u32>) -> AppResult<(Vec<Working>, Decimal)> {
    if points.is_empty() {
        return Err(AppError::invalid(
            "domains",
            "give the points of at least one need domain",
        ));
    }
    for (name, given) in points {
        let field = format!("domains.{name}");
        let domain = ras
            .domains
            .iter()
            .find(|d| &d.name == name)
            .ok_or_else(|| {
                AppError::invalid(
                    &field,
                    format!("not a need domain of RAS version {}", ras.version),
                )
            })?;
        if *given > domain.max_points {
            return Err(AppError::invalid(
                &field,
                format!("0 to {} points", domain.max_points),
            ));
        }
    }
    let workings: Vec<Working> = ras
        .domains
        .iter()
        .filter_map(|d| points.get(&d.name).map(|p| (d, *p)))
        .map(|(d, points)| {
            let price = ras.price_of(d);
            Working {
                domain: d.name.clone(),
                label: d.label.clone().unwrap_or_else(|| d.name.clone()),
                points,
                max_points: d.max_points,
                price_per_point: price,
                amount: (price * Decimal::from(points))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            }
        })
        .collect();
    let total = workings.iter().map(|w| w.amount).sum();
    Ok((workings, total))
}

/// A care manager records an assessment of one of the council's people (404 otherwise).
pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    person_id: Uuid,
    new: &NewAssessment,
) -> AppResult<Assessment> {
    actor.require(&[Role::CareManager])?;
    crate::budgets::people::get(tx, actor, person_id).await?;
    let notes = new.notes.trim();
    if notes.chars().count() > MAX_NOTES {
        return Err(AppError::invalid("notes", "at most 5000 characters"));
    }
    let ras = current(tx, actor.council_id).await?;
    let (workings, total) = work_out(&ras, &new.domains)?;
    let indicative =
        Money::new(total).map_err(|e| AppError::invalid_amount("domains", e.to_string()))?;
    let id = Uuid::new_v4();
    let points =
        serde_json::to_value(&new.domains).map_err(|e| AppError::Internal(e.to_string()))?;
    let workings_json =
        serde_json::to_value(&workings).map_err(|e| AppError::Internal(e.to_string()))?;
    let row = tx
        .query_one(
            "INSERT INTO assessments (council_id, id, person_id, kind, ras_version, points, workings,
                                      indicative_weekly, notes, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING created_at",
            &[
                &actor.council_id,
                &id,
                &person_id,
                &new.kind.as_str(),
                &ras.version,
                &points,
                &workings_json,
                &indicative.amount(),
                &notes,
                &actor.user_id,
            ],
        )
        .await?;
    Ok(Assessment {
        id,
        person_id,
        kind: new.kind,
        ras_version: ras.version,
        domains: new.domains.clone(),
        notes: notes.to_owned(),
        indicative_weekly: indicative,
        workings,
        created_by: actor.user_id,
        created_at: row.get(0),
    })
}

const COLUMNS: &str = "id, person_id, kind, ras_version, points, workings, indicative_weekly,
                       notes, created_by, created_at";

fn from_row(row: &tokio_postgres::Row) -> AppResult<Assessment> {
    let internal = |e: serde_json::Error| AppError::Internal(format!("stored assessment: {e}"));
    let indicative: Decimal = row.get(6);
    Ok(Assessment {
        id: row.get(0),
        person_id: row.get(1),
        kind: AssessmentKind::parse(row.get(2))?,
        ras_version: row.get(3),
        domains: serde_json::from_value(row.get(4)).map_err(internal)?,
        workings: serde_json::from_value(row.get(5)).map_err(internal)?,
        indicative_weekly: Money::new(indicative).map_err(|e| AppError::Internal(e.to_string()))?,
        notes: row.get(7),
        created_by: row.get(8),
        created_at: row.get(9),
    })
}

/// A person's assessments, newest first (council staff; a person of another council 404).
pub async fn of_person(tx: &Tx<'_>, actor: &Actor, person_id: Uuid) -> AppResult<Vec<Assessment>> {
    actor.require(STAFF)?;
    crate::budgets::people::get(tx, actor, person_id).await?;
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM assessments WHERE council_id = $1 AND person_id = $2
                 ORDER BY created_at DESC, id"
            ),
            &[&actor.council_id, &person_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One assessment of the council (for a budget citing it); unknown 404.
pub async fn get(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Assessment> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM assessments WHERE council_id = $1 AND id = $2"),
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_priced_per_domain() {
        let mut ras = Ras::default();
        ras.domains[1].price_per_point = Money::new(Decimal::new(1250, 2)).ok();
        let points = BTreeMap::from([
            ("nutrition".to_owned(), 4),
            ("personal_hygiene".to_owned(), 3),
        ]);
        let (workings, total) = work_out(&ras, &points).unwrap();
        assert_eq!(workings.len(), 2);
        assert_eq!(workings[0].amount, Decimal::new(4000, 2));
        assert_eq!(workings[1].amount, Decimal::new(3750, 2));
        assert_eq!(total, Decimal::new(7750, 2));
    }

    #[test]
    fn unknown_domains_and_points_out_of_range_are_refused() {
        let ras = Ras::default();
        for points in [
            BTreeMap::from([("flying".to_owned(), 1)]),
            BTreeMap::from([("nutrition".to_owned(), 11)]),
            BTreeMap::new(),
        ] {
            assert!(matches!(
                work_out(&ras, &points),
                Err(AppError::Invalid { .. })
            ));
        }
    }
}
