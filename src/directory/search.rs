//! Finding services in the council's directory: by words, taxonomy term and distance from a
//! postcode (haversine over the imported locations' latitude and longitude). The searched
//! postcode's position is that of an imported location with the same postcode: a postcode no
//! imported location has is refused (400), as allot holds no postcode table.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::postcode_key;
use crate::auth::{Actor, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

/// Services a page of search results holds.
pub const PAGE_SIZE: i64 = 20;

/// Who may search the directory.
pub const READERS: [Role; 5] = [
    Role::Broker,
    Role::CareManager,
    Role::BudgetHolder,
    Role::Representative,
    Role::CouncilAdmin,
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostOption {
    pub id: String,
    pub option: Option<String>,
    /// Indicative: as the feed gives it.
    #[schema(value_type = Option<String>, example = "24.50")]
    pub amount: Option<Decimal>,
    pub amount_description: Option<String>,
    /// What the amount is per (`hour`, `session`, `day`, `night`, `visit`, `meal`, `week`, `month`
    /// or `unit`).
    pub unit: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: String,
    pub name: Option<String>,
    pub location_type: String,
    pub address_1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaxonomyTerm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub taxonomy: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A service of the directory.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    /// `active`, `inactive`, `defunct` or `temporarily closed`.
    pub status: String,
    /// Gone from the feed at the last import (and so `inactive`).
    pub withdrawn: bool,
    pub fees: Option<String>,
    pub organisation: Organisation,
    pub last_modified: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub cost_options: Vec<CostOption>,
    pub locations: Vec<Location>,
    pub contacts: Vec<Contact>,
    pub taxonomy_terms: Vec<TaxonomyTerm>,
    /// From the searched postcode to the nearest of the service's locations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// What is searched for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub search: Option<String>,
    pub taxonomy_term: Option<String>,
    pub near_postcode: Option<String>,
    pub within_km: Option<f64>,
    pub page: Option<i64>,
}

/// A page of results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub items: Vec<Service>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

/// Distance within which services are found near a postcode, unless `within_km` says.
pub const DEFAULT_WITHIN_KM: f64 = 10.0;

/// Haversine distance in km between ($lat, $lon) and a location `l`.
const HAVERSINE: &str = "(2 * 6371.0088 * asin(least(1.0, sqrt(
        power(sin(radians(l.latitude - $LAT) / 2), 2)
        + cos(radians($LAT)) * cos(radians(l.latitude)) * power(sin(radians(l.longitude - $LON) / 2), 2)))))";

fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Active services matching `query`, nearest first when near a postcode, else by name.
pub async fn search(tx: &Tx<'_>, actor: &Actor, query: &SearchQuery) -> AppResult<SearchPage> {
    actor.require(&READERS)?;
    let council_id = actor.council_id;
    let page = query.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        return Err(AppError::invalid("page", "a page number from 1"));
    }
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::invalid("search", "at most 200 characters"));
    }
    let term = query
        .taxonomy_term
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let within = query.within_km.unwrap_or(DEFAULT_WITHIN_KM);
    if !(within > 0.0 && within <= 1000.0) {
        return Err(AppError::invalid(
            "within_km",
            "a distance over 0 and up to 1000 km",
        ));
    }
    if query.within_km.is_some() && query.near_postcode.is_none() {
        return Err(AppError::invalid(
            "within_km",
            "give near_postcode with within_km",
        ));
    }
    let origin = match query.near_postcode.as_deref() {
        None => None,
        Some(postcode) => {
            let key = postcode_key(postcode);
            if key.len() < 5 || key.len() > 7 {
                return Err(AppError::invalid("near_postcode", "not a UK postcode"));
            }
            let found = tx
                .query_opt(
                    "SELECT latitude, longitude FROM directory_locations
                     WHERE council_id = $1 AND postcode_key = $2 AND latitude IS NOT NULL
                     ORDER BY service_id, id LIMIT 1",
                    &[&council_id, &key],
                )
                .await?;
            let Some(row) = found else {
                return Err(AppError::invalid(
                    "near_postcode",
                    format!(
                        "{} is not the postcode of any place in the directory",
                        postcode.trim()
                    ),
                ));
            };
            Some((row.get::<_, f64>(0), row.get::<_, f64>(1)))
        }
    };
    let (lat, lon) = origin.unwrap_or((0.0, 0.0));
    let near = origin.is_some();
    let distance = HAVERSINE.replace("$LAT", "$5").replace("$LON", "$6");
    let sql = format!(
        "WITH found AS (
            SELECT s.id, s.name,
                   (SELECT min({distance}) FROM directory_locations l
                    WHERE l.council_id = s.council_id AND l.service_id = s.id AND l.latitude IS NOT NULL) AS distance_km
            FROM directory_services s
            WHERE s.council_id = $1 AND s.status = 'active' AND NOT s.withdrawn
              AND ($2::text IS NULL OR s.name ILIKE $2 OR s.description ILIKE $2 OR s.organisation_name ILIKE $2
                   OR EXISTS (SELECT 1 FROM directory_service_terms t WHERE t.council_id = s.council_id
                              AND t.service_id = s.id AND t.name ILIKE $2))
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM directory_service_terms t
                   WHERE t.council_id = s.council_id AND t.service_id = s.id
                     AND (lower(t.name) = lower($3) OR t.id = $3)))
        )
        SELECT id, distance_km, count(*) OVER () FROM found
        WHERE NOT $4 OR distance_km <= $7
        ORDER BY CASE WHEN $4 THEN distance_km END, lower(name), id
        LIMIT $8 OFFSET $9"
    );
    let pattern = search.map(like_pattern);
    let offset = (page - 1) * PAGE_SIZE;
    let rows = tx
        .query(
            &sql,
            &[
                &council_id,
                &pattern,
                &term,
                &near,
                &lat,
                &lon,
                &within,
                &PAGE_SIZE,
                &offset,
            ],
        )
        .await?;
    let total_items: i64 = match rows.first() {
        Some(row) => row.get(2),
        None => count_all(tx, &sql, council_id, &pattern, term, near, lat, lon, within).await?,
    };
    let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut items = load(tx, council_id, &ids).await?;
    for (item, row) in items.iter_mut().zip(&rows) {
        item.distance_km = if near {
            row.get::<_, Option<f64>>(1)
                .map(|d| (d * 100.0).round() / 100.0)
        } else {
            None
        };
    }
    Ok(SearchPage {
        items,
        page,
        per_page: PAGE_SIZE,
        total_items,
        total_pages: (total_items + PAGE_SIZE - 1) / PAGE_SIZE,
    })
}

