//! Per-statement server time from `pg_stat_statements`, for the benches' `BENCH_STATEMENTS=1`
//! diagnostics (the cluster must preload it: see [`preload`]).

use tokio_postgres::NoTls;

use super::durable;

/// The server settings that load `pg_stat_statements` (tracking nested statements and planning).
pub fn preload() -> [(&'static str, &'static str); 3] {
    [
        ("shared_preload_libraries", "pg_stat_statements"),
        ("pg_stat_statements.track", "all"),
        ("pg_stat_statements.track_planning", "on"),
    ]
}

/// Whether `BENCH_STATEMENTS=1` asks for the per-statement report.
pub fn wanted() -> bool {
    std::env::var("BENCH_STATEMENTS").is_ok_and(|v| v == "1")
}

async fn connect(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = config.connect(NoTls).await.expect("connecting");
    tokio::spawn(connection);
    client
}

pub async fn reset_statements(config: &tokio_postgres::Config) {
    durable::superuser_execute(
        config,
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();",
    )
    .await;
}

/// The statements that took the most server time (pg_stat_statements), per payment.
pub async fn top_statements(config: &tokio_postgres::Config, payments: u64) -> Vec<String> {
    let rows = connect(config)
        .await
        .query(
            "SELECT calls, total_exec_time, total_plan_time, regexp_replace(query, '\\s+', ' ', 'g')
               FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              ORDER BY total_exec_time + total_plan_time DESC LIMIT 15",
            &[],
        )
        .await
        .expect("pg_stat_statements");
    let per = payments.max(1) as f64;
    let mut lines = vec![format!(
        "statements by server wall time (pg_stat_statements, nested ones too): µs a payment \
         (executing + planning), calls a payment, mean µs"
    )];
    for row in rows {
        let (calls, exec_ms, plan_ms, query): (i64, f64, f64, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let total_ms = exec_ms + plan_ms;
        let query: String = query.chars().take(100).collect();
        lines.push(format!(
            "  {:>5.0} + {:<5.0} {:>6.2} {:>8.0}  {query}",
            exec_ms * 1000.0 / per,
            plan_ms * 1000.0 / per,
            calls as f64 / per,
            total_ms * 1000.0 / calls.max(1) as f64,
        ));
    }
    lines
}
