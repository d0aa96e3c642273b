//! Tamper evidence: a keyed hash chain per council over entries and their legs.
//!
//! Link `n` of a council's chain holds `hash_n = HMAC-SHA256(key, encoding of entry_n, its legs
//! and hash_{n-1})`. The key is kept outside the database ([`key`]): someone able to write the
//! tables can edit an entry but cannot recompute the links after it, as they could with a plain
//! hash. Posting only queues the entry (`ledger_seal_queue`, same transaction); the sealer
//! ([`seal::seal_pending`]) links queued entries in batches under a per-council lock, so posting
//! never waits on the chain. [`verify::verify`] recomputes every link from the rows as they are
//! now: editing any amount, account, side, date, description or metadata of a sealed entry,
//! deleting one, or inserting one the ledger did not write, shows up as the first bad entry.
//!
//! What a chain alone cannot show: the newest links removed (the chain is then shorter, but
//! sound). [`head::SignedHead`] is the answer: `allot audit verify --head` prints the head
//! (position and hash) with an HMAC over it, for the auditor to keep somewhere the database's
//! users cannot write; a later chain that no longer contains that head has lost links.

pub mod head;
pub mod key;
pub mod seal;
pub mod verify;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::error::LedgerError;
use crate::db::Tx;

pub use head::SignedHead;
pub use key::ChainKey;

/// Bumped whenever the encoding or the scheme changes (v1 was an unkeyed SHA-256 chain).
const DOMAIN: &[u8] = b"allot-ledger-chain-v2\0";

/// The hash before a council's first link.
pub const GENESIS: [u8; 32] = [0; 32];

/// An entry as the chain sees it: every column, as stored.
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub id: Uuid,
    pub seq: i64,
    pub pending: bool,
    pub effective_date: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub description: String,
    /// The jsonb as PostgreSQL prints it (deterministic for a given value).
    pub metadata: String,
    pub reverses: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub legs: Vec<ChainLeg>,
}

#[derive(Debug, Clone)]
pub struct ChainLeg {
    pub leg_no: i16,
    pub account_id: Uuid,
    pub side: String,
    pub amount: Decimal,
    pub effective_date: NaiveDate,
    pub entry_seq: i64,
    pub pending: bool,
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_uuid(out: &mut Vec<u8>, id: Option<Uuid>) {
    match id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
        None => out.push(0),
    }
}

fn put_date(out: &mut Vec<u8>, date: NaiveDate) {
    put_bytes(out, date.format("%Y-%m-%d").to_string().as_bytes());
}

fn put_time(out: &mut Vec<u8>, at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => {
            out.push(1);
            out.extend_from_slice(&at.timestamp_micros().to_be_bytes());
        }
        None => out.push(0),
    }
}

/// What link `position` sealing `entry` after `prev` signs: every column of the entry and its
/// legs, length-prefixed so that no two different entries encode alike.
pub fn link_message(council_id: Uuid, position: i64, prev: &[u8], entry: &ChainEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + entry.description.len() + entry.metadata.len());
    out.extend_from_slice(DOMAIN);
    put_bytes(&mut out, prev);
    out.extend_from_slice(council_id.as_bytes());
    out.extend_from_slice(&position.to_be_bytes());
    out.extend_from_slice(entry.id.as_bytes());
    out.extend_from_slice(&entry.seq.to_be_bytes());
    out.push(u8::from(entry.pending));
    put_date(&mut out, entry.effective_date);
    put_time(&mut out, Some(entry.recorded_at));
    put_bytes(&mut out, entry.description.as_bytes());
    put_bytes(&mut out, entry.metadata.as_bytes());
    put_uuid(&mut out, entry.reverses);
    put_uuid(&mut out, entry.hold_id);
    put_time(&mut out, entry.expires_at);
    out.extend_from_slice(&(entry.legs.len() as u64).to_be_bytes());
    for leg in &entry.legs {
        out.extend_from_slice(&leg.leg_no.to_be_bytes());
        out.extend_from_slice(leg.account_id.as_bytes());
        put_bytes(&mut out, leg.side.as_bytes());
        let mut amount = leg.amount;
        amount.rescale(2);
        put_bytes(&mut out, amount.to_string().as_bytes());
        put_date(&mut out, leg.effective_date);
        out.extend_from_slice(&leg.entry_seq.to_be_bytes());
        out.push(u8::from(leg.pending));
    }
    out
}

/// The hash of link `position` sealing `entry` after `prev`: the HMAC of its [`link_message`].
pub fn link_hash(
    key: &ChainKey,
    council_id: Uuid,
    position: i64,
    prev: &[u8],
    entry: &ChainEntry,
) -> [u8; 32] {
    key.sign(&link_message(council_id, position, prev, entry))
}

/// Whether `stored` is the hash of link `position` sealing `entry` after `prev` (compared in
/// constant time).
pub fn link_verifies(
    key: &ChainKey,
    council_id: Uuid,
    position: i64,
    prev: &[u8],
    entry: &ChainEntry,
    stored: &[u8],
) -> bool {
    key.verify(&link_message(council_id, position, prev, entry), stored)
}

