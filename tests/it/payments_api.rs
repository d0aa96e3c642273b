//! Payments through the API: every spending refusal code, holds and approvals, co-signing,
//! rejection and expiry, capacity changes, idempotency, visibility across organisations and
//! councils, bad input, and a real race on one account.

use std::str::FromStr;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::{Actor, Role};

use crate::support::scenario::{id, Scenario, PERIOD};

pub(crate) struct Setup {
    pub(crate) s: Scenario,
    pub(crate) budget: Uuid,
    pub(crate) person: Uuid,
    /// The person's own sign-in (budget_holder).
    pub(crate) holder: (Uuid, String),
    pub(crate) agency: Uuid,
    pub(crate) dp_account: Uuid,
}

fn pounds(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not an amount: {value}")),
    )
    .unwrap()
}

fn care_manager(s: &Scenario) -> Actor {
    Actor {
        user_id: s.care_manager.id,
        council_id: s.council.id,
        role: Role::CareManager,
        email: String::new(),
        name: "Care Manager".into(),
        organisation_id: None,
        person_id: None,
    }
}

/// Records a grant through the agreements service as the care manager.
pub(crate) async fn grant(s: &Scenario, budget: Uuid, body: Value) -> Uuid {
    let new: allot::budgets::agreements::NewGrant = serde_json::from_value(body).unwrap();
    let actor = care_manager(s);
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move {
            allot::budgets::agreements::record(tx, &actor, budget, &new)
                .await
                .map(|g| g.id)
        })
    })
    .await
    .expect("record grant")
}

