//! Invoices imported from CSV, through the API and `allot import invoices`: one row per invoice
//! line, the same checks as `POST /api/v1/invoices`, all or nothing unless `?partial=true`, a
//! result per row, and bad files refused with the error envelope and nothing written.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::invoices_api::provider_setup;
use crate::payments_api::Setup;
use crate::support::scenario::{id, Scenario};
use crate::support::Reply;

const HEADER: &str = "budget_id,deployment,payee_id,category,invoice_number,issued_on,due_on,\
description,quantity,unit_price,total\n";

/// A row of the managed account's invoice `number` from the agency.
fn row(
    t: &Setup,
    number: &str,
    description: &str,
    quantity: &str,
    price: &str,
    total: &str,
) -> String {
    format!(
        "{},managed_account,{},personal_care,{number},2025-02-08,2025-02-22,{description},{quantity},{price},{total}\n",
        t.budget, t.agency
    )
}

async fn import_as(t: &Setup, token: &str, query: &str, content_type: &str, csv: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/invoices/import{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(csv.to_owned()))
        .unwrap();
    t.s.app.send(request).await
}

async fn import(t: &Setup, query: &str, csv: &str) -> Reply {
    import_as(t, &t.s.ma_staff.token, query, "text/csv", csv).await
}

async fn invoices(t: &Setup) -> Vec<Value> {
    let list = t.s.app.get("/api/v1/invoices", &t.s.ma_staff.token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json["items"].as_array().unwrap().clone()
}

fn rows_of(reply: &Reply) -> Vec<u64> {
    reply.json["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {}", reply.text))
        .iter()
        .map(|d| d["row"].as_u64().unwrap_or_else(|| panic!("no row in {d}")))
        .collect()
}

#[tokio::test]
async fn a_file_of_invoice_lines_becomes_invoices_with_a_result_per_row() {
    let t = provider_setup().await;
    let csv = format!(
        "{HEADER}{}{}{}",
        row(&t, "CSV-1", "Morning calls", "5", "22.40", "168.00"),
        row(&t, "CSV-2", "\"Equipment, cleaning\"", "1", "12.5", "12.50"),
        // The second line of CSV-1 comes later, its total left empty.
        row(&t, "CSV-1", "Evening calls", "2.5", "22.40", ""),
    );
    // A spreadsheet's byte-order mark and trailing blank line are fine.
    let reply = import(&t, "", &format!("\u{feff}{csv}\n")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["rows"], 3);
    assert_eq!(reply.json["imported_invoices"], 2);
    assert_eq!(reply.json["refused_rows"], 0);
    let results = reply.json["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .map(|r| r["row"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert!(results.iter().all(|r| r["status"] == "imported"));
    assert_eq!(results[0]["invoice_id"], results[2]["invoice_id"]);
    let recorded = invoices(&t).await;
    assert_eq!(recorded.len(), 2);
    let first = recorded
        .iter()
        .find(|i| i["invoice_number"] == "CSV-1")
        .unwrap();
    assert_eq!(first["total"], "168.00");
    assert_eq!(first["lines"].as_array().unwrap().len(), 2);
    assert_eq!(first["lines"][1]["amount"], "56.00");
    assert_eq!(first["due_on"], "2025-02-22");
    assert_eq!(first["id"], results[0]["invoice_id"]);
    let second = recorded
        .iter()
        .find(|i| i["invoice_number"] == "CSV-2")
        .unwrap();
    assert_eq!(second["lines"][0]["description"], "Equipment, cleaning");

    // The same file again: every invoice is a duplicate, nothing new.
    let again = import(&t, "", &csv).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "duplicate_invoice"),
        "{}",
        again.text
    );
    assert_eq!(rows_of(&again), vec![2, 3]);
    assert_eq!(invoices(&t).await.len(), 2);
}

