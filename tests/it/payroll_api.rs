//! Payroll runs through the API: payslips that must add up and match approved timesheets, paid
//! through the rules (net pay to the PA, tax and NI to HMRC, pensions to the scheme), a payslip
//! the rules refuse reported while the rest go through, and the run sent again paying nothing
//! twice. Nothing is written when the run is refused.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::payments_api::{bank, payee};
use crate::support::scenario::id;
use crate::support::Reply;
use crate::timesheets_api::{pa_setup, week, Pa};

struct Payroll {
    t: Pa,
    hmrc: uuid::Uuid,
    pension: uuid::Uuid,
}

async fn payroll_setup() -> Payroll {
    let t = pa_setup().await;
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
    Payroll { t, hmrc, pension }
}

impl Payroll {
    fn slip(&self, pa: uuid::Uuid, gross: &str, net: &str) -> Value {
        json!({"budget_id": self.t.budget, "payee_id": pa, "gross": gross, "tax": "10.00",
               "employee_ni": "5.00", "employer_ni": "7.00", "employee_pension": "5.00",
               "employer_pension": "3.00", "net": net})
    }

    fn run(&self, slips: Value) -> Value {
        json!({"period_start": "2025-02-03", "period_end": "2025-02-09",
               "pay_date": "2025-02-14", "hmrc_payee_id": self.hmrc,
               "pension_payee_id": self.pension, "payslips": slips})
    }

    async fn post(&self, token: &str, key: &str, body: Value) -> Reply {
        self.t
            .s
            .app
            .post_with_key("/api/v1/payroll-runs", token, key, body)
            .await
    }

