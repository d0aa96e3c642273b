//! Statutory returns through the API: a council with people of every delivery mechanism and age
//! band, every count of the delivery-mechanism return checked by hand, and the Client Level Data
//! rows reconciled with the plan lines recorded.

use axum::http::StatusCode;
use chrono::{Datelike, Duration, Months, NaiveDate};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::scenario::{id, Elsewhere, Scenario};

/// The business date the database stamps plan approvals with (plans are approved "now").
async fn db_today(s: &Scenario) -> NaiveDate {
    let client = s.app.db.pool.get().await.unwrap();
    client
        .query_one("SELECT (now() AT TIME ZONE 'Europe/London')::date", &[])
        .await
        .unwrap()
        .get(0)
}

/// The first 31 March after `today`.
fn next_year_end(today: NaiveDate) -> NaiveDate {
    let this = NaiveDate::from_ymd_opt(today.year(), 3, 31).unwrap();
    if this > today {
        this
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, 3, 31).unwrap()
    }
}

fn years_before(day: NaiveDate, years: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(12 * years)).unwrap()
}

pub(crate) struct Built {
    pub(crate) s: Scenario,
    pub(crate) today: NaiveDate,
    pub(crate) as_of: NaiveDate,
    /// (person, budget end, deployment, weekly amount) of every line expected in the CLD.
    lines: Vec<(Uuid, Option<NaiveDate>, &'static str, &'static str)>,
    others: Elsewhere,
}

