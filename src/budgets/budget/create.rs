//! Creating a budget: checks, then one INSERT. Nothing moves money here; accounts are opened when
//! a plan is approved (or urgent interim support is recorded).

use chrono::Days;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::statement::{funded_statement, weekly_cost};
use super::{disclosure, Budget, BudgetKind, DirectPaymentTerms, DpRecipient, NewBudget};
use crate::auth::{Actor, Role};
use crate::budgets::assessments::{self, AssessmentKind};
use crate::budgets::bank_changes::{self, Subject};
use crate::budgets::funding::{self, FundingPart, FundingSource};
use crate::budgets::organisations::{self, OrganisationKind};
use crate::budgets::policy;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::{grants::capacity_role_misfit, PersonFacts};

/// Reablement is free for at most six weeks (Charging Regulations reg 3(3)(a)).
pub const REABLEMENT_MAX_DAYS: u64 = 42;

/// Records a budget (care managers). Bank details given here wait for a finance officer's
/// verification like any change (see [`bank_changes`]).
pub async fn create(tx: &Tx<'_>, actor: &Actor, new: &NewBudget) -> AppResult<Budget> {
    actor.require(&[Role::CareManager])?;
    let (council_id, created_by) = (actor.council_id, actor.user_id);
    let person = person_facts(tx, council_id, new.person_id).await?;
    check_amounts_and_dates(new)?;
    if let Some(broker) = new.broker_organisation_id {
        check_broker(tx, council_id, broker).await?;
    }
    if let Some(bank) = &new.bank {
        bank.validate("bank")?;
    }
    let terms = new.direct_payment.clone().unwrap_or_default();
    check_terms(tx, council_id, &terms, &person, new.start_date).await?;
    let cited = check_assessment(tx, actor, new).await?;
    let funding = check_funding(new)?;

    let id = Uuid::new_v4();
    let bank = new.bank.as_ref().map(|b| b.normalised());
    let bank = bank.as_ref();
    // Only a finance officer vouches for details as they give them; nobody else does.
    let bank_verified = actor.role == Role::FinanceOfficer;
    let row = tx
        .query_one(
            "INSERT INTO budgets (council_id, id, reference, person_id, funder, kind, annual_cost,
                                  weekly_contribution, contribution_basis, start_date, end_date,
                                  broker_organisation_id, bank_sort_code, bank_account_number, bank_account_name,
                                  dp_consent_recorded, dp_recipient, dp_recipient_user_id, dp_recipient_agreed,
                                  created_by, bank_verified, assessment_id, cost_reason, is_carer_budget,
                                  nhs_dp_separate_account)
             VALUES ($1, $2, 'PB' || lpad(next_council_counter($1, 'budget_reference')::text, 6, '0'), $3, $4, $5, $6,
                     $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
             RETURNING reference",
            &[
                &council_id,
                &id,
                &new.person_id,
                &new.funder.as_str(),
                &new.kind.as_str(),
                &new.annual_cost.amount(),
                &new.weekly_contribution.amount(),
                &new.contribution_basis.as_str(),
                &new.start_date,
                &new.end_date,
                &new.broker_organisation_id,
                &bank.map(|b| b.sort_code.clone()),
                &bank.map(|b| b.account_number.clone()),
                &bank.map(|b| b.account_name.clone()),
                &terms.consent_recorded,
                &terms.recipient.as_str(),
                &terms.recipient_user_id,
                &terms.recipient_agreed,
                &created_by,
                &bank_verified,
                &new.assessment_id,
                &cited.cost_reason,
                &cited.is_carer_budget,
                &new.nhs_dp_separate_account,
            ],
        )
        .await?;
    funding::store(tx, council_id, id, &funding).await?;
    if let Some(bank) = bank {
        bank_changes::created(tx, actor, Subject::Budget(id), bank, bank_verified).await?;
    }
    let s26 = funded_statement(
        new.annual_cost.amount(),
        new.weekly_contribution.amount(),
        new.kind == BudgetKind::Reablement,
        &funding,
    );
    let mut budget = Budget {
        id,
        reference: row.get(0),
        person_id: new.person_id,
        funder: new.funder,
        kind: new.kind,
        annual_cost: new.annual_cost.money(),
        weekly_contribution: new.weekly_contribution,
        contribution_basis: new.contribution_basis,
        start_date: new.start_date,
        end_date: new.end_date,
        broker_organisation_id: new.broker_organisation_id,
        bank: bank.cloned(),
        bank_verified,
        direct_payment: terms,
        cost: s26.cost,
        person_amount: s26.person_amount,
        council_amount: s26.council_amount,
        assessment_id: new.assessment_id,
        cost_reason: cited.cost_reason,
        is_carer_budget: cited.is_carer_budget,
        paid_by: s26.paid_by,
        funding,
        nhs_dp_separate_account: new.nhs_dp_separate_account,
    };
    disclosure::disclose(actor, &mut budget);
    Ok(budget)
}