#[tokio::test]
async fn one_bad_row_refuses_the_file_unless_partial() {
    let t = provider_setup().await;
    let csv = format!(
        "{HEADER}{}{}{}{}",
        row(&t, "OK-1", "Calls", "2", "20.00", "40.00"),
        row(&t, "BAD-1", "Calls", "1", "20.001", "20.00"),
        row(&t, "OK-2", "Calls", "1", "15", "15"),
        row(&t, "BAD-2", "Calls", "1", "10.00", "11.00"),
    );
    let before = t.s.app.snapshot().await;
    let refused = import(&t, "", &csv).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        "{}",
        refused.text
    );
    assert_eq!(rows_of(&refused), vec![3, 5]);
    let details = refused.json["error"]["details"].as_array().unwrap();
    assert_eq!(details[0]["field"], "unit_price");
    assert_eq!(details[0]["code"], "invalid_amount");
    assert_eq!(details[1]["code"], "invoice_total_mismatch");
    assert!(refused.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing was imported"));
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");

    let partial = import(&t, "?partial=true", &csv).await;
    assert_eq!(partial.status, StatusCode::CREATED, "{}", partial.text);
    assert_eq!(partial.json["imported_invoices"], 2);
    assert_eq!(partial.json["refused_rows"], 2);
    let results = partial.json["results"].as_array().unwrap();
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["imported", "refused", "imported", "refused"]);
    assert_eq!(results[1]["error"]["code"], "invalid_amount");
    assert_eq!(results[1]["error"]["details"][0]["row"], 3);
    assert_eq!(results[3]["error"]["code"], "invoice_total_mismatch");
    assert!(results[1]["invoice_id"].is_null());
    let numbers: Vec<Value> = invoices(&t)
        .await
        .iter()
        .map(|i| i["invoice_number"].clone())
        .collect();
    assert_eq!(numbers.len(), 2);
    assert!(numbers.contains(&json!("OK-1")) && numbers.contains(&json!("OK-2")));

    // Partial, but nothing importable: refused like a whole file, nothing written.
    let before = t.s.app.snapshot().await;
    let nothing = import(
        &t,
        "?partial=true",
        &format!("{HEADER}{}", row(&t, "BAD-3", "Calls", "1", "-5", "5")),
    )
    .await;
    assert_eq!(
        (nothing.status, nothing.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        "{}",
        nothing.text
    );
    assert_eq!(t.s.app.snapshot().await, before);
}

