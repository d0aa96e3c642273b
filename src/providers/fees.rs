//! The managed-account provider's fee: a monthly amount per client account, set by the
//! organisation's own staff and charged by the monthly upkeep through the payment path.
//!
//! **Who sets it.** Staff (`provider_staff`) of the managed-account provider itself, for their own
//! organisation (another organisation's id is 404; other roles 403). The fee is a payment out of
//! each client's managed account, so it is made — and judged by the spending rules and the
//! decision-making agreement — as the staff member who set it: their `pay` grant must cover
//! `account_management` on each client's budget, and the client's approved plan must have an
//! `account_management` line; the council sees and limits it there, as any other spending.
//!
//! **Charging.** Each round of the upkeep charges, for the current month (England's date), every
//! managed account the organisation holds that has no charge for the month yet: one payment of
//! the fee in force for the month (the newest set whose `from` month has begun) to the fee's
//! payee, category `account_management`, service date the month's first day, through
//! [`PaymentDesk::pay`] with an idempotency key derived from the account and the month. What
//! the rules made of it — posted, held for approval, or refused with its codes — is recorded once
//! per account and month, so running the upkeep again charges nothing twice and a refusal is
//! listed (`GET /api/v1/organisations/{id}/fee-charges`), never forced.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::commands::{Claim, PaymentDesk, Ran};
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult};
use crate::money::{Money, PositiveMoney};
use crate::payments::spend::{NewPayment, PaymentOutcome};
use crate::rules::{Category, Deployment};

/// The largest monthly fee accepted.
pub const MAX_MONTHLY_FEE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 2);

/// A fee as set (`PUT /api/v1/organisations/{id}/fee`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFee {
    /// Charged to each client account once a month.
    #[schema(value_type = String, example = "35.00")]
    pub monthly_amount: PositiveMoney,
    /// Who is paid; default: the organisation's only active payee.
    #[serde(default)]
    pub payee_id: Option<Uuid>,
    /// The first month charged is the month of this date.
    #[serde(with = "crate::dates")]
    pub from: NaiveDate,
}

/// A fee in force from a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Fee {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[schema(value_type = String)]
    pub monthly_amount: Money,
    pub payee_id: Uuid,
    /// The first day of the first month charged.
    pub from_month: NaiveDate,
    /// The staff member who set it, and in whose name it is paid.
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// What one month's fee of one client account came to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeeCharge {
    pub account_id: Uuid,
    pub budget_id: Uuid,
    /// The first day of the month.
    pub month: NaiveDate,
    #[schema(value_type = String)]
    pub amount: Money,
    /// `posted`, `held` (waiting for approval) or `refused`.
    pub outcome: String,
    /// The payment it is recorded under (a refusal too, when the rules decided it).
    pub payment_id: Option<Uuid>,
    /// The rule codes of a refusal.
    pub codes: Vec<String>,
    pub message: Option<String>,
    pub charged_at: DateTime<Utc>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// The first day of `date`'s month.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The organisation's own staff only: 403 for other roles, 404 for another organisation.
