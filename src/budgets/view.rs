//! Everything about one budget, as `GET /budgets/{id}` and the budget page show it: the budget and
//! its s.26 statement, the plan in force and any draft, the accounts with balances, urgent interim
//! support, reviews, contribution arrears and the council's family-payment decisions. The direct
//! payment's bank details are shown as [`disclosure`] allows the caller.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::accounts::{self, AccountView};
use super::arrears::{self, ContributionSummary};
use super::budget::{disclosure, load, Budget};
use super::family_approvals::{self, FamilyPaymentApproval};
use super::interim::{self, UrgentInterim};
use super::plans::{self, Plan};
use super::reviews::{self, Review};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    #[serde(flatten)]
    pub budget: Budget,
    pub person: PersonRef,
    /// The approved plan in force.
    pub plan: Option<Plan>,
    /// A draft waiting for a care manager's approval.
    pub draft_plan: Option<Plan>,
    /// One per deployment (and holder) once a plan is approved, and the contributions-owed account.
    pub accounts: Vec<AccountView>,
    pub urgent_interim: Option<UrgentInterim>,
    pub reviews: Vec<Review>,
    pub next_review_due: Option<NaiveDate>,
    pub review_overdue: bool,
    pub contributions: ContributionSummary,
    pub family_payment_approvals: Vec<FamilyPaymentApproval>,
    /// Posted payments above the evidence threshold still without evidence 30 days after
    /// posting (the budget's evidence flag; attaching evidence clears it).
    pub payments_missing_evidence: Vec<Uuid>,
}

pub async fn view(tx: &Tx<'_>, actor: &Actor, id: Uuid, today: NaiveDate) -> AppResult<BudgetView> {
    let council_id = actor.council_id;
    let mut budget = load::visible(tx, actor, id).await?;
    disclosure::disclose(actor, &mut budget);
    let person_name: String = tx
        .query_one(
            "SELECT name FROM people WHERE council_id = $1 AND id = $2",
            &[&council_id, &budget.person_id],
        )
        .await?
        .get(0);
    let reviews = reviews::list_for_budget(tx, council_id, id, today).await?;
    let open = reviews.iter().find(|r| r.completed_on.is_none());
    let payments_missing_evidence = crate::evidence::missing::of_budget(tx, actor, id, today)
        .await?
        .into_iter()
        .map(|m| m.payment_id)
        .collect();
    Ok(BudgetView {
        payments_missing_evidence,
        person: PersonRef {
            id: budget.person_id,
            name: person_name,
        },
        plan: plans::load::approved(tx, council_id, id).await?,
        draft_plan: plans::load::draft(tx, council_id, id).await?,
        accounts: accounts::of_budget(tx, council_id, id).await?,
        urgent_interim: interim::of_budget(tx, council_id, id).await?,
        next_review_due: open.map(|r| r.due_on),
        review_overdue: open.is_some_and(|r| r.overdue),
        contributions: arrears::summary(tx, council_id, id, today).await?,
        family_payment_approvals: family_approvals::of_budget(tx, council_id, id).await?,
        reviews,
        budget,
    })
}
