//! The `allot` binary's user errors: one `Error:` line and one `Hint:` line on standard error,
//! never a backtrace or a Debug dump, even with RUST_BACKTRACE set.

use std::net::TcpListener;
use std::process::{Command, Output};

fn allot(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allot"))
        .env("DATABASE_URL", database_url)
        .env("RUST_BACKTRACE", "1")
        .env_remove("ALLOT_TOKEN")
        .env_remove("ALLOT_CHAIN_KEY")
        .env_remove("ALLOT_CHAIN_KEY_FILE")
        .args(args)
        .output()
        .unwrap()
}

/// A URL where nothing listens.
fn nowhere() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://allot@127.0.0.1:{port}/allot")
}

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn no_dump(stderr: &[String]) {
    let all = stderr.join("\n");
    for leak in ["acktrace", "src/", "Os {", "kind:", "panicked", "stack"] {
        assert!(!all.contains(leak), "{leak} in {all}");
    }
}

#[test]
fn an_unknown_file_is_one_line_and_a_hint() {
    let missing = "/nonexistent/invoices.csv";
    let output = allot(&["import", "invoices", missing], &nowhere());
    assert_eq!(output.status.code(), Some(1));
    let stderr = lines(&output);
    assert_eq!(stderr.len(), 2, "{stderr:?}");
    assert!(
        stderr[0].starts_with(&format!("Error: reading {missing}")),
        "{stderr:?}"
    );
    assert!(
        stderr[1].starts_with("Hint: check the file's path"),
        "{stderr:?}"
    );
    no_dump(&stderr);

    let output = allot(
        &[
            "import",
            "statement",
            missing,
            "--account",
            "5d6c1f5e-0000-4000-8000-000000000000",
        ],
        &nowhere(),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = lines(&output);
    assert!(stderr[0].starts_with("Error: reading"), "{stderr:?}");
    assert!(stderr[1].starts_with("Hint: "), "{stderr:?}");
    no_dump(&stderr);
}

#[test]
fn a_bad_argument_says_what_to_run() {
    let output = allot(&["frobnicate"], &nowhere());
    assert_eq!(output.status.code(), Some(2));
    let stderr = lines(&output).join("\n");
    assert!(
        stderr.contains("unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
    assert!(stderr.contains("--help"), "{stderr}");
    no_dump(&lines(&output));

    let output = allot(
        &["import", "statement", "x.csv", "--account", "not-an-id"],
        &nowhere(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = lines(&output).join("\n");
    assert!(stderr.contains("--account"), "{stderr}");
    no_dump(&lines(&output));
}

#[test]
fn a_database_that_does_not_answer_hints_at_database_url() {
    let output = allot(&["migrate"], &nowhere());
    assert_eq!(output.status.code(), Some(1));
    let stderr = lines(&output);
    let error = stderr
        .iter()
        .find(|l| l.starts_with("Error: "))
        .expect("an error line");
    let hint = stderr
        .iter()
        .find(|l| l.starts_with("Hint: "))
        .expect("a hint line");
    assert!(hint.contains("DATABASE_URL"), "{error} / {hint}");
    no_dump(&stderr);
}
