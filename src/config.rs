//! Settings of a running allot (not council policy, which is data per council).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ledger::ChainKey;

#[derive(Debug, Clone)]
pub struct Settings {
    /// PBKDF2 iterations for new passwords.
    pub password_iterations: u32,
    pub api_token_ttl: Duration,
    pub session_ttl: Duration,
    /// Failed sign-ins for one email within `login_window` before further attempts get 429.
    pub login_max_failures: i64,
    pub login_window: Duration,
    /// Failed sign-ins from one network address within `login_window` before further attempts
    /// from it get 429.
    pub login_max_failures_per_ip: usize,
    /// Password checks (PBKDF2, on the blocking pool) run at once; more wait their turn.
    pub login_hash_permits: usize,
    /// How long a sign-in waits for a turn to check its password before it gets 429.
    pub login_hash_wait: Duration,
    /// Mark cookies `Secure` (set when allot is served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    pub request_timeout: Duration,
    /// Largest request body accepted (413 beyond).
    pub body_limit: usize,
    /// Let webhook endpoints be private, loopback or link-local addresses (tests and closed
    /// networks only; never on a server reachable by councils' integrators).
    pub webhook_allow_private: bool,
    /// How long a card authorisation may take before the council's timeout decision answers
    /// for it (processors give up after about two seconds).
    pub card_decision_budget: Duration,
    /// The demo's sign-ins, listed on the sign-in page (only when allot runs the demo).
    pub demo_sign_ins: Option<std::sync::Arc<DemoSignIns>>,
}

/// The demo council's users with what each can try, and their shared password.
#[derive(Debug, Clone, Default)]
pub struct DemoSignIns {
    pub password: String,
    pub users: Vec<DemoUser>,
}

#[derive(Debug, Clone)]
pub struct DemoUser {
    pub role: &'static str,
    pub name: String,
    pub email: String,
    pub try_this: &'static str,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            password_iterations: crate::auth::password::DEFAULT_ITERATIONS,
            api_token_ttl: Duration::from_secs(12 * 3600),
            session_ttl: Duration::from_secs(8 * 3600),
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            login_max_failures_per_ip: 50,
            login_hash_permits: 2,
            login_hash_wait: Duration::from_secs(2),
            secure_cookies: false,
            request_timeout: Duration::from_secs(30),
            body_limit: 256 * 1024,
            webhook_allow_private: false,
            card_decision_budget: crate::cards::events::DECISION_BUDGET,
            demo_sign_ins: None,
        }
    }
}

/// Where the ledger chain's key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainKeySource {
    /// `ALLOT_CHAIN_KEY`: the key in hexadecimal.
    Hex(String),
    /// `ALLOT_CHAIN_KEY_FILE`: a file holding the key in hexadecimal.
    File(PathBuf),
    /// Neither, with the embedded PostgreSQL: `chain.key` in its data directory (beside
    /// PostgreSQL's `pgdata/`, not in it), made on first use.
    DataDir(PathBuf),
}

/// File name of the key made for an embedded PostgreSQL's data directory.
pub const CHAIN_KEY_FILE_NAME: &str = "chain.key";

impl ChainKeySource {
    /// The source given by the environment: `hex` (`ALLOT_CHAIN_KEY`) or `file`
    /// (`ALLOT_CHAIN_KEY_FILE`), not both; with neither, the embedded data directory if there is
    /// one. A server of one's own (`DATABASE_URL`) needs the key named: a key made up on one
    /// machine would leave every other process, and the auditor, unable to verify.
    pub fn choose(
        hex: Option<String>,
        file: Option<PathBuf>,
        embedded_data_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        match (
            hex.filter(|h| !h.trim().is_empty()),
            file,
            embedded_data_dir,
        ) {
            (Some(_), Some(_), _) => {
                anyhow::bail!("set ALLOT_CHAIN_KEY or ALLOT_CHAIN_KEY_FILE, not both")
            }
            (Some(hex), None, _) => Ok(Self::Hex(hex)),
            (None, Some(file), _) => Ok(Self::File(file)),
            (None, None, Some(dir)) => Ok(Self::DataDir(dir.join(CHAIN_KEY_FILE_NAME))),
            (None, None, None) => anyhow::bail!(
                "the ledger's chain key is not set: with DATABASE_URL, set ALLOT_CHAIN_KEY_FILE \
                 (a file holding the key in hexadecimal, at least 64 digits) or ALLOT_CHAIN_KEY, \
                 and keep the key outside the database (`openssl rand -hex 32` makes one)"
            ),
        }
    }

    /// Reads (or, for the data directory on first use, makes) the key.
    pub fn load(&self) -> anyhow::Result<ChainKey> {
        match self {
            Self::Hex(hex) => {
                ChainKey::from_hex(hex).map_err(|e| anyhow::anyhow!("ALLOT_CHAIN_KEY: {e}"))
            }
            Self::File(path) => read_key_file(path),
            Self::DataDir(path) => match read_key_file(path) {
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    make_key_file(path)
                }
                result => {
                    refuse_if_others_can_read(path)?;
                    result
                }
            },
        }
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<ChainKey> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the chain key {}", path.display()))?;
    ChainKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn refuse_if_others_can_read(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{} can be read by others (mode {:o}): `chmod 600` it",
            path.display(),
            mode & 0o777
        );
    }
    Ok(())
}

/// Makes a new key file readable by its owner only. Written under another name and then linked
/// into place, so that two processes starting together end up with one key, and none ever
/// reads a half-written file.
fn make_key_file(path: &Path) -> anyhow::Result<ChainKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .ok_or_else(|| anyhow::anyhow!("{}: no directory", path.display()))?;
    std::fs::create_dir_all(dir)?;
    let (key, hex) =
        ChainKey::generate().map_err(|_| anyhow::anyhow!("no random numbers for a chain key"))?;
    let temporary = dir.join(format!(".{CHAIN_KEY_FILE_NAME}.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(format!("{hex}\n").as_bytes())?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&temporary, path);
    std::fs::remove_file(&temporary)?;
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), key = key.id(), "made a new ledger chain key");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_source_is_named_once() {
        let dir = Path::new("/data");
        assert!(ChainKeySource::choose(Some("ab".into()), Some("/k".into()), None).is_err());
        assert!(ChainKeySource::choose(None, None, None).is_err());
        assert_eq!(
            ChainKeySource::choose(Some("ab".into()), None, Some(dir)).unwrap(),
            ChainKeySource::Hex("ab".into())
        );
        assert_eq!(
            ChainKeySource::choose(None, Some("/k".into()), Some(dir)).unwrap(),
            ChainKeySource::File("/k".into())
        );
        assert_eq!(
            ChainKeySource::choose(Some(" ".into()), None, Some(dir)).unwrap(),
            ChainKeySource::DataDir("/data/chain.key".into())
        );
    }

    #[test]
    fn a_data_directory_key_is_made_once_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let source = ChainKeySource::DataDir(dir.path().join("sub").join(CHAIN_KEY_FILE_NAME));
        let first = source.load().unwrap();
        let second = source.load().unwrap();
        assert_eq!(first.id(), second.id());
        let path = dir.path().join("sub").join(CHAIN_KEY_FILE_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(source.load().is_err());
        let file = ChainKeySource::File(path.clone());
        assert_eq!(file.load().unwrap().id(), first.id());
        assert!(ChainKeySource::Hex("12".into()).load().is_err());
    }
}