fn require_own_staff(actor: &Actor, organisation_id: Uuid) -> AppResult<()> {
    actor.require(&[Role::ProviderStaff])?;
    if actor.organisation_id == Some(organisation_id) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Sets the organisation's monthly fee from `new.from`'s month (see the module doc).
pub async fn set(
    tx: &Tx<'_>,
    actor: &Actor,
    organisation_id: Uuid,
    new: &NewFee,
    now: DateTime<Utc>,
) -> AppResult<Fee> {
    require_own_staff(actor, organisation_id)?;
    let kind: String = tx
        .query_opt(
            &tx.prepare_cached("SELECT kind FROM organisations WHERE council_id = $1 AND id = $2")
                .await?,
            &[&actor.council_id, &organisation_id],
        )
        .await?
        .ok_or(AppError::NotFound)?
        .try_get(0)?;
    if kind != "managed_account_provider" {
        return Err(AppError::invalid(
            "organisation",
            "only a managed-account provider charges a monthly fee here",
        ));
    }
    let amount = new.monthly_amount.amount();
    if amount > MAX_MONTHLY_FEE {
        return Err(AppError::invalid_amount(
            "monthly_amount",
            format!("at most {MAX_MONTHLY_FEE:.2} a month"),
        ));
    }
    if !(2000..=2100).contains(&new.from.year()) {
        return Err(AppError::invalid("from", "a date between 2000 and 2100"));
    }
    let payees = tx
        .query(
            &tx.prepare_cached(
                "SELECT id FROM payees
                 WHERE council_id = $1 AND organisation_id = $2 AND active
                   AND ($3::uuid IS NULL OR id = $3)
                 ORDER BY id LIMIT 2",
            )
            .await?,
            &[&actor.council_id, &organisation_id, &new.payee_id],
        )
        .await?;
    let payee_id: Uuid = match (&payees[..], new.payee_id) {
        ([one], _) => one.try_get(0)?,
        ([], Some(_)) => {
            return Err(AppError::invalid(
                "payee_id",
                "not an active payee of this organisation",
            ))
        }
        (_, _) => {
            return Err(AppError::invalid(
                "payee_id",
                "required: the organisation has no single active payee to pay the fee to",
            ))
        }
    };
    let fee = Fee {
        id: Uuid::new_v4(),
        organisation_id,
        monthly_amount: new.monthly_amount.money(),
        payee_id,
        from_month: month_of(new.from),
        set_by: actor.user_id,
        set_at: now,
    };
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO organisation_fees (council_id, id, organisation_id, monthly_amount,
                 payee_id, from_month, set_by, set_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?,
        &[
            &actor.council_id,
            &fee.id,
            &organisation_id,
            &amount,
            &payee_id,
            &fee.from_month,
            &fee.set_by,
            &now,
        ],
    )
    .await?;
    Ok(fee)
}

/// The fee charges of the organisation's client accounts, newest month first (the
/// organisation's staff; finance officers and auditors; others 403).
pub async fn charges(
    tx: &Tx<'_>,
    actor: &Actor,
    organisation_id: Uuid,
    month: Option<NaiveDate>,
) -> AppResult<Vec<FeeCharge>> {
    match actor.role {
        Role::FinanceOfficer | Role::Auditor => {}
        _ => require_own_staff(actor, organisation_id)?,
    }
    let known = tx
        .query_opt(
            &tx.prepare_cached("SELECT 1 FROM organisations WHERE council_id = $1 AND id = $2")
                .await?,
            &[&actor.council_id, &organisation_id],
        )
        .await?;
    if known.is_none() {
        return Err(AppError::NotFound);
    }
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT account_id, budget_id, month, amount, outcome, payment_id, codes, message,
                        charged_at
                 FROM organisation_fee_charges
                 WHERE council_id = $1 AND organisation_id = $2
                   AND ($3::date IS NULL OR month = $3)
                 ORDER BY month DESC, account_id LIMIT 5000",
            )
            .await?,
            &[&actor.council_id, &organisation_id, &month.map(month_of)],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(FeeCharge {
                account_id: row.try_get("account_id")?,
                budget_id: row.try_get("budget_id")?,
                month: row.try_get("month")?,
                amount: Money::new(row.try_get("amount")?).map_err(internal)?,
                outcome: row.try_get("outcome")?,
                payment_id: row.try_get("payment_id")?,
                codes: row.try_get("codes")?,
                message: row.try_get("message")?,
                charged_at: row.try_get("charged_at")?,
            })
        })
        .collect()
}

/// One client account's fee due this month.
struct Due {
    fee_id: Uuid,
    organisation_id: Uuid,
    amount: Decimal,
    payee_id: Uuid,
    account_id: Uuid,
    budget_id: Uuid,
    actor: Actor,
}

const DUE: &str = "
WITH fee AS (
    SELECT DISTINCT ON (f.organisation_id) f.id, f.organisation_id, f.monthly_amount, f.payee_id,
           f.set_by
    FROM organisation_fees f
    WHERE f.council_id = $1 AND f.from_month <= $2
    ORDER BY f.organisation_id, f.set_at DESC, f.id
)
SELECT fee.id AS fee_id, fee.organisation_id, fee.monthly_amount, fee.payee_id,
       a.account_id, a.budget_id,
       u.id AS user_id, u.role, u.email, u.name, u.organisation_id AS user_organisation_id,
       u.person_id
FROM fee
JOIN budget_accounts a ON a.council_id = $1 AND a.holder_organisation_id = fee.organisation_id
                      AND a.purpose = 'deployment' AND a.deployment = 'managed_account'
JOIN users u ON u.council_id = $1 AND u.id = fee.set_by
WHERE NOT EXISTS (SELECT 1 FROM organisation_fee_charges c
                  WHERE c.council_id = $1 AND c.account_id = a.account_id AND c.month = $2)
ORDER BY a.account_id
LIMIT 10000";

async fn due(tx: &Tx<'_>, council_id: Uuid, month: NaiveDate) -> AppResult<Vec<Due>> {
    let rows = tx
        .query(&tx.prepare_cached(DUE).await?, &[&council_id, &month])
        .await?;
    rows.iter()
        .map(|row| {
            let role: &str = row.try_get("role")?;
            Ok(Due {
                fee_id: row.try_get("fee_id")?,
                organisation_id: row.try_get("organisation_id")?,
                amount: row.try_get("monthly_amount")?,
                payee_id: row.try_get("payee_id")?,
                account_id: row.try_get("account_id")?,
                budget_id: row.try_get("budget_id")?,
                actor: Actor {
                    user_id: row.try_get("user_id")?,
                    council_id,
                    role: Role::parse(role)
                        .ok_or_else(|| internal(format!("stored role {role}")))?,
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    organisation_id: row.try_get("user_organisation_id")?,
                    person_id: row.try_get("person_id")?,
                },
            })
        })
        .collect()
}

