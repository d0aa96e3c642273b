//! The `allot` command: serve, demo, migrate, council create, import invoices and statements,
//! directory import, audit verify. Thin: each command opens the database and calls into the library. A failure is
//! printed as one `Error: ...` line (with its causes) and a `Hint: ...` line saying what to try,
//! with exit status 1, never as a backtrace. Long work (opening the database and applying its
//! migrations, imports, `audit verify`) draws a progress bar on standard error, hidden when that
//! is not a terminal.
//!
//! The ledger chain's key never goes on the command line (where `ps` shows it): it comes from
//! `ALLOT_CHAIN_KEY_FILE`, `ALLOT_CHAIN_KEY`, or for the embedded PostgreSQL the data directory.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use allot::auth::sessions::TokenKind;
use allot::config::{ChainKeySource, Settings};
use allot::db::{Database, DbTarget};
use allot::http::error::ApiError;
use allot::ledger::ChainKey;
use allot::AppState;

#[derive(Parser)]
#[command(
    name = "allot",
    version,
    about = "Double-entry ledger for UK social-care personal budgets"
)]
struct Cli {
    /// PostgreSQL server to use; without it allot runs an embedded PostgreSQL in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// With DATABASE_URL: the login role `serve` and `demo` answer requests as (`allot_server`,
    /// which owns nothing); DATABASE_URL's user (the schema owner) then only runs migrations.
    #[arg(
        long,
        env = "ALLOT_APP_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    app_database_url: Option<String>,
    /// Data directory of the embedded PostgreSQL [default: .allot; as root, a directory under
    /// /var/lib/allot when the postgres user cannot reach .allot].
    #[arg(long, env = "ALLOT_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// File holding the ledger chain's key in hexadecimal (else `ALLOT_CHAIN_KEY`, or with the
    /// embedded PostgreSQL `chain.key` in --data-dir, made on first use).
    #[arg(long, env = "ALLOT_CHAIN_KEY_FILE", global = true)]
    chain_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the admin pages.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Mark cookies Secure (when allot is reached over HTTPS).
        #[arg(long, env = "ALLOT_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Let webhook endpoints be private, loopback or link-local addresses (closed networks
        /// only).
        #[arg(long, env = "ALLOT_WEBHOOK_ALLOW_PRIVATE")]
        webhook_allow_private: bool,
    },
    /// Serve with the demo council loaded into a fresh database.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage councils.
    Council {
        #[command(subcommand)]
        command: CouncilCommand,
    },
    /// Import files (the API token of the user they are recorded by in `ALLOT_TOKEN`, as
    /// `POST /api/v1/auth/token` gives it).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The service directory (Open Referral UK).
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Manage card processors.
    Processor {
        #[command(subcommand)]
        command: ProcessorCommand,
    },
    /// Check the ledger.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every council's hash chain and account totals; exit non-zero if any is wrong.
    Verify {
        /// Print only each council's signed head (position and hash of the newest link, with an
        /// HMAC over them), one line per council, the same for an unchanged ledger: keep it
        /// somewhere the database's users cannot write.
        #[arg(long)]
        head: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Record invoices from a CSV file, one row per invoice line (the columns of
    /// `POST /api/v1/invoices/import`): all or nothing unless --partial.
    Invoices {
        file: PathBuf,
        /// Record the invoices that can be and report the others.
        #[arg(long)]
        partial: bool,
    },
    /// Import a bank statement of a client account (`POST /api/v1/accounts/{id}/bank-statements`):
    /// camt.053 when the file is XML, else a bank's CSV export, and match its lines.
    Statement {
        file: PathBuf,
        /// The client account (ledger account id).
        #[arg(long)]
        account: uuid::Uuid,
        /// The CSV layout: barclays, lloyds or natwest (default: told from the header row).
        #[arg(long)]
        layout: Option<String>,
        /// The opening balance, for a CSV without a balance column (Barclays).
        #[arg(long, allow_hyphen_values = true)]
        opening_balance: Option<String>,
        /// The closing balance, for a CSV without a balance column.
        #[arg(long, allow_hyphen_values = true)]
        closing_balance: Option<String>,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Import the council's service directory from an Open Referral UK feed (3.0, or 1.0) or a
    /// saved JSON file, as the council administrator whose API token is in `ALLOT_TOKEN`:
    /// services are upserted by id, those gone from the feed become inactive, all in one
    /// transaction (a malformed page changes nothing).
    Import {
        /// The feed's address: its `/services` list hangs from it.
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        url: Option<String>,
        /// A saved JSON file: a page of full services, a list of services or one service.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ProcessorCommand {
    /// Register a card processor and print its Standard Webhooks secret (`whsec_...`) once: it
    /// signs the processor's events to `POST /api/v1/card-events`. It is not shown again.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum CouncilCommand {
    /// Create a council and its administrator (password read from standard input).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` is the message and its causes on one line; `Debug` (what returning the
            // error from main prints) would add a backtrace when RUST_BACKTRACE is set.
            eprintln!("Error: {e:#}");
            eprintln!("Hint: {}", hint(&e));
            ExitCode::FAILURE
        }
    }
}

/// What to try after an error, from what kind of error it is.
fn hint(e: &anyhow::Error) -> &'static str {
    let text = format!("{e:#}");
    if let Some(io) = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
        if text.starts_with("reading ") {
            return match io.kind() {
                std::io::ErrorKind::NotFound => {
                    "check the file's path (relative paths start from the current directory)"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "the file is not readable by this user; check its permissions"
                }
                _ => "check that the path names a readable file",
            };
        }
    }
    if text.contains("ALLOT_TOKEN") {
        "get an API token with POST /api/v1/auth/token and set ALLOT_TOKEN to it"
    } else if text.contains("chain key") || text.contains("ALLOT_CHAIN_KEY") {
        "set ALLOT_CHAIN_KEY_FILE to a file holding the key (openssl rand -hex 32 makes one)"
    } else if e
        .chain()
        .any(|c| c.downcast_ref::<tokio_postgres::Error>().is_some())
        || text.contains("connect")
    {
        "check DATABASE_URL (or leave it unset to use the embedded PostgreSQL) and that the server is running"
    } else {
        "run `allot --help`, or `allot <command> --help`, for the commands and their options"
    }
}

