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
