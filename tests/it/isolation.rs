//! Tenant isolation, as a matrix generated from the published OpenAPI description: every path
//! with a path parameter × every method × a caller of every role of council A, with the ids of
//! council B's real resources (and a random id) in the path. Every answer must be 404 (or 403
//! `forbidden` where the role may never do it, or 400/401/405 for a request refused before
//! anything is looked up): never a success, never a server error, and nothing of council B may
//! change. A new route is in the matrix as soon as it is in the OpenAPI description.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use uuid::Uuid;

use allot::auth::Role;

use crate::support::scenario::{account, id, Scenario, PERIOD};
use crate::support::{openapi, Reply, TestApp};

/// Council B's resources, by the path segment that names their kind (`budgets/{id}`).
struct Resources {
    by_kind: BTreeMap<&'static str, Vec<Uuid>>,
    /// Ids for fields of a request body, by field name (`payee_id`).
    by_field: BTreeMap<&'static str, Uuid>,
}

impl Resources {
    /// The ids to try for a path parameter after `segment`: council B's of that kind, or every
    /// id of council B when the kind is unknown; and always a random one.
    fn candidates(&self, segment: &str) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = match self.by_kind.get(segment) {
            Some(ids) => ids.clone(),
            None => self.by_kind.values().flatten().copied().collect(),
        };
        ids.push(Uuid::new_v4());
        ids
    }
}

