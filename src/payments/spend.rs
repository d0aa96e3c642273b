//! Payments out of deployment accounts (RULES.md › Spending and › Decision-making agreements).
//!
//! A request is decided by `rules::decide` on facts loaded in the same transaction, after the
//! deployment account is locked by the ledger, so the decision and the posting see the same
//! world. The payment posts at once, is held (a ledger hold reserves the money) until every
//! approval it needs is given, or is refused; the decision, the rule-set version, the policy
//! version and the actor are stored either way (a refusal as a decision that moved no money).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::budgets::budget::load::visible;
use crate::budgets::{agreements, payees, policy, today};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, NewEntry, NewLeg, Side};
use crate::money::{Money, PositiveMoney};
use crate::rules::approval::PendingFacts;
use crate::rules::{
    AccountFacts, ApprovalNeed, ApprovalOutcome, Approver, Category, Decision, Deployment,
    PayeeFacts, PersonFacts, PlanFacts, PlanLineFacts, RuleCode, SpendFacts, SpendRequest,
    StayFacts, RULESET_VERSION,
};

/// A payment request (`POST /api/v1/payments`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub budget_id: Uuid,
    #[schema(value_type = String, example = "direct_payment")]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    #[schema(value_type = String, example = "personal_care")]
    pub category: Category,
    #[schema(value_type = String, example = "120.00")]
    pub amount: PositiveMoney,
    /// The day the care or item was provided.
    pub service_date: NaiveDate,
    #[serde(default)]
    pub memo: Option<String>,
    /// First night of a care-home stay.
    #[serde(default)]
    pub stay_from: Option<NaiveDate>,
    /// Last night of a care-home stay.
    #[serde(default)]
    pub stay_to: Option<NaiveDate>,
    /// Which holder's account, when several organisations hold money of this deployment.
    #[serde(default)]
    pub holder_organisation_id: Option<Uuid>,
    /// The card processor's merchant category, for card-style spending.
    #[serde(default)]
    pub merchant_category: Option<String>,
    /// A cash withdrawal.
    #[serde(default)]
    pub is_cash: bool,
    /// SHA-256 (hex) of the receipt, invoice or timesheet attached.
    #[serde(default)]
    pub evidence_sha256: Option<String>,
}

/// A payment as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub budget_id: Uuid,
    pub account_id: Option<Uuid>,
    #[schema(value_type = String)]
    pub deployment: Deployment,
    pub payee_id: Uuid,
    pub payee_name: String,
    #[schema(value_type = String)]
    pub category: Category,
    pub amount: Money,
    pub service_date: NaiveDate,
    pub memo: Option<String>,
    pub stay_from: Option<NaiveDate>,
    pub stay_to: Option<NaiveDate>,
    /// `posted`, `pending_approval`, `rejected`, `expired` or `refused`.
    pub status: String,
    /// Approvals still needed while held.
    #[schema(value_type = Vec<Object>)]
    pub approvals_required: Vec<ApprovalNeed>,
    /// Who has approved so far.
    pub approved_by: Vec<Uuid>,
    /// The rules' decision as made: outcome, refusals, approvals required, flags.
    #[schema(value_type = Object)]
    pub decision: Value,
    pub ruleset_version: String,
    pub policy_version: i32,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    pub requested_at: DateTime<Utc>,
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// The ledger entry that moved the money, once posted.
    pub entry_id: Option<Uuid>,
    /// The ledger hold reserving the money, while (or since) held.
    pub hold_entry_id: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
}

/// What a request came to: an HTTP status and its JSON body (a payment, or the refusal envelope).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub payment_id: Uuid,
}

