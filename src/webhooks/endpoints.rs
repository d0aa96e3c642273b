//! Webhook endpoints: a council administrator registers them for the council, provider staff for
//! their organisation (which then receives only events about accounts it holds). The `whsec_`
//! secret is returned once, when the endpoint is made. Other councils' and other organisations'
//! endpoints are not found (404); other roles are refused (403).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::address::{self, AddressError};
use super::EVENTS;
use crate::auth::{Actor, Role};
use crate::cards::signature;
use crate::db::Tx;
use crate::error::{AppError, AppResult};

const MANAGERS: &[Role] = &[Role::CouncilAdmin, Role::ProviderStaff];

/// An endpoint to register (`POST /api/v1/webhooks`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are sent: https (http only for hosts the council allows).
    pub url: String,
    /// The event types to send (see `webhooks::EVENTS`).
    pub events: Vec<String>,
}

/// An endpoint as recorded (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    /// The organisation whose accounts' events it receives; absent for the council's own.
    pub organisation_id: Option<Uuid>,
    /// `active`, or `disabled` (the receiver answered 410 Gone).
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// An endpoint just made, with its secret (shown this once).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify the `webhook-signature` header with it. Not shown again.
    pub secret: String,
}

/// One event's delivery to an endpoint, with every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// The `webhook-id` header sent (the same on every attempt).
    pub webhook_id: String,
    pub event_type: String,
    /// `pending`, `delivered`, `failed` (retries used up) or `cancelled` (endpoint gone).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// `[{at, status_code?, error?}]`, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub log: Value,
    pub payload: Value,
}

/// The hosts the council allows plain http for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHosts {
    pub hosts: Vec<String>,
}

/// The `webhook-id` of an event.
pub fn webhook_id(event_id: Uuid) -> String {
    format!("msg_{}", event_id.simple())
}

const SELECT_ENDPOINT: &str = "SELECT id, url, events, organisation_id, status, disabled_reason,
    created_by, created_at FROM webhook_endpoints";

