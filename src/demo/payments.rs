//! The demo council's decision-making agreements and payments: posted, held for approval,
//! approved after a hold, and refused, so every state can be seen on the pages.

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{users, Actor};
use crate::budgets::agreements::{self, NewGrant};
use crate::db::Tx;
use crate::payments::spend::{self, NewPayment};

/// What the earlier steps loaded, by fixture key and email.
pub struct Keys<'a> {
    pub council_id: Uuid,
    pub budgets: &'a HashMap<String, Uuid>,
    pub payees: &'a HashMap<String, Uuid>,
    pub users: &'a HashMap<String, Uuid>,
}

impl Keys<'_> {
    async fn actor(&self, tx: &Tx<'_>, email: &str) -> anyhow::Result<Actor> {
        let id = *self
            .users
            .get(email)
            .with_context(|| format!("demo: unknown user {email}"))?;
        let user = users::get(tx, self.council_id, id)
            .await
            .map_err(|e| anyhow::anyhow!("demo user {email}: {e}"))?;
        Ok(Actor {
            user_id: user.id,
            council_id: user.council_id,
            role: user.role,
            email: user.email,
            name: user.name,
            organisation_id: user.organisation_id,
            person_id: user.person_id,
        })
    }

    fn budget(&self, key: &str) -> anyhow::Result<Uuid> {
        self.budgets
            .get(key)
            .copied()
            .with_context(|| format!("demo: unknown budget {key}"))
    }

    fn payee(&self, key: &str) -> anyhow::Result<Uuid> {
        self.payees
            .get(key)
            .copied()
            .with_context(|| format!("demo: unknown payee {key}"))
    }
}

/// The grants: (budget, party email, the grant's JSON as the API takes it).
fn grants(start: NaiveDate) -> Vec<(&'static str, &'static str, serde_json::Value)> {
    vec![
        (
            "margaret_dp",
            "margaret.okafor@people.example",
            json!({"acting_as": "self", "powers": ["pay"], "max_per_payment": "400.00", "cosign_above": "300.00", "valid_from": start}),
        ),
        (
            "daniel_dp",
            "susan.hughes@people.example",
            json!({"acting_as": "authorised_person", "powers": ["pay", "approve"], "max_per_payment": "500.00", "valid_from": start}),
        ),
        (
            "aisha_ma",
            "omar.rahman@people.example",
            json!({"acting_as": "nominated_person", "powers": ["pay", "approve"], "deployments": ["direct_payment", "managed_account"], "max_per_payment": "600.00", "valid_from": start}),
        ),
        (
            "aisha_ma",
            "adam.macy@felpersham-accounts.example",
            json!({"acting_as": "managed_account_provider", "powers": ["pay"], "categories": ["personal_care", "account_management"], "max_per_payment": "300.00", "valid_from": start}),
        ),
        (
            "george_ma",
            "david.abbott@people.example",
            json!({"acting_as": "deputy", "powers": ["pay", "approve"], "deployments": ["direct_payment", "managed_account"], "max_per_payment": "1000.00", "court_order_ref": "COP 13579246", "valid_from": start}),
        ),
        (
            "george_ma",
            "ian.craig@felpersham-accounts.example",
            json!({"acting_as": "managed_account_provider", "powers": ["pay"], "max_per_payment": "200.00", "valid_from": start}),
        ),
        (
            "eileen_dp",
            "alan.marsh@people.example",
            json!({"acting_as": "attorney", "powers": ["pay", "approve"], "max_per_payment": "250.00", "lpa_registered": true, "valid_from": start}),
        ),
        (
            "priya_mixed",
            "priya.nair@people.example",
            json!({"acting_as": "self", "powers": ["pay"], "max_per_payment": "300.00", "valid_from": start}),
        ),
    ]
}

/// One payment: who asks, and the request as the API takes it (without `service_date`).
struct DemoPayment {
    by: &'static str,
    budget: &'static str,
    payee: &'static str,
    deployment: &'static str,
    category: &'static str,
    amount: &'static str,
    memo: &'static str,
    /// Someone who then approves it.
    approved_by: Option<&'static str>,
}