#[tokio::test]
async fn bad_rows_get_a_clear_refusal_each_and_change_nothing() {
    let t = provider_setup().await;
    // Another council's budget and payee, and a budget whose account another organisation holds.
    let elsewhere = t.s.elsewhere().await;
    let foreign_budget =
        t.s.app
            .post(
                "/api/v1/budgets",
                &elsewhere.care_manager,
                Scenario::budget_body(elsewhere.person),
            )
            .await;
    assert_eq!(
        foreign_budget.status,
        StatusCode::CREATED,
        "{}",
        foreign_budget.text
    );
    let foreign_budget = id(&foreign_budget);
    let foreign_payee = t
        .s
        .app
        .post(
            "/api/v1/payees",
            &elsewhere.care_manager,
            json!({"name": "Far Away Care", "kind": "care_agency",
                   "bank": {"sort_code": "10-20-30", "account_number": "11223344", "account_name": "Far"}}),
        )
        .await;
    assert_eq!(
        foreign_payee.status,
        StatusCode::CREATED,
        "{}",
        foreign_payee.text
    );
    let foreign_payee = id(&foreign_payee);
    let good = row(&t, "X-1", "Calls", "1", "10.00", "10.00");
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            good.replace("10.00,10.00", "10.123,10.12"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            Some("unit_price"),
        ),
        (
            good.replace("10.00,10.00", "-10.00,10.00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            Some("unit_price"),
        ),
        (
            good.replace("10.00,10.00", "10.00,999999999999.00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            Some("total"),
        ),
        (
            good.replace("10.00,10.00", "1e3,10.00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            Some("unit_price"),
        ),
        (
            good.replace(",1,", ",0,"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("quantity"),
        ),
        (
            good.replace(",1,", ",lots,"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("quantity"),
        ),
        (
            good.replace("Calls", "Calls\u{7}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("description"),
        ),
        (
            good.replace("X-1", "X\u{0}1"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("invoice_number"),
        ),
        (
            good.replace("2025-02-08", "2025-02-30"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("issued_on"),
        ),
        (
            good.replace("2025-02-08", "9999-01-01"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("issued_on"),
        ),
        (
            good.replace("managed_account", "piggy_bank"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("deployment"),
        ),
        (
            good.replace(&t.agency.to_string(), "not-a-uuid"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("payee_id"),
        ),
        (
            good.replace(&t.agency.to_string(), &foreign_payee.to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("payee_id"),
        ),
        (
            good.replace(&t.budget.to_string(), &foreign_budget.to_string()),
            StatusCode::NOT_FOUND,
            "not_found",
            Some("budget_id"),
        ),
        (
            good.replace(&t.budget.to_string(), &Uuid::new_v4().to_string()),
            StatusCode::NOT_FOUND,
            "not_found",
            Some("budget_id"),
        ),
        (
            good.replace("10.00,10.00", "10.00,12.00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invoice_total_mismatch",
            None,
        ),
    ];
    let before = t.s.app.snapshot().await;
    for (line, status, code, field) in &cases {
        let reply = import(&t, "", &format!("{HEADER}{line}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (*status, *code),
            "{line}: {}",
            reply.text
        );
        let detail = &reply.json["error"]["details"][0];
        assert_eq!(detail["row"], 2, "{line}: {}", reply.text);
        assert_eq!(detail["code"], *code, "{line}: {}", reply.text);
        if let Some(field) = field {
            assert_eq!(detail["field"], *field, "{line}: {}", reply.text);
        }
    }
    // The ISF provider's staff do not hold this managed account: 404, as for another council's.
    let stranger = import_as(
        &t,
        &t.s.isf_staff.token,
        "",
        "text/csv",
        &format!("{HEADER}{good}"),
    )
    .await;
    assert_eq!(
        (stranger.status, stranger.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        stranger.text
    );
    // Council staff do not record invoices at all.
    let staff = import_as(
        &t,
        &t.s.care_manager.token,
        "",
        "text/csv",
        &format!("{HEADER}{good}"),
    )
    .await;
    assert_eq!(
        (staff.status, staff.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_refused_whole() {
    let t = provider_setup().await;
    let good = row(&t, "F-1", "Calls", "1", "10.00", "10.00");
    let before = t.s.app.snapshot().await;
    let missing = import(
        &t,
        "",
        &format!("{}{good}", HEADER.replace("unit_price,", "")),
    )
    .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        missing.text
    );
    assert_eq!(missing.json["error"]["details"][0]["field"], "unit_price");
    assert!(missing.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unit_price"));
    let unknown = import(&t, "", &format!("{}{good}", HEADER.replace("\n", ",vat\n"))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    assert_eq!(unknown.json["error"]["details"][0]["field"], "vat");
    let twice = import(
        &t,
        "",
        &format!("{}{good}", HEADER.replace("\n", ",total\n")),
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.text);
    let short = import(&t, "?partial=true", &format!("{HEADER}{good}a,b,c\n")).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text);
    assert!(short.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("row 3"));
    for body in ["", "\n\n", HEADER] {
        let empty = import(&t, "", body).await;
        assert_eq!(
            empty.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            empty.text
        );
    }
    let not_utf8 = {
        let mut bytes = format!("{HEADER}{good}").into_bytes();
        let at = bytes.len() - 3;
        bytes[at] = 0xff;
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/invoices/import")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", t.s.ma_staff.token),
            )
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(bytes))
            .unwrap();
        t.s.app.send(request).await
    };
    assert_eq!(
        not_utf8.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_utf8.text
    );
    let json = import_as(&t, &t.s.ma_staff.token, "", "application/json", "{}").await;
    assert_eq!(
        (json.status, json.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let bad_query = import(&t, "?partial=maybe", &format!("{HEADER}{good}")).await;
    assert_eq!(
        bad_query.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_query.text
    );
    // More rows than a file may have, and more bytes than a request may carry.
    let many: String = (0..2001)
        .map(|i| row(&t, &format!("M-{i}"), "x", "1", "1", "1"))
        .collect();
    let too_many = import(&t, "", &format!("{HEADER}{many}")).await;
    assert!(
        matches!(
            too_many.status,
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
        ),
        "{}",
        too_many.status
    );
    let huge = import(&t, "", &format!("{HEADER}{}", good.repeat(3000))).await;
    assert_eq!(
        (huge.status, huge.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let unauthenticated =
        t.s.app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/invoices/import")
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(format!("{HEADER}{good}")))
                    .unwrap(),
            )
            .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
    let spec =
        t.s.app
            .call(Method::GET, "/api/openapi.json", None, None)
            .await;
    let operation = &spec.json["paths"]["/api/v1/invoices/import"]["post"];
    assert!(
        operation["requestBody"]["content"]["text/csv"].is_object(),
        "{operation}"
    );
    assert!(operation["responses"]["201"].is_object());
}

#[tokio::test]
async fn the_command_line_imports_through_the_same_path() {
    let t = provider_setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoices.csv");
    std::fs::write(
        &file,
        format!(
            "{HEADER}{}{}",
            row(&t, "CLI-1", "Calls", "2", "20.00", "40.00"),
            row(&t, "CLI-2", "Calls", "1", "20.001", "20.00"),
        ),
    )
    .unwrap();
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
    let run = |partial: bool, token: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_allot"));
        command
            .env("DATABASE_URL", &url)
            .env_remove("ALLOT_APP_DATABASE_URL")
            .env("ALLOT_TOKEN", token)
            .args(["import", "invoices"])
            .arg(&file);
        if partial {
            command.arg("--partial");
        }
        command.output().unwrap()
    };
    let refused = run(false, &t.s.ma_staff.token);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("row 3, unit_price"), "{stderr}");
    assert!(invoices(&t).await.is_empty(), "nothing imported");
    let no_token = run(false, "not a token");
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("ALLOT_TOKEN"));

    let partial = run(true, &t.s.ma_staff.token);
    let stdout = String::from_utf8_lossy(&partial.stdout);
    assert!(
        partial.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&partial.stderr)
    );
    assert!(stdout.contains("invoice CLI-1 recorded"), "{stdout}");
    assert!(stdout.contains("invoice CLI-2 refused"), "{stdout}");
    let recorded = invoices(&t).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["invoice_number"], "CLI-1");
    assert_eq!(recorded[0]["recorded_by"], json!(t.s.ma_staff.id));
}
