//! The admin pages (server-rendered HTML). Signed-in pages take an [`session::AdminSession`];
//! every form post goes through [`session::CsrfForm`], which refuses a missing or wrong CSRF token.
//! Errors render an HTML page with the right status; nothing here leaks whether a thing exists.

mod agreements;
mod assessments;
mod audit;
mod bank_changes;
mod budgets;
mod cards;
mod casework;
mod council;
mod dashboard;
mod directory;
mod finance;
pub mod labels;
mod ledger;
mod login;
mod payment_runs;
mod payments;
mod people;
mod plans;
mod provider;
mod reports;
mod reviews;
pub mod session;
mod surplus;
mod webhooks;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use super::AppState;
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
        .route("/people", get(people::list))
        .route("/people/{id}", get(people::show))
        .route("/budgets", get(budgets::list))
        .route("/budgets/{id}", get(budgets::show))
        .route("/budgets/{id}/statement", get(budgets::statement))
        .route("/budgets/{id}/plan", get(plans::edit).post(plans::save))
        .route("/budgets/{id}/plan/approve", post(plans::approve))
        .route("/budgets/{id}/plan/submit", post(plans::submit))
        .route("/budgets/{id}/plan/return", post(plans::return_plan))
        .route("/accounts/{id}", get(ledger::account))
        .route("/entries/{id}", get(ledger::entry))
        .route("/reviews", get(reviews::list))
        .route("/directory", get(directory::list))
        .route(
            "/budgets/{id}/review",
            get(reviews::form).post(reviews::complete),
        )
        .route("/surplus", get(surplus::list))
        .route(
            "/budgets/{id}/surplus-notices/new",
            get(surplus::new_notice),
        )
        .route("/budgets/{id}/surplus-notices", post(surplus::issue))
        .route("/surplus-notices/{id}", get(surplus::show))
        .route(
            "/surplus-notices/{id}/reconsideration",
            post(surplus::reconsider),
        )
        .route("/surplus-notices/{id}/decision", post(surplus::decide))
        .route("/surplus-notices/{id}/recover", post(surplus::recover))
        .route(
            "/budgets/{id}/agreement",
            get(agreements::show).post(agreements::record),
        )
        .route(
            "/budgets/{id}/agreement/{grant_id}/end",
            post(agreements::end),
        )
        .route("/approvals", get(payments::approvals))
        .route("/cards", get(cards::list).post(cards::register))
        .route("/cards/exceptions", get(cards::exceptions_list))
        .route("/cards/exceptions/{id}/review", post(cards::review))
        .route("/cards/{id}", get(cards::show))
        .route("/cards/{id}/freeze", post(cards::freeze))
        .route("/cards/{id}/unfreeze", post(cards::unfreeze))
        .route("/cards/{id}/cancel", post(cards::cancel))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route("/bank-details", get(bank_changes::list))
        .route("/bank-details/{id}/verify", post(bank_changes::verify))
        .route("/payments/{id}/approve", post(payments::approve))
        .route("/payments/{id}/reject", post(payments::reject))
        .route("/budgets/{id}/decisions", get(payments::decisions))
        .route(
            "/budgets/{id}/pay",
            get(payments::pay_form).post(payments::pay_submit),
        )
        .route(
            "/payment-runs",
            get(payment_runs::list).post(payment_runs::create),
        )
        .route("/payment-runs/{id}", get(payment_runs::show))
        .route("/payment-runs/{id}/submit", post(payment_runs::submit))
        .route("/payment-runs/{id}/approve", post(payment_runs::approve))
        .route("/payment-runs/{id}/reject", post(payment_runs::reject))
        .route("/payment-runs/{id}/bacs18", get(payment_runs::bacs18))
        .route("/payment-runs/{id}/pain001", get(payment_runs::pain001))
        .route("/audit/samples", get(audit::list).post(audit::draw))
        .route("/audit/samples/{id}", get(audit::show))
        .route("/audit/samples/{id}/findings", post(audit::record_finding))
        .route("/evidence/missing", get(audit::missing))
        .route(
            "/reports/delivery-mechanism",
            get(reports::delivery_mechanism),
        )
        .route("/reports/cld", get(reports::cld_page))
        .route("/reports/cld.csv", get(reports::cld_csv))
        .route(
            "/audit/chain",
            get(reports::chain).post(reports::verify_chain),
        )
        .route("/evidence/{sha256}", get(audit::evidence_file))
        .route("/invoices", get(provider::invoice_list))
        .route("/invoices/{id}", get(provider::invoice_show))
        .route("/invoices/{id}/pay", post(provider::invoice_pay))
        .route("/invoices/{id}/decide", post(provider::invoice_decide))
        .route("/timesheets", get(provider::timesheet_list))
        .route(
            "/timesheets/{id}/approve",
            post(provider::timesheet_approve),
        )
        .route("/timesheets/{id}/reject", post(provider::timesheet_reject))
        .route(
            "/timesheets/{id}/correct",
            post(provider::timesheet_correct),
        )
        .route(
            "/payroll",
            get(provider::payroll_form).post(provider::payroll_submit),
        )
        .route("/bank-statements", get(provider::client_accounts))
        .route(
            "/accounts/{id}/bank-statements",
            get(provider::account_statements).post(provider::upload_statement),
        )
        .route("/bank-statements/{id}", get(provider::statement_show))
        .route(
            "/bank-statement-lines/{id}/match",
            post(provider::line_match),
        )
        .route(
            "/bank-statement-lines/{id}/unmatch",
            post(provider::line_unmatch),
        )
        .route(
            "/returns",
            get(provider::return_show).post(provider::return_submit),
        )
        .route("/static/allot.css", get(stylesheet))
        // Assessments, carers and the council's RAS.
        .route(
            "/people/{id}/assessments",
            post(assessments::record_assessment),
        )
        .route("/people/{id}/carers", post(assessments::record_carer))
        .route(
            "/council/ras",
            get(assessments::ras_show).post(assessments::ras_save),
        )
        // Casework: care managers' people, budgets, interim support, family payments, capacity;
        // a budget holder's request for their own personal assistant.
        .route(
            "/people/new",
            get(casework::person_new_form).post(casework::person_new),
        )
        .route(
            "/people/{id}/capacity",
            get(casework::capacity_form_page).post(casework::capacity_submit),
        )
        .route(
            "/budgets/new",
            get(casework::budget_new_form).post(casework::budget_new),
        )
        .route(
            "/budgets/{id}/urgent-interim",
            get(casework::interim_form_page).post(casework::interim_submit),
        )
        .route(
            "/budgets/{id}/family-payments",
            get(casework::family_form_page).post(casework::family_submit),
        )
        .route(
            "/payee-requests/new",
            get(casework::pa_request_form).post(casework::pa_request_submit),
        )
        // Finance officers: payees to verify, contributions, reversals.
        .route("/payees", get(finance::payees))
        .route("/payees/{id}/verify", post(finance::verify_payee))
        .route(
            "/contributions",
            get(finance::contributions_page).post(finance::record_contribution),
        )
        .route(
            "/contributions/{id}/approve",
            post(finance::approve_contribution),
        )
        .route(
            "/contributions/{id}/reject",
            post(finance::reject_contribution),
        )
        .route(
            "/payments/{id}/reverse",
            get(finance::reverse_form).post(finance::reverse),
        )
        // The council administrator's pages: organisations, users, policy, banking, charging.
        .route(
            "/council/organisations",
            get(council::organisations_list).post(council::organisations_add),
        )
        .route(
            "/council/organisations/{id}",
            get(council::organisation_show).post(council::organisation_change),
        )
        .route(
            "/council/users",
            get(council::users_list).post(council::users_add),
        )
        .route("/council/users/{id}", get(council::user_show))
        .route(
            "/council/policy",
            get(council::policy_show).post(council::policy_change),
        )
        .route("/council/policy/versions", get(council::policy_versions))
        .route(
            "/council/banking",
            get(council::banking_show).post(council::banking_change),
        )
        .route("/council/charging", get(council::charging_show))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        allot_views::static_files::CSS,
    )
        .into_response()
}

