//! The payment files of an approved run: Bacs Standard 18 arithmetic and layout, and pain.001
//! validated against the official schema with `xmllint --schema` (libxml2-utils must be installed:
//! the test fails, never skips, without it).

use std::io::Write;
use std::process::Command;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::scenario::{id, Scenario, PERIOD};

/// A council with a direct payment, a managed account, an ISF and a council-managed line, released.
async fn released() -> (Scenario, Value) {
    let s = Scenario::new().await;
    let mut body = Scenario::budget_body(s.person("Bo O'Neil", true, false).await);
    body["bank"] = json!({"sort_code": "20-00-00", "account_number": "55779911", "account_name": "O'Neil & <Sons>"});
    s.approved_budget(
        body,
        json!([
            Scenario::line("personal_assistant", "123.45", "direct_payment", None),
            Scenario::line(
                "personal_care",
                "99.99",
                "managed_account",
                Some(s.ma_provider)
            ),
            Scenario::line("day_activities", "150.00", "isf", Some(s.isf_provider)),
            Scenario::line("domestic_support", "30.00", "council_managed", None),
        ]),
    )
    .await;
    s.approved_budget(
        Scenario::budget_body(s.person("Cal", true, false).await),
        json!([Scenario::line(
            "personal_care",
            "10.01",
            "direct_payment",
            None
        )]),
    )
    .await;
    let run = s.release(PERIOD).await;
    (s, run)
}

#[tokio::test]
async fn the_bacs_file_adds_up_and_has_the_standard_layout() {
    let (s, run) = released().await;
    let run_id = run["id"].as_str().unwrap();
    let reply = s
        .app
        .get(
            &format!("/api/v1/payment-runs/{run_id}/bacs18"),
            &s.auditor.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let file = reply.text;
    assert!(file.ends_with("\r\n"));
    let records: Vec<&str> = file.trim_end_matches("\r\n").split("\r\n").collect();
    for record in &records {
        assert_eq!(record.len(), 100, "record {record:?}");
        assert!(record.is_ascii());
    }
    let labels: Vec<&str> = records.iter().map(|r| &r[..4]).collect();
    assert_eq!(&labels[..4], ["VOL1", "HDR1", "HDR2", "UHL1"]);
    assert_eq!(&labels[labels.len() - 3..], ["EOF1", "EOF2", "UTL1"]);
    let data = &records[4..records.len() - 3];
    let (credits, contra) = data.split_at(data.len() - 1);
    // Four bank payments: two direct payments, the managed account and the ISF (not council-managed).
    assert_eq!(credits.len(), 4);
    let pence = |record: &str| record[35..46].parse::<u64>().unwrap();
    for credit in credits {
        assert_eq!(&credit[15..17], "99", "direct credit");
        assert_eq!(&credit[17..23], "400001", "from the council's sort code");
        assert_eq!(&credit[23..31], "87654321", "and account");
    }
    let mut amounts: Vec<u64> = credits.iter().map(|c| pence(c)).collect();
    amounts.sort();
    assert_eq!(amounts, [4004, 39996, 49380, 60000]);
    let total: u64 = amounts.iter().sum();
    assert_eq!(&contra[0][15..17], "17", "the contra debits the council");
    assert_eq!(&contra[0][..6], "400001");
    assert_eq!(pence(contra[0]), total, "contra = sum of credits");
    assert_eq!(&contra[0][64..70], "CONTRA");
    let utl1 = records[records.len() - 1];
    assert_eq!(utl1[4..17].parse::<u64>().unwrap(), total, "debit total");
    assert_eq!(utl1[17..30].parse::<u64>().unwrap(), total, "credit total");
    assert_eq!(utl1[30..37].parse::<u64>().unwrap(), 1, "one debit");
    assert_eq!(utl1[37..44].parse::<u64>().unwrap(), 4, "four credits");
    assert_eq!(&records[0][41..47], "123456", "service user number");
    assert_eq!(
        run["bank_total"],
        json!(format!("{}.{:02}", total / 100, total % 100))
    );
    // The same run always gives the same file.
    let again = s
        .app
        .get(
            &format!("/api/v1/payment-runs/{run_id}/bacs18"),
            &s.maker.token,
        )
        .await;
    assert_eq!(again.text, file);
    assert_eq!(
        s.app
            .get(
                &format!("/api/v1/payment-runs/{run_id}/bacs18"),
                &s.care_manager.token
            )
            .await
            .code(),
        "forbidden"
    );
}

#[tokio::test]
async fn files_come_only_from_approved_runs() {
    let s = Scenario::new().await;
    s.approved_budget(
        Scenario::budget_body(s.person("Dot", true, false).await),
        json!([Scenario::line(
            "personal_care",
            "10.00",
            "direct_payment",
            None
        )]),
    )
    .await;
    let draft = s.draft_run("files", PERIOD).await;
    let run = id(&draft);
    for kind in ["bacs18", "pain001"] {
        let reply = s
            .app
            .get(
                &format!("/api/v1/payment-runs/{run}/{kind}"),
                &s.maker.token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{kind}");
    }
}

fn xmllint_schema(xml: &str) -> (bool, String) {
    let mut file = tempfile::Builder::new()
        .suffix(".xml")
        .tempfile()
        .expect("temp file");
    file.write_all(xml.as_bytes()).expect("write xml");
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/xsd/pain.001.001.03.xsd"
    );
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint could not be run ({e}): install libxml2-utils; schema validation is the point of this test")
        });
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

#[tokio::test]
async fn the_pain001_file_is_valid_against_the_schema() {
    let (s, run) = released().await;
    let run_id = run["id"].as_str().unwrap();
    let reply = s
        .app
        .get(
            &format!("/api/v1/payment-runs/{run_id}/pain001"),
            &s.maker.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let xml = reply.text;
    let (valid, said) = xmllint_schema(&xml);
    assert!(valid, "xmllint rejected the file:\n{said}\n{xml}");
    assert!(xml.contains("<NbOfTxs>4</NbOfTxs>"), "{xml}");
    assert!(
        xml.contains(&format!(
            "<CtrlSum>{}</CtrlSum>",
            run["bank_total"].as_str().unwrap()
        )),
        "{xml}"
    );
    assert!(
        xml.contains("O&apos;Neil") || xml.contains("O'Neil"),
        "names are escaped, not dropped"
    );
    assert!(
        !xml.contains("<Sons>"),
        "markup in a name never reaches the file as markup"
    );
    // A tampered file fails the same check, so the check can fail.
    let broken = xml.replacen("<NbOfTxs>4</NbOfTxs>", "<NbOfTxs>four</NbOfTxs>", 1);
    assert!(!xmllint_schema(&broken).0);
}
