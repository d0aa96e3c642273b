//! Payment-run eligibility and release amounts.

use super::fixtures::*;
use crate::rules::{
    release_amount, release_eligibility, ActingAs, ContributionBasis, CouncilPolicy, Deployment,
    Power, ReleaseAmount, ReleaseFacts, RuleCode,
};
use chrono::Days;

fn release(deployment: Deployment) -> ReleaseFacts {
    ReleaseFacts {
        deployment,
        period_start: today(),
        person: person_with_capacity(),
        plan_approved: true,
        urgent_interim_from: None,
        consent_recorded: true,
        nominated_person_agreed: None,
        grants: vec![grant(PAYER, ActingAs::Person, &[Power::Pay])],
        policy: CouncilPolicy::default(),
    }
}

fn failed(facts: &ReleaseFacts) -> Vec<RuleCode> {
    match release_eligibility(facts) {
        Ok(()) => vec![],
        Err(refusals) => refusals.iter().map(|r| r.code).collect(),
    }
}

#[test]
fn an_approved_plan_releases_to_every_deployment() {
    for deployment in Deployment::ALL {
        assert_eq!(failed(&release(*deployment)), vec![], "{deployment}");
    }
}

#[test]
fn no_plan_no_release() {
    for deployment in Deployment::ALL {
        let mut f = release(*deployment);
        f.plan_approved = false;
        assert_eq!(failed(&f), vec![RuleCode::PlanNotApproved], "{deployment}");
    }
}

#[test]
fn urgent_interim_support_is_council_managed_and_time_limited() {
    // Six weeks from 1 June: 1 June to 12 July inclusive.
    let started = date(2026, 6, 1);
    let cases = [
        (Deployment::CouncilManaged, date(2026, 6, 1), true),
        (Deployment::CouncilManaged, date(2026, 7, 12), true),
        (Deployment::CouncilManaged, date(2026, 7, 13), false),
        (Deployment::CouncilManaged, date(2026, 5, 31), false),
        (Deployment::Isf, date(2026, 6, 1), false),
        (Deployment::DirectPayment, date(2026, 6, 1), false),
    ];
    for (deployment, period_start, ok) in cases {
        let mut f = release(deployment);
        f.plan_approved = false;
        f.urgent_interim_from = Some(started);
        f.period_start = period_start;
        let want = if ok {
            vec![]
        } else {
            vec![RuleCode::PlanNotApproved]
        };
        assert_eq!(failed(&f), want, "{deployment} {period_start}");
    }
}

#[test]
fn excluded_people_get_no_direct_payment() {
    for deployment in Deployment::ALL {
        let mut f = release(*deployment);
        f.person.excluded_from_direct_payments = true;
        let want = if deployment.is_direct_payment() {
            vec![RuleCode::PersonExcluded]
        } else {
            vec![]
        };
        assert_eq!(failed(&f), want, "{deployment}");
    }
}

#[test]
fn capacity_conditions_for_direct_payments() {
    type Change = fn(&mut ReleaseFacts);
    let cases: &[(&str, Change, bool)] = &[
        ("consent recorded", |_| {}, true),
        ("no consent", |f| f.consent_recorded = false, false),
        (
            "nominated person agreed",
            |f| f.nominated_person_agreed = Some(true),
            true,
        ),
        (
            "nominated person has not agreed",
            |f| f.nominated_person_agreed = Some(false),
            false,
        ),
        (
            "lacks capacity, no authorised person",
            |f| f.person.has_capacity = false,
            false,
        ),
        (
            "lacks capacity, authorised person",
            |f| {
                f.person.has_capacity = false;
                f.grants
                    .push(grant(APPROVER, ActingAs::AuthorisedPerson, &[Power::Pay]));
            },
            true,
        ),
        (
            "lacks capacity, authorised person's grant ended",
            |f| {
                f.person.has_capacity = false;
                let mut g = grant(APPROVER, ActingAs::AuthorisedPerson, &[Power::Pay]);
                g.valid_to = f.period_start.checked_sub_days(Days::new(1));
                f.grants.push(g);
            },
            false,
        ),
        (
            "regains capacity: authorised person no longer enough",
            |f| {
                f.consent_recorded = false;
                f.grants
                    .push(grant(APPROVER, ActingAs::AuthorisedPerson, &[Power::Pay]));
            },
            false,
        ),
    ];
    for (name, change, ok) in cases {
        for deployment in [Deployment::DirectPayment, Deployment::ManagedAccount] {
            let mut f = release(deployment);
            change(&mut f);
            let want = if *ok {
                vec![]
            } else {
                vec![RuleCode::CapacityConditions]
            };
            assert_eq!(failed(&f), want, "{name} {deployment}");
        }
        // Money the council arranges itself is not a direct payment: these conditions do not apply.
        let mut f = release(Deployment::CouncilManaged);
        change(&mut f);
        assert_eq!(failed(&f), vec![], "{name} council-managed");
    }
}

#[test]
fn every_release_failure_is_reported_together() {
    let mut f = release(Deployment::DirectPayment);
    f.plan_approved = false;
    f.person.excluded_from_direct_payments = true;
    f.consent_recorded = false;
    let want = vec![
        RuleCode::PlanNotApproved,
        RuleCode::PersonExcluded,
        RuleCode::CapacityConditions,
    ];
    assert_eq!(failed(&f), want);
}

#[test]
fn release_amounts() {
    // (weekly, weeks, contribution, basis, reablement) -> (release, owed, pay in)
    use ContributionBasis::{Gross, Net};
    let cases = [
        (
            "300.00",
            4,
            "50.00",
            Net,
            false,
            ("1000.00", "0.00", "200.00"),
        ),
        (
            "300.00",
            4,
            "50.00",
            Gross,
            false,
            ("1200.00", "200.00", "0.00"),
        ),
        ("300.00", 4, "50.00", Net, true, ("1200.00", "0.00", "0.00")),
        (
            "300.00",
            4,
            "50.00",
            Gross,
            true,
            ("1200.00", "0.00", "0.00"),
        ),
        ("40.00", 4, "50.00", Net, false, ("0.00", "0.00", "160.00")),
        (
            "40.00",
            2,
            "50.00",
            Gross,
            false,
            ("80.00", "80.00", "0.00"),
        ),
        ("123.45", 0, "10.00", Net, false, ("0.00", "0.00", "0.00")),
        ("100.00", 2, "-5.00", Net, false, ("200.00", "0.00", "0.00")),
    ];
    for (weekly, weeks, contribution, basis, reablement, (rel, owed, pay_in)) in cases {
        let got = release_amount(d(weekly), weeks, d(contribution), basis, reablement);
        let want = ReleaseAmount {
            release: d(rel),
            contribution_owed: d(owed),
            contribution_to_pay_in: d(pay_in),
        };
        assert_eq!(
            got, want,
            "{weekly} x {weeks} less {contribution} {basis} reablement={reablement}"
        );
        assert_eq!(got.release.to_string(), rel, "two decimal places");
    }
}
