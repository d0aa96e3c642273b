//! A direct payment's bank account is shown in full only to finance officers, the person and the
//! representatives their agreement names; other council staff see it masked, and brokers and
//! providers (who hold no part of it) not at all.

use axum::http::StatusCode;
use serde_json::json;

use allot::auth::Role;

use crate::payments_api::{grant, setup};

#[tokio::test]
async fn each_role_sees_the_direct_payment_account_as_it_should() {
    let t = setup().await;
    let s = &t.s;
    let (rep, rep_token) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    grant(
        s,
        t.budget,
        json!({"user_id": rep, "acting_as": "family_member", "powers": ["pay"],
               "max_per_payment": "100.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let brokered = s
        .app
        .patch(
            &format!("/api/v1/budgets/{}", t.budget),
            &s.care_manager.token,
            json!({"broker_organisation_id": s.broker_org}),
        )
        .await;
    assert_eq!(brokered.status, StatusCode::OK, "{}", brokered.text);
    // The care manager's own answer is masked too.
    assert_eq!(brokered.json["bank"]["account_number"], "****9911");
    assert!(!brokered.text.contains("55779911"));

    let path = format!("/api/v1/budgets/{}", t.budget);
    let full = [
        ("finance officer", s.maker.token.as_str()),
        ("the person", t.holder.1.as_str()),
        ("their representative", rep_token.as_str()),
    ];
    for (who, token) in full {
        let reply = s.app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{who}: {}", reply.text);
        assert_eq!(reply.json["bank"]["account_number"], "55779911", "{who}");
        assert_eq!(reply.json["bank"]["sort_code"], "200000", "{who}");
    }
    let masked = [
        ("care manager", s.care_manager.token.as_str()),
        ("council administrator", s.council.admin_token.as_str()),
        ("auditor", s.auditor.token.as_str()),
    ];
    for (who, token) in masked {
        let reply = s.app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{who}: {}", reply.text);
        assert_eq!(reply.json["bank"]["account_number"], "****9911", "{who}");
        assert_eq!(reply.json["bank"]["sort_code"], "**-**-00", "{who}");
        assert!(!reply.text.contains("55779911"), "{who}");
    }
    let hidden = [
        ("broker", s.broker.token.as_str()),
        ("managed-account provider", s.ma_staff.token.as_str()),
    ];
    for (who, token) in hidden {
        let reply = s.app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{who}: {}", reply.text);
        assert!(reply.json["bank"].is_null(), "{who}: {}", reply.text);
        assert!(!reply.text.contains("9911"), "{who}");
    }
}

#[tokio::test]
async fn the_budget_page_shows_the_account_as_the_api_does() {
    let t = setup().await;
    let s = &t.s;
    let path = format!("/budgets/{}", t.budget);
    let (finance, _) = s.app.session(s.council.id, s.maker.id).await;
    let page = s.app.page(&path, &finance).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("55779911"), "{}", page.text);
    let (care_manager, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s.app.page(&path, &care_manager).await;
    assert!(page.text.contains("****9911"));
    assert!(!page.text.contains("55779911"));
    let (provider, _) = s.app.session(s.council.id, s.ma_staff.id).await;
    let page = s.app.page(&path, &provider).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("9911"));
    assert!(!page.text.contains("Direct payment paid into"));

    // A change waits for verification, and the page says so.
    let changed = s
        .app
        .patch(
            &format!("/api/v1/budgets/{}", t.budget),
            &s.care_manager.token,
            json!({"bank": {"sort_code": "40-40-40", "account_number": "44443333", "account_name": "A Person"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let page = s.app.page(&path, &care_manager).await;
    assert!(page.text.contains("****3333"));
    assert!(page.text.contains("waiting for a finance officer"));
}
