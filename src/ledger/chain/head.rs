//! A signed head: where a council's chain stood (position and hash of its newest link), with an
//! HMAC over both under the chain key. An auditor keeps the line `allot audit verify --head`
//! prints somewhere the database's users cannot write; the same ledger always gives the same
//! line, and a later chain that no longer holds that link at that position has been cut short
//! or rewritten.

use uuid::Uuid;

use super::ChainKey;

const DOMAIN: &[u8] = b"allot-ledger-head-v1\0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    pub council_id: Uuid,
    /// The newest link's position: how many entries are sealed (0 before the first).
    pub position: i64,
    /// The newest link's hash (zeros before the first).
    pub hash: Vec<u8>,
    pub mac: [u8; 32],
}

fn message(council_id: Uuid, position: i64, hash: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN.len() + 16 + 8 + hash.len());
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(council_id.as_bytes());
    out.extend_from_slice(&position.to_be_bytes());
    out.extend_from_slice(hash);
    out
}

impl SignedHead {
    pub fn sign(key: &ChainKey, council_id: Uuid, position: i64, hash: &[u8]) -> Self {
        Self {
            council_id,
            position,
            hash: hash.to_vec(),
            mac: key.sign(&message(council_id, position, hash)),
        }
    }

    /// Whether the MAC is this head's under `key` (constant time).
    pub fn verifies(&self, key: &ChainKey) -> bool {
        key.verify(
            &message(self.council_id, self.position, &self.hash),
            &self.mac,
        )
    }
}

/// One line: `council <id> head <position> <hash> mac <hmac>` (hexadecimal).
impl std::fmt::Display for SignedHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "council {} head {} {} mac {}",
            self.council_id,
            self.position,
            hex::encode(&self.hash),
            hex::encode(self.mac)
        )
    }
}

impl std::str::FromStr for SignedHead {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a signed head: {line}");
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["council", council, "head", position, hash, "mac", mac] = words.as_slice() else {
            return Err(bad());
        };
        let mac: [u8; 32] = hex::decode(mac)
            .ok()
            .and_then(|m| m.try_into().ok())
            .ok_or_else(bad)?;
        Ok(Self {
            council_id: council.parse().map_err(|_| bad())?,
            position: position.parse().map_err(|_| bad())?,
            hash: hex::decode(hash).map_err(|_| bad())?,
            mac,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_round_trips_and_only_verifies_under_its_key() {
        let key = ChainKey::fixed_for_tests();
        let head = SignedHead::sign(&key, Uuid::from_u128(5), 42, &[9; 32]);
        let line = head.to_string();
        let parsed: SignedHead = line.parse().unwrap();
        assert_eq!(parsed, head);
        assert!(parsed.verifies(&key));
        assert!(!parsed.verifies(&ChainKey::from_bytes(&[1; 32]).unwrap()));
        let mut moved = parsed.clone();
        moved.position = 43;
        assert!(!moved.verifies(&key));
        assert!("council x head 1".parse::<SignedHead>().is_err());
    }
}
