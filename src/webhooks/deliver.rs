//! The delivery worker: sends the due deliveries of every council, signed the Standard Webhooks
//! way (`webhook-id` the event's, the same on every attempt; `webhook-timestamp` and
//! `webhook-signature: v1,…` per attempt, with [`crate::cards::signature::sign`]). A delivery
//! that fails is tried again on the spec's schedule after the first attempt (5 s, 5 min, 30 min,
//! 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each wait lengthened by up to a tenth at random so that
//! receivers coming back are not all called at once; a 429 or 503 with `Retry-After` is tried
//! again when it says. A 410 Gone disables the endpoint. Every time is the injected clock's: a
//! round is given `now`, so tests move the clock instead of sleeping.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::address;
use super::endpoints::{http_hosts, webhook_id};
use super::secrets::SecretSealer;
use crate::cards::signature;
use crate::db::{anonymous_tx, in_tenant_tx, DbPool};
use crate::error::{AppError, AppResult};

/// The waits before each retry (after the first attempt), in seconds.
pub const SCHEDULE: [i64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// How long a claimed delivery is left alone while it is being sent (a worker that dies
/// mid-send leaves it to be tried again after this).
const LEASE_SECONDS: i64 = 5 * 60;
/// Deliveries sent per council per round.
const BATCH: i64 = 50;

/// How the worker sends.
#[derive(Debug, Clone)]
pub struct Options {
    /// Allow private, loopback and link-local addresses (tests; never in production).
    pub allow_private: bool,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// Opens the endpoints' sealed secrets (the chain key's; the default is the test key's, as
    /// [`crate::http::AppState::new`]'s).
    pub sealer: SecretSealer,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_private: false,
            timeout: Duration::from_secs(15),
            sealer: SecretSealer::new(&crate::ledger::chain::ChainKey::fixed_for_tests()),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// Councils with deliveries due by `now` (allot_directory's one look across councils).
async fn councils_with_work(pool: &DbPool, now: DateTime<Utc>) -> AppResult<Vec<Uuid>> {
    let mut client = pool.get().await?;
    let tx = anonymous_tx(&mut client).await?;
    let rows = tx
        .query("SELECT webhook_councils_with_work($1)", &[&now])
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One round: every council's due deliveries sent once. One council's failure is logged and
/// never stops the others'.
pub async fn run_once(pool: &DbPool, now: DateTime<Utc>, options: &Options) -> AppResult<Round> {
    let mut round = Round::default();
    for council_id in councils_with_work(pool, now).await? {
        match deliver_council(pool, council_id, now, options).await {
            Ok(r) => {
                round.delivered += r.delivered;
                round.failed += r.failed;
            }
            Err(e) => tracing::warn!(%council_id, error = %e, "sending webhooks failed"),
        }
    }
    Ok(round)
}

struct Due {
    id: Uuid,
    event_id: Uuid,
    attempts: i32,
    endpoint_id: Uuid,
    endpoint_status: String,
    url: String,
    secret: Option<Vec<u8>>,
    sealed: Option<Vec<u8>>,
    payload: Value,
}

/// The result of one attempt.
enum Outcome {
    Delivered(u16),
    Gone,
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<i64>,
    },
}

async fn claim(
    pool: &DbPool,
    council_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Vec<Due>, Vec<String>)> {
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            let lease = now + chrono::Duration::seconds(LEASE_SECONDS);
            let rows = tx
                .query(
                    "WITH due AS (
                         SELECT id FROM webhook_deliveries
                         WHERE council_id = $1 AND status = 'pending'
                           AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
                         ORDER BY next_attempt_at NULLS FIRST, id
                         LIMIT $4 FOR UPDATE SKIP LOCKED),
                     claimed AS (
                         UPDATE webhook_deliveries d SET next_attempt_at = $3
                         FROM due WHERE d.council_id = $1 AND d.id = due.id
                         RETURNING d.id, d.event_id, d.attempts, d.endpoint_id)
                     SELECT c.id, c.event_id, c.attempts, c.endpoint_id, e.status, e.url,
                            e.secret, e.secret_sealed, v.payload
                     FROM claimed c
                     JOIN webhook_endpoints e ON e.council_id = $1 AND e.id = c.endpoint_id
                     JOIN webhook_events v ON v.council_id = $1 AND v.id = c.event_id
                     ORDER BY v.created_at, c.id",
                    &[&council_id, &now, &lease, &BATCH],
                )
                .await?;
            let due = rows
                .iter()
                .map(|row| {
                    Ok(Due {
                        id: row.try_get("id")?,
                        event_id: row.try_get("event_id")?,
                        attempts: row.try_get("attempts")?,
                        endpoint_id: row.try_get("endpoint_id")?,
                        endpoint_status: row.try_get("status")?,
                        url: row.try_get("url")?,
                        secret: row.try_get("secret")?,
                        sealed: row.try_get("secret_sealed")?,
                        payload: row.try_get("payload")?,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            let hosts = http_hosts(tx, council_id).await?;
            Ok((due, hosts))
        })
    })
    .await
}

async fn deliver_council(
    pool: &DbPool,
    council_id: Uuid,
    now: DateTime<Utc>,
    options: &Options,
) -> AppResult<Round> {
    let (due, hosts) = claim(pool, council_id, now).await?;
    let mut round = Round::default();
    let mut gone: Vec<Uuid> = Vec::new();
    for delivery in due {
        if delivery.endpoint_status != "active" || gone.contains(&delivery.endpoint_id) {
            record(pool, council_id, &delivery, now, None).await?;
            continue;
        }
        let outcome = send(council_id, &delivery, &hosts, now, options).await;
        match &outcome {
            Outcome::Delivered(_) => round.delivered += 1,
            Outcome::Gone => {
                gone.push(delivery.endpoint_id);
                round.failed += 1;
            }
            Outcome::Failed { .. } => round.failed += 1,
        }
        record(pool, council_id, &delivery, now, Some(outcome)).await?;
    }
    Ok(round)
}

/// Sends one delivery.
async fn send(
    council_id: Uuid,
    delivery: &Due,
    hosts: &[String],
    now: DateTime<Utc>,
    options: &Options,
) -> Outcome {
    let failed = |error: String| Outcome::Failed {
        status: None,
        error,
        retry_after: None,
    };
    let url = match address::parse(&delivery.url, hosts) {
        Ok(url) => url,
        Err(e) => return failed(e.to_string()),
    };
    // Resolved and checked now, and the connection made to the address checked (no second
    // lookup that could answer differently).
    let addr = match address::resolve(&url, options.allow_private).await {
        Ok(addr) => addr,
        Err(e) => return failed(e.to_string()),
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.timeout)
        .resolve(&host, addr)
        .build()
    {
        Ok(client) => client,
        Err(e) => return failed(format!("no HTTP client: {e}")),
    };
    let body = match serde_json::to_vec(&delivery.payload) {
        Ok(body) => body,
        Err(e) => return failed(format!("the payload: {e}")),
    };
    let key = match (&delivery.sealed, &delivery.secret) {
        (Some(sealed), _) => match options
            .sealer
            .open(council_id, delivery.endpoint_id, sealed)
        {
            Ok(key) => key,
            Err(e) => return failed(e.to_string()),
        },
        // Not sealed yet (made before sealing; sealed when allot starts).
        (None, Some(secret)) => secret.clone(),
        (None, None) => return failed("the endpoint has no secret".into()),
    };
    let id = webhook_id(delivery.event_id);
    let timestamp = now.timestamp();
    let signature = signature::sign(&key, &id, timestamp, &body);
    let response = client
        .post(url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", "allot-webhooks")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => return failed(format!("no answer: {e}")),
    };
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Outcome::Delivered(status);
    }
    if status == 410 {
        return Outcome::Gone;
    }
    let retry_after = if status == 429 || status == 503 {
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after_seconds(v, now))
    } else {
        None
    };
    Outcome::Failed {
        status: Some(status),
        error: format!("answered {status}"),
        retry_after,
    }
}

