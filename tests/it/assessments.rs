//! Assessment to indicative budget: the council's RAS and its versions, the indicative weekly
//! amount worked out from points, refusals that write nothing, budgets citing an assessment
//! (`reason_required`), carers linked both ways, and carers' budgets without a contribution
//! (`carer_not_charged`).

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::scenario::{id, Scenario};

async fn assess(s: &Scenario, person: Uuid, body: Value) -> crate::support::Reply {
    s.app
        .post(
            &format!("/api/v1/people/{person}/assessments"),
            &s.care_manager.token,
            body,
        )
        .await
}

async fn assessments_of(s: &Scenario, person: Uuid) -> Vec<Value> {
    let reply = s
        .app
        .get(
            &format!("/api/v1/people/{person}/assessments"),
            &s.care_manager.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_ras_is_versioned_and_assessments_keep_the_version_they_were_priced_under() {
    let s = Scenario::new().await;
    let admin = s.council.admin_token.clone();
    // A new council has the default RAS, version 1.
    let ras = s.app.get("/api/v1/ras", &admin).await;
    assert_eq!(ras.status, StatusCode::OK, "{}", ras.text);
    assert_eq!(ras.json["version"], 1);
    assert_eq!(ras.json["price_per_point"], "10.00");
    assert_eq!(ras.json["domains"].as_array().unwrap().len(), 10);

    let person = s.person("Assessed Person", true, false).await;
    let first = assess(
        &s,
        person,
        json!({"domains": {"nutrition": 4, "personal_hygiene": 6, "community": 0},
               "notes": "Needs help with meals", "kind": "needs"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["indicative_weekly"], "100.00");
    assert_eq!(first.json["ras_version"], 1);
    assert_eq!(first.json["kind"], "needs");
    let workings = first.json["workings"].as_array().unwrap();
    assert_eq!(workings.len(), 3);
    assert_eq!(workings[0]["domain"], "nutrition");
    assert_eq!(workings[0]["points"], 4);
    assert_eq!(workings[0]["price_per_point"], "10.00");
    assert_eq!(workings[0]["amount"], "40.00");

    // Only the administrator changes it; a care manager 403.
    let change = json!({
        "domains": [
            {"name": "nutrition", "label": "Meals", "max_points": 20, "price_per_point": "12.50"},
            {"name": "personal_hygiene", "max_points": 10}
        ],
        "price_per_point": "8.00",
        "reason": "2026 prices"
    });
    let refused = s
        .app
        .put("/api/v1/ras", &s.care_manager.token, change.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let changed = s.app.put("/api/v1/ras", &admin, change).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["version"], 2);
    assert_eq!(changed.json["reason"], "2026 prices");

    // The new version prices the next assessment: 15 × 12.50 + 3 × 8.00.
    let second = assess(
        &s,
        person,
        json!({"domains": {"nutrition": 15, "personal_hygiene": 3}}),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.json["indicative_weekly"], "211.50");
    assert_eq!(second.json["ras_version"], 2);
    // A domain of version 1 only is unknown now.
    let gone = assess(&s, person, json!({"domains": {"community": 1}})).await;
    assert_eq!(gone.status, StatusCode::BAD_REQUEST, "{}", gone.text);

    // Both versions can be read; the first assessment still says 100.00 under version 1.
    let v1 = s.app.get("/api/v1/ras?version=1", &admin).await;
    assert_eq!(v1.json["version"], 1, "{}", v1.text);
    assert_eq!(v1.json["domains"].as_array().unwrap().len(), 10);
    let now = s.app.get("/api/v1/ras", &s.care_manager.token).await;
    assert_eq!(now.json["version"], 2, "{}", now.text);
    let missing = s.app.get("/api/v1/ras?version=7", &admin).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let versions = s.app.get("/api/v1/ras/versions", &admin).await;
    let numbers: Vec<i64> = versions.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let listed = assessments_of(&s, person).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["indicative_weekly"], "100.00");
    assert_eq!(listed[1]["ras_version"], 1);
    assert_eq!(listed[1]["notes"], "Needs help with meals");

    // A RAS that prices nothing, or names a domain twice, is refused and stores no version.
    for bad in [
        json!({"domains": [{"name": "nutrition", "max_points": 5}]}),
        json!({"domains": [{"name": "a", "max_points": 5}, {"name": "a", "max_points": 5}],
               "price_per_point": "1.00"}),
        json!({"domains": [], "price_per_point": "1.00"}),
        json!({"domains": [{"name": "Bad Name", "max_points": 5}], "price_per_point": "1.00"}),
        json!({"domains": [{"name": "a", "max_points": 0}], "price_per_point": "1.00"}),
        json!({"domains": [{"name": "a", "max_points": 5}], "price_per_point": "1.00", "colour": "red"}),
    ] {
        let reply = s.app.put("/api/v1/ras", &admin, bad.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
    }
    let still = s.app.get("/api/v1/ras", &admin).await;
    assert_eq!(still.json["version"], 2);
}

#[tokio::test]
async fn bad_domains_points_and_fields_are_refused_and_write_nothing() {
    let s = Scenario::new().await;
    let person = s.person("Careful Person", true, false).await;
    for bad in [
        json!({"domains": {"flying": 3}}),
        json!({"domains": {"nutrition": 11}}),
        json!({"domains": {"nutrition": -1}}),
        json!({"domains": {"nutrition": 2.5}}),
        json!({"domains": {"nutrition": "3"}}),
        json!({"domains": {}}),
        json!({"domains": {"nutrition": 3}, "kind": "friend"}),
        json!({"domains": {"nutrition": 3}, "score": 10}),
        json!({"notes": "no domains"}),
    ] {
        let reply = assess(&s, person, bad.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
    }
    assert!(assessments_of(&s, person).await.is_empty());
    // Only care managers assess.
    let reply = s
        .app
        .post(
            &format!("/api/v1/people/{person}/assessments"),
            &s.maker.token,
            json!({"domains": {"nutrition": 3}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert!(assessments_of(&s, person).await.is_empty());
}

#[tokio::test]
async fn a_budget_citing_an_assessment_says_why_its_cost_differs() {
    let s = Scenario::new().await;
    let person = s.person("Cited Person", true, false).await;
    let other = s.person("Someone Else", true, false).await;
    // 5 × 10.00 = 50.00 a week.
    let assessed = assess(&s, person, json!({"domains": {"nutrition": 5}})).await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{}", assessed.text);
    let assessment = assessed.json["id"].clone();

    // 26000.00 a year is 500.00 a week: a reason is required.
    let mut body = Scenario::budget_body(person);
    body["assessment_id"] = assessment.clone();
    let refused = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("reason_required"), "{}", refused.text);
    body["cost_reason"] = json!("   ");
    let blank = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.text
    );

    // Another person's assessment: 400.
    let mut theirs = Scenario::budget_body(other);
    theirs["assessment_id"] = assessment.clone();
    theirs["cost_reason"] = json!("Different");
    let wrong = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, theirs)
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    // A reason without an assessment: 400.
    let mut lone = Scenario::budget_body(person);
    lone["cost_reason"] = json!("Because");
    let lone = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, lone)
        .await;
    assert_eq!(lone.status, StatusCode::BAD_REQUEST, "{}", lone.text);

    // With a reason: stored and shown on the budget.
    body["cost_reason"] = json!("Two carers are needed for every visit");
    let created = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["assessment_id"], assessment);
    let budget = s
        .app
        .get(
            &format!("/api/v1/budgets/{}", id(&created)),
            &s.care_manager.token,
        )
        .await;
    assert_eq!(budget.status, StatusCode::OK, "{}", budget.text);
    assert_eq!(
        budget.json["cost_reason"],
        "Two carers are needed for every visit"
    );
    assert_eq!(budget.json["is_carer_budget"], false);
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s
        .app
        .page(&format!("/budgets/{}", id(&created)), &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Two carers are needed for every visit"),
        "{}",
        page.text
    );

    // The same cost as the indicative amount needs no reason: 2600.00 a year is 50.00 a week.
    let mut same = Scenario::budget_body(person);
    same["assessment_id"] = assessment;
    same["annual_cost"] = json!("2600.00");
    let same = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, same)
        .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    assert_eq!(same.json["cost_reason"], Value::Null);
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn carers_are_linked_both_ways() {
    let s = Scenario::new().await;
    let cared_for = s.person("Cared For", true, false).await;
    let carer = s.person("Carer", true, false).await;
    let path = format!("/api/v1/people/{cared_for}/carers");
    let linked = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"carer_person_id": carer}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.text);
    assert_eq!(names(&linked.json["carers"]), ["Carer"]);

    let theirs = s
        .app
        .get(
            &format!("/api/v1/people/{cared_for}"),
            &s.care_manager.token,
        )
        .await;
    assert_eq!(theirs.json["name"], "Cared For");
    assert_eq!(names(&theirs.json["carers"]), ["Carer"]);
    assert!(theirs.json["cares_for"].as_array().unwrap().is_empty());
    let mine = s
        .app
        .get(&format!("/api/v1/people/{carer}"), &s.care_manager.token)
        .await;
    assert_eq!(names(&mine.json["cares_for"]), ["Cared For"]);
    assert_eq!(mine.json["cares_for"][0]["person_id"], json!(cared_for));
    assert!(mine.json["carers"].as_array().unwrap().is_empty());

    let again = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"carer_person_id": carer}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let own = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"carer_person_id": cared_for}),
        )
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.text);
    let extra = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"carer_person_id": carer, "since": "2020"}),
        )
        .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST, "{}", extra.text);
    let auditor = s
        .app
        .post(&path, &s.auditor.token, json!({"carer_person_id": carer}))
        .await;
    assert_eq!(auditor.status, StatusCode::FORBIDDEN, "{}", auditor.text);
}

