//! A PostgreSQL cluster of the benchmark's own, with production durability: `fsync`,
//! `synchronous_commit` and `full_page_writes` on (the test harness's cluster has them off), so
//! every commit waits for its WAL to reach the disk. Shared by the benches
//! (`#[path = "support/durable.rs"] mod durable;`).
//!
//! It is made like the harness's and the embedded server (`allot::db::EmbeddedPostgres`: the
//! system's `initdb` and `pg_ctl`, as the `postgres` user through `runuser` when run as root,
//! unix socket only) in a fresh directory `$TMPDIR/allot-bench-durable-<pid>`, which must be on a
//! real disk for the figures to mean anything (the bench prints its file system). The server is
//! stopped and the directory removed when the handle is dropped, and by a watchdog process if the
//! bench dies without dropping it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::os::unix::process::CommandExt;

use tokio_postgres::NoTls;

use allot::db::{pool_from_config, DbPool, EmbeddedPostgres, ServerOptions};

/// Server settings: durability on; the rest PostgreSQL 15's defaults but for `shared_buffers`
/// (256MB against the default 128MB). Stated here and read back from the server for the report.
pub const SETTINGS: &[(&str, &str)] = &[
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    ("shared_buffers", "256MB"),
];

/// Settings read back from the running server for the report.
const REPORTED: &[&str] = &[
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "wal_level",
    "commit_delay",
    "shared_buffers",
    "wal_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
];

/// A running durable cluster; stopped and removed on drop.
pub struct DurableCluster {
    pg: Option<EmbeddedPostgres>,
    dir: PathBuf,
}

/// A migrated database in the durable cluster.
pub struct BenchDb {
    pub pool: DbPool,
    /// Connection settings for that database as the cluster's superuser.
    pub config: tokio_postgres::Config,
}

impl DurableCluster {
    /// Creates and starts the cluster (blocking: call it before or outside the runtime's tasks).
    pub fn start() -> DurableCluster {
        DurableCluster::start_with(&[])
    }

    /// The same with `extra` server settings (diagnostics: `pg_stat_statements`, for example).
    pub fn start_with(extra: &[(&str, &str)]) -> DurableCluster {
        let dir = std::env::temp_dir().join(format!("allot-bench-durable-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .unwrap_or_else(|e| panic!("removing {}: {e}", dir.display()));
        }
        let options = ServerOptions {
            max_connections: 100,
            settings: SETTINGS
                .iter()
                .chain(extra)
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            ..ServerOptions::default()
        };
        let pg = EmbeddedPostgres::start(&dir, &options).unwrap_or_else(|e| panic!("{e}"));
        spawn_watchdog(&pg, &dir);
        DurableCluster { pg: Some(pg), dir }
    }

    fn pg(&self) -> &EmbeddedPostgres {
        self.pg.as_ref().expect("the cluster is running")
    }

    /// Superuser connection settings for database `dbname`.
    pub fn config(&self, dbname: &str) -> tokio_postgres::Config {
        self.pg().config(dbname)
    }

    pub fn data_dir(&self) -> &Path {
        self.pg().pgdata()
    }

    /// The postmaster's process id (for reading the server's CPU time).
    pub fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.pg().pgdata().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Creates database `dbname`, applies allot's migrations, and pools `pool_size` connections.
    pub async fn database(&self, dbname: &str, pool_size: usize) -> BenchDb {
        allot::db::create_database_if_missing(self.pg(), dbname)
            .await
            .unwrap_or_else(|e| panic!("creating {dbname}: {e:#}"));
        let config = self.config(dbname);
        let pool = pool_from_config(config.clone(), pool_size).expect("pool");
        let mut client = pool.get().await.expect("a connection");
        allot::db::migrate::run(&mut client)
            .await
            .unwrap_or_else(|e| panic!("migrating {dbname}: {e}"));
        drop(client);
        BenchDb { pool, config }
    }

    /// Lines describing the cluster: the settings as the server reports them, the version, and
    /// the file system the data directory is on.
    pub async fn describe(&self) -> Vec<String> {
        let (client, connection) = self
            .config("postgres")
            .connect(NoTls)
            .await
            .expect("connecting to the durable cluster");
        let task = tokio::spawn(connection);
        let mut settings = Vec::new();
        for name in REPORTED {
            let row = client
                .query_one(&format!("SHOW {name}"), &[])
                .await
                .unwrap_or_else(|e| panic!("SHOW {name}: {e}"));
            settings.push(format!("{name}={}", row.get::<_, String>(0)));
        }
        let version: String = client
            .query_one("SHOW server_version", &[])
            .await
            .expect("server_version")
            .get(0);
        drop(client);
        let _ = task.await;
        let file_system = file_system_of(self.data_dir());
        vec![
            format!(
                "PostgreSQL {version}, a cluster of the bench's own with production durability \
                 (fsync, synchronous_commit and full_page_writes ON)"
            ),
            format!("  {}", settings.join(" ")),
            format!(
                "  data directory {} on {file_system}",
                self.data_dir().display()
            ),
        ]
    }
}

/// Runs `sql` as the superuser on the database of `config` (VACUUM, CHECKPOINT and the like).
pub async fn superuser_execute(config: &tokio_postgres::Config, sql: &str) {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to run {sql}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

impl Drop for DurableCluster {
    fn drop(&mut self) {
        if let Some(mut pg) = self.pg.take() {
            pg.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The mount (device and type) holding `path`, from /proc/self/mounts: the longest mount point
/// that is a prefix of it.
fn file_system_of(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point).then(|| {
                (
                    point.len(),
                    format!("{device} ({kind}, mounted at {point})"),
                )
            })
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, text)| text)
        .unwrap_or_else(|| "an unknown file system".into())
}

/// Stops the cluster and removes its directory once this process has gone, however it went.
fn spawn_watchdog(pg: &EmbeddedPostgres, dir: &Path) {
    let stop = pg
        .stop_command()
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = shell_quote(&dir.display().to_string())
    );
    // Run in the background of a shell that exits at once: the watchdog outlives this process
    // without being its child.
    let status = Command::new("sh")
        .args(["-c", &format!("( {script} ) &")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .status()
        .unwrap_or_else(|e| panic!("could not start the durable cluster's watchdog: {e}"));
    assert!(
        status.success(),
        "starting the durable cluster's watchdog: {status}"
    );
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// CPU time in clock ticks: the machine's busy and idle time (/proc/stat), this process's (with
/// the children it has waited for: pgbench), and the PostgreSQL server's (the postmaster and its
/// live children, plus the children it has reaped, so backends that exited — pgbench's — count).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSample {
    pub machine_busy: u64,
    pub machine_idle: u64,
    pub machine_iowait: u64,
    pub machine_steal: u64,
    pub this_process: u64,
    pub server: u64,
}

/// The clock ticks of a second (USER_HZ: 100 on Linux).
pub const TICKS_PER_SECOND: f64 = 100.0;

impl CpuSample {
    pub fn now(postmaster: Option<i32>) -> CpuSample {
        let mut sample = CpuSample::default();
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            if let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) {
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|f| f.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal (guest time is in user already)
                if v.len() >= 8 {
                    sample.machine_idle = v[3];
                    sample.machine_iowait = v[4];
                    sample.machine_steal = v[7];
                    sample.machine_busy = v[0] + v[1] + v[2] + v[5] + v[6];
                }
            }
        }
        sample.this_process = process_ticks("self")
            .map(|(own, children)| own + children)
            .unwrap_or(0);
        if let Some(postmaster) = postmaster {
            let mut total = process_ticks(&postmaster.to_string())
                .map(|(own, children)| own + children)
                .unwrap_or(0);
            if let Ok(entries) = std::fs::read_dir("/proc") {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let Some(pid) = name
                        .to_str()
                        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                    else {
                        continue;
                    };
                    if parent_of(pid) == Some(postmaster) {
                        total += process_ticks(pid).map(|(own, _)| own).unwrap_or(0);
                    }
                }
            }
            sample.server = total;
        }
        sample
    }