/// `Retry-After` as seconds from now: delay-seconds or an HTTP date.
pub fn retry_after_seconds(value: &str, now: DateTime<Utc>) -> Option<i64> {
    let value = value.trim();
    let seconds = match value.parse::<i64>() {
        Ok(s) => s,
        Err(_) => (DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc)
            - now)
            .num_seconds(),
    };
    Some(seconds.clamp(1, 24 * 3600))
}

/// The wait before retry `n` (1-based), lengthened by up to a tenth at random.
pub fn backoff(n: usize) -> Option<chrono::Duration> {
    let base = *SCHEDULE.get(n.checked_sub(1)?)?;
    let mut byte = [0u8; 2];
    let random = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte)
        .map(|_| u16::from_le_bytes(byte))
        .unwrap_or(0);
    let millis = base * 1000;
    let jitter = millis / 10 * i64::from(random) / i64::from(u16::MAX);
    Some(chrono::Duration::milliseconds(millis + jitter))
}

/// Records what became of a delivery (`None`: its endpoint is no longer active: cancelled).
async fn record(
    pool: &DbPool,
    council_id: Uuid,
    delivery: &Due,
    now: DateTime<Utc>,
    outcome: Option<Outcome>,
) -> AppResult<()> {
    let id = delivery.id;
    let attempts = delivery.attempts + i32::from(outcome.is_some());
    let (status, code, error, next, endpoint_gone) = match outcome {
        None => (
            "cancelled",
            None,
            Some("the endpoint is no longer active".to_owned()),
            None,
            false,
        ),
        Some(Outcome::Delivered(code)) => ("delivered", Some(i32::from(code)), None, None, false),
        Some(Outcome::Gone) => (
            "failed",
            Some(410),
            Some("answered 410 Gone: endpoint disabled".to_owned()),
            None,
            true,
        ),
        Some(Outcome::Failed {
            status,
            error,
            retry_after,
        }) => {
            let wait = match retry_after {
                Some(seconds) => Some(chrono::Duration::seconds(seconds)),
                None => backoff(usize::try_from(attempts).unwrap_or(usize::MAX)),
            };
            match wait {
                Some(wait) => (
                    "pending",
                    status.map(i32::from),
                    Some(error),
                    Some(now + wait),
                    false,
                ),
                None => ("failed", status.map(i32::from), Some(error), None, false),
            }
        }
    };
    let entry = json!({"at": now, "status_code": code, "error": error});
    let endpoint_id = delivery.endpoint_id;
    let counted = i32::from(status != "cancelled");
    in_tenant_tx(pool, council_id, |tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE webhook_deliveries SET status = $3, attempts = attempts + $4,
                     next_attempt_at = $5,
                     last_attempt_at = CASE WHEN $4 = 1 THEN $6 ELSE last_attempt_at END,
                     last_status_code = coalesce($7, last_status_code),
                     last_error = $8,
                     delivered_at = CASE WHEN $3 = 'delivered' THEN $6 END,
                     log = CASE WHEN $4 = 1 THEN log || jsonb_build_array($9::jsonb) ELSE log END
                 WHERE council_id = $1 AND id = $2",
                &[
                    &council_id,
                    &id,
                    &status,
                    &counted,
                    &next,
                    &now,
                    &code,
                    &error,
                    &entry,
                ],
            )
            .await?;
            if endpoint_gone {
                tx.execute(
                    "UPDATE webhook_endpoints SET status = 'disabled',
                         disabled_reason = 'the receiver answered 410 Gone'
                     WHERE council_id = $1 AND id = $2 AND status = 'active'",
                    &[&council_id, &endpoint_id],
                )
                .await?;
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL
                     WHERE council_id = $1 AND endpoint_id = $2 AND status = 'pending'",
                    &[&council_id, &endpoint_id],
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
    })
    .await
}

/// Runs [`run_once`] every `every` until the task is aborted; a failed or panicking round is
/// logged and the next one runs as usual (the outbox keeps the work).
pub fn spawn(
    pool: DbPool,
    clock: crate::clock::Clock,
    options: Options,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let round = tokio::spawn({
                let (pool, now, options) = (pool.clone(), clock.now(), options.clone());
                async move { run_once(&pool, now, &options).await }
            });
            match round.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "webhook delivery failed; trying again next round")
                }
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery panicked; trying again next round")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_the_schedule_with_up_to_a_tenth_more() {
        for (i, base) in SCHEDULE.iter().enumerate() {
            let wait = backoff(i + 1).expect("a wait").num_milliseconds();
            assert!(wait >= base * 1000 && wait <= base * 1100, "{i}: {wait}");
        }
        assert!(backoff(10).is_none());
        assert!(backoff(0).is_none());
    }

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after_seconds("120", now), Some(120));
        assert_eq!(
            retry_after_seconds("Thu, 01 Jan 2026 00:01:00 GMT", now),
            Some(60)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
    }
}
