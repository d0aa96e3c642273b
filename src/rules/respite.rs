//! Care-home stays paid from a direct payment: Care and Support (Direct Payments) Regulations 2014
//! (SI 2014/2871) and Care and Support Statutory Guidance ch.12.
//!
//! A direct payment may not pay for long-term residential care. It may pay for care-home stays of at most
//! 4 consecutive weeks (28 days) in any 12 months; stays less than 4 weeks apart are added together and count
//! as one period, while a gap of 4 weeks or more starts the count again.
//!
//! Counting: a stay runs from its first night to its last night, both included, so 1–28 March is 28 days.
//! Two stays are "apart" by the days at home between them: a stay ending on 28 March and one starting on
//! 25 April are 27 days apart (29 March–24 April). Overlapping or repeated stays (two invoices for the same
//! stay) count each night once.

use super::decision::{Refusal, RuleCode};
use super::money::format_date;
use super::types::{Category, Deployment, PayeeKind};
use chrono::{Days, Months, NaiveDate};

/// The most nights a direct payment may fund in one linked period of care-home stays.
pub const MAX_LINKED_DAYS: i64 = 28;
/// Stays fewer than this many days apart are added together.
pub const LINK_GAP_DAYS: i64 = 28;

/// Whether a payment is for a care-home stay, and so must carry the stay's dates.
pub fn is_care_home_stay(category: Category, payee_kind: PayeeKind) -> bool {
    category == Category::ResidentialRespite || payee_kind == PayeeKind::CareHome
}

/// Nights in a stay, first and last included.
pub fn stay_days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

/// Checks a care-home payment's stay: dates are required for every deployment (the record must show which
/// stay was paid for); the 28-day limit applies only to money that is a direct payment.
pub fn check_care_home_stay(
    category: Category,
    payee_kind: PayeeKind,
    deployment: Deployment,
    stay: (Option<NaiveDate>, Option<NaiveDate>),
    previous: &[(NaiveDate, NaiveDate)],
) -> Option<Refusal> {
    if !is_care_home_stay(category, payee_kind) {
        return None;
    }
    let refuse = |message: String| Some(Refusal::new(RuleCode::ResidentialCareLimit, message));
    let (from, to) = match stay {
        (Some(from), Some(to)) => (from, to),
        _ => {
            return refuse(
                "Payments for a care-home stay must give the first and last night of the stay, so the stay can \
                 be checked against the 4-week limit."
                    .to_owned(),
            )
        }
    };
    if to < from {
        return refuse(format!(
            "The stay's last night ({}) is before its first night ({}).",
            format_date(to),
            format_date(from)
        ));
    }
    if !deployment.is_direct_payment() {
        return None;
    }
    let nights = stay_days(from, to);
    if nights > MAX_LINKED_DAYS {
        return refuse(format!(
            "This care-home stay is {nights} days long. A direct payment can pay for at most 4 weeks (28 days) \
             of care-home respite in a row, and cannot pay for long-term residential care, which the council \
             must arrange instead."
        ));
    }
    let linked = linked_days(from, to, previous);
    if linked > MAX_LINKED_DAYS {
        return refuse(format!(
            "This care-home stay of {nights} days, added to other stays less than 4 weeks before or after it, \
             comes to {linked} days within 12 months. A direct payment can pay for at most 4 weeks (28 days) of \
             care-home respite in a row."
        ));
    }
    None
}

/// The most nights, in any 12 months that include part of the new stay, of the stays linked to it (each less
/// than 4 weeks from the next), the new stay included.
pub fn linked_days(from: NaiveDate, to: NaiveDate, previous: &[(NaiveDate, NaiveDate)]) -> i64 {
    let chain = linked_chain(from, to, previous);
    // The count in a window can only peak where the window's end meets a block's last night, or where its start
    // meets a block's first night; those ends (and the new stay's own end) are the only ones worth checking.
    let mut ends: Vec<NaiveDate> = vec![to];
    for &(block_from, block_to) in &chain {
        ends.push(block_to);
        if let Some(end) = block_from
            .checked_add_months(Months::new(12))
            .and_then(|d| d.pred_opt())
        {
            ends.push(end);
        }
    }
    ends.into_iter()
        .filter(|&end| end >= from && window_start(end) <= to)
        .map(|end| {
            let start = window_start(end);
            chain
                .iter()
                .map(|&(f, t)| overlap_days(f, t, start, end))
                .sum::<i64>()
        })
        .max()
        .unwrap_or(0)
}

/// The first day of the 12 months ending on `end`.
fn window_start(end: NaiveDate) -> NaiveDate {
    end.checked_sub_months(Months::new(12))
        .and_then(|d| d.checked_add_days(Days::new(1)))
        // Only dates at the very start of chrono's range have no 12 months before them; count from there.
        .unwrap_or(NaiveDate::MIN)
}

fn overlap_days(from: NaiveDate, to: NaiveDate, start: NaiveDate, end: NaiveDate) -> i64 {
    let first = from.max(start);
    let last = to.min(end);
    if last < first {
        0
    } else {
        stay_days(first, last)
    }
}

/// The merged blocks of nights linked to the new stay, in date order.
fn linked_chain(
    from: NaiveDate,
    to: NaiveDate,
    previous: &[(NaiveDate, NaiveDate)],
) -> Vec<(NaiveDate, NaiveDate)> {
    // Stays recorded back to front are data errors already refused when entered; leave them out.
    let mut stays: Vec<(NaiveDate, NaiveDate)> =
        previous.iter().copied().filter(|(f, t)| f <= t).collect();
    stays.push((from, to));
    stays.sort();

    // Merge overlapping and back-to-back stays into blocks so no night counts twice.
    let mut blocks: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (f, t) in stays {
        match blocks.last_mut() {
            Some(last) if (f - last.1).num_days() <= 1 => last.1 = last.1.max(t),
            _ => blocks.push((f, t)),
        }
    }

    // Group blocks into chains of stays less than 4 weeks apart; keep the chain holding the new stay.
    let mut chain: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut found = false;
    for block in blocks {
        let linked = chain
            .last()
            .is_some_and(|last| (block.0 - last.1).num_days() - 1 < LINK_GAP_DAYS);
        if !linked {
            if found {
                break;
            }
            chain.clear();
        }
        found |= block.0 <= from && from <= block.1;
        chain.push(block);
    }
    chain
}
