//! The council's directory published as Open Referral UK 3.0, read-only and without signing in:
//! `/openreferral/{council_id}/` (`{version, profile}`), `/openreferral/{council_id}/services`
//! (the paged envelope) and `/openreferral/{council_id}/services/{id}`. Every service is
//! published with its status (a service gone from the feed as `inactive`). Identifiers allot
//! makes for records the feed did not identify (an address, a link to a location or a taxonomy
//! term) are name-based UUIDs of what they link, so they are the same at every request.

use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::search::{load, Service};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

pub const VERSION: &str = "3.0";
/// The profile the output follows (the Open Referral UK profile of HSDS 3.0).
pub const PROFILE: &str = "https://github.com/OpenReferralUK/uk-profile";
pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;

/// 404 unless the council exists.
pub async fn require_council(tx: &Tx<'_>, council_id: Uuid) -> AppResult<()> {
    tx.query_opt("SELECT 1 FROM councils WHERE id = $1", &[&council_id])
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

pub fn root() -> Value {
    json!({ "version": VERSION, "profile": PROFILE })
}

/// A page of the council's services in the Open Referral UK 3.0 envelope.
pub async fn page(
    tx: &Tx<'_>,
    council_id: Uuid,
    page: Option<i64>,
    per_page: Option<i64>,
) -> AppResult<Value> {
    require_council(tx, council_id).await?;
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::invalid("page", "a page number from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AppError::invalid(
            "per_page",
            format!("from 1 to {MAX_PER_PAGE}"),
        ));
    }
    let total_items: i64 = tx
        .query_one(
            "SELECT count(*) FROM directory_services WHERE council_id = $1",
            &[&council_id],
        )
        .await?
        .get(0);
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM directory_services WHERE council_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
            &[&council_id, &per_page, &((page - 1) * per_page)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let contents: Vec<Value> = load(tx, council_id, &ids)
        .await?
        .iter()
        .map(service)
        .collect();
    let total_pages = (total_items + per_page - 1) / per_page;
    Ok(json!({
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page,
        "size": contents.len(),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    }))
}

/// One service in full; 404 when the council has no such service.
pub async fn one(tx: &Tx<'_>, council_id: Uuid, id: &str) -> AppResult<Value> {
    require_council(tx, council_id).await?;
    load(tx, council_id, &[id.to_string()])
        .await?
        .first()
        .map(service)
        .ok_or(AppError::NotFound)
}

/// A stable UUID for a record allot names: SHA-256 of the parts, as a version-5-style UUID.
fn derived_id(parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, parts.join("\u{1f}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn put(object: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        object.insert(key.to_string(), Value::String(v.to_string()));
    }
}

/// A service as Open Referral UK 3.0 (the compiled schema's `service`).
pub fn service(s: &Service) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(s.id));
    out.insert("name".into(), json!(s.name));
    out.insert("description".into(), json!(s.description));
    put(&mut out, "url", s.url.as_deref());
    put(&mut out, "email", s.email.as_deref());
    out.insert("status".into(), json!(s.status));
    put(&mut out, "fees", s.fees.as_deref());
    if let Some(at) = s.last_modified {
        out.insert(
            "last_modified".into(),
            json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
    }
    if let Some(org_id) = &s.organisation.id {
        out.insert("organization_id".into(), json!(org_id));
        out.insert(
            "organization".into(),
            json!({
                "id": org_id,
                "name": s.organisation.name.clone().unwrap_or_default(),
                "description": s.organisation.description.clone().unwrap_or_default(),
            }),
        );
    }
    let cost_options: Vec<Value> = s
        .cost_options
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert("id".into(), json!(c.id));
            o.insert("service_id".into(), json!(s.id));
            put(&mut o, "option", c.option.as_deref());
            if let Some(amount) = c.amount.and_then(|a| a.to_f64()) {
                o.insert("amount".into(), json!(amount));
            }
            put(
                &mut o,
                "amount_description",
                c.amount_description.as_deref(),
            );
            if let Some(d) = c.valid_from {
                o.insert("valid_from".into(), json!(d.to_string()));
            }
            if let Some(d) = c.valid_to {
                o.insert("valid_to".into(), json!(d.to_string()));
            }
            Value::Object(o)
        })
        .collect();
    out.insert("cost_options".into(), Value::Array(cost_options));
    let locations: Vec<Value> = s
        .locations
        .iter()
        .map(|l| {
            let mut location = Map::new();
            location.insert("id".into(), json!(l.id));
            location.insert("location_type".into(), json!(l.location_type));
            put(&mut location, "name", l.name.as_deref());
            if let (Some(lat), Some(lon)) = (l.latitude, l.longitude) {
                location.insert("latitude".into(), json!(lat));
                location.insert("longitude".into(), json!(lon));
            }
            if let Some(postcode) = &l.postcode {
                location.insert(
                    "addresses".into(),
                    json!([{
                        "id": derived_id(&["address", &s.id, &l.id]),
                        "location_id": l.id,
                        "address_1": l.address_1.clone().unwrap_or_default(),
                        "city": l.city.clone().unwrap_or_default(),
                        "state_province": "",
                        "postal_code": postcode,
                        "country": "GB",
                        "address_type": "physical",
                    }]),
                );
            }
            json!({
                "id": derived_id(&["service_at_location", &s.id, &l.id]),
                "service_id": s.id,
                "location_id": l.id,
                "location": location,
            })
        })
        .collect();
    out.insert("service_at_locations".into(), Value::Array(locations));
    let contacts: Vec<Value> = s
        .contacts
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert("id".into(), json!(c.id));
            o.insert("service_id".into(), json!(s.id));
            put(&mut o, "name", c.name.as_deref());
            put(&mut o, "title", c.title.as_deref());
            Value::Object(o)
        })
        .collect();
    out.insert("contacts".into(), Value::Array(contacts));
    let attributes: Vec<Value> = s
        .taxonomy_terms
        .iter()
        .map(|t| {
            let mut term = Map::new();
            term.insert("id".into(), json!(t.id));
            term.insert("name".into(), json!(t.name));
            term.insert("description".into(), json!(t.description));
            put(&mut term, "taxonomy", t.taxonomy.as_deref());
            json!({
                "id": derived_id(&["attribute", &s.id, &t.id]),
                "link_id": s.id,
                "link_type": "service",
                "taxonomy_term_id": t.id,
                "taxonomy_term": term,
            })
        })
        .collect();
    out.insert("attributes".into(), Value::Array(attributes));
    Value::Object(out)
}
