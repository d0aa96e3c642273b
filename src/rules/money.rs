//! Small money and date helpers shared by the rules: exact decimal arithmetic only, never floats.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to whole pence, half away from zero ("half-up" for the positive amounts money usually is).
pub fn to_pence(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // rescale pads "12.5" to "12.50" so amounts always show two decimals.
    rounded.rescale(2);
    rounded
}

/// Money for sentences: "£1234.50", and "-£5.00" for negatives.
pub fn format_money(amount: Decimal) -> String {
    let pence = to_pence(amount);
    if pence.is_sign_negative() && !pence.is_zero() {
        format!("-£{}", -pence)
    } else {
        format!("£{}", pence.abs())
    }
}

/// "3 March 2026".
pub fn format_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// Splits `total` into `parts` amounts of whole pence that add up exactly to `total` (rounded to pence first),
/// spreading the remainder pennies over the first parts so no two parts differ by more than 0.01.
///
/// `parts == 0` gives an empty list: there is nothing to split into.
pub fn split_evenly(total: Decimal, parts: usize) -> Vec<Decimal> {
    if parts == 0 {
        return Vec::new();
    }
    // A pence-scaled Decimal's mantissa is the amount in pence; Decimal's 96-bit mantissa fits in i128.
    let pence = to_pence(total).mantissa();
    // usize is at most 64 bits on every target Rust supports, so it always fits in i128.
    let n = parts as i128;
    // Euclidean division keeps the remainder non-negative, so negative totals split just as evenly.
    let base = pence.div_euclid(n);
    let remainder = pence.rem_euclid(n);
    (0..n)
        .map(|i| {
            let share = if i < remainder { base + 1 } else { base };
            Decimal::from_i128_with_scale(share, 2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("bad decimal {s}: {e}"))
    }

    #[test]
    fn split_evenly_table() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("100.00", 3, &["33.34", "33.33", "33.33"]),
            ("0.02", 3, &["0.01", "0.01", "0.00"]),
            ("10", 2, &["5.00", "5.00"]),
            ("-1.00", 3, &["-0.33", "-0.33", "-0.34"]),
            ("0.005", 1, &["0.01"]),
            ("5.00", 0, &[]),
        ];
        for (total, n, want) in cases {
            let got = split_evenly(d(total), *n);
            let want: Vec<Decimal> = want.iter().map(|s| d(s)).collect();
            assert_eq!(got, want, "split {total} into {n}");
        }
    }

    #[test]
    fn formats_money_and_dates() {
        assert_eq!(format_money(d("250")), "£250.00");
        assert_eq!(format_money(d("0.5")), "£0.50");
        assert_eq!(format_money(d("-5")), "-£5.00");
        assert_eq!(format_money(d("-0.001")), "£0.00");
        match NaiveDate::from_ymd_opt(2026, 3, 3) {
            Some(date) => assert_eq!(format_date(date), "3 March 2026"),
            None => panic!("3 March 2026 is a real date"),
        }
    }
}
