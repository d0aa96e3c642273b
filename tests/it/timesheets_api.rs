//! Personal assistants' timesheets through the API: submitted by whoever holds the money the PA
//! is paid from, checked (the week, the hours of a day, the payee a PA), once per PA and week,
//! flagged over the plan's weekly allowance, and approved only by someone with an `approve` grant
//! who did not submit it. Nothing is written on a refusal.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use allot::auth::Role;

use crate::payments_api::{bank, grant, payee};
use crate::support::scenario::{id, Scenario, PERIOD};
use crate::support::Reply;

pub(crate) struct Pa {
    pub(crate) s: Scenario,
    pub(crate) budget: Uuid,
    pub(crate) pa: Uuid,
    pub(crate) agency: Uuid,
    pub(crate) person: Uuid,
    /// Another member of the provider's staff, with an `approve` grant.
    pub(crate) approver: (Uuid, String),
}

/// A budget whose plan pays personal assistants 200.00 a week from the managed account; a PA; a
/// second member of the provider's staff who may approve.
pub(crate) async fn pa_setup() -> Pa {
    let s = Scenario::new().await;
    let person = s.person("Pia Employer", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line(
                    "personal_assistant",
                    "200.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line(
                    "employment_costs",
                    "60.00",
                    "managed_account",
                    Some(s.ma_provider)
                ),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let pa = payee(
        &s,
        json!({"name": "Sam Assistant", "kind": "personal_assistant", "bank": bank(),
               "bank_verified": true}),
    )
    .await;
    let agency = payee(
        &s,
        json!({"name": "Helping Hands", "kind": "care_agency", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let approver = s
        .app
        .user(&s.council, Role::ProviderStaff, Some(s.ma_provider), None)
        .await;
    for user in [s.ma_staff.id, approver.0] {
        grant(
            &s,
            budget,
            json!({"user_id": user, "acting_as": "managed_account_provider",
                   "powers": ["pay", "approve"], "max_per_payment": "1000.00",
                   "valid_from": "2020-01-01"}),
        )
        .await;
    }
    Pa {
        s,
        budget,
        pa,
        agency,
        person,
        approver,
    }
}

impl Pa {
    pub(crate) fn body(&self, week_ending: &str, entries: Value) -> Value {
        json!({"budget_id": self.budget, "payee_id": self.pa, "week_ending": week_ending,
               "entries": entries})
    }

    pub(crate) async fn submit(&self, body: Value) -> Reply {
        self.s
            .app
            .post("/api/v1/timesheets", &self.s.ma_staff.token, body)
            .await
    }

    pub(crate) async fn rows(&self) -> i64 {
        let council = self.s.council.id;
        allot::db::in_tenant_tx(&self.s.app.db.pool, council, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_one("SELECT count(*) FROM timesheets", &[])
                    .await?
                    .get::<_, i64>(0))
            })
        })
        .await
        .unwrap()
    }
}

/// A week of 2025 (ending Sunday 9 February): Monday 7.5 hours, Tuesday 6 at 12.50.
pub(crate) fn week() -> Value {
    json!([
        {"date": "2025-02-03", "hours": "7.5", "hourly_rate": "12.50"},
        {"date": "2025-02-04", "hours": "6", "hourly_rate": "12.50"}
    ])
}

#[tokio::test]
async fn a_timesheet_is_submitted_once_per_week_and_priced() {
    let t = pa_setup().await;
    let created = t.submit(t.body("2025-02-09", week())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["status"], "submitted");
    assert_eq!(created.json["deployment"], "managed_account");
    assert_eq!(created.json["payee_name"], "Sam Assistant");
    assert_eq!(created.json["total_hours"], "13.5");
    assert_eq!(created.json["total"], "168.75");
    assert_eq!(created.json["entries"][0]["amount"], "93.75");
    assert_eq!(created.json["weekly_allowance"], "200.00");
    assert_eq!(created.json["over_allowance"], false);

    let again = t.submit(t.body("2025-02-09", week())).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "duplicate_timesheet"),
        "{}",
        again.text
    );
    // Over the plan's weekly 200.00 for PAs: flagged, not refused.
    let long = t
        .submit(t.body(
            "2025-02-16",
            json!([{"date": "2025-02-10", "hours": "20", "hourly_rate": "11.44"}]),
        ))
        .await;
    assert_eq!(long.status, StatusCode::CREATED, "{}", long.text);
    assert_eq!(long.json["total"], "228.80");
    assert_eq!(long.json["over_allowance"], true);

    let list = t.s.app.get("/api/v1/timesheets", &t.s.ma_staff.token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(list.json["items"][0]["week_ending"], "2025-02-09");
    let fetched =
        t.s.app
            .get(
                &format!("/api/v1/timesheets/{}", id(&created)),
                &t.s.ma_staff.token,
            )
            .await;
    assert_eq!(fetched.json, created.json);
}

