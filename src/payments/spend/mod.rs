//! Payments out of deployment accounts (RULES.md › Spending and › Decision-making agreements).
//!
//! A request is decided by `rules::decide` on facts loaded in the same transaction, after the
//! deployment account is locked, so the decision and the posting see the same world. The payment
//! posts at once, is held (a ledger hold reserves the money) until every approval it needs is
//! given, or is refused; the decision, the rule-set version, the policy version and the actor are
//! stored either way (a refusal as a decision that moved no money).
//!
//! Requests are decided in batches ([`batch::decide_and_record`]): the coalescing writer of
//! [`crate::commands::PaymentDesk`] gathers concurrent requests of a council into one
//! transaction. One job a file: [`input`] (the request), [`facts`] (set-based loading),
//! [`batch`] (a batch in one transaction), `decide` (one request against the batch so
//! far), `store` (the writes), [`outcome`] (the typed results), [`approvals`].

pub mod approvals;
pub mod batch;
mod decide;
pub mod facts;
pub mod input;
pub mod outcome;
mod store;

pub use approvals::{approvals_queue, approve, reject};
pub use batch::{check, decide_and_record, Request};
pub use input::{CardSpend, NewPayment};
pub use outcome::{decisions, load, visible_payment, Payment, PaymentOutcome, PaymentStatus};
pub use store::paid_out_account;