/// A spinner on standard error while `work` runs (hidden when standard error is not a terminal).
async fn with_spinner<T>(
    message: &'static str,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let done = work.await;
    spinner.finish_and_clear();
    done
}

/// Opens the database (starting the embedded server if needed) and applies pending migrations,
/// with a spinner.
async fn open_database(target: &DbTarget, pool_size: usize) -> anyhow::Result<Database> {
    with_spinner(
        "Opening the database and applying pending migrations",
        Database::open(target, pool_size),
    )
    .await
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ALLOT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let target = match &cli.database_url {
        Some(url) => DbTarget::Url(url.clone()),
        None => {
            let resolved = allot::db::data_dir::resolve(cli.data_dir.as_deref())?;
            if let Some(note) = &resolved.note {
                eprintln!("{note}");
            }
            DbTarget::Embedded(resolved.dir)
        }
    };
    // Only the commands that seal or verify the chain need its key.
    let chain_key = || -> anyhow::Result<ChainKey> {
        let embedded = match &target {
            DbTarget::Embedded(dir) => Some(dir.as_path()),
            DbTarget::Url(_) => None,
        };
        let key = ChainKeySource::choose(
            std::env::var("ALLOT_CHAIN_KEY").ok(),
            cli.chain_key_file.clone(),
            embedded,
        )?
        .load()?;
        tracing::info!(key = key.id(), "ledger chain key loaded");
        Ok(key)
    };
    match cli.command {
        Command::Serve {
            addr,
            secure_cookies,
            webhook_allow_private,
        } => {
            let key = chain_key()?;
            let database = open_database(&target, 16).await?;
            let settings = Settings {
                secure_cookies,
                webhook_allow_private,
                ..Settings::default()
            };
            serve(
                database,
                cli.app_database_url.as_deref(),
                settings,
                key,
                addr,
            )
            .await
        }
        Command::Demo { addr } => {
            let key = chain_key()?;
            let database = allot::demo::open_fresh(&target, 16).await?;
            let mut settings = Settings::default();
            let now = allot::clock::Clock::system().now();
            let signins =
                allot::demo::load(&database.pool, settings.password_iterations, now).await?;
            println!("{}", allot::demo::describe(&signins, addr));
            settings.demo_sign_ins = Some(std::sync::Arc::new(allot::demo::sign_ins(&signins)));
            serve(
                database,
                cli.app_database_url.as_deref(),
                settings,
                key,
                addr,
            )
            .await
        }
        Command::Migrate => {
            let database = open_database(&target, 2).await?;
            drop(database);
            println!("Migrations are up to date.");
            Ok(())
        }
        Command::Council {
            command: CouncilCommand::Create { name, admin_email },
        } => {
            let password = read_password()?;
            let database = open_database(&target, 2).await?;
            let (council_id, admin_id) = allot::auth::councils::create(
                &database.pool,
                &name,
                &admin_email,
                &password,
                Settings::default().password_iterations,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Created council {council_id} with administrator {admin_id} ({admin_email}).");
            Ok(())
        }
        Command::Import {
            command: ImportCommand::Invoices { file, partial },
        } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let database = open_database(&target, 2).await?;
            let pool = database.serving_pool(cli.app_database_url.as_deref(), 2)?;
            let actor = import_actor(&pool).await?;
            import_invoices(&pool, &actor, &csv, partial).await
        }
        Command::Import {
            command:
                ImportCommand::Statement {
                    file,
                    account,
                    layout,
                    opening_balance,
                    closing_balance,
                },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let source = statement_source(
                &bytes,
                layout.as_deref(),
                opening_balance.as_deref(),
                closing_balance.as_deref(),
            )?;
            let database = open_database(&target, 2).await?;
            let pool = database.serving_pool(cli.app_database_url.as_deref(), 2)?;
            let actor = import_actor(&pool).await?;
            import_statement(&pool, &actor, account, &bytes, &source).await
        }
        Command::Directory {
            command: DirectoryCommand::Import { url, file },
        } => {
            let database = open_database(&target, 2).await?;
            let pool = database.serving_pool(cli.app_database_url.as_deref(), 2)?;
            let actor = import_actor(&pool).await?;
            allot::directory::import::require_importer(&actor)
                .map_err(|_| anyhow::anyhow!("ALLOT_TOKEN must be a council administrator's"))?;
            import_directory(&pool, &actor, url.as_deref(), file.as_deref()).await
        }
        Command::Processor {
            command: ProcessorCommand::Create { name },
        } => {
            let database = open_database(&target, 2).await?;
            let created = allot::cards::processors::create(&database.pool, &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "Created card processor {} ({}).\nIts webhook secret (shown once; give it to the processor):\n{}",
                created.name, created.id, created.secret
            );
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { head },
        } => {
            let key = chain_key()?;
            let database = open_database(&target, 2).await?;
            audit_verify(&database, &key, head).await
        }
    }
}

