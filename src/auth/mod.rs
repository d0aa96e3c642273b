//! Users, roles, sign-in, sessions and API tokens, and who the caller is ([`Actor`]).

pub mod councils;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod token;
pub mod users;
pub mod visibility;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What kind of thing a user may do. For whose money is the decision-making agreement's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CouncilAdmin,
    CareManager,
    FinanceOfficer,
    Auditor,
    Broker,
    ProviderStaff,
    BudgetHolder,
    Representative,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::CouncilAdmin,
        Role::CareManager,
        Role::FinanceOfficer,
        Role::Auditor,
        Role::Broker,
        Role::ProviderStaff,
        Role::BudgetHolder,
        Role::Representative,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CouncilAdmin => "council_admin",
            Role::CareManager => "care_manager",
            Role::FinanceOfficer => "finance_officer",
            Role::Auditor => "auditor",
            Role::Broker => "broker",
            Role::ProviderStaff => "provider_staff",
            Role::BudgetHolder => "budget_holder",
            Role::Representative => "representative",
        }
    }

    /// How the role is shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::CouncilAdmin => "Council administrator",
            Role::CareManager => "Care manager",
            Role::FinanceOfficer => "Finance officer",
            Role::Auditor => "Auditor",
            Role::Broker => "Broker",
            Role::ProviderStaff => "Provider staff",
            Role::BudgetHolder => "Budget holder",
            Role::Representative => "Representative",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Council staff see every person of their council.
    pub fn is_council_staff(self) -> bool {
        matches!(
            self,
            Role::CouncilAdmin | Role::CareManager | Role::FinanceOfficer | Role::Auditor
        )
    }

    /// Roles that belong to an organisation (and must name one).
    pub fn needs_organisation(self) -> bool {
        matches!(self, Role::Broker | Role::ProviderStaff)
    }
}

/// The signed-in caller, as established from a bearer token or a session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub council_id: Uuid,
    pub role: Role,
    pub email: String,
    pub name: String,
    pub organisation_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
}

impl Actor {
    /// Refuses with 403 `forbidden` unless the actor has one of these roles.
    pub fn require(&self, roles: &[Role]) -> crate::error::AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(crate::error::AppError::Forbidden)
        }
    }
}