fn check_input(new: &NewPayment) -> AppResult<()> {
    if let Some(memo) = &new.memo {
        if memo.trim().is_empty() || memo.chars().count() > 500 {
            return Err(AppError::invalid("memo", "1 to 500 characters"));
        }
    }
    if let Some(category) = &new.merchant_category {
        if category.trim().is_empty() || category.chars().count() > 100 {
            return Err(AppError::invalid(
                "merchant_category",
                "1 to 100 characters",
            ));
        }
    }
    if let Some(hash) = &new.evidence_sha256 {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid(
                "evidence_sha256",
                "64 hexadecimal characters (a SHA-256 digest)",
            ));
        }
    }
    match (new.stay_from, new.stay_to) {
        (Some(from), Some(to)) if to < from => Err(AppError::invalid(
            "stay_to",
            "the last night must be on or after the first",
        )),
        (Some(_), None) | (None, Some(_)) => Err(AppError::invalid(
            "stay_to",
            "give both stay_from and stay_to, or neither",
        )),
        _ => Ok(()),
    }
}

/// The deployment account a payment would leave, as the actor may reach it: provider staff only
/// the accounts their organisation holds (anything else is 404).
async fn deployment_account(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    deployment: Deployment,
    holder: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT account_id, holder_organisation_id FROM budget_accounts
             WHERE council_id = $1 AND budget_id = $2 AND purpose = 'deployment' AND deployment = $3
             ORDER BY created_at, account_id",
            )
            .await?,
            &[&actor.council_id, &budget_id, &deployment.as_str()],
        )
        .await?;
    let mut accounts: Vec<(Uuid, Option<Uuid>)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    if actor.role == Role::ProviderStaff {
        accounts.retain(|(_, org)| org.is_some() && *org == actor.organisation_id);
        if accounts.is_empty() {
            return Err(AppError::NotFound);
        }
    }
    if let Some(holder) = holder {
        accounts.retain(|(_, org)| *org == Some(holder));
        if accounts.is_empty() {
            return Err(AppError::invalid(
                "holder_organisation_id",
                "no money of this deployment is held by that organisation",
            ));
        }
    }
    match accounts.as_slice() {
        [] => Ok(None),
        [(id, _)] => Ok(Some(*id)),
        _ => Err(AppError::invalid(
            "holder_organisation_id",
            "several organisations hold money of this deployment: say which",
        )),
    }
}

async fn person_facts(tx: &Tx<'_>, council_id: Uuid, budget_id: Uuid) -> AppResult<PersonFacts> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT p.has_capacity, p.excluded_from_direct_payments
             FROM budgets b JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
             WHERE b.council_id = $1 AND b.id = $2",
            )
            .await?,
            &[&council_id, &budget_id],
        )
        .await?;
    Ok(PersonFacts {
        has_capacity: row.get(0),
        excluded_from_direct_payments: row.get(1),
    })
}

/// The plan year containing `today`: years counted from the day the current plan was approved.
fn plan_year_start(approved_on: NaiveDate, today: NaiveDate) -> NaiveDate {
    let mut start = approved_on;
    while let Some(next) = start.checked_add_months(chrono::Months::new(12)) {
        if next > today {
            break;
        }
        start = next;
    }
    start
}

