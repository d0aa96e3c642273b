//! The chain's key. Links are HMAC-SHA256 under a key that is never stored in the database, so
//! someone able to write the tables (the schema owner, a superuser, a restored backup) cannot
//! recompute the chain after editing history. Where the key comes from is the caller's business
//! ([`crate::config::load_chain_key`]); this is only the key and what is done with it.

use ring::{hkdf, hmac};

/// Fewest bytes a key may have: as many as the HMAC's output.
pub const MIN_KEY_BYTES: usize = 32;

/// What is wrong with a key that was given.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the chain key must be hexadecimal")]
    NotHex,
    #[error("the chain key must be at least {MIN_KEY_BYTES} bytes ({} hex digits)", MIN_KEY_BYTES * 2)]
    TooShort,
}

/// The key the chain's links and signed heads are computed with.
#[derive(Clone)]
pub struct ChainKey {
    key: hmac::Key,
    /// HKDF-SHA256's pseudorandom key from the chain key: other keys are derived from it (never
    /// the chain key itself), one per purpose.
    prk: hkdf::Prk,
    id: String,
}

impl ChainKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let tag = hmac::sign(&key, b"allot-chain-key-id\0");
        Ok(Self {
            id: hex::encode(&tag.as_ref()[..8]),
            key,
            prk: hkdf::Salt::new(hkdf::HKDF_SHA256, b"allot derived keys v1").extract(bytes),
        })
    }

    /// A key written as hexadecimal (surrounding whitespace, such as a file's last newline, is
    /// ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::NotHex)?;
        Self::from_bytes(&bytes)
    }

    /// A new random key and its hexadecimal form (to be kept safe by the caller).
    pub fn generate() -> Result<(Self, String), ring::error::Unspecified> {
        let mut bytes = [0u8; MIN_KEY_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)?;
        let text = hex::encode(bytes);
        // 32 bytes: cannot be too short.
        let key = Self::from_bytes(&bytes).map_err(|_| ring::error::Unspecified)?;
        Ok((key, text))
    }

    /// A key everyone can read in this source file: for tests and benchmarks only. A chain
    /// sealed under it proves nothing.
    pub fn fixed_for_tests() -> Self {
        Self::from_bytes(b"allot test chain key, never used in production")
            .unwrap_or_else(|_| unreachable!("the fixed test key is longer than the minimum"))
    }

    /// A short public name for the key (not the key): lets an operator see that two processes
    /// or an auditor's notes use the same one.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.key, message).as_ref());
        out
    }

    /// A 32-byte key for one purpose (`info` names it), derived from the chain key with
    /// HKDF-SHA256: knowing it reveals neither the chain key nor any other purpose's key.
    pub fn derive(&self, info: &[u8]) -> [u8; 32] {
        struct Len32;
        impl hkdf::KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        let mut out = [0u8; 32];
        let infos = [info];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32), so neither step can fail.
        if let Ok(okm) = self.prk.expand(&infos, Len32) {
            let _ = okm.fill(&mut out);
        }
        out
    }

    /// Whether `tag` is the HMAC of `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.key, message, tag).is_ok()
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey(id {})", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_shown() {
        assert_eq!(ChainKey::from_hex("zz").unwrap_err(), KeyError::NotHex);
        assert_eq!(ChainKey::from_hex("00ff").unwrap_err(), KeyError::TooShort);
        let text = "ab".repeat(32);
        let key = ChainKey::from_hex(&format!("{text}\n")).unwrap();
        assert!(!format!("{key:?}").contains(&text));
        let tag = key.sign(b"message");
        assert!(key.verify(b"message", &tag));
        assert!(!key.verify(b"messagE", &tag));
        let other = ChainKey::from_hex(&"ac".repeat(32)).unwrap();
        assert!(!other.verify(b"message", &tag));
        assert_ne!(key.id(), other.id());
        let (generated, hex_text) = ChainKey::generate().unwrap();
        assert_eq!(ChainKey::from_hex(&hex_text).unwrap().id(), generated.id());
    }
}
