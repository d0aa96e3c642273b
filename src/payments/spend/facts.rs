//! The facts a batch of payment requests is decided on, loaded set-based: one query resolves
//! every request (budget visibility, deployment accounts, payee), and after the accounts are
//! locked one query loads every budget's plan, spending, grants and the person's care-home stays,
//! beside the council's policy. Nothing here decides anything.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tokio_postgres::Row;
use uuid::Uuid;

use super::input::NewPayment;
use crate::auth::{Actor, Role};
use crate::budgets::policy;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::rules::{
    Category, CouncilPolicy, Deployment, GrantFacts, PayeeFacts, PersonFacts, PlanFacts,
    PlanLineFacts, Relationship, StayFacts,
};

/// One request, resolved against the records: what it would pay from and to.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub budget_id: Uuid,
    pub person_id: Uuid,
    pub person: PersonFacts,
    /// The deployment account the money would leave (none: the budget holds no such money).
    pub account_id: Option<Uuid>,
    /// That account's "paid out" counterpart, once opened.
    pub paid_out_id: Option<Uuid>,
    pub payee: PayeeFacts,
    pub payee_name: String,
}

const RESOLVE: &str = "
SELECT j.n, b.id AS budget_id, b.person_id, p.has_capacity, p.excluded_from_direct_payments,
       b.id IS NOT NULL AND can_see_budget($1, j.actor, j.budget) AS visible,
       ARRAY(SELECT a.account_id FROM budget_accounts a
             WHERE a.council_id = $1 AND a.budget_id = j.budget AND a.purpose = 'deployment'
               AND a.deployment = j.deployment
             ORDER BY a.created_at, a.account_id) AS account_ids,
       ARRAY(SELECT a.holder_organisation_id FROM budget_accounts a
             WHERE a.council_id = $1 AND a.budget_id = j.budget AND a.purpose = 'deployment'
               AND a.deployment = j.deployment
             ORDER BY a.created_at, a.account_id) AS holders,
       ARRAY(SELECT po.paid_out_id FROM budget_accounts a
             LEFT JOIN paid_out_accounts po
                    ON po.council_id = a.council_id AND po.account_id = a.account_id
             WHERE a.council_id = $1 AND a.budget_id = j.budget AND a.purpose = 'deployment'
               AND a.deployment = j.deployment
             ORDER BY a.created_at, a.account_id) AS paid_outs,
       y.id AS payee_id, y.name AS payee_name, y.kind AS payee_kind,
       y.person_id AS payee_person_id, y.organisation_id AS payee_organisation_id, y.relationship, y.lives_with_person, y.active,
       y.bank_verified,
       EXISTS (SELECT 1 FROM family_payment_approvals f
               WHERE f.council_id = $1 AND f.budget_id = j.budget AND f.payee_id = j.payee)
           AS family_payment_necessary
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[]) WITH ORDINALITY
     AS j(actor, budget, deployment, payee, n)
LEFT JOIN budgets b ON b.council_id = $1 AND b.id = j.budget
LEFT JOIN people p ON p.council_id = $1 AND p.id = b.person_id
LEFT JOIN payees y ON y.council_id = $1 AND y.id = j.payee
ORDER BY j.n";

/// Resolves every request in one query: one answer per request, in order (404 for a budget the
/// actor may not see or an account their organisation does not hold; 400 for a payee that is
/// not there or is someone else's).
pub async fn resolve(
    tx: &Tx<'_>,
    council_id: Uuid,
    requests: &[(&Actor, &NewPayment)],
) -> AppResult<Vec<AppResult<Resolved>>> {
    let actors: Vec<Uuid> = requests.iter().map(|(a, _)| a.user_id).collect();
    let budgets: Vec<Uuid> = requests.iter().map(|(_, n)| n.budget_id).collect();
    let deployments: Vec<&str> = requests
        .iter()
        .map(|(_, n)| n.deployment.as_str())
        .collect();
    let payees: Vec<Uuid> = requests.iter().map(|(_, n)| n.payee_id).collect();
    let rows = tx
        .query(
            &tx.prepare_cached(RESOLVE).await?,
            &[&council_id, &actors, &budgets, &deployments, &payees],
        )
        .await?;
    if rows.len() != requests.len() {
        return Err(AppError::Internal("a request was not resolved".into()));
    }
    Ok(rows
        .iter()
        .zip(requests)
        .map(|(row, (actor, new))| resolve_one(row, actor, new))
        .collect())
}

