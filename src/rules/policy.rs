//! Per-council settings the rules read (RULES.md values marked *policy*).
//!
//! Councils change these over time, so each set carries a `version` that is stored with every decision made
//! under it; statutory limits (the 28-day care-home rule, reg 3's relatives) are not settings and live in code.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::types::Category;

/// What a card authorisation gets when allot cannot decide before the processor gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CardTimeoutDecision {
    /// Declined (the default: nothing is spent that the rules have not seen).
    #[default]
    Decline,
    /// Approved without a hold, as the network's stand-in would.
    Approve,
}

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
    /// Card merchant category codes (MCC, four digits) and the plan category their spending
    /// counts as; a code not listed counts as `other`.
    pub card_mcc_categories: BTreeMap<String, Category>,
    /// Merchant category codes cards may never be used at.
    pub card_blocked_mccs: Vec<String>,
    /// Merchant category codes of cash withdrawals (allowed only where the plan allows cash).
    pub card_cash_mccs: Vec<String>,
    /// The most cash one card may withdraw in a day.
    pub card_cash_daily_limit: Decimal,
    /// Days an approved card authorisation holds its money waiting for the capture.
    pub card_hold_expiry_days: u32,
    /// Merchant category codes whose captures may exceed the authorisation by up to 20 %
    /// (restaurants, bars, taxis, salons: tips).
    pub card_over_capture_mccs: Vec<String>,
    /// The answer when the decision is not made in time.
    pub card_timeout_decision: CardTimeoutDecision,
    /// Years evidence files are kept after their payment (RULES.md: at least 6).
    pub evidence_retention_years: u32,
    /// Weeks between a surplus notice and the day its amount may be recovered (default 4).
    pub surplus_notice_weeks: u32,
    /// Weeks after the first approved plan that its first review is due (default 6, at most 26).
    pub first_review_weeks: u32,
    /// Whether a carer's own budget may carry a contribution (default false: carers are not
    /// charged, and a contribution on a carer's budget is refused).
    pub charge_carers: bool,
    /// The council's telephone number printed on people's statements ("who to contact").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// The council's email address printed on people's statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The default merchant-category map: codes whose spending plainly belongs to a plan category.
/// Everything else counts as `other` (spent only where the plan has an `other` line).
fn default_mcc_categories() -> BTreeMap<String, Category> {
    use Category::*;
    [
        ("0780", DomesticSupport), // landscaping and gardening
        ("1520", HomeAdaptations), // general contractors
        ("1711", HomeAdaptations), // heating and plumbing
        ("1731", HomeAdaptations), // electricians
        ("4111", Transport),       // local and commuter transport
        ("4112", Transport),       // passenger railways
        ("4121", Transport),       // taxis
        ("4131", Transport),       // bus lines
        ("5047", Equipment),       // medical and hospital equipment
        ("5200", HomeAdaptations), // home supply warehouses
        ("5211", HomeAdaptations), // building materials
        ("5541", Transport),       // service stations
        ("5542", Transport),       // fuel dispensers
        ("5712", Equipment),       // furniture
        ("5722", Equipment),       // household appliances
        ("5912", Equipment),       // pharmacies
        ("5976", Equipment),       // orthopaedic goods, prosthetics
        ("7210", DomesticSupport), // laundry
        ("7211", DomesticSupport), // laundry services
        ("7230", PersonalCare),    // hairdressers
        ("7349", DomesticSupport), // cleaning
        ("7523", Transport),       // parking
        ("7832", DayActivities),   // cinemas
        ("7941", DayActivities),   // sports clubs
        ("7991", DayActivities),   // tourist attractions
        ("7997", DayActivities),   // leisure clubs
        ("7999", DayActivities),   // recreation services
        ("8011", Therapy),         // doctors
        ("8041", Therapy),         // chiropractors
        ("8049", Therapy),         // chiropodists, podiatrists
        ("8050", PersonalCare),    // nursing and personal care
        ("8099", Therapy),         // health practitioners
        ("8211", Education),       // schools
        ("8220", Education),       // colleges
        ("8249", Education),       // vocational training
        ("8299", Education),       // educational services
    ]
    .into_iter()
    .map(|(code, category)| (code.to_owned(), category))
    .collect()
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
            card_mcc_categories: default_mcc_categories(),
            // Gambling, government lotteries, off-licences, bars, pawn shops, dating and escort,
            // second-hand and pawn goods, massage parlours, quasi-cash, money transfer, stored
            // value (issue 14's list; allpay's static blocks and more).
            card_blocked_mccs: strings(&[
                "7995", "9406", "5921", "5813", "5993", "7273", "5933", "7297", "6051", "4829",
                "6540",
            ]),
            card_cash_mccs: strings(&["6010", "6011"]),
            // 100.00 as hundredths (no parsing).
            card_cash_daily_limit: Decimal::new(10000, 2),
            card_hold_expiry_days: 7,
            card_over_capture_mccs: strings(&["5812", "5813", "5814", "4121", "7230", "7298"]),
            card_timeout_decision: CardTimeoutDecision::Decline,
            evidence_retention_years: 6,
            surplus_notice_weeks: 4,
            first_review_weeks: 6,
            charge_carers: false,
            contact_phone: None,
            contact_email: None,
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
            .chain(&self.card_blocked_mccs)
            .any(|blocked| blocked.trim().eq_ignore_ascii_case(wanted))
    }

    /// The plan category a card merchant category code's spending counts as.
    pub fn card_category(&self, mcc: &str) -> Category {
        self.card_mcc_categories
            .get(mcc)
            .copied()
            .unwrap_or(Category::Other)
    }

    /// Whether this merchant category code is a cash withdrawal.
    pub fn is_cash_mcc(&self, mcc: &str) -> bool {
        self.card_cash_mccs.iter().any(|c| c == mcc)
    }

    /// Whether captures at this merchant category code may exceed the authorisation (by 20 %).
    pub fn allows_over_capture(&self, mcc: &str) -> bool {
        self.card_over_capture_mccs.iter().any(|c| c == mcc)
    }
}
