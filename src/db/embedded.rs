//! An embedded PostgreSQL for running allot without `DATABASE_URL`.
//!
//! The system's PostgreSQL binaries are used (never downloaded): found on `PATH`, through
//! `pg_config --bindir`, or under `/usr/lib/postgresql/*/bin`. The cluster lives in
//! `<data_dir>/pgdata` and listens on a unix socket only, in `<data_dir>/run` (or, when that path
//! is too long for a socket, a fresh randomly named directory in the temporary directory), both
//! the directory and the socket 0700. Connections are checked by peer authentication: only the
//! user allot runs as (and the server's own user) may connect, as the database user `postgres`
//! (see [`access_rules`]). `initdb` and `pg_ctl` refuse to run as root, so as root they run as the
//! `postgres` system user through `runuser`; [`super::data_dir`] finds a data directory that user
//! can reach.
//!
//! A server already running on the data directory is reused and left running; a server this
//! process started is stopped when the handle is dropped or [`EmbeddedPostgres::stop`] is called.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
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
    #[error(
        "allot runs PostgreSQL as the `postgres` user when it runs as root, and that user cannot \
         reach {}. Give a data directory it can reach with --data-dir or ALLOT_DATA_DIR (for \
         example --data-dir /var/lib/allot/NAME), run allot as an ordinary user, or set \
         DATABASE_URL to use a PostgreSQL server of your own.",
        .0.display()
    )]
    Unreachable(PathBuf),
    #[error(
        "{} is not safe to keep a database in: it must be a directory owned by root (or \
         `postgres`) that no one else may write to. Remove it or give --data-dir.",
        .0.display()
    )]
    Unsafe(PathBuf),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// A PostgreSQL cluster in a data directory of ours.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    /// The socket directory is a temporary one of ours, removed when the server stops.
    temporary_socket_dir: bool,
    run_as: Option<nix::unistd::User>,
    started_here: bool,
}

/// Settings passed to the server when this process starts it.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub max_connections: u32,
    /// Extra `-c name=value` settings (tests turn durability off, for example).
    pub settings: Vec<(String, String)>,
    /// Trust every local connection, as any database role (the test harness's throwaway cluster,
    /// whose tests sign in as roles of their own; its 0700 socket directory is the wall). Off for
    /// allot's own embedded server.
    pub trust_local: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_connections: 100,
            settings: Vec::new(),
            trust_local: false,
        }
    }
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use and starts it unless it is already running.
    pub fn start(data_dir: &Path, options: &ServerOptions) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::BinariesNotFound)?;
        make_private_dir(data_dir)?;
        let data_dir = fs::canonicalize(data_dir).map_err(|e| io_err(data_dir, e))?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(postgres_user()?)
        } else {
            None
        };
        let mut pg = Self {
            bin_dir,
            pgdata: data_dir.join("pgdata"),
            socket_dir: PathBuf::new(),
            temporary_socket_dir: false,
            run_as,
            started_here: false,
        };
        pg.hand_over(&data_dir)?;

        // Two allot processes starting on one directory must not both run initdb or pg_ctl start.
        let lock_path = data_dir.join("allot.lock");
        let lock = File::create(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        lock.lock().map_err(|e| io_err(&lock_path, e))?;

        if !pg.pgdata.join("PG_VERSION").exists() {
            pg.initdb()?;
        }
        if pg.is_running() {
            pg.socket_dir = pg
                .running_socket_dir()
                .unwrap_or_else(|| data_dir.join("run"));
        } else {
            pg.write_access_rules(options.trust_local)?;
            pg.make_socket_dir(&data_dir)?;
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
        } else if self.temporary_socket_dir {
            // Empty once the server is gone; left alone if not.
            let _ = fs::remove_dir(&self.socket_dir);
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

    /// Makes `dir` over to the user the server runs as (when that is not us).
    fn hand_over(&self, dir: &Path) -> Result<(), EmbeddedError> {
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| io_err(dir, e))?;
        }
        Ok(())
    }

    /// The socket directory for a server about to start: `<data_dir>/run`, 0700, or when that
    /// path is too long for a socket a new directory with a random name in the temporary
    /// directory (created here, so no one else can have made it first).
    fn make_socket_dir(&mut self, data_dir: &Path) -> Result<(), EmbeddedError> {
        match preferred_socket_dir(data_dir) {
            Some(dir) => {
                make_private_dir(&dir)?;
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| io_err(&dir, e))?;
                self.socket_dir = dir;
            }
            None => {
                self.socket_dir = new_temporary_dir()?;
                self.temporary_socket_dir = true;
            }
        }
        self.hand_over(&self.socket_dir)
    }

    /// Where a running server has its socket (line 5 of `postmaster.pid`).
    fn running_socket_dir(&self) -> Option<PathBuf> {
        let pid_file = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        let dir = pid_file.lines().nth(4)?.trim();
        (!dir.is_empty()).then(|| PathBuf::from(dir))
    }

    /// Writes `pg_hba.conf` and `pg_ident.conf` (see [`access_rules`]); clusters made by
    /// earlier versions, which trusted every local connection, are brought up to date too.
    fn write_access_rules(&self, trust_local: bool) -> Result<(), EmbeddedError> {
        if trust_local {
            let (hba, ident) = access_rules(&[]);
            return self.write_rules(hba, ident);
        }
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.name);
        let mut users: Vec<String> = me.into_iter().collect();
        users.extend(self.run_as.as_ref().map(|u| u.name.clone()));
        let (hba, ident) = access_rules(&users);
        self.write_rules(hba, ident)
    }

    fn write_rules(&self, hba: String, ident: String) -> Result<(), EmbeddedError> {
        for (name, text) in [("pg_hba.conf", hba), ("pg_ident.conf", ident)] {
            let path = self.pgdata.join(name);
            fs::write(&path, text).map_err(|e| io_err(&path, e))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .map_err(|e| io_err(&path, e))?;
            self.hand_over(&path)?;
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
                "--auth-local=peer",
                "--auth-host=reject",
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
            "-c listen_addresses='' -c unix_socket_directories='{}' \
             -c unix_socket_permissions=0700 -c max_connections={}",
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

/// The `postgres` system user, which the server runs as when allot runs as root.
pub fn postgres_user() -> Result<nix::unistd::User, EmbeddedError> {
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(EmbeddedError::NoPostgresUser("no such user".into())),
        Err(e) => Err(EmbeddedError::NoPostgresUser(e.to_string())),
    }
}

/// `pg_hba.conf` and `pg_ident.conf` letting only these system users connect, over the unix
/// socket, as the database user `postgres`. With no user name to go on (an account without a
/// passwd entry, where peer authentication cannot work), local connections are trusted and the
/// 0700 socket directory is the only wall.
pub fn access_rules(system_users: &[String]) -> (String, String) {
    let header = "# Written by allot each time it starts this cluster: local connections only, \
                  checked by peer authentication.\n";
    if system_users.is_empty() {
        let hba = format!("{header}local all all trust\n");
        return (hba, String::new());
    }
    let hba = format!("{header}local all all peer map=allot\n");
    let mut ident = String::from("# MAPNAME SYSTEM-USERNAME PG-USERNAME\n");
    let mut seen = Vec::new();
    for user in system_users {
        if !seen.contains(user) {
            ident.push_str(&format!("allot {user} postgres\n"));
            // The login role allot serves as (it owns nothing; see V16).
            ident.push_str(&format!("allot {user} allot_server\n"));
            seen.push(user.clone());
        }
    }
    (hba, ident)
}

/// Creates `dir` (its parents as usual) with mode 0700 unless it exists.
fn make_private_dir(dir: &Path) -> Result<(), EmbeddedError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(io_err(dir, e)),
    }
}

