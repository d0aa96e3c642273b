//! Budgets with several funders through the API and the pages: funding that must add up to the
//! weekly cost, NHS money never charged for, a run over a jointly funded budget drawing each
//! funder's share to the penny from its own ledger account, NHS direct payments kept in an
//! account of their own, the s.26 statement's wording, surplus recovered per funder, and bad input
//! refused with nothing written.

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

use crate::support::scenario::{account, id, Scenario, PERIOD};

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn amount(value: &Value) -> Decimal {
    d(value
        .as_str()
        .unwrap_or_else(|| panic!("not an amount: {value}")))
}

/// 26,000.00 a year (500.00 a week) split 333.33 council and 166.67 NHS.
fn joint_body(person: Uuid) -> Value {
    let mut body = Scenario::budget_body(person);
    body["funding"] = json!([
        {"funder": "council", "weekly_amount": "333.33"},
        {"funder": "nhs", "name": "Borsetshire ICB", "weekly_amount": "166.67"}
    ]);
    body["weekly_contribution"] = json!("50.00");
    body["contribution_basis"] = json!("gross");
    body
}

/// The posted balances of the council's funding accounts, by funder (`council`, `nhs`, or the
/// other fund's name).
async fn funder_balances(s: &Scenario) -> HashMap<String, Decimal> {
    let council_id = s.council.id;
    allot::db::in_tenant_tx(&s.app.db.pool, council_id, |tx| {
        Box::pin(async move {
            let accounts = allot::budgets::funding::funder_accounts(tx, council_id).await?;
            let mut out = HashMap::new();
            for (account, (funder, name)) in accounts {
                let balance = allot::ledger::balances(tx, council_id, account)
                    .await?
                    .posted_balance;
                let key = name.unwrap_or_else(|| funder.as_str().to_string());
                out.insert(key, balance);
            }
            Ok(out)
        })
    })
    .await
    .expect("funder balances")
}