async fn plan_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    today: NaiveDate,
) -> AppResult<Option<PlanFacts>> {
    let Some(plan) = crate::budgets::plans::load::approved(tx, council_id, budget_id).await? else {
        return Ok(None);
    };
    let approved_on = plan.approved_at.map(|at| at.date_naive()).unwrap_or(today);
    let year_start = plan_year_start(approved_on, today);
    let review_due: Option<NaiveDate> = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT due_on FROM reviews WHERE council_id = $1 AND budget_id = $2
             AND completed_on IS NULL",
            )
            .await?,
            &[&council_id, &budget_id],
        )
        .await?
        .map(|r| r.get(0));
    let spent = tx
        .query(
            &tx.prepare_cached(
                "SELECT category, deployment, sum(amount) FROM payments
             WHERE council_id = $1 AND budget_id = $2 AND status IN ('posted', 'pending_approval')
               AND requested_at >= $3::date
               AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                               WHERE r.council_id = payments.council_id
                                 AND r.hold_id = payments.hold_entry_id AND r.outcome = 'expired')
             GROUP BY category, deployment",
            )
            .await?,
            &[&council_id, &budget_id, &year_start],
        )
        .await?;
    let spent_on = |category: Category, deployment: Deployment| -> Decimal {
        spent
            .iter()
            .filter(|r| {
                r.get::<_, &str>(0) == category.as_str()
                    && r.get::<_, &str>(1) == deployment.as_str()
            })
            .map(|r| r.get::<_, Decimal>(2))
            .sum()
    };
    let mut lines: Vec<PlanLineFacts> = Vec::new();
    for line in &plan.lines {
        let annual = crate::budgets::plans::annualise(line.weekly_amount.amount());
        match lines
            .iter_mut()
            .find(|l| l.category == line.category && l.deployment == line.deployment)
        {
            Some(existing) => existing.annual_allocation += annual,
            None => lines.push(PlanLineFacts {
                category: line.category,
                deployment: line.deployment,
                annual_allocation: annual,
                spent_this_plan_year: spent_on(line.category, line.deployment),
            }),
        }
    }
    Ok(Some(PlanFacts {
        approved: true,
        cash_allowed: plan.cash_allowed,
        review_due,
        lines,
    }))
}

async fn payee_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    person_id: Uuid,
    payee_id: Uuid,
) -> AppResult<(PayeeFacts, String)> {
    let payee = payees::get(tx, council_id, payee_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::invalid("payee_id", "no such payee"),
            other => other,
        })?;
    if payee.person_id.is_some_and(|p| p != person_id) {
        return Err(AppError::invalid(
            "payee_id",
            "this payee is recorded for someone else",
        ));
    }
    let necessary = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT 1 FROM family_payment_approvals
             WHERE council_id = $1 AND budget_id = $2 AND payee_id = $3",
            )
            .await?,
            &[&council_id, &budget_id, &payee_id],
        )
        .await?
        .is_some();
    Ok((
        PayeeFacts {
            id: payee.id,
            kind: payee.kind,
            active: payee.active,
            bank_verified: payee.bank_verified,
            relationship: payee.relationship,
            lives_with_person: payee.lives_with_person,
            family_payment_necessary: necessary,
        },
        payee.name,
    ))
}

async fn previous_stays(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
) -> AppResult<Vec<StayFacts>> {
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT stay_from, stay_to FROM payments
             WHERE council_id = $1 AND budget_id = $2 AND deployment = 'direct_payment'
               AND status IN ('posted', 'pending_approval') AND stay_from IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                               WHERE r.council_id = payments.council_id
                                 AND r.hold_id = payments.hold_entry_id AND r.outcome = 'expired')",
            )
            .await?,
            &[&council_id, &budget_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StayFacts {
            from: r.get(0),
            to: r.get(1),
        })
        .collect())
}

async fn care_manager_available(tx: &Tx<'_>, council_id: Uuid) -> AppResult<bool> {
    Ok(tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT 1 FROM users WHERE council_id = $1 AND role = 'care_manager' LIMIT 1",
            )
            .await?,
            &[&council_id],
        )
        .await?
        .is_some())
}

/// Everything `decide` needs, loaded now (the account already locked by the caller).
async fn spend_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_id: Uuid,
    person_id: Uuid,
    account: Option<Uuid>,
    new: &NewPayment,
) -> AppResult<(SpendFacts, String)> {
    let today = today(tx).await?;
    let available = match account {
        Some(id) => {
            ledger::balances(tx, council_id, id)
                .await?
                .available_balance
        }
        None => Decimal::ZERO,
    };
    let (payee, payee_name) =
        payee_facts(tx, council_id, budget_id, person_id, new.payee_id).await?;
    Ok((
        SpendFacts {
            today,
            person: person_facts(tx, council_id, budget_id).await?,
            plan: plan_facts(tx, council_id, budget_id, today).await?,
            account: AccountFacts {
                deployment: new.deployment,
                available_balance: available,
            },
            payee,
            grants: agreements::grant_facts(tx, council_id, budget_id).await?,
            previous_stays: previous_stays(tx, council_id, budget_id).await?,
            policy: policy::current(tx, council_id).await?,
            care_manager_available: care_manager_available(tx, council_id).await?,
        },
        payee_name,
    ))
}