/// What citing an assessment adds to a budget.
#[derive(Debug, Default)]
struct Cited {
    cost_reason: Option<String>,
    is_carer_budget: bool,
}

/// A cited assessment must be of the same person (another council's: 404). When the weekly cost
/// differs from its indicative amount a reason is required (422 `reason_required`). A carer's
/// assessment makes a carer's budget, which carries no contribution unless the policy charges
/// carers (422 `carer_not_charged`).
async fn check_assessment(tx: &Tx<'_>, actor: &Actor, new: &NewBudget) -> AppResult<Cited> {
    let reason = new
        .cost_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("cost_reason", "at most 2000 characters"));
    }
    let Some(assessment_id) = new.assessment_id else {
        if new.cost_reason.is_some() {
            return Err(AppError::invalid(
                "cost_reason",
                "a reason is given only with the assessment it differs from (`assessment_id`)",
            ));
        }
        return Ok(Cited::default());
    };
    let assessment = assessments::get(tx, actor.council_id, assessment_id).await?;
    if assessment.person_id != new.person_id {
        return Err(AppError::invalid(
            "assessment_id",
            "the assessment is of another person",
        ));
    }
    let weekly = super::statement::weekly_cost(new.annual_cost.amount());
    let indicative = assessment.indicative_weekly.amount();
    if weekly != indicative && reason.is_none() {
        return Err(AppError::refused(
            "reason_required",
            format!(
                "The weekly cost ({weekly:.2}) differs from the assessment's indicative amount \
                 ({indicative:.2}): say why in `cost_reason`."
            ),
        ));
    }
    let is_carer_budget = assessment.kind == AssessmentKind::Carer;
    if is_carer_budget
        && !new.weekly_contribution.amount().is_zero()
        && !policy::current(tx, actor.council_id).await?.charge_carers
    {
        return Err(AppError::refused(
            "carer_not_charged",
            "Carers are not charged for their own support under the council's policy: the \
             contribution on a carer's budget must be \"0\".",
        ));
    }
    Ok(Cited {
        cost_reason: reason.map(str::to_owned),
        is_carer_budget,
    })
}

