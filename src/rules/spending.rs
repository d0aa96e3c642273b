//! Spending from a deployment account: `decide` checks every RULES.md › Spending rule and the payer's authority,
//! and reports every failure together so the person can fix everything at once.

use super::authority::{pay_authority, PayAuthority, Spend};
use super::decision::{
    ApprovalNeed, Approvers, Decision, Flag, FlagCode, HoldReason, Refusal, RuleCode,
};
use super::facts::{PlanFacts, SpendFacts, SpendRequest};
use super::family::check_family_payment;
use super::money::{format_date, format_money};
use super::respite::check_care_home_stay;
use super::types::PayeeKind;
use rust_decimal::Decimal;

/// Decides a spending request on a snapshot of facts: post, hold for approval, or refuse with every reason.
pub fn decide(facts: &SpendFacts, request: &SpendRequest) -> Decision {
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut needs: Vec<ApprovalNeed> = Vec::new();

    if request.amount <= Decimal::ZERO {
        refusals.push(Refusal::new(
            RuleCode::InvalidAmount,
            "A payment must be for more than nothing.",
        ));
    }
    match check_plan(facts, request) {
        Ok(Some(need)) => needs.push(need),
        Ok(None) => {}
        Err(refusal) => refusals.push(refusal),
    }
    if request.amount > facts.account.available_balance {
        refusals.push(Refusal::new(
            RuleCode::InsufficientFunds,
            format!(
                "The account has {} available, which is not enough for this payment of {}.",
                format_money(facts.account.available_balance),
                format_money(request.amount)
            ),
        ));
    }
    refusals.extend(check_excluded(facts, request));
    refusals.extend(check_payee(facts, request));
    refusals.extend(check_family_payment(&facts.payee, request.deployment));
    let previous: Vec<_> = facts
        .previous_stays
        .iter()
        .map(|s| (s.from, s.to))
        .collect();
    refusals.extend(check_care_home_stay(
        request.category,
        facts.payee.kind,
        request.deployment,
        (request.stay_from, request.stay_to),
        &previous,
    ));
    refusals.extend(check_council_service(facts, request));
    refusals.extend(check_self_payment(facts, request));
    refusals.extend(check_merchant_and_cash(facts, request));
    match pay_authority(
        &facts.grants,
        &facts.person,
        facts.today,
        request.actor,
        Spend {
            category: request.category,
            deployment: request.deployment,
            amount: request.amount,
        },
    ) {
        PayAuthority::Allowed => {}
        PayAuthority::NeedsApproval(need) => needs.insert(0, need),
        PayAuthority::Refused(refusal) => refusals.push(refusal),
    }

    if !refusals.is_empty() {
        return Decision::Refuse { refusals };
    }
    let flags = flags(facts, request);
    if needs.is_empty() {
        Decision::Post { flags }
    } else {
        Decision::Hold {
            approvals_required: needs,
            flags,
        }
    }
}

/// `not_in_plan` and `over_plan_line`: the category must be a line of the approved plan for this deployment;
/// going past the line's yearly allocation waits for a care manager rather than being refused.
fn check_plan(facts: &SpendFacts, request: &SpendRequest) -> Result<Option<ApprovalNeed>, Refusal> {
    let refuse = |message: String| Err(Refusal::new(RuleCode::NotInPlan, message));
    if facts.account.deployment != request.deployment {
        return refuse(format!(
            "This payment is for the {} but the account chosen holds the {}.",
            request.deployment.label(),
            facts.account.deployment.label()
        ));
    }
    let plan: &PlanFacts = match &facts.plan {
        Some(plan) if plan.approved => plan,
        Some(_) => {
            return refuse(
                "The support plan has not been approved yet, so nothing can be paid from it."
                    .into(),
            );
        }
        None => {
            return refuse(
                "This budget has no support plan yet, so nothing can be paid from it.".into(),
            );
        }
    };
    let lines: Vec<_> = plan
        .lines
        .iter()
        .filter(|l| l.category == request.category && l.deployment == request.deployment)
        .collect();
    if lines.is_empty() {
        return refuse(format!(
            "The support plan has no {} line held as a {}, so this payment is not part of the agreed plan.",
            request.category.label(),
            request.deployment.label()
        ));
    }
    let allocation: Decimal = lines.iter().map(|l| l.annual_allocation).sum();
    let after = lines
        .iter()
        .map(|l| l.spent_this_plan_year)
        .sum::<Decimal>()
        + request.amount;
    if after <= allocation {
        return Ok(None);
    }
    let message = format!(
        "This payment would take {} spending to {} this plan year, above the {} in the plan.",
        request.category.label(),
        format_money(after),
        format_money(allocation)
    );
    if !facts.care_manager_available {
        return Err(Refusal::new(
            RuleCode::OverPlanLine,
            format!("{message} There is no care manager who could approve it."),
        ));
    }
    Ok(Some(ApprovalNeed {
        reason: HoldReason::OverPlanLine,
        eligible_approvers: Approvers::AnyCareManager,
        message: format!("{message} A care manager must approve it."),
    }))
}