fn resolve_one(row: &Row, actor: &Actor, new: &NewPayment) -> AppResult<Resolved> {
    if !row.try_get::<_, bool>("visible")? {
        return Err(AppError::NotFound);
    }
    let ids: Vec<Uuid> = row.try_get("account_ids")?;
    let holders: Vec<Option<Uuid>> = row.try_get("holders")?;
    let paid_outs: Vec<Option<Uuid>> = row.try_get("paid_outs")?;
    let mut accounts: Vec<(Uuid, Option<Uuid>, Option<Uuid>)> = ids
        .into_iter()
        .zip(holders)
        .zip(paid_outs)
        .map(|((id, holder), paid_out)| (id, holder, paid_out))
        .collect();
    if actor.role == Role::ProviderStaff {
        accounts.retain(|(_, org, _)| org.is_some() && *org == actor.organisation_id);
        if accounts.is_empty() {
            return Err(AppError::NotFound);
        }
    }
    if let Some(holder) = new.holder_organisation_id {
        accounts.retain(|(_, org, _)| *org == Some(holder));
        if accounts.is_empty() {
            return Err(AppError::invalid(
                "holder_organisation_id",
                "no money of this deployment is held by that organisation",
            ));
        }
    }
    let (account_id, paid_out_id) = match accounts.as_slice() {
        [] => (None, None),
        [(id, _, paid_out)] => (Some(*id), *paid_out),
        _ => {
            return Err(AppError::invalid(
                "holder_organisation_id",
                "several organisations hold money of this deployment: say which",
            ))
        }
    };
    let person_id: Uuid = row.try_get("person_id")?;
    let Some(payee_id) = row.try_get::<_, Option<Uuid>>("payee_id")? else {
        return Err(AppError::invalid("payee_id", "no such payee"));
    };
    let payee_person: Option<Uuid> = row.try_get("payee_person_id")?;
    if payee_person.is_some_and(|p| p != person_id) {
        return Err(AppError::invalid(
            "payee_id",
            "this payee is recorded for someone else",
        ));
    }
    let stored = |what: &str| AppError::Internal(format!("stored payee has a bad {what}"));
    let kind: &str = row.try_get("payee_kind")?;
    let relationship: Option<&str> = row.try_get("relationship")?;
    Ok(Resolved {
        budget_id: new.budget_id,
        person_id,
        person: PersonFacts {
            has_capacity: row.try_get("has_capacity")?,
            excluded_from_direct_payments: row.try_get("excluded_from_direct_payments")?,
        },
        account_id,
        paid_out_id,
        payee: PayeeFacts {
            id: payee_id,
            kind: kind.parse().map_err(|_| stored("kind"))?,
            active: row.try_get("active")?,
            bank_verified: row.try_get("bank_verified")?,
            relationship: match relationship {
                None => Relationship::NoRelationship,
                Some(r) => r.parse().map_err(|_| stored("relationship"))?,
            },
            lives_with_person: row.try_get("lives_with_person")?,
            family_payment_necessary: row.try_get("family_payment_necessary")?,
            organisation_id: row.try_get("payee_organisation_id")?,
        },
        payee_name: row.try_get("payee_name")?,
    })
}

/// What a budget's decisions rest on besides the request and its account.
#[derive(Debug, Clone)]
pub struct BudgetFacts {
    pub person_id: Uuid,
    pub person: PersonFacts,
    pub plan: Option<PlanFacts>,
    /// Grants of the agreement not ended (the rules judge dates and capacity fit).
    pub grants: Vec<GrantFacts>,
    /// Care-home stays already paid for the person from money the DP Regulations govern (any of
    /// their budgets; reversed, rejected and expired payments do not count).
    pub stays: Vec<StayFacts>,
}

/// What the whole council's decisions rest on.
#[derive(Debug, Clone)]
pub struct CouncilFacts {
    pub policy: CouncilPolicy,
    pub care_manager_available: bool,
}

// A payment counts toward spending and stays while it is posted or held, and not once its hold
// expired or its posting was reversed. Spending this plan year is read from `budget_spending`,
// the database's running totals by day under the same rule (sql/V17); stays are read here.
const COUNTS: &str = "pm.status IN ('posted', 'pending_approval')
       AND NOT EXISTS (SELECT 1 FROM ledger_hold_resolutions r
                       WHERE r.council_id = pm.council_id AND r.hold_id = pm.hold_entry_id
                         AND r.outcome = 'expired')
       AND NOT EXISTS (SELECT 1 FROM ledger_entries rev
                       WHERE rev.council_id = pm.council_id AND rev.reverses = pm.posted_entry_id)";

