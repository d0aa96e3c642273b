//! Budgets with several funders (individual budgets, personal health budgets). A budget's weekly
//! cost (annual cost over 52 weeks, to the penny) is split between funders: the council's adult
//! social care, an NHS body (a personal health budget) and other funds, each named. The parts add
//! up to the weekly cost exactly (422 `funding_mismatch` otherwise).
//!
//! Each funder draws from its own funding account: the council's is the council's funding
//! account; the NHS and each other fund (by name, case-blind) have one per council, opened on
//! first use. Money a budget receives is drawn from its funders in proportion to their weekly
//! amounts, pennies spread by [`apportion`] so the parts add up to the amount.
//!
//! NHS money is never charged for: the person's contribution applies to the council's share only
//! (an NHS-funded budget with a contribution: 422 `nhs_no_charging`).

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::accounts::{council_account, CouncilPurpose};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewAccount};
use crate::money::Money;

/// Most funders one budget may have.
pub const MAX_FUNDERS: usize = 10;

/// Who pays part of a budget.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FundingSource {
    /// The council's adult social care.
    Council,
    /// An NHS body: a personal health budget. Never charged for.
    Nhs,
    /// Another fund, named (an individual budget).
    Other,
}

impl FundingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FundingSource::Council => "council",
            FundingSource::Nhs => "nhs",
            FundingSource::Other => "other",
        }
    }
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "council" => Ok(FundingSource::Council),
            "nhs" => Ok(FundingSource::Nhs),
            "other" => Ok(FundingSource::Other),
            other => Err(AppError::invalid(
                "funder",
                format!("`{other}` is not one of council, nhs, other"),
            )),
        }
    }
}

/// One funder's part of a budget, a week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingPart {
    pub funder: FundingSource,
    /// The funder's name: required for `other` (the fund), optional for the NHS body (e.g. the
    /// integrated care board) and the council.
    #[serde(default)]
    pub name: Option<String>,
    /// What this funder pays a week.
    #[schema(value_type = String, example = "150.00")]
    pub weekly_amount: Money,
}

impl FundingPart {
    /// The funder's account key: `other` funds are told apart by name (case-blind).
    pub fn key(&self) -> (FundingSource, String) {
        match self.funder {
            FundingSource::Other => (
                self.funder,
                self.name.as_deref().unwrap_or("").trim().to_lowercase(),
            ),
            source => (source, String::new()),
        }
    }

    /// The funder in words: "the council", "the NHS (…)", the fund's name.
    pub fn label(&self) -> String {
        match (self.funder, self.name.as_deref()) {
            (FundingSource::Council, _) => "the council".into(),
            (FundingSource::Nhs, Some(name)) => format!("the NHS ({name})"),
            (FundingSource::Nhs, None) => "the NHS".into(),
            (FundingSource::Other, Some(name)) => name.to_string(),
            (FundingSource::Other, None) => "another fund".into(),
        }
    }
}

/// The default funding: one funder paying the whole weekly cost.
pub fn single(funder: FundingSource, weekly_cost: Decimal) -> Vec<FundingPart> {
    vec![FundingPart {
        funder,
        name: None,
        weekly_amount: pence(weekly_cost),
    }]
}

