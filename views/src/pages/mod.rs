//! One module per page or group of pages.

pub mod agreement;
pub mod audit;
pub mod bank_changes;
pub mod budget;
pub mod budgets;
pub mod cards;
pub mod council;
pub mod dashboard;
pub mod directory;
pub mod errors;
pub mod ledger;
pub mod login;
pub mod payment_runs;
pub mod payments;
pub mod people;
pub mod person;
pub mod plan_editor;
pub mod provider;
pub mod reports;
pub mod reviews;
pub mod statement;
pub mod surplus;
pub mod webhooks;
