//! Decision-making agreements (RULES.md › Decision-making agreements): the grants a care manager
//! records on a budget, saying who may pay or approve payments, for which categories, up to what
//! amount, and from when to when. A grant that does not fit the person (`capacity_role`) is refused
//! when recorded; one that stops fitting (the person's capacity record changed) stays recorded but
//! stops counting, because the rules re-check it on every payment. Grants are never edited or
//! deleted: they are ended, and a new one recorded.
//!
//! A grant covers the money of the deployments it names: by default the person and those acting
//! for them their direct payment, and a managed-account or ISF provider the accounts its
//! organisation holds on the budget. Council-managed money is only ever named for council staff.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::budget::load::{visible, visible_for_update};
use crate::auth::{users, Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult, Detail};
use crate::money::PositiveMoney;
use crate::rules::grants::{capacity_role_misfit, counts};
use crate::rules::{ActingAs, Category, Deployment, GrantFacts, PersonFacts, Power};

/// A grant as a care manager records it (`POST /api/v1/budgets/{id}/agreements`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// The party: a user of this council.
    pub user_id: Uuid,
    #[schema(value_type = String, example = "nominated_person")]
    pub acting_as: ActingAs,
    #[schema(value_type = Vec<String>, example = json!(["pay"]))]
    pub powers: Vec<Power>,
    /// The categories covered; absent means every category of the plan.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default)]
    pub categories: Option<Vec<Category>>,
    /// The deployments whose money the grant covers (`direct_payment`, `managed_account`, `isf`,
    /// `council_managed`). Absent: `["direct_payment"]` for the person and those acting for them;
    /// for a managed-account or ISF provider, the deployments of the accounts its organisation
    /// holds on the budget (`managed_account` or `isf` if it holds none yet). `council_managed`
    /// only for council staff.
    #[schema(value_type = Option<Vec<String>>, example = json!(["direct_payment"]))]
    #[serde(default)]
    pub deployments: Option<Vec<Deployment>>,
    #[schema(value_type = String, example = "250.00")]
    pub max_per_payment: PositiveMoney,
    /// Payments above this need a second party with `approve` to agree.
    #[schema(value_type = Option<String>, example = "500.00")]
    #[serde(default)]
    pub cosign_above: Option<PositiveMoney>,
    #[serde(with = "crate::dates")]
    pub valid_from: NaiveDate,
    #[serde(default, with = "crate::dates::option")]
    pub valid_to: Option<NaiveDate>,
    /// For an attorney: the property-and-financial-affairs LPA is registered.
    #[serde(default)]
    pub lpa_registered: bool,
    /// For a deputy: the Court of Protection order reference.
    #[serde(default)]
    pub court_order_ref: Option<String>,
}

/// A recorded grant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub user_id: Uuid,
    pub user_name: String,
    #[schema(value_type = String, example = "nominated_person")]
    pub acting_as: ActingAs,
    #[schema(value_type = Vec<String>)]
    pub powers: Vec<Power>,
    #[schema(value_type = Option<Vec<String>>)]
    pub categories: Option<Vec<Category>>,
    /// The deployments whose money the grant covers.
    #[schema(value_type = Vec<String>, example = json!(["direct_payment"]))]
    pub deployments: Vec<Deployment>,
    #[schema(value_type = String, example = "250.00")]
    pub max_per_payment: String,
    #[schema(value_type = Option<String>)]
    pub cosign_above: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub lpa_registered: bool,
    pub court_order_ref: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether the grant counts today: not ended, within its dates, and fitting the person as
    /// their record stands.
    pub in_force: bool,
    /// Why it does not fit the person now (the `capacity_role` sentence), if it does not.
    pub misfit: Option<String>,
}

impl Grant {
    /// The grant as the rules read it.
    pub fn facts(&self) -> GrantFacts {
        GrantFacts {
            id: self.id,
            user_id: self.user_id,
            acting_as: self.acting_as,
            powers: self.powers.clone(),
            categories: self.categories.clone(),
            deployments: self.deployments.clone(),
            max_per_payment: parse_pounds(&self.max_per_payment),
            cosign_above: self.cosign_above.as_deref().map(parse_pounds),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            lpa_registered: self.lpa_registered,
            court_order_ref: self.court_order_ref.clone(),
        }
    }
}

fn parse_pounds(text: &str) -> Decimal {
    // Written by `pounds` from a NUMERIC(14,2): always a valid decimal.
    text.parse().unwrap_or_default()
}

fn pounds(mut value: Decimal) -> String {
    value.rescale(2);
    value.to_string()
}

const MAX_COURT_ORDER_REF: usize = 100;

