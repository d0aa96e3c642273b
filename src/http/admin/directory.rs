//! The service directory page: the API's search with a form.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::session::AdminSession;
use super::AdminResult;
use crate::directory::search::{self, SearchQuery, READERS};
use crate::error::AppError;
use crate::http::extract::Query;
use crate::http::AppState;
use allot_views::pages::directory::{directory, DirectoryFilters, DirectoryPage, DirectoryRow};

fn typed(query: &HashMap<String, String>, name: &str) -> String {
    query
        .get(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// Search the directory (brokers, care managers, the person, representatives, administrators).
pub async fn list(
    State(state): State<AppState>,
    session: AdminSession,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult<Response> {
    session.actor.require(&READERS)?;
    let shell = session.shell(&state, "/directory").await?;
    let filters = DirectoryFilters {
        search: typed(&query, "search"),
        taxonomy_term: typed(&query, "taxonomy_term"),
        near_postcode: typed(&query, "near_postcode"),
        within_km: typed(&query, "within_km"),
    };
    let mut errors = Vec::new();
    let within_km = match filters.within_km.as_str() {
        "" => None,
        text => match text.parse::<f64>() {
            Ok(km) if km.is_finite() => Some(km),
            _ => {
                errors.push("Within: give a distance in km, like 10".to_string());
                None
            }
        },
    };
    let page = typed(&query, "page").parse::<i64>().ok();
    let search_query = SearchQuery {
        search: Some(filters.search.clone()).filter(|s| !s.is_empty()),
        taxonomy_term: Some(filters.taxonomy_term.clone()).filter(|s| !s.is_empty()),
        near_postcode: Some(filters.near_postcode.clone()).filter(|s| !s.is_empty()),
        within_km: within_km.filter(|_| !filters.near_postcode.is_empty()),
        page,
    };
    let mut found = None;
    if errors.is_empty() {
        let actor = session.actor.clone();
        match state
            .in_tenant_tx(actor.council_id, |tx| {
                Box::pin(async move { search::search(tx, &actor, &search_query).await })
            })
            .await
        {
            Ok(result) => found = Some(result),
            Err(AppError::Invalid { message, .. }) => errors.push(message),
            Err(e) => return Err(e.into()),
        }
    }
    let query_string = serde_urlencoded::to_string([
        ("search", &filters.search),
        ("taxonomy_term", &filters.taxonomy_term),
        ("near_postcode", &filters.near_postcode),
        ("within_km", &filters.within_km),
    ])
    .unwrap_or_default();
    let (rows, total_items, page, total_pages) = match found {
        None => (Vec::new(), 0, 1, 0),
        Some(result) => (
            result
                .items
                .into_iter()
                .map(|s| DirectoryRow {
                    name: s.name,
                    organisation: s.organisation.name,
                    description: s.description,
                    costs: s
                        .cost_options
                        .iter()
                        .map(|c| {
                            let amount =
                                c.amount.map_or("no price".to_string(), |a| format!("£{a}"));
                            match &c.option {
                                Some(option) => format!("{amount} per {} ({option})", c.unit),
                                None => format!("{amount} per {}", c.unit),
                            }
                        })
                        .collect(),
                    places: s
                        .locations
                        .iter()
                        .map(|l| {
                            [l.name.as_deref(), l.postcode.as_deref()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .collect(),
                    terms: s.taxonomy_terms.into_iter().map(|t| t.name).collect(),
                    distance_km: s.distance_km,
                })
                .collect(),
            result.total_items,
            result.page,
            result.total_pages,
        ),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let markup = directory(
        &shell,
        &DirectoryPage {
            filters,
            rows,
            total_items,
            page,
            total_pages,
            errors,
            query: query_string,
        },
    );
    Ok((status, markup).into_response())
}
