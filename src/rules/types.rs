//! The closed vocabularies the rules speak: plan categories, deployments, the roles a party acts in,
//! powers, payee kinds and relationships (API.md lists every value).
//!
//! Each enum serialises to the same `snake_case` string that `as_str()` returns and `FromStr` accepts, so the
//! database, the JSON API and the recorded decisions always agree on spelling.

use std::fmt;

/// A string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// Which vocabulary was being parsed, e.g. `"category"`.
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' is not a known {}", self.value, self.kind)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a fieldless enum whose serde spelling, `as_str()` and `FromStr` come from one list, so the three
/// can never drift apart. Each variant also carries a short English label for refusal sentences.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable machine spelling (as stored and as sent over the API).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// A short phrase for sentences a person reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::rules::types::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::rules::types::UnknownValue { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use string_enum;

string_enum! {
    /// A support-plan category (API.md › Plan categories).
    Category("category") {
        PersonalCare => "personal_care", "personal care";
        PersonalAssistant => "personal_assistant", "personal assistant";
        DomesticSupport => "domestic_support", "domestic support";
        RespiteAtHome => "respite_at_home", "respite at home";
        ResidentialRespite => "residential_respite", "residential respite";
        DayActivities => "day_activities", "day activities";
        Education => "education", "education";
        Transport => "transport", "transport";
        Equipment => "equipment", "equipment";
        HomeAdaptations => "home_adaptations", "home adaptations";
        Therapy => "therapy", "therapy";
        Brokerage => "brokerage", "brokerage";
        AccountManagement => "account_management", "account management";
        /// Payroll, HMRC, pension and insurance for employed personal assistants.
        EmploymentCosts => "employment_costs", "employment costs";
        Other => "other", "other";
    }
}

string_enum! {
    /// How a plan line's money is held.
    Deployment("deployment") {
        DirectPayment => "direct_payment", "direct payment";
        ManagedAccount => "managed_account", "managed account";
        Isf => "isf", "Individual Service Fund";
        CouncilManaged => "council_managed", "council-managed budget";
    }
}

impl Deployment {
    /// Whether the Direct Payments Regulations govern this money.
    ///
    /// A managed account is a direct payment whose running the person (or their representative) has handed to a
    /// third-party provider (Statutory Guidance ch.12): the money is still a direct payment in law, so the DP
    /// Regulations' restrictions (family members, care-home stays, exclusions, capacity conditions) apply to it.
    /// An ISF and a council-managed budget are arranged by the council under s.8, not paid under ss.31–33.
    pub fn is_direct_payment(self) -> bool {
        matches!(self, Deployment::DirectPayment | Deployment::ManagedAccount)
    }
}

string_enum! {
    /// The capacity in which a party to a decision-making agreement acts.
    ActingAs("acting_as") {
        /// The person themselves (`self`).
        Person => "self", "the person themselves";
        NominatedPerson => "nominated_person", "nominated person";
        AuthorisedPerson => "authorised_person", "authorised person";
        Attorney => "attorney", "attorney";
        Deputy => "deputy", "deputy";
        FamilyMember => "family_member", "family member";
        Broker => "broker", "broker";
        ManagedAccountProvider => "managed_account_provider", "managed-account provider";
        IsfProvider => "isf_provider", "ISF provider";
    }
}

string_enum! {
    /// What a grant lets its party do.
    Power("power") {
        /// May initiate payments.
        Pay => "pay", "pay";
        /// May authorise other people's payments.
        Approve => "approve", "approve";
    }
}

string_enum! {
    /// What kind of payee money goes to.
    PayeeKind("payee kind") {
        CareAgency => "care_agency", "care agency";
        PersonalAssistant => "personal_assistant", "personal assistant";
        CareHome => "care_home", "care home";
        CouncilService => "council_service", "council service";
        Individual => "individual", "individual";
        Retailer => "retailer", "retailer";
    }
}

string_enum! {
    /// The payee's relationship to the person (DP Regs reg 3 turns on it).
    Relationship("relationship") {
        Spouse => "spouse", "spouse";
        CivilPartner => "civil_partner", "civil partner";
        Partner => "partner", "partner";
        Parent => "parent", "parent";
        ParentInLaw => "parent_in_law", "parent-in-law";
        Child => "child", "son or daughter";
        ChildInLaw => "child_in_law", "son- or daughter-in-law";
        Stepchild => "stepchild", "stepchild";
        Sibling => "sibling", "brother or sister";
        AuntUncle => "aunt_uncle", "aunt or uncle";
        Grandparent => "grandparent", "grandparent";
        /// The spouse, civil partner or partner of one of the relatives listed above.
        RelativePartner => "relative_partner", "relative's spouse or partner";
        OtherRelative => "other_relative", "other relative";
        Friend => "friend", "friend";
        /// No family or personal relationship (`none`); also what an unrecorded relationship means.
        NoRelationship => "none", "no relationship";
    }
}

string_enum! {
    /// How the person's assessed contribution is collected (Care Act s.26; Charging Regs).
    ContributionBasis("contribution basis") {
        /// The council pays the budget less the contribution; the person pays the contribution in.
        Net => "net", "net";
        /// The council pays the whole budget and recovers the contribution.
        Gross => "gross", "gross";
    }
}
