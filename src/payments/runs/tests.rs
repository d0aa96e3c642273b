//! The pure part of payment runs: lines, amounts, contributions and skips from a facts snapshot.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::compute::{
    payment_reference, plan_budget, BudgetFacts, HoldingFacts, InterimFacts, Period,
};
use crate::budgets::bank::BankDetails;
use crate::rules::{ContributionBasis, CouncilPolicy, Deployment, PersonFacts};

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn bank(name: &str) -> BankDetails {
    BankDetails {
        sort_code: "123456".into(),
        account_number: "12345678".into(),
        account_name: name.into(),
    }
}

fn holding(deployment: Deployment, weekly: &str) -> HoldingFacts {
    let provider = matches!(deployment, Deployment::ManagedAccount | Deployment::Isf);
    HoldingFacts {
        deployment,
        holder_organisation_id: provider.then(Uuid::new_v4),
        weekly: d(weekly),
        account_id: Uuid::new_v4(),
        provider_bank: provider.then(|| bank("Provider")),
        provider_bank_verified: true,
    }
}

fn budget(holdings: Vec<HoldingFacts>) -> BudgetFacts {
    BudgetFacts {
        budget_id: Uuid::new_v4(),
        reference: "PB000001".into(),
        person: PersonFacts {
            has_capacity: true,
            excluded_from_direct_payments: false,
        },
        start_date: date(2026, 1, 1),
        end_date: None,
        free: false,
        weekly_contribution: Decimal::ZERO,
        basis: ContributionBasis::Net,
        consent_recorded: true,
        nominated_person_agreed: None,
        grants: Vec::new(),
        dp_bank: Some(bank("A Person")),
        dp_bank_verified: true,
        plan_approved: true,
        holdings,
        interim: None,
        funding: Vec::new(),
        nhs_dp_separate_account: false,
    }
}

fn four_weeks() -> Period {
    Period {
        start: date(2026, 2, 2),
        weeks: 4,
    }
}

#[test]
fn mixed_package_net_contribution_reduces_the_direct_payment() {
    let mut facts = budget(vec![
        holding(Deployment::Isf, "200.00"),
        holding(Deployment::DirectPayment, "150.00"),
        holding(Deployment::CouncilManaged, "50.00"),
    ]);
    facts.weekly_contribution = d("40.00");
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(skips.is_empty(), "{skips:?}");
    assert_eq!(lines.len(), 3);
    let dp = &lines[0];
    assert_eq!(dp.deployment, Deployment::DirectPayment);
    assert_eq!(dp.amount, d("440.00"));
    assert_eq!(dp.contribution_to_pay_in, d("160.00"));
    assert_eq!(dp.contribution_owed, d("0.00"));
    assert!(dp.bank.is_some());
    let isf = &lines[1];
    assert_eq!((isf.deployment, isf.amount), (Deployment::Isf, d("800.00")));
    let council = &lines[2];
    assert_eq!(council.deployment, Deployment::CouncilManaged);
    assert_eq!(council.amount, d("200.00"));
    assert!(
        council.bank.is_none(),
        "council-managed money stays inside allot"
    );
}

#[test]
fn gross_contribution_is_recorded_as_owed_and_everything_released() {
    let mut facts = budget(vec![holding(Deployment::ManagedAccount, "300.00")]);
    facts.weekly_contribution = d("25.50");
    facts.basis = ContributionBasis::Gross;
    let (lines, _) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert_eq!(lines[0].amount, d("1200.00"));
    assert_eq!(lines[0].contribution_owed, d("102.00"));
    assert_eq!(lines[0].contribution_to_pay_in, d("0.00"));
}

#[test]
fn a_contribution_larger_than_the_direct_payment_spills_over_as_owed() {
    let mut facts = budget(vec![
        holding(Deployment::DirectPayment, "30.00"),
        holding(Deployment::Isf, "100.00"),
    ]);
    facts.weekly_contribution = d("50.00");
    let (lines, _) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert_eq!(lines[0].amount, d("0.00"));
    assert_eq!(lines[0].contribution_to_pay_in, d("120.00"));
    assert!(
        lines[0].bank.is_none(),
        "nothing to pay, so no bank payment"
    );
    assert_eq!(lines[1].amount, d("400.00"));
    assert_eq!(lines[1].contribution_owed, d("80.00"));
}

#[test]
fn reablement_carries_no_contribution_and_stops_at_its_end() {
    let mut facts = budget(vec![holding(Deployment::CouncilManaged, "210.00")]);
    facts.free = true;
    facts.weekly_contribution = d("30.00");
    facts.start_date = date(2026, 1, 26);
    facts.end_date = Some(date(2026, 2, 15));
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(skips.is_empty());
    // Weeks starting 2 and 9 February fall within it; 16 and 23 February do not.
    assert_eq!(lines[0].weeks, 2);
    assert_eq!(lines[0].amount, d("420.00"));
    assert_eq!(
        lines[0].contribution_owed + lines[0].contribution_to_pay_in,
        d("0.00")
    );
}

