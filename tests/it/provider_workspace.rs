//! The provider's workspace through the API: payroll results as CSV (the same service as JSON,
//! refusals naming the column or row, nothing half-written), and timesheets rejected with a
//! reason and corrected as new versions with their history kept.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::payments_api::{bank, payee};
use crate::support::scenario::id;
use crate::support::Reply;
use crate::timesheets_api::{pa_setup, week, Pa};

pub(crate) const CSV_HEADER: &str =
    "budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,net";

pub(crate) async fn post_csv(t: &Pa, token: &str, key: &str, query: &str, csv: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/payroll-runs?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .header("idempotency-key", key)
        .body(Body::from(csv.to_owned()))
        .expect("request");
    t.s.app.send(request).await
}

async fn count(t: &Pa, table: &'static str) -> i64 {
    let council = t.s.council.id;
    allot::db::in_tenant_tx(&t.s.app.db.pool, council, move |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await?
                .get::<_, i64>(0))
        })
    })
    .await
    .unwrap()
}

async fn approve(t: &Pa, sheet: Uuid, token: &str) -> Reply {
    t.s.app
        .post(
            &format!("/api/v1/timesheets/{sheet}/approve"),
            token,
            json!({}),
        )
        .await
}

async fn reject(t: &Pa, sheet: Uuid, token: &str, reason: &str) -> Reply {
    t.s.app
        .post(
            &format!("/api/v1/timesheets/{sheet}/reject"),
            token,
            json!({"reason": reason}),
        )
        .await
}

async fn correct(t: &Pa, sheet: Uuid, token: &str, entries: Value) -> Reply {
    t.s.app
        .post(
            &format!("/api/v1/timesheets/{sheet}/correct"),
            token,
            json!({"entries": entries}),
        )
        .await
}

