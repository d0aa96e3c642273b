//! Tamper evidence: a keyed hash chain per council over entries and their legs, over the
//! resolutions of holds (posted, voided or expired: who decided and why, what a payment's outcome
//! rests on), and over the other records decisions rest on ([`records`]): grants and their
//! ending, policy versions, bank-detail changes and their verification.
//!
//! Link `n` of a council's chain holds `hash_n = HMAC-SHA256(key, encoding of what it seals and
//! hash_{n-1})`. The key is kept outside the database ([`key`]): someone able to write the
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
mod load;
pub mod records;
pub mod seal;
pub mod verify;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::error::LedgerError;
use crate::db::Tx;

pub use head::SignedHead;
pub use key::ChainKey;
pub use load::load;
pub use records::{ChainRecord, RecordKind, RECORD_KINDS};

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

/// A hold's resolution as the chain sees it: every column, as stored.
#[derive(Debug, Clone)]
pub struct ChainResolution {
    pub hold_id: Uuid,
    pub outcome: String,
    /// The jsonb as PostgreSQL prints it.
    pub metadata: String,
    pub resolved_at: DateTime<Utc>,
}

/// What a link seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkKind {
    Entry,
    Resolution,
    /// A grant of a decision-making agreement, as recorded.
    Grant,
    /// The ending of a grant (who ended it, when).
    GrantEnd,
    /// A version of a council's policy.
    Policy,
    /// A bank-detail change, as logged.
    BankChange,
    /// A finance officer's verification of a bank-detail change.
    BankVerification,
}

/// Every kind of link.
pub const LINK_KINDS: [LinkKind; 7] = [
    LinkKind::Entry,
    LinkKind::Resolution,
    LinkKind::Grant,
    LinkKind::GrantEnd,
    LinkKind::Policy,
    LinkKind::BankChange,
    LinkKind::BankVerification,
];

impl LinkKind {
    /// As stored in `ledger_chain.kind` and `ledger_seal_queue.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Entry => "entry",
            LinkKind::Resolution => "resolution",
            LinkKind::Grant => "grant",
            LinkKind::GrantEnd => "grant_end",
            LinkKind::Policy => "policy",
            LinkKind::BankChange => "bank_change",
            LinkKind::BankVerification => "bank_verification",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        LINK_KINDS.into_iter().find(|k| k.as_str() == text)
    }

    /// The tag that starts what a link of this kind signs (after the position).
    fn tag(self) -> u8 {
        match self {
            LinkKind::Entry => b'E',
            LinkKind::Resolution => b'R',
            LinkKind::Grant => b'G',
            LinkKind::GrantEnd => b'g',
            LinkKind::Policy => b'P',
            LinkKind::BankChange => b'B',
            LinkKind::BankVerification => b'V',
        }
    }

    /// What a link of this kind seals, for reports ("entry {id}", "grant {id}", ...).
    pub fn describe(self, id: Uuid) -> String {
        match self {
            LinkKind::Entry => format!("entry {id}"),
            LinkKind::Resolution => format!("the resolution of hold {id}"),
            other => match records::record_kind(other) {
                Some(record) => format!("{} {id}", record.noun),
                None => format!("{} {id}", other.as_str()),
            },
        }
    }
}

/// What a link seals, as stored now.
#[derive(Debug, Clone)]
pub enum Sealed {
    Entry(ChainEntry),
    Resolution(ChainResolution),
    Record(ChainRecord),
}

impl Sealed {
    pub fn kind(&self) -> LinkKind {
        match self {
            Sealed::Entry(_) => LinkKind::Entry,
            Sealed::Resolution(_) => LinkKind::Resolution,
            Sealed::Record(r) => r.kind,
        }
    }

    /// The entry's id, for a resolution the hold's, for a record its own.
    pub fn id(&self) -> Uuid {
        match self {
            Sealed::Entry(e) => e.id,
            Sealed::Resolution(r) => r.hold_id,
            Sealed::Record(r) => r.id,
        }
    }
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

/// What link `position` sealing `sealed` after `prev` signs: every column of the entry and its
/// legs (or of the resolution, or a record's content), length-prefixed and tagged by kind so that
/// no two different things encode alike.
pub fn link_message(council_id: Uuid, position: i64, prev: &[u8], sealed: &Sealed) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(DOMAIN);
    put_bytes(&mut out, prev);
    out.extend_from_slice(council_id.as_bytes());
    out.extend_from_slice(&position.to_be_bytes());
    out.push(sealed.kind().tag());
    match sealed {
        Sealed::Entry(entry) => put_entry(&mut out, entry),
        Sealed::Record(record) => {
            out.extend_from_slice(record.id.as_bytes());
            put_bytes(&mut out, record.content.as_bytes());
        }
        Sealed::Resolution(resolution) => {
            out.extend_from_slice(resolution.hold_id.as_bytes());
            put_bytes(&mut out, resolution.outcome.as_bytes());
            put_bytes(&mut out, resolution.metadata.as_bytes());
            put_time(&mut out, Some(resolution.resolved_at));
        }
    }
    out
}

