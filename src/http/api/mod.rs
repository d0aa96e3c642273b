//! The JSON API under `/api/v1`. Every handler is annotated for OpenAPI and registered through
//! `utoipa_axum::routes!`, so the published description is generated from the handlers themselves.

mod agreements;
mod assessments;
mod audit_samples;
mod auth;
mod bank_changes;
mod bank_statements;
mod banking;
mod budgets;
mod cards;
mod charging;
mod contributions;
pub(crate) mod directory;
mod evidence;
mod family_approvals;
mod interim;
mod invoice_import;
mod invoices;
mod ledger;
mod ledger_views;
mod me;
mod organisations;
mod own_statement;
mod payees;
mod payment_runs;
pub(crate) mod payments;
mod payroll;
mod people;
mod plans;
mod policy;
pub(crate) mod reports;
mod returns;
mod reviews;
mod surplus;
mod timesheets;
mod users;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "allot API", version = "1", description = include_str!("openapi.md")),
    modifiers(&BearerAuth),
    components(schemas(super::error::ErrorEnvelope))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A page of a list: `{"items":[...],"next_cursor":...}` (API.md).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct List<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: utoipa::ToSchema> List<T> {
    /// A complete list in one page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::create_token))
        .routes(routes!(me::me))
        .routes(routes!(organisations::create, organisations::list))
        .routes(routes!(organisations::patch))
        .routes(routes!(organisations::put_fee))
        .routes(routes!(organisations::fee_charges))
        .routes(routes!(users::create, users::list))
        .routes(routes!(people::create, people::list))
        .routes(routes!(ledger::statement))
        .routes(routes!(ledger::reverse))
        .routes(routes!(ledger::verify))
        .routes(routes!(people::get, people::patch))
        .routes(routes!(budgets::create))
        .routes(routes!(budgets::get, budgets::patch))
        .routes(routes!(own_statement::get))
        .routes(routes!(plans::put))
        .routes(routes!(plans::approve))
        .routes(routes!(plans::submit))
        .routes(routes!(plans::return_plan))
        .routes(routes!(interim::create))
        .routes(routes!(family_approvals::create))
        .routes(routes!(contributions::create))
        .routes(routes!(contributions::list))
        .routes(routes!(contributions::approve))
        .routes(routes!(contributions::reject))
        .routes(routes!(bank_changes::list))
        .routes(routes!(bank_changes::get))
        .routes(routes!(bank_changes::verify))
        .routes(routes!(reviews::list))
        .routes(routes!(reviews::complete))
        .routes(routes!(reviews::request))
        .routes(routes!(reviews::due))
        .routes(routes!(surplus::list))
        .routes(routes!(surplus::issue))
        .routes(routes!(surplus::notices))
        .routes(routes!(surplus::get))
        .routes(routes!(surplus::reconsider))
        .routes(routes!(surplus::decide))
        .routes(routes!(surplus::recover))
        .routes(routes!(payees::create))
        .routes(routes!(payees::get, payees::patch))
        .routes(routes!(charging::get))
        .routes(routes!(banking::put, banking::get))
        .routes(routes!(payment_runs::create, payment_runs::list))
        .routes(routes!(payment_runs::get))
        .routes(routes!(payment_runs::submit))
        .routes(routes!(payment_runs::approve))
        .routes(routes!(payment_runs::reject))
        .routes(routes!(payment_runs::bacs18))
        .routes(routes!(payment_runs::pain001))
        .routes(routes!(agreements::create, agreements::list))
        .routes(routes!(agreements::end))
        .routes(routes!(policy::get, policy::put))
        .routes(routes!(policy::versions))
        .routes(routes!(payments::create))
        .routes(routes!(payments::get))
        .routes(routes!(payments::approve))
        .routes(routes!(payments::reject))
        .routes(routes!(payments::queue))
        .routes(routes!(payments::decisions))
        .routes(routes!(invoices::create, invoices::list))
        .routes(routes!(invoice_import::import))
        .routes(routes!(invoices::get))
        .routes(routes!(invoices::dispute))
        .routes(routes!(invoices::resolve))
        .routes(routes!(invoices::reject))
        .routes(routes!(invoices::pay))
        .routes(routes!(timesheets::create, timesheets::list))
        .routes(routes!(timesheets::get))
        .routes(routes!(timesheets::approve))
        .routes(routes!(timesheets::reject))
        .routes(routes!(timesheets::correct))
        .routes(routes!(payroll::create))
        .routes(routes!(bank_statements::import))
        .routes(routes!(bank_statements::get))
        .routes(routes!(bank_statements::match_line))
        .routes(routes!(bank_statements::unmatch_line))
        .routes(routes!(cards::create, cards::list))
        .routes(routes!(cards::list_exceptions))
        .routes(routes!(cards::review_exception))
        .routes(routes!(cards::get))
        .routes(routes!(cards::freeze))
        .routes(routes!(cards::unfreeze))
        .routes(routes!(cards::cancel))
        .routes(routes!(cards::card_events))
        .routes(routes!(returns::get, returns::submit))
        .routes(routes!(returns::list))
        .routes(routes!(reports::delivery_mechanism))
        .routes(routes!(reports::cld))
        .routes(routes!(directory::list))
        .routes(routes!(directory::get))
        .routes(routes!(directory::oruk_root))
        .routes(routes!(directory::oruk_services))
        .routes(routes!(directory::oruk_service))
        .merge(
            // The only route whose body may be larger than the server-wide limit: a file.
            OpenApiRouter::new()
                .routes(routes!(evidence::attach, evidence::list))
                .layer(DefaultBodyLimit::max(crate::evidence::MAX_EVIDENCE_BYTES)),
        )
        .routes(routes!(evidence::missing))
        .routes(routes!(evidence::get))
        .routes(routes!(evidence::pack))
        .routes(routes!(audit_samples::create, audit_samples::list))
        .routes(routes!(audit_samples::get))
        .routes(routes!(audit_samples::record_finding))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::get_http_hosts, webhooks::put_http_hosts))
        // Assessment to indicative budget; carers.
        .routes(routes!(assessments::get_ras, assessments::put_ras))
        .routes(routes!(assessments::ras_versions))
        .routes(routes!(assessments::create, assessments::list))
        .routes(routes!(assessments::link_carer))
}
