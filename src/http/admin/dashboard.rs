//! The dashboard: a worklist of what is waiting for the signed-in user, by role, each item linked
//! to the page where it is done, with an empty state in plain words. Only the council's own staff
//! see council-wide figures; budget holders, representatives and brokers see only what is theirs
//! (provider staff have their organisation's worklist, `provider::worklist`).

use axum::extract::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::Markup;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::session::AdminSession;
use super::AdminResult;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::AppResult;
use crate::http::AppState;
use crate::payments::spend;
use allot_views::pages::dashboard::{dashboard, CouncilFigures, Dashboard, WorkItem, WorkSection};
use allot_views::Gbp;

/// A hold that ends within this long is flagged on the worklist.
const HOLD_SOON: Duration = Duration::hours(48);

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y %H:%M").to_string()
}

fn gbp(amount: Decimal) -> String {
    Gbp(amount).text()
}

fn item(label: String, detail: String, href: String, urgent: bool) -> WorkItem {
    WorkItem {
        label,
        detail,
        href,
        urgent,
    }
}

/// The dashboard of the signed-in user.
pub async fn show(State(state): State<AppState>, session: AdminSession) -> AdminResult<Markup> {
    if session.actor.role == Role::ProviderStaff && session.actor.organisation_id.is_some() {
        return super::provider::worklist(&state, &session).await;
    }
    let shell = session.shell(&state, "/").await?;
    let actor = session.actor.clone();
    let (now, today) = (state.clock.now(), state.clock.today());
    let data = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { worklist(tx, &actor, now, today).await })
        })
        .await?;
    Ok(dashboard(&shell, &data))
}

async fn worklist(
    tx: &Tx<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<Dashboard> {
    let mut sections = Vec::new();
    let role = actor.role;
    if !matches!(
        role,
        Role::FinanceOfficer | Role::Auditor | Role::CouncilAdmin
    ) {
        sections.push(approvals(tx, actor, now).await?);
    }
    match role {
        Role::CouncilAdmin => {
            sections.push(setup(tx, actor).await?);
            sections.push(reviews_due(tx, actor, today, false).await?);
        }
        Role::CareManager => {
            sections.push(plans_submitted(tx, actor).await?);
            sections.push(reviews_due(tx, actor, today, true).await?);
            sections.push(reconsiderations(tx, actor).await?);
        }
        Role::FinanceOfficer => {
            sections.push(bank_details(tx, actor).await?);
            sections.extend(payment_runs(tx, actor).await?);
            sections.push(contributions(tx, actor).await?);
            sections.push(card_exceptions(tx, actor).await?);
            sections.push(reconsiderations(tx, actor).await?);
            sections.push(recoveries(tx, actor, today).await?);
        }
        Role::Auditor => {
            sections.push(samples(tx, actor).await?);
            sections.push(card_exceptions(tx, actor).await?);
        }
        Role::Broker => {
            sections.push(broker_plans(tx, actor).await?);
        }
        Role::BudgetHolder | Role::Representative | Role::ProviderStaff => {
            sections.push(own_waiting(tx, actor, now).await?);
            sections.push(own_notices(tx, actor).await?);
        }
    }
    let council_figures = if role.is_council_staff() {
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM people WHERE council_id = $1),
                        (SELECT count(*) FROM organisations WHERE council_id = $1),
                        (SELECT count(*) FROM users WHERE council_id = $1)",
                &[&actor.council_id],
            )
            .await?;
        Some(CouncilFigures {
            people: row.get(0),
            organisations: row.get(1),
            users: row.get(2),
        })
    } else {
        None
    };
    let waiting: usize = sections.iter().map(|s| s.items.len()).sum();
    let intro = match waiting {
        0 => "Nothing is waiting for you just now.".to_owned(),
        1 => "One thing is waiting for you.".to_owned(),
        n => format!("{n} things are waiting for you."),
    };
    Ok(Dashboard {
        intro,
        council_figures,
        sections,
    })
}