fn budgets_sql() -> String {
    format!(
        "
SELECT b.id AS budget_id, b.person_id, p.has_capacity, p.excluded_from_direct_payments,
       sp.id AS plan_id, sp.cash_allowed,
       (SELECT min(r.due_on) FROM reviews r
        WHERE r.council_id = $1 AND r.budget_id = b.id AND r.completed_on IS NULL) AS review_due,
       COALESCE((SELECT jsonb_agg(jsonb_build_array(l.category, l.deployment, l.weekly_amount::text)
                                  ORDER BY l.line_no)
                 FROM support_plan_lines l WHERE l.council_id = $1 AND l.plan_id = sp.id),
                '[]') AS lines,
       COALESCE((SELECT jsonb_agg(jsonb_build_array(s.category, s.deployment, s.total::text))
                 FROM (SELECT bs.category, bs.deployment, sum(bs.total) AS total
                       FROM budget_spending bs
                       WHERE bs.council_id = $1 AND bs.budget_id = b.id
                         AND bs.day >= y.year_start::date
                       GROUP BY bs.category, bs.deployment) s),
                '[]') AS spent,
       COALESCE((SELECT jsonb_agg(jsonb_build_array(pm.stay_from, pm.stay_to))
                 FROM budgets ob
                 JOIN payments pm ON pm.council_id = ob.council_id AND pm.budget_id = ob.id
                 WHERE ob.council_id = $1 AND ob.person_id = b.person_id
                   AND pm.deployment IN ('direct_payment', 'managed_account')
                   AND pm.stay_from IS NOT NULL AND {COUNTS}),
                '[]') AS stays,
       COALESCE((SELECT jsonb_agg(to_jsonb(g) || jsonb_build_object(
                                      'max_per_payment', g.max_per_payment::text,
                                      'cosign_above', g.cosign_above::text)
                                  ORDER BY g.recorded_at, g.id)
                 FROM agreement_grants g
                 WHERE g.council_id = $1 AND g.budget_id = b.id AND g.ended_at IS NULL),
                '[]') AS grants,
       EXISTS (SELECT 1 FROM users u WHERE u.council_id = $1 AND u.role = 'care_manager')
           AS care_manager_available
FROM budgets b
JOIN people p ON p.council_id = b.council_id AND p.id = b.person_id
LEFT JOIN support_plans sp
       ON sp.council_id = b.council_id AND sp.budget_id = b.id AND sp.status = 'approved'
CROSS JOIN LATERAL (
    -- The plan year containing today: years counted from the day the plan was approved.
    SELECT d.approved_on + make_interval(
               years => greatest(0, date_part('year', age($2::date, d.approved_on))::int))
           AS year_start
    FROM (SELECT coalesce((sp.approved_at AT TIME ZONE 'UTC')::date, $2::date) AS approved_on) d
) y
WHERE b.council_id = $1 AND b.id = ANY($3)"
    )
}

/// Every budget's facts in one query, and the council's policy beside it.
pub async fn budgets(
    tx: &Tx<'_>,
    council_id: Uuid,
    budget_ids: &[Uuid],
    today: NaiveDate,
) -> AppResult<(HashMap<Uuid, BudgetFacts>, CouncilFacts)> {
    let mut ids = budget_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let rows = tx
        .query(
            &tx.prepare_cached(&budgets_sql()).await?,
            &[&council_id, &today, &ids],
        )
        .await?;
    let policy = policy::current(tx, council_id).await?;
    let mut care_manager_available = false;
    let mut out = HashMap::with_capacity(rows.len());
    for row in &rows {
        care_manager_available = row.try_get("care_manager_available")?;
        out.insert(row.try_get("budget_id")?, budget_from_row(row)?);
    }
    Ok((
        out,
        CouncilFacts {
            policy,
            care_manager_available,
        },
    ))
}

fn stored(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("stored {what} does not read: {e}"))
}

