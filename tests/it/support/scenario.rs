//! A council ready for budgets: staff in every role, provider organisations with bank accounts, a
//! broker, and the council's banking; helpers to record people, budgets and plans through the API.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Council, Reply, TestApp};
use allot::auth::Role;

/// First day of the budgets made here (a Monday).
pub const START: &str = "2025-01-06";
/// First day of the first payment period (a Monday, four weeks later).
pub const PERIOD: &str = "2025-02-03";

pub struct User {
    pub id: Uuid,
    pub token: String,
}

pub struct Elsewhere {
    pub care_manager: String,
    pub broker_org: Uuid,
    pub isf_provider: Uuid,
    pub person: Uuid,
}

pub struct Scenario {
    pub app: TestApp,
    pub council: Council,
    pub care_manager: User,
    pub maker: User,
    pub checker: User,
    pub auditor: User,
    pub ma_provider: Uuid,
    pub isf_provider: Uuid,
    pub broker_org: Uuid,
    pub ma_staff: User,
    pub isf_staff: User,
    pub broker: User,
}

pub fn id(reply: &Reply) -> Uuid {
    reply.json["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {}", reply.text))
}

impl Scenario {
    pub async fn new() -> Scenario {
        let app = TestApp::new().await;
        Self::in_app(app, "Test Council").await
    }

    /// Another council in the same database.
    pub async fn in_app(app: TestApp, name: &str) -> Scenario {
        let council = app.council(name).await;
        let user = |role: Role, organisation: Option<Uuid>| {
            let app = &app;
            let council = &council;
            async move {
                let (id, token) = app.user(council, role, organisation, None).await;
                User { id, token }
            }
        };
        let care_manager = user(Role::CareManager, None).await;
        let maker = user(Role::FinanceOfficer, None).await;
        let checker = user(Role::FinanceOfficer, None).await;
        let auditor = user(Role::Auditor, None).await;
        let org = |name: &str, kind: &str, sort_code: &str| {
            let body = json!({"name": name, "kind": kind,
                "bank": {"sort_code": sort_code, "account_number": "12345678", "account_name": name}});
            let app = &app;
            let token = council.admin_token.clone();
            async move {
                let reply = app.post("/api/v1/organisations", &token, body).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
                id(&reply)
            }
        };
        let ma_provider = org(
            "Managed Accounts CIC",
            "managed_account_provider",
            "11-11-11",
        )
        .await;
        let isf_provider = org("Supported Living Ltd", "isf_provider", "22-22-22").await;
        let broker_org = org("Independent Brokerage", "broker", "33-33-33").await;
        let ma_staff = user(Role::ProviderStaff, Some(ma_provider)).await;
        let isf_staff = user(Role::ProviderStaff, Some(isf_provider)).await;
        let broker = user(Role::Broker, Some(broker_org)).await;
        // The administrator gave the providers' bank details: a finance officer verifies them.
        verify_bank_details(&app, &checker).await;
        let banking = app
            .put(
                "/api/v1/council/banking",
                &council.admin_token,
                json!({"service_user_number": "123456",
                       "account": {"sort_code": "40-00-01", "account_number": "87654321", "account_name": "Test Council Social Care"}}),
            )
            .await;
        assert_eq!(banking.status, StatusCode::OK, "{}", banking.text);
        Scenario {
            app,
            council,
            care_manager,
            maker,
            checker,
            auditor,
            ma_provider,
            isf_provider,
            broker_org,
            ma_staff,
            isf_staff,
            broker,
        }
    }

    /// A second council in the same database, with a care manager, a broker and an ISF provider
    /// of its own and one person.
    pub async fn elsewhere(&self) -> Elsewhere {
        let council = self.app.council("Elsewhere Council").await;
        let (_, care_manager) = self.app.user(&council, Role::CareManager, None, None).await;
        let org = |name: &str, kind: &str| {
            let body = json!({"name": name, "kind": kind});
            let token = council.admin_token.clone();
            async move {
                let reply = self.app.post("/api/v1/organisations", &token, body).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
                id(&reply)
            }
        };
        let broker_org = org("Elsewhere Brokers", "broker").await;
        let isf_provider = org("Elsewhere Living", "isf_provider").await;
        let person = self
            .app
            .post(
                "/api/v1/people",
                &care_manager,
                json!({"name": "Not Here", "date_of_birth": "1970-01-01", "has_capacity": true}),
            )
            .await;
        Elsewhere {
            care_manager,
            broker_org,
            isf_provider,
            person: id(&person),
        }
    }