    async fn count(&self, table: &'static str) -> i64 {
        let council = self.t.s.council.id;
        allot::db::in_tenant_tx(&self.t.s.app.db.pool, council, move |tx| {
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
}

#[tokio::test]
async fn a_payroll_run_is_checked_whole_before_anything_is_paid() {
    let p = payroll_setup().await;
    let staff = p.t.s.ma_staff.token.clone();
    // The second payslip does not add up: 250 − 10 − 5 − 5 = 230, not 231.
    let other_pa = payee(
        &p.t.s,
        json!({"name": "Kim Assistant", "kind": "personal_assistant", "bank": bank(),
               "bank_verified": true}),
    )
    .await;
    let wrong = p
        .post(
            &staff,
            "run-wrong",
            p.run(json!([
                p.slip(p.t.pa, "250.00", "230.00"),
                p.slip(other_pa, "250.00", "231.00")
            ])),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "payslip_does_not_add_up"),
        "{}",
        wrong.text
    );
    assert_eq!(wrong.json["error"]["details"][0]["field"], "payslips[1]");

    // A timesheet of the period not yet approved; then approved but for less than the gross.
    let sheet = p.t.submit(p.t.body("2025-02-09", week())).await;
    assert_eq!(sheet.status, StatusCode::CREATED, "{}", sheet.text);
    let body = p.run(json!([p.slip(p.t.pa, "250.00", "230.00")]));
    let waiting = p.post(&staff, "run-waiting", body.clone()).await;
    assert_eq!(
        (waiting.status, waiting.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "timesheet_not_approved"),
        "{}",
        waiting.text
    );
    let approved =
        p.t.s
            .app
            .post(
                &format!("/api/v1/timesheets/{}/approve", id(&sheet)),
                &p.t.approver.1,
                json!({}),
            )
            .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let over = p.post(&staff, "run-over", body.clone()).await;
    assert_eq!(
        (over.status, over.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "payslip_exceeds_timesheets"
        ),
        "{}",
        over.text
    );

    let mut no_scheme = p.run(json!([p.slip(p.t.pa, "168.75", "148.75")]));
    no_scheme["pension_payee_id"] = Value::Null;
    let mut agency = p.run(json!([p.slip(p.t.pa, "168.75", "148.75")]));
    agency["payslips"][0]["payee_id"] = json!(p.t.agency);
    let mut negative = p.run(json!([p.slip(p.t.pa, "168.75", "148.75")]));
    negative["payslips"][0]["tax"] = json!("-1.00");
    let mut backwards = p.run(json!([p.slip(p.t.pa, "168.75", "148.75")]));
    backwards["period_end"] = json!("2025-02-01");
    for (what, body, status) in [
        ("no pension scheme", no_scheme, StatusCode::BAD_REQUEST),
        ("a care agency's payslip", agency, StatusCode::BAD_REQUEST),
        ("a negative tax", negative, StatusCode::UNPROCESSABLE_ENTITY),
        (
            "a period ending before it starts",
            backwards,
            StatusCode::BAD_REQUEST,
        ),
        ("no payslips", p.run(json!([])), StatusCode::BAD_REQUEST),
    ] {
        let reply = p
            .post(&staff, &uuid::Uuid::new_v4().to_string(), body)
            .await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        assert_ne!(reply.code(), "", "{what}: no envelope");
    }
    // Another organisation's client; council staff never load payroll.
    let good = p.run(json!([p.slip(p.t.pa, "168.75", "148.75")]));
    let stranger = p.post(&p.t.s.isf_staff.token, "isf", good.clone()).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.text);
    let council = p.post(&p.t.s.care_manager.token, "cm", good).await;
    assert_eq!(
        (council.status, council.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(p.count("payments").await, 0, "nothing paid");
    assert_eq!(p.count("payroll_runs").await, 0, "no run recorded");
}

#[tokio::test]
async fn a_payroll_run_pays_through_the_rules_reports_refusals_and_pays_once() {
    let p = payroll_setup().await;
    let staff = p.t.s.ma_staff.token.clone();
    let sheet = p.t.submit(p.t.body("2025-02-09", week())).await;
    p.t.s
        .app
        .post(
            &format!("/api/v1/timesheets/{}/approve", id(&sheet)),
            &p.t.approver.1,
            json!({}),
        )
        .await;
    // A second PA whose net pay is over what the provider may pay in one payment.
    let dear = payee(
        &p.t.s,
        json!({"name": "Dee Assistant", "kind": "personal_assistant", "bank": bank(),
               "bank_verified": true}),
    )
    .await;
    let body = p.run(json!([
        p.slip(p.t.pa, "168.75", "148.75"),
        p.slip(dear, "1520.00", "1500.00")
    ]));
    let ran = p.post(&staff, "payroll-feb-1", body.clone()).await;
    assert_eq!(ran.status, StatusCode::CREATED, "{}", ran.text);
    assert_eq!(
        (&ran.json["paid"], &ran.json["refused"]),
        (&json!(1), &json!(1)),
        "{}",
        ran.text
    );
    let first = &ran.json["results"][0];
    assert_eq!(first["status"], "paid", "{}", ran.text);
    let parts: Vec<(String, String, String)> = first["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["part"].as_str().unwrap().to_owned(),
                x["amount"].as_str().unwrap().to_owned(),
                x["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        vec![
            ("net_pay".into(), "148.75".into(), "posted".into()),
            ("tax_and_ni".into(), "22.00".into(), "posted".into()),
            ("pension".into(), "8.00".into(), "posted".into()),
        ]
    );
    let second = &ran.json["results"][1];
    assert_eq!(second["status"], "refused");
    assert_eq!(
        second["payments"].as_array().unwrap().len(),
        1,
        "nothing else of it paid"
    );
    assert!(
        !second["payments"][0]["codes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        ran.text
    );
    // Net pay is a personal_assistant payment of the PA, as POST /payments would record it.
    let net_id = first["payments"][0]["payment_id"].as_str().unwrap();
    let net =
        p.t.s
            .app
            .get(&format!("/api/v1/payments/{net_id}"), &staff)
            .await;
    assert_eq!(net.status, StatusCode::OK, "{}", net.text);
    assert_eq!(net.json["category"], "personal_assistant");
    assert_eq!(net.json["status"], "posted");

    let payments = p.count("payments").await;
    let again = p.post(&staff, "payroll-feb-1", body.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.json["id"], ran.json["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(p.count("payments").await, payments, "nothing paid twice");
    assert_eq!(p.count("payroll_runs").await, 1);
    let reused = p
        .post(
            &staff,
            "payroll-feb-1",
            p.run(json!([p.slip(p.t.pa, "100.00", "80.00")])),
        )
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::CONFLICT, "idempotency_key_reused"),
        "{}",
        reused.text
    );
    // Another key for the same period: the PA paid by the first run is not paid again.
    let twice = p.post(&staff, "payroll-feb-2", body.clone()).await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "payslip_already_paid"),
        "{}",
        twice.text
    );
    assert_eq!(p.count("payments").await, payments, "nothing paid twice");
    // The payslip refused in the first run gave its claim back: a later run may try it again.
    let retry = p
        .post(
            &staff,
            "payroll-feb-3",
            p.run(json!([p.slip(dear, "1520.00", "1500.00")])),
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
}
