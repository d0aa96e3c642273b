//! Table-driven tests of every rule and its edges, plus properties. Each file covers one area.

mod approval;
mod authority;
mod capacity;
mod deployments;
mod family;
mod fixtures;
mod policy;
mod props;
mod release;
mod respite;
mod spending;
mod types;