fn spend_request(actor: &Actor, new: &NewPayment) -> SpendRequest {
    SpendRequest {
        actor: actor.user_id,
        category: new.category,
        deployment: new.deployment,
        amount: new.amount.amount(),
        service_date: new.service_date,
        payee_id: new.payee_id,
        stay_from: new.stay_from,
        stay_to: new.stay_to,
        merchant_category: new.merchant_category.clone(),
        is_cash: new.is_cash,
        evidence_attached: new.evidence_sha256.is_some(),
    }
}

/// Decides a request without moving money or recording anything: what would happen now.
pub async fn check(tx: &Tx<'_>, actor: &Actor, new: &NewPayment) -> AppResult<Decision> {
    check_input(new)?;
    let budget = visible(tx, actor, new.budget_id).await?;
    let account = deployment_account(
        tx,
        actor,
        budget.id,
        new.deployment,
        new.holder_organisation_id,
    )
    .await?;
    let (facts, _) = spend_facts(
        tx,
        actor.council_id,
        budget.id,
        budget.person_id,
        account,
        new,
    )
    .await?;
    Ok(crate::rules::decide(&facts, &spend_request(actor, new)))
}

/// The refusal envelope (API.md): 403 `no_authority` when the actor lacks authority, else 422
/// with the first failed rule's code; one detail per failed rule.
fn refusal_answer(decision: &Decision, payment_id: Uuid) -> (u16, Value) {
    let refusals = decision.refusals();
    let no_authority = refusals.iter().any(|r| r.code == RuleCode::NoAuthority);
    let first = if no_authority {
        refusals.iter().find(|r| r.code == RuleCode::NoAuthority)
    } else {
        refusals.first()
    };
    let (code, message) = first
        .map(|r| (r.code.as_str(), r.message.clone()))
        .unwrap_or(("refused", "The payment was refused.".to_owned()));
    let details: Vec<Value> = refusals
        .iter()
        .map(|r| json!({"rule": r.code.as_str(), "message": r.message}))
        .collect();
    (
        if no_authority { 403 } else { 422 },
        json!({"error": {"code": code, "message": message, "details": details,
                         "payment_id": payment_id}}),
    )
}