fn budget_from_row(row: &Row) -> AppResult<BudgetFacts> {
    let plan_id: Option<Uuid> = row.try_get("plan_id")?;
    let plan = match plan_id {
        None => None,
        Some(_) => {
            let lines: Vec<(Category, Deployment, Decimal)> =
                serde_json::from_value(row.try_get("lines")?).map_err(|e| stored("plan", e))?;
            let spent: Vec<(Category, Deployment, Decimal)> =
                serde_json::from_value(row.try_get("spent")?).map_err(|e| stored("spending", e))?;
            let spent_on = |category: Category, deployment: Deployment| -> Decimal {
                spent
                    .iter()
                    .filter(|(c, d, _)| *c == category && *d == deployment)
                    .map(|(_, _, total)| *total)
                    .sum()
            };
            let mut plan_lines: Vec<PlanLineFacts> = Vec::new();
            for (category, deployment, weekly) in lines {
                let annual = crate::budgets::plans::annualise(weekly);
                match plan_lines
                    .iter_mut()
                    .find(|l| l.category == category && l.deployment == deployment)
                {
                    Some(existing) => existing.annual_allocation += annual,
                    None => plan_lines.push(PlanLineFacts {
                        category,
                        deployment,
                        annual_allocation: annual,
                        spent_this_plan_year: spent_on(category, deployment),
                    }),
                }
            }
            Some(PlanFacts {
                approved: true,
                cash_allowed: row.try_get("cash_allowed")?,
                review_due: row.try_get("review_due")?,
                lines: plan_lines,
            })
        }
    };
    let stays: Vec<(NaiveDate, NaiveDate)> =
        serde_json::from_value(row.try_get("stays")?).map_err(|e| stored("stays", e))?;
    Ok(BudgetFacts {
        person_id: row.try_get("person_id")?,
        person: PersonFacts {
            has_capacity: row.try_get("has_capacity")?,
            excluded_from_direct_payments: row.try_get("excluded_from_direct_payments")?,
        },
        plan,
        grants: serde_json::from_value(row.try_get("grants")?).map_err(|e| stored("grants", e))?,
        stays: stays
            .into_iter()
            .map(|(from, to)| StayFacts { from, to })
            .collect(),
    })
}

/// An invoice being paid, as it stands under the batch's locks (its payments leave the account
/// the batch has locked, so no other transaction pays it meanwhile).
#[derive(Debug, Clone)]
pub struct InvoiceFacts {
    pub budget_id: Uuid,
    pub deployment: Deployment,
    /// `received`, `disputed` or `rejected`.
    pub status: String,
    pub total: Decimal,
    /// Posted and held payments of it (reversed, rejected and expired ones do not count).
    pub committed: Decimal,
}

/// The invoices a batch pays, in one query.
pub async fn invoices(
    tx: &Tx<'_>,
    council_id: Uuid,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, InvoiceFacts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT i.id, i.budget_id, i.deployment, i.status, i.total,
                coalesce((SELECT sum(pm.amount) FROM payments pm
                          WHERE pm.council_id = i.council_id AND pm.invoice_id = i.id
                            AND {COUNTS}), 0) AS committed
         FROM invoices i WHERE i.council_id = $1 AND i.id = ANY($2)"
    );
    let rows = tx
        .query(&tx.prepare_cached(&sql).await?, &[&council_id, &ids])
        .await?;
    rows.iter()
        .map(|row| {
            let deployment: &str = row.try_get("deployment")?;
            Ok((
                row.try_get("id")?,
                InvoiceFacts {
                    budget_id: row.try_get("budget_id")?,
                    deployment: deployment
                        .parse()
                        .map_err(|e| stored("invoice deployment", e))?,
                    status: row.try_get("status")?,
                    total: row.try_get("total")?,
                    committed: row.try_get("committed")?,
                },
            ))
        })
        .collect()
}

/// Cash each card has withdrawn today (approved or captured authorisations and increments,
/// by the London day they were made), read after the cards' accounts are locked.
pub async fn card_cash_today(
    tx: &Tx<'_>,
    council_id: Uuid,
    cards: &[Uuid],
    today: NaiveDate,
) -> AppResult<HashMap<Uuid, Decimal>> {
    if cards.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT ca.card_id,
                        sum(ca.amount) + coalesce(sum((
                            SELECT sum(i.amount) FROM card_authorization_increments i
                            WHERE i.council_id = ca.council_id
                              AND i.processor_id = ca.processor_id
                              AND i.authorization_ref = ca.authorization_ref
                              AND i.status IN ('approved', 'captured')
                              AND (i.created_at AT TIME ZONE 'Europe/London')::date = $3)), 0)
                 FROM card_authorizations ca
                 WHERE ca.council_id = $1 AND ca.card_id = ANY($2) AND ca.is_cash
                   AND ca.status IN ('approved', 'captured')
                   AND (ca.created_at AT TIME ZONE 'Europe/London')::date = $3
                 GROUP BY ca.card_id",
            )
            .await?,
            &[&council_id, &cards, &today],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
