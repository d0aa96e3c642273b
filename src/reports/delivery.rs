//! SALT LTS001b-style counts: adults (18 and over on the day) in long-term community support on
//! one day, by delivery mechanism and age band, each person counted once across all their
//! budgets' lines in force that day; and ASCOF 3D parts 1a and 2a from the same counts.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{LINES_IN_FORCE, REPORT_ROLES};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::AppResult;

/// How a person's support is delivered, from the deployments of their lines in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Every line is a direct payment (a managed account holds a direct payment, so it counts).
    DirectPaymentOnly,
    /// Some lines are direct payments, some not.
    PartDirectPayment,
    /// No direct payment; an ISF or council-managed line (a personal budget the council manages).
    CassrManagedPersonalBudget,
    /// Support the council commissions with no personal budget: no line of any deployment above
    /// (allot's four deployments are all personal budgets, so this is a person whose plan in
    /// force has no lines).
    CassrCommissionedSupportOnly,
}

impl Mechanism {
    pub const ALL: [Mechanism; 4] = [
        Mechanism::DirectPaymentOnly,
        Mechanism::PartDirectPayment,
        Mechanism::CassrManagedPersonalBudget,
        Mechanism::CassrCommissionedSupportOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::DirectPaymentOnly => "direct_payment_only",
            Mechanism::PartDirectPayment => "part_direct_payment",
            Mechanism::CassrManagedPersonalBudget => "cassr_managed_personal_budget",
            Mechanism::CassrCommissionedSupportOnly => "cassr_commissioned_support_only",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mechanism::DirectPaymentOnly => "Direct payment only",
            Mechanism::PartDirectPayment => "Part direct payment",
            Mechanism::CassrManagedPersonalBudget => "CASSR managed personal budget",
            Mechanism::CassrCommissionedSupportOnly => "CASSR commissioned support only",
        }
    }

    /// The mechanism of a person whose lines in force have these deployments.
    pub fn of<'a>(deployments: impl IntoIterator<Item = &'a str>) -> Mechanism {
        let (mut dp, mut other) = (0, 0);
        for d in deployments {
            match d {
                "direct_payment" | "managed_account" => dp += 1,
                _ => other += 1,
            }
        }
        match (dp, other) {
            (0, 0) => Mechanism::CassrCommissionedSupportOnly,
            (_, 0) => Mechanism::DirectPaymentOnly,
            (0, _) => Mechanism::CassrManagedPersonalBudget,
            _ => Mechanism::PartDirectPayment,
        }
    }
}

/// Whole years of age on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        years -= 1;
    }
    years
}

/// One mechanism's people by age band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MechanismCount {
    pub mechanism: Mechanism,
    pub aged_18_64: u32,
    pub aged_65_plus: u32,
    pub total: u32,
}

/// A proportion: `numerator` of `denominator`, as a percentage to one place (`null` when the
/// denominator is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Proportion {
    pub numerator: u32,
    pub denominator: u32,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
}

impl Proportion {
    fn new(numerator: u32, denominator: u32) -> Self {
        let percent = (denominator > 0).then(|| {
            let mut percent = (Decimal::from(numerator) * Decimal::ONE_HUNDRED
                / Decimal::from(denominator))
            .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            percent.rescale(1);
            percent
        });
        Proportion {
            numerator,
            denominator,
            percent,
        }
    }
}

/// An ASCOF measure for all adults and by age band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Measure {
    pub aged_18_plus: Proportion,
    pub aged_18_64: Proportion,
    pub aged_65_plus: Proportion,
}

/// ASCOF 3D beside the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ascof3d {
    /// Part 1a: people in long-term community support receiving self-directed support (direct
    /// payment only + part direct payment + CASSR managed personal budget) over all of them.
    pub part_1a: Measure,
    /// Part 2a: those receiving direct payments (direct payment only + part direct payment) over
    /// all of them.
    pub part_2a: Measure,
}

/// The delivery-mechanism return on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryMechanismReport {
    pub as_of: NaiveDate,
    /// One row per mechanism, always all four, in the order of LTS001b.
    pub rows: Vec<MechanismCount>,
    pub total_18_64: u32,
    pub total_65_plus: u32,
    pub total: u32,
    pub ascof_3d: Ascof3d,
}