#[tokio::test]
async fn a_carers_budget_carries_no_contribution_unless_the_policy_charges_carers() {
    let s = Scenario::new().await;
    let carer = s.person("Carer With Budget", true, false).await;
    let assessed = assess(
        &s,
        carer,
        json!({"domains": {"relationships": 5}, "kind": "carer", "notes": "Carer's assessment"}),
    )
    .await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{}", assessed.text);
    assert_eq!(assessed.json["kind"], "carer");
    let mut body = Scenario::budget_body(carer);
    body["assessment_id"] = assessed.json["id"].clone();
    body["annual_cost"] = json!("2600.00");
    body["weekly_contribution"] = json!("10.00");
    let refused = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("carer_not_charged"),
        "{}",
        refused.text
    );

    body["weekly_contribution"] = json!("0");
    let created = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["is_carer_budget"], true);
    assert_eq!(created.json["person_amount"], "0.00");

    // A council that charges carers may set one.
    let admin = s.council.admin_token.clone();
    let mut policy = s.app.get("/api/v1/policy", &admin).await.json;
    assert_eq!(policy["charge_carers"], false);
    policy["charge_carers"] = json!(true);
    policy.as_object_mut().unwrap().remove("version");
    let changed = s.app.put("/api/v1/policy", &admin, policy).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["charge_carers"], true);
    body["weekly_contribution"] = json!("10.00");
    let charged = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body)
        .await;
    assert_eq!(charged.status, StatusCode::CREATED, "{}", charged.text);
    assert_eq!(charged.json["is_carer_budget"], true);
    assert_eq!(charged.json["weekly_contribution"], "10.00");
}