    pub async fn person(&self, name: &str, has_capacity: bool, excluded: bool) -> Uuid {
        let reply = self
            .app
            .post(
                "/api/v1/people",
                &self.care_manager.token,
                json!({"name": name, "date_of_birth": "1960-03-04", "has_capacity": has_capacity,
                       "excluded_from_direct_payments": excluded}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        id(&reply)
    }

    /// A budget body with sensible defaults (a direct payment the person consented to).
    pub fn budget_body(person_id: Uuid) -> Value {
        json!({
            "person_id": person_id,
            "funder": "council",
            "annual_cost": "26000.00",
            "weekly_contribution": "0",
            "contribution_basis": "net",
            "start_date": START,
            "bank": {"sort_code": "20-00-00", "account_number": "55779911", "account_name": "A Person"},
            "direct_payment": {"consent_recorded": true}
        })
    }

    /// A budget recorded by the care manager, its bank details verified by a finance officer.
    pub async fn budget(&self, body: Value) -> Uuid {
        let reply = self
            .app
            .post("/api/v1/budgets", &self.care_manager.token, body)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        self.verify_bank_details().await;
        id(&reply)
    }

    /// Verifies the budgets' and organisations' bank details waiting for it, as the checker (who
    /// made none of them). Payees are left as their tests record them.
    pub async fn verify_bank_details(&self) {
        verify_bank_details(&self.app, &self.checker).await;
    }

    pub async fn plan(&self, budget_id: Uuid, lines: Value) -> Reply {
        self.app
            .put(
                &format!("/api/v1/budgets/{budget_id}/plan"),
                &self.care_manager.token,
                json!({"lines": lines, "cash_allowed": false}),
            )
            .await
    }

    pub async fn approve_plan(&self, budget_id: Uuid) -> Reply {
        self.app
            .post(
                &format!("/api/v1/budgets/{budget_id}/plan/approve"),
                &self.care_manager.token,
                json!({}),
            )
            .await
    }

    /// A budget with an approved plan of these lines.
    pub async fn approved_budget(&self, body: Value, lines: Value) -> Uuid {
        let budget_id = self.budget(body).await;
        let plan = self.plan(budget_id, lines).await;
        assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
        let approved = self.approve_plan(budget_id).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        budget_id
    }

    pub fn line(category: &str, weekly: &str, deployment: &str, holder: Option<Uuid>) -> Value {
        let mut line = json!({"category": category, "need": format!("{category} need"),
                              "weekly_amount": weekly, "deployment": deployment});
        if let Some(holder) = holder {
            line["holder_organisation_id"] = json!(holder);
        }
        line
    }

    pub async fn draft_run(&self, key: &str, period_start: &str) -> Reply {
        self.app
            .post_with_key(
                "/api/v1/payment-runs",
                &self.maker.token,
                key,
                json!({"period_start": period_start, "weeks": 4}),
            )
            .await
    }

    /// Drafts, submits (maker) and approves (checker) a run; returns the approved run.
    pub async fn release(&self, period_start: &str) -> Value {
        let draft = self
            .draft_run(&format!("run-{period_start}"), period_start)
            .await;
        assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
        self.submit_and_approve(id(&draft)).await
    }

    /// Submits (maker) and approves (checker) a drafted run; returns the approved run.
    pub async fn submit_and_approve(&self, run_id: Uuid) -> Value {
        let submitted = self
            .app
            .post(
                &format!("/api/v1/payment-runs/{run_id}/submit"),
                &self.maker.token,
                json!({}),
            )
            .await;
        assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.text);
        let approved = self
            .app
            .post(
                &format!("/api/v1/payment-runs/{run_id}/approve"),
                &self.checker.token,
                json!({}),
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        approved.json
    }

    pub async fn budget_view(&self, budget_id: Uuid) -> Value {
        let reply = self
            .app
            .get(
                &format!("/api/v1/budgets/{budget_id}"),
                &self.care_manager.token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json
    }
}

async fn verify_bank_details(app: &TestApp, finance: &User) {
    let queue = app
        .get(
            "/api/v1/bank-detail-changes?status=unverified",
            &finance.token,
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let waiting = queue.json["items"].as_array().into_iter().flatten();
    for change in waiting.filter(|c| c["subject"] != "payee") {
        let change_id = change["id"].as_str().unwrap_or_default();
        let verified = app
            .post(
                &format!("/api/v1/bank-detail-changes/{change_id}/verify"),
                &finance.token,
                json!({}),
            )
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    }
}

/// The account of a deployment in a budget response.
pub fn account<'a>(budget: &'a Value, deployment: &str) -> &'a Value {
    budget["accounts"]
        .as_array()
        .and_then(|accounts| accounts.iter().find(|a| a["deployment"] == deployment))
        .unwrap_or_else(|| panic!("no {deployment} account in {budget}"))
}
