//! allot's server-rendered pages: maud layouts, pages and components, and the view-model structs
//! they take. Nothing here knows of SQL or axum state; handlers build a view model and call a page.
//!
//! Everything is escaped by maud; `PreEscaped` is only ever used for constant markup of ours.

pub mod charts;
pub mod components;
pub mod layout;
pub mod money;
pub mod pages;
pub mod static_files;

pub use layout::{NavItem, Shell};
pub use money::Gbp;
