//! One clock: the time comes from the clock in application state, so a test sets it exactly.
//! The business date is England's, not UTC's.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::payments_api::setup;

#[tokio::test]
async fn a_payment_just_after_midnight_in_summer_is_dated_the_english_day() {
    let t = setup().await;
    // 23:30 UTC on 30 June is 00:30 on 1 July in London.
    let at = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
    t.s.app.state.clock.set(at);
    let paid = t.pay(&t.holder.1, t.body("personal_care", "12.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    assert_eq!(paid.json["requested_at"], "2026-06-30T23:30:00Z");
    let entry: Uuid = paid.json["entry_id"].as_str().unwrap().parse().unwrap();
    let council = t.s.council.id;
    let entry = allot::db::in_tenant_tx(&t.s.app.db.pool, council, |tx| {
        Box::pin(async move { Ok(allot::ledger::get_entry(tx, council, entry).await?) })
    })
    .await
    .unwrap();
    assert_eq!(
        entry.effective_date,
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    );
}

#[tokio::test]
async fn a_hold_expires_exactly_when_the_policy_says_by_the_clock() {
    let t = setup().await;
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap();
    t.s.app.state.clock.set(at);
    // Someone who may co-sign, so a payment above the holder's threshold (250.00) is held.
    let cosigner =
        t.s.app
            .user(&t.s.council, allot::auth::Role::Representative, None, None)
            .await;
    crate::payments_api::grant(
        &t.s,
        t.budget,
        serde_json::json!({"user_id": cosigner.0, "acting_as": "family_member",
            "powers": ["approve"], "max_per_payment": "1000.00", "valid_from": "2020-01-01"}),
    )
    .await;
    let held = t.pay(&t.holder.1, t.body("personal_care", "300.00")).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.text);
    let expires = (at + Duration::days(14)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(held.json["hold_expires_at"], expires);
    // Approving after the clock passes the expiry is refused: the hold has run out.
    t.s.app.state.clock.advance(Duration::days(15));
    let id = held.json["id"].as_str().unwrap();
    let approvers = held.json["approvals_required"][0]["eligible_approvers"]["user_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!approvers.is_empty(), "{}", held.text);
    let approver: Uuid = approvers[0].as_str().unwrap().parse().unwrap();
    let token = t.s.app.token(t.s.council.id, approver).await;
    let late =
        t.s.app
            .post(
                &format!("/api/v1/payments/{id}/approve"),
                &token,
                serde_json::json!({}),
            )
            .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
}
