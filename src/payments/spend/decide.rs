//! Deciding one request of a batch against what the batch has decided so far: the running
//! balances (in the ledger [`Plan`]), the spending charged to each plan line and the person's
//! care-home stays. Pure apart from the plan; nothing here reads the database.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::facts::{BudgetFacts, CouncilFacts, InvoiceFacts, Resolved};
use super::input::{spend_request, NewPayment};
use super::outcome::{Payment, PaymentStatus};
use super::store::Record;
use crate::auth::Actor;
use crate::clock::london_date;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, LedgerError, NewEntry, NewLeg, Plan, Side};
use crate::money::Money;
use crate::rules::{
    AccountFacts, CashToday, Decision, Refusal, RuleCode, SpendFacts, StayFacts, RULESET_VERSION,
};

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The facts as the rules take them, for one request.
pub(super) fn spend_facts(
    resolved: &Resolved,
    budget: &BudgetFacts,
    stays: &[StayFacts],
    council: &CouncilFacts,
    available: Decimal,
    new: &NewPayment,
    today: NaiveDate,
) -> SpendFacts {
    SpendFacts {
        today,
        person: resolved.person,
        plan: budget.plan.clone(),
        account: AccountFacts {
            deployment: new.deployment,
            available_balance: available,
        },
        payee: resolved.payee,
        grants: budget.grants.clone(),
        previous_stays: stays.to_vec(),
        policy: council.policy.clone(),
        care_manager_available: council.care_manager_available,
    }
}

/// Money can only leave an account the budget has.
pub(super) fn no_account_refusal(resolved: &Resolved, decision: Decision) -> Decision {
    if resolved.account_id.is_none() && !matches!(decision, Decision::Refuse { .. }) {
        return Decision::Refuse {
            refusals: vec![Refusal::new(
                RuleCode::NotInPlan,
                "No money is held for this budget in that deployment.",
            )],
        };
    }
    decision
}

/// A batch's decisions so far.
pub(super) struct Decider {
    plan: Plan,
    budgets: HashMap<Uuid, BudgetFacts>,
    council: CouncilFacts,
    /// Care-home stays by person: a stay decided earlier in the batch counts for the next.
    stays: HashMap<Uuid, Vec<StayFacts>>,
    /// Invoices being paid: a payment decided earlier in the batch counts for the next.
    invoices: HashMap<Uuid, InvoiceFacts>,
    /// Cash each card has withdrawn today: an approval earlier in the batch counts for the next.
    card_cash: HashMap<Uuid, Decimal>,
    now: DateTime<Utc>,
    today: NaiveDate,
}

impl Decider {
    pub fn new(
        plan: Plan,
        budgets: HashMap<Uuid, BudgetFacts>,
        council: CouncilFacts,
        invoices: HashMap<Uuid, InvoiceFacts>,
        card_cash: HashMap<Uuid, Decimal>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut stays: HashMap<Uuid, Vec<StayFacts>> = HashMap::new();
        for budget in budgets.values() {
            stays
                .entry(budget.person_id)
                .or_insert_with(|| budget.stays.clone());
        }
        Decider {
            plan,
            budgets,
            council,
            stays,
            invoices,
            card_cash,
            now,
            today: london_date(now),
        }
    }

    /// The plan with every entry decided, to be written.
    pub fn into_plan(self) -> Plan {
        self.plan
    }

    /// An invoice is paid while it is neither disputed nor rejected, and never beyond what is
    /// outstanding (posted and held payments of it count).
    fn check_invoice(&self, new: &NewPayment, r: &Resolved) -> AppResult<()> {
        let Some(id) = new.invoice_id else {
            return Ok(());
        };
        let invoice = self.invoices.get(&id).ok_or(AppError::NotFound)?;
        if invoice.budget_id != r.budget_id || invoice.deployment != new.deployment {
            return Err(internal("an invoice paid from another budget's money"));
        }
        match invoice.status.as_str() {
            "disputed" => {
                return Err(AppError::conflict(
                    "This invoice is disputed: it is not paid until the dispute is resolved.",
                ))
            }
            "rejected" => return Err(AppError::conflict("This invoice was rejected.")),
            _ => {}
        }
        let outstanding = invoice.total - invoice.committed;
        if outstanding <= Decimal::ZERO {
            return Err(AppError::conflict(
                "This invoice is paid in full (or its payment is waiting for approval).",
            ));
        }
        if new.amount.amount() > outstanding {
            return Err(AppError::invalid_amount(
                "amount",
                format!("at most the {outstanding:.2} still outstanding on the invoice"),
            ));
        }
        Ok(())
    }

