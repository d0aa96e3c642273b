//! Storing what a feed holds, in one transaction: services upserted by id (with their cost
//! options, locations, contacts and taxonomy terms), services gone from the feed made
//! `inactive`. A service whose imported content is unchanged is not written at all, so its
//! `version` and `updated_at` stay as they were.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{postcode_key, ImportedService};
use crate::auth::{Actor, Role};
use crate::db::{DbPool, Tx};
use crate::error::{AppError, AppResult};

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Services gone from the feed, now inactive.
    pub withdrawn: usize,
}

/// Told after each service is stored: done, total.
pub type StoreProgress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Only council administrators import the directory.
pub fn require_importer(actor: &Actor) -> AppResult<()> {
    actor.require(&[Role::CouncilAdmin])
}

/// The hash a service is compared by: SHA-256 of its imported content as JSON.
pub fn content_sha256(service: &ImportedService) -> AppResult<String> {
    let bytes = serde_json::to_vec(service).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &bytes,
    )))
}

/// Stores `services` for the actor's council in one transaction (retried as a whole).
pub async fn store(
    pool: &DbPool,
    actor: &Actor,
    services: Arc<Vec<ImportedService>>,
    now: DateTime<Utc>,
    progress: StoreProgress,
) -> AppResult<ImportReport> {
    require_importer(actor)?;
    if services.is_empty() {
        return Err(AppError::invalid(
            "feed",
            "the feed lists no services; nothing was changed (an empty feed would make every service inactive)",
        ));
    }
    crate::commands::write(pool, actor.council_id, move |tx| {
        let (actor, services, progress) = (actor.clone(), services.clone(), progress.clone());
        Box::pin(async move { store_in_tx(tx, &actor, &services, now, &progress).await })
    })
    .await
}

pub async fn store_in_tx(
    tx: &Tx<'_>,
    actor: &Actor,
    services: &[ImportedService],
    now: DateTime<Utc>,
    progress: &StoreProgress,
) -> AppResult<ImportReport> {
    require_importer(actor)?;
    let council_id = actor.council_id;
    let existing: HashMap<String, (String, bool)> = tx
        .query(
            "SELECT id, content_sha256, withdrawn FROM directory_services WHERE council_id = $1",
            &[&council_id],
        )
        .await?
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let mut report = ImportReport::default();
    let total = services.len();
    progress(0, total);
    for (done, service) in services.iter().enumerate() {
        let hash = content_sha256(service)?;
        match existing.get(&service.id) {
            Some((old, false)) if *old == hash => report.unchanged += 1,
            Some(_) => {
                tx.execute(
                    "UPDATE directory_services SET name = $3, description = $4, url = $5, email = $6,
                        status = $7, withdrawn = false, fees = $8, organisation_id = $9,
                        organisation_name = $10, organisation_description = $11, last_modified = $12,
                        content_sha256 = $13, version = version + 1, imported_at = $14, updated_at = $14
                     WHERE council_id = $1 AND id = $2",
                    &[
                        &council_id,
                        &service.id,
                        &service.name,
                        &service.description,
                        &service.url,
                        &service.email,
                        &service.status,
                        &service.fees,
                        &service.organisation_id,
                        &service.organisation_name,
                        &service.organisation_description,
                        &service.last_modified,
                        &hash,
                        &now,
                    ],
                )
                .await?;
                for table in [
                    "directory_cost_options",
                    "directory_locations",
                    "directory_contacts",
                    "directory_service_terms",
                ] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE council_id = $1 AND service_id = $2"),
                        &[&council_id, &service.id],
                    )
                    .await?;
                }
                insert_children(tx, council_id, service).await?;
                report.changed += 1;
            }
            None => {
                tx.execute(
                    "INSERT INTO directory_services (council_id, id, name, description, url, email, status,
                        fees, organisation_id, organisation_name, organisation_description, last_modified,
                        content_sha256, imported_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
                    &[
                        &council_id,
                        &service.id,
                        &service.name,
                        &service.description,
                        &service.url,
                        &service.email,
                        &service.status,
                        &service.fees,
                        &service.organisation_id,
                        &service.organisation_name,
                        &service.organisation_description,
                        &service.last_modified,
                        &hash,
                        &now,
                    ],
                )
                .await?;
                insert_children(tx, council_id, service).await?;
                report.added += 1;
            }
        }
        progress(done + 1, total);
    }
    let in_feed: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
    let gone: HashSet<&String> = existing
        .iter()
        .filter(|(id, (_, withdrawn))| !withdrawn && !in_feed.contains(&id.as_str()))
        .map(|(id, _)| id)
        .collect();
    if !gone.is_empty() {
        let gone: Vec<&String> = gone.into_iter().collect();
        report.withdrawn = tx
            .execute(
                "UPDATE directory_services SET status = 'inactive', withdrawn = true,
                    version = version + 1, updated_at = $3
                 WHERE council_id = $1 AND id = ANY($2) AND NOT withdrawn",
                &[&council_id, &gone, &now],
            )
            .await? as usize;
    }
    Ok(report)
}

async fn insert_children(
    tx: &Tx<'_>,
    council_id: uuid::Uuid,
    service: &ImportedService,
) -> AppResult<()> {
    for (position, option) in (1i32..).zip(&service.cost_options) {
        tx.execute(
            "INSERT INTO directory_cost_options (council_id, service_id, id, position, option, amount,
                amount_description, unit, valid_from, valid_to)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &council_id,
                &service.id,
                &option.id,
                &position,
                &option.option,
                &option.amount,
                &option.amount_description,
                &option.unit,
                &option.valid_from,
                &option.valid_to,
            ],
        )
        .await?;
    }
    for (position, location) in (1i32..).zip(&service.locations) {
        let key = location.postcode.as_deref().map(postcode_key);
        tx.execute(
            "INSERT INTO directory_locations (council_id, service_id, id, position, name, location_type,
                address_1, city, postcode, postcode_key, latitude, longitude)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &council_id,
                &service.id,
                &location.id,
                &position,
                &location.name,
                &location.location_type,
                &location.address_1,
                &location.city,
                &location.postcode,
                &key,
                &location.latitude,
                &location.longitude,
            ],
        )
        .await?;
    }
    for (position, contact) in (1i32..).zip(&service.contacts) {
        tx.execute(
            "INSERT INTO directory_contacts (council_id, service_id, id, position, name, title, phone, email)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &council_id,
                &service.id,
                &contact.id,
                &position,
                &contact.name,
                &contact.title,
                &contact.phone,
                &contact.email,
            ],
        )
        .await?;
    }
    for (position, term) in (1i32..).zip(&service.terms) {
        tx.execute(
            "INSERT INTO directory_service_terms (council_id, service_id, id, position, name, description, taxonomy)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &council_id,
                &service.id,
                &term.id,
                &position,
                &term.name,
                &term.description,
                &term.taxonomy,
            ],
        )
        .await?;
    }
    Ok(())
}