/// Checks the parts (400 for a malformed part, 422 `invalid_amount` for an amount not above
/// zero, 422 `funding_mismatch` when they do not add up to the weekly cost) and gives them back
/// with names trimmed.
pub fn validate(parts: &[FundingPart], weekly_cost: Decimal) -> AppResult<Vec<FundingPart>> {
    if parts.is_empty() {
        return Err(AppError::invalid("funding", "name at least one funder"));
    }
    if parts.len() > MAX_FUNDERS {
        return Err(AppError::invalid(
            "funding",
            format!("at most {MAX_FUNDERS} funders"),
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut seen: Vec<(FundingSource, String)> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let name = part
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(name) = name {
            if name.chars().count() > 200 || name.chars().any(char::is_control) {
                return Err(AppError::invalid(
                    &format!("funding[{index}].name"),
                    "at most 200 characters, on one line",
                ));
            }
        }
        if part.funder == FundingSource::Other && name.is_none() {
            return Err(AppError::invalid(
                &format!("funding[{index}].name"),
                "name the fund that pays this part",
            ));
        }
        if part.weekly_amount.amount() <= Decimal::ZERO {
            return Err(AppError::invalid_amount(
                &format!("funding[{index}].weekly_amount"),
                "must be more than 0",
            ));
        }
        let part = FundingPart {
            funder: part.funder,
            name: name.map(str::to_string),
            weekly_amount: part.weekly_amount,
        };
        let key = part.key();
        if seen.contains(&key) {
            return Err(AppError::invalid(
                &format!("funding[{index}].funder"),
                "this funder is named twice",
            ));
        }
        seen.push(key);
        out.push(part);
    }
    let total: Decimal = out.iter().map(|p| p.weekly_amount.amount()).sum();
    let weekly_cost = pence(weekly_cost).amount();
    if total != weekly_cost {
        return Err(AppError::refused(
            "funding_mismatch",
            format!(
                "The funders' weekly amounts add up to £{}; the budget's weekly cost (its annual \
                 cost over 52 weeks) is £{}.",
                pence(total),
                pence(weekly_cost)
            ),
        ));
    }
    Ok(out)
}

/// The council's part a week (zero when the council pays no part).
pub fn council_weekly(parts: &[FundingPart]) -> Decimal {
    parts
        .iter()
        .filter(|p| p.funder == FundingSource::Council)
        .map(|p| p.weekly_amount.amount())
        .sum()
}

/// Whether an NHS body pays part of the budget.
pub fn has_nhs(parts: &[FundingPart]) -> bool {
    parts.iter().any(|p| p.funder == FundingSource::Nhs)
}

/// Whether an NHS body pays the whole budget.
pub fn wholly_nhs(parts: &[FundingPart]) -> bool {
    !parts.is_empty() && parts.iter().all(|p| p.funder == FundingSource::Nhs)
}

/// NHS money is never charged for: a contribution needs a council share to apply to (422
/// `nhs_no_charging` for a wholly NHS-funded budget; 400 when only other funds pay).
pub fn check_contribution(parts: &[FundingPart], weekly_contribution: Decimal) -> AppResult<()> {
    if weekly_contribution <= Decimal::ZERO || council_weekly(parts) > Decimal::ZERO {
        return Ok(());
    }
    if wholly_nhs(parts) {
        return Err(AppError::refused(
            "nhs_no_charging",
            "The NHS funds the whole budget, and NHS care is free: the contribution must be \"0\".",
        ));
    }
    Err(AppError::invalid(
        "weekly_contribution",
        "a contribution applies only to the council's share, and the council pays no part",
    ))
}

/// Splits `amount` between `shares` in proportion, to the penny, the parts adding up to
/// `amount` exactly (largest remainder: each part's whole pennies first, then the pennies left
/// one each to the parts with the largest remainders, earlier parts first on a tie). Shares are
/// weights (negative ones count as zero); with no positive share the first part takes it all.
/// A negative amount is split as its absolute value and each part negated.
pub fn apportion(amount: Money, shares: &[Decimal]) -> Vec<Money> {
    if shares.is_empty() {
        return Vec::new();
    }
    let total_pence = to_pence(amount.amount());
    let negative = total_pence < 0;
    let total = total_pence.unsigned_abs();
    // Shares in hundredths, as whole numbers (a share finer than a penny is rounded to one).
    let weights: Vec<u128> = shares
        .iter()
        .map(|s| u128::try_from(to_pence((*s).max(Decimal::ZERO))).unwrap_or(0))
        .collect();
    let weight_sum: u128 = weights.iter().sum();
    let mut parts: Vec<u128> = vec![0; weights.len()];
    if let Some(weight_sum) = std::num::NonZeroU128::new(weight_sum) {
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
        let mut given = 0u128;
        for (i, w) in weights.iter().enumerate() {
            let product = total * w;
            parts[i] = product / weight_sum;
            given += parts[i];
            remainders.push((product % weight_sum, i));
        }
        // Largest remainder first; on a tie the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let left = total - given;
        for (_, i) in remainders.iter().take(usize::try_from(left).unwrap_or(0)) {
            parts[*i] += 1;
        }
    } else {
        parts[0] = total;
    }
    parts
        .into_iter()
        .map(|p| {
            let pence = i128::try_from(p).unwrap_or(0);
            let signed = if negative { -pence } else { pence };
            Money::new(Decimal::from_i128_with_scale(signed, 2)).unwrap_or(Money::ZERO)
        })
        .collect()
}

/// The parts' weekly amounts, as weights for [`apportion`].
pub fn shares(parts: &[FundingPart]) -> Vec<Decimal> {
    parts.iter().map(|p| p.weekly_amount.amount()).collect()
}

fn to_pence(value: Decimal) -> i128 {
    let rounded =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rust_decimal::prelude::ToPrimitive::to_i128(&(rounded * Decimal::ONE_HUNDRED)).unwrap_or(0)
}

fn pence(value: Decimal) -> Money {
    let mut value =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    value.rescale(2);
    Money::new(value).unwrap_or(Money::ZERO)
}

/// A funder's part of an amount, with its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FunderAmount {
    pub funder: FundingSource,
    pub name: Option<String>,
    #[schema(value_type = String, example = "75.00")]
    pub amount: Money,
}

/// The budget's funding, in order.
pub async fn of_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Vec<FundingPart>> {
    let rows = tx
        .query(
            "SELECT funder, name, weekly_amount FROM budget_funders
             WHERE council_id = $1 AND budget_id = $2 ORDER BY position",
            &[&council_id, &budget_id],
        )
        .await?;
    rows.iter().map(part_from_row).collect()
}

/// Every budget's funding, by budget.
pub async fn all(tx: &Tx<'_>, council_id: Uuid) -> AppResult<HashMap<Uuid, Vec<FundingPart>>> {
    let rows = tx
        .query(
            "SELECT funder, name, weekly_amount, budget_id FROM budget_funders
             WHERE council_id = $1 ORDER BY budget_id, position",
            &[&council_id],
        )
        .await?;
    let mut out: HashMap<Uuid, Vec<FundingPart>> = HashMap::new();
    for row in &rows {
        out.entry(row.try_get(3)?)
            .or_default()
            .push(part_from_row(row)?);
    }
    Ok(out)
}

fn part_from_row(row: &tokio_postgres::Row) -> AppResult<FundingPart> {
    let funder: &str = row.try_get(0)?;
    let amount: Decimal = row.try_get(2)?;
    Ok(FundingPart {
        funder: FundingSource::parse(funder).map_err(|e| AppError::Internal(e.to_string()))?,
        name: row.try_get(1)?,
        weekly_amount: Money::new(amount).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}

/// Replaces the budget's funding (the caller holds the budget row locked).
pub async fn store(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    parts: &[FundingPart],
) -> AppResult<()> {
    tx.execute(
        "DELETE FROM budget_funders WHERE council_id = $1 AND budget_id = $2",
        &[&council_id, &budget_id],
    )
    .await?;
    let positions: Vec<i16> = (1..=parts.len())
        .map(|p| i16::try_from(p).unwrap_or(i16::MAX))
        .collect();
    let funders: Vec<&str> = parts.iter().map(|p| p.funder.as_str()).collect();
    let names: Vec<Option<&str>> = parts.iter().map(|p| p.name.as_deref()).collect();
    let amounts: Vec<Decimal> = parts.iter().map(|p| p.weekly_amount.amount()).collect();
    tx.execute(
        "INSERT INTO budget_funders (council_id, budget_id, position, funder, name, weekly_amount)
         SELECT $1, $2, u.position, u.funder, u.name, u.weekly_amount
         FROM unnest($3::smallint[], $4::text[], $5::text[], $6::numeric[])
              AS u(position, funder, name, weekly_amount)",
        &[
            &council_id,
            &budget_id,
            &positions,
            &funders,
            &names,
            &amounts,
        ],
    )
    .await?;
    Ok(())
}

/// The funder's funding account, opened on first use: the council's funding account for the
/// council; one per council for the NHS; one per council and name for other funds.
pub async fn funder_account(tx: &Tx<'_>, council_id: Uuid, part: &FundingPart) -> AppResult<Uuid> {
    if part.funder == FundingSource::Council {
        return council_account(tx, council_id, CouncilPurpose::Funding).await;
    }
    let (source, name_key) = part.key();
    let find = || async {
        tx.query_opt(
            "SELECT account_id FROM funder_accounts
             WHERE council_id = $1 AND funder = $2 AND name_key = $3",
            &[&council_id, &source.as_str(), &name_key],
        )
        .await
    };
    if let Some(row) = find().await? {
        return Ok(row.get(0));
    }
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('allot.funder_accounts.' || $1, 0))",
        &[&council_id.to_string()],
    )
    .await?;
    if let Some(row) = find().await? {
        return Ok(row.get(0));
    }
    let (kind, name, holder) = match source {
        FundingSource::Nhs => (
            "nhs_funding".to_string(),
            "NHS funding (personal health budgets)".to_string(),
            "funder:nhs".to_string(),
        ),
        _ => {
            let name = part.name.clone().unwrap_or_default();
            (
                "other_funding".to_string(),
                format!("{name} funding"),
                format!("funder:other:{name}"),
            )
        }
    };
    let account_id = ledger::create_account(
        tx,
        council_id,
        &NewAccount {
            kind,
            name: name.chars().take(200).collect(),
            holder: Some(holder.chars().take(200).collect()),
            no_overdraft: false,
        },
    )
    .await?;
    let display = match source {
        FundingSource::Nhs => "NHS".to_string(),
        _ => part.name.clone().unwrap_or_default(),
    };
    tx.execute(
        "INSERT INTO funder_accounts (council_id, funder, name_key, name, account_id)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &council_id,
            &source.as_str(),
            &name_key,
            &display,
            &account_id,
        ],
    )
    .await?;
    Ok(account_id)
}

