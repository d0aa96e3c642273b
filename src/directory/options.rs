//! The priced cost options of the council's active services, for the plan editor's picker: a plan
//! line may buy one of them (see `budgets::plans::draft`, which checks the choice again).

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::AppResult;

/// One service's cost option with its price and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOption {
    pub service_id: String,
    pub service_name: String,
    pub cost_option_id: String,
    pub option: Option<String>,
    pub amount: Decimal,
    pub unit: String,
}

/// Every priced cost option of the council's active services, by service name.
pub async fn priced(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<PricedOption>> {
    let rows = tx
        .query(
            "SELECT s.id, s.name, o.id, o.option, o.amount, o.unit
             FROM directory_services s
             JOIN directory_cost_options o ON o.council_id = s.council_id AND o.service_id = s.id
             WHERE s.council_id = $1 AND s.status = 'active' AND NOT s.withdrawn
               AND o.amount IS NOT NULL
             ORDER BY lower(s.name), s.id, o.position, o.id",
            &[&council_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PricedOption {
            service_id: r.get(0),
            service_name: r.get(1),
            cost_option_id: r.get(2),
            option: r.get(3),
            amount: r.get(4),
            unit: r.get(5),
        })
        .collect())
}
