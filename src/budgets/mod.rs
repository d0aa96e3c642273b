//! People, organisations, budgets, plans, deployments, payees, reviews: the records money is
//! released against. Nothing here decides a release; `payments` does, with `rules`.

pub mod accounts;
pub mod arrears;
pub mod bank;
pub mod budget;
pub mod charging;
pub mod family_approvals;
pub mod interim;
pub mod listing;
pub mod organisations;
pub mod payees;
pub mod people;
pub mod plans;
pub mod policy;
pub mod reviews;
pub mod view;
