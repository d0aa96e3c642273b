//! allot: the double-entry ledger under UK social-care personal budgets.
//!
//! Layers (dependencies point down): `http` → `payments`/`budgets` → `ledger` + `rules`;
//! `http` → the `allot-views` crate. `rules` and `formats` are pure; `ledger` knows nothing of
//! budgets or HTTP.

pub mod audit;
pub mod auth;
pub mod budgets;
pub mod cards;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dates;
pub mod db;
pub mod demo;
pub mod directory;
pub mod error;
pub mod evidence;
pub mod formats;
pub mod http;
pub mod ledger;
pub mod money;
pub mod payments;
pub mod providers;
pub mod reconcile;
pub mod reports;
pub mod rules;
pub mod webhooks;

pub use http::{app, AppState};
