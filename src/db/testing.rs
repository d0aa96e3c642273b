//! The test harness's PostgreSQL: one throwaway cluster per test run, shared by every test
//! binary and process of that run, with a migrated template; each test gets a database of its own
//! made from the template (`CREATE DATABASE .. TEMPLATE`, about 80 ms).
//!
//! "A run" is the processes with the same parent (cargo or nextest): the cluster lives in
//! `$TMPDIR/allot-test-<parent pid>` and a watchdog stops and removes it when that parent exits.
//! Without PostgreSQL binaries the harness panics with the install hint: tests fail, never skip.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use std::os::unix::process::CommandExt;

use tokio_postgres::NoTls;
use uuid::Uuid;

use super::{pool_from_config, DbPool, EmbeddedPostgres, ServerOptions};

const TEMPLATE: &str = "allot_template";

/// Connection settings of the run's cluster (to the `postgres` database).
fn cluster() -> &'static tokio_postgres::Config {
    static CLUSTER: OnceLock<tokio_postgres::Config> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        // Set up on a thread of its own: it runs a runtime, and tests call this from inside theirs.
        std::thread::spawn(start_cluster)
            .join()
            .unwrap_or_else(|_| {
                panic!("the test PostgreSQL cluster could not be started (see above)")
            })
    })
}

fn start_cluster() -> tokio_postgres::Config {
    let parent = nix::unistd::getppid();
    let dir = std::env::temp_dir().join(format!("allot-test-{parent}"));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let lock_path = dir.join("harness.lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("creating {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));

    let options = ServerOptions {
        max_connections: 400,
        // A throwaway cluster: durability only costs time.
        settings: vec![
            ("fsync".into(), "off".into()),
            ("synchronous_commit".into(), "off".into()),
            ("full_page_writes".into(), "off".into()),
        ],
        // Tests connect as roles of their own (a schema owner that is not a superuser).
        trust_local: true,
    };
    let mut pg = EmbeddedPostgres::start(&dir, &options).unwrap_or_else(|e| panic!("{e}"));
    if pg.started_here() {
        pg.detach();
        spawn_watchdog(parent.as_raw(), &pg, dir.clone());
    }
    let ready = dir.join("template.ready");
    if !ready.exists() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        runtime
            .block_on(create_template(&pg))
            .unwrap_or_else(|e| panic!("creating the template: {e:#}"));
        File::create(&ready).unwrap_or_else(|e| panic!("creating {}: {e}", ready.display()));
    }
    drop(lock);
    pg.config("postgres")
}

async fn create_template(pg: &EmbeddedPostgres) -> anyhow::Result<()> {
    let (client, connection) = pg.config("postgres").connect(NoTls).await?;
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {TEMPLATE}"))
        .await?;
    client
        .batch_execute(&format!("CREATE DATABASE {TEMPLATE}"))
        .await?;
    let (mut template, connection) = pg.config(TEMPLATE).connect(NoTls).await?;
    let template_task = tokio::spawn(connection);
    super::migrate::run(&mut template).await?;
    drop(template);
    let _ = template_task.await;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Stops and removes the cluster once the run's parent process has gone.
fn spawn_watchdog(parent: i32, pg: &EmbeddedPostgres, dir: PathBuf) {
    let stop = pg
        .stop_command()
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "while kill -0 {parent} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
        shell_quote(&dir.display().to_string())
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    if let Err(e) = spawned {
        panic!("could not start the test cluster's watchdog: {e}");
    }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A database of its own for one test.
pub struct TestDb {
    pub pool: DbPool,
    pub name: String,
    pub config: tokio_postgres::Config,
}

impl TestDb {
    /// A fresh, migrated database in the run's cluster.
    pub async fn new() -> TestDb {
        let base = cluster().clone();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let (client, connection) = base
            .connect(NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting: {e}"));
        let task = tokio::spawn(connection);
        let mut attempt = 0;
        loop {
            // Two creations from one template at the same instant can collide; try again.
            match client
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
                .await
            {
                Ok(()) => break,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    tracing::debug!(error = %e, "retrying CREATE DATABASE");
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        drop(client);
        let _ = task.await;
        let mut config = base;
        config.dbname(&name);
        let pool = pool_from_config(config.clone(), 16).unwrap_or_else(|e| panic!("pool: {e}"));
        TestDb { pool, name, config }
    }
}
