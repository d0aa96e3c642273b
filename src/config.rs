//! Settings of a running allot (not council policy, which is data per council).

use std::time::Duration;

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
        }
    }
}