/// Every funding account of the council with its funder: the council's funding account (when
/// opened) and the NHS's and other funds'.
pub async fn funder_accounts(
    tx: &Tx<'_>,
    council_id: Uuid,
) -> AppResult<HashMap<Uuid, (FundingSource, Option<String>)>> {
    let rows = tx
        .query(
            "SELECT account_id, 'council', NULL::text FROM council_accounts
             WHERE council_id = $1 AND purpose = 'funding'
             UNION ALL
             SELECT account_id, funder, CASE funder WHEN 'other' THEN name END FROM funder_accounts
             WHERE council_id = $1",
            &[&council_id],
        )
        .await?;
    let mut out = HashMap::new();
    for row in &rows {
        let funder: &str = row.try_get(1)?;
        out.insert(
            row.try_get(0)?,
            (
                FundingSource::parse(funder).map_err(|e| AppError::Internal(e.to_string()))?,
                row.try_get(2)?,
            ),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn m(text: &str) -> Money {
        Money::parse(text).unwrap()
    }
    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn splits_in_proportion_with_the_pennies_to_the_largest_remainders() {
        let parts = apportion(m("100.00"), &[d("1"), d("1"), d("1")]);
        let text: Vec<String> = parts.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["33.34", "33.33", "33.33"]);
        let parts = apportion(m("300.00"), &[d("200.00"), d("100.00")]);
        assert_eq!(parts, vec![m("200.00"), m("100.00")]);
        // 0.5, 1 and 3.5 pence: the penny left goes to the earlier of the two halves.
        let parts = apportion(m("0.05"), &[d("1"), d("2"), d("7")]);
        assert_eq!(parts, vec![m("0.01"), m("0.01"), m("0.03")]);
        let parts = apportion(m("10.00"), &[d("0"), d("0")]);
        assert_eq!(parts, vec![m("10.00"), m("0.00")]);
        let parts = apportion(m("-1.00"), &[d("1"), d("2")]);
        assert_eq!(parts, vec![m("-0.33"), m("-0.67")]);
    }

    #[test]
    fn funding_must_add_up_to_the_weekly_cost() {
        let parts = vec![
            FundingPart {
                funder: FundingSource::Council,
                name: None,
                weekly_amount: m("200.00"),
            },
            FundingPart {
                funder: FundingSource::Nhs,
                name: Some(" Borsetshire ICB ".into()),
                weekly_amount: m("100.00"),
            },
        ];
        let ok = validate(&parts, d("300.00")).unwrap();
        assert_eq!(ok[1].name.as_deref(), Some("Borsetshire ICB"));
        let err = validate(&parts, d("300.01")).unwrap_err();
        assert!(matches!(err, AppError::Refused { ref code, .. } if code == "funding_mismatch"));
        let mut twice = parts.clone();
        twice[1].funder = FundingSource::Council;
        assert!(matches!(
            validate(&twice, d("300.00")),
            Err(AppError::Invalid { .. })
        ));
    }

    #[test]
    fn an_nhs_budget_is_not_charged_for() {
        let nhs = single(FundingSource::Nhs, d("100.00"));
        assert!(matches!(
            check_contribution(&nhs, d("10.00")),
            Err(AppError::Refused { ref code, .. }) if code == "nhs_no_charging"
        ));
        assert!(check_contribution(&nhs, Decimal::ZERO).is_ok());
        let council = single(FundingSource::Council, d("100.00"));
        assert!(check_contribution(&council, d("10.00")).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)))]
        /// The parts add up to the amount to the penny, each is within a penny of its exact
        /// proportion, and none is negative.
        #[test]
        fn parts_add_up_to_the_penny(
            pence in 0i64..1_000_000_000,
            weights in proptest::collection::vec(0i64..100_000_000, 1..6),
        ) {
            let amount = Money::new(Decimal::new(pence, 2)).unwrap();
            let shares: Vec<Decimal> = weights.iter().map(|w| Decimal::new(*w, 2)).collect();
            let parts = apportion(amount, &shares);
            prop_assert_eq!(parts.len(), shares.len());
            let sum: Decimal = parts.iter().map(|p| p.amount()).sum();
            prop_assert_eq!(sum, amount.amount());
            let total: Decimal = shares.iter().sum();
            for (part, share) in parts.iter().zip(&shares) {
                prop_assert!(part.amount() >= Decimal::ZERO);
                if total > Decimal::ZERO {
                    let exact = amount.amount() * share / total;
                    prop_assert!((part.amount() - exact).abs() < d("0.01"),
                        "part {} exact {}", part, exact);
                }
            }
        }
    }
}
