//! An embedded PostgreSQL for running allot without `DATABASE_URL`.
//!
//! The system's PostgreSQL binaries are used (never downloaded): found on `PATH`, through
//! `pg_config --bindir`, or under `/usr/lib/postgresql/*/bin`. The cluster lives in
//! `<data_dir>/pgdata`, listens on a unix socket only, and trusts local connections, which only
//! users able to reach the socket directory can make. `initdb` and `pg_ctl` refuse to run as root,
//! so as root they run as the `postgres` system user through `runuser`.
//!
//! A server already running on the data directory is reused and left running; a server this
//! process started is stopped when the handle is dropped or [`EmbeddedPostgres::stop`] is called.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::os::unix::process::CommandExt;

/// What can go wrong while finding, creating or starting the cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH, through pg_config, \
         or under /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install \
         postgresql`) or set DATABASE_URL to use an existing server."
    )]
    BinariesNotFound,
    #[error("running as root, but there is no `postgres` system user to run PostgreSQL as ({0})")]
    NoPostgresUser(String),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// A PostgreSQL cluster in a data directory of ours.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<nix::unistd::User>,
    started_here: bool,
}

/// Settings passed to the server when this process starts it.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub max_connections: u32,
    /// Extra `-c name=value` settings (tests turn durability off, for example).
    pub settings: Vec<(String, String)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_connections: 100,
            settings: Vec::new(),
        }
    }
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use and starts it unless it is already running.
    pub fn start(data_dir: &Path, options: &ServerOptions) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::BinariesNotFound)?;
        fs::create_dir_all(data_dir).map_err(|e| io_err(data_dir, e))?;
        let data_dir = fs::canonicalize(data_dir).map_err(|e| io_err(data_dir, e))?;
        let run_as = if nix::unistd::geteuid().is_root() {
            match nix::unistd::User::from_name("postgres") {
                Ok(Some(user)) => Some(user),
                Ok(None) => return Err(EmbeddedError::NoPostgresUser("no such user".into())),
                Err(e) => return Err(EmbeddedError::NoPostgresUser(e.to_string())),
            }
        } else {
            None
        };
        let socket_dir = socket_dir_for(&data_dir);
        let mut pg = Self {
            bin_dir,
            pgdata: data_dir.join("pgdata"),
            socket_dir,
            run_as,
            started_here: false,
        };

        // Two allot processes starting on one directory must not both run initdb or pg_ctl start.
        let lock_path = data_dir.join("allot.lock");
        let lock = File::create(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        lock.lock().map_err(|e| io_err(&lock_path, e))?;

        pg.prepare_dirs(&data_dir)?;
        if !pg.pgdata.join("PG_VERSION").exists() {
            pg.initdb()?;
        }
        if !pg.is_running() {
            pg.pg_ctl_start(options)?;
            pg.started_here = true;
        }
        drop(lock);
        Ok(pg)
    }

    /// Connection settings for a database of this cluster, over the unix socket.
    pub fn config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(5432)
            .user("postgres")
            .dbname(dbname);
        config
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Whether this handle started the server (and so stops it when dropped).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Keeps the server running after this handle is dropped (test clusters shared by processes).
    pub fn detach(&mut self) {
        self.started_here = false;
    }

    /// The command line, as the right user, that stops this cluster (for watchdogs).
    pub fn stop_command(&self) -> Vec<String> {
        let mut argv = self.user_prefix();
        argv.push(self.bin_dir.join("pg_ctl").display().to_string());
        argv.extend(["stop", "-D"].map(String::from));
        argv.push(self.pgdata.display().to_string());
        argv.extend(["-m", "immediate", "-w"].map(String::from));
        argv
    }

    /// Stops the server if this process started it. Safe to call more than once.
    pub fn stop(&mut self) {
        if !self.started_here {
            return;
        }
        self.started_here = false;
        let pgdata = self.pgdata.display().to_string();
        let result = self.run(
            "pg_ctl",
            &["stop", "-D", &pgdata, "-m", "fast", "-w", "-t", "60"],
        );
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not stop the embedded PostgreSQL");
        }
    }

    fn is_running(&self) -> bool {
        let pgdata = self.pgdata.display().to_string();
        self.command("pg_ctl", &["status", "-D", &pgdata])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn prepare_dirs(&self, data_dir: &Path) -> Result<(), EmbeddedError> {
        fs::create_dir_all(&self.socket_dir).map_err(|e| io_err(&self.socket_dir, e))?;
        if let Some(user) = &self.run_as {
            for dir in [data_dir, self.socket_dir.as_path()] {
                std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                    .map_err(|e| io_err(dir, e))?;
            }
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata.display().to_string();
        self.run(
            "initdb",
            &[
                "-D",
                &pgdata,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        )
        .map(drop)
    }

    fn pg_ctl_start(&self, options: &ServerOptions) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata.display().to_string();
        let log = self.pgdata.join("server.log").display().to_string();
        let mut server_opts = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections={}",
            self.socket_dir.display(),
            options.max_connections
        );
        for (name, value) in &options.settings {
            server_opts.push_str(&format!(" -c {name}={value}"));
        }
        self.run(
            "pg_ctl",
            &[
                "start",
                "-D",
                &pgdata,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-o",
                &server_opts,
            ],
        )
        .map(drop)
    }

    fn user_prefix(&self) -> Vec<String> {
        match &self.run_as {
            Some(user) => vec![
                "runuser".into(),
                "-u".into(),
                user.name.clone(),
                "--".into(),
            ],
            None => Vec::new(),
        }
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let binary = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", &user.name, "--"]).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        command.args(args).stdin(Stdio::null());
        // Keep the terminal's Ctrl-C away from the server: this process stops it in order.
        command.process_group(0);
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, EmbeddedError> {
        let what = format!("{program} {}", args.join(" "));
        let output = self
            .command(program, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| EmbeddedError::Io(what.clone(), e))?;
        if output.status.success() {
            Ok(output)
        } else {
            let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
            if detail.is_empty() {
                detail = String::from_utf8_lossy(&output.stdout).trim().to_string();
            }
            Err(EmbeddedError::Command { what, detail })
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn io_err(path: &Path, e: std::io::Error) -> EmbeddedError {
    EmbeddedError::Io(path.display().to_string(), e)
}

/// Unix socket paths are limited to about 107 bytes; deep data directories get a short one in /tmp.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let preferred = data_dir.join("run");
    // The socket file inside is `.s.PGSQL.5432` (14 bytes) plus a separator.
    if preferred.as_os_str().len() + 15 < 100 {
        return preferred;
    }
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        data_dir.as_os_str().as_encoded_bytes(),
    );
    PathBuf::from(format!("/tmp/allot-{}", hex::encode(&digest.as_ref()[..8])))
}

/// Where `initdb` and `pg_ctl` are: PATH, then `pg_config --bindir`, then Debian's layout.
pub fn find_bin_dir() -> Option<PathBuf> {
    find_bin_dir_from(
        std::env::var_os("PATH"),
        Path::new("pg_config"),
        Path::new("/usr/lib/postgresql"),
    )
}

fn find_bin_dir_from(
    path: Option<std::ffi::OsString>,
    pg_config: &Path,
    debian_root: &Path,
) -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = path {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d)) {
            return Some(dir);
        }
    }
    if let Ok(output) = Command::new(pg_config).arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_tools(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(debian_root)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let dir = entry.path().join("bin");
            has_tools(&dir).then_some((version, dir))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_are_a_clear_error() {
        let none = find_bin_dir_from(
            Some("".into()),
            Path::new("/nonexistent/pg_config"),
            Path::new("/nonexistent"),
        );
        assert_eq!(none, None);
        let message = EmbeddedError::BinariesNotFound.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn binaries_are_found_in_the_debian_layout() {
        let root = tempfile::tempdir().unwrap();
        for version in ["13", "15"] {
            let bin = root.path().join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for tool in ["initdb", "pg_ctl"] {
                fs::write(bin.join(tool), "").unwrap();
            }
        }
        let found = find_bin_dir_from(None, Path::new("/nonexistent/pg_config"), root.path());
        assert_eq!(found, Some(root.path().join("15").join("bin")));
    }

    #[test]
    fn long_data_directories_get_a_short_socket_directory() {
        let short = socket_dir_for(Path::new("/srv/allot"));
        assert_eq!(short, Path::new("/srv/allot/run"));
        let deep = PathBuf::from(format!("/{}", "d".repeat(120)));
        let socket = socket_dir_for(&deep);
        assert!(socket.to_string_lossy().starts_with("/tmp/allot-"));
        assert!(socket.as_os_str().len() + 15 < 100);
    }
}
