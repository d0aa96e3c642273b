//! Opaque secrets (API tokens, session cookies, CSRF tokens): 256 random bits, URL-safe base64.
//! Only their SHA-256 is stored, so a copy of the database does not let anyone sign in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

/// A fresh random secret.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        // Without a working random source no secret can be issued safely; stop rather than guess.
        .expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a secret.
pub fn hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes())
        .as_ref()
        .to_vec()
}

/// Compares two secrets (CSRF tokens) by their SHA-256: the time taken can only reveal how much
/// of a hash matches, which tells an attacker nothing about the secret itself.
pub fn same(a: &str, b: &str) -> bool {
    hash(a) == hash(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = super::generate();
        let b = super::generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(super::hash(&a).len(), 32);
        assert!(super::same(&a, &a.clone()));
        assert!(!super::same(&a, &b));
    }
}