/// Held payments this user may approve, the hold's end flagged when near.
async fn approvals(tx: &Tx<'_>, actor: &Actor, now: DateTime<Utc>) -> AppResult<WorkSection> {
    let queue = spend::approvals_queue(tx, actor, now).await?;
    Ok(WorkSection {
        id: "approvals",
        heading: "Payments waiting for your approval",
        empty: "No payments are waiting for your approval.",
        items: queue
            .iter()
            .map(|p| {
                let soon = p.hold_expires_at.is_some_and(|at| at - now <= HOLD_SOON);
                item(
                    format!("{} to {}", gbp(p.amount.amount()), p.payee_name),
                    match p.hold_expires_at {
                        Some(at) if soon => format!("the hold ends soon, at {}", when(at)),
                        Some(at) => format!("held until {}", when(at)),
                        None => String::new(),
                    },
                    "/approvals".to_owned(),
                    soon,
                )
            })
            .collect(),
        more: None,
    })
}

/// The person's (or representative's, or provider's) own payments waiting for someone else.
async fn own_waiting(tx: &Tx<'_>, actor: &Actor, now: DateTime<Utc>) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT p.budget_id, p.amount, y.name, p.hold_expires_at
             FROM payments p JOIN payees y ON y.council_id = p.council_id AND y.id = p.payee_id
             WHERE p.council_id = $1 AND p.requested_by = $2 AND p.status = 'pending_approval'
               AND (p.hold_expires_at IS NULL OR p.hold_expires_at > $3)
               AND can_see_budget($1, $2, p.budget_id)
             ORDER BY p.hold_expires_at NULLS LAST, p.requested_at LIMIT 50",
            &[&actor.council_id, &actor.user_id, &now],
        )
        .await?;
    Ok(WorkSection {
        id: "your-payments",
        heading: "Your payments waiting for someone else's approval",
        empty: "None of your payments is waiting for approval.",
        items: rows
            .iter()
            .map(|r| {
                let budget: Uuid = r.get(0);
                let ends: Option<DateTime<Utc>> = r.get(3);
                item(
                    format!("{} to {}", gbp(r.get(1)), r.get::<_, String>(2)),
                    ends.map(|at| format!("waiting until {}", when(at)))
                        .unwrap_or_default(),
                    format!("/budgets/{budget}/decisions"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Surplus notices about the person's money that are still open.
async fn own_notices(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT n.id, b.reference, n.amount_due, n.deadline, n.status
             FROM surplus_notices n JOIN budgets b ON b.council_id = n.council_id AND b.id = n.budget_id
             WHERE n.council_id = $1 AND n.status IN ('issued', 'under_reconsideration')
               AND can_see_budget($1, $2, n.budget_id)
             ORDER BY n.deadline, n.id LIMIT 50",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "surplus-notices",
        heading: "Notices about money not spent",
        empty: "There are no notices about unspent money.",
        items: rows
            .iter()
            .map(|r| {
                let id: Uuid = r.get(0);
                let status: String = r.get(4);
                item(
                    format!(
                        "{} asked back from budget {}",
                        gbp(r.get(2)),
                        r.get::<_, String>(1)
                    ),
                    if status == "under_reconsideration" {
                        "your request for reconsideration is being looked at".to_owned()
                    } else {
                        format!("you may ask for reconsideration until {}", day(r.get(3)))
                    },
                    format!("/surplus-notices/{id}"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Reviews open and due (care managers complete them; administrators see them by budget).
async fn reviews_due(
    tx: &Tx<'_>,
    actor: &Actor,
    today: NaiveDate,
    complete: bool,
) -> AppResult<WorkSection> {
    let due = crate::budgets::reviews::due_now(tx, actor.council_id, today).await?;
    Ok(WorkSection {
        id: "reviews-due",
        heading: "Reviews overdue or due now",
        empty: "No reviews are due.",
        items: due
            .into_iter()
            .map(|r| {
                let why: Vec<String> = r
                    .triggers
                    .iter()
                    .map(super::reviews::trigger_words)
                    .collect();
                let when = if r.overdue {
                    format!("overdue since {}", day(r.due_on))
                } else {
                    "due today".to_owned()
                };
                item(
                    format!("{} ({})", r.person_name, r.budget_reference),
                    if why.is_empty() {
                        when
                    } else {
                        format!("{when}: {}", why.join("; "))
                    },
                    if complete {
                        format!("/budgets/{}/review", r.budget_id)
                    } else {
                        format!("/budgets/{}", r.budget_id)
                    },
                    r.overdue,
                )
            })
            .collect(),
        more: complete.then_some(("/reviews", "All reviews")),
    })
}

/// Plans a broker or care manager submitted, waiting for a care manager's decision.
async fn plans_submitted(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT b.id, b.reference, pe.name, s.submitted_at, u.name
             FROM support_plans s
             JOIN budgets b ON b.council_id = s.council_id AND b.id = s.budget_id
             JOIN people pe ON pe.council_id = b.council_id AND pe.id = b.person_id
             LEFT JOIN users u ON u.council_id = s.council_id AND u.id = s.submitted_by
             WHERE s.council_id = $1 AND s.status = 'draft' AND s.submitted_at IS NOT NULL
             ORDER BY s.submitted_at, s.id LIMIT 100",
            &[&actor.council_id],
        )
        .await?;
    Ok(WorkSection {
        id: "plans-submitted",
        heading: "Support plans waiting for your approval",
        empty: "No support plans are waiting for approval.",
        items: rows
            .iter()
            .map(|r| {
                let budget: Uuid = r.get(0);
                let at: DateTime<Utc> = r.get(3);
                let by: Option<String> = r.get(4);
                item(
                    format!("{} ({})", r.get::<_, String>(2), r.get::<_, String>(1)),
                    format!(
                        "submitted {}{}",
                        when(at),
                        by.map(|b| format!(" by {b}")).unwrap_or_default()
                    ),
                    format!("/budgets/{budget}/plan"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// A broker's drafts: returned with reasons, or not yet submitted.
async fn broker_plans(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT b.id, b.reference, pe.name, s.returned_at IS NOT NULL, s.return_reason
             FROM support_plans s
             JOIN budgets b ON b.council_id = s.council_id AND b.id = s.budget_id
             JOIN people pe ON pe.council_id = b.council_id AND pe.id = b.person_id
             WHERE s.council_id = $1 AND s.status = 'draft' AND s.submitted_at IS NULL
               AND can_see_budget($1, $2, b.id)
             ORDER BY s.returned_at DESC NULLS LAST, s.drafted_at LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "plans-to-submit",
        heading: "Draft plans to finish and submit",
        empty: "No draft plans are waiting for you.",
        items: rows
            .iter()
            .map(|r| {
                let budget: Uuid = r.get(0);
                let returned: bool = r.get(3);
                let reason: Option<String> = r.get(4);
                item(
                    format!("{} ({})", r.get::<_, String>(2), r.get::<_, String>(1)),
                    if returned {
                        format!(
                            "returned by the care manager: {}",
                            reason.unwrap_or_default()
                        )
                    } else {
                        "drafted, not yet submitted".to_owned()
                    },
                    format!("/budgets/{budget}/plan"),
                    returned,
                )
            })
            .collect(),
        more: None,
    })
}

/// Bank details changed by someone else, waiting for this finance officer to verify them.
async fn bank_details(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT c.changed_at, u.name,
                    CASE WHEN c.payee_id IS NOT NULL THEN 'payee'
                         WHEN c.organisation_id IS NOT NULL THEN 'organisation'
                         ELSE 'budget' END,
                    coalesce(y.name, o.name, b.reference)
             FROM bank_detail_changes c
             JOIN users u ON u.council_id = c.council_id AND u.id = c.changed_by
             LEFT JOIN payees y ON y.council_id = c.council_id AND y.id = c.payee_id
             LEFT JOIN organisations o ON o.council_id = c.council_id AND o.id = c.organisation_id
             LEFT JOIN budgets b ON b.council_id = c.council_id AND b.id = c.budget_id
             WHERE c.council_id = $1 AND c.status = 'unverified' AND c.changed_by <> $2
             ORDER BY c.changed_at, c.id LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "bank-details",
        heading: "Bank details to verify",
        empty: "No bank details are waiting for you to verify.",
        items: rows
            .iter()
            .map(|r| {
                let at: DateTime<Utc> = r.get(0);
                item(
                    format!(
                        "The {} {}",
                        r.get::<_, String>(2),
                        r.get::<_, Option<String>>(3).unwrap_or_default()
                    ),
                    format!("changed by {} on {}", r.get::<_, String>(1), when(at)),
                    "/bank-details".to_owned(),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Runs this officer drafted and has not submitted, and runs others submitted for approval.
async fn payment_runs(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<WorkSection>> {
    let rows = tx
        .query(
            "SELECT r.id, r.status, r.period_start, r.total_amount, u.name
             FROM payment_runs r JOIN users u ON u.council_id = r.council_id AND u.id = r.created_by
             WHERE r.council_id = $1
               AND ((r.status = 'draft' AND r.created_by = $2)
                    OR (r.status = 'submitted' AND r.created_by <> $2
                        AND r.submitted_by IS DISTINCT FROM $2))
             ORDER BY r.period_start, r.created_at LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    let mut submit = Vec::new();
    let mut approve = Vec::new();
    for r in &rows {
        let id: Uuid = r.get(0);
        let status: String = r.get(1);
        let label = format!(
            "The run from {} ({})",
            day(r.get(2)),
            gbp(r.get::<_, Decimal>(3))
        );
        let href = format!("/payment-runs/{id}");
        if status == "draft" {
            submit.push(item(label, "drafted by you".into(), href, false));
        } else {
            let by: String = r.get(4);
            approve.push(item(label, format!("drafted by {by}"), href, false));
        }
    }
    Ok(vec![
        WorkSection {
            id: "runs-to-approve",
            heading: "Payment runs waiting for your approval",
            empty: "No payment runs are waiting for your approval.",
            items: approve,
            more: Some(("/payment-runs", "All payment runs")),
        },
        WorkSection {
            id: "runs-to-submit",
            heading: "Your draft payment runs to check and submit",
            empty: "You have no draft payment runs.",
            items: submit,
            more: None,
        },
    ])
}

/// Contributions held for a finance officer other than the one who recorded them.
async fn contributions(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT c.budget_id, b.reference, c.amount, c.received_on, u.name
             FROM contributions c
             JOIN budgets b ON b.council_id = c.council_id AND b.id = c.budget_id
             JOIN users u ON u.council_id = c.council_id AND u.id = c.recorded_by
             WHERE c.council_id = $1 AND c.status = 'pending_approval' AND c.recorded_by <> $2
             ORDER BY c.recorded_at, c.id LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "contributions",
        heading: "Contributions waiting for your decision",
        empty: "No contributions are waiting for a decision.",
        items: rows
            .iter()
            .map(|r| {
                let budget: Uuid = r.get(0);
                item(
                    format!("{} into budget {}", gbp(r.get(2)), r.get::<_, String>(1)),
                    format!(
                        "received {}, recorded by {}",
                        day(r.get(3)),
                        r.get::<_, String>(4)
                    ),
                    format!("/budgets/{budget}"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Card spending that happened without allot's approval, not yet reviewed.
async fn card_exceptions(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT amount, coalesce(merchant_name, 'an unnamed merchant'), created_at
             FROM card_exceptions WHERE council_id = $1 AND reviewed_at IS NULL
             ORDER BY created_at, id LIMIT 100",
            &[&actor.council_id],
        )
        .await?;
    Ok(WorkSection {
        id: "card-exceptions",
        heading: "Card exceptions to review",
        empty: "No card spending is waiting for review.",
        items: rows
            .iter()
            .map(|r| {
                item(
                    format!("{} at {}", gbp(r.get(0)), r.get::<_, String>(1)),
                    format!("on {}", when(r.get(2))),
                    "/cards/exceptions".to_owned(),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Requests for reconsideration of a surplus notice someone else issued.
async fn reconsiderations(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT n.id, b.reference, n.amount_due
             FROM surplus_notices n JOIN budgets b ON b.council_id = n.council_id AND b.id = n.budget_id
             WHERE n.council_id = $1 AND n.status = 'under_reconsideration' AND n.issued_by <> $2
             ORDER BY n.issued_at, n.id LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "reconsiderations",
        heading: "Surplus notices to reconsider",
        empty: "No one has asked for a surplus notice to be reconsidered.",
        items: rows
            .iter()
            .map(|r| {
                let id: Uuid = r.get(0);
                item(
                    format!("Budget {}", r.get::<_, String>(1)),
                    format!("{} asked back", gbp(r.get(2))),
                    format!("/surplus-notices/{id}"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// Notices past their deadline whose money may now be recovered.
async fn recoveries(tx: &Tx<'_>, actor: &Actor, today: NaiveDate) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT n.id, b.reference, n.amount_due - n.recovered, n.deadline
             FROM surplus_notices n JOIN budgets b ON b.council_id = n.council_id AND b.id = n.budget_id
             WHERE n.council_id = $1 AND n.status = 'issued' AND n.deadline <= $2
             ORDER BY n.deadline, n.id LIMIT 100",
            &[&actor.council_id, &today],
        )
        .await?;
    Ok(WorkSection {
        id: "recoveries",
        heading: "Surplus to recover",
        empty: "No surplus notice has reached its deadline.",
        items: rows
            .iter()
            .map(|r| {
                let id: Uuid = r.get(0);
                item(
                    format!("{} from budget {}", gbp(r.get(2)), r.get::<_, String>(1)),
                    format!("notice ended {}", day(r.get(3))),
                    format!("/surplus-notices/{id}"),
                    false,
                )
            })
            .collect(),
        more: None,
    })
}

/// The auditor's samples with payments not yet given a finding.
async fn samples(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let rows = tx
        .query(
            "SELECT s.id, s.drawn_at, cardinality(s.items),
                    (SELECT count(DISTINCT f.payment_id) FROM audit_findings f
                     WHERE f.council_id = s.council_id AND f.sample_id = s.id)
             FROM audit_samples s
             WHERE s.council_id = $1 AND s.drawn_by = $2
             ORDER BY s.drawn_at DESC, s.id LIMIT 100",
            &[&actor.council_id, &actor.user_id],
        )
        .await?;
    Ok(WorkSection {
        id: "samples",
        heading: "Your samples with payments still to check",
        empty: "None of your samples has payments waiting for a finding. Draw a sample to check payments' evidence.",
        items: rows
            .iter()
            .filter_map(|r| {
                let id: Uuid = r.get(0);
                let (size, done): (i32, i64) = (r.get(2), r.get(3));
                let left = i64::from(size) - done;
                (left > 0).then(|| {
                    item(
                        format!("The sample drawn {}", when(r.get(1))),
                        format!("{left} of {size} payments without a finding"),
                        format!("/audit/samples/{id}"),
                        false,
                    )
                })
            })
            .collect(),
        more: Some(("/audit/chain", "Verify the ledger's hash chain")),
    })
}

/// The administrator's setting up: the council's banking, organisations, failing webhooks.
async fn setup(tx: &Tx<'_>, actor: &Actor) -> AppResult<WorkSection> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM council_banking WHERE council_id = $1),
                    EXISTS (SELECT 1 FROM organisations WHERE council_id = $1),
                    (SELECT count(*) FROM webhook_endpoints
                     WHERE council_id = $1 AND organisation_id IS NULL AND status = 'disabled')",
            &[&actor.council_id],
        )
        .await?;
    let (banking, organisations, disabled): (bool, bool, i64) =
        (row.get(0), row.get(1), row.get(2));
    let mut items = Vec::new();
    if !banking {
        items.push(item(
            "Set the council's bank account and Bacs service user number".into(),
            "no payment file can be made until it is set".into(),
            "/council/banking".into(),
            true,
        ));
    }
    if !organisations {
        items.push(item(
            "Add the organisations that work with the council".into(),
            "providers, brokers and trusts".into(),
            "/council/organisations".into(),
            false,
        ));
    }
    if disabled > 0 {
        items.push(item(
            "Webhook endpoints that stopped receiving".into(),
            format!("{disabled} disabled after failed deliveries"),
            "/webhooks".into(),
            true,
        ));
    }
    Ok(WorkSection {
        id: "setup",
        heading: "Setting up the council",
        empty: "The council is set up: banking, organisations and webhooks need nothing from you.",
        items,
        more: Some(("/council/users", "Add or look up users")),
    })
}
