//! Reading Open Referral UK feeds: the paged list (3.0 `{total_pages, contents}`, 1.0
//! `{totalPages, content}`), then each service's full record (`/services/{id}`), or a saved file.
//! Everything is read and checked before anything is written: a malformed page or record stops
//! the import with an error naming where it was.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    unit_of, ImportedContact, ImportedCostOption, ImportedLocation, ImportedService, ImportedTerm,
};

/// Services asked for per page of the feed.
pub const PER_PAGE: usize = 100;
/// A feed claiming more pages than this is refused (a guard against a runaway feed).
pub const MAX_PAGES: usize = 2_000;
/// Most services an import takes.
pub const MAX_SERVICES: usize = 50_000;

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{place}: {message}")]
    Malformed { place: String, message: String },
    #[error("{place}: {message}")]
    Fetch { place: String, message: String },
}

fn malformed(place: &str, message: impl Into<String>) -> FeedError {
    FeedError::Malformed {
        place: place.to_string(),
        message: message.into(),
    }
}

/// Told how far the reading has gone: services read so far, and how many the feed lists.
pub type FeedProgress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// One page of a list: the items and how many pages there are.
struct Page {
    items: Vec<Value>,
    total_pages: usize,
}

fn page_of(value: &Value, place: &str) -> Result<Page, FeedError> {
    let object = value
        .as_object()
        .ok_or_else(|| malformed(place, "a page must be a JSON object"))?;
    // 3.0: total_pages/contents; 1.0: totalPages/content.
    let items = object
        .get("contents")
        .or_else(|| object.get("content"))
        .ok_or_else(|| {
            malformed(
                place,
                "no `contents` (Open Referral UK 3.0) or `content` (1.0) list",
            )
        })?
        .as_array()
        .ok_or_else(|| malformed(place, "`contents` must be a list"))?
        .clone();
    let total_pages = match object
        .get("total_pages")
        .or_else(|| object.get("totalPages"))
    {
        None => 1,
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| malformed(place, "`total_pages` must be a whole number"))?,
    };
    if total_pages > MAX_PAGES {
        return Err(malformed(
            place,
            format!("the feed says it has {total_pages} pages; at most {MAX_PAGES} are read"),
        ));
    }
    Ok(Page { items, total_pages })
}

/// The services of a saved file: a list page (its items taken as full records), a list of
/// services, or one service.
pub fn read_file(bytes: &[u8], name: &str) -> Result<Vec<ImportedService>, FeedError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(name, format!("not JSON: {e}")))?;
    let records = match &value {
        Value::Array(items) => items.clone(),
        Value::Object(o) if o.contains_key("contents") || o.contains_key("content") => {
            page_of(&value, name)?.items
        }
        Value::Object(_) => vec![value.clone()],
        _ => {
            return Err(malformed(
                name,
                "expected a service, a list of services or a page",
            ))
        }
    };
    collect(
        records
            .iter()
            .enumerate()
            .map(|(i, record)| parse_service(record, &format!("{name}, service {}", i + 1))),
    )
}

fn collect(
    services: impl Iterator<Item = Result<ImportedService, FeedError>>,
) -> Result<Vec<ImportedService>, FeedError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for service in services {
        let service = service?;
        if !seen.insert(service.id.clone()) {
            return Err(malformed(
                &format!("service {}", service.id),
                "the feed lists this service twice",
            ));
        }
        out.push(service);
    }
    if out.len() > MAX_SERVICES {
        return Err(malformed(
            "feed",
            format!("more than {MAX_SERVICES} services"),
        ));
    }
    Ok(out)
}

/// Reads a feed at `base` (the address the feed's `/services` hangs from): every page of the
/// list, then every service's full record.
pub async fn fetch(
    base: &str,
    progress: FeedProgress<'_>,
) -> Result<Vec<ImportedService>, FeedError> {
    let base = base.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("allot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FeedError::Fetch {
            place: base.to_string(),
            message: e.to_string(),
        })?;
    let mut ids = Vec::new();
    let mut page_number = 1;
    loop {
        let place = format!("{base}/services?page={page_number}&per_page={PER_PAGE}");
        let value = get_json(&client, &place).await?;
        let page = page_of(&value, &place)?;
        for (i, item) in page.items.iter().enumerate() {
            let id = id_of(item.get("id"))
                .ok_or_else(|| malformed(&place, format!("item {} has no `id`", i + 1)))?;
            ids.push(id);
        }
        progress(0, ids.len());
        if page_number >= page.total_pages || page.items.is_empty() {
            break;
        }
        page_number += 1;
    }
    let total = ids.len();
    let mut services = Vec::with_capacity(total);
    for (done, id) in ids.iter().enumerate() {
        let place = format!("{base}/services/{}", encode_segment(id));
        let value = get_json(&client, &place).await?;
        let service = parse_service(&value, &place)?;
        if &service.id != id {
            return Err(malformed(
                &place,
                format!("the record's id is {}, not {id}", service.id),
            ));
        }
        services.push(Ok(service));
        progress(done + 1, total);
    }
    collect(services.into_iter())
}

