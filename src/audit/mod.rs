//! Council audit of funds (issue 11 §3): reproducible samples of posted payments and the
//! auditor's findings on them.

pub mod findings;
pub mod samples;

pub use findings::{Finding, FindingOutcome, NewFinding};
pub use samples::{Sample, SampleRequest};
