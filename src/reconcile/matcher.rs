//! Matching bank statement lines to ledger postings of the same account. Pure.
//!
//! The rule, in two passes, each line matched at most once and each posting at most once:
//!
//! 1. **By reference.** A line matches a posting in the same direction (money in or out) and of
//!    the same amount whose reference is the line's `EndToEndId`, or appears in its remittance
//!    text or the bank's reference. A posting's references are what allot gave the bank or the
//!    payer: for a payment-run release the `EndToEndId` of the pain.001 file and the Bacs
//!    reference; for a payment or a contribution its id; for any posting its entry id (with or
//!    without hyphens, to fit the 35 characters of an `EndToEndId`). It must be
//!    the only such posting.
//! 2. **By amount and date.** Otherwise a line matches the one posting still unmatched in the
//!    same direction, of the same amount, dated within ± 3 banking days (Monday to Friday) of the
//!    line's booking date — and only if that posting is not also a candidate of another line.
//!
//! Anything else — no candidate, or several — is left for a person to match.

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Banking days either side of the booking date within which a posting may match by amount.
pub const DATE_WINDOW_BANKING_DAYS: i64 = 3;

/// Shortest reference looked for inside remittance text (shorter ones match too easily).
const MIN_REFERENCE_LEN: usize = 8;

/// A statement line as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Line {
    pub credit: bool,
    pub amount: Decimal,
    pub booked_on: NaiveDate,
    /// `EndToEndId`, remittance text, the bank's reference.
    pub texts: Vec<String>,
}

/// A posting (ledger entry) on the account as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Posting {
    pub entry_id: Uuid,
    pub credit: bool,
    pub amount: Decimal,
    pub effective_date: NaiveDate,
    pub references: Vec<String>,
}

/// How a line was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Reference,
    AmountAndDate,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Reference => "reference",
            How::AmountAndDate => "amount_and_date",
        }
    }
}

/// For each line, the index of the posting it matches and how (see the module doc).
pub fn match_lines(lines: &[Line], postings: &[Posting]) -> Vec<Option<(usize, How)>> {
    let mut result: Vec<Option<(usize, How)>> = vec![None; lines.len()];
    let mut taken = vec![false; postings.len()];
    let same = |l: &Line, p: &Posting| l.credit == p.credit && l.amount == p.amount;
    for (i, line) in lines.iter().enumerate() {
        let texts: Vec<String> = line.texts.iter().map(|t| t.to_lowercase()).collect();
        let candidates: Vec<usize> = postings
            .iter()
            .enumerate()
            .filter(|(j, p)| !taken[*j] && same(line, p) && referenced(&texts, p))
            .map(|(j, _)| j)
            .collect();
        if let [only] = candidates[..] {
            taken[only] = true;
            result[i] = Some((only, How::Reference));
        }
    }
    let candidates: Vec<Vec<usize>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if result[i].is_some() {
                return Vec::new();
            }
            postings
                .iter()
                .enumerate()
                .filter(|(j, p)| {
                    !taken[*j]
                        && same(line, p)
                        && banking_days_between(line.booked_on, p.effective_date).abs()
                            <= DATE_WINDOW_BANKING_DAYS
                })
                .map(|(j, _)| j)
                .collect()
        })
        .collect();
    for (i, mine) in candidates.iter().enumerate() {
        if let [only] = mine[..] {
            let shared = candidates
                .iter()
                .enumerate()
                .any(|(k, theirs)| k != i && theirs.contains(&only));
            if !shared {
                result[i] = Some((only, How::AmountAndDate));
            }
        }
    }
    result
}

fn referenced(texts: &[String], posting: &Posting) -> bool {
    posting.references.iter().any(|reference| {
        let reference = reference.trim().to_lowercase();
        !reference.is_empty()
            && texts.iter().any(|text| {
                text.trim() == reference
                    || (reference.len() >= MIN_REFERENCE_LEN && text.contains(&reference))
            })
    })
}

/// Banking days (Monday to Friday) from `a` to `b`: positive when `b` is later.
pub fn banking_days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    let (from, to, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    let mut days = 0;
    let mut day = from;
    while day < to {
        day = day.succ_opt().unwrap_or(to);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days += 1;
        }
        if days > 366 {
            break;
        }
    }
    sign * days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn line(credit: bool, pence: i64, on: &str, texts: &[&str]) -> Line {
        Line {
            credit,
            amount: Decimal::new(pence, 2),
            booked_on: date(on),
            texts: texts.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn posting(credit: bool, pence: i64, on: &str, references: &[&str]) -> Posting {
        Posting {
            entry_id: Uuid::new_v4(),
            credit,
            amount: Decimal::new(pence, 2),
            effective_date: date(on),
            references: references.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn banking_days_skip_weekends() {
        // Friday 2025-02-07 to Tuesday 2025-02-11: Monday and Tuesday.
        assert_eq!(
            banking_days_between(date("2025-02-07"), date("2025-02-11")),
            2
        );
        assert_eq!(
            banking_days_between(date("2025-02-11"), date("2025-02-07")),
            -2
        );
        assert_eq!(
            banking_days_between(date("2025-02-08"), date("2025-02-09")),
            0
        );
    }

    #[test]
    fn a_reference_wins_over_a_nearer_amount() {
        let lines = [line(true, 48000, "2025-02-03", &["ABCDEF123456-1"])];
        let postings = [
            posting(true, 48000, "2025-02-03", &["other"]),
            posting(true, 48000, "2025-01-20", &["abcdef123456-1"]),
        ];
        assert_eq!(
            match_lines(&lines, &postings),
            vec![Some((1, How::Reference))]
        );
    }

    #[test]
    fn amount_and_date_need_one_candidate_each_way() {
        let postings = [
            posting(false, 12000, "2025-02-07", &[]),
            posting(false, 5000, "2025-02-10", &[]),
            posting(false, 5000, "2025-02-11", &[]),
        ];
        let lines = [
            line(false, 12000, "2025-02-12", &["Invoice 7"]), // 3 banking days: matched
            line(false, 5000, "2025-02-10", &[]),             // two candidates: left
            line(true, 12000, "2025-02-07", &[]),             // money in, not out
        ];
        assert_eq!(
            match_lines(&lines, &postings),
            vec![Some((0, How::AmountAndDate)), None, None]
        );
        // Four banking days away is too far.
        let far = [line(false, 12000, "2025-02-13", &[])];
        assert_eq!(match_lines(&far, &postings[..1]), vec![None]);
        // Two lines after one posting: neither is matched.
        let two = [
            line(false, 12000, "2025-02-07", &[]),
            line(false, 12000, "2025-02-10", &[]),
        ];
        assert_eq!(match_lines(&two, &postings[..1]), vec![None, None]);
    }
}