/// Council B with one of everything: a person, a budget with an approved plan (a direct payment
/// and a managed account), its accounts, a released and a draft payment run, a payee, a grant,
/// a posted and a held payment, a review, a contribution.
async fn council_b(s: &Scenario) -> Resources {
    let person = s.person("Bea Elsewhere", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_care",
                    "120.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    let released = s.release(PERIOD).await;
    let released = released["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let draft = s.draft_run("isolation-draft", "2025-03-03").await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = id(&draft);
    let (holder, holder_token) = s
        .app
        .user(&s.council, Role::BudgetHolder, None, Some(person))
        .await;
    let (cosigner, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let record = |body: Value| async move {
        let reply = s
            .app
            .post(
                &format!("/api/v1/budgets/{budget}/agreements"),
                &s.care_manager.token,
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        id(&reply)
    };
    let grant = record(
        json!({"user_id": holder, "acting_as": "self", "powers": ["pay"],
                              "max_per_payment": "500.00", "cosign_above": "50.00",
                              "valid_from": "2020-01-01"}),
    )
    .await;
    let cosigner_grant = record(json!({"user_id": cosigner, "acting_as": "family_member",
                                       "powers": ["approve"], "max_per_payment": "500.00",
                                       "valid_from": "2020-01-01"}))
    .await;
    let payee = s
        .app
        .post(
            "/api/v1/payees",
            &s.maker.token,
            json!({"name": "Helping Hands", "kind": "care_agency", "bank_verified": true,
                   "bank": {"sort_code": "30-00-00", "account_number": "12345678",
                            "account_name": "Helping Hands"}}),
        )
        .await;
    assert_eq!(payee.status, StatusCode::CREATED, "{}", payee.text);
    let payee = id(&payee);
    let pay = |amount: &'static str, key: &'static str| {
        let body = json!({"budget_id": budget, "deployment": "direct_payment", "payee_id": payee,
                          "category": "personal_care", "amount": amount,
                          "service_date": "2025-02-10"});
        let token = holder_token.clone();
        async move {
            let reply = s
                .app
                .post_with_key("/api/v1/payments", &token, key, body)
                .await;
            assert_eq!(reply.status.as_u16() / 100, 2, "{}", reply.text);
            reply
        }
    };
    let posted = pay("20.00", "isolation-posted").await;
    assert_eq!(posted.json["status"], "posted", "{}", posted.text);
    let held = pay("60.00", "isolation-held").await;
    assert_eq!(held.json["status"], "pending_approval", "{}", held.text);
    let contribution = s
        .app
        .post_with_key(
            &format!("/api/v1/budgets/{budget}/contributions"),
            &s.maker.token,
            "isolation-contribution",
            json!({"amount": "5.00", "received_on": "2025-02-10"}),
        )
        .await;
    let reviews = s.app.get("/api/v1/reviews", &s.care_manager.token).await;
    let review = reviews.json["items"][0]["id"]
        .as_str()
        .and_then(|r| r.parse::<Uuid>().ok());
    let view = s.budget_view(budget).await;
    let accounts: Vec<Uuid> = ["direct_payment", "managed_account"]
        .iter()
        .map(|d| account(&view, d)["id"].as_str().unwrap().parse().unwrap())
        .collect();

    let mut by_kind: BTreeMap<&'static str, Vec<Uuid>> = BTreeMap::new();
    by_kind.insert("people", vec![person]);
    by_kind.insert("budgets", vec![budget]);
    by_kind.insert("accounts", accounts.clone());
    by_kind.insert("payment-runs", vec![released, draft]);
    by_kind.insert("payees", vec![payee]);
    by_kind.insert("payments", vec![id(&posted), id(&held)]);
    by_kind.insert("agreements", vec![grant, cosigner_grant]);
    by_kind.insert("users", vec![holder, s.care_manager.id]);
    by_kind.insert("organisations", vec![s.ma_provider, s.broker_org]);
    by_kind.insert("reviews", review.into_iter().collect());
    if contribution.status == StatusCode::CREATED {
        by_kind.insert("contributions", vec![id(&contribution)]);
    }
    let webhook = s
        .app
        .post(
            "/api/v1/webhooks",
            &s.council.admin_token,
            json!({"url": "https://93.184.216.34/hooks", "events": ["payment.posted"]}),
        )
        .await;
    assert_eq!(webhook.status, StatusCode::CREATED, "{}", webhook.text);
    by_kind.insert("webhooks", vec![id(&webhook)]);
    let by_field = BTreeMap::from([
        ("budget_id", budget),
        ("person_id", person),
        ("payee_id", payee),
        ("user_id", holder),
        ("account_id", accounts[0]),
        ("holder_organisation_id", s.ma_provider),
        ("organisation_id", s.ma_provider),
        ("broker_organisation_id", s.broker_org),
    ]);
    Resources { by_kind, by_field }
}

/// Council A: a caller of every role.
async fn council_a(app: &TestApp) -> Vec<(Role, String)> {
    let council = app.council("Council A").await;
    let org = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            json!({"name": "A Providers", "kind": "managed_account_provider"}),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.text);
    let org = id(&org);
    let broker_org = app
        .post(
            "/api/v1/organisations",
            &council.admin_token,
            json!({"name": "A Brokers", "kind": "broker"}),
        )
        .await;
    let broker_org = id(&broker_org);
    let (_, care_manager) = app.user(&council, Role::CareManager, None, None).await;
    let person = app
        .post(
            "/api/v1/people",
            &care_manager,
            json!({"name": "Ann Here", "date_of_birth": "1970-01-01", "has_capacity": true}),
        )
        .await;
    let person = id(&person);
    let mut callers = vec![
        (Role::CouncilAdmin, council.admin_token.clone()),
        (Role::CareManager, care_manager),
    ];
    for (role, org, person) in [
        (Role::FinanceOfficer, None, None),
        (Role::Auditor, None, None),
        (Role::Broker, Some(broker_org), None),
        (Role::ProviderStaff, Some(org), None),
        (Role::BudgetHolder, None, Some(person)),
        (Role::Representative, None, None),
    ] {
        callers.push((role, app.user(&council, role, org, person).await.1));
    }
    assert_eq!(callers.len(), Role::ALL.len());
    callers
}

/// Council B's rows, every table, as the superuser sees them: to show nothing of B changed.
async fn fingerprint(app: &TestApp, council: Uuid) -> BTreeMap<String, String> {
    let (client, connection) = app.db.config.connect(NoTls).await.unwrap();
    let task = tokio::spawn(connection);
    let tables = client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                           AND a.attname = 'council_id' AND NOT a.attisdropped)
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for row in tables {
        let table: String = row.get(0);
        let digest: Option<String> = client
            .query_one(
                &format!(
                    "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t
                     WHERE council_id = $1"
                ),
                &[&council],
            )
            .await
            .unwrap()
            .get(0);
        out.insert(table, digest.unwrap_or_default());
    }
    drop(client);
    let _ = task.await;
    out
}

/// The path with its parameters replaced, every combination of the candidates.
fn expand(path: &str, b: &Resources) -> Vec<String> {
    let mut paths = vec![String::new()];
    let mut previous = "";
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('{') && segment.ends_with('}') {
            let candidates = b.candidates(previous);
            paths = paths
                .iter()
                .flat_map(|p| candidates.iter().map(move |id| format!("{p}/{id}")))
                .collect();
        } else {
            for p in &mut paths {
                p.push('/');
                p.push_str(segment);
            }
        }
        previous = segment;
    }
    paths
}

#[tokio::test]
async fn no_role_of_one_council_reaches_anothers_resources_by_id() {
    let s = Scenario::new().await;
    let b = council_b(&s).await;
    let callers = council_a(&s.app).await;
    let doc = s
        .app
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .json;
    let before = fingerprint(&s.app, s.council.id).await;

    let mut failures: Vec<String> = Vec::new();
    let mut routes = 0;
    // (method, path) → the statuses seen, to check that the lookup itself was reached.
    let mut seen: BTreeMap<(String, String), BTreeSet<u16>> = BTreeMap::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        if !template.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !operation.is_object() || method == Method::OPTIONS {
                continue;
            }
            routes += 1;
            let body = operation["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| {
                    openapi::sample(
                        &doc,
                        &operation["requestBody"]["content"]["application/json"]["schema"],
                        "",
                        &b.by_field,
                        0,
                    )
                });
            for path in expand(template, &b) {
                for (role, token) in &callers {
                    let mut request = Request::builder()
                        .method(method.clone())
                        .uri(&path)
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .header("idempotency-key", Uuid::new_v4().to_string());
                    let body = match (&body, method == Method::GET) {
                        (_, true) => Body::empty(),
                        (Some(json), false) => {
                            request = request.header(header::CONTENT_TYPE, "application/json");
                            Body::from(json.to_string())
                        }
                        (None, false) => {
                            request = request.header(header::CONTENT_TYPE, "application/json");
                            Body::from("{}")
                        }
                    };
                    let reply: Reply = s.app.send(request.body(body).unwrap()).await;
                    seen.entry((method.to_string(), template.clone()))
                        .or_default()
                        .insert(reply.status.as_u16());
                    let allowed = match reply.status {
                        StatusCode::NOT_FOUND => reply.code() == "not_found",
                        StatusCode::FORBIDDEN => reply.code() == "forbidden",
                        StatusCode::BAD_REQUEST
                        | StatusCode::UNAUTHORIZED
                        | StatusCode::METHOD_NOT_ALLOWED => true,
                        _ => false,
                    };
                    if !allowed {
                        failures.push(format!(
                            "{method} {path} as {}: {} {}",
                            role.as_str(),
                            reply.status,
                            reply.text.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(routes >= 25, "only {routes} routes with a path parameter");
    assert!(
        failures.is_empty(),
        "{} requests reached council B's resources or failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every route was refused for not finding B's resource by at least one role (the others may
    // never do it at all): a route refused only as malformed would not test isolation.
    let untested: Vec<String> = seen
        .iter()
        .filter(|(_, statuses)| !statuses.contains(&404) && statuses.iter().any(|s| *s != 403))
        .map(|((method, path), statuses)| format!("{method} {path}: {statuses:?}"))
        .collect();
    assert!(
        untested.is_empty(),
        "routes never answered 404 (their requests were refused before the lookup):\n{}",
        untested.join("\n")
    );
    assert_eq!(
        fingerprint(&s.app, s.council.id).await,
        before,
        "council B's rows changed"
    );

    // The ids are real: council B's own staff read each of them.
    for (kind, prefix) in [
        ("people", "/api/v1/people/"),
        ("budgets", "/api/v1/budgets/"),
        ("payees", "/api/v1/payees/"),
        ("payments", "/api/v1/payments/"),
        ("payment-runs", "/api/v1/payment-runs/"),
    ] {
        let token = if kind == "payment-runs" {
            &s.maker.token
        } else {
            &s.care_manager.token
        };
        for resource in &b.by_kind[kind] {
            let reply = s.app.get(&format!("{prefix}{resource}"), token).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{prefix}{resource}: {}",
                reply.text
            );
        }
    }
    for account in &b.by_kind["accounts"] {
        let reply = s
            .app
            .get(
                &format!("/api/v1/accounts/{account}/entries"),
                &s.care_manager.token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
}
