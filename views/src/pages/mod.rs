//! One module per page or group of pages.

pub mod dashboard;
pub mod errors;
pub mod login;
pub mod people;
