//! Client Level Data (R2) rows: one per plan line in force on some day of a period, with the R2
//! headings of the fields allot holds. Each line is one service event, costed weekly: the unit
//! is a week, its cost the line's weekly amount, one unit planned a week.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::{LINES_IN_FORCE, REPORT_ROLES};
use crate::auth::Actor;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// The CSV's header, in order.
pub const HEADINGS: [&str; 11] = [
    "LA_Person_Unique_Identifier",
    "Reporting_Period_Start_Date",
    "Reporting_Period_End_Date",
    "Event_Type",
    "Event_Start_Date",
    "Event_End_Date",
    "Service_Type",
    "Delivery_Mechanism",
    "Unit_Cost",
    "Cost_Frequency_Unit_Type",
    "Planned_units_per_week",
];

pub const EVENT_TYPE: &str = "Service";
pub const SERVICE_TYPE: &str = "Long term support: Community";
/// The R2 service type of support bought with a carer's own budget.
pub const CARER_SERVICE_TYPE: &str = "Carer support: Direct to carer";
pub const COST_FREQUENCY: &str = "Weekly";

/// The CLD `Delivery_Mechanism` of a line's deployment.
pub fn delivery_mechanism(deployment: &str) -> &'static str {
    match deployment {
        "direct_payment" | "managed_account" => "Direct payment",
        "isf" | "council_managed" => "CASSR managed personal budget",
        _ => "CASSR commissioned support",
    }
}

/// One row: a plan line in force in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CldRow {
    pub person_id: Uuid,
    /// Shown on the page, never in the CSV.
    pub person_name: String,
    pub plan_id: Uuid,
    pub line_no: i32,
    pub deployment: String,
    pub start: NaiveDate,
    /// The line's last day, when it ended on or before the period's last day (blank otherwise:
    /// still in force at the end of the period).
    pub end: Option<NaiveDate>,
    pub weekly_amount: Decimal,
    /// A line of a carer's own budget: the carer service type.
    pub is_carer: bool,
}

impl CldRow {
    /// The R2 `Service_Type` of the row.
    pub fn service_type(&self) -> &'static str {
        if self.is_carer {
            CARER_SERVICE_TYPE
        } else {
            SERVICE_TYPE
        }
    }
}

/// The longest period asked for at once.
pub const MAX_DAYS: i64 = 3 * 366;

/// The rows for `from..=to` (the actor's council; finance officers, auditors, care managers,
/// council administrators). `to` before `from`, or a period over three years: 400.
pub async fn rows(
    tx: &Tx<'_>,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<CldRow>> {
    actor.require(REPORT_ROLES)?;
    check_period(from, to)?;
    let rows = tx
        .query(LINES_IN_FORCE, &[&actor.council_id, &from, &to])
        .await?;
    rows.iter()
        .map(|r| {
            let end: Option<NaiveDate> = r.try_get("line_end")?;
            Ok(CldRow {
                person_id: r.try_get("person_id")?,
                person_name: r.try_get("person_name")?,
                plan_id: r.try_get("plan_id")?,
                line_no: r.try_get("line_no")?,
                deployment: r.try_get("deployment")?,
                start: r.try_get("line_start")?,
                end: end.filter(|e| *e <= to),
                weekly_amount: r.try_get("weekly_amount")?,
                is_carer: r.try_get("is_carer_budget")?,
            })
        })
        .collect()
}

/// `to` on or after `from`, at most [`MAX_DAYS`] apart.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::invalid("to", "must be on or after `from`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::invalid(
            "to",
            "the period may be at most three years",
        ));
    }
    Ok(())
}

/// The CSV (header first, CRLF line ends as RFC 4180).
pub fn to_csv(from: NaiveDate, to: NaiveDate, rows: &[CldRow]) -> AppResult<String> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(format!("CLD csv: {e}"));
    out.write_record(HEADINGS).map_err(fail)?;
    for r in rows {
        out.write_record([
            r.person_id.to_string(),
            from.to_string(),
            to.to_string(),
            EVENT_TYPE.to_owned(),
            r.start.to_string(),
            r.end.map(|d| d.to_string()).unwrap_or_default(),
            r.service_type().to_owned(),
            delivery_mechanism(&r.deployment).to_owned(),
            format!("{:.2}", r.weekly_amount),
            COST_FREQUENCY.to_owned(),
            "1".to_owned(),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("CLD csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("CLD csv: {e}")))
}