/// Unix socket paths are limited to about 107 bytes: `<data_dir>/run` when it is short enough.
fn preferred_socket_dir(data_dir: &Path) -> Option<PathBuf> {
    let preferred = data_dir.join("run");
    // The socket file inside is `.s.PGSQL.5432` (14 bytes) plus a separator.
    (preferred.as_os_str().len() + 15 < 100).then_some(preferred)
}

/// A new directory (0700) with an unguessable name in the temporary directory. `mkdir` fails if
/// the name exists (even as a symlink), so what is returned is ours.
fn new_temporary_dir() -> Result<PathBuf, EmbeddedError> {
    let base = std::env::temp_dir();
    let mut last_error = None;
    for _ in 0..16 {
        let mut random = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).map_err(
            |_| {
                EmbeddedError::Io(
                    "the random number generator".into(),
                    ErrorKind::Other.into(),
                )
            },
        )?;
        let dir = base.join(format!("allot-{}", hex::encode(random)));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(io_err(&dir, e)),
        }
    }
    let e = last_error.unwrap_or_else(|| ErrorKind::AlreadyExists.into());
    Err(io_err(&base, e))
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
    fn long_data_directories_get_a_new_private_socket_directory() {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            preferred_socket_dir(Path::new("/srv/allot")).as_deref(),
            Some(Path::new("/srv/allot/run"))
        );
        let deep = PathBuf::from(format!("/{}", "d".repeat(120)));
        assert_eq!(preferred_socket_dir(&deep), None);
        // No predictable name in the shared directory: a new one each time, made by us, 0700.
        let first = new_temporary_dir().unwrap();
        let second = new_temporary_dir().unwrap();
        assert_ne!(first, second);
        for dir in [&first, &second] {
            let meta = fs::symlink_metadata(dir).unwrap();
            assert!(meta.is_dir());
            assert_eq!(meta.mode() & 0o777, 0o700);
            assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
            assert!(dir.as_os_str().len() + 15 < 100);
            fs::remove_dir(dir).unwrap();
        }
    }

    #[test]
    fn only_named_system_users_may_connect() {
        let (hba, ident) = access_rules(&["root".into(), "postgres".into(), "root".into()]);
        let rules: Vec<&str> = hba.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rules, vec!["local all all peer map=allot"]);
        let maps: Vec<&str> = ident.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            maps,
            vec![
                "allot root postgres",
                "allot root allot_server",
                "allot postgres postgres",
                "allot postgres allot_server"
            ]
        );
        let (hba, _) = access_rules(&["alice".into()]);
        assert!(!hba.contains("trust"));
    }
}
