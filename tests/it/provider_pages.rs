//! The provider's pages in process: the worklist instead of the council dashboard, refusals on
//! forms that keep what was typed, another organisation's client 404, the return submitted once.

use axum::http::StatusCode;
use serde_json::json;

use crate::browser_provider::workspace;
use crate::support::scenario::id;

#[tokio::test]
async fn the_provider_dashboard_is_a_worklist_and_council_dashboards_are_unchanged() {
    let w = workspace().await;
    let (cookie, _) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let page = w.s.app.page("/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for item in [
        "Invoices to pay",
        "Invoice B-1 from Helping Hands",
        &format!("/invoices/{}", w.invoice),
        "£84.00 outstanding, due 22 Feb 2025",
        "Timesheets to approve",
        "Payroll to load",
        "Unmatched bank lines",
        "Returns due",
        "Return for 1 Oct 2024 to 31 Dec 2024",
        "/returns?from=2024-10-01&amp;to=2024-12-31",
        "Client balances",
    ] {
        assert!(page.text.contains(item), "{item} in {}", page.text);
    }
    let (cookie, _) = w.s.app.session(w.s.council.id, w.s.care_manager.id).await;
    let page = w.s.app.page("/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Organisations"), "{}", page.text);
    assert!(!page.text.contains("Invoices to pay"));
}

#[tokio::test]
async fn another_organisations_client_is_not_found() {
    let w = workspace().await;
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.isf_staff.id).await;
    let invoice = format!("/invoices/{}", w.invoice);
    assert_eq!(
        w.s.app.page(&invoice, &cookie).await.status,
        StatusCode::NOT_FOUND
    );
    let pay =
        w.s.app
            .form(
                &format!("{invoice}/pay"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "send"),
                    ("amount", "1.00"),
                ],
            )
            .await;
    assert_eq!(pay.status, StatusCode::NOT_FOUND, "{}", pay.text);
    let budget = w.s.budget_view(w.budget).await;
    let account = budget["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let statements =
        w.s.app
            .page(&format!("/accounts/{account}/bank-statements"), &cookie)
            .await;
    assert_eq!(statements.status, StatusCode::NOT_FOUND);
    // Their own list does not show it either.
    let list = w.s.app.page("/invoices", &cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains("B-1"), "{}", list.text);
    // Nothing was paid.
    let got =
        w.s.app
            .get(
                &format!("/api/v1/invoices/{}", w.invoice),
                &w.s.ma_staff.token,
            )
            .await;
    assert_eq!(got.json["paid"], "0.00");
}