    /// What happened between `earlier` and this sample.
    pub fn since(&self, earlier: &CpuSample) -> CpuSample {
        CpuSample {
            machine_busy: self.machine_busy.saturating_sub(earlier.machine_busy),
            machine_idle: self.machine_idle.saturating_sub(earlier.machine_idle),
            machine_iowait: self.machine_iowait.saturating_sub(earlier.machine_iowait),
            machine_steal: self.machine_steal.saturating_sub(earlier.machine_steal),
            this_process: self.this_process.saturating_sub(earlier.this_process),
            server: self.server.saturating_sub(earlier.server),
        }
    }

    /// Two intervals together.
    pub fn plus(&self, other: &CpuSample) -> CpuSample {
        CpuSample {
            machine_busy: self.machine_busy + other.machine_busy,
            machine_idle: self.machine_idle + other.machine_idle,
            machine_iowait: self.machine_iowait + other.machine_iowait,
            machine_steal: self.machine_steal + other.machine_steal,
            this_process: self.this_process + other.this_process,
            server: self.server + other.server,
        }
    }

    /// "machine 93% busy (others 10%, iowait 2%, steal 0%); CPU a payment: allot 812 µs,
    /// PostgreSQL 1210 µs", with `unit` ("a payment") and `client` ("allot") named by the caller.
    pub fn describe(&self, operations: u64, unit: &str, client: &str) -> String {
        let all = (self.machine_busy + self.machine_idle + self.machine_iowait + self.machine_steal)
            .max(1) as f64;
        let share = |ticks: u64| 100.0 * ticks as f64 / all;
        let per = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / operations.max(1) as f64;
        let others = self
            .machine_busy
            .saturating_sub(self.this_process + self.server);
        format!(
            "machine {:.0}% busy (other processes {:.0}%, iowait {:.0}%, steal {:.0}%); CPU {unit}: \
             {client} {:.0} µs, PostgreSQL {:.0} µs",
            share(self.machine_busy),
            share(others),
            share(self.machine_iowait),
            share(self.machine_steal),
            per(self.this_process),
            per(self.server),
        )
    }
}

/// (utime + stime, cutime + cstime) of a process, from /proc/<pid>/stat.
fn process_ticks(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime, stime, cutime, cstime are fields 14 to 17.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(16)? + field(17)?))
}

fn parent_of(pid: &str) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}
