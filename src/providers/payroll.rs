//! Payroll runs: the payroll bureau's payslips for personal assistants, paid through the payment
//! path. The whole run is checked first — each payslip adds up (gross − tax − employee NI −
//! employee pension = net), the caller holds the money of every budget, each payee is a personal
//! assistant, and where timesheets of the period exist they are approved and cover the gross —
//! and refused whole (nothing written) if any payslip fails. Then each payslip is paid through
//! the rules: net pay to the PA (`personal_assistant`), tax and both NI to HMRC and both pensions
//! to the pension scheme (`employment_costs`). A payslip whose net pay the rules refuse is
//! reported with their codes and nothing else of it is paid; the rest go through. Every payment
//! carries a key derived from the run's, so the run sent again pays nothing twice.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::commands::claims::fingerprint;
use crate::commands::{Claim, PaymentDesk, Ran};
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult, Detail};
use crate::money::{Money, PositiveMoney};
use crate::payments::spend::{NewPayment, PaymentOutcome};
use crate::rules::{Category, Deployment};

/// One payslip from the payroll bureau.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payslip {
    pub budget_id: Uuid,
    /// Default: `managed_account` for provider staff, `direct_payment` for the person.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deployment: Option<Deployment>,
    /// The personal assistant.
    pub payee_id: Uuid,
    #[schema(value_type = String, example = "250.00")]
    pub gross: Money,
    #[schema(value_type = String, example = "10.00")]
    pub tax: Money,
    #[schema(value_type = String, example = "5.00")]
    pub employee_ni: Money,
    #[schema(value_type = String, example = "7.00")]
    pub employer_ni: Money,
    #[schema(value_type = String, example = "5.00")]
    pub employee_pension: Money,
    #[schema(value_type = String, example = "3.00")]
    pub employer_pension: Money,
    #[schema(value_type = String, example = "230.00")]
    pub net: Money,
}

/// A payroll run (`POST /api/v1/payroll-runs`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayrollRun {
    #[serde(with = "crate::dates")]
    #[schema(value_type = String, example = "2025-02-03")]
    pub period_start: NaiveDate,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String, example = "2025-02-09")]
    pub period_end: NaiveDate,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String, example = "2025-02-14")]
    pub pay_date: NaiveDate,
    /// The payee tax and National Insurance are paid to.
    pub hmrc_payee_id: Uuid,
    /// The pension scheme; required when any payslip has a pension contribution.
    #[serde(default)]
    pub pension_payee_id: Option<Uuid>,
    pub payslips: Vec<Payslip>,
}

/// What one payment of a payslip is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayrollPart {
    NetPay,
    TaxAndNi,
    Pension,
}

/// One payment of a payslip and what the rules made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayrollPayment {
    pub part: PayrollPart,
    pub payee_id: Uuid,
    #[schema(value_type = String)]
    pub amount: Money,
    /// `posted`, `held` (for approval) or `refused`.
    pub outcome: String,
    /// The payment (or the recorded refusal); absent when it could not be asked for at all.
    pub payment_id: Option<Uuid>,
    /// The rules' codes when refused, or the error's code.
    pub codes: Vec<String>,
    pub message: Option<String>,
}

/// What a payslip came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayslipResult {
    /// Its place in `payslips`, from 0.
    pub index: usize,
    pub budget_id: Uuid,
    pub payee_id: Uuid,
    /// `paid` (everything posted or held), `partly_paid` (net pay went, something else was
    /// refused) or `refused` (net pay refused: nothing of it paid).
    pub status: String,
    pub payments: Vec<PayrollPayment>,
}

/// A payroll run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayrollRun {
    pub id: Uuid,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String)]
    pub period_start: NaiveDate,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String)]
    pub period_end: NaiveDate,
    #[serde(with = "crate::dates")]
    #[schema(value_type = String)]
    pub pay_date: NaiveDate,
    pub paid: usize,
    pub partly_paid: usize,
    pub refused: usize,
    pub results: Vec<PayslipResult>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn deployment_of(actor: &Actor, slip: &Payslip) -> Deployment {
    slip.deployment
        .unwrap_or(if actor.role == Role::ProviderStaff {
            Deployment::ManagedAccount
        } else {
            Deployment::DirectPayment
        })
}