#[tokio::test]
async fn bad_timesheets_are_refused_and_nothing_is_written() {
    let t = pa_setup().await;
    let entry = |date: &str, hours: &str, rate: &str| json!([{"date": date, "hours": hours, "hourly_rate": rate}]);
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "no entries",
            t.body("2025-02-09", json!([])),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a day before the week",
            t.body("2025-02-09", entry("2025-02-02", "3", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a day after week_ending",
            t.body("2025-02-09", entry("2025-02-10", "3", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "zero hours",
            t.body("2025-02-09", entry("2025-02-03", "0", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "negative hours",
            t.body("2025-02-09", entry("2025-02-03", "-2", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "25 hours",
            t.body("2025-02-09", entry("2025-02-03", "25", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a day of two entries over 24 hours",
            t.body(
                "2025-02-09",
                json!([{"date": "2025-02-03", "hours": "16", "hourly_rate": "12.00"},
                       {"date": "2025-02-03", "hours": "9", "hourly_rate": "15.00"}]),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "hours to three places",
            t.body("2025-02-09", entry("2025-02-03", "1.125", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a zero rate",
            t.body("2025-02-09", entry("2025-02-03", "3", "0.00")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a rate of fractions of a penny",
            t.body("2025-02-09", entry("2025-02-03", "3", "12.005")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a week in the future",
            t.body("2099-01-04", entry("2098-12-29", "3", "12.00")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "an unknown field",
            {
                let mut b = t.body("2025-02-09", week());
                b["overtime"] = json!(true);
                b
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "a care agency is not a PA",
            {
                let mut b = t.body("2025-02-09", week());
                b["payee_id"] = json!(t.agency);
                b
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "no such payee",
            {
                let mut b = t.body("2025-02-09", week());
                b["payee_id"] = json!(Uuid::new_v4());
                b
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "no such budget",
            {
                let mut b = t.body("2025-02-09", week());
                b["budget_id"] = json!(Uuid::new_v4());
                b
            },
            StatusCode::NOT_FOUND,
        ),
        (
            "a date that is not a date",
            t.body("2025-02-30", week()),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, body, status) in cases {
        let reply = t.submit(body).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        assert!(
            !reply.code().is_empty(),
            "{what}: no envelope: {}",
            reply.text
        );
    }
    assert_eq!(t.rows().await, 0, "nothing written for a refused timesheet");

    // Council staff do not submit timesheets; the ISF provider holds nothing of this budget.
    let staff =
        t.s.app
            .post(
                "/api/v1/timesheets",
                &t.s.care_manager.token,
                t.body("2025-02-09", week()),
            )
            .await;
    assert_eq!(
        (staff.status, staff.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let stranger =
        t.s.app
            .post(
                "/api/v1/timesheets",
                &t.s.isf_staff.token,
                t.body("2025-02-09", week()),
            )
            .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.text);
    assert_eq!(t.rows().await, 0);
}

#[tokio::test]
async fn a_timesheet_is_approved_by_someone_with_a_grant_who_did_not_submit_it() {
    let t = pa_setup().await;
    let created = t.submit(t.body("2025-02-09", week())).await;
    let sheet = id(&created);
    let approve = |token: String| {
        let s = &t.s;
        async move {
            s.app
                .post(
                    &format!("/api/v1/timesheets/{sheet}/approve"),
                    &token,
                    json!({}),
                )
                .await
        }
    };
    // Whoever submitted it for the PA does not approve it, grant or not.
    let own = approve(t.s.ma_staff.token.clone()).await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::FORBIDDEN, "approver_conflict"),
        "{}",
        own.text
    );
    // A colleague without an approve grant has no authority.
    let (_, colleague) =
        t.s.app
            .user(
                &t.s.council,
                Role::ProviderStaff,
                Some(t.s.ma_provider),
                None,
            )
            .await;
    let no_grant = approve(colleague).await;
    assert_eq!(
        (no_grant.status, no_grant.code()),
        (StatusCode::FORBIDDEN, "no_authority"),
        "{}",
        no_grant.text
    );
    // Council staff never approve timesheets; the ISF provider's staff do not see it.
    let staff = approve(t.s.care_manager.token.clone()).await;
    assert_eq!(
        (staff.status, staff.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let stranger = approve(t.s.isf_staff.token.clone()).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.text);
    let elsewhere = t.s.elsewhere().await;
    let other_council = approve(elsewhere.care_manager.clone()).await;
    assert!(matches!(
        other_council.status,
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
    ));
    let still =
        t.s.app
            .get(&format!("/api/v1/timesheets/{sheet}"), &t.s.ma_staff.token)
            .await;
    assert_eq!(still.json["status"], "submitted");

    let approved = approve(t.approver.1.clone()).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(approved.json["approved_by"], json!(t.approver.0));
    let twice = approve(t.approver.1.clone()).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

    let approved_list =
        t.s.app
            .get("/api/v1/timesheets?status=approved", &t.approver.1)
            .await;
    assert_eq!(approved_list.json["items"].as_array().unwrap().len(), 1);
    let submitted_list =
        t.s.app
            .get("/api/v1/timesheets?status=submitted", &t.approver.1)
            .await;
    assert_eq!(submitted_list.json["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_person_submits_their_pas_week_and_their_nominated_person_approves_it() {
    let t = pa_setup().await;
    let (_, holder) =
        t.s.app
            .user(&t.s.council, Role::BudgetHolder, None, Some(t.person))
            .await;
    let mine =
        t.s.app
            .post("/api/v1/timesheets", &holder, t.body("2025-02-09", week()))
            .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
    assert_eq!(mine.json["deployment"], "direct_payment");
    // The plan pays no PA from the direct payment: flagged.
    assert_eq!(mine.json["weekly_allowance"], "0.00");
    assert_eq!(mine.json["over_allowance"], true);
    // The provider's staff hold the managed account, not the direct payment.
    let seen =
        t.s.app
            .get(&format!("/api/v1/timesheets/{}", id(&mine)), &t.approver.1)
            .await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.text);

    let nominated =
        t.s.app
            .user(&t.s.council, Role::Representative, None, None)
            .await;
    grant(
        &t.s,
        t.budget,
        json!({"user_id": nominated.0, "acting_as": "nominated_person", "powers": ["approve"],
               "max_per_payment": "500.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let list = t.s.app.get("/api/v1/timesheets", &nominated.1).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
    let approved =
        t.s.app
            .post(
                &format!("/api/v1/timesheets/{}/approve", id(&mine)),
                &nominated.1,
                json!({}),
            )
            .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
}
