//! The `allot` binary on the embedded PostgreSQL: it starts the server, serves, and on Ctrl-C
//! (SIGINT) or SIGTERM stops PostgreSQL too; `council create` reads the password from stdin.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn allot(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_allot"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("ALLOT_CHAIN_KEY")
        .env_remove("ALLOT_CHAIN_KEY_FILE")
        .arg("--data-dir")
        .arg(data_dir);
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn wait_for_page(port: u16, child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(response) = http_get(port, "/login") {
            return response;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("allot exited early: {status}");
        }
        assert!(Instant::now() < deadline, "allot did not start serving");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "allot did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn postgres_running(data_dir: &Path) -> bool {
    data_dir.join("pgdata/postmaster.pid").exists()
}

fn serve_and_stop(signal: Signal) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = allot(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let page = wait_for_page(port, &mut child);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<h1>Sign in</h1>"));
    assert!(postgres_running(dir.path()));
    // Unix socket only: no TCP listener.
    let conf = std::fs::read_to_string(dir.path().join("pgdata/postmaster.opts")).unwrap();
    assert!(conf.contains("listen_addresses="), "{conf}");

    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = wait_for_exit(&mut child);
    assert!(status.success(), "{status}");
    assert!(
        !postgres_running(dir.path()),
        "PostgreSQL left running after {signal}"
    );
}

#[test]
fn ctrl_c_stops_allot_and_its_postgres() {
    serve_and_stop(Signal::SIGINT);
}

#[test]
fn sigterm_stops_allot_and_its_postgres() {
    serve_and_stop(Signal::SIGTERM);
}

#[test]
fn migrate_and_council_create_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = allot(dir.path()).arg("migrate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !postgres_running(dir.path()),
        "migrate leaves nothing running"
    );

    let mut child = allot(dir.path())
        .args([
            "council",
            "create",
            "--name",
            "Felpersham City Council",
            "--admin-email",
            "admin@felpersham.example",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a sufficiently long password\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("admin@felpersham.example"));

    // The chain key is made on first use beside PostgreSQL's files, for its owner only, and kept:
    // the signed head of the unchanged ledger is the same line each time, under that key.
    let heads: Vec<String> = (0..2)
        .map(|_| {
            let output = allot(dir.path())
                .args(["audit", "verify", "--head"])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap()
        })
        .collect();
    assert_eq!(heads[0], heads[1]);
    let key_path = dir.path().join("chain.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(dir.path().join("pgdata/PG_VERSION").exists());
    let key =
        allot::ledger::ChainKey::from_hex(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let head: allot::ledger::SignedHead = heads[0].trim().parse().unwrap();
    assert!(head.verifies(&key), "{}", heads[0]);
    assert_eq!(head.position, 0);

    let mut short = allot(dir.path())
        .args([
            "council",
            "create",
            "--name",
            "X",
            "--admin-email",
            "x@x.example",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    short.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let output = short.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 12"));
}

/// A directory only its owner may enter, as a fresh `git clone` in root's home is.
fn private_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// The binary run from `cwd` with no data directory or database given.
fn allot_in(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_allot"));
    command
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("ALLOT_DATA_DIR")
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1");
    command
}

/// Removes a data directory allot chose for itself when the test ends.
struct RemoveOnDrop(Option<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The data directory named in allot's note about where it keeps the database, if any.
fn chosen_data_dir(output: &str) -> Option<std::path::PathBuf> {
    let start = output.find("/var/lib/allot/")?;
    let rest = &output[start + "/var/lib/allot/".len()..];
    let name: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    (!name.is_empty()).then(|| Path::new("/var/lib/allot").join(name))
}

#[test]
fn first_run_in_a_private_directory_just_works() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let project = private_dir();
    let first = allot_in(project.path()).arg("migrate").output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    let chosen = RemoveOnDrop(chosen_data_dir(&said));
    assert!(first.status.success(), "{said}");
    assert!(!said.contains("acktrace"), "{said}");
    let data_dir = if nix::unistd::geteuid().is_root() {
        // PostgreSQL runs as `postgres`, which cannot enter the project: allot keeps the data
        // where it can, and says where.
        let dir = chosen
            .0
            .clone()
            .unwrap_or_else(|| panic!("no data directory named: {said}"));
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o700,
            "{}",
            dir.display()
        );
        let postgres = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        assert_eq!(meta.uid(), postgres.uid.as_raw());
        // The same project gets the same directory the next time.
        let again = allot_in(project.path()).arg("migrate").output().unwrap();
        let said_again = String::from_utf8_lossy(&again.stderr).to_string();
        assert!(again.status.success(), "{said_again}");
        assert_eq!(chosen_data_dir(&said_again).as_ref(), Some(&dir));
        dir
    } else {
        project.path().join(".allot")
    };
    // Only the owner may reach the socket; no local user is trusted without a check.
    let socket_dir = data_dir.join("run");
    let mode = std::fs::metadata(&socket_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{}", socket_dir.display());
    let hba = std::fs::read_to_string(data_dir.join("pgdata/pg_hba.conf")).unwrap();
    let rules: Vec<&str> = hba
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(!rules.is_empty(), "{hba}");
    assert!(rules.iter().all(|l| !l.contains("trust")), "{hba}");
    let conf = std::fs::read_to_string(data_dir.join("pgdata/postmaster.opts")).unwrap();
    assert!(conf.contains("unix_socket_permissions=0700"), "{conf}");
}

#[test]
fn errors_are_one_sentence_without_a_backtrace() {
    let project = private_dir();
    let port = free_port();
    let output = allot_in(project.path())
        .env(
            "DATABASE_URL",
            format!("postgres://allot@127.0.0.1:{port}/allot"),
        )
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Error: "), "{stderr}");
    assert!(!stderr.contains("acktrace"), "{stderr}");
    assert!(!stderr.contains("src/"), "{stderr}");

    if nix::unistd::geteuid().is_root() {
        // A data directory given explicitly that PostgreSQL's user cannot reach: say what to do.
        let output = allot_in(project.path())
            .args(["--data-dir", "inside/db", "migrate"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("postgres"), "{stderr}");
        assert!(stderr.contains("--data-dir"), "{stderr}");
        assert!(!stderr.contains("acktrace"), "{stderr}");
        assert!(!project.path().join("inside/db/pgdata").exists());
    }
}