fn put_entry(out: &mut Vec<u8>, entry: &ChainEntry) {
    out.extend_from_slice(entry.id.as_bytes());
    out.extend_from_slice(&entry.seq.to_be_bytes());
    out.push(u8::from(entry.pending));
    put_date(out, entry.effective_date);
    put_time(out, Some(entry.recorded_at));
    put_bytes(out, entry.description.as_bytes());
    put_bytes(out, entry.metadata.as_bytes());
    put_uuid(out, entry.reverses);
    put_uuid(out, entry.hold_id);
    put_time(out, entry.expires_at);
    out.extend_from_slice(&(entry.legs.len() as u64).to_be_bytes());
    for leg in &entry.legs {
        out.extend_from_slice(&leg.leg_no.to_be_bytes());
        out.extend_from_slice(leg.account_id.as_bytes());
        put_bytes(out, leg.side.as_bytes());
        let mut amount = leg.amount;
        amount.rescale(2);
        put_bytes(out, amount.to_string().as_bytes());
        put_date(out, leg.effective_date);
        out.extend_from_slice(&leg.entry_seq.to_be_bytes());
        out.push(u8::from(leg.pending));
    }
}

/// The hash of link `position` sealing `sealed` after `prev`: the HMAC of its [`link_message`].
pub fn link_hash(
    key: &ChainKey,
    council_id: Uuid,
    position: i64,
    prev: &[u8],
    sealed: &Sealed,
) -> [u8; 32] {
    key.sign(&link_message(council_id, position, prev, sealed))
}

/// Whether `stored` is the hash of link `position` sealing `sealed` after `prev` (compared in
/// constant time).
pub fn link_verifies(
    key: &ChainKey,
    council_id: Uuid,
    position: i64,
    prev: &[u8],
    sealed: &Sealed,
    stored: &[u8],
) -> bool {
    key.verify(&link_message(council_id, position, prev, sealed), stored)
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
             WHERE council_id = $1 AND kind = 'entry' AND entry_id = $2",
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
        let sealed = Sealed::Entry(entry.clone());
        super::link_hash(
            &ChainKey::fixed_for_tests(),
            council,
            position,
            prev,
            &sealed,
        )
    }

    #[test]
    fn a_resolution_is_sealed_by_every_field() {
        let council = Uuid::from_u128(9);
        let key = ChainKey::fixed_for_tests();
        let resolution = || ChainResolution {
            hold_id: Uuid::from_u128(1),
            outcome: "voided".into(),
            metadata: "{}".into(),
            resolved_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let hash = |r: ChainResolution| {
            super::link_hash(&key, council, 3, &GENESIS, &Sealed::Resolution(r))
        };
        let base = hash(resolution());
        let mut changed = resolution();
        changed.outcome = "posted".into();
        assert_ne!(base, hash(changed));
        let mut changed = resolution();
        changed.metadata = "{\"by\": 1}".into();
        assert_ne!(base, hash(changed));
        let mut changed = resolution();
        changed.resolved_at += chrono::Duration::seconds(1);
        assert_ne!(base, hash(changed));
        // An entry and a resolution of the same id never share a hash.
        let mut same_id = entry();
        same_id.id = Uuid::from_u128(1);
        assert_ne!(base, link_hash(council, 3, &GENESIS, &same_id));
    }

    #[test]
    fn a_record_is_sealed_by_its_kind_id_and_content() {
        let council = Uuid::from_u128(9);
        let key = ChainKey::fixed_for_tests();
        let record = |kind: LinkKind, id: u128, content: &str| {
            Sealed::Record(ChainRecord {
                kind,
                id: Uuid::from_u128(id),
                content: content.into(),
            })
        };
        let hash = |sealed: Sealed| super::link_hash(&key, council, 4, &GENESIS, &sealed);
        let base = hash(record(LinkKind::Grant, 1, "{\"powers\": [\"pay\"]}"));
        assert_ne!(
            base,
            hash(record(
                LinkKind::Grant,
                1,
                "{\"powers\": [\"pay\", \"approve\"]}"
            ))
        );
        assert_ne!(
            base,
            hash(record(LinkKind::Grant, 2, "{\"powers\": [\"pay\"]}"))
        );
        assert_ne!(
            base,
            hash(record(LinkKind::GrantEnd, 1, "{\"powers\": [\"pay\"]}"))
        );
        for kind in LINK_KINDS {
            assert_eq!(LinkKind::parse(kind.as_str()), Some(kind));
        }
        let tags: std::collections::HashSet<u8> = LINK_KINDS.iter().map(|k| k.tag()).collect();
        assert_eq!(tags.len(), LINK_KINDS.len());
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
        let sealed = Sealed::Entry(entry());
        let message = link_message(council, 1, &GENESIS, &sealed);
        let key = ChainKey::fixed_for_tests();
        let other = ChainKey::from_bytes(&[7; 32]).unwrap();
        let hash = super::link_hash(&key, council, 1, &GENESIS, &sealed);
        assert_ne!(
            hash,
            super::link_hash(&other, council, 1, &GENESIS, &sealed)
        );
        let plain = ring::digest::digest(&ring::digest::SHA256, &message);
        assert_ne!(hash.as_slice(), plain.as_ref());
        assert!(link_verifies(&key, council, 1, &GENESIS, &sealed, &hash));
        assert!(!link_verifies(&other, council, 1, &GENESIS, &sealed, &hash));
    }
}