#[test]
fn no_approved_plan_is_skipped() {
    let mut facts = budget(Vec::new());
    facts.plan_approved = false;
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(lines.is_empty());
    assert_eq!(skips.len(), 1);
    assert_eq!(skips[0].reason, "plan_not_approved");
    assert_eq!(skips[0].deployment, None);
}

#[test]
fn urgent_interim_support_pays_only_its_weeks() {
    let mut facts = budget(Vec::new());
    facts.plan_approved = false;
    facts.interim = Some(InterimFacts {
        weekly: d("250.00"),
        start: date(2026, 1, 5),
        account_id: Uuid::new_v4(),
    });
    // Six weeks from 5 January end on 15 February: weeks of 2 and 9 February are covered.
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(skips.is_empty(), "{skips:?}");
    assert_eq!(lines[0].deployment, Deployment::CouncilManaged);
    assert_eq!(lines[0].weeks, 2);
    assert_eq!(lines[0].amount, d("500.00"));

    let later = Period {
        start: date(2026, 3, 2),
        weeks: 4,
    };
    let (lines, skips) = plan_budget(&facts, later, &CouncilPolicy::default());
    assert!(lines.is_empty());
    assert_eq!(skips[0].reason, "plan_not_approved");
}

#[test]
fn excluded_people_get_no_direct_payment_but_keep_other_support() {
    let mut facts = budget(vec![
        holding(Deployment::DirectPayment, "100.00"),
        holding(Deployment::CouncilManaged, "80.00"),
    ]);
    facts.person.excluded_from_direct_payments = true;
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].deployment, Deployment::CouncilManaged);
    assert_eq!(skips.len(), 1);
    assert_eq!(skips[0].reason, "person_excluded");
    assert_eq!(skips[0].deployment, Some(Deployment::DirectPayment));
}

#[test]
fn capacity_conditions_stop_a_direct_payment() {
    let mut facts = budget(vec![holding(Deployment::DirectPayment, "100.00")]);
    facts.consent_recorded = false;
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(lines.is_empty());
    assert_eq!(skips[0].reason, "capacity_conditions");

    let mut lacks = budget(vec![holding(Deployment::DirectPayment, "100.00")]);
    lacks.person.has_capacity = false;
    let (_, skips) = plan_budget(&lacks, four_weeks(), &CouncilPolicy::default());
    assert_eq!(skips[0].reason, "capacity_conditions");
}

#[test]
fn missing_bank_details_are_skipped_not_guessed() {
    let mut facts = budget(vec![holding(Deployment::DirectPayment, "100.00")]);
    facts.dp_bank = None;
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert!(lines.is_empty());
    assert_eq!(skips[0].reason, "bank_details_missing");
}

#[test]
fn unverified_bank_details_are_skipped_and_the_contribution_moves_on() {
    let mut facts = budget(vec![
        holding(Deployment::DirectPayment, "100.00"),
        holding(Deployment::ManagedAccount, "50.00"),
    ]);
    facts.dp_bank_verified = false;
    facts.weekly_contribution = d("30.00");
    let (lines, skips) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert_eq!(skips.len(), 1);
    assert_eq!(skips[0].reason, "bank_details_unverified");
    assert_eq!(skips[0].deployment, Some(Deployment::DirectPayment));
    assert!(skips[0].message.contains("verified"));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].deployment, Deployment::ManagedAccount);

    let mut provider = budget(vec![holding(Deployment::Isf, "100.00")]);
    provider.holdings[0].provider_bank_verified = false;
    let (lines, skips) = plan_budget(&provider, four_weeks(), &CouncilPolicy::default());
    assert!(lines.is_empty());
    assert_eq!(skips[0].reason, "bank_details_unverified");
    assert_eq!(skips[0].deployment, Some(Deployment::Isf));
}

#[test]
fn a_budget_starting_mid_run_is_paid_from_its_first_week() {
    let mut facts = budget(vec![holding(Deployment::DirectPayment, "100.00")]);
    facts.start_date = date(2026, 2, 11);
    let (lines, _) = plan_budget(&facts, four_weeks(), &CouncilPolicy::default());
    assert_eq!(lines[0].weeks, 3);
    assert_eq!(lines[0].amount, d("300.00"));
}

#[test]
fn references_fit_bacs() {
    assert_eq!(
        payment_reference("PB000123", Deployment::Isf),
        "PB000123 ISF"
    );
    assert!(payment_reference("PB0001234567890123", Deployment::DirectPayment).len() <= 18);
}