    /// Decides one request: a record to write (posted, held or refused), or the request's own
    /// error; an outer `Err` is a failure of the batch.
    pub fn decide(
        &mut self,
        actor: &Actor,
        new: &NewPayment,
        r: &Resolved,
    ) -> AppResult<AppResult<Record>> {
        if let Err(e) = self.check_invoice(new, r) {
            return Ok(Err(e));
        }
        let (today, now) = (self.today, self.now);
        let council = &self.council;
        let Some(budget) = self.budgets.get_mut(&r.budget_id) else {
            return Err(internal("budget facts missing"));
        };
        let available = r
            .account_id
            .and_then(|a| self.plan.available(a))
            .unwrap_or(Decimal::ZERO);
        let person_stays = self.stays.get(&r.person_id).cloned().unwrap_or_default();
        let facts = spend_facts(r, budget, &person_stays, council, available, new, today);
        let amount = new.amount.amount();
        let mut decision = crate::rules::decide(&facts, &spend_request(actor, new));
        if let Some(card) = &new.card {
            let cash = card.cash_daily_limit.map(|daily_limit| CashToday {
                withdrawn: self
                    .card_cash
                    .get(&card.card_id)
                    .copied()
                    .unwrap_or(Decimal::ZERO),
                daily_limit,
            });
            decision = crate::rules::decide_card(decision, amount, cash);
        }
        let mut decision = no_account_refusal(r, decision);
        let id = Uuid::new_v4();
        let hold_expires = match (&decision, &new.card) {
            (Decision::Hold { .. }, _) => {
                Some(now + Duration::days(i64::from(council.policy.hold_expiry_days.max(1))))
            }
            (Decision::Post { .. }, Some(card)) => Some(card.hold_expires_at),
            _ => None,
        };
        let mut entry_id = None;
        if let (Decision::Post { .. } | Decision::Hold { .. }, Some(account), Some(paid_out)) =
            (&decision, r.account_id, r.paid_out_id)
        {
            let description = match &new.card {
                Some(card) => format!(
                    "Card: {} ({}, authorised)",
                    card.merchant_name,
                    new.category.label()
                ),
                None if hold_expires.is_some() => format!(
                    "{} to {} (awaiting approval)",
                    capitalised(new.category.label()),
                    r.payee_name
                ),
                None => format!("{} to {}", capitalised(new.category.label()), r.payee_name),
            };
            let entry = NewEntry {
                effective_date: today,
                description,
                legs: vec![
                    NewLeg {
                        account_id: account,
                        side: Side::Debit,
                        amount,
                    },
                    NewLeg {
                        account_id: paid_out,
                        side: Side::Credit,
                        amount,
                    },
                ],
                metadata: json!({
                    "payment_id": id,
                    "budget_id": r.budget_id,
                    "requested_by": actor.user_id,
                    "requested_by_name": actor.name,
                    "decision": decision,
                    "ruleset_version": RULESET_VERSION,
                    "policy_version": council.policy.version,
                }),
                reverses: None,
            };
            let planned = match ledger::planned(&entry, hold_expires) {
                Ok(planned) => planned,
                Err(e) => return Ok(Err(e.into())),
            };
            let planned_id = planned.id;
            match self.plan.add(planned) {
                Ok(()) => entry_id = Some(planned_id),
                // The rules saw the same running balance, so this is a safety net only.
                Err(LedgerError::InsufficientFunds { .. }) => {
                    decision = Decision::Refuse {
                        refusals: vec![Refusal::new(
                            RuleCode::InsufficientFunds,
                            "The available balance does not cover this amount.",
                        )],
                    }
                }
                Err(e) => return Ok(Err(e.into())),
            }
        }
        let (status, approvals_required) = match &decision {
            Decision::Post { .. } if new.card.is_some() => (PaymentStatus::Authorized, Vec::new()),
            Decision::Post { .. } => (PaymentStatus::Posted, Vec::new()),
            Decision::Hold {
                approvals_required, ..
            } => (PaymentStatus::PendingApproval, approvals_required.clone()),
            Decision::Refuse { .. } => (PaymentStatus::Refused, Vec::new()),
        };
        if status != PaymentStatus::Refused {
            // Spending and stays decided now count for the rest of the batch.
            if let Some(line) = budget.plan.as_mut().and_then(|p| {
                p.lines
                    .iter_mut()
                    .find(|l| l.category == new.category && l.deployment == new.deployment)
            }) {
                line.spent_this_plan_year += amount;
            }
            if let (Some(from), Some(to), true) = (
                new.stay_from,
                new.stay_to,
                new.deployment.is_direct_payment(),
            ) {
                self.stays
                    .entry(r.person_id)
                    .or_default()
                    .push(StayFacts { from, to });
            }
        }
        if let (PaymentStatus::Authorized, Some(card)) = (status, &new.card) {
            if card.cash_daily_limit.is_some() {
                *self.card_cash.entry(card.card_id).or_default() += amount;
            }
        }
        if status != PaymentStatus::Refused {
            if let Some(invoice) = new.invoice_id.and_then(|id| self.invoices.get_mut(&id)) {
                invoice.committed += amount;
            }
        }
        let held = matches!(
            status,
            PaymentStatus::PendingApproval | PaymentStatus::Authorized
        );
        let settled = !held;
        let payment = Payment {
            id,
            budget_id: r.budget_id,
            account_id: r.account_id,
            deployment: new.deployment,
            payee_id: r.payee.id,
            payee_name: r.payee_name.clone(),
            category: new.category,
            amount: Money::new(amount).map_err(internal)?,
            service_date: new.service_date,
            memo: new.memo.as_deref().map(|m| m.trim().to_owned()),
            stay_from: new.stay_from,
            stay_to: new.stay_to,
            status,
            approved_by: Vec::new(),
            decision: decision.clone(),
            ruleset_version: RULESET_VERSION.to_owned(),
            policy_version: council.policy.version,
            requested_by: actor.user_id,
            requested_by_name: actor.name.clone(),
            requested_at: now,
            hold_expires_at: hold_expires,
            entry_id: if status == PaymentStatus::Posted {
                entry_id
            } else {
                None
            },
            hold_entry_id: if held { entry_id } else { None },
            resolved_at: settled.then_some(now),
            resolved_by: settled.then_some(actor.user_id),
            approvals_required,
        };
        Ok(Ok(Record {
            outstanding: serde_json::to_value(&payment.approvals_required).map_err(internal)?,
            merchant_category: new
                .merchant_category
                .as_deref()
                .map(|m| m.trim().to_owned()),
            is_cash: new.is_cash,
            evidence_sha256: new.evidence_sha256.as_deref().map(str::to_ascii_lowercase),
            invoice_id: new.invoice_id,
            card: new.card.clone(),
            payment,
        }))
    }
}