fn refuse_slip(index: usize, code: &str, message: String) -> AppError {
    AppError::Refused {
        code: code.to_owned(),
        message: format!("Payslip {index}: {message}"),
        details: vec![Detail {
            row: None,
            code: Some(code.to_owned()),
            field: Some(format!("payslips[{index}]")),
            rule: Some(code.to_owned()),
            message,
        }],
    }
}

/// Checks the whole run before anything is paid (see the module).
pub async fn check(tx: &Tx<'_>, actor: &Actor, run: &NewPayrollRun) -> AppResult<()> {
    crate::providers::invoices::require_invoicer(actor)?;
    if run.period_end < run.period_start {
        return Err(AppError::invalid("period_end", "on or after period_start"));
    }
    if run.pay_date < run.period_start {
        return Err(AppError::invalid("pay_date", "on or after period_start"));
    }
    if run.period_end - run.period_start > chrono::Duration::days(31) {
        return Err(AppError::invalid(
            "period_end",
            "a period of at most a month",
        ));
    }
    if run.payslips.is_empty() || run.payslips.len() > 500 {
        return Err(AppError::invalid("payslips", "1 to 500 payslips"));
    }
    let needs_pension = run
        .payslips
        .iter()
        .any(|s| !s.employee_pension.amount().is_zero() || !s.employer_pension.amount().is_zero());
    if needs_pension && run.pension_payee_id.is_none() {
        return Err(AppError::invalid(
            "pension_payee_id",
            "required when a payslip has pension contributions",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, slip) in run.payslips.iter().enumerate() {
        for (name, amount) in [
            ("gross", slip.gross),
            ("tax", slip.tax),
            ("employee_ni", slip.employee_ni),
            ("employer_ni", slip.employer_ni),
            ("employee_pension", slip.employee_pension),
            ("employer_pension", slip.employer_pension),
            ("net", slip.net),
        ] {
            if amount.amount() < Decimal::ZERO {
                return Err(AppError::invalid_amount(
                    &format!("payslips[{i}].{name}"),
                    "not negative",
                ));
            }
        }
        if !slip.net.is_positive() {
            return Err(AppError::invalid_amount(
                &format!("payslips[{i}].net"),
                "the amount must be more than zero",
            ));
        }
        let worked = slip.gross.amount()
            - slip.tax.amount()
            - slip.employee_ni.amount()
            - slip.employee_pension.amount();
        if worked != slip.net.amount() {
            return Err(refuse_slip(
                i,
                "payslip_does_not_add_up",
                format!(
                    "gross {} less tax, employee NI and employee pension is {worked:.2}, not the \
                     net {}.",
                    slip.gross.amount(),
                    slip.net.amount()
                ),
            ));
        }
        if !seen.insert((slip.budget_id, slip.payee_id)) {
            return Err(AppError::invalid(
                &format!("payslips[{i}]"),
                "one payslip per budget and personal assistant",
            ));
        }
        let deployment = deployment_of(actor, slip);
        crate::providers::invoices::require_reach(tx, actor, slip.budget_id, deployment).await?;
        let row = tx
            .query_opt(
                &tx.prepare_cached(
                    "SELECT y.kind,
                        coalesce((SELECT sum(t.total) FROM timesheets t
                                  WHERE t.council_id = y.council_id AND t.budget_id = $3
                                    AND t.payee_id = y.id AND t.deployment = $4
                                    AND t.status = 'approved'
                                    AND t.week_ending BETWEEN $5 AND $6), 0)::numeric(14,2)
                            AS approved,
                        (SELECT count(*) FROM timesheets t
                         WHERE t.council_id = y.council_id AND t.budget_id = $3
                           AND t.payee_id = y.id AND t.deployment = $4
                           AND t.status <> 'approved'
                           AND t.week_ending BETWEEN $5 AND $6) AS waiting,
                        (SELECT count(*) FROM timesheets t
                         WHERE t.council_id = y.council_id AND t.budget_id = $3
                           AND t.payee_id = y.id AND t.deployment = $4
                           AND t.status = 'approved'
                           AND t.week_ending BETWEEN $5 AND $6) AS approved_count
                     FROM payees y WHERE y.council_id = $1 AND y.id = $2",
                )
                .await?,
                &[
                    &actor.council_id,
                    &slip.payee_id,
                    &slip.budget_id,
                    &deployment.as_str(),
                    &run.period_start,
                    &run.period_end,
                ],
            )
            .await?
            .ok_or_else(|| {
                AppError::invalid(&format!("payslips[{i}].payee_id"), "no such payee")
            })?;
        if row.try_get::<_, &str>("kind")? != "personal_assistant" {
            return Err(AppError::invalid(
                &format!("payslips[{i}].payee_id"),
                "not a personal assistant",
            ));
        }
        if row.try_get::<_, i64>("waiting")? > 0 {
            return Err(refuse_slip(
                i,
                "timesheet_not_approved",
                "a timesheet of this personal assistant in the period is not approved yet.".into(),
            ));
        }
        let approved: Decimal = row.try_get("approved")?;
        if row.try_get::<_, i64>("approved_count")? > 0 && slip.gross.amount() > approved {
            return Err(refuse_slip(
                i,
                "payslip_exceeds_timesheets",
                format!(
                    "gross {} is more than the {approved:.2} of the approved timesheets of the \
                     period.",
                    slip.gross.amount()
                ),
            ));
        }
    }
    Ok(())
}

fn line_key(run_key: &str, index: usize, part: PayrollPart) -> String {
    let digest: String = fingerprint(&[run_key.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let part = match part {
        PayrollPart::NetPay => "net",
        PayrollPart::TaxAndNi => "hmrc",
        PayrollPart::Pension => "pension",
    };
    format!("payroll-{digest}-{index}-{part}")
}

async fn pay_part(
    desk: &PaymentDesk,
    actor: &Actor,
    run_key: &str,
    index: usize,
    part: PayrollPart,
    new: NewPayment,
) -> PayrollPayment {
    let (payee_id, amount) = (new.payee_id, new.amount.money());
    let claim = Claim::new(
        &line_key(run_key, index, part),
        "POST /api/v1/payroll-runs (payment)",
        actor.user_id,
        "/api/v1/payroll-runs",
        &new,
    );
    let ran = match claim {
        Ok(claim) => desk.pay(actor, new, Some(claim)).await,
        Err(e) => Err(e),
    };
    let (outcome, payment_id, codes, message) = match ran {
        Ok(Ran { value, .. }) => match value {
            PaymentOutcome::Posted(p) => ("posted", Some(p.id), vec![], None),
            PaymentOutcome::Held(p) => ("held", Some(p.id), vec![], None),
            // Card authorisations only come from card events, never from payroll.
            PaymentOutcome::Authorized(p) => ("authorized", Some(p.id), vec![], None),
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
                refusals.first().map(|r| r.message.clone()),
            ),
        },
        Err(e) => (
            "refused",
            None,
            vec![e.code().to_owned()],
            Some(e.to_string()),
        ),
    };
    PayrollPayment {
        part,
        payee_id,
        amount,
        outcome: outcome.to_owned(),
        payment_id,
        codes,
        message,
    }
}

fn positive(amount: Decimal) -> AppResult<Option<PositiveMoney>> {
    if amount <= Decimal::ZERO {
        return Ok(None);
    }
    PositiveMoney::parse(&format!("{amount:.2}"))
        .map(Some)
        .map_err(internal)
}

/// Checks and pays a payroll run (see the module). The run's claim makes the whole run
/// idempotent: the same key and body again gives the recorded run.
pub async fn run(
    pool: &DbPool,
    desk: &PaymentDesk,
    actor: &Actor,
    new: &NewPayrollRun,
    run_key: &str,
    claim: Claim,
    now: DateTime<Utc>,
) -> AppResult<Ran<PayrollRun>> {
    let (actor_tx, new_tx, claim_tx) = (actor.clone(), new.clone(), claim.clone());
    let run_key_tx = run_key.to_owned();
    let stored = crate::db::in_tenant_tx(pool, actor.council_id, |tx| {
        let run_key_tx = run_key_tx.clone();
        Box::pin(async move {
            if let Some(stored) =
                crate::commands::claims::peek(tx, actor_tx.council_id, &claim_tx).await?
            {
                return Ok(Some(stored));
            }
            check(tx, &actor_tx, &new_tx).await?;
            claim_payslips(tx, &actor_tx, &new_tx, &run_key_tx).await?;
            Ok(None)
        })
    })
    .await?;
    if let Some(stored) = stored {
        return Ok(Ran {
            value: crate::commands::claims::stored_outcome(stored)?,
            replayed: true,
        });
    }
    let holder = (actor.role == Role::ProviderStaff)
        .then_some(actor.organisation_id)
        .flatten();
    let memo = format!("Payroll {} to {}", new.period_start, new.period_end);
    let mut results = Vec::with_capacity(new.payslips.len());
    for (index, slip) in new.payslips.iter().enumerate() {
        let deployment = deployment_of(actor, slip);
        let payment =
            |payee_id: Uuid, category: Category, amount: PositiveMoney, what: &str| NewPayment {
                budget_id: slip.budget_id,
                deployment,
                payee_id,
                category,
                amount,
                service_date: new.period_end,
                memo: Some(format!("{memo}: {what}")),
                stay_from: None,
                stay_to: None,
                holder_organisation_id: holder,
                merchant_category: None,
                is_cash: false,
                evidence_sha256: None,
                invoice_id: None,
                card: None,
            };
        let mut payments = Vec::new();
        let net = positive(slip.net.amount())?.ok_or_else(|| internal("net checked positive"))?;
        let net_paid = pay_part(
            desk,
            actor,
            run_key,
            index,
            PayrollPart::NetPay,
            payment(slip.payee_id, Category::PersonalAssistant, net, "net pay"),
        )
        .await;
        let refused = net_paid.outcome == "refused";
        payments.push(net_paid);
        if !refused {
            let hmrc = slip.tax.amount() + slip.employee_ni.amount() + slip.employer_ni.amount();
            if let Some(amount) = positive(hmrc)? {
                payments.push(
                    pay_part(
                        desk,
                        actor,
                        run_key,
                        index,
                        PayrollPart::TaxAndNi,
                        payment(
                            new.hmrc_payee_id,
                            Category::EmploymentCosts,
                            amount,
                            "tax and National Insurance",
                        ),
                    )
                    .await,
                );
            }
            let pension = slip.employee_pension.amount() + slip.employer_pension.amount();
            if let (Some(amount), Some(scheme)) = (positive(pension)?, new.pension_payee_id) {
                payments.push(
                    pay_part(
                        desk,
                        actor,
                        run_key,
                        index,
                        PayrollPart::Pension,
                        payment(scheme, Category::EmploymentCosts, amount, "pension"),
                    )
                    .await,
                );
            }
        }
        let status = if refused {
            "refused"
        } else if payments.iter().any(|p| p.outcome == "refused") {
            "partly_paid"
        } else {
            "paid"
        };
        results.push(PayslipResult {
            index,
            budget_id: slip.budget_id,
            payee_id: slip.payee_id,
            status: status.to_owned(),
            payments,
        });
    }
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let value = PayrollRun {
        id: Uuid::new_v4(),
        period_start: new.period_start,
        period_end: new.period_end,
        pay_date: new.pay_date,
        paid: count("paid"),
        partly_paid: count("partly_paid"),
        refused: count("refused"),
        results,
        recorded_by: actor.user_id,
        recorded_at: now,
    };
    let (new_rec, value_rec, council_id) = (new.clone(), value.clone(), actor.council_id);
    let run_key_all = run_key.to_owned();
    crate::commands::run(pool, actor.council_id, Some(&claim), move |tx| {
        let (new, value) = (new_rec.clone(), value_rec.clone());
        let run_key_rec = run_key_all.clone();
        Box::pin(async move {
            tx.execute(
                &tx.prepare_cached(
                    "INSERT INTO payroll_runs (council_id, id, period_start, period_end, pay_date,
                         payslips, results, recorded_by, recorded_at)
                     VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .await?,
                &[
                    &value.id,
                    &value.period_start,
                    &value.period_end,
                    &value.pay_date,
                    &serde_json::to_value(&new.payslips).map_err(internal)?,
                    &serde_json::to_value(&value.results).map_err(internal)?,
                    &value.recorded_by,
                    &value.recorded_at,
                    &council_id,
                ],
            )
            .await?;
            // Refused payslips give their claims back: a later run may pay them.
            let refused: Vec<(Uuid, Uuid)> = value
                .results
                .iter()
                .filter(|r| r.status == "refused")
                .map(|r| (r.budget_id, r.payee_id))
                .collect();
            let (budgets, payees): (Vec<Uuid>, Vec<Uuid>) = refused.into_iter().unzip();
            tx.execute(
                "DELETE FROM payroll_payslip_claims c
                 USING unnest($5::uuid[], $6::uuid[]) AS r(budget_id, payee_id)
                 WHERE c.council_id = $1 AND c.run_key = $2 AND c.recorded_by = $3
                   AND c.period_start = $4 AND c.budget_id = r.budget_id
                   AND c.payee_id = r.payee_id",
                &[
                    &council_id,
                    &run_key_rec,
                    &value.recorded_by,
                    &value.period_start,
                    &budgets,
                    &payees,
                ],
            )
            .await?;
            Ok(value)
        })
    })
    .await
}

/// Claims every payslip's budget, PA and period for this run (under a lock per budget and PA, in
/// sorted order); 409 `payslip_already_paid` when another run's claim overlaps the period.
async fn claim_payslips(
    tx: &Tx<'_>,
    actor: &Actor,
    run: &NewPayrollRun,
    run_key: &str,
) -> AppResult<()> {
    let mut pairs: Vec<(Uuid, Uuid)> = run
        .payslips
        .iter()
        .map(|s| (s.budget_id, s.payee_id))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    for (budget_id, payee_id) in pairs {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('payroll'), hashtext($1::uuid::text || $2::uuid::text))",
            &[&budget_id, &payee_id],
        )
        .await?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM payroll_payslip_claims
                 WHERE council_id = $1 AND budget_id = $2 AND payee_id = $3
                   AND period_start <= $5 AND period_end >= $4
                   AND NOT (run_key = $6 AND recorded_by = $7)
                 LIMIT 1",
                &[
                    &actor.council_id,
                    &budget_id,
                    &payee_id,
                    &run.period_start,
                    &run.period_end,
                    &run_key,
                    &actor.user_id,
                ],
            )
            .await?;
        if taken.is_some() {
            return Err(AppError::Conflict {
                code: "payslip_already_paid",
                message: format!(
                    "The personal assistant {payee_id} of budget {budget_id} is already paid, or \
                     being paid, for part of {} to {} by another payroll run.",
                    run.period_start, run.period_end
                ),
            });
        }
        tx.execute(
            "INSERT INTO payroll_payslip_claims (council_id, budget_id, payee_id, period_start,
                 period_end, run_key, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &actor.council_id,
                &budget_id,
                &payee_id,
                &run.period_start,
                &run.period_end,
                &run_key,
                &actor.user_id,
            ],
        )
        .await?;
    }
    Ok(())
}
