//! Grants and their ending, policy versions, bank-detail changes and their verification are on
//! the keyed hash chain like the entries: written through the API, queued in the same
//! transaction, sealed, verified; edited afterwards as the database superuser, each is reported
//! by verification, as is a verification forged with the queueing triggers switched off.

use axum::http::StatusCode;
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

use allot::auth::Role;
use allot::ledger::{self, VerifyReport};

use crate::ledger_support::chain_key;
use crate::support::scenario::{id, Scenario};

/// Runs SQL as the cluster's superuser (no grants, no row-level security).
async fn as_superuser(s: &Scenario, sql: &str, record: Uuid) {
    as_superuser_with(s, false, sql, record).await
}

/// Runs SQL as the cluster's superuser, with triggers switched off when `no_triggers`.
async fn as_superuser_with(s: &Scenario, no_triggers: bool, sql: &str, record: Uuid) {
    let (client, connection) = s
        .app
        .db
        .config
        .connect(NoTls)
        .await
        .expect("superuser connection");
    let task = tokio::spawn(connection);
    client.batch_execute("BEGIN").await.unwrap();
    if no_triggers {
        client
            .batch_execute("SET LOCAL session_replication_role = replica")
            .await
            .unwrap();
    }
    client.execute(sql, &[&record]).await.expect("tampering");
    client.batch_execute("COMMIT").await.unwrap();
    drop(client);
    let _ = task.await;
}

async fn verify(s: &Scenario) -> VerifyReport {
    ledger::verify(&s.app.db.pool, s.council.id, &chain_key())
        .await
        .unwrap()
}

