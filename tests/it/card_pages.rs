//! The card and webhook pages: the cards list with its register form (refusals explained, what
//! was typed kept), a card's page with its authorisations and the freeze and cancel forms, the
//! exceptions list with its review form, and the webhook endpoints page with each endpoint's
//! delivery log and its create and delete forms (the secret shown once).

use axum::http::StatusCode;
use serde_json::json;

use crate::cards::cards;
use crate::payments_api::setup_in;
use crate::support::scenario::Scenario;
use crate::support::{test_settings, TestApp};

#[tokio::test]
async fn cards_and_their_exceptions_on_the_finance_officers_pages() {
    let c = cards().await;
    let app = &c.p.s.app;
    c.authorize("page-1", "10.00", "8050").await;
    c.authorize("page-2", "5.00", "7995").await;
    c.event(
        "force_capture",
        json!({"authorization_id": "page-fc", "card_ref": "card-1", "amount": "3.00",
               "currency": "GBP", "merchant": {"name": "<b>Shop</b>", "category_code": "5411"}}),
    )
    .await;
    let (cookie, csrf) = app.session(c.p.s.council.id, c.p.s.maker.id).await;

    let list = app.page("/cards", &cookie).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("•••• 4242"), "{}", list.text);
    assert!(list.text.contains("Register a card"));

    // A refused registration: explained, the form as typed.
    let refused = app
        .form(
            "/cards",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("account_id", &c.p.dp_account.to_string()),
                ("processor_card_ref", "card-2"),
                ("cardholder_user_id", &c.p.holder.0.to_string()),
                ("last4", "12x4"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("There is a problem"));
    assert!(refused.text.contains("value=\"12x4\""), "{}", refused.text);
    let registered = app
        .form(
            "/cards",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("account_id", &c.p.dp_account.to_string()),
                ("processor_card_ref", "card-2"),
                ("cardholder_user_id", &c.p.holder.0.to_string()),
                ("last4", "1234"),
            ],
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::SEE_OTHER,
        "{}",
        registered.text
    );

    // The card's page: its authorisations with their decisions.
    let card_page = app.page(&format!("/cards/{}", c.card), &cookie).await;
    assert_eq!(card_page.status, StatusCode::OK, "{}", card_page.text);
    assert!(card_page.text.contains("page-1"));
    assert!(
        card_page.text.contains("Declined: blocked merchant"),
        "{}",
        card_page.text
    );
    assert!(card_page.text.contains("Not asked (force capture)"));
    assert!(
        card_page.text.contains("&lt;b&gt;Shop&lt;/b&gt;"),
        "escaped"
    );
    let frozen = app
        .form(
            &format!("/cards/{}/freeze", c.card),
            &cookie,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(frozen.status, StatusCode::SEE_OTHER, "{}", frozen.text);
    let card_page = app.page(&format!("/cards/{}", c.card), &cookie).await;
    assert!(
        card_page.text.contains("Unfreeze the card"),
        "{}",
        card_page.text
    );
    let no_csrf = app
        .form(&format!("/cards/{}/unfreeze", c.card), &cookie, &[])
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.authorize("page-3", "1.00", "8050").await.json["decline_reason"],
        "card_frozen"
    );

    // The exceptions list: reviewed with a note; an empty note is refused, the page explains.
    let exceptions = app.page("/cards/exceptions", &cookie).await;
    assert_eq!(exceptions.status, StatusCode::OK, "{}", exceptions.text);
    assert!(exceptions.text.contains("Captured with no authorisation"));
    assert!(
        exceptions.text.contains("Would have declined: not in plan"),
        "{}",
        exceptions.text
    );
    let listed = app
        .get("/api/v1/cards/exceptions", &c.p.s.maker.token)
        .await;
    let id = listed.json["items"][0]["id"].as_str().unwrap().to_owned();
    let empty = app
        .form(
            &format!("/cards/exceptions/{id}/review"),
            &cookie,
            &[("csrf_token", &csrf), ("note", " ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text);
    assert!(empty.text.contains("There is a problem"));
    let reviewed = app
        .form(
            &format!("/cards/exceptions/{id}/review"),
            &cookie,
            &[("csrf_token", &csrf), ("note", "Checked with the person.")],
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.text);
    let exceptions = app.page("/cards/exceptions", &cookie).await;
    assert!(exceptions.text.contains("Checked with the person."));

    // Auditors read without forms; care managers do not see the list.
    let (auditor, _) = app.session(c.p.s.council.id, c.p.s.auditor.id).await;
    let read = app.page("/cards/exceptions", &auditor).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.text.contains("Mark reviewed"));
    let (care_manager, _) = app.session(c.p.s.council.id, c.p.s.care_manager.id).await;
    assert_eq!(
        app.page("/cards/exceptions", &care_manager).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn webhook_endpoints_page_registers_shows_the_secret_once_and_deletes() {
    let app = TestApp::with_settings(allot::config::Settings {
        webhook_allow_private: true,
        ..test_settings()
    })
    .await;
    let t = setup_in(Scenario::in_app(app, "Test Council").await).await;
    let s = &t.s;
    let app = &s.app;
    let (cookie, csrf) = app.session(s.council.id, s.council.admin_id).await;
    let empty = app.page("/webhooks", &cookie).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(empty.text.contains("No endpoints yet."));

    // http to a host the council has not allowed: refused, the form as typed, nothing made.
    let refused = app
        .form(
            "/webhooks",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("events", "payment.posted"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("There is a problem"));
    assert!(refused.text.contains("value=\"http://127.0.0.1:9/hook\""));
    assert!(
        refused.text.contains("value=\"payment.posted\" checked"),
        "{}",
        refused.text
    );
    let listed = app.get("/api/v1/webhooks", &s.council.admin_token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 0);

    let allowed = app
        .put(
            "/api/v1/webhook-http-hosts",
            &s.council.admin_token,
            json!({"hosts": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text);
    let created = app
        .form(
            "/webhooks",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("events", "payment.posted"),
                ("events", "payment.refused"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(created.text.contains("whsec_"), "the secret is shown");
    let listed = app.get("/api/v1/webhooks", &s.council.admin_token).await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["events"],
        json!(["payment.posted", "payment.refused"])
    );
    let endpoint = items[0]["id"].as_str().unwrap().to_owned();

    // The delivery log; the secret is not shown again.
    let paid = t.pay(&t.holder.1, t.body("personal_care", "10.00")).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    let page = app.page("/webhooks", &cookie).await;
    assert!(!page.text.contains("whsec_"));
    assert!(page.text.contains("payment.posted"));
    assert!(page.text.contains("pending"), "{}", page.text);

    // Provider staff see only their organisation's endpoints; finance officers none at all.
    let (provider, _) = app.session(s.council.id, s.ma_staff.id).await;
    let theirs = app.page("/webhooks", &provider).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert!(theirs.text.contains("No endpoints yet."));
    let (finance, _) = app.session(s.council.id, s.maker.id).await;
    assert_eq!(
        app.page("/webhooks", &finance).await.status,
        StatusCode::FORBIDDEN
    );

    let deleted = app
        .form(
            &format!("/webhooks/{endpoint}/delete"),
            &cookie,
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    let page = app.page("/webhooks", &cookie).await;
    assert!(page.text.contains("No endpoints yet."));
}