/// Prints the verification report of every council (with `head`, only each council's signed
/// head); an error (exit status 1) if any fails.
async fn audit_verify(database: &Database, key: &ChainKey, head: bool) -> anyhow::Result<()> {
    let councils = allot::ledger::maintenance::council_ids(&database.pool).await?;
    let mut failed = 0;
    let bar = ProgressBar::new(councils.len() as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} councils ({elapsed})")
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    bar.set_message("Verifying");
    for council_id in &councils {
        let report = allot::ledger::verify(&database.pool, *council_id, key).await;
        bar.inc(1);
        let report = match report {
            Ok(report) => report,
            Err(e) => {
                bar.finish_and_clear();
                return Err(e.into());
            }
        };
        // Lines go to standard output with the bar (on standard error) lifted out of the way.
        let line = if let (true, Some(signed)) = (head, &report.signed_head) {
            signed.to_string()
        } else if report.ok {
            format!(
                "council {council_id}: ok, {} entries checked ({} not yet sealed); head {} {}",
                report.entries_checked, report.unsealed, report.head_position, report.head_hash
            )
        } else {
            failed += 1;
            format!(
                "council {council_id}: NOT OK: {}; first bad entry {}; first bad account {}",
                report.problem.as_deref().unwrap_or("unknown problem"),
                report
                    .first_bad_entry
                    .map_or("none".into(), |id| id.to_string()),
                report
                    .first_bad_account
                    .map_or("none".into(), |id| id.to_string()),
            )
        };
        // The line goes to standard output with the bar (on standard error) lifted out of the way.
        bar.suspend(|| println!("{line}"));
    }
    bar.finish_and_clear();
    if failed > 0 {
        anyhow::bail!(
            "the ledger of {failed} of {} council(s) failed verification",
            councils.len()
        );
    }
    if !head {
        println!("{} council(s) verified.", councils.len());
    }
    Ok(())
}

/// The user an import is recorded by: the holder of the API token in `ALLOT_TOKEN`.
async fn import_actor(pool: &allot::db::DbPool) -> anyhow::Result<allot::auth::Actor> {
    let token = std::env::var("ALLOT_TOKEN").unwrap_or_default();
    if token.trim().is_empty() {
        anyhow::bail!(
            "set ALLOT_TOKEN to the API token of the user the import is recorded by \
             (POST /api/v1/auth/token gives one)"
        );
    }
    let found = allot::auth::sessions::find(pool, token.trim(), TokenKind::Api)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some((actor, _)) = found else {
        anyhow::bail!("ALLOT_TOKEN is not a valid API token (it may have expired)");
    };
    Ok(actor)
}