/// The count when the page asked for is past the end.
#[allow(clippy::too_many_arguments)]
async fn count_all(
    tx: &Tx<'_>,
    sql: &str,
    council_id: Uuid,
    pattern: &Option<String>,
    term: Option<&str>,
    near: bool,
    lat: f64,
    lon: f64,
    within: f64,
) -> AppResult<i64> {
    let rows = tx
        .query(
            sql,
            &[
                &council_id,
                pattern,
                &term,
                &near,
                &lat,
                &lon,
                &within,
                &1i64,
                &0i64,
            ],
        )
        .await?;
    Ok(rows.first().map_or(0, |r| r.get(2)))
}

/// One service (any status) for the directory's readers; 404 for another council's or none.
pub async fn get(tx: &Tx<'_>, actor: &Actor, id: &str) -> AppResult<Service> {
    actor.require(&READERS)?;
    load(tx, actor.council_id, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// The services with these ids, in the order given (ids not found are left out).
pub async fn load(tx: &Tx<'_>, council_id: Uuid, ids: &[String]) -> AppResult<Vec<Service>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx
        .query(
            "SELECT id, name, description, url, email, status, withdrawn, fees, organisation_id,
                    organisation_name, organisation_description, last_modified, version, updated_at
             FROM directory_services WHERE council_id = $1 AND id = ANY($2)",
            &[&council_id, &ids],
        )
        .await?;
    let mut services: Vec<Service> = rows
        .iter()
        .map(|r| Service {
            id: r.get(0),
            name: r.get(1),
            description: r.get(2),
            url: r.get(3),
            email: r.get(4),
            status: r.get(5),
            withdrawn: r.get(6),
            fees: r.get(7),
            organisation: Organisation {
                id: r.get(8),
                name: r.get(9),
                description: r.get(10),
            },
            last_modified: r.get(11),
            version: r.get(12),
            updated_at: r.get(13),
            cost_options: Vec::new(),
            locations: Vec::new(),
            contacts: Vec::new(),
            taxonomy_terms: Vec::new(),
            distance_km: None,
        })
        .collect();
    let find = |services: &mut Vec<Service>, id: &str| services.iter().position(|s| s.id == id);
    for r in tx
        .query(
            "SELECT service_id, id, option, amount, amount_description, unit, valid_from, valid_to
             FROM directory_cost_options WHERE council_id = $1 AND service_id = ANY($2)
             ORDER BY service_id, position",
            &[&council_id, &ids],
        )
        .await?
    {
        if let Some(i) = find(&mut services, r.get(0)) {
            services[i].cost_options.push(CostOption {
                id: r.get(1),
                option: r.get(2),
                amount: r.get(3),
                amount_description: r.get(4),
                unit: r.get(5),
                valid_from: r.get(6),
                valid_to: r.get(7),
            });
        }
    }
    for r in tx
        .query(
            "SELECT service_id, id, name, location_type, address_1, city, postcode, latitude, longitude
             FROM directory_locations WHERE council_id = $1 AND service_id = ANY($2)
             ORDER BY service_id, position",
            &[&council_id, &ids],
        )
        .await?
    {
        if let Some(i) = find(&mut services, r.get(0)) {
            services[i].locations.push(Location {
                id: r.get(1),
                name: r.get(2),
                location_type: r.get(3),
                address_1: r.get(4),
                city: r.get(5),
                postcode: r.get(6),
                latitude: r.get(7),
                longitude: r.get(8),
            });
        }
    }
    for r in tx
        .query(
            "SELECT service_id, id, name, title, phone, email
             FROM directory_contacts WHERE council_id = $1 AND service_id = ANY($2)
             ORDER BY service_id, position",
            &[&council_id, &ids],
        )
        .await?
    {
        if let Some(i) = find(&mut services, r.get(0)) {
            services[i].contacts.push(Contact {
                id: r.get(1),
                name: r.get(2),
                title: r.get(3),
                phone: r.get(4),
                email: r.get(5),
            });
        }
    }
    for r in tx
        .query(
            "SELECT service_id, id, name, description, taxonomy
             FROM directory_service_terms WHERE council_id = $1 AND service_id = ANY($2)
             ORDER BY service_id, position",
            &[&council_id, &ids],
        )
        .await?
    {
        if let Some(i) = find(&mut services, r.get(0)) {
            services[i].taxonomy_terms.push(TaxonomyTerm {
                id: r.get(1),
                name: r.get(2),
                description: r.get(3),
                taxonomy: r.get(4),
            });
        }
    }
    services.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
    Ok(services)
}