/// Which roles a party of each kind may have: a grant names a user whose role fits what they act as.
fn role_fits(acting_as: ActingAs, role: Role) -> bool {
    match acting_as {
        ActingAs::Person => role == Role::BudgetHolder,
        ActingAs::NominatedPerson
        | ActingAs::AuthorisedPerson
        | ActingAs::Attorney
        | ActingAs::Deputy
        | ActingAs::FamilyMember => role == Role::Representative,
        ActingAs::Broker => role == Role::Broker,
        ActingAs::ManagedAccountProvider | ActingAs::IsfProvider => role == Role::ProviderStaff,
    }
}

fn check_shape(new: &NewGrant) -> AppResult<()> {
    if new.powers.is_empty() {
        return Err(AppError::invalid(
            "powers",
            "give at least one of pay, approve",
        ));
    }
    let mut powers = new.powers.clone();
    powers.sort();
    powers.dedup();
    if powers.len() != new.powers.len() {
        return Err(AppError::invalid("powers", "each power at most once"));
    }
    if let Some(categories) = &new.categories {
        if categories.is_empty() {
            return Err(AppError::invalid(
                "categories",
                "leave it out to cover every category, or list at least one",
            ));
        }
    }
    if let Some(deployments) = &new.deployments {
        if deployments.is_empty() {
            return Err(AppError::invalid(
                "deployments",
                "leave it out for the usual money of this party, or list at least one",
            ));
        }
        let mut distinct = deployments.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() != deployments.len() {
            return Err(AppError::invalid(
                "deployments",
                "each deployment at most once",
            ));
        }
    }
    if new.valid_to.is_some_and(|to| to < new.valid_from) {
        return Err(AppError::invalid(
            "valid_to",
            "must be on or after valid_from",
        ));
    }
    if let Some(reference) = &new.court_order_ref {
        let reference = reference.trim();
        if reference.is_empty() || reference.chars().count() > MAX_COURT_ORDER_REF {
            return Err(AppError::invalid("court_order_ref", "1 to 100 characters"));
        }
    }
    Ok(())
}

/// The deployments a grant covers: those named, or the party's usual money. Named
/// `council_managed` money is refused unless the party is council staff (400 on `deployments`).
async fn grant_deployments(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    new: &NewGrant,
    party: &users::User,
) -> AppResult<Vec<Deployment>> {
    if let Some(named) = &new.deployments {
        let council_staff = matches!(party.role, Role::CareManager | Role::FinanceOfficer);
        if named.contains(&Deployment::CouncilManaged) && !council_staff {
            return Err(AppError::invalid(
                "deployments",
                format!(
                    "council-managed money is spent only by council staff (a care manager or \
                     finance officer); this user is a {}",
                    party.role.as_str()
                ),
            ));
        }
        let mut named = named.clone();
        named.sort();
        return Ok(named);
    }
    let fallback = match new.acting_as {
        ActingAs::ManagedAccountProvider => Deployment::ManagedAccount,
        ActingAs::IsfProvider => Deployment::Isf,
        _ => return Ok(vec![Deployment::DirectPayment]),
    };
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT DISTINCT deployment FROM budget_accounts
                 WHERE council_id = $1 AND budget_id = $2 AND purpose = 'deployment'
                   AND holder_organisation_id = $3",
            )
            .await?,
            &[&council_id, &budget_id, &party.organisation_id],
        )
        .await?;
    let mut held = rows
        .iter()
        .map(|r| {
            let text: String = r.get(0);
            text.parse::<Deployment>().map_err(|_| {
                AppError::Internal(format!("stored account has an unknown deployment {text:?}"))
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    if held.is_empty() {
        held.push(fallback);
    }
    held.sort();
    Ok(held)
}

/// The person's capacity record, as the rules read it.
async fn person_facts(tx: &Tx<'_>, council_id: Uuid, person_id: Uuid) -> AppResult<PersonFacts> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT has_capacity, excluded_from_direct_payments FROM people
             WHERE council_id = $1 AND id = $2",
            )
            .await?,
            &[&council_id, &person_id],
        )
        .await?;
    Ok(PersonFacts {
        has_capacity: row.get(0),
        excluded_from_direct_payments: row.get(1),
    })
}

/// Records a grant on a budget. Care managers only. 422 `capacity_role` when it does not fit the
/// person; 400 when the party's role does not fit what they act as; 404 for a budget or user the
/// caller cannot see.
pub async fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    new: &NewGrant,
) -> AppResult<Grant> {
    actor.require(&[Role::CareManager])?;
    check_shape(new)?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    let party = users::get(tx, council_id, new.user_id)
        .await
        .map_err(|_| AppError::invalid("user_id", "no such user in this council"))?;
    if !role_fits(new.acting_as, party.role) {
        return Err(AppError::invalid(
            "user_id",
            format!(
                "a {} must be a user with a role that fits it; this user is a {}",
                new.acting_as.label(),
                party.role.as_str()
            ),
        ));
    }
    if new.acting_as == ActingAs::Person && party.person_id != Some(budget.person_id) {
        return Err(AppError::invalid(
            "user_id",
            "acting as self: the user must be the budget's own person",
        ));
    }
    let deployments = grant_deployments(tx, council_id, budget_id, new, &party).await?;
    let person = person_facts(tx, council_id, budget.person_id).await?;
    let facts = GrantFacts {
        id: Uuid::nil(),
        user_id: new.user_id,
        acting_as: new.acting_as,
        powers: new.powers.clone(),
        categories: new.categories.clone(),
        deployments,
        max_per_payment: new.max_per_payment.amount(),
        cosign_above: new.cosign_above.map(|m| m.amount()),
        valid_from: new.valid_from,
        valid_to: new.valid_to,
        lpa_registered: new.lpa_registered,
        court_order_ref: new.court_order_ref.as_deref().map(|s| s.trim().to_owned()),
    };
    if let Some(refusal) = capacity_role_misfit(&facts, &person) {
        return Err(AppError::Refused {
            code: refusal.code.as_str().to_owned(),
            message: refusal.message.clone(),
            details: vec![Detail::rule(refusal.code.as_str(), refusal.message)],
        });
    }
    let id = Uuid::new_v4();
    let powers: Vec<&str> = new.powers.iter().map(|p| p.as_str()).collect();
    let categories: Option<Vec<&str>> = new
        .categories
        .as_ref()
        .map(|c| c.iter().map(|c| c.as_str()).collect());
    let deployments: Vec<&str> = facts.deployments.iter().map(|d| d.as_str()).collect();
    tx.execute(
        "INSERT INTO agreement_grants (council_id, id, budget_id, user_id, acting_as, powers,
             categories, max_per_payment, cosign_above, valid_from, valid_to, lpa_registered,
             court_order_ref, recorded_by, deployments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &council_id,
            &id,
            &budget_id,
            &new.user_id,
            &new.acting_as.as_str(),
            &powers,
            &categories,
            &facts.max_per_payment,
            &facts.cosign_above,
            &new.valid_from,
            &new.valid_to,
            &new.lpa_registered,
            &facts.court_order_ref,
            &actor.user_id,
            &deployments,
        ],
    )
    .await?;
    let today = crate::budgets::today(tx).await?;
    load_one(tx, council_id, id, &person, today).await
}

