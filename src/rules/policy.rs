//! Per-council settings the rules read (RULES.md values marked *policy*).
//!
//! Councils change these over time, so each set carries a `version` that is stored with every decision made
//! under it; statutory limits (the 28-day care-home rule, reg 3's relatives) are not settings and live in code.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One council's policy settings at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CouncilPolicy {
    /// Which version of this council's settings these are (recorded with each decision).
    pub version: i32,
    /// Payments strictly above this need evidence attached (receipt, invoice, timesheet).
    pub receipt_threshold: Decimal,
    /// Days a payment may wait for approval before its hold is released.
    pub hold_expiry_days: u32,
    /// Whether a direct payment may buy the council's own services (guidance allows it one-off).
    pub dp_may_buy_council_services: bool,
    /// Merchant categories card-style spending may never go to, compared without regard to case.
    pub blocked_merchant_categories: Vec<String>,
    /// A direct-payment balance above this many weeks of payments is surplus.
    pub surplus_weeks_dp: u32,
    /// An ISF balance above this many weeks of payments is surplus.
    pub surplus_weeks_isf: u32,
    /// How long urgent interim support may be released without an approved plan.
    pub interim_max_weeks: u32,
    /// Years evidence files are kept after their payment (RULES.md: at least 6).
    pub evidence_retention_years: u32,
}

impl Default for CouncilPolicy {
    fn default() -> Self {
        CouncilPolicy {
            version: 1,
            // 250.00 written as 25000 hundredths so no parsing (and no failure path) is involved.
            receipt_threshold: Decimal::new(25000, 2),
            hold_expiry_days: 14,
            dp_may_buy_council_services: true,
            blocked_merchant_categories: [
                "gambling",
                "alcohol",
                "dating_escort",
                "pawn_shop",
                "tobacco",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            surplus_weeks_dp: 8,
            surplus_weeks_isf: 4,
            interim_max_weeks: 6,
            evidence_retention_years: 6,
        }
    }
}

impl CouncilPolicy {
    /// Whether card-style spending at this merchant category is blocked. Case and surrounding spaces are
    /// ignored because card processors do not agree on either.
    pub fn blocks_merchant(&self, merchant_category: &str) -> bool {
        let wanted = merchant_category.trim();
        self.blocked_merchant_categories
            .iter()
            .any(|blocked| blocked.trim().eq_ignore_ascii_case(wanted))
    }
}