/// The person's capacity record (404 if they are not one of this council's people).
pub(crate) async fn person_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    person_id: Uuid,
) -> AppResult<PersonFacts> {
    let row = tx
        .query_opt(
            "SELECT has_capacity, excluded_from_direct_payments FROM people WHERE council_id = $1 AND id = $2",
            &[&council_id, &person_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(PersonFacts {
        has_capacity: row.get(0),
        excluded_from_direct_payments: row.get(1),
    })
}

fn check_amounts_and_dates(new: &NewBudget) -> AppResult<()> {
    if new.weekly_contribution.amount() < Decimal::ZERO {
        return Err(AppError::invalid_amount(
            "weekly_contribution",
            "the contribution cannot be negative",
        ));
    }
    if let Some(end) = new.end_date {
        if end < new.start_date {
            return Err(AppError::invalid(
                "end_date",
                "must not be before the start date",
            ));
        }
    }
    if new.kind == BudgetKind::Reablement {
        let latest = new
            .start_date
            .checked_add_days(Days::new(REABLEMENT_MAX_DAYS - 1));
        match new.end_date {
            None => {
                return Err(AppError::invalid(
                    "end_date",
                    "reablement needs an end date, at most six weeks after it starts",
                ))
            }
            Some(end) if latest.is_none_or(|latest| end > latest) => {
                return Err(AppError::invalid(
                    "end_date",
                    "reablement lasts at most six weeks",
                ))
            }
            Some(_) => {}
        }
        if !new.weekly_contribution.amount().is_zero() {
            return Err(AppError::invalid(
                "weekly_contribution",
                "reablement is free of charge: the contribution must be \"0\"",
            ));
        }
    }
    Ok(())
}

/// The budget's funding: as given (checked against the weekly cost), or `funder` paying it all.
/// A contribution needs a council share to apply to (NHS money is never charged for).
fn check_funding(new: &NewBudget) -> AppResult<Vec<FundingPart>> {
    let weekly = weekly_cost(new.annual_cost.amount());
    let parts = match &new.funding {
        None => funding::single(new.funder.source(), weekly),
        Some(parts) => {
            let parts = funding::validate(parts, weekly)?;
            let lead = new.funder.source();
            let lead_ok = parts.iter().any(|p| p.funder == lead)
                || lead == FundingSource::Council
                    && parts.iter().all(|p| p.funder == FundingSource::Other);
            if !lead_ok {
                return Err(AppError::invalid(
                    "funder",
                    "must be one of the funders in `funding`",
                ));
            }
            parts
        }
    };
    if new.kind != BudgetKind::Reablement {
        funding::check_contribution(&parts, new.weekly_contribution.amount())?;
    }
    Ok(parts)
}

pub(crate) async fn check_broker(tx: &Tx<'_>, council_id: Uuid, broker: Uuid) -> AppResult<()> {
    let organisation = organisations::get(tx, council_id, broker).await?;
    if organisation.kind != OrganisationKind::Broker {
        return Err(AppError::invalid(
            "broker_organisation_id",
            format!("{} is not a broker", organisation.name),
        ));
    }
    Ok(())
}

/// Who receives a direct payment must fit the person's capacity (ss.31–32); refused as
/// 422 `capacity_role` when it does not.
pub(crate) async fn check_terms(
    tx: &Tx<'_>,
    council_id: Uuid,
    terms: &DirectPaymentTerms,
    person: &PersonFacts,
    start_date: chrono::NaiveDate,
) -> AppResult<()> {
    match (terms.recipient, terms.recipient_user_id) {
        (DpRecipient::Person, Some(_)) => {
            return Err(AppError::invalid(
                "direct_payment.recipient_user_id",
                "only a nominated or authorised person is named here",
            ))
        }
        (DpRecipient::NominatedPerson | DpRecipient::AuthorisedPerson, None) => {
            return Err(AppError::invalid(
                "direct_payment.recipient_user_id",
                "name the user who receives the direct payment",
            ))
        }
        (_, Some(user)) => {
            tx.query_opt(
                "SELECT 1 FROM users WHERE council_id = $1 AND id = $2",
                &[&council_id, &user],
            )
            .await?
            .ok_or(AppError::NotFound)?;
        }
        (DpRecipient::Person, None) => {}
    }
    if terms.recipient == DpRecipient::NominatedPerson && !person.has_capacity
        || terms.recipient == DpRecipient::AuthorisedPerson && person.has_capacity
    {
        let grant = terms.grants(start_date);
        let message = grant
            .first()
            .and_then(|g| capacity_role_misfit(g, person))
            .map(|r| r.message)
            .unwrap_or_else(|| {
                "A nominated person can only act for someone who has capacity to manage a direct payment; \
                 someone without capacity needs an authorised person instead."
                    .to_string()
            });
        return Err(AppError::refused("capacity_role", message));
    }
    Ok(())
}
