//! Password hashing: PBKDF2-HMAC-SHA256 (ring), a random 16-byte salt per user, and the
//! iteration count stored beside the hash so it can be raised for new passwords later.

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, pbkdf2};

/// Iterations for new passwords (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// The fewest iterations the database accepts for a stored password.
pub const MIN_ITERATIONS: u32 = 100_000;
const SALT_LEN: usize = 16;
pub const HASH_LEN: usize = digest::SHA256_OUTPUT_LEN;

/// A stored password: what `users.password_*` hold.
#[derive(Clone)]
pub struct PasswordHash {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    // Never print the hash or the salt, even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHash(pbkdf2-sha256, {} iterations)",
            self.iterations
        )
    }
}

/// Why a new password is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordPolicyError {
    #[error("passwords must be at least 12 characters long")]
    TooShort,
    #[error("passwords may be at most 256 characters long")]
    TooLong,
}

/// Length rules only (NCSC guidance: long passphrases, no composition rules).
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let chars = password.chars().count();
    if chars < 12 {
        Err(PasswordPolicyError::TooShort)
    } else if chars > 256 {
        Err(PasswordPolicyError::TooLong)
    } else {
        Ok(())
    }
}

/// Hashes a password with a fresh salt.
pub fn hash(password: &str, iterations: u32) -> PasswordHash {
    let iterations = iterations.max(MIN_ITERATIONS);
    let mut salt = vec![0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        // The system random source failing means the machine cannot do cryptography at all.
        .expect("the operating system's random number generator failed");
    let mut out = vec![0u8; HASH_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        nonzero(iterations),
        &salt,
        password.as_bytes(),
        &mut out,
    );
    PasswordHash {
        iterations,
        salt,
        hash: out,
    }
}

/// Checks a password against a stored hash in constant time.
pub fn verify(password: &str, stored: &PasswordHash) -> bool {
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        nonzero(stored.iterations),
        &stored.salt,
        password.as_bytes(),
        &stored.hash,
    )
    .is_ok()
}

/// Spends the same time as a real check, so unknown emails cannot be told from wrong passwords.
pub fn verify_dummy(password: &str, iterations: u32) {
    let dummy = PasswordHash {
        iterations,
        salt: vec![0; SALT_LEN],
        hash: vec![0; HASH_LEN],
    };
    let _ = verify(password, &dummy);
}

fn nonzero(iterations: u32) -> NonZeroU32 {
    NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_salted() {
        let a = hash("correct horse battery staple", MIN_ITERATIONS);
        let b = hash("correct horse battery staple", MIN_ITERATIONS);
        assert!(verify("correct horse battery staple", &a));
        assert!(!verify("correct horse battery stapler", &a));
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
        assert_eq!(a.hash.len(), 32);
    }

    #[test]
    fn iterations_are_part_of_the_hash() {
        let mut h = hash("correct horse battery staple", MIN_ITERATIONS);
        h.iterations += 1;
        assert!(!verify("correct horse battery staple", &h));
    }

    #[test]
    fn policy() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert!(check_policy("twelve chars").is_ok());
        assert_eq!(
            check_policy(&"x".repeat(257)),
            Err(PasswordPolicyError::TooLong)
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let h = hash("correct horse battery staple", MIN_ITERATIONS);
        let shown = format!("{h:?}");
        assert!(!shown.contains(&hex::encode(&h.hash)));
    }
}
