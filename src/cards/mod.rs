//! Payment cards decided in real time (issue 14): the card registry ([`registry`]), the
//! processors and their secrets ([`processors`]), Standard Webhooks signatures ([`signature`]),
//! and the processors' signed events ([`events`]): an authorisation request is decided by the
//! same rules as any payment, through the coalescing payment path, with the cardholder as the
//! actor; approved, it holds the money until the capture. Money the network moved without
//! allot's approval goes on the finance officers' [`exceptions`] list.

pub mod events;
pub mod exceptions;
pub mod processors;
pub mod registry;
pub mod signature;

pub use registry::{Card, CardAction, NewCard};