/// An error on an admin page, rendered as HTML.
#[derive(Debug)]
pub enum AdminError {
    /// Not signed in (or the session expired): go to the sign-in page.
    SignIn,
    Page {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl AdminError {
    pub fn csrf() -> Self {
        AdminError::Page {
            status: StatusCode::FORBIDDEN,
            title: "This form has expired",
            message:
                "The form was not sent from this session. Go back, reload the page and try again."
                    .into(),
        }
    }
}

/// The page for a request the service could not answer in time.
pub fn unavailable_page() -> (StatusCode, Markup) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        allot_views::pages::errors::error(
            "Service unavailable",
            "The service is unavailable just now. Nothing was changed; please try again shortly.",
        ),
    )
}

pub fn not_found_page() -> (StatusCode, Markup) {
    (
        StatusCode::NOT_FOUND,
        allot_views::pages::errors::error(
            "Page not found",
            "There is nothing at this address, or you may not see it.",
        ),
    )
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            AdminError::SignIn => Redirect::to("/login").into_response(),
            AdminError::Page {
                status,
                title,
                message,
            } => (status, allot_views::pages::errors::error(title, &message)).into_response(),
        }
    }
}

impl From<AppError> for AdminError {
    fn from(e: AppError) -> Self {
        let api = super::error::ApiError::from(e);
        let title = match api.status {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "You cannot do this",
            StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
            StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
            _ => "This cannot be done",
        };
        AdminError::Page {
            status: api.status,
            title,
            message: api.message,
        }
    }
}

impl From<crate::db::DbError> for AdminError {
    fn from(e: crate::db::DbError) -> Self {
        AppError::from(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for AdminError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        AppError::from(e).into()
    }
}

impl From<tokio_postgres::Error> for AdminError {
    fn from(e: tokio_postgres::Error) -> Self {
        AppError::from(e).into()
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

/// Path parameters of admin pages; an id that does not parse is the HTML 404 page.
pub struct AdminPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S>
    for AdminPath<T>
{
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, AdminError> {
        #[allow(clippy::disallowed_types)]
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(AdminPath(value)),
            Err(_) => Err(AppError::NotFound.into()),
        }
    }
}

/// Query parameters of admin pages; a query string that cannot be read is an HTML 400 page.
pub struct AdminQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S>
    for AdminQuery<T>
{
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, AdminError> {
        let query = parts.uri.query().unwrap_or_default();
        session::refuse_control_chars(query.as_bytes())?;
        serde_urlencoded::from_str(query)
            .map(AdminQuery)
            .map_err(|e| AdminError::Page {
                status: StatusCode::BAD_REQUEST,
                title: "This address could not be read",
                message: format!("Check the address: {e}."),
            })
    }
}