/// Imports a CSV file of invoices with a progress bar, then prints what became of each invoice.
async fn import_invoices(
    pool: &allot::db::DbPool,
    actor: &allot::auth::Actor,
    csv: &[u8],
    partial: bool,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} invoices")
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    bar.set_message("Importing");
    let shown = bar.clone();
    let progress: allot::providers::invoice_import::Progress = Arc::new(move |done, total| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    });
    let now = allot::clock::Clock::system().now();
    let imported =
        allot::providers::invoice_import::import(pool, actor, csv, partial, now, progress).await;
    bar.finish_and_clear();
    let report = match imported {
        Ok(report) => report,
        Err(e) => {
            let refusal = ApiError::from(e);
            for detail in &refusal.details {
                eprintln!("{}", describe_detail(detail));
            }
            anyhow::bail!("{} ({})", refusal.message, refusal.code);
        }
    };
    for invoice in &report.invoices {
        let rows = invoice
            .rows
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let number = invoice.invoice_number.as_deref().unwrap_or("?");
        match &invoice.result {
            Ok(recorded) => println!("rows {rows}: invoice {number} recorded as {}", recorded.id),
            Err(e) => println!("rows {rows}: invoice {number} refused: {e}"),
        }
    }
    println!(
        "{} invoice(s) recorded from {} row(s); {} invoice(s) refused.",
        report.imported().count(),
        report.rows,
        report.refused().count()
    );
    Ok(())
}

/// How to read a statement file: camt.053 when it is XML, else CSV with the options given.
fn statement_source(
    bytes: &[u8],
    layout: Option<&str>,
    opening: Option<&str>,
    closing: Option<&str>,
) -> anyhow::Result<allot::reconcile::statements::Source> {
    use allot::reconcile::{bank_csv, statements::Source};
    if bank_csv::looks_like_xml(bytes) {
        if layout.is_some() || opening.is_some() || closing.is_some() {
            anyhow::bail!("--layout and the balances are for CSV statements, not camt.053");
        }
        return Ok(Source::Camt053);
    }
    let layout = layout
        .map(|name| {
            bank_csv::Layout::parse(name)
                .ok_or_else(|| anyhow::anyhow!("--layout: one of barclays, lloyds, natwest"))
        })
        .transpose()?;
    let balance = |value: Option<&str>, name: &str| {
        value
            .map(|v| bank_csv::amount(v).map_err(|m| anyhow::anyhow!("--{name}: {m}")))
            .transpose()
    };
    Ok(Source::Csv(Box::new(bank_csv::Options {
        layout,
        mapping: None,
        opening_balance: balance(opening, "opening-balance")?,
        closing_balance: balance(closing, "closing-balance")?,
    })))
}

/// Imports a bank statement with a progress bar, then prints its reconciliation.
async fn import_statement(
    pool: &allot::db::DbPool,
    actor: &allot::auth::Actor,
    account: uuid::Uuid,
    bytes: &[u8],
    source: &allot::reconcile::statements::Source,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} lines")
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    bar.set_message("Importing");
    let shown = bar.clone();
    let progress: allot::reconcile::statements::Progress = Arc::new(move |done, total| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    });
    let now = allot::clock::Clock::system().now();
    let imported = allot::reconcile::statements::import_from(
        pool, actor, account, bytes, source, now, progress,
    )
    .await;
    bar.finish_and_clear();
    let view = match imported {
        Ok(view) => view,
        Err(e) => {
            let refusal = ApiError::from(e);
            for detail in &refusal.details {
                eprintln!("{}", describe_detail(detail));
            }
            anyhow::bail!("{} ({})", refusal.message, refusal.code);
        }
    };
    for line in &view.lines {
        let how = line.matched_by.as_deref().unwrap_or("unmatched");
        println!(
            "line {}: {} {} on {}: {how}",
            line.line_no, line.direction, line.amount, line.booked_on
        );
    }
    println!(
        "Statement {} ({}) imported as {}: {} line(s) matched, {} unmatched; closing balance {}, \
         ledger {}, difference {} ({} unexplained).",
        view.statement_ref,
        view.format,
        view.id,
        view.matched,
        view.unmatched,
        view.closing_balance,
        view.ledger_balance,
        view.difference,
        view.unexplained
    );
    Ok(())
}

