//! What the rules answer: post, hold for approval, or refuse with every reason.
//!
//! Decisions are stored with the entry they concern (DESIGN.md › Decisions are recorded), so every type here
//! serialises to stable JSON.

use super::types::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

string_enum! {
    /// A rule's stable code, exactly as RULES.md names it; `as_str()` is what the API sends as `error.code`.
    RuleCode("rule code") {
        PlanNotApproved => "plan_not_approved", "plan not approved";
        PersonExcluded => "person_excluded", "person excluded from direct payments";
        CapacityConditions => "capacity_conditions", "capacity conditions";
        MakerChecker => "maker_checker", "maker and checker";
        NotInPlan => "not_in_plan", "not in the plan";
        OverPlanLine => "over_plan_line", "over the plan line";
        InsufficientFunds => "insufficient_funds", "insufficient funds";
        PayeeNotApproved => "payee_not_approved", "payee not approved";
        FamilyMemberPayment => "family_member_payment", "payment to a family member";
        ResidentialCareLimit => "residential_care_limit", "residential care limit";
        CouncilService => "council_service", "council service";
        BlockedMerchant => "blocked_merchant", "blocked merchant";
        NoAuthority => "no_authority", "no authority";
        ApproverConflict => "approver_conflict", "approver conflict";
        /// A broker paying a payee of the broker's own organisation (their fee goes through an
        /// invoice paid by someone else).
        SelfPayment => "self_payment", "payment to oneself";
        CapacityRole => "capacity_role", "capacity and role";
        /// Not a RULES.md rule: the API rejects such amounts before the rules run (422 `invalid_amount`); the
        /// rules refuse them too rather than trust every caller.
        InvalidAmount => "invalid_amount", "invalid amount";
        /// Card authorisations: a payment that would need someone's approval (a till cannot wait).
        NeedsApproval => "needs_approval", "needs approval";
        /// Card authorisations: cash beyond the council's daily limit for a card.
        CashLimit => "cash_limit", "cash limit";
    }
}

string_enum! {
    /// Something recorded with a posted or held payment for audit; never a reason to stop it.
    FlagCode("flag code") {
        /// Above the receipt threshold with no evidence attached yet (due within 30 days).
        EvidenceRequired => "evidence_required", "evidence required";
        /// The plan's review date has passed. Care carries on (LGSCO: stopping support harms people).
        ReviewOverdue => "review_overdue", "review overdue";
    }
}

/// One failed rule: a stable code and a sentence the person, their family or a care manager understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: RuleCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RuleCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A note kept with the entry for audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub code: FlagCode,
    pub message: String,
}

/// Why a payment waits for someone's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Above the payer's `max_per_payment`.
    OverLimit,
    /// Above the payer's `cosign_above`: a second party must agree.
    Cosign,
    /// Beyond the plan line's allocation for the year: a care manager decides.
    OverPlanLine,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::OverLimit => "over_limit",
            HoldReason::Cosign => "cosign",
            HoldReason::OverPlanLine => "over_plan_line",
        }
    }
}

/// Who may satisfy an approval need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "user_ids")]
pub enum Approvers {
    /// These users hold an `approve` grant that covers the payment (sorted, never containing the payer).
    Users(Vec<Uuid>),
    /// Any care manager of the council; the role, not a grant, gives this power.
    AnyCareManager,
}

/// One approval a held payment still needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalNeed {
    pub reason: HoldReason,
    pub eligible_approvers: Approvers,
    /// Why, in a sentence, for the approver's screen.
    pub message: String,
}

/// The answer to a spending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Decision {
    /// Post it now.
    Post { flags: Vec<Flag> },
    /// Hold the funds and wait for every listed approval.
    Hold {
        approvals_required: Vec<ApprovalNeed>,
        flags: Vec<Flag>,
    },
    /// Move no money. Lists every rule that failed, never only the first.
    Refuse { refusals: Vec<Refusal> },
}

impl Decision {
    /// `"post"`, `"hold"` or `"refuse"`, as recorded with the entry.
    pub fn outcome(&self) -> &'static str {
        match self {
            Decision::Post { .. } => "post",
            Decision::Hold { .. } => "hold",
            Decision::Refuse { .. } => "refuse",
        }
    }

    /// The failed rules (empty unless refused).
    pub fn refusals(&self) -> &[Refusal] {
        match self {
            Decision::Refuse { refusals } => refusals,
            _ => &[],
        }
    }

    /// The audit flags (empty when refused: nothing is posted to flag).
    pub fn flags(&self) -> &[Flag] {
        match self {
            Decision::Post { flags } | Decision::Hold { flags, .. } => flags,
            Decision::Refuse { .. } => &[],
        }
    }

    /// The refusal codes, in the order the rules were checked.
    pub fn refusal_codes(&self) -> Vec<RuleCode> {
        self.refusals().iter().map(|r| r.code).collect()
    }
}

/// The answer to one approval of a held payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum ApprovalOutcome {
    /// Every need is now met: post the held payment.
    Post,
    /// This approval counted, but these needs remain; keep holding.
    NeedMore { remaining: Vec<ApprovalNeed> },
    /// This approval does not count (`approver_conflict` or `no_authority`); the payment stays held.
    Refuse { refusal: Refusal },
}
