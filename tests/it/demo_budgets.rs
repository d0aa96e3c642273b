//! The demo council loads its budgets of every kind and releases a first period through a run
//! made by one finance officer and approved by the other.

use axum::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn the_demo_council_has_budgets_of_every_kind_and_a_released_run() {
    let app = TestApp::new().await;
    let loaded = allot::demo::load(
        &app.db.pool,
        allot::auth::password::MIN_ITERATIONS,
        app.state.clock.now(),
    )
    .await
    .expect("the demo loads");
    let jennifer = loaded.users["jennifer.aldridge@borsetshire.example"];
    let token = app.token(loaded.council_id, jennifer).await;
    let run = app
        .get(
            &format!("/api/v1/payment-runs/{}", loaded.payment_run_id),
            &token,
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    assert_eq!(run.json["status"], "approved");
    assert_eq!(run.json["approved_by"], serde_json::json!(jennifer));
    assert_ne!(run.json["created_by"], run.json["approved_by"]);
    let deployments: std::collections::BTreeSet<&str> = run.json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["deployment"].as_str().unwrap())
        .collect();
    assert_eq!(
        deployments.into_iter().collect::<Vec<_>>(),
        [
            "council_managed",
            "direct_payment",
            "isf",
            "managed_account"
        ]
    );
    let skipped: Vec<&str> = run.json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        ["plan_not_approved"],
        "Robert's plan waits for approval"
    );
    let owed = run.json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["contribution_owed"] != "0.00");
    let pay_in = run.json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["contribution_to_pay_in"] != "0.00");
    assert!(owed && pay_in, "gross and net contributions both appear");
    for kind in ["bacs18", "pain001"] {
        let file = app
            .get(
                &format!("/api/v1/payment-runs/{}/{kind}", loaded.payment_run_id),
                &token,
            )
            .await;
        assert_eq!(file.status, StatusCode::OK, "{kind}: {}", file.text);
    }
    let carol = loaded.users["carol.tregorran@borsetshire.example"];
    let care_manager = app.token(loaded.council_id, carol).await;
    let overdue = app
        .get("/api/v1/reviews?status=overdue", &care_manager)
        .await;
    assert_eq!(
        overdue.json["items"].as_array().unwrap().len(),
        1,
        "George's review is overdue"
    );
    let due = app.get("/api/v1/reviews?status=due", &care_manager).await;
    assert_eq!(
        due.json["items"].as_array().unwrap().len(),
        1,
        "Margaret's review is due soon"
    );

    // Payments in every state: posted, refused, held, and approved after a hold.
    let statuses = allot::db::in_tenant_tx(&app.db.pool, loaded.council_id, |tx| {
        Box::pin(async move {
            let rows = tx
                .query(
                    "SELECT status, count(*) FROM payments GROUP BY status ORDER BY status",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>())
        })
    })
    .await
    .unwrap();
    assert_eq!(
        statuses,
        vec![
            ("pending_approval".to_string(), 1),
            ("posted".to_string(), 4),
            ("refused".to_string(), 2)
        ]
    );
    let david = loaded.users["david.abbott@people.example"];
    let david = app.token(loaded.council_id, david).await;
    let queue = app.get("/api/v1/approvals", &david).await;
    assert_eq!(
        queue.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        queue.text
    );
}
