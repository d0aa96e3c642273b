//! Care-home stays: 28 vs 29 days, stays 27 vs 28 days apart, missing dates, overlaps and the 12-month window.

use super::fixtures::*;
use crate::rules::respite::{check_care_home_stay, linked_days};
use crate::rules::{
    decide, Category, Deployment, PayeeKind, RuleCode, SpendFacts, SpendRequest, StayFacts,
};
use chrono::{Days, NaiveDate};

fn plus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n))
        .unwrap_or_else(|| panic!("{day} + {n} days is out of range"))
}

/// A respite payment to a care home for a stay of `nights` nights starting on `from`.
fn respite(from: NaiveDate, nights: u64) -> (SpendFacts, SpendRequest) {
    let (mut f, mut r) = (facts(), request("700.00"));
    f.payee.kind = PayeeKind::CareHome;
    r.category = Category::ResidentialRespite;
    r.stay_from = Some(from);
    r.stay_to = Some(plus(from, nights - 1));
    (f, r)
}

fn stay(from: NaiveDate, nights: u64) -> StayFacts {
    StayFacts {
        from,
        to: plus(from, nights - 1),
    }
}

#[test]
fn a_single_stay_of_28_days_posts_and_29_is_refused() {
    for (nights, posts) in [(1, true), (27, true), (28, true), (29, false), (365, false)] {
        let (f, r) = respite(date(2026, 7, 1), nights);
        let decision = decide(&f, &r);
        if posts {
            assert!(is_post(&decision), "{nights}: {decision:?}");
        } else {
            assert_eq!(
                codes(&decision),
                vec![RuleCode::ResidentialCareLimit],
                "{nights}"
            );
        }
    }
}

#[test]
fn stays_less_than_4_weeks_apart_are_added_together() {
    // An earlier 20-night stay, 1–20 May; the new stay is 10 nights. Days apart = nights at home between them.
    for (days_apart, posts) in [(0, false), (1, false), (27, false), (28, true), (60, true)] {
        let earlier = stay(date(2026, 5, 1), 20);
        let (mut f, r) = respite(plus(earlier.to, days_apart + 1), 10);
        f.previous_stays = vec![earlier];
        let decision = decide(&f, &r);
        if posts {
            assert!(is_post(&decision), "{days_apart} days apart: {decision:?}");
        } else {
            assert_eq!(
                codes(&decision),
                vec![RuleCode::ResidentialCareLimit],
                "{days_apart}"
            );
        }
    }
}

#[test]
fn linked_stays_may_reach_exactly_28_days() {
    // Four 7-night stays, 21 days apart: 28 nights linked; a fifth linked night is one too many.
    let mut previous = Vec::new();
    let mut next = date(2026, 1, 5);
    for _ in 0..3 {
        previous.push((next, plus(next, 6)));
        next = plus(next, 7 + 21);
    }
    assert_eq!(linked_days(next, plus(next, 6), &previous), 28);
    assert_eq!(linked_days(next, plus(next, 7), &previous), 29);
}

#[test]
fn a_later_stay_already_paid_counts_too() {
    let later = (date(2026, 8, 1), date(2026, 8, 20));
    let new_from = date(2026, 7, 15);
    // 15–24 July then 1–20 August: 6 days apart, 10 + 20 = 30 nights.
    assert_eq!(linked_days(new_from, date(2026, 7, 24), &[later]), 30);
}

#[test]
fn the_same_stay_paid_twice_counts_each_night_once() {
    let from = date(2026, 7, 1);
    let to = plus(from, 20);
    assert_eq!(
        linked_days(from, to, &[(from, to), (from, plus(from, 9))]),
        21
    );
}

#[test]
fn only_nights_within_12_months_count() {
    // One night every 28 days (27 days apart, so all linked) for more than two years: at most 14 of them fall
    // in any 12 months, so the limit is not reached even though the chain has 31 nights.
    let start = date(2024, 1, 1);
    let previous: Vec<_> = (0..30)
        .map(|i| (plus(start, 28 * i), plus(start, 28 * i)))
        .collect();
    let new = plus(start, 28 * 30);
    let counted = linked_days(new, new, &previous);
    assert!((13..=14).contains(&counted), "counted {counted}");
}

#[test]
fn care_home_payments_must_carry_their_dates() {
    let kinds = [
        (Category::ResidentialRespite, PayeeKind::CareAgency),
        (Category::PersonalCare, PayeeKind::CareHome),
    ];
    for (category, kind) in kinds {
        for deployment in Deployment::ALL {
            let stay = (Some(date(2026, 7, 1)), None);
            let refusal = check_care_home_stay(category, kind, *deployment, stay, &[]);
            assert_eq!(
                refusal.map(|r| r.code),
                Some(RuleCode::ResidentialCareLimit),
                "{category} {kind}"
            );
        }
    }
    let back_to_front = (Some(date(2026, 7, 2)), Some(date(2026, 7, 1)));
    let refusal = check_care_home_stay(
        Category::ResidentialRespite,
        PayeeKind::CareHome,
        Deployment::Isf,
        back_to_front,
        &[],
    );
    assert!(refusal.is_some());
}

#[test]
fn other_payments_need_no_stay_dates() {
    let refusal = check_care_home_stay(
        Category::PersonalCare,
        PayeeKind::CareAgency,
        Deployment::DirectPayment,
        (None, None),
        &[],
    );
    assert_eq!(refusal, None);
}

#[test]
fn the_4_week_limit_binds_direct_payments_only() {
    let stay = (Some(date(2026, 7, 1)), Some(date(2026, 8, 31)));
    for deployment in Deployment::ALL {
        let refused = check_care_home_stay(
            Category::ResidentialRespite,
            PayeeKind::CareHome,
            *deployment,
            stay,
            &[],
        )
        .is_some();
        assert_eq!(refused, deployment.is_direct_payment(), "{deployment}");
    }
}

#[test]
fn stays_more_than_12_months_away_do_not_count_against_this_one() {
    // A one-night stay, then one night every 28 days (linked) for 20 stays, then 40 nights more than a year
    // later: the long stays were the later payments' concern; this stay's 12 months hold at most 14 nights.
    let start = date(2025, 1, 1);
    let mut previous: Vec<_> = (1..=20)
        .map(|i| (plus(start, 28 * i), plus(start, 28 * i)))
        .collect();
    let late = plus(start, 28 * 20 + 10);
    previous.push((late, plus(late, 19)));
    previous.push((plus(late, 25), plus(late, 44)));
    let counted = linked_days(start, start, &previous);
    assert!((1..=14).contains(&counted), "counted {counted}");
}