#[tokio::test]
async fn refused_forms_keep_what_was_typed() {
    let w = workspace().await;
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let invoice = format!("/invoices/{}", w.invoice);

    // An amount that is not an amount.
    let pay =
        w.s.app
            .form(
                &format!("{invoice}/pay"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "check"),
                    ("amount", "12.345"),
                ],
            )
            .await;
    assert_eq!(pay.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", pay.text);
    assert!(pay.text.contains("error-summary"), "{}", pay.text);
    assert!(pay.text.contains(r#"value="12.345""#), "{}", pay.text);
    // More than is outstanding: the rules' refusal, the amount kept.
    let more =
        w.s.app
            .form(
                &format!("{invoice}/pay"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "send"),
                    ("amount", "90.00"),
                ],
            )
            .await;
    assert_eq!(
        more.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        more.text
    );
    assert!(more.text.contains(r#"value="90.00""#), "{}", more.text);

    // Disputing needs a reason; a reason too long is refused and kept.
    let long = "x".repeat(501);
    let dispute =
        w.s.app
            .form(
                &format!("{invoice}/decide"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "dispute"),
                    ("reason", &long),
                ],
            )
            .await;
    assert_eq!(dispute.status, StatusCode::BAD_REQUEST, "{}", dispute.text);
    assert!(dispute.text.contains(&long));
    let disputed =
        w.s.app
            .form(
                &format!("{invoice}/decide"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "dispute"),
                    ("reason", "Two calls missed"),
                ],
            )
            .await;
    assert_eq!(disputed.status, StatusCode::SEE_OTHER, "{}", disputed.text);
    // A disputed invoice is not paid: 409, and the page says so.
    let blocked =
        w.s.app
            .form(
                &format!("{invoice}/pay"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("action", "send"),
                    ("amount", "10.00"),
                ],
            )
            .await;
    assert_eq!(blocked.status, StatusCode::CONFLICT, "{}", blocked.text);

    // A payroll CSV whose payslip does not add up: 422 naming the row, the file kept.
    let csv = format!(
        "budget_id,payee_id,gross,tax,employee_ni,employer_ni,employee_pension,employer_pension,net\n{},{},168.75,10.00,5.00,7.00,5.00,3.00,150.00",
        w.budget, w.pa
    );
    let hmrc = w.hmrc.to_string();
    let payroll =
        w.s.app
            .form(
                "/payroll",
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("period_start", "2025-02-03"),
                    ("period_end", "2025-02-09"),
                    ("pay_date", "2025-02-14"),
                    ("hmrc_payee_id", &hmrc),
                    ("pension_payee_id", &w.pension.to_string()),
                    ("csv", &csv),
                ],
            )
            .await;
    assert_eq!(
        payroll.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        payroll.text
    );
    assert!(payroll.text.contains("Row 2"), "{}", payroll.text);
    assert!(payroll.text.contains("150.00"), "{}", payroll.text);
    assert!(payroll.text.contains(r#"value="2025-02-03""#));
    // A missing column is named.
    let missing =
        w.s.app
            .form(
                "/payroll",
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("period_start", "2025-02-03"),
                    ("period_end", "2025-02-09"),
                    ("pay_date", "2025-02-14"),
                    ("hmrc_payee_id", &hmrc),
                    ("csv", "budget_id,payee_id,gross\n"),
                ],
            )
            .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert!(
        missing.text.contains("employer_pension"),
        "{}",
        missing.text
    );

    // A form without the session's CSRF token is refused.
    let forged =
        w.s.app
            .form(&format!("{invoice}/pay"), &cookie, &[("action", "send")])
            .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn timesheets_are_rejected_from_the_page_with_the_reason_kept_on_refusal() {
    let w = workspace().await;
    let approver =
        w.s.app
            .user(
                &w.s.council,
                allot::auth::Role::ProviderStaff,
                Some(w.s.ma_provider),
                None,
            )
            .await;
    crate::payments_api::grant(
        &w.s,
        w.budget,
        json!({"user_id": approver.0, "acting_as": "managed_account_provider",
               "powers": ["approve"], "max_per_payment": "1000.00",
               "valid_from": "2020-01-01"}),
    )
    .await;
    let sheet =
        w.s.app
            .post(
                "/api/v1/timesheets",
                &w.s.ma_staff.token,
                json!({"budget_id": w.budget, "payee_id": w.pa, "week_ending": "2025-02-16",
                   "entries": [{"date": "2025-02-10", "hours": "30", "hourly_rate": "12.50"}]}),
            )
            .await;
    // 30 hours in a day is refused; 20 is submitted and over the 200.00 allowance.
    assert_eq!(sheet.status, StatusCode::BAD_REQUEST, "{}", sheet.text);
    let sheet =
        w.s.app
            .post(
                "/api/v1/timesheets",
                &w.s.ma_staff.token,
                json!({"budget_id": w.budget, "payee_id": w.pa, "week_ending": "2025-02-16",
                   "entries": [{"date": "2025-02-10", "hours": "20", "hourly_rate": "12.50"}]}),
            )
            .await;
    assert_eq!(sheet.status, StatusCode::CREATED, "{}", sheet.text);
    let sheet = id(&sheet);

    // Whoever submitted it sees no decision forms, and a rejection by them is refused, the
    // reason typed kept.
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let list = w.s.app.page("/timesheets", &cookie).await;
    assert!(list.text.contains("Over the allowance"), "{}", list.text);
    assert!(!list.text.contains(&format!("/timesheets/{sheet}/approve")));
    let own =
        w.s.app
            .form(
                &format!("/timesheets/{sheet}/reject"),
                &cookie,
                &[("csrf_token", &csrf), ("reason", "Too many hours")],
            )
            .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    assert!(
        own.text.contains("someone other than whoever submitted it"),
        "{}",
        own.text
    );

    let (cookie, csrf) = w.s.app.session(w.s.council.id, approver.0).await;
    let list = w.s.app.page("/timesheets", &cookie).await;
    assert!(
        list.text.contains(&format!("/timesheets/{sheet}/approve")),
        "{}",
        list.text
    );
    let empty =
        w.s.app
            .form(
                &format!("/timesheets/{sheet}/reject"),
                &cookie,
                &[("csrf_token", &csrf), ("reason", "")],
            )
            .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text
    );
    assert!(empty.text.contains("error-summary"));
    let rejected =
        w.s.app
            .form(
                &format!("/timesheets/{sheet}/reject"),
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("reason", "Twenty hours in one day?"),
                ],
            )
            .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.text);
    let list = w.s.app.page("/timesheets", &cookie).await;
    assert!(
        list.text.contains("Rejected: Twenty hours in one day?"),
        "{}",
        list.text
    );

    // Whoever submitted it corrects it from the page: a line that cannot be read is refused
    // with the text kept; the corrected week is version 2, waiting for the approver again.
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let list = w.s.app.page("/timesheets", &cookie).await;
    assert!(list.text.contains("2025-02-10, 20, 12.50"), "{}", list.text);
    let path = format!("/timesheets/{sheet}/correct");
    let bad =
        w.s.app
            .form(
                &path,
                &cookie,
                &[
                    ("csrf_token", &csrf),
                    ("entries", "2025-02-10, lots, 12.50"),
                ],
            )
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("2025-02-10, lots, 12.50"), "{}", bad.text);
    let fixed =
        w.s.app
            .form(
                &path,
                &cookie,
                &[("csrf_token", &csrf), ("entries", "2025-02-10, 8, 12.50")],
            )
            .await;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER, "{}", fixed.text);
    let got =
        w.s.app
            .get(&format!("/api/v1/timesheets/{sheet}"), &w.s.ma_staff.token)
            .await;
    assert_eq!(
        (
            &got.json["status"],
            &got.json["version"],
            &got.json["total"]
        ),
        (&json!("submitted"), &json!(2), &json!("100.00")),
        "{}",
        got.text
    );
    assert_eq!(
        got.json["history"][0]["reject_reason"],
        "Twenty hours in one day?"
    );
    // Another organisation's staff cannot correct it.
    let (other, other_csrf) = w.s.app.session(w.s.council.id, w.s.isf_staff.id).await;
    let sneaky =
        w.s.app
            .form(
                &path,
                &other,
                &[
                    ("csrf_token", &other_csrf),
                    ("entries", "2025-02-10, 1, 12.50"),
                ],
            )
            .await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND, "{}", sneaky.text);
}