/// Decides and carries out a payment request in the caller's transaction. Refusals are recorded
/// and answered (not errors), so the caller commits them; bad input and invisibility are errors.
pub async fn request(tx: &Tx<'_>, actor: &Actor, new: &NewPayment) -> AppResult<Answer> {
    check_input(new)?;
    let council_id = actor.council_id;
    let budget = visible(tx, actor, new.budget_id).await?;
    let account = deployment_account(
        tx,
        actor,
        budget.id,
        new.deployment,
        new.holder_organisation_id,
    )
    .await?;
    if let Some(account) = account {
        // The ledger's locks, taken before any fact is read: concurrent payments from this
        // account queue here and each decides on the balance the one before left.
        ledger::accounts::lock_accounts(tx, council_id, &[account]).await?;
    }
    let (facts, payee_name) =
        spend_facts(tx, council_id, budget.id, budget.person_id, account, new).await?;
    let mut decision = crate::rules::decide(&facts, &spend_request(actor, new));
    if account.is_none() && !matches!(decision, Decision::Refuse { .. }) {
        decision = Decision::Refuse {
            refusals: vec![crate::rules::Refusal::new(
                RuleCode::NotInPlan,
                "No money is held for this budget in that deployment.",
            )],
        };
    }
    let id = Uuid::new_v4();
    let decision_json = serde_json::to_value(&decision).map_err(internal)?;
    let metadata = json!({
        "payment_id": id,
        "budget_id": budget.id,
        "requested_by": actor.user_id,
        "requested_by_name": actor.name,
        "decision": decision_json,
        "ruleset_version": RULESET_VERSION,
        "policy_version": facts.policy.version,
    });
    let entry = |description: String| -> AppResult<NewEntry> {
        let paid_to = Uuid::nil();
        Ok(NewEntry {
            effective_date: facts.today,
            description,
            legs: vec![
                NewLeg {
                    account_id: account.ok_or_else(|| internal("no account"))?,
                    side: Side::Debit,
                    amount: new.amount.amount(),
                },
                NewLeg {
                    account_id: paid_to,
                    side: Side::Credit,
                    amount: new.amount.amount(),
                },
            ],
            metadata: metadata.clone(),
            reverses: None,
        })
    };
    let description = format!("{} to {}", capitalised(new.category.label()), payee_name);
    let (status, outstanding, hold_entry, expires_at, posted_entry) = match &decision {
        Decision::Refuse { .. } => ("refused", json!([]), None, None, None),
        Decision::Post { .. } => {
            let paid_out = paid_out_account(tx, council_id, account).await?;
            let mut e = entry(description)?;
            e.legs[1].account_id = paid_out;
            let posted = ledger::post_in_tx(tx, council_id, &e).await?;
            ("posted", json!([]), None, None, Some(posted.id))
        }
        Decision::Hold {
            approvals_required, ..
        } => {
            let paid_out = paid_out_account(tx, council_id, account).await?;
            let mut e = entry(format!("{description} (awaiting approval)"))?;
            e.legs[1].account_id = paid_out;
            let expires =
                Utc::now() + Duration::days(i64::from(facts.policy.hold_expiry_days.max(1)));
            let hold = ledger::hold_in_tx(tx, council_id, &e, expires).await?;
            (
                "pending_approval",
                serde_json::to_value(approvals_required).map_err(internal)?,
                Some(hold.id),
                Some(expires),
                None,
            )
        }
    };
    tx.execute(&tx.prepare_cached("INSERT INTO payments (council_id, id, budget_id, account_id, deployment, payee_id, category,
             amount, service_date, memo, stay_from, stay_to, merchant_category, is_cash,
             evidence_sha256, requested_by, status, decision, ruleset_version, policy_version,
             outstanding, hold_entry_id, hold_expires_at, posted_entry_id, resolved_at, resolved_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, $21, $22, $23, $24,
             CASE WHEN $17::text = 'pending_approval' THEN NULL ELSE now() END,
             CASE WHEN $17::text = 'pending_approval' THEN NULL ELSE $16::uuid END)").await?,
        &[
            &council_id,
            &id,
            &budget.id,
            &account,
            &new.deployment.as_str(),
            &new.payee_id,
            &new.category.as_str(),
            &new.amount.amount(),
            &new.service_date,
            &new.memo.as_deref().map(str::trim),
            &new.stay_from,
            &new.stay_to,
            &new.merchant_category.as_deref().map(str::trim),
            &new.is_cash,
            &new.evidence_sha256.as_deref().map(str::to_ascii_lowercase),
            &actor.user_id,
            &status,
            &decision_json,
            &RULESET_VERSION,
            &facts.policy.version,
            &outstanding,
            &hold_entry,
            &expires_at,
            &posted_entry,
        ],
    )
    .await?;
    let (status_code, body) = match decision {
        Decision::Refuse { .. } => refusal_answer(&decision, id),
        Decision::Post { .. } => (201, payment_json(tx, council_id, id).await?),
        Decision::Hold { .. } => (202, payment_json(tx, council_id, id).await?),
    };
    Ok(Answer {
        status: status_code,
        body,
        payment_id: id,
    })
}

