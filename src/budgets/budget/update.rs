//! Changing what may change on a budget without a new assessment: the bank account a direct
//! payment goes to, the direct-payment terms (consent, recipient), and the broker. The cost and
//! contribution come from the assessment and are not edited here. Changed bank details are logged
//! and unverified until a finance officer other than the one who changed them verifies them.

use serde::Deserialize;
use uuid::Uuid;

use super::create::{check_broker, check_terms, person_facts};
use super::load::visible_for_update;
use super::statement::{funded_statement, weekly_cost};
use super::{disclosure, Budget, DirectPaymentTerms};
use crate::auth::{Actor, Role};
use crate::budgets::bank::BankDetails;
use crate::budgets::bank_changes::{self, Subject};
use crate::budgets::funding::{self, FundingPart};
use crate::db::Tx;
use crate::error::AppResult;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetChanges {
    pub bank: Option<BankDetails>,
    pub direct_payment: Option<DirectPaymentTerms>,
    pub broker_organisation_id: Option<Uuid>,
    /// The funders' split of the weekly cost, replaced whole (it must add up to the weekly cost:
    /// 422 `funding_mismatch`; a contribution on a wholly NHS-funded budget: 422
    /// `nhs_no_charging`).
    pub funding: Option<Vec<FundingPart>>,
    /// Whether the direct payment goes to an account used only for NHS direct payments.
    pub nhs_dp_separate_account: Option<bool>,
}

pub async fn update(
    tx: &Tx<'_>,
    actor: &Actor,
    id: Uuid,
    changes: &BudgetChanges,
) -> AppResult<Budget> {
    actor.require(&[Role::CareManager])?;
    let council_id = actor.council_id;
    let mut budget = visible_for_update(tx, actor, id).await?;
    if let Some(bank) = &changes.bank {
        bank.validate("bank")?;
        let bank: BankDetails = bank.normalised();
        if bank_changes::changed(tx, actor, Subject::Budget(id), budget.bank.as_ref(), &bank)
            .await?
        {
            budget.bank_verified = false;
        }
        budget.bank = Some(bank);
    }
    if let Some(terms) = &changes.direct_payment {
        let person = person_facts(tx, council_id, budget.person_id).await?;
        check_terms(tx, council_id, terms, &person, budget.start_date).await?;
        budget.direct_payment = terms.clone();
    }
    if let Some(broker) = changes.broker_organisation_id {
        check_broker(tx, council_id, broker).await?;
        budget.broker_organisation_id = Some(broker);
    }
    if let Some(parts) = &changes.funding {
        let parts = funding::validate(parts, weekly_cost(budget.annual_cost.amount()))?;
        if !budget.is_free() {
            funding::check_contribution(&parts, budget.weekly_contribution.amount())?;
        }
        funding::store(tx, council_id, id, &parts).await?;
        let s26 = funded_statement(
            budget.annual_cost.amount(),
            budget.weekly_contribution.amount(),
            budget.is_free(),
            &parts,
        );
        budget.person_amount = s26.person_amount;
        budget.council_amount = s26.council_amount;
        budget.paid_by = s26.paid_by;
        budget.funding = parts;
    }
    if let Some(separate) = changes.nhs_dp_separate_account {
        budget.nhs_dp_separate_account = separate;
    }
    let bank = budget.bank.as_ref();
    let terms = &budget.direct_payment;
    tx.execute(
        "UPDATE budgets SET bank_sort_code = $3, bank_account_number = $4, bank_account_name = $5,
                dp_consent_recorded = $6, dp_recipient = $7, dp_recipient_user_id = $8,
                dp_recipient_agreed = $9, broker_organisation_id = $10, bank_verified = $11,
                nhs_dp_separate_account = $12, updated_at = now()
         WHERE council_id = $1 AND id = $2",
        &[
            &council_id,
            &id,
            &bank.map(|b| b.sort_code.clone()),
            &bank.map(|b| b.account_number.clone()),
            &bank.map(|b| b.account_name.clone()),
            &terms.consent_recorded,
            &terms.recipient.as_str(),
            &terms.recipient_user_id,
            &terms.recipient_agreed,
            &budget.broker_organisation_id,
            &budget.bank_verified,
            &budget.nhs_dp_separate_account,
        ],
    )
    .await?;
    disclosure::disclose(actor, &mut budget);
    Ok(budget)
}
