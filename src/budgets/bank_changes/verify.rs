//! Reading the log (finance officers and auditors) and verifying a change (a finance officer
//! other than the one who made it).

use uuid::Uuid;

use super::{BankDetailChange, ChangeStatus, Subject, SubjectKind};
use crate::auth::{Actor, Role};
use crate::budgets::bank::BankDetails;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Who may read the log.
const READERS: &[Role] = &[Role::FinanceOfficer, Role::Auditor];

/// The most changes one list returns (newest first).
pub const LIST_LIMIT: i64 = 1000;

const SELECT: &str = "
    SELECT c.id, c.budget_id, c.payee_id, c.organisation_id, c.event,
           c.old_sort_code, c.old_account_number, c.old_account_name,
           c.new_sort_code, c.new_account_number, c.new_account_name,
           c.changed_by, u.name AS changed_by_name, c.changed_at, c.status, c.verified_by, c.verified_at,
           coalesce(b.reference, p.name, o.name) AS subject_name
    FROM bank_detail_changes c
    JOIN users u ON u.council_id = c.council_id AND u.id = c.changed_by
    LEFT JOIN budgets b ON b.council_id = c.council_id AND b.id = c.budget_id
    LEFT JOIN payees p ON p.council_id = c.council_id AND p.id = c.payee_id
    LEFT JOIN organisations o ON o.council_id = c.council_id AND o.id = c.organisation_id";

/// The council's logged changes, newest first, optionally only those with `status`.
pub async fn list(
    tx: &Tx<'_>,
    actor: &Actor,
    status: Option<ChangeStatus>,
) -> AppResult<Vec<BankDetailChange>> {
    actor.require(READERS)?;
    let rows = tx
        .query(
            &format!(
                "{SELECT} WHERE c.council_id = $1 AND ($2::text IS NULL OR c.status = $2)
                 ORDER BY c.changed_at DESC, c.id LIMIT $3"
            ),
            &[
                &actor.council_id,
                &status.map(ChangeStatus::as_str),
                &LIST_LIMIT,
            ],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One logged change (404 if the council has none with this id).
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<BankDetailChange> {
    actor.require(READERS)?;
    load(tx, actor.council_id, id).await
}

/// Verifies a change: its details may be paid from now on. 403 `approver_conflict` for the one
/// who made it; 409 when it is verified already or was changed again since.
pub async fn verify(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<BankDetailChange> {
    actor.require(&[Role::FinanceOfficer])?;
    let council_id = actor.council_id;
    let change = load(tx, council_id, id).await?;
    let subject = match change.subject {
        SubjectKind::Budget => Subject::Budget(change.subject_id),
        SubjectKind::Payee => Subject::Payee(change.subject_id),
        SubjectKind::Organisation => Subject::Organisation(change.subject_id),
    };
    // The subject first, then the change: the order a change of details takes them in.
    let (table, _) = subject.table();
    let current = tx
        .query_opt(
            &format!(
                "SELECT bank_sort_code, bank_account_number, bank_account_name FROM {table}
                 WHERE council_id = $1 AND id = $2 FOR UPDATE"
            ),
            &[&council_id, &subject.id()],
        )
        .await?
        .ok_or_else(|| AppError::Internal("a logged change's subject has gone".into()))?;
    let row = tx
        .query_one(
            "SELECT status, changed_by, new_sort_code, new_account_number, new_account_name
             FROM bank_detail_changes WHERE council_id = $1 AND id = $2 FOR UPDATE",
            &[&council_id, &id],
        )
        .await?;
    match ChangeStatus::parse(row.get("status"))? {
        ChangeStatus::Unverified => {}
        ChangeStatus::Verified => {
            return Err(AppError::conflict("These bank details are verified already."))
        }
        ChangeStatus::Superseded => {
            return Err(AppError::conflict(
                "These bank details were changed again before they were verified: verify the newest change.",
            ))
        }
    }
    if row.get::<_, Uuid>("changed_by") == actor.user_id {
        return Err(AppError::Denied {
            code: "approver_conflict",
            message: "Bank details are verified by a finance officer other than the one who changed them."
                .into(),
        });
    }
    let logged = (
        row.get::<_, String>("new_sort_code"),
        row.get::<_, String>("new_account_number"),
        row.get::<_, String>("new_account_name"),
    );
    let stored = (
        current.get::<_, Option<String>>(0),
        current.get::<_, Option<String>>(1),
        current.get::<_, Option<String>>(2),
    );
    if (Some(logged.0), Some(logged.1), Some(logged.2)) != stored {
        // Every change is logged as it is made, so this is a change made around the log.
        return Err(AppError::conflict(
            "The bank details on record are not the ones this change logged; they cannot be verified from it.",
        ));
    }
    tx.execute(
        "UPDATE bank_detail_changes SET status = 'verified', verified_by = $3, verified_at = now()
         WHERE council_id = $1 AND id = $2",
        &[&council_id, &id, &actor.user_id],
    )
    .await?;
    tx.execute(
        &format!("UPDATE {table} SET bank_verified = true WHERE council_id = $1 AND id = $2"),
        &[&council_id, &subject.id()],
    )
    .await?;
    load(tx, council_id, id).await
}

async fn load(tx: &Tx<'_>, council_id: Uuid, id: Uuid) -> AppResult<BankDetailChange> {
    let row = tx
        .query_opt(
            &format!("{SELECT} WHERE c.council_id = $1 AND c.id = $2"),
            &[&council_id, &id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

fn from_row(row: &tokio_postgres::Row) -> AppResult<BankDetailChange> {
    let (subject, subject_id) = match (
        row.try_get::<_, Option<Uuid>>("budget_id")?,
        row.try_get::<_, Option<Uuid>>("payee_id")?,
        row.try_get::<_, Option<Uuid>>("organisation_id")?,
    ) {
        (Some(id), _, _) => (SubjectKind::Budget, id),
        (_, Some(id), _) => (SubjectKind::Payee, id),
        (_, _, Some(id)) => (SubjectKind::Organisation, id),
        _ => {
            return Err(AppError::Internal(
                "a logged change without a subject".into(),
            ))
        }
    };
    let old_bank = match (
        row.try_get::<_, Option<String>>("old_sort_code")?,
        row.try_get::<_, Option<String>>("old_account_number")?,
        row.try_get::<_, Option<String>>("old_account_name")?,
    ) {
        (Some(sort_code), Some(account_number), Some(account_name)) => Some(BankDetails {
            sort_code,
            account_number,
            account_name,
        }),
        _ => None,
    };
    let new_bank = BankDetails {
        sort_code: row.try_get("new_sort_code")?,
        account_number: row.try_get("new_account_number")?,
        account_name: row.try_get("new_account_name")?,
    };
    Ok(BankDetailChange {
        id: row.try_get("id")?,
        subject,
        subject_id,
        subject_name: row.try_get("subject_name")?,
        event: row.try_get("event")?,
        old_bank: old_bank.as_ref().map(BankDetails::masked),
        new_bank: new_bank.masked(),
        changed_by: row.try_get("changed_by")?,
        changed_by_name: row.try_get("changed_by_name")?,
        changed_at: row.try_get("changed_at")?,
        status: ChangeStatus::parse(row.try_get("status")?)?,
        verified_by: row.try_get("verified_by")?,
        verified_at: row.try_get("verified_at")?,
    })
}