/// Reads the feed (or file) with a progress bar, then stores it in one transaction.
async fn import_directory(
    pool: &allot::db::DbPool,
    actor: &allot::auth::Actor,
    url: Option<&str>,
    file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} services")
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> "),
    );
    let services = match (url, file) {
        (Some(url), _) => {
            bar.set_message("Reading");
            let shown = bar.clone();
            let progress = move |done: usize, total: usize| {
                shown.set_length(total as u64);
                shown.set_position(done as u64);
            };
            allot::directory::feed::fetch(url, &progress).await
        }
        (None, Some(file)) => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            allot::directory::feed::read_file(&bytes, &file.display().to_string())
        }
        (None, None) => anyhow::bail!("give --url or --file"),
    };
    let services = match services {
        Ok(services) => services,
        Err(e) => {
            bar.finish_and_clear();
            anyhow::bail!("the import stopped and changed nothing: {e}");
        }
    };
    bar.set_message("Storing");
    let shown = bar.clone();
    let progress: allot::directory::import::StoreProgress = Arc::new(move |done, total| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    });
    let now = allot::clock::Clock::system().now();
    let stored =
        allot::directory::import::store(pool, actor, Arc::new(services), now, progress).await;
    bar.finish_and_clear();
    let report = stored.map_err(|e| {
        let refusal = ApiError::from(e);
        anyhow::anyhow!(
            "the import stopped and changed nothing: {} ({})",
            refusal.message,
            refusal.code
        )
    })?;
    println!(
        "{} service(s) added, {} changed, {} unchanged, {} gone from the feed made inactive.",
        report.added, report.changed, report.unchanged, report.withdrawn
    );
    Ok(())
}

fn describe_detail(detail: &allot::error::Detail) -> String {
    let mut parts = Vec::new();
    if let Some(row) = detail.row {
        parts.push(format!("row {row}"));
    }
    if let Some(field) = &detail.field {
        parts.push(field.clone());
    }
    let place = parts.join(", ");
    let code = detail
        .code
        .as_deref()
        .or(detail.rule.as_deref())
        .unwrap_or("");
    format!("{place}: {} [{code}]", detail.message)
}

/// The administrator's password: one line from standard input (prompted when it is a terminal).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Administrator password (at least 12 characters): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    allot::auth::password::check_policy(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    Ok(password)
}

async fn serve(
    database: Database,
    app_url: Option<&str>,
    settings: Settings,
    chain_key: ChainKey,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    // Requests are answered as the serving role; the owner's pool only ran the migrations.
    let serving = database.serving_pool(app_url, 16)?;
    let state = AppState::new(serving.clone(), settings).with_chain_key(chain_key);
    // Webhook secrets of endpoints made before they were sealed are sealed now.
    let sealer = allot::webhooks::secrets::SecretSealer::new(&state.chain_key);
    let sealed = allot::webhooks::secrets::seal_existing(&serving, &sealer).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed webhook secrets kept in clear");
    }
    // Ctrl-C and SIGTERM are caught from before the first connection is accepted: a signal sent
    // as soon as allot answers stops it gracefully, never by the default action.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!("allot listening on http://{addr}");
    // Seals posted entries into the hash chain and expires due holds, about once a second.
    // Then, about once an hour, purges evidence past the councils' retention.
    let upkeep = allot::ledger::maintenance::spawn_with(
        serving.clone(),
        state.clock.clone(),
        state.chain_key.clone(),
        Duration::from_secs(1),
        vec![allot::evidence::retention::job(state.evidence.clone())],
    );
    // Charges managed-account providers' monthly fees, once per client account and month.
    let fees = allot::providers::fees::spawn(
        serving.clone(),
        state.payments.clone(),
        state.clock.clone(),
        Duration::from_secs(60),
    );
    // Sends the webhooks due, about once a second.
    let webhooks = allot::webhooks::deliver::spawn(
        serving.clone(),
        state.clock.clone(),
        allot::webhooks::deliver::Options {
            allow_private: state.settings.webhook_allow_private,
            sealer: sealer.clone(),
            ..Default::default()
        },
        Duration::from_secs(1),
    );
    // The peer address feeds the per-address sign-in limit.
    let app = allot::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    fees.abort();
    webhooks.abort();
    served?;
    tracing::info!("shutting down");
    serving.close();
    database.pool.close();
    drop(database);
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish requests in flight, then stop PostgreSQL if ours.
/// The handlers are installed here, when called, not when the future is first polled (axum polls
/// it on a task of its own, which may start after the first request has been answered).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("catching Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("catching SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}
