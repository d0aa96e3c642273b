//! The council's policy settings (RULES.md values marked *policy*), versioned: a change adds a
//! version and never alters past decisions, which record the version they were made under.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::List;
use crate::auth::{Actor, Role};
use crate::budgets::policy::{self, PolicyVersion};
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::AppState;
use crate::money::Money;
use crate::rules::{CardTimeoutDecision, Category, CouncilPolicy};

/// The card settings a request leaves out: the defaults.
mod defaults {
    use super::*;

    pub fn mcc_categories() -> BTreeMap<String, Category> {
        CouncilPolicy::default().card_mcc_categories
    }
    pub fn blocked_mccs() -> Vec<String> {
        CouncilPolicy::default().card_blocked_mccs
    }
    pub fn cash_mccs() -> Vec<String> {
        CouncilPolicy::default().card_cash_mccs
    }
    pub fn cash_daily_limit() -> Money {
        // The default is a valid amount (100.00), so this cannot fail; zero is the fallback.
        Money::new(CouncilPolicy::default().card_cash_daily_limit).unwrap_or(Money::ZERO)
    }
    pub fn card_hold_expiry_days() -> u32 {
        CouncilPolicy::default().card_hold_expiry_days
    }
    pub fn over_capture_mccs() -> Vec<String> {
        CouncilPolicy::default().card_over_capture_mccs
    }
}

const STAFF: &[Role] = &[
    Role::CouncilAdmin,
    Role::CareManager,
    Role::FinanceOfficer,
    Role::Auditor,
];

/// The policy as the API shows and takes it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// Set by the server; ignored on input.
    #[serde(default, skip_deserializing)]
    pub version: i32,
    /// Payments above this need evidence attached.
    #[schema(value_type = String, example = "250.00")]
    pub receipt_threshold: Money,
    /// Days a held payment waits for approval before its hold is released.
    pub hold_expiry_days: u32,
    /// Whether a direct payment may buy the council's own services.
    pub dp_may_buy_council_services: bool,
    /// Merchant categories card-style spending may never go to.
    pub blocked_merchant_categories: Vec<String>,
    pub surplus_weeks_dp: u32,
    pub surplus_weeks_isf: u32,
    pub interim_max_weeks: u32,
    /// Card merchant category codes and the plan category their spending counts as (codes not
    /// listed count as `other`). Omitted: the default table.
    #[serde(default = "defaults::mcc_categories")]
    #[schema(value_type = Object)]
    pub card_mcc_categories: BTreeMap<String, Category>,
    /// Merchant category codes cards may never be used at. Omitted: the default list.
    #[serde(default = "defaults::blocked_mccs")]
    pub card_blocked_mccs: Vec<String>,
    /// Merchant category codes of cash withdrawals (ATMs). Omitted: 6010 and 6011.
    #[serde(default = "defaults::cash_mccs")]
    pub card_cash_mccs: Vec<String>,
    /// The most cash one card may withdraw in a day (where the plan allows cash at all).
    #[serde(default = "defaults::cash_daily_limit")]
    #[schema(value_type = String, example = "100.00")]
    pub card_cash_daily_limit: Money,
    /// Days an approved card authorisation holds its money (default 7).
    #[serde(default = "defaults::card_hold_expiry_days")]
    pub card_hold_expiry_days: u32,
    /// Merchant category codes whose captures may exceed the authorisation by up to 20 %.
    #[serde(default = "defaults::over_capture_mccs")]
    pub card_over_capture_mccs: Vec<String>,
    /// `decline` (default) or `approve`: the answer when allot cannot decide in time.
    #[serde(default)]
    #[schema(value_type = String, example = "decline")]
    pub card_timeout_decision: CardTimeoutDecision,
    /// Years evidence is kept after its payment, 6 to 100 (default 6). The evidence threshold is
    /// `receipt_threshold`.
    #[serde(default = "default_retention_years")]
    pub evidence_retention_years: u32,
    /// Weeks between a surplus notice and the day it may be recovered, 1 to 26 (default 4).
    #[serde(default = "default_notice_weeks")]
    pub surplus_notice_weeks: u32,
    /// Weeks from the first approved plan to its first review, 1 to 26 (default 6).
    #[serde(default = "default_first_review_weeks")]
    pub first_review_weeks: u32,
    /// Whether a carer's own budget may carry a contribution (default false: 422
    /// `carer_not_charged` for a contribution on a carer's budget).
    #[serde(default)]
    pub charge_carers: bool,
    /// The council's telephone number printed on people's statements (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// The council's email address printed on people's statements (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Why it changed (input only).
    #[serde(default, skip_serializing)]
    pub reason: Option<String>,
}