fn skip(run: &Value, budget: Uuid) -> Option<&Value> {
    run["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["budget_id"] == json!(budget))
}

fn has_line(run: &Value, budget: Uuid) -> bool {
    run["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["budget_id"] == json!(budget))
}

#[tokio::test]
async fn funding_must_add_up_to_the_weekly_cost_and_bad_funding_writes_nothing() {
    let s = Scenario::new().await;
    let person = s.person("Ffion", true, false).await;
    let token = &s.care_manager.token;
    let before = s.app.snapshot().await;
    let refused = |change: &dyn Fn(&mut Value)| {
        let mut body = joint_body(person);
        change(&mut body);
        body
    };
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        // 333.33 + 166.66 = 499.99, not the 500.00 a week of 26,000.00 a year.
        (
            refused(&|b| b["funding"][1]["weekly_amount"] = json!("166.66")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "funding_mismatch",
        ),
        (
            refused(&|b| b["funding"][1]["funder"] = json!("lottery")),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            refused(&|b| {
                b["funding"] = json!([{"funder": "council", "weekly_amount": "250.00"},
                                     {"funder": "other", "weekly_amount": "250.00"}])
            }),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            refused(&|b| {
                b["funding"] = json!([{"funder": "council", "weekly_amount": "250.00"},
                                     {"funder": "council", "weekly_amount": "250.00"}])
            }),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            refused(&|b| {
                b["funding"] = json!([{"funder": "council", "weekly_amount": "500.00"},
                                     {"funder": "nhs", "weekly_amount": "0"}])
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        (
            refused(&|b| b["funding"] = json!([])),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            refused(&|b| b["funding"][0]["share"] = json!("1")),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            refused(&|b| b["funding"][0]["weekly_amount"] = json!("333.333")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
        ),
        // The lead funder must be one of the funders.
        (
            refused(&|b| {
                b["funder"] = json!("nhs");
                b["weekly_contribution"] = json!("0");
                b["funding"] = json!([{"funder": "council", "weekly_amount": "500.00"}]);
            }),
            StatusCode::BAD_REQUEST,
            "",
        ),
    ];
    for (body, status, code) in cases {
        let reply = s.app.post("/api/v1/budgets", token, body.clone()).await;
        assert_eq!(reply.status, status, "{body} → {}", reply.text);
        if !code.is_empty() {
            assert_eq!(reply.code(), code, "{}", reply.text);
        }
    }
    assert_eq!(s.app.snapshot().await, before);

    // Added up, the budget is recorded with its funding and the s.26 figures per funder.
    let created = s
        .app
        .post("/api/v1/budgets", token, joint_body(person))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let budget = s.budget_view(id(&created)).await;
    assert_eq!(
        budget["funding"],
        json!([
            {"funder": "council", "name": null, "weekly_amount": "333.33"},
            {"funder": "nhs", "name": "Borsetshire ICB", "weekly_amount": "166.67"}
        ]),
        "{budget}"
    );
    // 26,000.00 a year split 17,333.16 / 8,666.84; the contribution (2,600.00) comes off the
    // council's share only.
    assert_eq!(budget["person_amount"], "2600.00");
    assert_eq!(
        budget["paid_by"],
        json!([
            {"funder": "council", "name": null, "amount": "14733.16"},
            {"funder": "nhs", "name": "Borsetshire ICB", "amount": "8666.84"}
        ])
    );

    // Without `funding`, the named funder pays it all.
    let plain = s
        .app
        .post("/api/v1/budgets", token, Scenario::budget_body(person))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.text);
    assert_eq!(
        plain.json["funding"],
        json!([{"funder": "council", "name": null, "weekly_amount": "500.00"}])
    );

    // A change of funding must add up too; refused, nothing changes.
    let path = format!("/api/v1/budgets/{}", id(&created));
    let before = s.app.snapshot().await;
    let mismatch = s
        .app
        .patch(
            &path,
            token,
            json!({"funding": [{"funder": "council", "weekly_amount": "400.00"}]}),
        )
        .await;
    assert_eq!(
        mismatch.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        mismatch.text
    );
    assert_eq!(mismatch.code(), "funding_mismatch");
    let nhs_only = s
        .app
        .patch(
            &path,
            token,
            json!({"funding": [{"funder": "nhs", "weekly_amount": "500.00"}]}),
        )
        .await;
    assert_eq!(
        nhs_only.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nhs_only.text
    );
    assert_eq!(nhs_only.code(), "nhs_no_charging");
    assert_eq!(s.app.snapshot().await, before);
    let after = s.budget_view(id(&created)).await;
    assert_eq!(after["funding"], budget["funding"]);
    let changed = s
        .app
        .patch(
            &path,
            token,
            json!({"funding": [{"funder": "council", "weekly_amount": "400.00"},
                               {"funder": "other", "name": "Independent Living Fund", "weekly_amount": "100.00"}]}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        changed.json["funding"][1]["name"],
        "Independent Living Fund"
    );
    assert_eq!(changed.json["paid_by"][1]["amount"], "5200.00");
}

#[tokio::test]
async fn an_nhs_budget_is_never_charged_for() {
    let s = Scenario::new().await;
    let person = s.person("Gwen", true, false).await;
    let mut body = Scenario::budget_body(person);
    body["funder"] = json!("nhs");
    body["weekly_contribution"] = json!("20.00");
    let before = s.app.snapshot().await;
    let refused = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "nhs_no_charging");
    // The same with the funding spelt out.
    body["funding"] = json!([{"funder": "nhs", "weekly_amount": "500.00"}]);
    let spelt = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body.clone())
        .await;
    assert_eq!(
        spelt.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        spelt.text
    );
    assert_eq!(spelt.code(), "nhs_no_charging");
    assert_eq!(s.app.snapshot().await, before);

    // Without a contribution it is recorded; the NHS pays it all.
    body["weekly_contribution"] = json!("0");
    let created = s
        .app
        .post("/api/v1/budgets", &s.care_manager.token, body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.json["paid_by"],
        json!([{"funder": "nhs", "name": null, "amount": "26000.00"}])
    );
}

#[tokio::test]
async fn a_run_over_a_jointly_funded_budget_draws_each_funders_share_to_the_penny() {
    let s = Scenario::new().await;
    let person = s.person("Hywel", true, false).await;
    let budget = s
        .approved_budget(
            joint_body(person),
            json!([
                Scenario::line(
                    "personal_care",
                    "300.01",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line("day_activities", "199.99", "isf", Some(s.isf_provider)),
            ]),
        )
        .await;
    let run = s.release(PERIOD).await;
    let lines: Vec<&Value> = run["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["budget_id"] == json!(budget))
        .collect();
    assert_eq!(lines.len(), 2, "{run}");
    let released: Decimal = lines.iter().map(|l| amount(&l["amount"])).sum();
    assert_eq!(released, d("2000.00"));
    // The contribution (gross, 50.00 a week) is recorded as owed on the managed account's line.
    let owed: Decimal = lines.iter().map(|l| amount(&l["contribution_owed"])).sum();
    assert_eq!(owed, d("200.00"));

    // Each line's entry draws from the funders in proportion, the parts adding up to the line.
    // Managed account 1,200.04 = 800.02 council + 400.02 NHS; ISF 799.96 = 533.30 + 266.66.
    let balances = funder_balances(&s).await;
    assert_eq!(balances["council"], d("-1133.32"), "{balances:?}");
    assert_eq!(balances["nhs"], d("-666.68"), "{balances:?}");
    assert_eq!(
        -(balances["council"] + balances["nhs"]) + owed,
        released,
        "what the funders paid, with the contribution owed, is what was released"
    );
    for line in &lines {
        let entry: Uuid = line["entry_id"].as_str().unwrap().parse().unwrap();
        let council_id = s.council.id;
        let metadata: Value = allot::db::in_tenant_tx(&s.app.db.pool, council_id, |tx| {
            Box::pin(async move {
                Ok(tx
                    .query_one(
                        "SELECT metadata FROM ledger_entries WHERE council_id = $1 AND id = $2",
                        &[&council_id, &entry],
                    )
                    .await?
                    .get(0))
            })
        })
        .await
        .unwrap();
        let funders = metadata["funders"].as_array().unwrap();
        let drawn: Decimal = funders.iter().map(|f| amount(&f["amount"])).sum();
        assert_eq!(drawn, amount(&line["amount"]), "{metadata}");
    }

    // The statement reads the money in by funder.
    s.app
        .state
        .clock
        .set(Utc.with_ymd_and_hms(2025, 3, 10, 10, 0, 0).unwrap());
    let statement = s
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/statement"),
            &s.care_manager.token,
        )
        .await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
    assert_eq!(statement.json["money_in"], "2000.00");
    assert_eq!(
        statement.json["money_in_by_funder"],
        json!([
            {"funder": "council", "name": null, "amount": "1333.32"},
            {"funder": "nhs", "name": "Borsetshire ICB", "amount": "666.68"}
        ])
    );
    let csv = s
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/statement?format=csv"),
            &s.care_manager.token,
        )
        .await;
    assert!(
        csv.text
            .contains("money_in_by_funder,nhs,From the NHS,,666.68"),
        "{}",
        csv.text
    );
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = s
        .app
        .page(&format!("/budgets/{budget}/statement"), &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Where the money came from"),
        "{}",
        page.text
    );
    assert!(page.text.contains("the NHS (Borsetshire ICB)"));
    assert!(page.text.contains("£666.68"));
}

#[tokio::test]
async fn an_nhs_direct_payment_goes_only_to_an_account_of_its_own() {
    let s = Scenario::new().await;
    let nhs = |person: Uuid, separate: bool, account_number: &str| {
        let mut body = Scenario::budget_body(person);
        body["funder"] = json!("nhs");
        body["nhs_dp_separate_account"] = json!(separate);
        body["bank"]["account_number"] = json!(account_number);
        body
    };
    let dp = || {
        json!([Scenario::line(
            "personal_assistant",
            "500.00",
            "direct_payment",
            None
        )])
    };
    // Not said to be an account of its own: skipped.
    let undeclared = s
        .approved_budget(
            nhs(s.person("Iolo", true, false).await, false, "10000001"),
            dp(),
        )
        .await;
    // An account of its own: paid.
    let separate = s
        .approved_budget(
            nhs(s.person("Jac", true, false).await, true, "10000002"),
            dp(),
        )
        .await;
    // Jointly funded: the direct payment would mix NHS and council money.
    let mut joint = joint_body(s.person("Kai", true, false).await);
    joint["weekly_contribution"] = json!("0");
    joint["nhs_dp_separate_account"] = json!(true);
    joint["bank"]["account_number"] = json!("10000003");
    let joint = s.approved_budget(joint, dp()).await;
    // Said to be its own, but a council-funded direct payment goes to the same bank account.
    let shared = s
        .approved_budget(
            nhs(s.person("Lowri", true, false).await, true, "10000004"),
            dp(),
        )
        .await;
    let mut council = Scenario::budget_body(s.person("Mali", true, false).await);
    council["bank"]["account_number"] = json!("10000004");
    let council = s.approved_budget(council, dp()).await;

    let draft = s.draft_run("nhs-run", PERIOD).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let run = &draft.json;
    assert_eq!(
        skip(run, undeclared).map(|s| s["reason"].clone()),
        Some(json!("nhs_separate_account_required")),
        "{run}"
    );
    assert_eq!(
        skip(run, joint).map(|s| s["reason"].clone()),
        Some(json!("nhs_account_mixed")),
        "{run}"
    );
    assert_eq!(
        skip(run, shared).map(|s| s["reason"].clone()),
        Some(json!("nhs_account_mixed")),
        "{run}"
    );
    assert!(has_line(run, separate), "{run}");
    assert!(has_line(run, council), "{run}");
    for budget in [undeclared, joint, shared] {
        assert!(!has_line(run, budget), "{run}");
    }
    // Approved, the NHS's account pays the NHS direct payment, the council's the other.
    s.submit_and_approve(id(&draft)).await;
    let balances = funder_balances(&s).await;
    assert_eq!(balances["nhs"], d("-2000.00"), "{balances:?}");
    assert_eq!(balances["council"], d("-2000.00"), "{balances:?}");
    let view = s.budget_view(separate).await;
    assert_eq!(
        account(&view, "direct_payment")["posted_balance"],
        "2000.00"
    );
}

#[tokio::test]
async fn the_s26_statement_names_each_funder_and_never_the_council_for_an_nhs_budget() {
    let s = Scenario::new().await;
    let mut nhs = Scenario::budget_body(s.person("Nerys", true, false).await);
    nhs["funder"] = json!("nhs");
    nhs["funding"] =
        json!([{"funder": "nhs", "name": "Borsetshire ICB", "weekly_amount": "500.00"}]);
    let nhs = s.budget(nhs).await;
    let joint = s
        .budget(joint_body(s.person("Owain", true, false).await))
        .await;
    let council = s
        .budget(Scenario::budget_body(
            s.person("Pryderi", true, false).await,
        ))
        .await;
    let (cookie, _) = s.app.session(s.council.id, s.care_manager.id).await;
    let page = |budget: Uuid| {
        let cookie = cookie.clone();
        let app = &s.app;
        async move {
            let reply = app.page(&format!("/budgets/{budget}"), &cookie).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply.text
        }
    };
    let text = page(nhs).await;
    assert!(!text.contains("Paid by the council"), "{text}");
    assert!(
        text.contains("Paid by the NHS (Borsetshire ICB), a year"),
        "{text}"
    );
    assert!(text.contains("£26,000.00"));
    assert!(text.contains("No account used only for NHS direct payments is recorded"));
    let text = page(joint).await;
    assert!(text.contains("Paid by the council, a year"), "{text}");
    assert!(text.contains("£14,733.16"), "{text}");
    assert!(text.contains("Paid by the NHS (Borsetshire ICB), a year"));
    assert!(text.contains("£8,666.84"));
    assert!(text.contains("Who pays for this budget"));
    let text = page(council).await;
    assert!(text.contains("Paid by the council, a year"), "{text}");
    assert!(!text.contains("Who pays for this budget"));
}

#[tokio::test]
async fn surplus_is_worked_out_and_recovered_per_funder() {
    let s = Scenario::new().await;
    let admin = &s.council.admin_token;
    let mut policy = s.app.get("/api/v1/policy", admin).await.json;
    policy.as_object_mut().unwrap().remove("version");
    policy["surplus_weeks_dp"] = json!(1);
    let set = s.app.put("/api/v1/policy", admin, policy).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let person = s.person("Rhys", true, false).await;
    let budget = s
        .approved_budget(
            joint_body(person),
            json!([
                Scenario::line(
                    "personal_care",
                    "300.01",
                    "managed_account",
                    Some(s.ma_provider)
                ),
                Scenario::line("day_activities", "199.99", "isf", Some(s.isf_provider)),
            ]),
        )
        .await;
    s.release(PERIOD).await;
    let clock = |y, m, d| {
        s.app
            .state
            .clock
            .set(Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap())
    };
    clock(2025, 3, 3);
    let view = s.budget_view(budget).await;
    let ma = account(&view, "managed_account")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Balance 1,200.04, one week (300.01) kept: 900.03 surplus, split by the weights
    // 333.33 : 166.67 as 600.01 council and 300.02 NHS (the NHS's remainder is the larger).
    let list = s
        .app
        .get("/api/v1/surplus?as_of=2025-03-03", &s.maker.token)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let item = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["account_id"] == ma)
        .unwrap_or_else(|| panic!("{}", list.text));
    assert_eq!(item["surplus"], "900.03");
    let split: Decimal = item["by_funder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| amount(&f["amount"]))
        .sum();
    assert_eq!(split, d("900.03"), "{item}");
    assert_eq!(item["by_funder"][1]["funder"], "nhs");
    assert_eq!(item["by_funder"][0]["amount"], "600.01");
    assert_eq!(item["by_funder"][1]["amount"], "300.02");

    let issued = s
        .app
        .post(
            &format!("/api/v1/budgets/{budget}/surplus-notices"),
            &s.maker.token,
            json!({"account_id": ma, "amount": "600.00", "reasons": "Unspent since the agency closed."}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let notice = issued.json["id"].as_str().unwrap().to_owned();
    let before = funder_balances(&s).await;
    clock(2025, 4, 15);
    let taken = s
        .app
        .post_with_key(
            &format!("/api/v1/surplus-notices/{notice}/recover"),
            &s.maker.token,
            "recover-1",
            json!(null),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text);
    assert_eq!(taken.json["amount"], "600.00");
    // 600.00 = 400.00 council (to its recovered-funds account) + 200.00 NHS (back to its account).
    assert_eq!(
        taken.json["by_funder"],
        json!([
            {"funder": "council", "name": null, "amount": "400.00"},
            {"funder": "nhs", "name": "Borsetshire ICB", "amount": "200.00"}
        ])
    );
    let after = funder_balances(&s).await;
    assert_eq!(after["nhs"] - before["nhs"], d("200.00"));
    assert_eq!(after["council"], before["council"]);
    let recovered = taken.json["to_account_id"].as_str().unwrap();
    let entries = s
        .app
        .get(
            &format!("/api/v1/accounts/{recovered}/entries"),
            &s.auditor.token,
        )
        .await;
    assert_eq!(
        entries.json["account"]["posted_balance"], "400.00",
        "{}",
        entries.text
    );
}
