//! Amounts always look the same: `£1,234.50`, negative as `−£12.00`.

use maud::{html, Markup, Render};
use rust_decimal::Decimal;

/// An amount in pounds sterling, rendered with a thousands separator and two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gbp(pub Decimal);

impl Gbp {
    pub fn text(&self) -> String {
        let mut value = self.0.abs();
        value.rescale(2);
        let text = value.to_string();
        let (whole, pence) = text.split_once('.').unwrap_or((&text, "00"));
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if self.0.is_sign_negative() && !self.0.is_zero() {
            "\u{2212}"
        } else {
            ""
        };
        format!("{sign}£{grouped}.{pence}")
    }
}

impl Render for Gbp {
    fn render(&self) -> Markup {
        html! { span.money.negative[self.0.is_sign_negative() && !self.0.is_zero()] { (self.text()) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn formats_amounts() {
        let gbp = |s: &str| Gbp(Decimal::from_str(s).unwrap()).text();
        assert_eq!(gbp("0"), "£0.00");
        assert_eq!(gbp("12.5"), "£12.50");
        assert_eq!(gbp("1234.5"), "£1,234.50");
        assert_eq!(gbp("1234567.89"), "£1,234,567.89");
        assert_eq!(gbp("-12"), "\u{2212}£12.00");
        assert_eq!(gbp("100"), "£100.00");
    }
}