#[tokio::test]
async fn another_councils_care_manager_finds_nothing() {
    let s = Scenario::new().await;
    let person = s.person("Ours", true, false).await;
    let carer = s.person("Our Carer", true, false).await;
    let assessed = assess(&s, person, json!({"domains": {"nutrition": 2}})).await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{}", assessed.text);
    let elsewhere = s.elsewhere().await;
    let token = &elsewhere.care_manager;
    let create = s
        .app
        .post(
            &format!("/api/v1/people/{person}/assessments"),
            token,
            json!({"domains": {"nutrition": 2}}),
        )
        .await;
    assert_eq!(create.status, StatusCode::NOT_FOUND, "{}", create.text);
    let list = s
        .app
        .get(&format!("/api/v1/people/{person}/assessments"), token)
        .await;
    assert_eq!(list.status, StatusCode::NOT_FOUND, "{}", list.text);
    let link = s
        .app
        .post(
            &format!("/api/v1/people/{person}/carers"),
            token,
            json!({"carer_person_id": carer}),
        )
        .await;
    assert_eq!(link.status, StatusCode::NOT_FOUND, "{}", link.text);
    // Their own person with our assessment: 404, nothing created.
    let mut body = Scenario::budget_body(elsewhere.person);
    body["assessment_id"] = assessed.json["id"].clone();
    body["cost_reason"] = json!("Different");
    let budget = s.app.post("/api/v1/budgets", token, body).await;
    assert_eq!(budget.status, StatusCode::NOT_FOUND, "{}", budget.text);
    // Our carer cannot be linked to their person either.
    let cross = s
        .app
        .post(
            &format!("/api/v1/people/{}/carers", elsewhere.person),
            token,
            json!({"carer_person_id": carer}),
        )
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND, "{}", cross.text);
    assert_eq!(assessments_of(&s, person).await.len(), 1);
}