fn from_row(row: &Row) -> AppResult<Endpoint> {
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        events: row.try_get("events")?,
        organisation_id: row.try_get("organisation_id")?,
        status: row.try_get("status")?,
        disabled_reason: row.try_get("disabled_reason")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The organisation an actor manages endpoints for: none for a council administrator.
fn scope(actor: &Actor) -> AppResult<Option<Uuid>> {
    actor.require(MANAGERS)?;
    match actor.role {
        Role::ProviderStaff => actor.organisation_id.map(Some).ok_or(AppError::Forbidden),
        _ => Ok(None),
    }
}

/// The council's http hosts.
pub async fn http_hosts(tx: &Tx<'_>, council_id: Uuid) -> AppResult<Vec<String>> {
    let rows = tx
        .query(
            "SELECT host FROM webhook_http_hosts WHERE council_id = $1 ORDER BY host",
            &[&council_id],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

fn address_error(e: AddressError) -> AppError {
    AppError::invalid("url", e.to_string())
}

/// Registers an endpoint: its URL checked (and resolved) now, again before every send.
pub async fn create(
    tx: &Tx<'_>,
    actor: &Actor,
    new: &NewEndpoint,
    allow_private: bool,
    sealer: &super::secrets::SecretSealer,
    now: DateTime<Utc>,
) -> AppResult<CreatedEndpoint> {
    let organisation_id = scope(actor)?;
    if new.url.chars().count() > 2000 {
        return Err(AppError::invalid("url", "at most 2000 characters"));
    }
    let hosts = http_hosts(tx, actor.council_id).await?;
    let url = address::parse(&new.url, &hosts).map_err(address_error)?;
    address::resolve(&url, allow_private)
        .await
        .map_err(address_error)?;
    if new.events.is_empty() {
        return Err(AppError::invalid("events", "name at least one event"));
    }
    let mut events: Vec<String> = Vec::new();
    for event in &new.events {
        if !EVENTS.contains(&event.as_str()) {
            return Err(AppError::invalid(
                "events",
                format!("unknown event {event:?}; known: {}", EVENTS.join(", ")),
            ));
        }
        if !events.contains(event) {
            events.push(event.clone());
        }
    }
    let key = signature::new_key()
        .map_err(|_| AppError::Internal("no random bytes for the secret".into()))?;
    let id = Uuid::new_v4();
    let sealed = sealer.seal(actor.council_id, id, &key)?;
    let row = tx
        .query_one(
            "INSERT INTO webhook_endpoints (council_id, id, organisation_id, url, events,
                 secret_sealed, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id, url, events, organisation_id, status, disabled_reason, created_by,
                 created_at",
            &[
                &actor.council_id,
                &id,
                &organisation_id,
                &url.as_str(),
                &events,
                &sealed,
                &actor.user_id,
                &now,
            ],
        )
        .await?;
    Ok(CreatedEndpoint {
        endpoint: from_row(&row)?,
        secret: signature::secret_text(&key),
    })
}

/// The endpoints the actor manages (not deleted ones).
pub async fn list(tx: &Tx<'_>, actor: &Actor) -> AppResult<Vec<Endpoint>> {
    let organisation_id = scope(actor)?;
    let rows = tx
        .query(
            &format!(
                "{SELECT_ENDPOINT} WHERE council_id = $1 AND status <> 'deleted'
                   AND ($2::uuid IS NULL OR organisation_id = $2)
                 ORDER BY created_at, id"
            ),
            &[&actor.council_id, &organisation_id],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// One endpoint the actor manages.
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Endpoint> {
    let organisation_id = scope(actor)?;
    let row = tx
        .query_opt(
            &format!(
                "{SELECT_ENDPOINT} WHERE council_id = $1 AND id = $2 AND status <> 'deleted'
                   AND ($3::uuid IS NULL OR organisation_id = $3)"
            ),
            &[&actor.council_id, &id, &organisation_id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    from_row(&row)
}

/// Deletes an endpoint: nothing more is sent to it (its pending deliveries are cancelled).
pub async fn delete(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<()> {
    get(tx, actor, id).await?;
    tx.execute(
        "UPDATE webhook_endpoints SET status = 'deleted' WHERE council_id = $1 AND id = $2",
        &[&actor.council_id, &id],
    )
    .await?;
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL
         WHERE council_id = $1 AND endpoint_id = $2 AND status = 'pending'",
        &[&actor.council_id, &id],
    )
    .await?;
    Ok(())
}

/// An endpoint's delivery log, newest first (at most 200).
pub async fn deliveries(tx: &Tx<'_>, actor: &Actor, id: Uuid) -> AppResult<Vec<Delivery>> {
    get(tx, actor, id).await?;
    let rows = tx
        .query(
            "SELECT d.id, d.event_id, e.event_type, d.status, d.attempts, d.next_attempt_at,
                    d.last_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.log,
                    e.payload
             FROM webhook_deliveries d
             JOIN webhook_events e ON e.council_id = d.council_id AND e.id = d.event_id
             WHERE d.council_id = $1 AND d.endpoint_id = $2
             ORDER BY e.created_at DESC, d.id LIMIT 200",
            &[&actor.council_id, &id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Delivery {
                id: row.try_get("id")?,
                webhook_id: webhook_id(row.try_get("event_id")?),
                event_type: row.try_get("event_type")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                next_attempt_at: row.try_get("next_attempt_at")?,
                last_attempt_at: row.try_get("last_attempt_at")?,
                last_status_code: row.try_get("last_status_code")?,
                last_error: row.try_get("last_error")?,
                delivered_at: row.try_get("delivered_at")?,
                log: row.try_get("log")?,
                payload: row.try_get("payload")?,
            })
        })
        .collect()
}

/// The hosts the council allows plain http for (council administrators).
pub async fn get_http_hosts(tx: &Tx<'_>, actor: &Actor) -> AppResult<HttpHosts> {
    actor.require(&[Role::CouncilAdmin])?;
    Ok(HttpHosts {
        hosts: http_hosts(tx, actor.council_id).await?,
    })
}

/// Replaces the hosts the council allows plain http for (council administrators).
pub async fn set_http_hosts(tx: &Tx<'_>, actor: &Actor, new: &HttpHosts) -> AppResult<HttpHosts> {
    actor.require(&[Role::CouncilAdmin])?;
    let mut hosts: Vec<String> = Vec::new();
    for host in &new.hosts {
        let host = host.trim().to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
        if !valid {
            return Err(AppError::invalid(
                "hosts",
                format!("{host:?} is not a host name"),
            ));
        }
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    tx.execute(
        "DELETE FROM webhook_http_hosts WHERE council_id = $1",
        &[&actor.council_id],
    )
    .await?;
    for host in &hosts {
        tx.execute(
            "INSERT INTO webhook_http_hosts (council_id, host) VALUES ($1, $2)",
            &[&actor.council_id, host],
        )
        .await?;
    }
    Ok(HttpHosts {
        hosts: http_hosts(tx, actor.council_id).await?,
    })
}