/// Loads entries and their legs, as stored, by id (missing ids are simply absent).
pub async fn load(
    tx: &Tx<'_>,
    council_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, ChainEntry>, LedgerError> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, seq, pending, effective_date, recorded_at, description, metadata::text,
                    reverses, hold_id, expires_at
             FROM ledger_entries WHERE council_id = $1 AND id = ANY($2)",
        )
        .await?;
    let mut entries: HashMap<Uuid, ChainEntry> = tx
        .query(&stmt, &[&council_id, &ids])
        .await?
        .iter()
        .map(|r| {
            let entry = ChainEntry {
                id: r.get(0),
                seq: r.get(1),
                pending: r.get(2),
                effective_date: r.get(3),
                recorded_at: r.get(4),
                description: r.get(5),
                metadata: r.get(6),
                reverses: r.get(7),
                hold_id: r.get(8),
                expires_at: r.get(9),
                legs: Vec::new(),
            };
            (entry.id, entry)
        })
        .collect();
    let stmt = tx
        .prepare_cached(
            "SELECT entry_id, leg_no, account_id, side, amount, effective_date, entry_seq, pending
             FROM ledger_legs WHERE council_id = $1 AND entry_id = ANY($2)
             ORDER BY entry_id, leg_no",
        )
        .await?;
    for r in tx.query(&stmt, &[&council_id, &ids]).await? {
        let entry_id: Uuid = r.get(0);
        // Legs whose entry is gone stay unattached; the missing entry is what verify reports.
        if let Some(entry) = entries.get_mut(&entry_id) {
            entry.legs.push(ChainLeg {
                leg_no: r.get(1),
                account_id: r.get(2),
                side: r.get(3),
                amount: r.get(4),
                effective_date: r.get(5),
                entry_seq: r.get(6),
                pending: r.get(7),
            });
        }
    }
    Ok(entries)
}

/// The link that sealed an entry: where it sits in the council's chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub position: i64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub sealed_at: DateTime<Utc>,
}

/// The link sealing `entry_id`, or `None` while the entry waits for the sealer.
pub async fn link_of(
    tx: &Tx<'_>,
    council_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<ChainLink>, LedgerError> {
    let row = tx
        .query_opt(
            "SELECT position, prev_hash, hash, sealed_at FROM ledger_chain
             WHERE council_id = $1 AND entry_id = $2",
            &[&council_id, &entry_id],
        )
        .await?;
    Ok(row.map(|r| ChainLink {
        position: r.get(0),
        prev_hash: r.get(1),
        hash: r.get(2),
        sealed_at: r.get(3),
    }))
}

/// Key class of the per-council sealing lock (one sealer per council at a time).
pub const SEAL_LOCK_CLASS: i32 = 0x5345_414c; // "SEAL"

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ChainEntry {
        let date = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
        ChainEntry {
            id: Uuid::from_u128(1),
            seq: 7,
            pending: false,
            effective_date: date,
            recorded_at: DateTime::from_timestamp(1_700_000_000, 123_000).unwrap(),
            description: "x".into(),
            metadata: "{}".into(),
            reverses: None,
            hold_id: None,
            expires_at: None,
            legs: vec![ChainLeg {
                leg_no: 1,
                account_id: Uuid::from_u128(2),
                side: "D".into(),
                amount: Decimal::new(1000, 2),
                effective_date: date,
                entry_seq: 7,
                pending: false,
            }],
        }
    }

    fn link_hash(council: Uuid, position: i64, prev: &[u8], entry: &ChainEntry) -> [u8; 32] {
        super::link_hash(&ChainKey::fixed_for_tests(), council, position, prev, entry)
    }

    #[test]
    fn every_field_changes_the_hash() {
        let council = Uuid::from_u128(9);
        let base = link_hash(council, 1, &GENESIS, &entry());
        assert_eq!(base, link_hash(council, 1, &GENESIS, &entry()));
        let mut changed: Vec<ChainEntry> = Vec::new();
        let mut e = entry();
        e.legs[0].amount = Decimal::new(1001, 2);
        changed.push(e);
        let mut e = entry();
        e.legs[0].account_id = Uuid::from_u128(3);
        changed.push(e);
        let mut e = entry();
        e.legs[0].side = "C".into();
        changed.push(e);
        let mut e = entry();
        e.effective_date = e.effective_date.succ_opt().unwrap();
        changed.push(e);
        let mut e = entry();
        e.legs[0].effective_date = e.legs[0].effective_date.succ_opt().unwrap();
        changed.push(e);
        let mut e = entry();
        e.metadata = "{\"a\": 1}".into();
        changed.push(e);
        for e in &changed {
            assert_ne!(base, link_hash(council, 1, &GENESIS, e));
        }
        assert_ne!(base, link_hash(council, 2, &GENESIS, &entry()));
        assert_ne!(base, link_hash(council, 1, &[1; 32], &entry()));
    }

    #[test]
    fn the_hash_depends_on_the_key() {
        let council = Uuid::from_u128(9);
        let message = link_message(council, 1, &GENESIS, &entry());
        let key = ChainKey::fixed_for_tests();
        let other = ChainKey::from_bytes(&[7; 32]).unwrap();
        let hash = super::link_hash(&key, council, 1, &GENESIS, &entry());
        assert_ne!(
            hash,
            super::link_hash(&other, council, 1, &GENESIS, &entry())
        );
        let plain = ring::digest::digest(&ring::digest::SHA256, &message);
        assert_ne!(hash.as_slice(), plain.as_ref());
        assert!(link_verifies(&key, council, 1, &GENESIS, &entry(), &hash));
        assert!(!link_verifies(
            &other,
            council,
            1,
            &GENESIS,
            &entry(),
            &hash
        ));
    }
}