#[tokio::test]
async fn the_return_is_printable_and_submitted_once() {
    let w = workspace().await;
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let page =
        w.s.app
            .page("/returns?from=2025-01-01&to=2025-01-31", &cookie)
            .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("table class=\"return\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("Submit this return to the council"));
    let bad =
        w.s.app
            .page("/returns?from=2025-02-01&to=2025-01-01", &cookie)
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains(r#"value="2025-02-01""#), "{}", bad.text);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("from", "2025-01-01"),
        ("to", "2025-01-31"),
    ];
    let submitted = w.s.app.form("/returns", &cookie, &fields).await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
    assert!(submitted.text.contains("The return was submitted"));
    let again = w.s.app.form("/returns", &cookie, &fields).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let css = w.s.app.page("/static/allot.css", &cookie).await;
    assert!(css.text.contains("@media print"));
    // Council staff have no provider's return page.
    let (cookie, _) = w.s.app.session(w.s.council.id, w.s.care_manager.id).await;
    assert_eq!(
        w.s.app.page("/returns", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn invoices_are_filtered_and_a_wrong_manual_match_is_refused_on_the_statement() {
    let w = workspace().await;
    let (cookie, csrf) = w.s.app.session(w.s.council.id, w.s.ma_staff.id).await;
    let reference = w.s.budget_view(w.budget).await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed =
        w.s.app
            .page(
                &format!("/invoices?status=received&budget={reference}"),
                &cookie,
            )
            .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(listed.text.contains("B-1"), "{}", listed.text);
    for other in ["/invoices?status=paid", "/invoices?budget=PB999999"] {
        let page = w.s.app.page(other, &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains(">B-1<"), "{other}: {}", page.text);
    }
    assert_eq!(
        w.s.app.page("/invoices?status=owed", &cookie).await.status,
        StatusCode::BAD_REQUEST
    );

    // Pay the invoice and import the statement through the API.
    let paid =
        w.s.app
            .post_with_key(
                &format!("/api/v1/invoices/{}/pay", w.invoice),
                &w.s.ma_staff.token,
                "page-pay",
                json!({}),
            )
            .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let account = w.s.budget_view(w.budget).await["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let xml = std::fs::read_to_string(format!(
        "{}/fixtures/camt053/browser_statement.001.08.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let request = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(format!("/api/v1/accounts/{account}/bank-statements"))
        .header("authorization", format!("Bearer {}", w.s.ma_staff.token))
        .header("content-type", "application/xml")
        .body(axum::body::Body::from(xml))
        .unwrap();
    let imported = w.s.app.send(request).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let statement = id(&imported);
    let line = imported.json["lines"][0]["id"].as_str().unwrap().to_owned();
    assert!(imported.json["lines"][0]["posting_id"].is_null());
    let postings = imported.json["unmatched_postings"].as_array().unwrap();
    let credit = postings
        .iter()
        .find(|p| p["direction"] == "credit")
        .expect("the release into the account")["posting_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another organisation's staff cannot see the statement or match its line.
    let (other, other_csrf) = w.s.app.session(w.s.council.id, w.s.isf_staff.id).await;
    assert_eq!(
        w.s.app
            .page(&format!("/bank-statements/{statement}"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let sneaky =
        w.s.app
            .form(
                &format!("/bank-statement-lines/{line}/match"),
                &other,
                &[("csrf_token", &other_csrf), ("posting-1", &credit)],
            )
            .await;
    assert_eq!(sneaky.status, StatusCode::NOT_FOUND, "{}", sneaky.text);

    // Matching the debit line to the credit posting is refused on the statement's page.
    let wrong =
        w.s.app
            .form(
                &format!("/bank-statement-lines/{line}/match"),
                &cookie,
                &[("csrf_token", &csrf), ("posting-1", &credit)],
            )
            .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    assert!(wrong.text.contains("error-summary"), "{}", wrong.text);
    assert!(
        wrong.text.contains("Bank statement BROWSER-1"),
        "{}",
        wrong.text
    );
    let view =
        w.s.app
            .get(
                &format!("/api/v1/bank-statements/{statement}"),
                &w.s.ma_staff.token,
            )
            .await;
    assert_eq!(view.json["unmatched"], 1, "{}", view.text);
}
