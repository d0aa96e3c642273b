//! People, organisations, budgets, plans, deployments, agreements, payees and reviews.

pub mod bank;
pub mod organisations;
pub mod people;