/// The "paid out" counterpart of a deployment account, opened on its first payment. The caller
/// holds the deployment account's ledger lock, so two first payments cannot both open one.
async fn paid_out_account(tx: &Tx<'_>, council_id: Uuid, account: Option<Uuid>) -> AppResult<Uuid> {
    let account = account.ok_or_else(|| internal("no deployment account"))?;
    let find = tx
        .prepare_cached(
            "SELECT paid_out_id FROM paid_out_accounts WHERE council_id = $1 AND account_id = $2",
        )
        .await?;
    if let Some(row) = tx.query_opt(&find, &[&council_id, &account]).await? {
        return Ok(row.get(0));
    }
    let paid_out = ledger::create_account(
        tx,
        council_id,
        &ledger::NewAccount {
            kind: "paid_out".into(),
            name: "Paid to payees".into(),
            holder: Some(format!("account:{account}")),
            no_overdraft: false,
        },
    )
    .await?;
    tx.execute(&tx.prepare_cached("INSERT INTO paid_out_accounts (council_id, account_id, paid_out_id) VALUES ($1, $2, $3)").await?,
        &[&council_id, &account, &paid_out],
    )
    .await?;
    Ok(paid_out)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

async fn payment_json(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Value> {
    serde_json::to_value(load(tx, council_id, id).await?).map_err(internal)
}

const SELECT_PAYMENT: &str = "SELECT p.id, p.budget_id, p.account_id, p.deployment, p.payee_id,
        y.name, p.category, p.amount, p.service_date, p.memo, p.stay_from, p.stay_to,
        CASE WHEN p.status = 'pending_approval' AND r.outcome = 'expired' THEN 'expired'
             ELSE p.status END,
        p.outstanding, p.decision, p.ruleset_version, p.policy_version, p.requested_by, u.name,
        p.requested_at, p.hold_expires_at, p.posted_entry_id, p.hold_entry_id, p.resolved_at,
        p.resolved_by,
        ARRAY(SELECT a.approver_id FROM payment_approvals a
              WHERE a.council_id = p.council_id AND a.payment_id = p.id ORDER BY a.approved_at)
     FROM payments p
     JOIN payees y ON y.council_id = p.council_id AND y.id = p.payee_id
     JOIN users u ON u.council_id = p.council_id AND u.id = p.requested_by
     LEFT JOIN ledger_hold_resolutions r ON r.council_id = p.council_id AND r.hold_id = p.hold_entry_id";

fn from_row(row: &Row) -> AppResult<Payment> {
    let parse_err = |what: &str| internal(format!("stored payment has a bad {what}"));
    let deployment: &str = row.get(3);
    let category: &str = row.get(6);
    let amount: Decimal = row.get(7);
    let status: String = row.get(12);
    let outstanding: Value = row.get(13);
    Ok(Payment {
        id: row.get(0),
        budget_id: row.get(1),
        account_id: row.get(2),
        deployment: deployment.parse().map_err(|_| parse_err("deployment"))?,
        payee_id: row.get(4),
        payee_name: row.get(5),
        category: category.parse().map_err(|_| parse_err("category"))?,
        amount: Money::new(amount).map_err(|_| parse_err("amount"))?,
        service_date: row.get(8),
        memo: row.get(9),
        stay_from: row.get(10),
        stay_to: row.get(11),
        approvals_required: if status == "pending_approval" {
            serde_json::from_value(outstanding).map_err(|_| parse_err("outstanding"))?
        } else {
            Vec::new()
        },
        status,
        decision: row.get(14),
        ruleset_version: row.get(15),
        policy_version: row.get(16),
        requested_by: row.get(17),
        requested_by_name: row.get(18),
        requested_at: row.get(19),
        hold_expires_at: row.get(20),
        entry_id: row.get(21),
        hold_entry_id: row.get(22),
        resolved_at: row.get(23),
        resolved_by: row.get(24),
        approved_by: row.get(25),
    })
}

/// A payment by id (no visibility check: see [`visible`]).
pub async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<Payment> {
    let row = tx
        .query_opt(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.id = $2"
            ))
            .await?,
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// Whether the actor may see this payment: they may see its budget, and provider staff only
/// payments from accounts their organisation holds.
async fn may_see(tx: &Tx<'_>, actor: &Actor, payment: &Payment) -> AppResult<bool> {
    let row = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT can_see_budget($1, $2, $3)
                AND ($4::uuid IS NULL OR can_see_account($1, $2, $4))",
            )
            .await?,
            &[
                &actor.council_id,
                &actor.user_id,
                &payment.budget_id,
                &payment.account_id,
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// A payment the actor may see (404 otherwise).
pub async fn visible_payment(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payment> {
    let payment = load(tx, actor.council_id, id).await?;
    if !may_see(tx, actor, &payment).await? {
        return Err(AppError::NotFound);
    }
    Ok(payment)
}

/// The budget's decisions, newest first (posted, held, refused, approved, rejected, expired).
pub async fn decisions(
    tx: &Tx<'_>,
    actor: &Actor,
    budget_id: Uuid,
    limit: i64,
) -> AppResult<Vec<Payment>> {
    visible(tx, actor, budget_id).await?;
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.budget_id = $2
                 ORDER BY p.requested_at DESC, p.id LIMIT $3"
            ))
            .await?,
            &[&actor.council_id, &budget_id, &limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let payment = from_row(row)?;
        if may_see(tx, actor, &payment).await? {
            out.push(payment);
        }
    }
    Ok(out)
}

async fn pending_facts(
    tx: &Tx<'_>,
    council_id: Uuid,
    payment: &Payment,
) -> AppResult<PendingFacts> {
    Ok(PendingFacts {
        today: today(tx).await?,
        person: person_facts(tx, council_id, payment.budget_id).await?,
        requested_by: payment.requested_by,
        category: payment.category,
        amount: payment.amount.amount(),
        outstanding: payment.approvals_required.clone(),
        grants: agreements::grant_facts(tx, council_id, payment.budget_id).await?,
    })
}

/// Held payments the actor could approve now, oldest first.
pub async fn approvals_queue(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Payment>> {
    let rows = tx
        .query(
            &tx.prepare_cached(&format!(
                "{SELECT_PAYMENT} WHERE p.council_id = $1 AND p.status = 'pending_approval'
                   AND r.outcome IS NULL
                   AND can_see_budget($1, $2, p.budget_id)
                 ORDER BY p.requested_at, p.id LIMIT 500"
            ))
            .await?,
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    let approver = Approver {
        user_id: actor.user_id,
        is_care_manager: actor.role == Role::CareManager,
    };
    let mut out = Vec::new();
    for row in &rows {
        let payment = from_row(row)?;
        if !may_see(tx, actor, &payment).await? {
            continue;
        }
        let facts = pending_facts(tx, actor.council_id, &payment).await?;
        if !matches!(
            crate::rules::approve(&facts, &approver, &payment.approved_by),
            ApprovalOutcome::Refuse { .. }
        ) {
            out.push(payment);
        }
    }
    Ok(out)
}

/// The held payment, locked, still waiting (409 once resolved or expired).
async fn held_for_update(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payment> {
    tx.query_opt(
        &tx.prepare_cached("SELECT 1 FROM payments WHERE council_id = $1 AND id = $2 FOR UPDATE")
            .await?,
        &[&actor.council_id, &id],
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let payment = visible_payment(tx, actor, id).await?;
    if payment.status != "pending_approval" {
        return Err(AppError::conflict(format!(
            "This payment is {}, not waiting for approval.",
            payment.status.replace('_', " ")
        )));
    }
    if payment.hold_expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::conflict(
            "This payment waited too long for approval; its hold has expired.",
        ));
    }
    Ok(payment)
}

fn refusal_error(refusal: crate::rules::Refusal) -> AppError {
    match refusal.code {
        RuleCode::ApproverConflict => AppError::Denied {
            code: "approver_conflict",
            message: refusal.message,
        },
        _ => AppError::NoAuthority {
            details: vec![crate::error::Detail::rule(
                refusal.code.as_str(),
                refusal.message.clone(),
            )],
            message: refusal.message,
        },
    }
}

/// One approval of a held payment: posts it when it was the last one needed.
pub async fn approve(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payment> {
    let council_id = actor.council_id;
    let payment = held_for_update(tx, actor, id).await?;
    let facts = pending_facts(tx, council_id, &payment).await?;
    let approver = Approver {
        user_id: actor.user_id,
        is_care_manager: actor.role == Role::CareManager,
    };
    match crate::rules::approve(&facts, &approver, &payment.approved_by) {
        ApprovalOutcome::Refuse { refusal } => return Err(refusal_error(refusal)),
        ApprovalOutcome::NeedMore { remaining } => {
            tx.execute(&tx.prepare_cached("INSERT INTO payment_approvals (council_id, payment_id, approver_id) VALUES ($1, $2, $3)").await?,
                &[&council_id, &id, &actor.user_id],
            )
            .await?;
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE payments SET outstanding = $3 WHERE council_id = $1 AND id = $2",
                )
                .await?,
                &[
                    &council_id,
                    &id,
                    &serde_json::to_value(&remaining).map_err(internal)?,
                ],
            )
            .await?;
        }
        ApprovalOutcome::Post => {
            tx.execute(&tx.prepare_cached("INSERT INTO payment_approvals (council_id, payment_id, approver_id) VALUES ($1, $2, $3)").await?,
                &[&council_id, &id, &actor.user_id],
            )
            .await?;
            let hold = payment
                .hold_entry_id
                .ok_or_else(|| internal("held payment without a hold"))?;
            let mut approvers = payment.approved_by.clone();
            approvers.push(actor.user_id);
            let posted = ledger::holds::post_pending_with_in_tx(
                tx,
                council_id,
                hold,
                None,
                Some(json!({
                    "payment_id": id,
                    "requested_by": payment.requested_by,
                    "approved_by": approvers,
                    "decision": payment.decision,
                    "ruleset_version": payment.ruleset_version,
                    "policy_version": payment.policy_version,
                })),
            )
            .await?;
            tx.execute(&tx.prepare_cached("UPDATE payments SET status = 'posted', outstanding = '[]', posted_entry_id = $3,
                     resolved_at = now(), resolved_by = $4
                 WHERE council_id = $1 AND id = $2").await?,
                &[&council_id, &id, &posted.id, &actor.user_id],
            )
            .await?;
        }
    }
    load(tx, council_id, id).await
}

/// Rejects a held payment, releasing its hold. Anyone who could approve it may reject it, and
/// the person who asked for it may withdraw it.
pub async fn reject(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Payment> {
    let council_id = actor.council_id;
    let payment = held_for_update(tx, actor, id).await?;
    if actor.user_id != payment.requested_by {
        let facts = pending_facts(tx, council_id, &payment).await?;
        let approver = Approver {
            user_id: actor.user_id,
            is_care_manager: actor.role == Role::CareManager,
        };
        if let ApprovalOutcome::Refuse { refusal } = crate::rules::approve(&facts, &approver, &[]) {
            return Err(refusal_error(refusal));
        }
    }
    let hold = payment
        .hold_entry_id
        .ok_or_else(|| internal("held payment without a hold"))?;
    ledger::holds::void_pending_with_in_tx(
        tx,
        council_id,
        hold,
        json!({"payment_id": id, "rejected_by": actor.user_id}),
    )
    .await?;
    tx.execute(
        &tx.prepare_cached(
            "UPDATE payments SET status = 'rejected', outstanding = '[]', resolved_at = now(),
             resolved_by = $3
         WHERE council_id = $1 AND id = $2",
        )
        .await?,
        &[&council_id, &id, &actor.user_id],
    )
    .await?;
    load(tx, council_id, id).await
}
