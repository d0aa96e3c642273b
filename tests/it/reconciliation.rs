//! Bank reconciliation through the API: camt.053 statements of a managed client account imported
//! once, lines matched to the ledger's postings by reference and by amount and date, the rest
//! left for a person to match or unmatch, and the difference from the ledger explained; bad
//! statements refused with nothing written.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::invoices_api::provider_setup;
use crate::payments_api::Setup;
use crate::support::Reply;

/// A camt.053.001.08 statement: (credit?, amount, booked on, EndToEndId) per booked entry.
pub(crate) fn camt(
    id: &str,
    opening: &str,
    closing: &str,
    entries: &[(bool, &str, &str, Option<&str>)],
) -> String {
    let mut ntry = String::new();
    for (credit, amount, booked, e2e) in entries {
        let details = e2e
            .map(|r| format!("<NtryDtls><TxDtls><Refs><EndToEndId>{r}</EndToEndId></Refs></TxDtls></NtryDtls>"))
            .unwrap_or_default();
        ntry.push_str(&format!(
            "<Ntry><Amt Ccy=\"GBP\">{amount}</Amt><CdtDbtInd>{}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>{booked}</Dt></BookgDt><BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd>{details}</Ntry>",
            if *credit { "CRDT" } else { "DBIT" }
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
<GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>2025-02-15T06:00:00</CreDtTm></GrpHdr>\
<Stmt><Id>{id}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2025-02-15T06:00:00</CreDtTm>\
<Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id></Acct>\
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"GBP\">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-02-01</Dt></Dt></Bal>\
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"GBP\">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-02-14</Dt></Dt></Bal>\
{ntry}</Stmt></BkToCstmrStmt></Document>"
    )
}

/// Whether `xmllint --schema` accepts the document against the official XSD kept in fixtures/.
fn schema_valid(xml: &str, version: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("statement.xml");
    std::fs::write(&file, xml).unwrap();
    let schema = format!(
        "{}/fixtures/xsd/camt.053.001.{version}.xsd",
        env!("CARGO_MANIFEST_DIR")
    );
    std::process::Command::new("xmllint")
        .args(["--noout", "--schema", &schema])
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils) is installed")
        .status
        .success()
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

fn managed_account(view: &Value) -> String {
    view["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["deployment"] == "managed_account")
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_owned()
}

#[test]
fn the_fixtures_are_valid_camt053() {
    let root = env!("CARGO_MANIFEST_DIR");
    for version in ["02", "08"] {
        let xml = std::fs::read_to_string(format!(
            "{root}/fixtures/camt053/statement.001.{version}.xml"
        ))
        .unwrap();
        assert!(schema_valid(&xml, version), "fixture {version}");
        assert!(allot::formats::camt053::parse(xml.as_bytes()).is_ok());
    }
    let generated = camt(
        "S",
        "0",
        "1.00",
        &[(true, "1.00", "2025-02-03", Some("REF"))],
    );
    assert!(schema_valid(&generated, "08"));
}

#[tokio::test]
async fn a_statement_is_imported_once_matched_and_its_difference_explained() {
    let t = provider_setup().await;
    let token = t.s.ma_staff.token.clone();
    let account = managed_account(&t.s.budget_view(t.budget).await);
    let path = format!("/api/v1/accounts/{account}/bank-statements");
    // An invoice paid from the managed account: a posting out.
    let invoice = t
        .s
        .app
        .post(
            "/api/v1/invoices",
            &token,
            json!({"budget_id": t.budget, "deployment": "managed_account", "payee_id": t.agency,
                   "category": "personal_care", "invoice_number": "REC-1", "issued_on": "2025-02-07",
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
                "rec-pay",
                json!({}),
            )
            .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);

    // A statement with no entries shows the ledger's postings as unmatched.
    let empty = send(
        &t,
        &token,
        &path,
        "application/xml",
        &camt("EMPTY", "0", "0", &[]),
    )
    .await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.text);
    let postings = empty.json["unmatched_postings"].as_array().unwrap().clone();
    assert_eq!(postings.len(), 2, "{}", empty.text);
    let release = postings
        .iter()
        .find(|p| p["direction"] == "credit")
        .unwrap()
        .clone();
    let payment = postings
        .iter()
        .find(|p| p["direction"] == "debit")
        .unwrap()
        .clone();
    assert_eq!(payment["amount"], "168.00");
    let released: rust_decimal::Decimal = release["amount"].as_str().unwrap().parse().unwrap();
    let closing = format!("{:.2}", released - rust_decimal::Decimal::new(17800, 2));
    let released = format!("{released:.2}");
    // The bank books the payment the day the ledger posted it.
    let paid_on = payment["effective_date"].as_str().unwrap().to_owned();
    // The entry id without hyphens fits the 35 characters of an EndToEndId.
    let reference = release["posting_id"]
        .as_str()
        .unwrap()
        .replace('-', "")
        .to_uppercase();

    // The release by its reference, the payment by amount and date, a bank charge
    // that the ledger does not have.
    let statement = camt(
        "FEB-2025",
        "0",
        &closing,
        &[
            (true, &released, "2025-02-04", Some(&reference)),
            (false, "168.00", &paid_on, None),
            (false, "10.00", "2025-02-12", None),
        ],
    );
    assert!(schema_valid(&statement, "08"), "{statement}");
    let imported = send(&t, &token, &path, "application/xml", &statement).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let view = &imported.json;
    assert_eq!(view["format"], "camt.053.001.08");
    assert_eq!(
        (view["matched"].as_u64(), view["unmatched"].as_u64()),
        (Some(2), Some(1))
    );
    let lines = view["lines"].as_array().unwrap();
    assert_eq!(lines[0]["matched_by"], "reference");
    assert_eq!(lines[0]["posting_id"], release["posting_id"]);
    assert_eq!(lines[1]["matched_by"], "amount_and_date");
    assert_eq!(lines[1]["posting_id"], payment["posting_id"]);
    assert!(lines[2]["posting_id"].is_null());
    assert_eq!(view["difference"], "-10.00", "{}", imported.text);
    assert_eq!(view["unmatched_lines_total"], "-10.00");
    assert_eq!(view["unmatched_postings_total"], "0.00");
    assert_eq!(view["unexplained"], "0.00");
    assert!(view["unmatched_postings"].as_array().unwrap().is_empty());

    // The same statement again: refused, nothing added.
    let before = t.s.app.snapshot().await;
    let again = send(&t, &token, &path, "application/xml", &statement).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "statement_already_imported")
    );
    assert_eq!(t.s.app.snapshot().await, before);

    // A person unmatches and matches again; a posting is matched once.
    let line = |i: usize| lines[i]["id"].as_str().unwrap().to_owned();
    let unmatched = send(
        &t,
        &token,
        &format!("/api/v1/bank-statement-lines/{}/unmatch", line(1)),
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(unmatched.status, StatusCode::OK, "{}", unmatched.text);
    assert_eq!(unmatched.json["unmatched"], 2);
    assert_eq!(
        unmatched.json["unmatched_postings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let match_body = |posting: &Value| json!({"posting_id": posting["posting_id"]}).to_string();
    let wrong = send(
        &t,
        &token,
        &format!("/api/v1/bank-statement-lines/{}/match", line(2)),
        "application/json",
        &match_body(&payment),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    let by_hand = send(
        &t,
        &token,
        &format!("/api/v1/bank-statement-lines/{}/match", line(1)),
        "application/json",
        &match_body(&payment),
    )
    .await;
    assert_eq!(by_hand.status, StatusCode::OK, "{}", by_hand.text);
    assert_eq!(by_hand.json["lines"][1]["matched_by"], "person");
    let twice = send(
        &t,
        &token,
        &format!("/api/v1/bank-statement-lines/{}/match", line(1)),
        "application/json",
        &match_body(&payment),
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    let again = send(
        &t,
        &token,
        &format!("/api/v1/bank-statement-lines/{}/unmatch", line(2)),
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let read =
        t.s.app
            .get(
                &format!("/api/v1/bank-statements/{}", view["id"].as_str().unwrap()),
                &token,
            )
            .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["matched"], 2);

    // Others: another organisation's staff 404, council staff 403.
    let isf = &t.s.isf_staff.token;
    let stranger = send(&t, isf, &path, "application/xml", &camt("X", "0", "0", &[])).await;
    assert_eq!(
        (stranger.status, stranger.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let peek =
        t.s.app
            .get(
                &format!("/api/v1/bank-statements/{}", view["id"].as_str().unwrap()),
                isf,
            )
            .await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND);
    let meddle = send(
        &t,
        isf,
        &format!("/api/v1/bank-statement-lines/{}/unmatch", line(0)),
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(meddle.status, StatusCode::NOT_FOUND);
    let staff = send(
        &t,
        &t.s.care_manager.token,
        &path,
        "application/xml",
        &camt("X", "0", "0", &[]),
    )
    .await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_statements_are_refused_and_change_nothing() {
    let t = provider_setup().await;
    let token = t.s.ma_staff.token.clone();
    let account = managed_account(&t.s.budget_view(t.budget).await);
    let path = format!("/api/v1/accounts/{account}/bank-statements");
    let before = t.s.app.snapshot().await;

    let unbalanced = camt("U", "0", "5.00", &[(true, "4.00", "2025-02-03", None)]);
    assert!(
        schema_valid(&unbalanced, "08"),
        "valid, but does not add up"
    );
    let reply = send(&t, &token, &path, "application/xml", &unbalanced).await;
    assert_eq!(
        (reply.status, reply.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "statement_does_not_balance"
        ),
        "{}",
        reply.text
    );

    let good = camt("G", "0", "4.00", &[(true, "4.00", "2025-02-03", None)]);
    let broken = [
        // No account: fails the XSD, and is refused.
        good.replace(
            "<Acct><Id><IBAN>GB29NWBK60161331926819</IBAN></Id></Acct>",
            "",
        ),
        // Not camt.053.
        good.replace("camt.053.001.08", "camt.054.001.08"),
        // Three decimal places.
        good.replace(">4.00<", ">4.001<"),
        // Not GBP.
        good.replace("Ccy=\"GBP\"", "Ccy=\"EUR\""),
        // No closing balance.
        good.replace("<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>"),
        "<Document".into(),
        "not xml at all".into(),
        String::new(),
    ];
    assert!(!schema_valid(&broken[0], "08"));
    // Three decimal places pass the XSD (it allows five) but not allot: money is in pence.
    for xml in &broken {
        let reply = send(&t, &token, &path, "application/xml", xml).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{xml}: {}",
            reply.text
        );
    }
    // CSV is read as a bank's export (tests/it/bank_csv.rs): a header no layout fits is 400.
    let csv = send(&t, &token, &path, "text/csv", "date,amount\n").await;
    assert_eq!(csv.status, StatusCode::BAD_REQUEST);
    let json = send(&t, &token, &path, "application/json", "{}").await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = send(
        &t,
        &token,
        &path,
        "application/xml",
        &"x".repeat(300 * 1024),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(t.s.app.snapshot().await, before, "nothing written");
}