impl Built {
    async fn person(&self, name: &str, dob: NaiveDate) -> Uuid {
        let reply = self
            .s
            .app
            .post(
                "/api/v1/people",
                &self.s.care_manager.token,
                json!({"name": name, "date_of_birth": dob, "has_capacity": true}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        id(&reply)
    }

    fn line(&self, deployment: &str, weekly: &str) -> Value {
        let holder = match deployment {
            "managed_account" => Some(self.s.ma_provider),
            "isf" => Some(self.s.isf_provider),
            _ => None,
        };
        Scenario::line("personal_care", weekly, deployment, holder)
    }

    /// A budget for `person` with an approved plan of `lines`; counted unless `counted` is false.
    async fn budget(
        &mut self,
        person: Uuid,
        changes: Value,
        lines: &[(&'static str, &'static str)],
        counted: bool,
    ) -> Uuid {
        let mut body = Scenario::budget_body(person);
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        let end = body["end_date"].as_str().map(|d| d.parse().unwrap());
        let plan: Vec<Value> = lines.iter().map(|(d, w)| self.line(d, w)).collect();
        let budget = self.s.approved_budget(body, json!(plan)).await;
        if counted {
            for (d, w) in lines {
                self.lines.push((person, end, d, w));
            }
        }
        budget
    }
}

pub(crate) async fn build() -> Built {
    let s = Scenario::new().await;
    let today = db_today(&s).await;
    let as_of = next_year_end(today);
    // Another council's person with a direct payment: never counted here.
    let others = s.elsewhere().await;
    let mut b = Built {
        s,
        today,
        as_of,
        lines: Vec::new(),
        others,
    };
    let young = years_before(as_of, 40);
    let old = years_before(as_of, 80);
    // Direct payment only: a direct payment and a managed account (18–64); a direct payment (65+).
    let a = b.person("Ada", young).await;
    b.budget(
        a,
        json!({}),
        &[("direct_payment", "100.00"), ("managed_account", "50.00")],
        true,
    )
    .await;
    let bob = b.person("Bob", old).await;
    b.budget(bob, json!({}), &[("direct_payment", "120.00")], true)
        .await;
    // Part direct payment: a direct payment and an ISF (18–64); a managed account and a
    // council-managed line for someone 65 on the very day (65+); and someone 65+ with two
    // budgets, one a direct payment and one an ISF: counted once.
    let c = b.person("Cy", young).await;
    b.budget(
        c,
        json!({}),
        &[("direct_payment", "80.00"), ("isf", "200.00")],
        true,
    )
    .await;
    let d = b.person("Di", years_before(as_of, 65)).await;
    b.budget(
        d,
        json!({}),
        &[("managed_account", "60.00"), ("council_managed", "40.00")],
        true,
    )
    .await;
    let g = b.person("Gus", old).await;
    b.budget(g, json!({}), &[("direct_payment", "30.00")], true)
        .await;
    b.budget(g, json!({}), &[("isf", "300.00")], true).await;
    // CASSR managed personal budget: an ISF for someone 65 the day after (18–64); council-managed
    // (65+); and a plan replaced the same day by an ISF plan (18–64): the first was never in force.
    let e = b
        .person("Eve", years_before(as_of, 65) + Duration::days(1))
        .await;
    b.budget(e, json!({}), &[("isf", "250.00")], true).await;
    let f = b.person("Fay", old).await;
    b.budget(f, json!({}), &[("council_managed", "90.00")], true)
        .await;
    let k = b.person("Kit", young).await;
    let kb = b
        .budget(k, json!({}), &[("direct_payment", "70.00")], false)
        .await;
    let v2 = b.s.plan(kb, json!([b.line("isf", "75.00")])).await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text);
    let approved = b.s.approve_plan(kb).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    b.lines.push((k, None, "isf", "75.00"));
    // Not counted on the day: 17 on the day (in the CLD, which has no age limit); NHS-funded;
    // a budget that ends the day before (in the CLD, with its end date).
    let h = b
        .person("Hal", years_before(as_of, 18) + Duration::days(1))
        .await;
    b.budget(h, json!({}), &[("direct_payment", "20.00")], true)
        .await;
    let n = b.person("Nia", young).await;
    b.budget(n, json!({"funder": "nhs"}), &[("isf", "100.00")], false)
        .await;
    let j = b.person("Jo", young).await;
    let end = (as_of - Duration::days(1)).to_string();
    b.budget(
        j,
        json!({"end_date": end}),
        &[("direct_payment", "55.00")],
        true,
    )
    .await;
    let theirs =
        b.s.app
            .post(
                "/api/v1/budgets",
                &b.others.care_manager,
                Scenario::budget_body(b.others.person),
            )
            .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let theirs = id(&theirs);
    for (method, path, body) in [
        (
            "PUT",
            format!("/api/v1/budgets/{theirs}/plan"),
            json!({"lines": [Scenario::line("personal_care", "10.00", "direct_payment", None)],
                "cash_allowed": false}),
        ),
        (
            "POST",
            format!("/api/v1/budgets/{theirs}/plan/approve"),
            json!({}),
        ),
    ] {
        let reply = match method {
            "PUT" => b.s.app.put(&path, &b.others.care_manager, body).await,
            _ => b.s.app.post(&path, &b.others.care_manager, body).await,
        };
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    b
}

fn row<'a>(report: &'a Value, mechanism: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mechanism"] == mechanism)
        .unwrap_or_else(|| panic!("no {mechanism} in {report}"))
}

#[tokio::test]
async fn the_delivery_mechanism_return_counts_each_adult_once_by_mechanism_and_band() {
    let b = build().await;
    let reply =
        b.s.app
            .get(
                &format!("/api/v1/reports/delivery-mechanism?as_of={}", b.as_of),
                &b.s.auditor.token,
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let r = &reply.json;
    assert_eq!(r["as_of"], b.as_of.to_string());
    let order: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mechanism"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "direct_payment_only",
            "part_direct_payment",
            "cassr_managed_personal_budget",
            "cassr_commissioned_support_only"
        ]
    );
    let counts = |m: &str| {
        let x = row(r, m);
        (
            x["aged_18_64"].as_u64().unwrap(),
            x["aged_65_plus"].as_u64().unwrap(),
            x["total"].as_u64().unwrap(),
        )
    };
    // Ada | Bob.
    assert_eq!(counts("direct_payment_only"), (1, 1, 2), "{r}");
    // Cy | Di (65 today), Gus (two budgets, once).
    assert_eq!(counts("part_direct_payment"), (1, 2, 3), "{r}");
    // Eve (65 tomorrow), Kit (second plan) | Fay.
    assert_eq!(counts("cassr_managed_personal_budget"), (2, 1, 3), "{r}");
    assert_eq!(counts("cassr_commissioned_support_only"), (0, 0, 0), "{r}");
    assert_eq!(
        (&r["total_18_64"], &r["total_65_plus"], &r["total"]),
        (&json!(4), &json!(4), &json!(8))
    );
    // ASCOF 3D 1a: self-directed support (all three personal-budget mechanisms) over everyone;
    // 2a: direct payments (only + part) over everyone.
    let a = &r["ascof_3d"];
    assert_eq!(
        a["part_1a"]["aged_18_plus"],
        json!({"numerator": 8, "denominator": 8, "percent": "100.0"})
    );
    assert_eq!(
        a["part_2a"]["aged_18_plus"],
        json!({"numerator": 5, "denominator": 8, "percent": "62.5"})
    );
    assert_eq!(
        a["part_2a"]["aged_18_64"],
        json!({"numerator": 2, "denominator": 4, "percent": "50.0"})
    );
    assert_eq!(
        a["part_2a"]["aged_65_plus"],
        json!({"numerator": 3, "denominator": 4, "percent": "75.0"})
    );
    assert_eq!(
        a["part_1a"]["aged_65_plus"],
        json!({"numerator": 4, "denominator": 4, "percent": "100.0"})
    );
    // The day before the plans were approved nobody was in support.
    let before =
        b.s.app
            .get(
                &format!(
                    "/api/v1/reports/delivery-mechanism?as_of={}",
                    b.today - Duration::days(1)
                ),
                &b.s.maker.token,
            )
            .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.json["total"], 0);
    assert_eq!(
        before.json["ascof_3d"]["part_1a"]["aged_18_plus"]["percent"],
        Value::Null
    );
    // The other council counts only its own.
    let theirs =
        b.s.app
            .get(
                &format!("/api/v1/reports/delivery-mechanism?as_of={}", b.as_of),
                &b.others.care_manager,
            )
            .await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert_eq!(theirs.json["total"], 1, "{}", theirs.text);
}