fn fields<'a>(pairs: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn the_person_page_records_assessments_and_carers_and_keeps_what_was_typed() {
    let s = Scenario::new().await;
    let person = s.person("Page Person", true, false).await;
    let carer = s.person("Page Carer", true, false).await;
    let (cookie, csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s.app.page(&format!("/people/{person}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("No assessment is recorded."));
    assert!(
        page.text.contains(r#"<label for="points_nutrition">"#),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"<label for="carer_person_id">"#));

    // Points out of range: the page again with the error beside the field and what was typed.
    let path = format!("/people/{person}/assessments");
    let bad = [
        ("csrf_token", csrf.clone()),
        ("kind", "needs".to_owned()),
        ("points_nutrition", "11".to_owned()),
        ("points_dressing", "2".to_owned()),
        ("notes", "Typed notes".to_owned()),
    ];
    let refused = s.app.form(&path, &cookie, &fields(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused.text.contains(r##"href="#points_nutrition""##),
        "{}",
        refused.text
    );
    assert!(refused.text.contains(r#"id="points_nutrition-error""#));
    assert!(refused.text.contains(r#"value="11""#));
    assert!(refused.text.contains("Typed notes</textarea>"));
    let words = [
        ("csrf_token", csrf.clone()),
        ("kind", "needs".to_owned()),
        ("points_nutrition", "four".to_owned()),
    ];
    let refused = s.app.form(&path, &cookie, &fields(&words)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains(r##"href="#points_nutrition""##));
    assert!(assessments_of(&s, person).await.is_empty());

    let good = [
        ("csrf_token", csrf.clone()),
        ("kind", "needs".to_owned()),
        ("points_nutrition", "4".to_owned()),
        ("points_dressing", "".to_owned()),
        ("notes", "Help with meals".to_owned()),
    ];
    let saved = s.app.form(&path, &cookie, &fields(&good)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = s.app.page(&format!("/people/{person}"), &cookie).await;
    assert!(
        page.text
            .contains("Managing and maintaining nutrition: 4 × £10.00 = £40.00"),
        "{}",
        page.text
    );
    assert_eq!(assessments_of(&s, person).await.len(), 1);

    // The carer link, shown on both pages; the same link again is refused beside the field.
    let carers = format!("/people/{person}/carers");
    let link = [
        ("csrf_token", csrf.clone()),
        ("carer_person_id", carer.to_string()),
    ];
    let linked = s.app.form(&carers, &cookie, &fields(&link)).await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text);
    let page = s.app.page(&format!("/people/{person}"), &cookie).await;
    assert!(page.text.contains("Cared for by"), "{}", page.text);
    assert!(page
        .text
        .contains(&format!(r#"<a href="/people/{carer}">Page Carer</a>"#)));
    let theirs = s.app.page(&format!("/people/{carer}"), &cookie).await;
    assert!(theirs.text.contains("Cares for"), "{}", theirs.text);
    assert!(theirs
        .text
        .contains(&format!(r#"<a href="/people/{person}">Page Person</a>"#)));
    let again = s.app.form(&carers, &cookie, &fields(&link)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(
        again.text.contains(r##"href="#carer_person_id""##),
        "{}",
        again.text
    );
    let none = [
        ("csrf_token", csrf.clone()),
        ("carer_person_id", String::new()),
    ];
    let none = s.app.form(&carers, &cookie, &fields(&none)).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.text);
    assert!(none.text.contains(r##"href="#carer_person_id""##));
}

#[tokio::test]
async fn the_ras_page_shows_versions_and_makes_a_new_one() {
    let s = Scenario::new().await;
    let admin_id = s.council.admin_id;
    let (cookie, csrf) = s.app.session(s.council.id, admin_id).await;
    let page = s.app.page("/council/ras", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Version 1 (in force)"), "{}", page.text);
    assert!(page.text.contains("Managing and maintaining nutrition"));
    assert!(page.text.contains(r#"<label for="name_0">"#));

    // A most-points that is not a number: the form again with what was typed.
    let bad = [
        ("csrf_token", csrf.clone()),
        ("name_0", "meals".to_owned()),
        ("label_0", "Meals".to_owned()),
        ("max_0", "lots".to_owned()),
        ("price_0", "".to_owned()),
        ("price_per_point", "9.50".to_owned()),
        ("reason", "New prices".to_owned()),
    ];
    let refused = s.app.form("/council/ras", &cookie, &fields(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused.text.contains(r##"href="#max_0""##),
        "{}",
        refused.text
    );
    assert!(refused.text.contains(r#"value="lots""#));
    assert!(refused.text.contains("New prices</textarea>"));
    // A need without a price when there is none for every need: refused beside its price.
    let unpriced = [
        ("csrf_token", csrf.clone()),
        ("name_0", "".to_owned()),
        ("max_0", "".to_owned()),
        ("name_1", "meals".to_owned()),
        ("max_1", "5".to_owned()),
        ("price_1", "".to_owned()),
        ("price_per_point", "".to_owned()),
    ];
    let refused = s
        .app
        .form("/council/ras", &cookie, &fields(&unpriced))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused.text.contains(r##"href="#price_1""##),
        "{}",
        refused.text
    );
    let ras = s.app.get("/api/v1/ras", &s.council.admin_token).await;
    assert_eq!(ras.json["version"], 1);

    let good = [
        ("csrf_token", csrf.clone()),
        ("name_0", "meals".to_owned()),
        ("label_0", "Meals".to_owned()),
        ("max_0", "8".to_owned()),
        ("price_0", "12.00".to_owned()),
        ("name_1", "washing".to_owned()),
        ("label_1", "".to_owned()),
        ("max_1", "6".to_owned()),
        ("price_1", "".to_owned()),
        ("price_per_point", "9.50".to_owned()),
        ("reason", "New prices".to_owned()),
    ];
    let saved = s.app.form("/council/ras", &cookie, &fields(&good)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let ras = s.app.get("/api/v1/ras", &s.council.admin_token).await;
    assert_eq!(ras.json["version"], 2, "{}", ras.text);
    assert_eq!(ras.json["domains"][0]["price_per_point"], "12.00");
    assert_eq!(ras.json["domains"][1]["name"], "washing");
    assert_eq!(ras.json["price_per_point"], "9.50");
    let page = s.app.page("/council/ras", &cookie).await;
    assert!(page.text.contains("Version 2 (in force)"), "{}", page.text);
    assert!(page.text.contains("New prices"));
    assert!(page.text.contains(r#"href="/council/ras?version=1""#));
    let old = s.app.page("/council/ras?version=1", &cookie).await;
    assert!(
        old.text.contains("Version 1,") || old.text.contains("Version 1."),
        "{}",
        old.text
    );
    assert!(!old.text.contains("Version 1 (in force)"));

    // A care manager reads it without the form and cannot post it.
    let (cm_cookie, cm_csrf) = s.app.session(s.council.id, s.care_manager.id).await;
    let read = s.app.page("/council/ras", &cm_cookie).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(!read.text.contains(r#"action="/council/ras""#));
    let mut post = good.to_vec();
    post[0] = ("csrf_token", cm_csrf);
    let refused = s.app.form("/council/ras", &cm_cookie, &fields(&post)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
}