/// How many links of `kind` the council's chain holds and how many wait in the queue.
async fn links(s: &Scenario, kind: &str) -> (i64, i64) {
    let council = s.council.id;
    let kind = kind.to_string();
    allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
        Box::pin(async move {
            let row = tx
                .query_one(
                    "SELECT (SELECT count(*) FROM ledger_chain WHERE council_id = $1 AND kind = $2),
                            (SELECT count(*) FROM ledger_seal_queue
                             WHERE council_id = $1 AND kind = $2)",
                    &[&council, &kind],
                )
                .await?;
            Ok((row.get::<_, i64>(0), row.get::<_, i64>(1)))
        })
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn decisions_rest_on_sealed_records_and_editing_one_is_reported() {
    let s = Scenario::new().await;
    let person = s.person("Robin Record", true, false).await;
    // A budget with bank details (a change logged by the care manager, verified by the checker).
    let budget = s.budget(Scenario::budget_body(person)).await;
    let council = s.council.id;
    let bank_change: Uuid = allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(
                    "SELECT id FROM bank_detail_changes
                     WHERE council_id = $1 AND budget_id = $2 AND verified_by IS NOT NULL",
                    &[&council, &budget],
                )
                .await?
                .get(0))
        })
    })
    .await
    .unwrap();
    // A grant, recorded and ended.
    let (rep, _) = s
        .app
        .user(&s.council, Role::Representative, None, None)
        .await;
    let path = format!("/api/v1/budgets/{budget}/agreements");
    let created = s
        .app
        .post(
            &path,
            &s.care_manager.token,
            json!({"user_id": rep, "acting_as": "nominated_person", "powers": ["pay"],
                   "max_per_payment": "200.00", "valid_from": "2025-01-01"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let grant = id(&created);
    let ended = s
        .app
        .post(
            &format!("{path}/{grant}/end"),
            &s.care_manager.token,
            json!({}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    // A new version of the policy.
    let mut policy = s
        .app
        .get("/api/v1/policy", &s.council.admin_token)
        .await
        .json;
    policy.as_object_mut().unwrap().remove("version");
    policy["hold_expiry_days"] = json!(10);
    policy["reason"] = json!("Holds run out sooner");
    let changed = s
        .app
        .put("/api/v1/policy", &s.council.admin_token, policy)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let policy_id: Uuid = allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(
                    "SELECT id FROM council_policies WHERE council_id = $1
                     ORDER BY version DESC LIMIT 1",
                    &[&council],
                )
                .await?
                .get(0))
        })
    })
    .await
    .unwrap();
    // A change of the budget's bank details, waiting for a finance officer.
    let patched = s
        .app
        .patch(
            &format!("/api/v1/budgets/{budget}"),
            &s.care_manager.token,
            json!({"bank": {"sort_code": "40-11-22", "account_number": "87654321",
                            "account_name": "R Record"}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let waiting: Uuid = allot::db::in_tenant_tx(&s.app.db.pool, council, |tx| {
        Box::pin(async move {
            Ok(tx
                .query_one(
                    "SELECT id FROM bank_detail_changes
                     WHERE council_id = $1 AND budget_id = $2 AND status = 'unverified'",
                    &[&council, &budget],
                )
                .await?
                .get(0))
        })
    })
    .await
    .unwrap();

    // Each was queued by the transaction that wrote it; the sealer links them all.
    for kind in [
        "grant",
        "grant_end",
        "policy",
        "bank_change",
        "bank_verification",
    ] {
        let (sealed, queued) = links(&s, kind).await;
        assert_eq!(sealed, 0, "{kind}");
        assert!(queued >= 1, "nothing of kind {kind} was queued");
    }
    let report = verify(&s).await;
    assert!(report.ok, "{report:?}");
    assert!(report.unsealed >= 5, "{report:?}");
    ledger::seal_pending(&s.app.db.pool, council, &chain_key())
        .await
        .unwrap();
    for kind in [
        "grant",
        "grant_end",
        "policy",
        "bank_change",
        "bank_verification",
    ] {
        let (sealed, queued) = links(&s, kind).await;
        assert!(sealed >= 1, "nothing of kind {kind} was sealed");
        assert_eq!(queued, 0, "{kind}");
    }
    let report = verify(&s).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.unsealed, 0, "{report:?}");

    // Each edit is found, and undoing it makes the chain whole again.
    let edits: [(&str, Uuid, &str, &str); 7] = [
        (
            "a grant's limit raised",
            grant,
            "UPDATE agreement_grants SET max_per_payment = max_per_payment * 100 WHERE id = $1",
            "UPDATE agreement_grants SET max_per_payment = max_per_payment / 100 WHERE id = $1",
        ),
        (
            "a grant's powers widened",
            grant,
            "UPDATE agreement_grants SET powers = ARRAY['pay', 'approve'] WHERE id = $1",
            "UPDATE agreement_grants SET powers = ARRAY['pay'] WHERE id = $1",
        ),
        (
            "a grant's ending moved",
            grant,
            "UPDATE agreement_grants SET ended_at = ended_at + interval '30 days' WHERE id = $1",
            "UPDATE agreement_grants SET ended_at = ended_at - interval '30 days' WHERE id = $1",
        ),
        (
            "a policy version's settings edited",
            policy_id,
            "UPDATE council_policies
             SET settings = jsonb_set(settings, '{hold_expiry_days}', '40') WHERE id = $1",
            "UPDATE council_policies
             SET settings = jsonb_set(settings, '{hold_expiry_days}', '10') WHERE id = $1",
        ),
        (
            "a policy version's reason edited",
            policy_id,
            "UPDATE council_policies SET reason = reason || ' (edited)' WHERE id = $1",
            "UPDATE council_policies SET reason = left(reason, length(reason) - 9) WHERE id = $1",
        ),
        (
            "a logged bank-detail change redirected",
            bank_change,
            "UPDATE bank_detail_changes
             SET new_account_number = translate(new_account_number, '0123456789', '1234567890')
             WHERE id = $1",
            "UPDATE bank_detail_changes
             SET new_account_number = translate(new_account_number, '1234567890', '0123456789')
             WHERE id = $1",
        ),
        (
            "a verification's time moved",
            bank_change,
            "UPDATE bank_detail_changes SET verified_at = verified_at - interval '1 day'
             WHERE id = $1",
            "UPDATE bank_detail_changes SET verified_at = verified_at + interval '1 day'
             WHERE id = $1",
        ),
    ];
    for (what, record, edit, undo) in edits {
        as_superuser(&s, edit, record).await;
        let report = verify(&s).await;
        assert!(!report.ok, "{what} went unnoticed: {report:?}");
        assert_eq!(report.first_bad_entry, Some(record), "{what}: {report:?}");
        assert!(
            report
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("has changed since it was sealed")),
            "{what}: {report:?}"
        );
        as_superuser(&s, undo, record).await;
        let report = verify(&s).await;
        assert!(report.ok, "after undoing {what}: {report:?}");
    }

    // A verification forged behind allot's back (triggers off, so nothing is queued): the chain
    // does not know it.
    let forge = format!(
        "UPDATE bank_detail_changes
         SET status = 'verified', verified_by = '{}', verified_at = now() WHERE id = $1",
        s.checker.id
    );
    as_superuser_with(&s, true, &forge, waiting).await;
    let report = verify(&s).await;
    assert!(!report.ok, "a forged verification went unnoticed");
    assert_eq!(report.first_bad_entry, Some(waiting), "{report:?}");
    assert!(
        report
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("neither sealed nor queued")),
        "{report:?}"
    );
    as_superuser_with(
        &s,
        true,
        "UPDATE bank_detail_changes
         SET status = 'unverified', verified_by = NULL, verified_at = NULL WHERE id = $1",
        waiting,
    )
    .await;
    let report = verify(&s).await;
    assert!(
        report.ok,
        "after undoing the forged verification: {report:?}"
    );

    // A grant brought back to life: its ending is sealed, so its absence is found.
    as_superuser(
        &s,
        "UPDATE agreement_grants SET ended_at = NULL, ended_by = NULL WHERE id = $1",
        grant,
    )
    .await;
    let report = verify(&s).await;
    assert!(!report.ok, "an ended grant revived went unnoticed");
    assert_eq!(report.first_bad_entry, Some(grant), "{report:?}");
}
