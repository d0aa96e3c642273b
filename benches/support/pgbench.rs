//! pgbench's TPC-B-like workload on the benchmark's own cluster, as a baseline: what this
//! PostgreSQL on this machine does with a simple, well-known write transaction. Shared by the
//! benches (`#[path = "support/pgbench.rs"] mod pgbench;`).
//!
//! pgbench is a client program, so it runs as whoever runs the bench and connects like the test
//! harness does (the cluster's unix socket, its superuser). It comes from the cluster's own bin
//! directory when that has it (Debian keeps it in /usr/lib/postgresql/<v>/bin), else from PATH. A
//! missing pgbench stops the bench with a message saying how to install it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;
use tokio_postgres::config::Host;
use tokio_postgres::NoTls;

/// What one pgbench run reported.
#[derive(Debug, Clone, Copy)]
pub struct PgbenchRun {
    /// Transactions per second, without the initial connection time.
    pub tps: f64,
    /// Average latency of a transaction, in milliseconds.
    pub latency_avg_ms: Option<f64>,
    pub transactions: Option<u64>,
}

/// The pgbench to run: next to the cluster's `initdb` (or where that links to), else on PATH.
/// Panics with how to install it when there is none (a baseline that silently went missing would
/// make the figures lie).
pub fn binary() -> PathBuf {
    if let Some(dir) = allot::db::embedded::find_bin_dir() {
        // `initdb` may be a link from a directory without pgbench (/usr/local/bin) to Debian's.
        let real_dir = std::fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from));
        if let Some(found) = [Some(dir), real_dir]
            .into_iter()
            .flatten()
            .map(|d| d.join("pgbench"))
            .find(|p| p.is_file())
        {
            return found;
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join("pgbench"))
            .find(|p| p.is_file())
        {
            return found;
        }
    }
    panic!(
        "pgbench was not found next to the cluster's PostgreSQL binaries nor on PATH. It is part \
         of the PostgreSQL server package: on Debian/Ubuntu `apt-get install postgresql` (it \
         installs /usr/lib/postgresql/15/bin/pgbench)."
    )
}

/// Connection arguments for pgbench (`-h -p -U`) and its environment (a password, if any).
fn connection_args(config: &tokio_postgres::Config) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = Vec::new();
    match config.get_hosts().first() {
        Some(Host::Unix(dir)) => args.extend(["-h".to_string(), dir.display().to_string()]),
        Some(Host::Tcp(host)) => args.extend(["-h".to_string(), host.clone()]),
        None => {}
    }
    if let Some(port) = config.get_ports().first() {
        args.extend(["-p".to_string(), port.to_string()]);
    }
    if let Some(user) = config.get_user() {
        args.extend(["-U".to_string(), user.to_string()]);
    }
    let mut env = Vec::new();
    if let Some(password) = config.get_password() {
        env.push((
            "PGPASSWORD".to_string(),
            String::from_utf8_lossy(password).into_owned(),
        ));
    }
    (args, env)
}

async fn pgbench(config: &tokio_postgres::Config, dbname: &str, extra: &[String]) -> String {
    let binary = binary();
    let (mut args, env) = connection_args(config);
    args.extend(extra.iter().cloned());
    args.push(dbname.to_string());
    let output = Command::new(&binary)
        .args(&args)
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        panic!(
            "{} {} failed ({}):\n{stdout}\n{stderr}",
            binary.display(),
            args.join(" "),
            output.status
        );
    }
    format!("{stdout}\n{stderr}")
}

/// Creates (or re-creates) database `dbname` in the cluster of `superuser` (a config of a
/// superuser's connection to any database of that cluster) and loads pgbench's tables at `scale`
/// (100,000 accounts per unit of scale).
pub async fn initialise(superuser: &tokio_postgres::Config, dbname: &str, scale: u32) {
    let mut admin = superuser.clone();
    admin.dbname("postgres");
    let (client, connection) = admin
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the cluster for pgbench: {e}"));
    let task = tokio::spawn(connection);
    let quoted = format!("\"{}\"", dbname.replace('"', "\"\""));
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
        .await
        .unwrap_or_else(|e| panic!("dropping {dbname}: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {quoted}"))
        .await
        .unwrap_or_else(|e| panic!("creating {dbname}: {e}"));
    drop(client);
    let _ = task.await;
    pgbench(
        superuser,
        dbname,
        &["-i".into(), "-q".into(), "-s".into(), scale.to_string()],
    )
    .await;
}

/// Runs the TPC-B-like script for `seconds` with `clients` connections on `threads` threads
/// (`-n`: no vacuum first, `initialise` left the tables fresh).
pub async fn run(
    superuser: &tokio_postgres::Config,
    dbname: &str,
    clients: usize,
    threads: usize,
    seconds: u64,
) -> PgbenchRun {
    let output = pgbench(
        superuser,
        dbname,
        &[
            "-n".into(),
            "-c".into(),
            clients.to_string(),
            "-j".into(),
            threads.to_string(),
            "-T".into(),
            seconds.to_string(),
        ],
    )
    .await;
    parse(&output).unwrap_or_else(|| panic!("no tps in pgbench's output:\n{output}"))
}

/// Drops a database made by [`initialise`].
pub async fn drop_database(superuser: &tokio_postgres::Config, dbname: &str) {
    let mut admin = superuser.clone();
    admin.dbname("postgres");
    if let Ok((client, connection)) = admin.connect(NoTls).await {
        let task = tokio::spawn(connection);
        let quoted = format!("\"{}\"", dbname.replace('"', "\"\""));
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
            .await;
        drop(client);
        let _ = task.await;
    }
}

/// Reads pgbench's summary: `tps = 1234.5 (without initial connection time)`,
/// `latency average = 1.23 ms`, `number of transactions actually processed: 12345`.
pub fn parse(output: &str) -> Option<PgbenchRun> {
    let number_after = |prefix: &str| -> Option<f64> {
        output.lines().find_map(|line| {
            line.trim()
                .strip_prefix(prefix)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
    };
    let tps = output.lines().find_map(|line| {
        let line = line.trim();
        let rest = line.strip_prefix("tps = ")?;
        if line.contains("including") {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })?;
    Some(PgbenchRun {
        tps,
        latency_avg_ms: number_after("latency average = "),
        transactions: output.lines().find_map(|line| {
            let rest = line
                .trim()
                .strip_prefix("number of transactions actually processed: ")?;
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        }),
    })
}
