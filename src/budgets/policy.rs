//! The council's policy settings (RULES.md values marked *policy*), as the rules read them.
//! Councils cannot change them yet, so every council has the defaults of `rules::CouncilPolicy`;
//! this is the one place to read them from when they become data.

use uuid::Uuid;

use crate::db::Tx;
use crate::error::AppResult;
use crate::rules::CouncilPolicy;

/// The policy in force for the council.
pub async fn current(_tx: &Tx<'_>, _council_id: Uuid) -> AppResult<CouncilPolicy> {
    Ok(CouncilPolicy::default())
}
