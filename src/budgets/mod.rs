//! People, organisations, budgets, plans, deployments, payees, reviews: the records money is
//! released against. Nothing here decides a release; `payments` does, with `rules`.

pub mod account_history;
pub mod accounts;
pub mod agreements;
pub mod arrears;
pub mod assessments;
pub mod bank;
pub mod bank_changes;
pub mod budget;
pub mod carers;
pub mod charging;
pub mod family_approvals;
pub mod funding;
pub mod interim;
pub mod ledger_view;
pub mod listing;
pub mod organisations;
pub mod own_statement;
pub mod payee_queue;
pub mod payees;
pub mod people;
pub mod plans;
pub mod policy;
pub mod reviews;
pub mod surplus;
pub mod view;

/// The council's business date: today in the UK (Europe/London), as the database's clock has it
/// at the start of the transaction, so every rule in one transaction sees the same day.
pub async fn today(tx: &crate::db::Tx<'_>) -> crate::error::AppResult<chrono::NaiveDate> {
    let row = tx
        .query_one(
            &tx.prepare_cached("SELECT (now() AT TIME ZONE 'Europe/London')::date")
                .await?,
            &[],
        )
        .await?;
    Ok(row.get(0))
}
