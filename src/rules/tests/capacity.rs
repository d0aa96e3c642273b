//! `capacity_role`: grants that fit the person's capacity record count; the same test when recording them.

use super::fixtures::*;
use crate::rules::{decide, validate_grant, ActingAs, PersonFacts, RuleCode};

#[test]
fn grants_follow_the_capacity_record() {
    // (acting as, person has capacity, lpa registered, court order, payment allowed)
    let cases: &[(ActingAs, bool, bool, Option<&str>, bool)] = &[
        (ActingAs::NominatedPerson, true, false, None, true),
        (ActingAs::NominatedPerson, false, false, None, false),
        (ActingAs::AuthorisedPerson, false, false, None, true),
        (ActingAs::AuthorisedPerson, true, false, None, false),
        (ActingAs::Attorney, false, true, None, true),
        (ActingAs::Attorney, false, false, None, false),
        (ActingAs::Deputy, false, false, Some("COP-12345"), true),
        (ActingAs::Deputy, false, false, None, false),
        (ActingAs::Deputy, false, false, Some("  "), false),
        (ActingAs::Person, true, false, None, true),
        (ActingAs::Broker, false, false, None, true),
    ];
    for &(acting_as, has_capacity, lpa, court, allowed) in cases {
        let mut f = facts();
        f.person = PersonFacts {
            has_capacity,
            excluded_from_direct_payments: false,
        };
        f.grants[0].acting_as = acting_as;
        f.grants[0].lpa_registered = lpa;
        f.grants[0].court_order_ref = court.map(str::to_owned);
        let name = format!("{acting_as} capacity={has_capacity} lpa={lpa} court={court:?}");
        let want = if allowed {
            vec![]
        } else {
            vec![RuleCode::NoAuthority]
        };
        assert_eq!(codes(&decide(&f, &request("100.00"))), want, "{name}");
        // Recording the same grant gives the same answer, as capacity_role.
        let recorded = validate_grant(&f.grants[0], &f.person)
            .map_err(|rs| rs.iter().map(|r| r.code).collect::<Vec<_>>());
        let want = if allowed {
            Ok(())
        } else {
            Err(vec![RuleCode::CapacityRole])
        };
        assert_eq!(recorded, want, "{name}");
    }
}

#[test]
fn an_approver_whose_grant_no_longer_fits_does_not_count() {
    let mut f = facts_with_approver();
    f.grants[1].acting_as = ActingAs::NominatedPerson;
    f.person.has_capacity = false;
    f.grants[0].acting_as = ActingAs::AuthorisedPerson;
    assert_eq!(
        codes(&decide(&f, &request("1000.01"))),
        vec![RuleCode::NoAuthority]
    );
    f.person.has_capacity = true;
    f.grants[0].acting_as = ActingAs::Person;
    assert!(is_hold(&decide(&f, &request("1000.01"))));
}