/// Ends a grant (it stays in the record; it no longer counts from now). Care managers only.
pub async fn end(tx: &Tx<'_>, actor: &Actor, budget_id: Uuid, grant_id: Uuid) -> AppResult<Grant> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    let budget = visible_for_update(tx, actor, budget_id).await?;
    let updated = tx
        .execute(
            "UPDATE agreement_grants SET ended_at = now(), ended_by = $4
             WHERE council_id = $1 AND budget_id = $2 AND id = $3 AND ended_at IS NULL",
            &[&council_id, &budget_id, &grant_id, &actor.user_id],
        )
        .await?;
    if updated == 0 {
        let exists = tx.query_opt(&tx.prepare_cached("SELECT 1 FROM agreement_grants WHERE council_id = $1 AND budget_id = $2 AND id = $3").await?,
                &[&council_id, &budget_id, &grant_id],
            )
            .await?
            .is_some();
        return Err(if exists {
            AppError::Conflict {
                code: "conflict",
                message: "This grant has already been ended.".into(),
            }
        } else {
            AppError::NotFound
        });
    }
    let person = person_facts(tx, council_id, budget.person_id).await?;
    let today = crate::budgets::today(tx).await?;
    load_one(tx, council_id, grant_id, &person, today).await
}

const SELECT_GRANT: &str = "SELECT g.id, g.budget_id, g.user_id, u.name, g.acting_as, g.powers,
        g.categories, g.max_per_payment, g.cosign_above, g.valid_from, g.valid_to,
        g.lpa_registered, g.court_order_ref, g.recorded_by, g.recorded_at, g.ended_at,
        g.deployments
     FROM agreement_grants g JOIN users u ON u.council_id = g.council_id AND u.id = g.user_id";