/// Counts people by mechanism and band; `people` are `(date of birth, deployments in force)`.
pub fn count(as_of: NaiveDate, people: &[(NaiveDate, Vec<String>)]) -> DeliveryMechanismReport {
    let mut rows: Vec<MechanismCount> = Mechanism::ALL
        .iter()
        .map(|&mechanism| MechanismCount {
            mechanism,
            aged_18_64: 0,
            aged_65_plus: 0,
            total: 0,
        })
        .collect();
    for (dob, deployments) in people {
        let age = age_on(*dob, as_of);
        if age < 18 {
            continue;
        }
        let mechanism = Mechanism::of(deployments.iter().map(String::as_str));
        if let Some(row) = rows.iter_mut().find(|r| r.mechanism == mechanism) {
            if age >= 65 {
                row.aged_65_plus += 1;
            } else {
                row.aged_18_64 += 1;
            }
            row.total += 1;
        }
    }
    let sum = |f: &dyn Fn(&MechanismCount) -> u32, which: &[Mechanism]| -> u32 {
        rows.iter()
            .filter(|r| which.contains(&r.mechanism))
            .map(f)
            .sum()
    };
    let sds = [
        Mechanism::DirectPaymentOnly,
        Mechanism::PartDirectPayment,
        Mechanism::CassrManagedPersonalBudget,
    ];
    let dp = [Mechanism::DirectPaymentOnly, Mechanism::PartDirectPayment];
    let young = |r: &MechanismCount| r.aged_18_64;
    let old = |r: &MechanismCount| r.aged_65_plus;
    let all = |r: &MechanismCount| r.total;
    let measure = |which: &[Mechanism]| Measure {
        aged_18_plus: Proportion::new(sum(&all, which), sum(&all, &Mechanism::ALL)),
        aged_18_64: Proportion::new(sum(&young, which), sum(&young, &Mechanism::ALL)),
        aged_65_plus: Proportion::new(sum(&old, which), sum(&old, &Mechanism::ALL)),
    };
    let ascof_3d = Ascof3d {
        part_1a: measure(&sds),
        part_2a: measure(&dp),
    };
    DeliveryMechanismReport {
        as_of,
        total_18_64: sum(&young, &Mechanism::ALL),
        total_65_plus: sum(&old, &Mechanism::ALL),
        total: sum(&all, &Mechanism::ALL),
        rows,
        ascof_3d,
    }
}

/// The return on `as_of` for the actor's council (finance officers, auditors, care managers,
/// council administrators).
pub async fn delivery_mechanism(
    tx: &Tx<'_>,
    actor: &Actor,
    as_of: NaiveDate,
) -> AppResult<DeliveryMechanismReport> {
    actor.require(REPORT_ROLES)?;
    let rows = tx
        .query(LINES_IN_FORCE, &[&actor.council_id, &as_of, &as_of])
        .await?;
    let mut people: Vec<(Uuid, NaiveDate, Vec<String>)> = Vec::new();
    for row in &rows {
        let person: Uuid = row.try_get("person_id")?;
        let dob: NaiveDate = row.try_get("date_of_birth")?;
        let deployment: String = row.try_get("deployment")?;
        match people.last_mut() {
            Some((id, _, deployments)) if *id == person => deployments.push(deployment),
            _ => people.push((person, dob, vec![deployment])),
        }
    }
    let people: Vec<(NaiveDate, Vec<String>)> =
        people.into_iter().map(|(_, dob, d)| (dob, d)).collect();
    Ok(count(as_of, &people))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn mechanisms() {
        assert_eq!(
            Mechanism::of(["direct_payment", "managed_account"]),
            Mechanism::DirectPaymentOnly
        );
        assert_eq!(
            Mechanism::of(["managed_account", "isf"]),
            Mechanism::PartDirectPayment
        );
        assert_eq!(
            Mechanism::of(["isf", "council_managed"]),
            Mechanism::CassrManagedPersonalBudget
        );
        assert_eq!(Mechanism::of([]), Mechanism::CassrCommissionedSupportOnly);
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        assert_eq!(age_on(d("1961-03-31"), d("2026-03-31")), 65);
        assert_eq!(age_on(d("1961-04-01"), d("2026-03-31")), 64);
        assert_eq!(age_on(d("2008-03-31"), d("2026-03-31")), 18);
        assert_eq!(age_on(d("2008-04-01"), d("2026-03-31")), 17);
        // Born on 29 February: a year older on 1 March in other years.
        assert_eq!(age_on(d("1960-02-29"), d("2025-02-28")), 64);
        assert_eq!(age_on(d("1960-02-29"), d("2025-03-01")), 65);
    }

    #[test]
    fn proportions_round_to_one_place() {
        assert_eq!(Proportion::new(2, 3).percent, Some(Decimal::new(667, 1)));
        assert_eq!(Proportion::new(0, 0).percent, None);
        assert_eq!(Proportion::new(1, 8).percent, Some(Decimal::new(125, 1)));
    }
}
