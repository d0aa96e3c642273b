//! The integration tests, in one test binary: each former `tests/*.rs` file is a module here,
//! sharing the `support` and `ledger_support` helpers. Run one group with e.g.
//! `cargo test --test it browser::`.

mod ledger_support;
mod support;

mod admin_pages;
mod agreements_api;
mod audit_samples;
mod bank_details;
mod bank_visibility;
mod browser;
mod browser_provider;
mod browser_statement;
mod budgets_admin;
mod budgets_api;
mod cards;
mod chain_records;
mod cli_lifecycle;
mod clock;
mod coalesce;
mod contribution_controls;
mod council_emails;
mod demo_budgets;
mod evidence_api;
mod foundation_api;
mod foundation_db;
mod fuzz_input;
mod hardening_http;
mod hardening_input;
mod hardening_signin;
mod invoice_import;
mod invoices_api;
mod isolation;
mod ledger_admin;
mod ledger_api;
mod ledger_basics;
mod ledger_chain;
mod ledger_model;
mod ledger_races;
mod ledger_walls;
mod own_statement;
mod payment_runs;
mod payment_runs_files;
mod payments_api;
mod payroll_api;
mod provider_pages;
mod provider_workspace;
mod reconciliation;
mod reliability;
mod returns_api;
mod reviews_due;
mod spending_facts;
mod surplus_notices;
mod timesheets_api;
mod webhooks;
