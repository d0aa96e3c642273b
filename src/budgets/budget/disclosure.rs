//! Who sees a direct payment's bank account. It is personal data, and where the council's money
//! goes: finance officers (who pay it), the person and the representatives acting for them see it
//! in full; other council staff see that one is on file, masked; brokers and providers, who hold
//! no part of it, do not see it at all (they see the accounts their own organisation holds).

use super::Budget;
use crate::auth::{Actor, Role};

/// How much of the bank details one actor sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    Full,
    Masked,
    Hidden,
}

/// What `actor` may see of `budget`'s bank details. The budget must be one the actor may see
/// (loaded through `load::visible`): a representative sees a budget only through a grant that
/// counts, so any representative here holds one.
pub fn disclosure(actor: &Actor, budget: &Budget) -> Disclosure {
    match actor.role {
        Role::FinanceOfficer | Role::Representative => Disclosure::Full,
        Role::BudgetHolder if actor.person_id == Some(budget.person_id) => Disclosure::Full,
        Role::CareManager | Role::CouncilAdmin | Role::Auditor => Disclosure::Masked,
        Role::BudgetHolder | Role::Broker | Role::ProviderStaff => Disclosure::Hidden,
    }
}

/// Leaves in `budget` only the bank details `actor` may see.
pub fn disclose(actor: &Actor, budget: &mut Budget) {
    budget.bank = match disclosure(actor, budget) {
        Disclosure::Full => budget.bank.take(),
        Disclosure::Masked => budget.bank.as_ref().map(|b| b.masked()),
        Disclosure::Hidden => None,
    };
}