#[tokio::test]
async fn a_payroll_csv_is_checked_and_paid_like_the_json() {
    let t = pa_setup().await;
    let staff = t.s.ma_staff.token.clone();
    let hmrc = payee(
        &t.s,
        json!({"name": "HMRC PAYE", "kind": "council_service", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let pension = payee(
        &t.s,
        json!({"name": "Workplace Pensions", "kind": "retailer", "bank": bank(), "bank_verified": true}),
    )
    .await;
    let sheet = t.submit(t.body("2025-02-09", week())).await;
    assert_eq!(sheet.status, StatusCode::CREATED, "{}", sheet.text);
    let approved = approve(&t, id(&sheet), &t.approver.1).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let query = format!(
        "period_start=2025-02-03&period_end=2025-02-09&pay_date=2025-02-14&hmrc_payee_id={hmrc}&pension_payee_id={pension}"
    );
    let (budget, pa) = (t.budget, t.pa);
    let before = (count(&t, "payroll_runs").await, count(&t, "payments").await);

    // A missing column, a missing query parameter, a row that cannot be read: 400 naming it.
    let missing = post_csv(
        &t,
        &staff,
        "csv-1",
        &query,
        &format!("budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,net\n{budget},{pa},168.75,10.00,5.00,7.00,5.00,148.75\n"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert!(
        missing.text.contains("employer_pension"),
        "{}",
        missing.text
    );
    let no_period = post_csv(
        &t,
        &staff,
        "csv-2",
        &format!("period_start=2025-02-03&pay_date=2025-02-14&hmrc_payee_id={hmrc}"),
        &format!("{CSV_HEADER}\n{budget},{pa},168.75,10.00,5.00,7.00,5.00,3.00,148.75\n"),
    )
    .await;
    assert_eq!(
        no_period.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_period.text
    );
    assert!(no_period.text.contains("period_end"), "{}", no_period.text);
    let bad_row = post_csv(
        &t,
        &staff,
        "csv-3",
        &query,
        &format!("{CSV_HEADER}\n{budget},{pa},168.75,10.00,5.00,7.00,5.00,3.00,148.75\n{budget},not-an-id,1.00,0,0,0,0,0,1.00\n"),
    )
    .await;
    assert_eq!(bad_row.status, StatusCode::BAD_REQUEST, "{}", bad_row.text);
    assert_eq!(
        bad_row.json["error"]["details"][0]["row"], 3,
        "{}",
        bad_row.text
    );
    assert_eq!(bad_row.json["error"]["details"][0]["field"], "payee_id");

    // A payslip whose parts do not add up: 422 naming its row; nothing paid.
    let wrong = post_csv(
        &t,
        &staff,
        "csv-4",
        &query,
        &format!("{CSV_HEADER}\n{budget},{pa},168.75,10.00,5.00,7.00,5.00,3.00,149.75\n"),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "payslip_does_not_add_up"),
        "{}",
        wrong.text
    );
    assert_eq!(wrong.json["error"]["details"][0]["row"], 2);
    assert_eq!(wrong.json["error"]["details"][0]["field"], "payslips[0]");
    assert!(wrong.json["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Row 2"));
    assert_eq!(
        (count(&t, "payroll_runs").await, count(&t, "payments").await),
        before,
        "nothing is written on a refusal"
    );

    // The file that adds up is paid: net pay, tax and NI, pension.
    let csv = format!("{CSV_HEADER}\r\n{budget},{pa},168.75,10.00,5.00,7.00,5.00,3.00,148.75\r\n");
    let ran = post_csv(&t, &staff, "csv-5", &query, &csv).await;
    assert_eq!(ran.status, StatusCode::CREATED, "{}", ran.text);
    assert_eq!(ran.json["paid"], 1, "{}", ran.text);
    let payments = ran.json["results"][0]["payments"].as_array().unwrap();
    let parts: Vec<(&str, &str)> = payments
        .iter()
        .map(|p| (p["part"].as_str().unwrap(), p["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(
        parts,
        [
            ("net_pay", "148.75"),
            ("tax_and_ni", "22.00"),
            ("pension", "8.00")
        ]
    );
    // The same key and file again: the recorded run, nothing paid twice.
    let again = post_csv(&t, &staff, "csv-5", &query, &csv).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(count(&t, "payments").await, before.1 + 3);

    // Query parameters beside a JSON body are refused.
    let mixed =
        t.s.app
            .post_with_key(
                &format!("/api/v1/payroll-runs?{query}"),
                &staff,
                "csv-6",
                json!({}),
            )
            .await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST, "{}", mixed.text);
}

#[tokio::test]
async fn a_timesheet_is_rejected_with_a_reason_then_corrected_as_a_new_version() {
    let t = pa_setup().await;
    let staff = t.s.ma_staff.token.clone();
    let approver = t.approver.1.clone();
    let sheet = t.submit(t.body("2025-02-09", week())).await;
    assert_eq!(sheet.status, StatusCode::CREATED, "{}", sheet.text);
    let sheet = id(&sheet);

    // No reason; the one who submitted it; another organisation's staff.
    let no_reason = reject(&t, sheet, &approver, "  ").await;
    assert_eq!(
        (no_reason.status, no_reason.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason_required"),
        "{}",
        no_reason.text
    );
    let own = reject(&t, sheet, &staff, "Wrong hours").await;
    assert_eq!(
        (own.status, own.code()),
        (StatusCode::FORBIDDEN, "approver_conflict"),
        "{}",
        own.text
    );
    let other = reject(&t, sheet, &t.s.isf_staff.token, "Wrong hours").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    let other = correct(&t, sheet, &t.s.isf_staff.token, week()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);

    let rejected = reject(&t, sheet, &approver, "Tuesday was 5 hours, not 6.").await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "rejected");
    assert_eq!(
        rejected.json["reject_reason"],
        "Tuesday was 5 hours, not 6."
    );
    let twice = reject(&t, sheet, &approver, "Again").await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    let approve_rejected = approve(&t, sheet, &approver).await;
    assert_eq!(approve_rejected.status, StatusCode::CONFLICT);

    // A correction outside the week is refused and changes nothing.
    let bad = correct(
        &t,
        sheet,
        &staff,
        json!([{"date": "2025-02-12", "hours": "5", "hourly_rate": "12.50"}]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(count(&t, "timesheet_versions").await, 0);

    // The corrected week: version 2, submitted again, the rejected version kept.
    let corrected = correct(
        &t,
        sheet,
        &staff,
        json!([
            {"date": "2025-02-03", "hours": "7.5", "hourly_rate": "12.50"},
            {"date": "2025-02-04", "hours": "5", "hourly_rate": "12.50"}
        ]),
    )
    .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text);
    let c = &corrected.json;
    assert_eq!(c["status"], "submitted");
    assert_eq!(c["version"], 2);
    assert_eq!(c["total"], "156.25");
    assert_eq!(c["over_allowance"], false);
    assert_eq!(c["reject_reason"], Value::Null);
    assert_eq!(c["history"].as_array().unwrap().len(), 1);
    assert_eq!(c["history"][0]["version"], 1);
    assert_eq!(c["history"][0]["status"], "rejected");
    assert_eq!(c["history"][0]["total"], "168.75");
    assert_eq!(
        c["history"][0]["reject_reason"],
        "Tuesday was 5 hours, not 6."
    );

    // Hours over the plan's 200.00 a week are flagged on correction too.
    let over = correct(
        &t,
        sheet,
        &staff,
        json!([{"date": "2025-02-05", "hours": "20", "hourly_rate": "12.50"}]),
    )
    .await;
    assert_eq!(over.status, StatusCode::OK, "{}", over.text);
    assert_eq!(over.json["over_allowance"], true);
    assert_eq!(over.json["version"], 3);

    // The approver approves it; an approved timesheet is never corrected.
    let approved = approve(&t, sheet, &approver).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let late = correct(&t, sheet, &staff, week()).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    let got =
        t.s.app
            .get(&format!("/api/v1/timesheets/{sheet}"), &staff)
            .await;
    assert_eq!(got.json["history"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn whoever_corrected_a_timesheet_may_not_approve_it() {
    let t = pa_setup().await;
    let sheet = id(&t.submit(t.body("2025-02-09", week())).await);
    // The second member of staff corrects what the first submitted: neither may approve it now.
    let corrected = correct(&t, sheet, &t.approver.1, week()).await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text);
    for token in [&t.approver.1, &t.s.ma_staff.token] {
        let refused = approve(&t, sheet, token).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::FORBIDDEN, "approver_conflict"),
            "{}",
            refused.text
        );
    }
}