const PAYMENTS: &[DemoPayment] = &[
    DemoPayment {
        by: "margaret.okafor@people.example",
        budget: "margaret_dp",
        payee: "pa_jess",
        deployment: "direct_payment",
        category: "personal_assistant",
        amount: "238.00",
        memo: "Jess: mornings, week 1",
        approved_by: None,
    },
    DemoPayment {
        by: "margaret.okafor@people.example",
        budget: "margaret_dp",
        payee: "pa_kenton",
        deployment: "direct_payment",
        category: "personal_assistant",
        amount: "60.00",
        memo: "Kenton: a Saturday",
        approved_by: None,
    },
    DemoPayment {
        by: "margaret.okafor@people.example",
        budget: "margaret_dp",
        payee: "homecare_agency",
        deployment: "direct_payment",
        category: "transport",
        amount: "35.00",
        memo: "Taxi to the hospital",
        approved_by: None,
    },
    DemoPayment {
        by: "adam.macy@felpersham-accounts.example",
        budget: "aisha_ma",
        payee: "homecare_agency",
        deployment: "managed_account",
        category: "personal_care",
        amount: "260.00",
        memo: "Homecare Plus invoice 4471",
        approved_by: None,
    },
    DemoPayment {
        by: "adam.macy@felpersham-accounts.example",
        budget: "aisha_ma",
        payee: "homecare_agency",
        deployment: "managed_account",
        category: "personal_care",
        amount: "320.00",
        memo: "Homecare Plus invoice 4490 (extra visits)",
        approved_by: Some("omar.rahman@people.example"),
    },
    DemoPayment {
        by: "ian.craig@felpersham-accounts.example",
        budget: "george_ma",
        payee: "homecare_agency",
        deployment: "managed_account",
        category: "personal_care",
        amount: "350.00",
        memo: "Homecare Plus invoice 4502",
        approved_by: None,
    },
    DemoPayment {
        by: "alan.marsh@people.example",
        budget: "eileen_dp",
        payee: "homecare_agency",
        deployment: "direct_payment",
        category: "domestic_support",
        amount: "90.00",
        memo: "Shopping and cleaning",
        approved_by: None,
    },
];

/// Records the grants and makes the payments.
pub async fn load(
    tx: &Tx<'_>,
    keys: &Keys<'_>,
    care_manager: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let today = crate::clock::london_date(now);
    let start = today - chrono::Days::new(30);
    for (budget, email, body) in grants(start) {
        let mut body = body;
        body["user_id"] = json!(keys.actor(tx, email).await?.user_id);
        let new: NewGrant = serde_json::from_value(body).context("demo grant")?;
        agreements::record(tx, care_manager, keys.budget(budget)?, &new)
            .await
            .map_err(|e| anyhow::anyhow!("demo grant for {budget} ({email}): {e}"))?;
    }
    for p in PAYMENTS {
        let actor = keys.actor(tx, p.by).await?;
        let new: NewPayment = serde_json::from_value(json!({
            "budget_id": keys.budget(p.budget)?, "deployment": p.deployment, "payee_id": keys.payee(p.payee)?,
            "category": p.category, "amount": p.amount, "service_date": today, "memo": p.memo,
        }))
        .context("demo payment")?;
        let request = spend::Request { actor, new };
        let outcome = spend::decide_and_record(tx, keys.council_id, &[&request], now)
            .await
            .and_then(|mut results| {
                results
                    .pop()
                    .ok_or_else(|| crate::error::AppError::Internal("no outcome".into()))?
            })
            .map_err(|e| anyhow::anyhow!("demo payment {} by {}: {e}", p.memo, p.by))?;
        if let Some(approver) = p.approved_by {
            let approver = keys.actor(tx, approver).await?;
            spend::approve(tx, &approver, outcome.payment_id(), now)
                .await
                .map_err(|e| anyhow::anyhow!("demo approval of {}: {e}", p.memo))?;
        }
    }
    Ok(())
}