/// Charges this month's fee of every client account of the council not yet charged (see the
/// module doc); returns how many charges were recorded.
pub async fn charge_due(
    pool: &DbPool,
    desk: &PaymentDesk,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let month = month_of(crate::clock::london_date(now));
    let all_due = crate::db::in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move { due(tx, council_id, month).await })
    })
    .await?;
    let mut recorded = 0;
    for due in all_due {
        let amount = PositiveMoney::parse(&format!("{:.2}", due.amount)).map_err(internal)?;
        let new = NewPayment {
            budget_id: due.budget_id,
            deployment: Deployment::ManagedAccount,
            payee_id: due.payee_id,
            category: Category::AccountManagement,
            amount,
            service_date: month,
            memo: Some(format!("Account management fee, {}", month.format("%B %Y"))),
            stay_from: None,
            stay_to: None,
            holder_organisation_id: Some(due.organisation_id),
            merchant_category: None,
            is_cash: false,
            evidence_sha256: None,
            invoice_id: None,
            card: None,
        };
        let key = format!("fee-{}-{}", due.account_id, month.format("%Y-%m"));
        let claim = Claim::new(
            &key,
            "monthly upkeep: provider fee",
            due.account_id,
            &format!("/api/v1/organisations/{}/fee", due.organisation_id),
            &new,
        )?;
        let (outcome, payment_id, codes, message) =
            match desk.pay(&due.actor, new, Some(claim)).await {
                Ok(Ran { value, .. }) => match value {
                    PaymentOutcome::Posted(p) => ("posted", Some(p.id), vec![], None),
                    PaymentOutcome::Held(p) | PaymentOutcome::Authorized(p) => {
                        ("held", Some(p.id), vec![], None)
                    }
                    PaymentOutcome::Refused {
                        payment_id,
                        refusals,
                    } => (
                        "refused",
                        Some(payment_id),
                        refusals
                            .iter()
                            .map(|r| r.code.as_str().to_owned())
                            .collect(),
                        Some(
                            refusals
                                .iter()
                                .map(|r| r.message.clone())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                    ),
                },
                // The database failed: nothing is recorded, the next round tries again.
                Err(e @ (AppError::Db(_) | AppError::Internal(_))) => {
                    tracing::warn!(%council_id, account_id = %due.account_id, error = %e,
                        "charging the provider's fee failed; trying again next round");
                    continue;
                }
                Err(e) => (
                    "refused",
                    None,
                    vec![e.code().to_owned()],
                    Some(e.to_string()),
                ),
            };
        let codes: Vec<String> = codes;
        let message: Option<String> = message.map(|m| m.chars().take(2000).collect());
        let (fee_id, organisation_id, account_id, budget_id, amount) = (
            due.fee_id,
            due.organisation_id,
            due.account_id,
            due.budget_id,
            due.amount,
        );
        let inserted = crate::commands::write(pool, council_id, move |tx| {
            let (codes, message) = (codes.clone(), message.clone());
            Box::pin(async move {
                Ok(tx
                    .execute(
                        &tx.prepare_cached(
                            "INSERT INTO organisation_fee_charges (council_id, account_id, month,
                                 fee_id, organisation_id, budget_id, amount, outcome, payment_id,
                                 codes, message, charged_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                             ON CONFLICT DO NOTHING",
                        )
                        .await?,
                        &[
                            &council_id,
                            &account_id,
                            &month,
                            &fee_id,
                            &organisation_id,
                            &budget_id,
                            &amount,
                            &outcome,
                            &payment_id,
                            &codes,
                            &message,
                            &now,
                        ],
                    )
                    .await?)
            })
        })
        .await?;
        recorded += usize::try_from(inserted).map_err(internal)?;
    }
    Ok(recorded)
}

/// Councils with a fee set (across councils, through the directory's function).
async fn fee_councils(pool: &DbPool) -> AppResult<Vec<Uuid>> {
    let mut client = pool.get().await.map_err(internal)?;
    let tx = crate::db::anonymous_tx(&mut client)
        .await
        .map_err(internal)?;
    let rows = tx.query("SELECT fee_councils()", &[]).await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One round of the monthly upkeep for every council with a fee set; one council's failure is
/// logged and never stops the others'. Returns the charges recorded.
pub async fn run_once(pool: &DbPool, desk: &PaymentDesk, now: DateTime<Utc>) -> AppResult<usize> {
    let mut recorded = 0;
    for council_id in fee_councils(pool).await? {
        match charge_due(pool, desk, council_id, now).await {
            Ok(n) => recorded += n,
            Err(e) => tracing::warn!(%council_id, error = %e, "charging provider fees failed"),
        }
    }
    Ok(recorded)
}

/// Runs [`run_once`] every `every` until the task is aborted.
pub fn spawn(
    pool: DbPool,
    desk: PaymentDesk,
    clock: crate::clock::Clock,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let round = tokio::spawn({
                let (pool, desk, now) = (pool.clone(), desk.clone(), clock.now());
                async move { run_once(&pool, &desk, now).await }
            });
            match round.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "fee upkeep failed; trying again"),
                Err(e) => tracing::error!(error = %e, "fee upkeep panicked; trying again"),
            }
        }
    })
}