fn from_row(row: &Row, person: &PersonFacts, today: NaiveDate) -> AppResult<Grant> {
    let parse = |field: &str, value: &str| {
        AppError::Internal(format!("stored grant has an unknown {field} {value:?}"))
    };
    let acting_as: String = row.get(4);
    let powers: Vec<String> = row.get(5);
    let categories: Option<Vec<String>> = row.get(6);
    let max_per_payment: Decimal = row.get(7);
    let cosign_above: Option<Decimal> = row.get(8);
    let deployments: Vec<String> = row.get(16);
    let mut grant = Grant {
        id: row.get(0),
        budget_id: row.get(1),
        user_id: row.get(2),
        user_name: row.get(3),
        acting_as: acting_as
            .parse()
            .map_err(|_| parse("acting_as", &acting_as))?,
        powers: powers
            .iter()
            .map(|p| p.parse().map_err(|_| parse("power", p)))
            .collect::<AppResult<_>>()?,
        categories: categories
            .map(|cs| {
                cs.iter()
                    .map(|c| c.parse().map_err(|_| parse("category", c)))
                    .collect::<AppResult<Vec<_>>>()
            })
            .transpose()?,
        deployments: deployments
            .iter()
            .map(|d| d.parse().map_err(|_| parse("deployment", d)))
            .collect::<AppResult<_>>()?,
        max_per_payment: pounds(max_per_payment),
        cosign_above: cosign_above.map(pounds),
        valid_from: row.get(9),
        valid_to: row.get(10),
        lpa_registered: row.get(11),
        court_order_ref: row.get(12),
        recorded_by: row.get(13),
        recorded_at: row.get(14),
        ended_at: row.get(15),
        in_force: false,
        misfit: None,
    };
    let facts = grant.facts();
    grant.misfit = capacity_role_misfit(&facts, person).map(|r| r.message);
    grant.in_force = grant.ended_at.is_none() && counts(&facts, person, today);
    Ok(grant)
}

async fn load_one(
    tx: &Tx<'_>,
    council_id: Uuid,
    id: Uuid,
    person: &PersonFacts,
    today: NaiveDate,
) -> AppResult<Grant> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(&format!(
                "{SELECT_GRANT} WHERE g.council_id = $1 AND g.id = $2"
            ))
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row, person, today)
}

/// Every grant recorded on the budget, ended ones too (oldest first), for those who may see it.
pub async fn list(tx: &Tx<'_>, actor: &Actor, budget_id: Uuid) -> AppResult<Vec<Grant>> {
    let budget = visible(tx, actor, budget_id).await?;
    let person = person_facts(tx, actor.council_id, budget.person_id).await?;
    let today = crate::budgets::today(tx).await?;
    all_of_budget(tx, actor.council_id, budget_id, &person, today).await
}

async fn all_of_budget(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    person: &PersonFacts,
    today: NaiveDate,
) -> AppResult<Vec<Grant>> {
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_GRANT} WHERE g.council_id = $1 AND g.budget_id = $2
                 ORDER BY g.recorded_at, g.id"
            ))
            .await?,
            &[&council_id, &budget_id],
        )
        .await?;
    rows.iter().map(|r| from_row(r, person, today)).collect()
}

/// The grants the spending rules read for a budget: every grant not ended, whatever its dates
/// or fit (the rules judge those themselves, so a refusal can say why). No visibility check:
/// the caller has already loaded the budget for the actor.
pub async fn grant_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Vec<GrantFacts>> {
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_GRANT} WHERE g.council_id = $1 AND g.budget_id = $2 AND g.ended_at IS NULL
                 ORDER BY g.recorded_at, g.id"
            ))
            .await?,
            &[&council_id, &budget_id],
        )
        .await?;
    // Fit and dates do not matter for the facts themselves; any person and day will do here.
    let person = PersonFacts {
        has_capacity: true,
        excluded_from_direct_payments: false,
    };
    rows.iter()
        .map(|r| from_row(r, &person, NaiveDate::MIN).map(|g| g.facts()))
        .collect()
}

/// The budgets on which a user holds a grant that has not been ended.
pub async fn budgets_of_party(
    tx: &Tx<'_>,
    council_id: Uuid,
    user_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT DISTINCT budget_id FROM agreement_grants
             WHERE council_id = $1 AND user_id = $2 AND ended_at IS NULL",
            )
            .await?,
            &[&council_id, &user_id],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The grants on every budget of a person that no longer fit them (after a capacity change), to
/// tell the care manager which stopped working.
pub async fn misfits_of_person(
    tx: &Tx<'_>,
    council_id: Uuid,
    person_id: Uuid,
) -> AppResult<Vec<Grant>> {
    let person = person_facts(tx, council_id, person_id).await?;
    let today = crate::budgets::today(tx).await?;
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_GRANT} JOIN budgets b ON b.council_id = g.council_id AND b.id = g.budget_id
                 WHERE g.council_id = $1 AND b.person_id = $2 AND g.ended_at IS NULL
                 ORDER BY g.recorded_at, g.id"
            ))
            .await?,
            &[&council_id, &person_id],
        )
        .await?;
    let grants = rows
        .iter()
        .map(|r| from_row(r, &person, today))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(grants.into_iter().filter(|g| g.misfit.is_some()).collect())
}
