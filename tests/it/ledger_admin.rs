//! The ledger's admin pages: an account's statement (balances, running balance, date filter,
//! paging) and an entry (legs, decision record, reversals, seal), signed in through the login
//! form; everything escaped; not found wherever the statement API would say not found.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use scraper::{Html, Selector};
use serde_json::json;
use uuid::Uuid;

use allot::auth::Role;
use allot::db::tenant_tx;
use allot::ledger::{self, NewAccount, NewEntry, NewLeg, Side};

use crate::support::scenario::{account, Scenario, PERIOD};
use crate::support::{Reply, TestApp, PASSWORD};

fn select(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn attrs(html: &str, css: &str, name: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .filter_map(|e| e.value().attr(name).map(str::to_string))
        .collect()
}

fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let v = v.to_str().ok()?;
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=')?;
            (k == name && !val.is_empty()).then(|| val.to_string())
        })
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Signs in through the login form as the owner of `token`; returns the session cookie.
async fn sign_in(app: &TestApp, token: &str) -> String {
    let email = app.get("/api/v1/me", token).await.json["email"]
        .as_str()
        .expect("email")
        .to_string();
    let login = app.call(Method::GET, "/login", None, None).await;
    let csrf = cookie_value(&login, "allot_login_csrf").expect("login CSRF cookie");
    let body = format!(
        "csrf_token={csrf}&email={}&password={}",
        urlencode(&email),
        urlencode(PASSWORD)
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("allot_login_csrf={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    format!(
        "allot_session={}",
        cookie_value(&reply, "allot_session").expect("session cookie")
    )
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A council with a budget paid for one period: a direct payment (£100 a week) and an ISF held
/// by Supported Living Ltd (£50 a week), four weeks released.
struct Paid {
    s: Scenario,
    budget: Uuid,
    direct_payment: Uuid,
    isf: Uuid,
}

async fn paid() -> Paid {
    let s = Scenario::new().await;
    let person = s.person("Ann <i>Italic</i>", true, false).await;
    let budget = s
        .approved_budget(
            Scenario::budget_body(person),
            json!([
                Scenario::line("personal_care", "100.00", "direct_payment", None),
                Scenario::line("day_activities", "50.00", "isf", Some(s.isf_provider))
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let view = s.budget_view(budget).await;
    let account_id = |deployment: &str| -> Uuid {
        account(&view, deployment)["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    Paid {
        direct_payment: account_id("direct_payment"),
        isf: account_id("isf"),
        budget,
        s,
    }
}

/// Pays £25.50 from the direct payment to a payee account of the council, dated the day after the
/// period starts, with a description and a decision record that need escaping.
async fn pay_window_cleaner(p: &Paid) -> Uuid {
    let pool = &p.s.app.db.pool;
    let council = p.s.council.id;
    let mut client = pool.get().await.unwrap();
    let tx = tenant_tx(&mut client, council).await.unwrap();
    let payee = ledger::create_account(
        &tx,
        council,
        &NewAccount {
            kind: "payee".into(),
            name: "Payee: Clear View <Windows>".into(),
            holder: None,
            no_overdraft: false,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let amount = Decimal::new(2550, 2);
    let entry = NewEntry {
        effective_date: day("2025-02-04"),
        description: "<script>alert(1)</script> Window cleaning".into(),
        legs: vec![
            NewLeg {
                account_id: p.direct_payment,
                side: Side::Debit,
                amount,
            },
            NewLeg {
                account_id: payee,
                side: Side::Credit,
                amount,
            },
        ],
        metadata: json!({
            "requested_by": {"name": "<b>Bea</b> Budget-Holder", "role": "budget_holder"},
            "approved_by": null,
            "rule_set_version": 3,
            "decision": {"outcome": "allowed", "checked": ["<em>agreement</em>", "payee"]},
        }),
        reverses: None,
    };
    ledger::post(pool, council, &entry).await.unwrap().id
}

#[tokio::test]
async fn the_statement_shows_balances_running_balance_filter_and_pages() {
    let p = paid().await;
    let payment = pay_window_cleaner(&p).await;
    let finance = sign_in(&p.s.app, &p.s.maker.token).await;
    let path = format!("/accounts/{}", p.direct_payment);

    let page = p.s.app.page(&path, &finance).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let title = select(&page.text, "main h1");
    assert!(title[0].starts_with("Direct payment — PB"), "{title:?}");
    let summary = select(&page.text, "dl.summary dd").join(" | ");
    assert!(summary.contains("Ann <i>Italic</i>"), "{summary}");
    assert!(!page.text.contains("<i>Italic</i>"), "names are escaped");
    assert!(
        !page.text.contains("<script>alert"),
        "descriptions are escaped"
    );
    assert!(page
        .text
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; Window cleaning"));
    assert_eq!(
        select(&page.text, "dl.balances dd"),
        vec!["£374.50", "£374.50", "£374.50"]
    );
    // Brought forward, the release in, the payment out, with the balance after each.
    let rows: Vec<Vec<String>> = {
        let doc = Html::parse_document(&page.text);
        let row = Selector::parse("table.statement tbody tr").unwrap();
        let cell = Selector::parse("td").unwrap();
        doc.select(&row)
            .map(|r| {
                r.select(&cell)
                    .map(|c| c.text().collect::<String>().trim().to_string())
                    .collect()
            })
            .collect()
    };
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][4], "£0.00");
    assert_eq!(
        (rows[1][2].as_str(), rows[1][4].as_str()),
        ("£400.00", "£400.00")
    );
    assert_eq!(rows[2][0], "4 February 2025");
    assert_eq!(
        (rows[2][3].as_str(), rows[2][4].as_str()),
        ("£25.50", "£374.50")
    );
    assert!(attrs(&page.text, "table.statement a", "href").contains(&format!("/entries/{payment}")));
    assert!(attrs(&page.text, "dl.summary a", "href").contains(&format!("/budgets/{}", p.budget)));

    // From the payment's day: the release is brought forward.
    let filtered =
        p.s.app
            .page(&format!("{path}?from=2025-02-04&to=2025-02-28"), &finance)
            .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let balances = select(&filtered.text, "table.statement td.num");
    assert_eq!(balances, vec!["£400.00", "", "£25.50", "£374.50"]);
    assert_eq!(
        attrs(&filtered.text, "input[name=from]", "value"),
        vec!["2025-02-04"]
    );

    // One line a page: the next page carries on from the first, keeping the filter.
    let first = p.s.app.page(&format!("{path}?limit=1"), &finance).await;
    assert_eq!(select(&first.text, "table.statement tbody tr").len(), 2);
    let next = attrs(&first.text, "a[rel=next]", "href");
    assert_eq!(next.len(), 1, "{}", first.text);
    assert!(
        next[0].contains("limit=1") && next[0].contains("cursor="),
        "{next:?}"
    );
    let second = p.s.app.page(&next[0], &finance).await;
    assert_eq!(second.status, StatusCode::OK);
    let cells = select(&second.text, "table.statement td.num");
    assert_eq!(cells, vec!["£400.00", "", "£25.50", "£374.50"]);
    assert!(attrs(&second.text, "a[rel=next]", "href").is_empty());
    assert_eq!(select(&second.text, "nav.pages a"), vec!["First page"]);

    // A filter that cannot be read is explained, not obeyed.
    let bad =
        p.s.app
            .page(&format!("{path}?from=2025-13-45&to=2025-01-01"), &finance)
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(select(&bad.text, ".error-summary li")[0].contains("‘from’"));
    assert_eq!(select(&bad.text, "table.statement tbody tr").len(), 3);

    // The budget page links its balances to the statements.
    let budget_page =
        p.s.app
            .page(&format!("/budgets/{}", p.budget), &finance)
            .await;
    let links = attrs(&budget_page.text, "table a", "href");
    for account_id in [p.direct_payment, p.isf] {
        assert!(
            links.contains(&format!("/accounts/{account_id}")),
            "{links:?}"
        );
    }
}

#[tokio::test]
async fn an_entry_shows_legs_decision_record_reversal_and_seal() {
    let p = paid().await;
    let payment = pay_window_cleaner(&p).await;
    let finance = sign_in(&p.s.app, &p.s.maker.token).await;

    let unsealed = p.s.app.page(&format!("/entries/{payment}"), &finance).await;
    assert_eq!(unsealed.status, StatusCode::OK, "{}", unsealed.text);
    assert!(select(&unsealed.text, "main p")
        .iter()
        .any(|t| t.starts_with("Not sealed yet")));

    // A correction of a ledger entry that is not a payment: straight through the ledger.
    let reversal = {
        let mut client = p.s.app.db.pool.get().await.unwrap();
        let tx = tenant_tx(&mut client, p.s.council.id).await.unwrap();
        let entry = ledger::reverse_in_tx(
            &tx,
            p.s.council.id,
            payment,
            "<script>bad()</script> paid twice",
            json!({"requested_by": {"role": "finance_officer"}}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        entry.id
    };
    ledger::seal_pending(&p.s.app.db.pool, p.s.council.id, &p.s.app.state.chain_key)
        .await
        .unwrap();

    let page = p.s.app.page(&format!("/entries/{payment}"), &finance).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        select(&page.text, "main h1"),
        vec!["<script>alert(1)</script> Window cleaning"]
    );
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert!(!page.text.contains("<b>Bea</b>"));
    assert!(!page.text.contains("<em>agreement</em>"));
    let summary = select(&page.text, "dl.facts dd");
    assert_eq!(
        &summary[..4],
        ["Posted", "4 February 2025", &summary[2], "£25.50"]
    );
    assert!(summary[2].ends_with("UTC"), "{summary:?}");
    assert_eq!(
        attrs(&page.text, "dl.facts a", "href"),
        vec![format!("/entries/{reversal}")]
    );
    // Legs: the direct payment out, the payee in, each linked to its statement.
    let legs = select(&page.text, "table.legs tbody td");
    assert!(legs[0].ends_with("direct payment"), "{legs:?}");
    assert_eq!(&legs[1..3], ["Debit (money out)", "£25.50"]);
    assert_eq!(
        &legs[3..],
        ["Payee: Clear View <Windows>", "Credit (money in)", "£25.50"]
    );
    assert!(attrs(&page.text, "table.legs a", "href")
        .contains(&format!("/accounts/{}", p.direct_payment)));
    // Every key of the decision record, nested values too.
    let labels = select(&page.text, "dl.record dt");
    for label in [
        "Requested by",
        "Approved by",
        "Rule set version",
        "Decision",
        "Outcome",
        "Checked",
        "Name",
    ] {
        assert!(labels.contains(&label.to_string()), "{label}: {labels:?}");
    }
    let values = select(&page.text, "dl.record dd").join(" | ");
    assert!(values.contains("<b>Bea</b> Budget-Holder"), "{values}");
    assert!(values.contains("<em>agreement</em>"), "{values}");
    assert!(values.contains("none"), "{values}");
    // Sealed: the link's hash as the chain holds it.
    let client = p.s.app.db.pool.get().await.unwrap();
    let hash: Vec<u8> = client
        .query_one(
            "SELECT hash FROM ledger_chain WHERE entry_id = $1",
            &[&payment],
        )
        .await
        .unwrap()
        .get(0);
    let seal = select(&page.text, "dl.seal code");
    assert_eq!(seal[0], hex::encode(hash));
    assert_eq!(seal[1].len(), 64);

    let back =
        p.s.app
            .page(&format!("/entries/{reversal}"), &finance)
            .await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(
        select(&back.text, "main h1"),
        vec!["Reversal: <script>bad()</script> paid twice"]
    );
    assert!(!back.text.contains("<script>bad"));
    assert_eq!(
        attrs(&back.text, "dl.facts a", "href"),
        vec![format!("/entries/{payment}")]
    );
    let legs = select(&back.text, "table.legs tbody td");
    assert_eq!(&legs[1..3], ["Credit (money in)", "£25.50"]);
}

#[tokio::test]
async fn ledger_pages_are_not_found_outside_what_one_may_see() {
    let p = paid().await;
    let app = &p.s.app;
    let isf_entries = app
        .get(
            &format!("/api/v1/accounts/{}/entries", p.isf),
            &p.s.maker.token,
        )
        .await;
    let isf_release: Uuid = isf_entries.json["items"][0]["entry_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let dp_entries = app
        .get(
            &format!("/api/v1/accounts/{}/entries", p.direct_payment),
            &p.s.maker.token,
        )
        .await;
    let dp_release: Uuid = dp_entries.json["items"][0]["entry_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // The ISF provider's staff see its account and its entries, not the person's direct payment,
    // and not the council's funding account on the other side of the release.
    let isf_staff = sign_in(app, &p.s.isf_staff.token).await;
    let own = app.page(&format!("/accounts/{}", p.isf), &isf_staff).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let entry = app
        .page(&format!("/entries/{isf_release}"), &isf_staff)
        .await;
    assert_eq!(entry.status, StatusCode::OK);
    let accounts = select(&entry.text, "table.legs tbody tr td:first-child");
    assert!(
        accounts.contains(&"Another account".to_string()),
        "{accounts:?}"
    );
    assert_eq!(
        attrs(&entry.text, "table.legs a", "href"),
        vec![format!("/accounts/{}", p.isf)]
    );
    for path in [
        format!("/accounts/{}", p.direct_payment),
        format!("/entries/{dp_release}"),
    ] {
        assert_eq!(
            app.page(&path, &isf_staff).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Another provider's staff and another council's finance officer see none of it.
    let ma_staff = sign_in(app, &p.s.ma_staff.token).await;
    let other_council = app.council("Other Council").await;
    let (_, other_token) = app
        .user(&other_council, Role::FinanceOfficer, None, None)
        .await;
    let other_finance = sign_in(app, &other_token).await;
    for cookie in [&ma_staff, &other_finance] {
        for path in [
            format!("/accounts/{}", p.isf),
            format!("/accounts/{}", p.direct_payment),
            format!("/entries/{isf_release}"),
            format!("/entries/{dp_release}"),
        ] {
            let reply = app.page(&path, cookie).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(select(&reply.text, "h1"), vec!["Page not found"]);
        }
    }

    // Nothing at made-up addresses; signed-out visitors go to sign in.
    let finance = sign_in(app, &p.s.maker.token).await;
    for path in [
        format!("/accounts/{}", Uuid::new_v4()),
        format!("/entries/{}", Uuid::new_v4()),
        "/accounts/not-a-uuid".to_string(),
        "/entries/not-a-uuid".to_string(),
    ] {
        assert_eq!(
            app.page(&path, &finance).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let signed_out = app
        .call(Method::GET, &format!("/accounts/{}", p.isf), None, None)
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_out.headers[header::LOCATION], "/login");
}
