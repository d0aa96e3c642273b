//! Webhooks out (issue 14, section 3): endpoints registered by a council administrator or by
//! provider staff for their organisation ([`endpoints`]); events written to an outbox by triggers
//! in the transaction that commits what they report (sql/V23); a worker that sends the due
//! deliveries signed the Standard Webhooks way and retries them on the spec's schedule
//! ([`deliver`]); signing secrets kept sealed under a key derived from the chain key ([`secrets`]); outbound addresses checked before every send ([`address`]).

pub mod address;
pub mod deliver;
pub mod endpoints;
pub mod secrets;

pub use endpoints::{Delivery, Endpoint, NewEndpoint};

/// The events an endpoint may subscribe to.
pub const EVENTS: &[&str] = &[
    "payment.posted",
    "payment.held",
    "payment.refused",
    "payment.approved",
    "payment_run.approved",
    "invoice.paid",
    "card.authorization.declined",
    "surplus_notice.issued",
];
