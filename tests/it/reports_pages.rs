//! The returns' pages and "Verify the chain": the same figures as the API in tables, a period
//! chooser that keeps what was typed on refusal, the CLD CSV to download, and the chain verified
//! by a CSRF-checked button for auditors and finance officers only.

use axum::http::StatusCode;

use crate::reports_api::build;

#[tokio::test]
async fn the_returns_pages_show_the_apis_figures_and_keep_a_bad_date() {
    let b = build().await;
    let app = &b.s.app;
    let (cookie, _) = app.session(b.s.council.id, b.s.auditor.id).await;
    let page = app
        .page(
            &format!("/reports/delivery-mechanism?as_of={}", b.as_of),
            &cookie,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Delivery mechanisms</h1>"),
        "{}",
        page.text
    );
    for (label, young, old, all) in [
        ("Direct payment only", 1, 1, 2),
        ("Part direct payment", 1, 2, 3),
        ("CASSR managed personal budget", 2, 1, 3),
        ("CASSR commissioned support only", 0, 0, 0),
        ("All", 4, 4, 8),
    ] {
        let row =
            format!("<th scope=\"row\">{label}</th><td>{young}</td><td>{old}</td><td>{all}</td>");
        assert!(page.text.contains(&row), "{row} not in {}", page.text);
    }
    assert!(page.text.contains("62.5% (5 of 8)"), "{}", page.text);
    assert!(page.text.contains("100.0% (8 of 8)"), "{}", page.text);
    assert!(page.text.contains(&format!("value=\"{}\"", b.as_of)));

    // A date that is not one: 400, the error summary, and what was typed kept (escaped).
    let bad = app
        .page(
            "/reports/delivery-mechanism?as_of=31%2F02%2F%3Cb%3E",
            &cookie,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("error-summary"), "{}", bad.text);
    assert!(
        bad.text.contains("value=\"31/02/&lt;b&gt;\""),
        "{}",
        bad.text
    );

    // Client Level Data: one table row per line, and the CSV is the API's.
    let path = format!("reports/cld?from={}&to={}", b.today, b.as_of);
    let page = app.page(&format!("/{path}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("14 plan lines in force"),
        "{}",
        page.text
    );
    assert_eq!(page.text.matches("<td class=\"amount\">").count(), 14);
    let csv = app
        .page(
            &format!("/reports/cld.csv?from={}&to={}", b.today, b.as_of),
            &cookie,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let api = app
        .get(&format!("/api/v1/{path}"), &b.s.auditor.token)
        .await;
    assert_eq!(csv.text, api.text);
    let backwards = app
        .page(
            &format!("/reports/cld?from={}&to={}", b.as_of, b.today),
            &cookie,
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert!(
        backwards.text.contains("on or after the first day"),
        "{}",
        backwards.text
    );
    assert!(backwards.text.contains(&format!("value=\"{}\"", b.as_of)));

    // Not for brokers.
    let (broker, _) = app.session(b.s.council.id, b.s.broker.id).await;
    let refused = app.page("/reports/delivery-mechanism", &broker).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn verify_the_chain_is_a_csrf_checked_button_for_auditors_and_finance_officers() {
    let s = crate::payments_api::setup().await;
    let app = &s.s.app;
    allot::ledger::maintenance::run_once(
        &app.state.pool,
        app.state.clock.now(),
        &app.state.chain_key,
    )
    .await
    .unwrap();
    let api = app.get("/api/v1/audit/verify", &s.s.auditor.token).await;
    assert_eq!(api.json["ok"], true, "{}", api.text);
    for user in [s.s.auditor.id, s.s.maker.id] {
        let (cookie, csrf) = app.session(s.s.council.id, user).await;
        let page = app.page("/audit/chain", &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.text.contains("Verify the chain</button>"),
            "{}",
            page.text
        );
        let forged = app
            .form("/audit/chain", &cookie, &[("csrf_token", "nope")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let done = app
            .form("/audit/chain", &cookie, &[("csrf_token", &csrf)])
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        assert!(done.text.contains("The chain verifies"), "{}", done.text);
        assert!(done.text.contains(api.json["head_hash"].as_str().unwrap()));
        assert!(done
            .text
            .contains(&format!("<dd>{}</dd>", api.json["head_position"])));
        assert!(done
            .text
            .contains(api.json["signed_head"].as_str().unwrap()));
    }
    for user in [s.s.care_manager.id, s.s.broker.id] {
        let (cookie, csrf) = app.session(s.s.council.id, user).await;
        assert_eq!(
            app.page("/audit/chain", &cookie).await.status,
            StatusCode::FORBIDDEN
        );
        let refused = app
            .form("/audit/chain", &cookie, &[("csrf_token", &csrf)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}