fn encode_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn get_json(client: &reqwest::Client, place: &str) -> Result<Value, FeedError> {
    let fetch_error = |message: String| FeedError::Fetch {
        place: place.to_string(),
        message,
    };
    let response = client
        .get(place)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| fetch_error(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fetch_error(format!("the feed answered {status}")));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| fetch_error(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| malformed(place, format!("not JSON: {e}")))
}

/// An identifier: a string, or a number written as one.
fn id_of(value: Option<&Value>) -> Option<String> {
    let id = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty() && id.chars().count() <= 200).then_some(id)
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn list<'a>(value: &'a Value, key: &str, place: &str) -> Result<&'a [Value], FeedError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(malformed(place, format!("`{key}` must be a list"))),
    }
}

fn number(value: &Value, key: &str, place: &str) -> Result<Option<f64>, FeedError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| malformed(place, format!("`{key}` must be a number"))),
        Some(_) => Err(malformed(place, format!("`{key}` must be a number"))),
    }
}

/// A cost option's amount as a decimal, to the penny (what the feed gives is indicative).
fn amount(value: &Value, place: &str) -> Result<Option<Decimal>, FeedError> {
    let text = match value.get("amount") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().trim_start_matches('£').to_string(),
        Some(_) => return Err(malformed(place, "`amount` must be a number")),
    };
    let parsed = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| malformed(place, format!("`amount` {text} is not a number")))?;
    if parsed.is_sign_negative() || parsed > Decimal::from(1_000_000_000) {
        return Err(malformed(place, format!("`amount` {text} is out of range")));
    }
    Ok(Some(parsed.round_dp(2)))
}

fn date(value: &Value, key: &str, place: &str) -> Result<Option<chrono::NaiveDate>, FeedError> {
    match text(value, key) {
        None => Ok(None),
        Some(s) => {
            let day = s.get(..10).unwrap_or(&s);
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| malformed(place, format!("`{key}` {s} is not a date")))
        }
    }
}

