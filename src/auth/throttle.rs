//! What keeps a flood of sign-ins from hurting anyone: password checks run on the blocking pool a
//! few at a time (PBKDF2 is slow on purpose, and on two cores a hundred at once would starve every
//! other request), a sign-in that cannot get a turn soon is refused with 429, and one network
//! address may fail only so often in the window, whichever emails it tries. The per-email limit
//! lives in the database (see [`super::sessions`]); this one is in memory, per process.
//!
//! The address is the peer of the TCP connection, never a header a client could set. Behind a
//! reverse proxy every sign-in shares the proxy's address, so the per-address limit becomes a
//! limit for the whole site; raise `login_max_failures_per_ip` there.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Settings;

/// Where sign-ins come from, as counted: an IPv4 address, the /64 network of an IPv6 address
/// (one host usually has a whole /64), or unknown (requests that did not come over a socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    V4(u32),
    V6Network(u64),
    Unknown,
}

impl Source {
    pub fn of(peer: Option<IpAddr>) -> Source {
        match peer.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(ip)) => Source::V4(u32::from(ip)),
            Some(IpAddr::V6(ip)) => Source::V6Network((u128::from(ip) >> 64) as u64),
            None => Source::Unknown,
        }
    }
}

/// The sign-in gate held in application state.
#[derive(Debug)]
pub struct SignInGate {
    hashing: Arc<Semaphore>,
    hash_wait: Duration,
    max_failures: usize,
    window: chrono::Duration,
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_source: HashMap<Source, VecDeque<DateTime<Utc>>>,
    reservations: u64,
}

/// A sign-in attempt counted against its source until it is known not to be a failure: dropped
/// without [`SourceTicket::count_failure`], it is taken back.
#[derive(Debug)]
pub struct SourceTicket<'a> {
    gate: &'a SignInGate,
    source: Source,
    at: DateTime<Utc>,
    failed: bool,
}

impl SourceTicket<'_> {
    /// The password was wrong: the attempt stays counted for the window.
    pub fn count_failure(mut self) {
        self.failed = true;
    }
}

impl Drop for SourceTicket<'_> {
    fn drop(&mut self) {
        if self.failed {
            return;
        }
        let mut failures = self.gate.lock();
        if let Some(times) = failures.by_source.get_mut(&self.source) {
            if let Some(index) = times.iter().rposition(|t| *t == self.at) {
                times.remove(index);
            }
        }
    }
}

/// How often the whole table of sources is swept for ones with nothing left in the window.
const SWEEP_EVERY: u64 = 256;

impl SignInGate {
    pub fn new(settings: &Settings) -> Self {
        Self {
            hashing: Arc::new(Semaphore::new(settings.login_hash_permits.max(1))),
            hash_wait: settings.login_hash_wait,
            max_failures: settings.login_max_failures_per_ip,
            window: chrono::Duration::from_std(settings.login_window)
                .unwrap_or(chrono::Duration::minutes(15)),
            failures: Mutex::new(Failures::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        // The map only ever holds whole values; a panic elsewhere cannot leave it half-written.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an attempt from `peer` at `now`, or `None` when the source has failed too often in
    /// the window (refuse it without checking anything).
    pub fn reserve(&self, peer: Option<IpAddr>, now: DateTime<Utc>) -> Option<SourceTicket<'_>> {
        let source = Source::of(peer);
        let since = now - self.window;
        let mut failures = self.lock();
        failures.reservations += 1;
        if failures.reservations.is_multiple_of(SWEEP_EVERY) {
            failures.by_source.retain(|_, times| {
                times.retain(|t| *t > since);
                !times.is_empty()
            });
        }
        let times = failures.by_source.entry(source).or_default();
        times.retain(|t| *t > since);
        if times.len() >= self.max_failures {
            return None;
        }
        times.push_back(now);
        Some(SourceTicket {
            gate: self,
            source,
            at: now,
            failed: false,
        })
    }

    /// A turn to check a password, or `None` when none came free within the configured wait
    /// (too many sign-ins at once: refuse with 429). Hold the permit until the check is done.
    pub async fn hashing_permit(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(self.hash_wait, self.hashing.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_failures: usize) -> SignInGate {
        SignInGate::new(&Settings {
            login_max_failures_per_ip: max_failures,
            login_hash_permits: 1,
            login_hash_wait: Duration::from_millis(20),
            ..Settings::default()
        })
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + minutes * 60, 0).unwrap()
    }

    #[test]
    fn sources_are_addresses_and_ipv6_networks() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            Source::of(ip("192.0.2.1")),
            Source::of(ip("::ffff:192.0.2.1"))
        );
        assert_ne!(Source::of(ip("192.0.2.1")), Source::of(ip("192.0.2.2")));
        assert_eq!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(Source::of(None), Source::Unknown);
    }

    #[test]
    fn failures_count_per_source_within_the_window() {
        let gate = gate(2);
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        gate.reserve(a, at(0)).unwrap().count_failure();
        // An attempt that was not a failure (right password, or never checked) is taken back.
        drop(gate.reserve(a, at(1)).unwrap());
        gate.reserve(a, at(2)).unwrap().count_failure();
        assert!(gate.reserve(a, at(3)).is_none());
        assert!(gate.reserve(b, at(3)).is_some());
        // Fifteen minutes after the first failure, one more may be tried.
        assert!(gate.reserve(a, at(14)).is_none());
        gate.reserve(a, at(16)).unwrap().count_failure();
        assert!(gate.reserve(a, at(16)).is_none());
    }

    #[test]
    fn attempts_in_flight_count_until_they_end() {
        let gate = gate(1);
        let first = gate.reserve(None, at(0)).unwrap();
        assert!(gate.reserve(None, at(0)).is_none());
        drop(first);
        assert!(gate.reserve(None, at(0)).is_some());
    }

    #[tokio::test]
    async fn a_turn_to_hash_is_waited_for_only_briefly() {
        let gate = gate(10);
        let permit = gate.hashing_permit().await.unwrap();
        assert!(gate.hashing_permit().await.is_none());
        drop(permit);
        assert!(gate.hashing_permit().await.is_some());
    }
}