#[tokio::test]
async fn the_cld_rows_reconcile_with_the_plan_lines_in_force() {
    let b = build().await;
    let reply =
        b.s.app
            .get(
                &format!("/api/v1/reports/cld?from={}&to={}", b.today, b.as_of),
                &b.s.care_manager.token,
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut csv = csv::Reader::from_reader(reply.text.as_bytes());
    let headers: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        headers,
        [
            "LA_Person_Unique_Identifier",
            "Reporting_Period_Start_Date",
            "Reporting_Period_End_Date",
            "Event_Type",
            "Event_Start_Date",
            "Event_End_Date",
            "Service_Type",
            "Delivery_Mechanism",
            "Unit_Cost",
            "Cost_Frequency_Unit_Type",
            "Planned_units_per_week"
        ]
    );
    let mut got: Vec<Vec<String>> = csv
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let mechanism = |d: &str| match d {
        "direct_payment" | "managed_account" => "Direct payment",
        _ => "CASSR managed personal budget",
    };
    let mut expected: Vec<Vec<String>> = b
        .lines
        .iter()
        .map(|(person, end, deployment, weekly)| {
            vec![
                person.to_string(),
                b.today.to_string(),
                b.as_of.to_string(),
                "Service".into(),
                b.today.to_string(),
                end.map(|e| e.to_string()).unwrap_or_default(),
                "Long term support: Community".into(),
                mechanism(deployment).into(),
                weekly.to_string(),
                "Weekly".into(),
                "1".into(),
            ]
        })
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got.len(), 14, "{}", reply.text);
    assert_eq!(got, expected);
    // A period that ended before the plans were approved has no rows.
    let earlier =
        b.s.app
            .get(
                "/api/v1/reports/cld?from=2025-01-01&to=2025-03-31",
                &b.s.care_manager.token,
            )
            .await;
    assert_eq!(earlier.status, StatusCode::OK, "{}", earlier.text);
    assert_eq!(earlier.text.lines().count(), 1, "{}", earlier.text);

    // A carer's own budget (from a carer's assessment) is a row with the carer service type;
    // the other rows keep theirs.
    let carer = b.person("Carer", years_before(b.as_of, 50)).await;
    let assessed =
        b.s.app
            .post(
                &format!("/api/v1/people/{carer}/assessments"),
                &b.s.care_manager.token,
                json!({"domains": {"relationships": 5}, "kind": "carer"}),
            )
            .await;
    assert_eq!(assessed.status, StatusCode::CREATED, "{}", assessed.text);
    let mut body = Scenario::budget_body(carer);
    body["annual_cost"] = json!("2600.00");
    body["assessment_id"] = assessed.json["id"].clone();
    b.s.approved_budget(body, json!([b.line("direct_payment", "50.00")]))
        .await;
    let reply =
        b.s.app
            .get(
                &format!("/api/v1/reports/cld?from={}&to={}", b.today, b.as_of),
                &b.s.care_manager.token,
            )
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(reply.text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 15, "{}", reply.text);
    let (carers, others): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r[0] == carer.to_string());
    assert_eq!(carers.len(), 1, "{}", reply.text);
    assert_eq!(carers[0][6], "Carer support: Direct to carer");
    assert_eq!(carers[0][8], "50.00");
    assert!(others
        .iter()
        .all(|r| r[6] == "Long term support: Community"));
}

#[tokio::test]
async fn bad_periods_and_other_roles_are_refused() {
    let s = Scenario::new().await;
    let token = &s.auditor.token;
    for path in [
        "/api/v1/reports/cld?from=2026-04-01&to=2026-03-31",
        "/api/v1/reports/cld?from=2026-04-01",
        "/api/v1/reports/cld?from=2026-02-30&to=2026-03-31",
        "/api/v1/reports/cld?from=yesterday&to=2026-03-31",
        "/api/v1/reports/cld?from=2020-01-01&to=2026-03-31",
        "/api/v1/reports/delivery-mechanism?as_of=2026-13-31",
        "/api/v1/reports/delivery-mechanism",
        "/api/v1/reports/delivery-mechanism?as_of=2026-03-31&extra=1",
    ] {
        let reply = s.app.get(path, token).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request", "{path}");
    }
    for token in [&s.broker.token, &s.ma_staff.token] {
        for path in [
            "/api/v1/reports/cld?from=2026-04-01&to=2027-03-31",
            "/api/v1/reports/delivery-mechanism?as_of=2026-03-31",
        ] {
            let reply = s.app.get(path, token).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.text
            );
            assert_eq!(reply.code(), "forbidden");
        }
    }
    for token in [
        &s.council.admin_token,
        &s.care_manager.token,
        &s.maker.token,
    ] {
        let reply = s
            .app
            .get("/api/v1/reports/delivery-mechanism?as_of=2026-03-31", token)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
}