/// One service record (3.0, or 1.0 where its names differ).
pub fn parse_service(value: &Value, place: &str) -> Result<ImportedService, FeedError> {
    if !value.is_object() {
        return Err(malformed(place, "a service must be a JSON object"));
    }
    let id = id_of(value.get("id"))
        .ok_or_else(|| malformed(place, "a service needs an `id` (1 to 200 characters)"))?;
    let place = &format!("{place} (service {id})");
    let name = text(value, "name").ok_or_else(|| malformed(place, "a service needs a `name`"))?;
    if name.chars().count() > 500 {
        return Err(malformed(place, "`name` is longer than 500 characters"));
    }
    let status = match text(value, "status") {
        None => "active".to_string(),
        Some(s) => {
            let s = s.to_lowercase();
            if !["active", "inactive", "defunct", "temporarily closed"].contains(&s.as_str()) {
                return Err(malformed(
                    place,
                    format!("`status` {s} is not active, inactive, defunct or temporarily closed"),
                ));
            }
            s
        }
    };
    let last_modified = match text(value, "last_modified") {
        None => None,
        Some(s) => Some(
            chrono::DateTime::parse_from_rfc3339(&s)
                .map_err(|_| malformed(place, format!("`last_modified` {s} is not a date-time")))?
                .with_timezone(&chrono::Utc),
        ),
    };
    let organisation = match value
        .get("organization")
        .or_else(|| value.get("organisation"))
    {
        Some(o) if o.is_object() => Some(o),
        None | Some(Value::Null) => None,
        Some(_) => return Err(malformed(place, "`organization` must be an object")),
    };

    let mut cost_options = Vec::new();
    for (i, option) in list(value, "cost_options", place)?.iter().enumerate() {
        let here = format!("{place}, cost_options[{i}]");
        let id = id_of(option.get("id")).ok_or_else(|| malformed(&here, "no `id`"))?;
        let amount_description = text(option, "amount_description");
        cost_options.push(ImportedCostOption {
            unit: unit_of(amount_description.as_deref()).to_string(),
            id,
            option: text(option, "option"),
            amount: amount(option, &here)?,
            amount_description,
            valid_from: date(option, "valid_from", &here)?,
            valid_to: date(option, "valid_to", &here)?,
        });
    }

    let mut locations = Vec::new();
    for (i, at) in list(value, "service_at_locations", place)?
        .iter()
        .enumerate()
    {
        let here = format!("{place}, service_at_locations[{i}]");
        let Some(location) = at.get("location").filter(|l| l.is_object()) else {
            continue;
        };
        let id = id_of(location.get("id"))
            .ok_or_else(|| malformed(&here, "a location needs an `id`"))?;
        let latitude = number(location, "latitude", &here)?;
        let longitude = number(location, "longitude", &here)?;
        // A position off the globe (the profile's own example has latitude 100) is no
        // position: the location is kept without one.
        let on_globe = latitude.is_some_and(|l| (-90.0..=90.0).contains(&l))
            && longitude.is_some_and(|l| (-180.0..=180.0).contains(&l));
        let (latitude, longitude) = if on_globe {
            (latitude, longitude)
        } else {
            (None, None)
        };
        // 3.0 `addresses`; 1.0 `physical_addresses`.
        let mut addresses = list(location, "addresses", &here)?.to_vec();
        addresses.extend(list(location, "physical_addresses", &here)?.iter().cloned());
        let address = addresses.first();
        locations.push(ImportedLocation {
            id,
            name: text(location, "name"),
            location_type: text(location, "location_type").unwrap_or_else(|| "physical".into()),
            address_1: address.and_then(|a| text(a, "address_1")),
            city: address.and_then(|a| text(a, "city")),
            postcode: address.and_then(|a| text(a, "postal_code")),
            latitude,
            longitude,
        });
    }

    let mut contacts = Vec::new();
    for (i, contact) in list(value, "contacts", place)?.iter().enumerate() {
        let here = format!("{place}, contacts[{i}]");
        let id = id_of(contact.get("id")).ok_or_else(|| malformed(&here, "no `id`"))?;
        let phone = list(contact, "phones", &here)?
            .first()
            .and_then(|p| text(p, "number"));
        contacts.push(ImportedContact {
            id,
            name: text(contact, "name"),
            title: text(contact, "title"),
            phone,
            email: text(contact, "email"),
        });
    }

    let mut terms: Vec<ImportedTerm> = Vec::new();
    // 3.0: attributes[].taxonomy_term; 1.0: service_taxonomys[].taxonomy.
    let attributes = list(value, "attributes", place)?
        .iter()
        .filter_map(|a| a.get("taxonomy_term"))
        .chain(
            list(value, "service_taxonomys", place)?
                .iter()
                .filter_map(|a| a.get("taxonomy")),
        );
    for (i, term) in attributes.enumerate() {
        if term.is_null() {
            continue;
        }
        let here = format!("{place}, taxonomy term {}", i + 1);
        let id = id_of(term.get("id")).ok_or_else(|| malformed(&here, "no `id`"))?;
        let name = text(term, "name")
            .or_else(|| text(term, "term"))
            .ok_or_else(|| malformed(&here, "a taxonomy term needs a `name`"))?;
        if terms.iter().any(|t| t.id == id) {
            continue;
        }
        terms.push(ImportedTerm {
            id,
            name,
            description: text(term, "description").unwrap_or_default(),
            taxonomy: text(term, "taxonomy").or_else(|| text(term, "vocabulary")),
        });
    }
    for (kind, ids) in [
        (
            "cost option",
            cost_options.iter().map(|c| &c.id).collect::<Vec<_>>(),
        ),
        ("location", locations.iter().map(|c| &c.id).collect()),
        ("contact", contacts.iter().map(|c| &c.id).collect()),
    ] {
        let unique: HashSet<_> = ids.iter().collect();
        if unique.len() != ids.len() {
            return Err(malformed(place, format!("a {kind} id appears twice")));
        }
    }

    Ok(ImportedService {
        id,
        name,
        description: text(value, "description").unwrap_or_default(),
        url: text(value, "url"),
        email: text(value, "email"),
        status,
        fees: text(value, "fees"),
        organisation_id: organisation.and_then(|o| id_of(o.get("id"))),
        organisation_name: organisation.and_then(|o| text(o, "name")),
        organisation_description: organisation.and_then(|o| text(o, "description")),
        last_modified,
        cost_options,
        locations,
        contacts,
        terms,
    })
}
