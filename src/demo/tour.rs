//! What each demo user can try: shown on the demo's sign-in page and printed when the demo starts.

use crate::auth::Role;

/// A sentence or two for the demo user with this email address (by role when not one of the
/// fixture's own).
pub fn what_to_try(email: &str, role: Role) -> &'static str {
    match email {
        "admin@borsetshire.example" => {
            "Add an organisation and a user for it; change a policy value and see the new version and what changed."
        }
        "carol.tregorran@borsetshire.example" => {
            "Approve a support plan waiting on the dashboard; complete Margaret Okafor's review when it is due."
        }
        "usha.franks@borsetshire.example" => {
            "Look at budgets and their plans; approve spending beyond a plan line that waits for a care manager."
        }
        "brian.aldridge@borsetshire.example" => {
            "Verify bank details someone else changed; draft and submit the next payment run."
        }
        "jennifer.aldridge@borsetshire.example" => {
            "Approve a payment run Brian submitted (never your own); review card exceptions."
        }
        "lynda.snell@borsetshire.example" => {
            "Verify the ledger's hash chain; draw a sample of payments and record a finding for each."
        }
        "kirsty.miller@borchester-brokerage.example" => {
            "Draft a support plan from the service directory and submit it to the care manager."
        }
        "adam.macy@felpersham-accounts.example" | "ian.craig@felpersham-accounts.example" => {
            "Work through the provider's worklist: pay an invoice from a managed account, match a bank statement."
        }
        "emma.grundy@ambridge-isf.example" => {
            "Record timesheets and invoices for the Individual Service Fund Ambridge holds."
        }
        "margaret.okafor@people.example" => {
            "Pay one of your personal assistants; try a payment the rules refuse and read why."
        }
        "priya.nair@people.example" => {
            "See your direct payment and the Individual Service Fund side by side; make a payment."
        }
        "susan.hughes@people.example" => {
            "As Daniel Hughes's authorised person, pay from his direct payment and approve what waits for you."
        }
        "omar.rahman@people.example" => {
            "As Aisha Rahman's nominated person, see her managed account and her statement."
        }
        "david.abbott@people.example" => {
            "As George Abbott's deputy, see his budget and approve a held payment."
        }
        "alan.marsh@people.example" => {
            "Help Eileen Marsh with payments under the lasting power of attorney."
        }
        _ => match role {
            Role::CouncilAdmin => "Set up organisations, users, policy and banking.",
            Role::CareManager => "Approve plans and complete reviews.",
            Role::FinanceOfficer => "Verify bank details and prepare payment runs.",
            Role::Auditor => "Verify the chain and sample payments.",
            Role::Broker => "Draft support plans.",
            Role::ProviderStaff => "Work through the provider's worklist.",
            Role::BudgetHolder => "Make a payment from your budget.",
            Role::Representative => "Approve payments waiting for you.",
        },
    }
}
