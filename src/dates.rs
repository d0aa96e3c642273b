//! Dates in requests. A date of birth, a service date or a grant's end that is thousands of years
//! away is a typing slip or an attack, never a care record, and PostgreSQL refuses some of them
//! outright (a 500 if they got that far). Every date a request carries is held to
//! [`EARLIEST`]..=[`LATEST`] as it is read, and a refusal is 400 `invalid_request` naming the field.
//!
//! Use `#[serde(with = "crate::dates")]` on a `NaiveDate` field and
//! `#[serde(default, with = "crate::dates::option")]` on an `Option<NaiveDate>`; the OpenAPI
//! schema stays `string`/`date` because utoipa reads the field's type. Request types this crate
//! cannot annotate are checked with [`check`] by their handler.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AppError, AppResult};

/// The first date a request may carry.
pub const EARLIEST: NaiveDate = ymd(1900, 1, 1);
/// The last date a request may carry.
pub const LATEST: NaiveDate = ymd(2200, 12, 31);

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("not a date"),
    }
}

/// What a refusal says.
pub fn reason() -> String {
    format!("must be a date from {EARLIEST} to {LATEST}")
}

/// The date if it is within range, or the reason it is not.
pub fn in_range(date: NaiveDate) -> Result<NaiveDate, String> {
    if (EARLIEST..=LATEST).contains(&date) {
        Ok(date)
    } else {
        Err(reason())
    }
}

/// Checks dates a handler has read (for request types whose fields cannot carry the serde
/// attribute): 400 naming the first field out of range.
pub fn check(fields: &[(&str, Option<NaiveDate>)]) -> AppResult<()> {
    for (field, date) in fields {
        if let Some(date) = date {
            in_range(*date).map_err(|reason| AppError::invalid(field, reason))?;
        }
    }
    Ok(())
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let date = NaiveDate::deserialize(deserializer)?;
    in_range(date).map_err(serde::de::Error::custom)
}

pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    date.serialize(serializer)
}

/// The same for `Option<NaiveDate>` (with `#[serde(default)]`, so it may be left out).
pub mod option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<NaiveDate>::deserialize(deserializer)? {
            Some(date) => in_range(date).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }

    pub fn serialize<S: Serializer>(
        date: &Option<NaiveDate>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        date.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Input {
        #[serde(with = "crate::dates")]
        on: NaiveDate,
        #[serde(default, with = "crate::dates::option")]
        until: Option<NaiveDate>,
    }

    #[test]
    fn dates_out_of_range_are_refused() {
        let read = |json: &str| serde_json::from_str::<Input>(json);
        for bad in [
            "-5000-01-01",
            "+12345-01-01",
            "1899-12-31",
            "2201-01-01",
            "0000-01-01",
        ] {
            let error = read(&format!(r#"{{"on":"{bad}"}}"#))
                .unwrap_err()
                .to_string();
            assert!(error.contains("1900-01-01 to 2200-12-31"), "{bad}: {error}");
            let error = read(&format!(r#"{{"on":"2000-01-01","until":"{bad}"}}"#))
                .unwrap_err()
                .to_string();
            assert!(error.contains("1900-01-01 to 2200-12-31"), "{bad}: {error}");
        }
        let edges = read(r#"{"on":"1900-01-01","until":"2200-12-31"}"#).unwrap();
        assert_eq!(edges.on, EARLIEST);
        assert_eq!(edges.until, Some(LATEST));
        assert_eq!(read(r#"{"on":"2025-04-01"}"#).unwrap().until, None);
        assert_eq!(
            read(r#"{"on":"2025-04-01","until":null}"#).unwrap().until,
            None
        );
        // Written back as it was read.
        assert_eq!(
            serde_json::to_string(&edges).unwrap(),
            r#"{"on":"1900-01-01","until":"2200-12-31"}"#
        );
    }

    #[test]
    fn handlers_check_the_rest() {
        let ok = NaiveDate::from_ymd_opt(2025, 4, 1);
        let far = NaiveDate::from_ymd_opt(2500, 1, 1);
        assert!(check(&[("service_date", ok), ("stay_to", None)]).is_ok());
        match check(&[("service_date", ok), ("stay_to", far)]) {
            Err(AppError::Invalid { details, .. }) => {
                assert_eq!(details[0].field.as_deref(), Some("stay_to"));
            }
            other => panic!("{other:?}"),
        }
    }
}