impl PolicySettings {
    fn from_policy(policy: &CouncilPolicy) -> ApiResult<Self> {
        Ok(PolicySettings {
            version: policy.version,
            receipt_threshold: Money::new(policy.receipt_threshold)
                .map_err(|e| crate::error::AppError::Internal(e.to_string()))?,
            hold_expiry_days: policy.hold_expiry_days,
            dp_may_buy_council_services: policy.dp_may_buy_council_services,
            blocked_merchant_categories: policy.blocked_merchant_categories.clone(),
            surplus_weeks_dp: policy.surplus_weeks_dp,
            surplus_weeks_isf: policy.surplus_weeks_isf,
            interim_max_weeks: policy.interim_max_weeks,
            card_mcc_categories: policy.card_mcc_categories.clone(),
            card_blocked_mccs: policy.card_blocked_mccs.clone(),
            card_cash_mccs: policy.card_cash_mccs.clone(),
            card_cash_daily_limit: Money::new(policy.card_cash_daily_limit)
                .map_err(|e| crate::error::AppError::Internal(e.to_string()))?,
            card_hold_expiry_days: policy.card_hold_expiry_days,
            card_over_capture_mccs: policy.card_over_capture_mccs.clone(),
            card_timeout_decision: policy.card_timeout_decision,
            evidence_retention_years: policy.evidence_retention_years,
            surplus_notice_weeks: policy.surplus_notice_weeks,
            first_review_weeks: policy.first_review_weeks,
            charge_carers: policy.charge_carers,
            contact_phone: policy.contact_phone.clone(),
            contact_email: policy.contact_email.clone(),
            reason: None,
        })
    }

    fn to_policy(&self) -> CouncilPolicy {
        CouncilPolicy {
            version: 0,
            receipt_threshold: self.receipt_threshold.amount(),
            hold_expiry_days: self.hold_expiry_days,
            dp_may_buy_council_services: self.dp_may_buy_council_services,
            blocked_merchant_categories: self.blocked_merchant_categories.clone(),
            surplus_weeks_dp: self.surplus_weeks_dp,
            surplus_weeks_isf: self.surplus_weeks_isf,
            interim_max_weeks: self.interim_max_weeks,
            card_mcc_categories: self.card_mcc_categories.clone(),
            card_blocked_mccs: self.card_blocked_mccs.clone(),
            card_cash_mccs: self.card_cash_mccs.clone(),
            card_cash_daily_limit: self.card_cash_daily_limit.amount(),
            card_hold_expiry_days: self.card_hold_expiry_days,
            card_over_capture_mccs: self.card_over_capture_mccs.clone(),
            card_timeout_decision: self.card_timeout_decision,
            evidence_retention_years: self.evidence_retention_years,
            surplus_notice_weeks: self.surplus_notice_weeks,
            first_review_weeks: self.first_review_weeks,
            charge_carers: self.charge_carers,
            contact_phone: self.contact_phone.clone(),
            contact_email: self.contact_email.clone(),
        }
    }
}

fn default_retention_years() -> u32 {
    CouncilPolicy::default().evidence_retention_years
}

fn default_notice_weeks() -> u32 {
    CouncilPolicy::default().surplus_notice_weeks
}

fn default_first_review_weeks() -> u32 {
    CouncilPolicy::default().first_review_weeks
}

/// The policy in force.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = PolicySettings), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn get(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<PolicySettings>> {
    actor.require(STAFF)?;
    let council_id = actor.council_id;
    let current = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { policy::current(tx, council_id).await })
        })
        .await?;
    Ok(Json(PolicySettings::from_policy(&current)?))
}

/// Change the policy: a new version (council admins).
#[utoipa::path(put, path = "/api/v1/policy", tag = "policy", security(("bearer" = [])),
    request_body = PolicySettings,
    responses((status = 200, body = PolicySettings), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn put(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<PolicySettings>,
) -> ApiResult<Json<PolicySettings>> {
    let settings = body.to_policy();
    let changed = state
        .write(actor.council_id, |tx| {
            let (actor, body, settings) = (actor.clone(), body.clone(), settings.clone());
            Box::pin(
                async move { policy::change(tx, &actor, &settings, body.reason.as_deref()).await },
            )
        })
        .await?;
    Ok(Json(PolicySettings::from_policy(&changed)?))
}

/// Every version of the policy, newest first.
#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = List<PolicyVersion>), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn versions(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<List<PolicyVersion>>> {
    actor.require(STAFF)?;
    let council_id = actor.council_id;
    let versions = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { policy::history(tx, council_id).await })
        })
        .await?;
    Ok(Json(List::all(versions)))
}
