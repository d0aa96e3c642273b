//! The service directory brokers choose from: services imported from an Open Referral UK feed
//! ([`feed`], [`import`]), searched by brokers, care managers, the person and representatives
//! ([`search`]), and published again as Open Referral UK 3.0 ([`publish`]).

pub mod feed;
pub mod import;
pub mod options;
pub mod publish;
pub mod search;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// A service as read from a feed, before it is stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedService {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub fees: Option<String>,
    pub organisation_id: Option<String>,
    pub organisation_name: Option<String>,
    pub organisation_description: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub cost_options: Vec<ImportedCostOption>,
    pub locations: Vec<ImportedLocation>,
    pub contacts: Vec<ImportedContact>,
    pub terms: Vec<ImportedTerm>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedCostOption {
    pub id: String,
    pub option: Option<String>,
    pub amount: Option<Decimal>,
    pub amount_description: Option<String>,
    pub unit: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedLocation {
    pub id: String,
    pub name: Option<String>,
    pub location_type: String,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedContact {
    pub id: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportedTerm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub taxonomy: Option<String>,
}

/// The units a cost option is priced in, read from its description (`per hour`, `per 1 hour
/// session`, `£12 a visit`): a plan line's weekly amount is the amount × units a week.
pub const UNITS: [&str; 8] = [
    "hour", "session", "day", "night", "visit", "meal", "week", "month",
];

pub fn unit_of(description: Option<&str>) -> &'static str {
    let Some(text) = description else {
        return "unit";
    };
    let text = text.to_lowercase();
    // The word after "per" or "a"/"an" decides: "per 1 hour session" is a session.
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        if ["per", "a", "an", "each", "every"].contains(word) {
            for next in &words[i + 1..] {
                let singular = next.trim_end_matches('s');
                if let Some(unit) = UNITS.iter().find(|u| **u == singular || **u == *next) {
                    found = Some(*unit);
                } else if next.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                } else if found.is_some() {
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
    }
    found
        .or_else(|| {
            words.iter().find_map(|w| {
                UNITS
                    .iter()
                    .find(|u| **u == w.trim_end_matches('s'))
                    .copied()
            })
        })
        .unwrap_or("unit")
}

/// A postcode as compared: upper case, letters and digits only (`sw1a 1aa` → `SW1A1AA`).
pub fn postcode_key(postcode: &str) -> String {
    postcode
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_read_from_the_description() {
        assert_eq!(unit_of(Some("per hour")), "hour");
        assert_eq!(unit_of(Some("per 1 hour session")), "session");
        assert_eq!(unit_of(Some("£12 a visit")), "visit");
        assert_eq!(unit_of(Some("Per day")), "day");
        assert_eq!(unit_of(Some("weekly charge, per week")), "week");
        assert_eq!(unit_of(Some("hours")), "hour");
        assert_eq!(unit_of(Some("flat fee")), "unit");
        assert_eq!(unit_of(None), "unit");
    }

    #[test]
    fn postcodes_compare_without_spaces_or_case() {
        assert_eq!(postcode_key(" sw1a 1aa"), "SW1A1AA");
        assert_eq!(postcode_key("SW1A1AA"), postcode_key("sw1a  1aa"));
    }
}