pub(crate) async fn payee(s: &Scenario, body: Value) -> Uuid {
    let reply = s.app.post("/api/v1/payees", &s.maker.token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    id(&reply)
}

pub(crate) fn bank() -> Value {
    json!({"sort_code": "30-00-00", "account_number": "12345678", "account_name": "Payee"})
}

/// A person with capacity; a budget with direct-payment lines (personal care 100.00, residential
/// respite 200.00, transport 1.00 a week) and a managed-account line; the first period released;
/// the person may pay up to 500.00 (co-sign above 250.00) themselves.
pub(crate) async fn setup() -> Setup {
    setup_in(Scenario::new().await).await
}

/// The same, in a scenario of the caller's (another database, say).
pub(crate) async fn setup_in(s: Scenario) -> Setup {
    let person = s.person("Pat Payer", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line("residential_respite", "200.00", "direct_payment", None),
                Scenario::line("transport", "1.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "120.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let holder = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    grant(
        &s,
        budget,
        json!({"user_id": holder.0, "acting_as": "self", "powers": ["pay"],
               "max_per_payment": "500.00", "cosign_above": "250.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let agency = payee(
        &s,
        json!({"name": "Helping Hands", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let view = s.budget_view(budget).await;
    let dp_account = view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "direct_payment")
        .map(|a| a["id"].as_str().unwrap().parse().unwrap())
        .expect("a direct-payment account");
    Setup {
        s,
        budget,
        person,
        holder,
        agency,
        dp_account,
    }
}

impl Setup {
    pub(crate) fn body(&self, category: &str, amount: &str) -> Value {
        json!({"budget_id": self.budget, "deployment": "direct_payment", "payee_id": self.agency,
               "category": category, "amount": amount, "service_date": "2025-02-10"})
    }

    pub(crate) async fn pay(&self, token: &str, body: Value) -> crate::support::Reply {
        let key = Uuid::new_v4().to_string();
        self.s
            .app
            .post_with_key("/api/v1/payments", token, &key, body)
            .await
    }

    pub(crate) async fn available(&self) -> Decimal {
        let view = self.s.budget_view(self.budget).await;
        let account = view["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["deployment"] == "direct_payment")
            .unwrap()
            .clone();
        pounds(&account["available_balance"])
    }

    pub(crate) async fn payments_rows(&self) -> i64 {
        let council = self.s.council.id;
        allot::db::in_tenant_tx(&self.s.app.db.pool, council, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_one("SELECT count(*) FROM payments", &[])
                    .await?
                    .get::<_, i64>(0))
            })
        })
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn a_payment_within_authority_posts_and_replays_by_key() {
    let t = setup().await;
    let before = t.available().await;
    let body = t.body("personal_care", "120.50");
    let first =
        t.s.app
            .post_with_key("/api/v1/payments", &t.holder.1, "pay-1", body.clone())
            .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["status"], "posted");
    assert_eq!(first.json["amount"], "120.50");
    assert_eq!(t.available().await, before - Decimal::new(12050, 2));
    // The same key and body: the same answer, nothing new.
    let again =
        t.s.app
            .post_with_key("/api/v1/payments", &t.holder.1, "pay-1", body)
            .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(t.available().await, before - Decimal::new(12050, 2));
    // The same key, another body: refused, nothing new.
    let other =
        t.s.app
            .post_with_key(
                "/api/v1/payments",
                &t.holder.1,
                "pay-1",
                t.body("personal_care", "1.00"),
            )
            .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");
    assert_eq!(t.payments_rows().await, 1);
    // The entry carries the decision, the rule-set version and who asked.
    let payment =
        t.s.app
            .get(
                &format!("/api/v1/payments/{}", first.json["id"].as_str().unwrap()),
                &t.holder.1,
            )
            .await;
    assert_eq!(payment.json["decision"]["outcome"], "post");
    assert_eq!(
        payment.json["ruleset_version"],
        allot::rules::RULESET_VERSION
    );
    assert_eq!(payment.json["requested_by"], json!(t.holder.0));
    // A missing key is refused before anything happens.
    let no_key =
        t.s.app
            .post(
                "/api/v1/payments",
                &t.holder.1,
                t.body("personal_care", "1.00"),
            )
            .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_key.code(), "idempotency_key_required");
}

/// Each refusal: its status and code, the rule in the details, recorded as a decision, no money moved.
#[tokio::test]
async fn each_spending_rule_refuses_with_its_code_and_moves_nothing() {
    let t = setup().await;
    let s = &t.s;
    let unverified = payee(
        s,
        json!({"name": "Unchecked Ltd", "kind": "care_agency", "bank": bank()}),
    )
    .await;
    let spouse = payee(
        s,
        json!({"name": "Sam Spouse", "kind": "personal_assistant", "person_id": t.person,
               "relationship": "spouse", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let care_home = payee(
        s,
        json!({"name": "Seaview Care Home", "kind": "care_home", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let council_service = payee(
        s,
        json!({"name": "Council Day Centre", "kind": "council_service", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let mut cases: Vec<(Value, StatusCode, &str)> = Vec::new();
    cases.push((
        t.body("equipment", "10.00"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_in_plan",
    ));
    let mut body = t.body("personal_care", "10.00");
    body["payee_id"] = json!(unverified);
    cases.push((body, StatusCode::UNPROCESSABLE_ENTITY, "payee_not_approved"));
    let mut body = t.body("personal_care", "10.00");
    body["payee_id"] = json!(spouse);
    cases.push((
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "family_member_payment",
    ));
    let mut body = t.body("residential_respite", "100.00");
    body["payee_id"] = json!(care_home);
    body["stay_from"] = json!("2025-03-01");
    body["stay_to"] = json!("2025-03-29"); // 29 nights
    cases.push((
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "residential_care_limit",
    ));
    let mut body = t.body("personal_care", "10.00");
    body["merchant_category"] = json!("Gambling");
    cases.push((body, StatusCode::UNPROCESSABLE_ENTITY, "blocked_merchant"));
    // More than the account holds (and within the person's limit).
    cases.push((
        t.body("personal_care", "249.00"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_funds",
    ));
    let before = t.available().await;
    // Drain most of the account first so 499.00 is more than is left.
    let drain = t.body("personal_care", "240.00");
    for _ in 0..4 {
        let r = t.pay(&t.holder.1, drain.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let before_cases = t.available().await;
    assert_eq!(before_cases, before - Decimal::new(96000, 2));
    for (body, status, code) in cases {
        let reply = t.pay(&t.holder.1, body).await;
        assert_eq!(reply.status, status, "{code}: {}", reply.text);
        assert_eq!(reply.code(), code, "{}", reply.text);
        let rules: Vec<&str> = reply.json["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&code), "{code} in {rules:?}");
        assert!(!reply.json["error"]["message"].as_str().unwrap().is_empty());
        let payment_id = reply.json["error"]["payment_id"].as_str().unwrap();
        let stored = s
            .app
            .get(&format!("/api/v1/payments/{payment_id}"), &t.holder.1)
            .await;
        assert_eq!(stored.json["status"], "refused", "{}", stored.text);
        assert!(stored.json["entry_id"].is_null());
        assert_eq!(t.available().await, before_cases, "{code} moved money");
    }

    // The council's recorded "necessary" decision lets the family payment through.
    let approval = s
        .app
        .post(
            &format!("/api/v1/budgets/{}/family-payment-approvals", t.budget),
            &s.care_manager.token,
            json!({"payee_id": spouse, "reason": "No agency covers the village at night."}),
        )
        .await;
    assert_eq!(approval.status, StatusCode::CREATED, "{}", approval.text);
    let mut body = t.body("personal_care", "10.00");
    body["payee_id"] = json!(spouse);
    let reply = t.pay(&t.holder.1, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    // A council that forbids buying its own services from a direct payment.
    let admin = Actor {
        user_id: s.council.admin_id,
        council_id: s.council.id,
        role: Role::CouncilAdmin,
        email: String::new(),
        name: String::new(),
        organisation_id: None,
        person_id: None,
    };
    allot::db::in_tenant_tx(&s.app.db.pool, s.council.id, |tx| {
        Box::pin(async move {
            let mut policy = allot::budgets::policy::current(tx, admin.council_id).await?;
            policy.dp_may_buy_council_services = false;
            allot::budgets::policy::change(tx, &admin, &policy, Some("Keep DPs for choice")).await
        })
    })
    .await
    .unwrap();
    let mut body = t.body("personal_care", "10.00");
    body["payee_id"] = json!(council_service);
    let reply = t.pay(&t.holder.1, body).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.code(), "council_service");
    // The decision log holds every decision, refusals included, with the policy version.
    let log = s
        .app
        .get(
            &format!("/api/v1/budgets/{}/decisions", t.budget),
            &t.holder.1,
        )
        .await;
    let items = log.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 4 + 6 + 1 + 1);
    assert_eq!(items[0]["policy_version"], 2);
    assert_eq!(items.iter().filter(|p| p["status"] == "refused").count(), 7);
}

#[tokio::test]
async fn no_grant_is_no_authority_and_a_capacity_change_stops_a_grant() {
    let t = setup().await;
    let s = &t.s;
    let (_, stranger) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    // A representative with no grant cannot even see the budget.
    let reply = t.pay(&stranger, t.body("personal_care", "10.00")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    // A nominated person (the person has capacity) may pay.
    let nominee = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": nominee.0, "acting_as": "nominated_person", "powers": ["pay"],
               "categories": ["personal_care"], "max_per_payment": "100.00",
               "valid_from": "2020-01-01"}),
    )
    .await;
    let reply = t.pay(&nominee.1, t.body("personal_care", "50.00")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // Outside the grant's categories: no authority, and nobody else could approve it.
    let reply = t.pay(&nominee.1, t.body("transport", "5.00")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.code(), "no_authority");
    // The person loses capacity: a nominated person no longer fits, so the grant stops working,
    // and with it the nominated person's sight of the budget.
    let patch = s
        .app
        .patch(
            &format!("/api/v1/people/{}", t.person),
            &s.care_manager.token,
            json!({"has_capacity": false}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
    let before = t.available().await;
    let reply = t.pay(&nominee.1, t.body("personal_care", "50.00")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert_eq!(t.available().await, before);
}

#[tokio::test]
async fn a_grant_pays_and_approves_only_from_the_deployments_it_covers() {
    let t = setup().await;
    let s = &t.s;
    let mut managed = t.body("personal_care", "40.00");
    managed["deployment"] = json!("managed_account");
    // The person's own grant covers their direct payment, not the managed account.
    let reply = t.pay(&t.holder.1, managed.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.code(), "no_authority");
    assert!(
        reply
            .text
            .contains("does not cover payments from the managed account"),
        "{}",
        reply.text
    );
    let reply = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // A nominated person whose grant names both may pay from either.
    let nominee = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": nominee.0, "acting_as": "nominated_person", "powers": ["pay"],
               "deployments": ["direct_payment", "managed_account"], "max_per_payment": "100.00",
               "cosign_above": "50.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let reply = t.pay(&nominee.1, managed.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // A co-signer whose grant covers only the direct payment cannot co-sign managed-account money:
    // with nobody else, the payment above the threshold is refused rather than held.
    let cosigner = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let mut over = managed.clone();
    over["amount"] = json!("60.00");
    let reply = t.pay(&nominee.1, over.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(reply.code(), "no_authority");
    // From the direct payment the same co-signer is offered.
    let mut over_dp = over.clone();
    over_dp["deployment"] = json!("direct_payment");
    let reply = t.pay(&nominee.1, over_dp).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert_eq!(
        reply.json["approvals_required"][0]["eligible_approvers"]["user_ids"],
        json!([cosigner.0]),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn nothing_is_spent_from_the_direct_payment_of_an_excluded_person() {
    let t = setup().await;
    let s = &t.s;
    let patch = s
        .app
        .patch(
            &format!("/api/v1/people/{}", t.person),
            &s.care_manager.token,
            json!({"excluded_from_direct_payments": true}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
    let before = t.available().await;
    let reply = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.code(), "person_excluded", "{}", reply.text);
    assert_eq!(t.available().await, before);
}

#[tokio::test]
async fn a_payment_above_the_cosign_threshold_is_held_and_approved_by_another() {
    let t = setup().await;
    let s = &t.s;
    let cosigner = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let before = t.available().await;
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    assert_eq!(held.json["status"], "pending_approval");
    assert_eq!(held.json["approvals_required"][0]["reason"], "cosign");
    let payment = held.json["id"].as_str().unwrap().to_owned();
    // The money is reserved.
    assert_eq!(t.available().await, before - Decimal::new(30000, 2));
    // The co-signer sees it in their queue; the payer does not.
    let queue = s.app.get("/api/v1/approvals", &cosigner.1).await;
    assert_eq!(
        queue.json["items"][0]["id"],
        json!(payment),
        "{}",
        queue.text
    );
    let own = s.app.get("/api/v1/approvals", &t.holder.1).await;
    assert_eq!(own.json["items"], json!([]));
    // The payer cannot approve their own payment.
    let conflict = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &t.holder.1,
            json!({}),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::FORBIDDEN, "{}", conflict.text);
    assert_eq!(conflict.code(), "approver_conflict");
    // Someone with no approve power cannot either.
    let finance = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &s.maker.token,
            json!({}),
        )
        .await;
    assert_eq!(finance.status, StatusCode::FORBIDDEN, "{}", finance.text);
    assert_eq!(finance.code(), "no_authority");
    let approved = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &cosigner.1,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "posted");
    assert_eq!(approved.json["approved_by"], json!([cosigner.0]));
    assert_eq!(t.available().await, before - Decimal::new(30000, 2));
    // Exactly once.
    let twice = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &cosigner.1,
            json!({}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    // The ledger entry names the approver.
    let entry = approved.json["entry_id"].as_str().unwrap();
    let statement = s
        .app
        .get(
            &format!("/api/v1/accounts/{}/entries", t.dp_account),
            &s.auditor.token,
        )
        .await;
    assert!(statement.text.contains(entry), "{}", statement.text);
}

#[tokio::test]
async fn spending_beyond_a_plan_line_waits_for_a_care_manager_and_rejection_releases_it() {
    let t = setup().await;
    let s = &t.s;
    let before = t.available().await;
    // Transport is 1.00 a week: 52.00 a year. 60.00 is beyond it.
    let held = t.pay(&t.holder.1, t.body("transport", "60.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    assert_eq!(
        held.json["approvals_required"][0]["reason"],
        "over_plan_line"
    );
    let payment = held.json["id"].as_str().unwrap().to_owned();
    let queue = s.app.get("/api/v1/approvals", &s.care_manager.token).await;
    assert_eq!(queue.json["items"][0]["id"], json!(payment));
    let rejected = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/reject"),
            &s.care_manager.token,
            json!({}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "rejected");
    assert_eq!(t.available().await, before);
    // Held again, and this time approved by the care manager.
    let held = t.pay(&t.holder.1, t.body("transport", "60.00")).await;
    let payment = held.json["id"].as_str().unwrap().to_owned();
    let approved = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &s.care_manager.token,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "posted");
    assert_eq!(t.available().await, before - Decimal::new(6000, 2));
}

#[tokio::test]
async fn an_expired_hold_releases_the_money_and_cannot_be_approved() {
    let t = setup().await;
    let s = &t.s;
    let before = t.available().await;
    let held = t.pay(&t.holder.1, t.body("transport", "60.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    let payment = held.json["id"].as_str().unwrap().to_owned();
    // Time passes beyond the policy's 14 days: the ledger's upkeep expires the hold.
    let expired = allot::ledger::expire_due_holds(
        &s.app.db.pool,
        s.council.id,
        allot::clock::system_now() + chrono::Duration::days(15),
    )
    .await
    .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(t.available().await, before);
    let reply = s
        .app
        .get(&format!("/api/v1/payments/{payment}"), &t.holder.1)
        .await;
    assert_eq!(reply.json["status"], "expired");
    let late = s
        .app
        .post(
            &format!("/api/v1/payments/{payment}/approve"),
            &s.care_manager.token,
            json!({}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
}

#[tokio::test]
async fn provider_staff_pay_only_from_accounts_their_organisation_holds() {
    let t = setup().await;
    let s = &t.s;
    grant(
        s,
        t.budget,
        json!({"user_id": s.ma_staff.id, "acting_as": "managed_account_provider",
               "powers": ["pay"], "max_per_payment": "200.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let mut body = t.body("personal_care", "40.00");
    body["deployment"] = json!("managed_account");
    let reply = t.pay(&s.ma_staff.token, body.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // The ISF provider holds nothing of this budget: 404, not 403.
    let reply = t.pay(&s.isf_staff.token, body.clone()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    // The managed-account staff cannot reach the direct payment.
    let reply = t
        .pay(&s.ma_staff.token, t.body("personal_care", "40.00"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    // Another council sees nothing of it.
    let elsewhere = s.elsewhere().await;
    let payment = t.pay(&t.holder.1, t.body("personal_care", "5.00")).await;
    let pid = payment.json["id"].as_str().unwrap();
    let reply = s
        .app
        .get(&format!("/api/v1/payments/{pid}"), &elsewhere.care_manager)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = t
        .pay(&elsewhere.care_manager, t.body("personal_care", "5.00"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let reply = s
        .app
        .post(
            &format!("/api/v1/payments/{pid}/approve"),
            &elsewhere.care_manager,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let t = setup().await;
    let base = t.body("personal_care", "10.00");
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let cases = [
        (with("amount", json!(10)), "invalid_amount"),
        (with("amount", json!("10.001")), "invalid_amount"),
        (with("amount", json!("-5.00")), "invalid_amount"),
        (with("deployment", json!("bitcoin")), "invalid_request"),
        (with("category", json!("holidays")), "invalid_request"),
        (with("unexpected", json!(true)), "invalid_request"),
        (with("service_date", json!("10/02/2025")), "invalid_request"),
        (
            with("evidence_sha256", json!("not-a-hash")),
            "invalid_request",
        ),
        (with("payee_id", json!(Uuid::new_v4())), "invalid_request"),
    ];
    for (body, code) in cases {
        let reply = t.pay(&t.holder.1, body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.text);
        assert_eq!(reply.code(), code, "{body}: {}", reply.text);
    }
    let reply =
        t.s.app
            .post_with_key("/api/v1/budgets/../payments", &t.holder.1, "k", json!({}))
            .await;
    assert!(reply.status.is_client_error());
    let another_budget = with("budget_id", json!(Uuid::new_v4()));
    let reply = t.pay(&t.holder.1, another_budget).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(t.payments_rows().await, 0);
}

/// Many payers at once against one direct-payment account: it never goes below zero, every
/// payment either posted or was refused for funds, and the balance is what the postings say.
#[tokio::test]
async fn concurrent_payments_never_overdraw_the_account() {
    let t = setup().await;
    let start = t.available().await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let router = t.s.app.router.clone();
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/payments")
                .header("authorization", format!("Bearer {}", t.holder.1))
                .header("content-type", "application/json")
                .header("idempotency-key", format!("race-{i}"))
                .body(axum::body::Body::from(
                    t.body("personal_care", "240.00").to_string(),
                ))
                .unwrap();
            tokio::spawn(async move {
                use http_body_util::BodyExt;
                use tower::ServiceExt;
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            })
        })
        .collect();
    let mut posted = 0i64;
    for task in tasks {
        let (status, json) = task.await.unwrap();
        match status {
            StatusCode::CREATED => posted += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(json["error"]["code"], "insufficient_funds", "{json}")
            }
            other => panic!("unexpected {other}: {json}"),
        }
    }
    let end = t.available().await;
    assert!(end >= Decimal::ZERO, "overdrawn: {end}");
    assert_eq!(end, start - Decimal::new(24000, 2) * Decimal::from(posted));
    // As many as the money allowed: the next one would not have fitted.
    assert!(end < Decimal::new(24000, 2), "{end} left after {posted}");
    let verify =
        t.s.app
            .get("/api/v1/audit/verify", &t.s.auditor.token)
            .await;
    assert_eq!(verify.json["ok"], true, "{}", verify.text);
}

/// The admin pages: the form explains a refusal before anything is sent; a held payment is
/// approved from the queue; the decision log shows both; forms without the CSRF token change nothing.
#[tokio::test]
async fn the_pages_explain_before_sending_and_approve_from_the_queue() {
    let t = setup().await;
    let s = &t.s;
    let (cookie, csrf) = s.app.session(s.council.id, t.holder.0).await;
    let path = format!("/budgets/{}/pay", t.budget);
    let form = s.app.page(&path, &cookie).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Helping Hands"));
    let agency = t.agency.to_string();
    let fields = |category: &'static str, amount: &'static str, action: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("idempotency_key", "page-key-1".to_owned()),
            ("payee_id", agency.clone()),
            ("category", category.to_owned()),
            ("deployment", "direct_payment".to_owned()),
            ("amount", amount.to_owned()),
            ("service_date", "2025-02-10".to_owned()),
            ("action", action.to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let path = path.clone();
        let cookie = cookie.clone();
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.app.form(&path, &cookie, &refs).await
        }
    };
    // A family member who may co-sign.
    let cosigner = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": cosigner.0, "acting_as": "family_member", "powers": ["approve"],
               "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let before = t.available().await;
    // Checking an item that is not in the plan: explained in words, nothing recorded.
    let checked = send(fields("equipment", "10.00", "check")).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
    assert!(
        checked.text.contains("This payment cannot be made"),
        "{}",
        checked.text
    );
    assert!(checked.text.contains("plan"), "{}", checked.text);
    assert!(!checked.text.contains("Send the payment"));
    assert_eq!(t.payments_rows().await, 0);
    // Checking a payment above the co-sign threshold: it would wait.
    let checked = send(fields("personal_care", "300.00", "check")).await;
    assert!(
        checked
            .text
            .contains("This payment would wait for approval"),
        "{}",
        checked.text
    );
    assert!(checked.text.contains("Send the payment"));
    assert_eq!(t.payments_rows().await, 0);
    // A form without the CSRF token is refused and changes nothing.
    let mut forged = fields("personal_care", "300.00", "send");
    forged.remove(0);
    let refused = send(forged).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(t.payments_rows().await, 0);
    // Sent: held; sent twice with the same form key: still one payment.
    let sent = send(fields("personal_care", "300.00", "send")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
    let again = send(fields("personal_care", "300.00", "send")).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(t.payments_rows().await, 1);
    assert_eq!(t.available().await, before - Decimal::new(30000, 2));
    let (co_cookie, co_csrf) = s.app.session(s.council.id, cosigner.0).await;
    let queue = s.app.page("/approvals", &co_cookie).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.text.contains("Helping Hands"), "{}", queue.text);
    let payment: Uuid = {
        let log = s
            .app
            .get(
                &format!("/api/v1/budgets/{}/decisions", t.budget),
                &t.holder.1,
            )
            .await;
        log.json["items"][0]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let approved = s
        .app
        .form(
            &format!("/payments/{payment}/approve"),
            &co_cookie,
            &[("csrf_token", co_csrf.as_str())],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.text);
    let log = s
        .app
        .page(&format!("/budgets/{}/decisions", t.budget), &cookie)
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.text.contains("Paid"), "{}", log.text);
}

/// A request with an Idempotency-Key header or none.
async fn post_keyed(
    app: &crate::support::TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> crate::support::Reply {
    match key {
        Some(key) => app.post_with_key(path, token, key, body).await,
        None => app.post(path, token, body).await,
    }
}

#[tokio::test]
async fn reversals_are_idempotent_and_refused_where_they_must_be() {
    let t = setup().await;
    let paid = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let after_payment = t.available().await;
    let path = format!(
        "/api/v1/payments/{}/reverse",
        paid.json["id"].as_str().unwrap()
    );
    let body = json!({"reason": "Paid to the wrong agency"});
    let finance = t.s.maker.token.clone();
    let app = &t.s.app;

    let missing = post_keyed(app, &path, &finance, None, body.clone()).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::BAD_REQUEST, "idempotency_key_required")
    );
    let bad_key = post_keyed(app, &path, &finance, Some("has space"), body.clone()).await;
    assert_eq!(
        (bad_key.status, bad_key.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let forbidden = post_keyed(
        app,
        &path,
        &t.s.care_manager.token,
        Some("k1"),
        body.clone(),
    )
    .await;
    assert_eq!(
        (forbidden.status, forbidden.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let elsewhere = t.s.elsewhere().await;
    let stranger = post_keyed(
        app,
        &path,
        &elsewhere.care_manager,
        Some("k1"),
        body.clone(),
    )
    .await;
    assert!(
        matches!(
            stranger.status,
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
        ),
        "{}",
        stranger.text
    );
    for bad in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": 5}),
        json!({"reason": "x", "extra": 1}),
    ] {
        let reply = post_keyed(app, &path, &finance, Some("bad-body"), bad.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }
    assert_eq!(t.available().await, after_payment);

    let first = post_keyed(app, &path, &finance, Some("reverse-1"), body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["reverses"], paid.json["entry_id"]);
    assert_eq!(first.json["metadata"]["reason"], "Paid to the wrong agency");
    assert_eq!(
        first.json["metadata"]["requested_by"]["role"],
        "finance_officer"
    );
    assert_eq!(t.available().await, after_payment + Decimal::new(4000, 2));
    let replay = post_keyed(app, &path, &finance, Some("reverse-1"), body.clone()).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.json, first.json);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    let reused = post_keyed(
        app,
        &path,
        &finance,
        Some("reverse-1"),
        json!({"reason": "other"}),
    )
    .await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::CONFLICT, "idempotency_key_reused")
    );
    let again = post_keyed(app, &path, &finance, Some("reverse-2"), body.clone()).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    assert_eq!(t.available().await, after_payment + Decimal::new(4000, 2));
    // A refused payment moved no money: nothing to reverse.
    let refused = t.pay(&t.holder.1, t.body("education", "10.00")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let refused_id = refused.json["error"]["payment_id"].as_str().unwrap();
    let refused_path = format!("/api/v1/payments/{refused_id}/reverse");
    let not_posted = post_keyed(app, &refused_path, &finance, Some("k5"), body.clone()).await;
    assert_eq!(
        (not_posted.status, not_posted.code()),
        (StatusCode::CONFLICT, "conflict")
    );
}

#[tokio::test]
async fn concurrent_replays_of_one_key_reverse_once() {
    let t = std::sync::Arc::new(setup().await);
    let paid = t.pay(&t.holder.1, t.body("personal_care", "40.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let after_payment = t.available().await;
    let path = format!(
        "/api/v1/payments/{}/reverse",
        paid.json["id"].as_str().unwrap()
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (t, path) = (t.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            post_keyed(
                &t.s.app,
                &path,
                &t.s.maker.token,
                Some("same"),
                json!({"reason": "dup"}),
            )
            .await
        }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        bodies.push(reply.json);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(t.available().await, after_payment + Decimal::new(4000, 2));
}
