//! Records the chain seals besides entries and hold resolutions: what decisions rest on. A grant
//! as recorded and its ending, each version of a council's policy, each bank-detail change as
//! logged and its verification by a finance officer.
//!
//! A link of a record seals its content: the record's columns as PostgreSQL prints them in one
//! `jsonb` value (deterministic for a given value), timestamps as microseconds since the epoch
//! so that no session's time zone enters into it. The triggers of V18 queue a record in the
//! transaction that writes it; [`RecordKind::due`] says which rows must be sealed or queued, so
//! `allot audit verify` also finds a row that no writer of allot could have made.

use std::collections::HashMap;

use uuid::Uuid;

use super::LinkKind;
use crate::db::Tx;
use crate::ledger::error::LedgerError;

/// One kind of record: how to read its content, and which rows must be on the chain.
#[derive(Debug, Clone, Copy)]
pub struct RecordKind {
    pub kind: LinkKind,
    /// What it is, for reports: "grant", "the ending of grant", ...
    pub noun: &'static str,
    /// `(id, content)` of the rows of council `$1` whose id is in `$2`.
    content: &'static str,
    /// The ids of council `$1`'s rows that must be sealed or queued.
    pub due: &'static str,
}

/// Every kind of record, in the order the sealer links them.
pub const RECORD_KINDS: [RecordKind; 5] = [
    RecordKind {
        kind: LinkKind::Grant,
        noun: "grant",
        content: "SELECT id, jsonb_build_object(
                      'budget_id', budget_id, 'user_id', user_id, 'acting_as', acting_as,
                      'powers', powers, 'categories', categories, 'deployments', deployments,
                      'max_per_payment', max_per_payment, 'cosign_above', cosign_above,
                      'valid_from', valid_from, 'valid_to', valid_to,
                      'lpa_registered', lpa_registered, 'court_order_ref', court_order_ref,
                      'recorded_by', recorded_by,
                      'recorded_at', (extract(epoch FROM recorded_at) * 1000000)::bigint)::text
                  FROM agreement_grants WHERE council_id = $1 AND id = ANY($2)",
        due: "SELECT id FROM agreement_grants WHERE council_id = $1",
    },
    RecordKind {
        kind: LinkKind::GrantEnd,
        noun: "the ending of grant",
        content: "SELECT id, jsonb_build_object(
                      'ended_by', ended_by,
                      'ended_at', (extract(epoch FROM ended_at) * 1000000)::bigint)::text
                  FROM agreement_grants WHERE council_id = $1 AND id = ANY($2)",
        due: "SELECT id FROM agreement_grants WHERE council_id = $1 AND ended_at IS NOT NULL",
    },
    RecordKind {
        kind: LinkKind::Policy,
        noun: "policy version",
        content: "SELECT id, jsonb_build_object(
                      'version', version, 'settings', settings, 'reason', reason,
                      'created_by', created_by,
                      'created_at', (extract(epoch FROM created_at) * 1000000)::bigint)::text
                  FROM council_policies WHERE council_id = $1 AND id = ANY($2)",
        due: "SELECT id FROM council_policies WHERE council_id = $1",
    },
    RecordKind {
        kind: LinkKind::BankChange,
        noun: "bank-detail change",
        content: "SELECT id, jsonb_build_object(
                      'budget_id', budget_id, 'payee_id', payee_id,
                      'organisation_id', organisation_id, 'event', event,
                      'old_sort_code', old_sort_code, 'old_account_number', old_account_number,
                      'old_account_name', old_account_name, 'new_sort_code', new_sort_code,
                      'new_account_number', new_account_number,
                      'new_account_name', new_account_name, 'changed_by', changed_by,
                      'changed_at', (extract(epoch FROM changed_at) * 1000000)::bigint)::text
                  FROM bank_detail_changes WHERE council_id = $1 AND id = ANY($2)",
        due: "SELECT id FROM bank_detail_changes WHERE council_id = $1",
    },
    RecordKind {
        kind: LinkKind::BankVerification,
        noun: "the verification of bank-detail change",
        content: "SELECT id, jsonb_build_object(
                      'status', status,
                      'verified_by', verified_by,
                      'verified_at', (extract(epoch FROM verified_at) * 1000000)::bigint)::text
                  FROM bank_detail_changes WHERE council_id = $1 AND id = ANY($2)",
        due: "SELECT id FROM bank_detail_changes WHERE council_id = $1 AND verified_by IS NOT NULL",
    },
];

/// The record kind of a link kind, if it is one.
pub fn record_kind(kind: LinkKind) -> Option<&'static RecordKind> {
    RECORD_KINDS.iter().find(|k| k.kind == kind)
}

/// A record as the chain sees it: its kind, id and content as stored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRecord {
    pub kind: LinkKind,
    pub id: Uuid,
    pub content: String,
}

/// Loads the records of `kind` with these ids, as stored now (missing ids are simply absent).
pub async fn load_records(
    tx: &Tx<'_>,
    council_id: Uuid,
    kind: &RecordKind,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, ChainRecord>, LedgerError> {
    let stmt = tx.prepare_cached(kind.content).await?;
    Ok(tx
        .query(&stmt, &[&council_id, &ids])
        .await?
        .iter()
        .map(|r| {
            let record = ChainRecord {
                kind: kind.kind,
                id: r.get(0),
                content: r.get(1),
            };
            (record.id, record)
        })
        .collect())
}
