//! The vocabularies: one spelling each for serde, `as_str` and `FromStr`; the codes RULES.md names.

use crate::rules::{
    ActingAs, Category, ContributionBasis, CouncilPolicy, Decision, Deployment, FlagCode,
    PayeeKind, Power, Relationship, RuleCode, RULESET_VERSION,
};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use std::str::FromStr;

/// Checks `as_str`, `FromStr` and serde agree for every value, and that an unknown spelling is rejected.
fn round_trips<T>(all: &[T], count: usize)
where
    T: Copy + Debug + PartialEq + Serialize + DeserializeOwned + FromStr + ToString,
    <T as FromStr>::Err: Debug,
{
    assert_eq!(all.len(), count);
    for value in all {
        let text = value.to_string();
        assert_eq!(text.parse::<T>().ok(), Some(*value), "{text}");
        let json = serde_json::to_string(value).unwrap_or_default();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<T>(&json).ok(),
            Some(*value),
            "{json}"
        );
    }
    assert!("Not A Value".parse::<T>().is_err());
}

#[test]
fn every_enum_round_trips() {
    round_trips(Category::ALL, 15);
    round_trips(Deployment::ALL, 4);
    round_trips(ActingAs::ALL, 9);
    round_trips(Power::ALL, 2);
    round_trips(PayeeKind::ALL, 6);
    round_trips(Relationship::ALL, 15);
    round_trips(ContributionBasis::ALL, 2);
    round_trips(RuleCode::ALL, 19);
    round_trips(FlagCode::ALL, 2);
}

#[test]
fn spellings_match_the_api() {
    assert_eq!(ActingAs::Person.as_str(), "self");
    assert_eq!(Relationship::NoRelationship.as_str(), "none");
    assert_eq!(Category::EmploymentCosts.as_str(), "employment_costs");
    assert_eq!(Deployment::CouncilManaged.as_str(), "council_managed");
    let err = "sometimes".parse::<Category>().err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("'sometimes' is not a known category"));
}

#[test]
fn rule_codes_are_the_rules_md_codes() {
    let rules_md = [
        "plan_not_approved",
        "person_excluded",
        "capacity_conditions",
        "maker_checker",
        "not_in_plan",
        "over_plan_line",
        "insufficient_funds",
        "payee_not_approved",
        "family_member_payment",
        "residential_care_limit",
        "council_service",
        "blocked_merchant",
        "no_authority",
        "approver_conflict",
        "capacity_role",
    ];
    for code in rules_md {
        assert!(code.parse::<RuleCode>().is_ok(), "{code}");
    }
    assert_eq!(FlagCode::EvidenceRequired.as_str(), "evidence_required");
    assert_eq!(FlagCode::ReviewOverdue.as_str(), "review_overdue");
}

#[test]
fn decisions_serialise_with_their_outcome() {
    let json = serde_json::to_value(Decision::Post { flags: vec![] }).unwrap_or_default();
    assert_eq!(json, serde_json::json!({"outcome": "post", "flags": []}));
}

#[test]
fn policy_defaults_and_partial_json() {
    let policy = CouncilPolicy::default();
    assert_eq!(policy.receipt_threshold.to_string(), "250.00");
    assert_eq!(
        (
            policy.hold_expiry_days,
            policy.surplus_weeks_dp,
            policy.surplus_weeks_isf
        ),
        (14, 8, 4)
    );
    assert_eq!(policy.interim_max_weeks, 6);
    assert!(policy.dp_may_buy_council_services);
    assert!(policy.blocks_merchant("PAWN_SHOP") && !policy.blocks_merchant("pharmacy"));
    // Settings stored before a field existed still load, taking the default for the missing field.
    let partial: CouncilPolicy =
        serde_json::from_str(r#"{"version": 3, "receipt_threshold": "100.00"}"#)
            .unwrap_or_else(|e| panic!("partial policy: {e}"));
    assert_eq!(
        (partial.version, partial.receipt_threshold.to_string()),
        (3, "100.00".to_owned())
    );
    assert_eq!(partial.hold_expiry_days, 14);
    assert_eq!(RULESET_VERSION, "2026-11-30.1");
}
