//! Bank statements imported as CSV: the Barclays, Lloyds and NatWest export layouts (fixtures in
//! fixtures/bank_csv/), any CSV through a column mapping, matched like camt.053; files that
//! cannot be read, do not balance or were imported before are refused with nothing written.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::invoices_api::provider_setup;
use crate::payments_api::Setup;
use crate::support::Reply;

pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/bank_csv/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn send(t: &Setup, token: &str, path: &str, content_type: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    t.s.app.send(request).await
}

pub(crate) fn managed_account(view: &Value) -> String {
    view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_owned()
}

async fn statements_path(t: &Setup) -> String {
    let account = managed_account(&t.s.budget_view(t.budget).await);
    format!("/api/v1/accounts/{account}/bank-statements")
}

fn detail(reply: &Reply) -> Value {
    reply.json["error"]["details"][0].clone()
}

#[tokio::test]
async fn each_bank_layout_is_read_with_its_balances() {
    let t = provider_setup().await;
    let token = t.s.ma_staff.token.clone();
    let path = statements_path(&t).await;
    for (file, query, format) in [
        (
            "barclays.csv",
            "?opening_balance=0&closing_balance=1742.00",
            "csv.barclays",
        ),
        ("lloyds.csv", "", "csv.lloyds"),
        ("natwest.csv", "?layout=natwest", "csv.natwest"),
    ] {
        let reply = send(
            &t,
            &token,
            &format!("{path}{query}"),
            "text/csv",
            &fixture(file),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{file}: {}", reply.text);
        let view = &reply.json;
        assert_eq!(view["format"], format);
        assert_eq!(view["opening_balance"], "0.00", "{file}");
        assert_eq!(view["closing_balance"], "1742.00", "{file}");
        assert_eq!(view["from_date"], "2025-02-04");
        assert_eq!(view["to_date"], "2025-02-14");
        assert!(view["statement_ref"].as_str().unwrap().starts_with("CSV-"));
        let lines: Vec<(String, String, String)> = view["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["direction"].as_str().unwrap().to_owned(),
                    l["amount"].as_str().unwrap().to_owned(),
                    l["booked_on"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // Oldest first, whichever way the bank wrote them.
        assert_eq!(
            lines,
            vec![
                ("credit".into(), "1920.00".into(), "2025-02-04".into()),
                ("debit".into(), "168.00".into(), "2025-02-10".into()),
                ("debit".into(), "10.00".into(), "2025-02-14".into()),
            ],
            "{file}"
        );
        let remittance = view["lines"][1]["remittance"].as_str().unwrap();
        assert!(remittance.contains("BRIGHT CARE LTD"), "{remittance}");
        assert!(!remittance.starts_with('\''), "{remittance}");
    }

    // Barclays' export has no balance column: without the balances it is refused.
    let before = t.s.app.snapshot().await;
    let bare = send(&t, &token, &path, "text/csv", &fixture("barclays.csv")).await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST, "{}", bare.text);
    assert_eq!(detail(&bare)["field"], "opening_balance");
    // A layout named that the header does not fit: 400 naming the missing column.
    let wrong = send(
        &t,
        &token,
        &format!("{path}?layout=lloyds"),
        "text/csv",
        &fixture("natwest.csv"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    assert_eq!(detail(&wrong)["field"], "Transaction Date");
    assert!(wrong.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing"));
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn a_mapped_csv_is_matched_like_camt053_and_imported_once() {
    let t = provider_setup().await;
    let token = t.s.ma_staff.token.clone();
    let path = statements_path(&t).await;
    let invoice = t
        .s
        .app
        .post(
            "/api/v1/invoices",
            &token,
            json!({"budget_id": t.budget, "deployment": "managed_account", "payee_id": t.agency,
                   "category": "personal_care", "invoice_number": "CSV-1", "issued_on": "2025-02-07",
                   "lines": [{"description": "Calls", "quantity": "1", "unit_price": "168.00"}],
                   "total": "168.00"}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);
    let paid =
        t.s.app
            .post_with_key(
                &format!(
                    "/api/v1/invoices/{}/pay",
                    invoice.json["id"].as_str().unwrap()
                ),
                &token,
                "csv-pay",
                json!({}),
            )
            .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    // An empty statement lists the account's postings, all unmatched.
    let empty = send(
        &t,
        &token,
        &format!(
            "{path}?date_column=When&amount_column=Amount&opening_balance=0&closing_balance=0"
        ),
        "text/csv",
        "When,Amount\n",
    )
    .await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.text);
    assert_eq!(empty.json["format"], "csv");
    let postings = empty.json["unmatched_postings"].as_array().unwrap().clone();
    let release = postings
        .iter()
        .find(|p| p["direction"] == "credit")
        .unwrap();
    let payment = postings.iter().find(|p| p["direction"] == "debit").unwrap();
    let released: rust_decimal::Decimal = release["amount"].as_str().unwrap().parse().unwrap();
    let closing = released - rust_decimal::Decimal::new(17800, 2);
    let reference = release["posting_id"].as_str().unwrap().replace('-', "");
    let paid_on: chrono::NaiveDate = payment["effective_date"].as_str().unwrap().parse().unwrap();

    // Money out and in in two columns, a reference column, ISO dates by a format.
    let csv = format!(
        "Posted,Details,Ref,Paid out,Paid in\n\
         {},COUNCIL RELEASE,{reference},,{released:.2}\n\
         {},BRIGHT CARE,,168.00,\n\
         {},BANK CHARGE,,10.00,\n",
        paid_on.format("%d.%m.%Y"),
        paid_on.format("%d.%m.%Y"),
        paid_on.format("%d.%m.%Y"),
    );
    let query = format!(
        "?date_column=Posted&debit_column=Paid%20out&credit_column=Paid%20in\
         &description_column=Details&reference_column=Ref&date_format=%25d.%25m.%25Y\
         &opening_balance=0&closing_balance={closing:.2}"
    );
    let imported = send(&t, &token, &format!("{path}{query}"), "text/csv", &csv).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let view = &imported.json;
    assert_eq!(
        (view["matched"].as_u64(), view["unmatched"].as_u64()),
        (Some(2), Some(1)),
        "{}",
        imported.text
    );
    assert_eq!(view["lines"][0]["matched_by"], "reference");
    assert_eq!(view["lines"][0]["posting_id"], release["posting_id"]);
    assert_eq!(view["lines"][0]["bank_reference"], reference.as_str());
    assert_eq!(view["lines"][1]["matched_by"], "amount_and_date");
    assert_eq!(view["lines"][1]["posting_id"], payment["posting_id"]);
    assert_eq!(view["difference"], "-10.00");
    assert_eq!(view["unexplained"], "0.00");

    // The same file again: 409, nothing added.
    let before = t.s.app.snapshot().await;
    let again = send(&t, &token, &format!("{path}{query}"), "text/csv", &csv).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "statement_already_imported"),
        "{}",
        again.text
    );
    assert_eq!(t.s.app.snapshot().await, before);

    // Another organisation's staff: 404 whatever the file; council staff 403.
    let stranger = send(
        &t,
        &t.s.isf_staff.token,
        &format!("{path}{query}"),
        "text/csv",
        &csv,
    )
    .await;
    assert_eq!(
        (stranger.status, stranger.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let council = send(
        &t,
        &t.s.care_manager.token,
        &format!("{path}{query}"),
        "text/csv",
        &csv,
    )
    .await;
    assert_eq!(council.status, StatusCode::FORBIDDEN);
    assert_eq!(t.s.app.snapshot().await, before);
}

#[tokio::test]
async fn bad_csv_statements_are_refused_naming_the_row_and_column() {
    let t = provider_setup().await;
    let token = t.s.ma_staff.token.clone();
    let path = statements_path(&t).await;
    let before = t.s.app.snapshot().await;
    let lloyds = fixture("lloyds.csv");

    // A balance that does not follow: 422.
    let unbalanced = lloyds.replace("1742.00", "1743.00");
    let reply = send(&t, &token, &path, "text/csv", &unbalanced).await;
    assert_eq!(
        (reply.status, reply.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "statement_does_not_balance"
        ),
        "{}",
        reply.text
    );
    // No balance column and the given balances do not add up: 422.
    let barclays = send(
        &t,
        &token,
        &format!("{path}?opening_balance=0&closing_balance=1700.00"),
        "text/csv",
        &fixture("barclays.csv"),
    )
    .await;
    assert_eq!(
        barclays.code(),
        "statement_does_not_balance",
        "{}",
        barclays.text
    );
    // Balances given that the balance column contradicts: 422.
    let contradicted = send(
        &t,
        &token,
        &format!("{path}?opening_balance=5.00"),
        "text/csv",
        &lloyds,
    )
    .await;
    assert_eq!(contradicted.code(), "statement_does_not_balance");

    // 400 naming the row and column.
    for (csv, row, column) in [
        (
            lloyds.replace("10/02/2025", "31/02/2025"),
            3,
            "Transaction Date",
        ),
        (lloyds.replace("168.00,,", "168.005,,"), 3, "Debit Amount"),
        (lloyds.replace(",,1920.00,", ",,lots,"), 4, "Credit Amount"),
        (
            lloyds.replace("ACCOUNT FEE,10.00,,", "ACCOUNT FEE,10.00,10.00,"),
            2,
            "Debit Amount",
        ),
        (lloyds.replace("1752.00", "1752.0x"), 3, "Balance"),
    ] {
        let reply = send(&t, &token, &path, "text/csv", &csv).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{csv}: {}",
            reply.text
        );
        let d = detail(&reply);
        assert_eq!(
            (d["row"].as_u64(), d["field"].as_str()),
            (Some(row), Some(column)),
            "{}",
            reply.text
        );
    }

    // A missing column of a mapping, a header no layout fits, mapping and layout together,
    // half a mapping, parameters on camt.053, a bad format or layout: 400.
    let mapped = "Posted,Amount\n2025-02-03,1.00\n";
    for (query, body, field) in [
        ("?date_column=Posted&amount_column=Value&opening_balance=0&closing_balance=1", mapped, "Value"),
        ("?opening_balance=0&closing_balance=1", mapped, "layout"),
        ("?layout=barclays&date_column=Posted&amount_column=Amount", mapped, "layout"),
        ("?date_column=Posted&debit_column=Amount", mapped, "amount_column"),
        ("?amount_column=Amount", mapped, "date_column"),
        ("?layout=monzo", mapped, "layout"),
        ("?date_column=Posted&amount_column=Amount&date_format=%25Q&opening_balance=0&closing_balance=1", mapped, "date_format"),
        ("?date_column=Posted&amount_column=Amount&opening_balance=0.001&closing_balance=1", mapped, "opening_balance"),
        ("", "", "file"),
    ] {
        let reply = send(&t, &token, &format!("{path}{query}"), "text/csv", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.text);
        assert_eq!(detail(&reply)["field"], field, "{query}: {}", reply.text);
    }
    let unknown = send(
        &t,
        &token,
        &format!("{path}?colour=red"),
        "text/csv",
        mapped,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let xml_with_layout = send(
        &t,
        &token,
        &format!("{path}?layout=lloyds"),
        "application/xml",
        "<Document/>",
    )
    .await;
    assert_eq!(xml_with_layout.status, StatusCode::BAD_REQUEST);
    let other = send(&t, &token, &path, "application/json", "{}").await;
    assert_eq!(other.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn the_command_line_imports_a_statement_through_the_same_path() {
    let t = provider_setup().await;
    let account = managed_account(&t.s.budget_view(t.budget).await);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        file
    };
    let natwest = write("natwest.csv", &fixture("natwest.csv"));
    let barclays = write("barclays.csv", &fixture("barclays.csv"));
    let camt = write(
        "statement.xml",
        &std::fs::read_to_string(format!(
            "{}/fixtures/camt053/statement.001.08.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    );
    let config = &t.s.app.db.config;
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        tokio_postgres::config::Host::Tcp(name) => name.clone(),
    };
    let url = format!(
        "host={host} port={} user={} dbname={}",
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("postgres"),
    );
    let run = |token: &str, file: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_allot"))
            .env("DATABASE_URL", &url)
            .env_remove("ALLOT_APP_DATABASE_URL")
            .env("ALLOT_TOKEN", token)
            .args(["import", "statement"])
            .arg(file)
            .args(["--account", &account])
            .args(extra)
            .output()
            .unwrap()
    };
    let token = t.s.ma_staff.token.clone();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let no_token = run("not a token", &natwest, &[]);
    assert!(!no_token.status.success());
    assert!(text(&no_token.stderr).contains("ALLOT_TOKEN"));

    let imported = run(&token, &natwest, &[]);
    let stdout = text(&imported.stdout);
    assert!(
        imported.status.success(),
        "{stdout} {}",
        text(&imported.stderr)
    );
    assert!(stdout.contains("(csv.natwest)"), "{stdout}");
    assert!(
        stdout.contains("line 2: debit 168.00 on 2025-02-10"),
        "{stdout}"
    );
    assert!(stdout.contains("unmatched;"), "{stdout}");
    assert!(stdout.contains("difference"), "{stdout}");

    let again = run(&token, &natwest, &[]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("statement_already_imported"),
        "{}",
        text(&again.stderr)
    );
    // Barclays' export needs the balances; with them it is imported.
    let bare = run(&token, &barclays, &[]);
    assert!(!bare.status.success());
    assert!(
        text(&bare.stderr).contains("opening_balance"),
        "{}",
        text(&bare.stderr)
    );
    let balanced = run(
        &token,
        &barclays,
        &[
            "--layout",
            "barclays",
            "--opening-balance",
            "0",
            "--closing-balance",
            "1742.00",
        ],
    );
    assert!(balanced.status.success(), "{}", text(&balanced.stderr));
    assert!(text(&balanced.stdout).contains("(csv.barclays)"));
    // XML is read as camt.053.
    let xml = run(&token, &camt, &[]);
    assert!(xml.status.success(), "{}", text(&xml.stderr));
    assert!(
        text(&xml.stdout).contains("(camt.053.001.08)"),
        "{}",
        text(&xml.stdout)
    );
    // Another organisation's staff cannot reach the account.
    let stranger = run(
        &t.s.isf_staff.token,
        &barclays,
        &["--opening-balance", "0", "--closing-balance", "1742.00"],
    );
    assert!(!stranger.status.success());
    assert!(
        text(&stranger.stderr).contains("not_found"),
        "{}",
        text(&stranger.stderr)
    );
    let listed = t.s.app.snapshot().await;
    let again_snapshot = {
        let _ = run(&token, &natwest, &[]);
        t.s.app.snapshot().await
    };
    assert_eq!(listed, again_snapshot, "a refused import writes nothing");
}

/// A net-basis budget whose person pays 30.00 a week into the managed account the scenario's
/// provider holds: the first period's expected contribution is 4 × 30.00 = 120.00 from PERIOD.
async fn paying_in(s: &crate::support::scenario::Scenario, name: &str) -> (uuid::Uuid, Value) {
    use crate::support::scenario::Scenario;
    let mut body = Scenario::budget_body(s.person(name, true, false).await);
    body["weekly_contribution"] = json!("30.00");
    let budget = s
        .approved_budget(
            body,
            json!([Scenario::line(
                "personal_care",
                "150.00",
                "managed_account",
                Some(s.ma_provider)
            )]),
        )
        .await;
    let view = s.budget_view(budget).await;
    (budget, view)
}

#[tokio::test]
async fn money_in_is_matched_to_expected_contributions_once() {
    use crate::support::scenario::{Scenario, PERIOD};
    use chrono::TimeZone;
    let s = Scenario::new().await;
    let (a, a_view) = paying_in(&s, "Ada Payer").await;
    let (b, b_view) = paying_in(&s, "Ben Payer").await;
    s.release(PERIOD).await;
    s.app
        .state
        .clock
        .set(chrono::Utc.with_ymd_and_hms(2025, 2, 25, 9, 0, 0).unwrap());
    let a_reference = a_view["reference"].as_str().unwrap().to_owned();
    let token = s.ma_staff.token.clone();
    let import = |account: String, csv: String| {
        let app = &s.app;
        let token = token.clone();
        async move {
            let request = Request::builder()
                .method(Method::POST)
                .uri(format!(
                    "/api/v1/accounts/{account}/bank-statements?date_column=Date&amount_column=Amount\
                     &description_column=Details&opening_balance=0&closing_balance=120.00"
                ))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(csv))
                .unwrap();
            app.send(request).await
        }
    };
    let arrears = |budget: uuid::Uuid| {
        let s = &s;
        async move { s.budget_view(budget).await["contributions"].clone() }
    };
    assert_eq!(arrears(a).await["arrears"], "120.00");

    // By reference: paid late (far from the period's start), the budget's reference in the text.
    let by_reference = import(
        managed_account(&a_view),
        format!("Date,Amount,Details\n20/02/2025,120.00,A PAYER {a_reference} FEB\n"),
    )
    .await;
    assert_eq!(
        by_reference.status,
        StatusCode::CREATED,
        "{}",
        by_reference.text
    );
    assert_eq!(
        by_reference.json["lines"][0]["matched_by"], "contribution",
        "{}",
        by_reference.text
    );
    assert_eq!(by_reference.json["matched"], 1);
    let a_contributions = arrears(a).await;
    assert_eq!(
        (
            a_contributions["received"].as_str(),
            a_contributions["arrears"].as_str()
        ),
        (Some("120.00"), Some("0.00"))
    );

    // By amount and date: within three banking days of the period's start, no reference.
    let by_date = import(
        managed_account(&b_view),
        "Date,Amount,Details\n05/02/2025,120.00,STANDING ORDER\n".into(),
    )
    .await;
    assert_eq!(by_date.status, StatusCode::CREATED, "{}", by_date.text);
    assert_eq!(
        by_date.json["lines"][0]["matched_by"], "contribution",
        "{}",
        by_date.text
    );
    assert_eq!(arrears(b).await["arrears"], "0.00");

    // Each expected contribution is received once: the same money again waits for a person.
    let again = import(
        managed_account(&a_view),
        format!("Date,Amount,Details\n21/02/2025,120.00,A PAYER {a_reference} AGAIN\n"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert!(
        again.json["lines"][0]["matched_by"].is_null(),
        "{}",
        again.text
    );
    assert_eq!(arrears(a).await["received"], "120.00");
    let listed = s.app.get("/api/v1/contributions", &s.maker.token).await;
    assert_eq!(
        listed.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        listed.text
    );
}