/// `person_excluded`: nothing is spent from a direct payment (a managed account included) of a person the DP
/// Regulations' Schedule excludes, even from money paid in before the exclusion was recorded.
fn check_excluded(facts: &SpendFacts, request: &SpendRequest) -> Option<Refusal> {
    let excluded =
        request.deployment.is_direct_payment() && facts.person.excluded_from_direct_payments;
    excluded.then(|| {
        Refusal::new(
            RuleCode::PersonExcluded,
            format!(
                "The person is excluded from direct payments (for example by a treatment requirement or licence \
                 condition), so nothing can be paid from their {}.",
                request.deployment.label()
            ),
        )
    })
}

/// `payee_not_approved`: the payee must be the one asked for, active, and with verified bank details.
fn check_payee(facts: &SpendFacts, request: &SpendRequest) -> Option<Refusal> {
    let payee = &facts.payee;
    let message = if payee.id != request.payee_id {
        "The payee details loaded do not match the payee on this payment.".to_owned()
    } else {
        match (payee.active, payee.bank_verified) {
            (true, true) => return None,
            (false, true) => "This payee is no longer active, so payments cannot be made to them.".to_owned(),
            (true, false) => {
                "This payee's bank details have not been verified yet, so payments cannot be made to them."
                    .to_owned()
            }
            (false, false) => "This payee is no longer active and their bank details have not been verified, \
                               so payments cannot be made to them."
                .to_owned(),
        }
    };
    Some(Refusal::new(RuleCode::PayeeNotApproved, message))
}

/// `council_service`: a direct payment buying the council's own services, where this council's policy forbids it.
fn check_council_service(facts: &SpendFacts, request: &SpendRequest) -> Option<Refusal> {
    let forbidden = facts.payee.kind == PayeeKind::CouncilService
        && request.deployment.is_direct_payment()
        && !facts.policy.dp_may_buy_council_services;
    forbidden.then(|| {
        Refusal::new(
            RuleCode::CouncilService,
            "This council's policy does not allow direct payments to buy the council's own services.",
        )
    })
}

/// `blocked_merchant`: blocked card merchant categories, and cash where the plan does not allow it.
fn check_merchant_and_cash(facts: &SpendFacts, request: &SpendRequest) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    let blocked = request
        .merchant_category
        .as_deref()
        .filter(|merchant| facts.policy.blocks_merchant(merchant));
    if let Some(merchant) = blocked {
        refusals.push(Refusal::new(
            RuleCode::BlockedMerchant,
            format!(
                "Card payments to {} businesses are blocked for personal budgets by this council's policy.",
                merchant.trim().replace('_', " ")
            ),
        ));
    }
    let cash_allowed = facts.plan.as_ref().is_some_and(|p| p.cash_allowed);
    if request.is_cash && !cash_allowed {
        refusals.push(Refusal::new(
            RuleCode::BlockedMerchant,
            "The support plan does not allow cash withdrawals from this budget.",
        ));
    }
    refusals
}

/// `evidence_required` and `review_overdue`: recorded for audit, never a reason to stop care.
fn flags(facts: &SpendFacts, request: &SpendRequest) -> Vec<Flag> {
    let mut flags = Vec::new();
    let threshold = facts.policy.receipt_threshold;
    if request.amount > threshold && !request.evidence_attached {
        flags.push(Flag {
            code: FlagCode::EvidenceRequired,
            message: format!(
                "This payment is above {} and has no receipt, invoice or timesheet attached; one must be added \
                 within 30 days.",
                format_money(threshold)
            ),
        });
    }
    let review_due = facts.plan.as_ref().and_then(|p| p.review_due);
    if let Some(due) = review_due.filter(|due| facts.today > *due) {
        flags.push(Flag {
            code: FlagCode::ReviewOverdue,
            message: format!(
                "The support plan's review was due on {} and is overdue; payments carry on while it is arranged.",
                format_date(due)
            ),
        });
    }
    flags
}

/// A broker never pays themselves: a payer acting under a `broker` grant cannot pay a payee of
/// the broker's own organisation (the fee is paid from the budget through an invoice, by whoever
/// else holds the money).
pub fn check_self_payment(facts: &SpendFacts, request: &SpendRequest) -> Option<Refusal> {
    let acting_as_broker = facts
        .grants
        .iter()
        .any(|g| g.user_id == request.actor && g.acting_as == super::types::ActingAs::Broker);
    match (request.actor_organisation_id, facts.payee.organisation_id) {
        (Some(own), Some(payee)) if acting_as_broker && own == payee => Some(Refusal::new(
            RuleCode::SelfPayment,
            "A broker cannot pay their own organisation from the budget: the broker's fee is paid \
             through an invoice by someone else who holds the money.",
        )),
        _ => None,
    }
}
