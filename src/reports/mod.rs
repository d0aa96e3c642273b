//! Statutory returns read from the books (issue 11 §5), never typed in: SALT LTS001b-style counts
//! of adults in long-term community support by delivery mechanism with ASCOF 3D beside them, and
//! Client Level Data rows for the plan lines in force in a period.
//!
//! What counts as long-term community support: the lines of a council-funded (`funder` `council`)
//! standard budget's approved plan. Reablement budgets are short-term support and NHS-funded
//! budgets are not the council's social care, so neither is counted. A plan is in force from the
//! day it was approved (in England) and until the day before the plan that superseded it was
//! approved, within its budget's start and end dates.

pub mod cld;
pub mod delivery;

use crate::auth::Role;

/// Who may read the returns.
pub const REPORT_ROLES: &[Role] = &[
    Role::FinanceOfficer,
    Role::Auditor,
    Role::CareManager,
    Role::CouncilAdmin,
];

/// The plan lines in force on some day of `$2..=$3`, with the day each began and (when it has)
/// ended: `person_id, person_name, date_of_birth, deployment, weekly_amount, line_start, line_end, plan_id,
/// line_no`. `$1` is the council.
pub(crate) const LINES_IN_FORCE: &str = "
    WITH spans AS (
        SELECT b.person_id, pe.name AS person_name, pe.date_of_birth, l.deployment, l.weekly_amount, p.id AS plan_id,
               l.line_no, b.is_carer_budget,
               greatest(b.start_date, (p.approved_at AT TIME ZONE 'Europe/London')::date)
                   AS line_start,
               CASE
                   WHEN b.end_date IS NULL AND p.ended_at IS NULL THEN NULL
                   ELSE least(b.end_date,
                              (p.ended_at AT TIME ZONE 'Europe/London')::date - 1)
               END AS line_end
        FROM support_plans p
        JOIN budgets b ON b.council_id = p.council_id AND b.id = p.budget_id
        JOIN people pe ON pe.council_id = b.council_id AND pe.id = b.person_id
        JOIN support_plan_lines l ON l.council_id = p.council_id AND l.plan_id = p.id
        WHERE p.council_id = $1 AND p.status IN ('approved', 'superseded')
          AND b.funder = 'council' AND b.kind = 'standard'
    )
    SELECT person_id, person_name, date_of_birth, deployment, weekly_amount, line_start, line_end,
           plan_id, line_no, is_carer_budget
    FROM spans
    WHERE (line_end IS NULL OR line_end >= line_start)
      AND line_start <= $3 AND (line_end IS NULL OR line_end >= $2)
    ORDER BY person_id, line_start, plan_id, line_no";
