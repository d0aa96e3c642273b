//! The council administrator's pages: organisations (list, add, show), users (list, add with role
//! and organisation, show), the council's policy (in force, a change as a new version, every
//! version with what it changed), the council's banking and the national charging parameters.
//! Forms go through the services the API calls (`organisations::create`, `users::create`,
//! `policy::change`, `banking::set`); a refusal comes back on the form, beside its field, with
//! what was typed. Other roles get the 403 page.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::Markup;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminError, AdminPath, AdminQuery, AdminResult};
use crate::auth::users::{self, NewUser};
use crate::auth::{password, Role};
use crate::budgets::bank::BankDetails;
use crate::budgets::organisations::{self, NewOrganisation, OrganisationKind};
use crate::budgets::policy;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::payments::banking::{self, CouncilBanking};
use crate::rules::{CardTimeoutDecision, CouncilPolicy};
use allot_views::components::FieldError;
use allot_views::pages::council as views;

/// Only the council administrator reaches these pages (as the API's writes allow).
fn admin_only(session: &AdminSession) -> AdminResult<()> {
    session.actor.require(&[Role::CouncilAdmin])?;
    Ok(())
}

/// A refusal of a service, as field errors: each detail naming a field (`bank.sort_code` →
/// `bank_sort_code`) beside that field, the rest at the top. Not found and forbidden are pages.
fn refusal(e: AppError) -> AdminResult<(StatusCode, Vec<FieldError>)> {
    if matches!(e, AppError::Forbidden) {
        return Err(e.into());
    }
    let api = ApiError::from(e);
    if api.status.is_server_error() {
        return Err(AdminError::Page {
            status: api.status,
            title: "Something went wrong",
            message: api.message,
        });
    }
    let mut errors: Vec<FieldError> = api
        .details
        .iter()
        .filter_map(|d| {
            d.field
                .as_ref()
                .map(|f| FieldError::new(f.replace('.', "_"), sentence(f, &d.message)))
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::new("", api.message));
    }
    Ok((api.status, errors))
}

/// "must be 1 to 200 characters" → "Name must be 1 to 200 characters".
fn sentence(field: &str, message: &str) -> String {
    let what = match field.rsplit('.').next().unwrap_or(field) {
        "name" => "The name",
        "email" => "The email address",
        "password" => "The password",
        "sort_code" => "The sort code",
        "account_number" => "The account number",
        "account_name" => "The name on the account",
        "service_user_number" => "The service user number",
        "organisation_id" => "The organisation",
        "person_id" => "The person",
        "reason" => "The reason",
        _ => return capitalised(message),
    };
    if message.starts_with("must") || message.starts_with("at most") {
        format!("{what} {message}")
    } else {
        capitalised(message)
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn kind_label(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::ManagedAccountProvider => "Managed-account provider",
        OrganisationKind::IsfProvider => "Individual Service Fund provider",
        OrganisationKind::Broker => "Broker",
        OrganisationKind::CareProvider => "Care provider",
        OrganisationKind::UserControlledTrust => "User-controlled trust",
    }
}

const KINDS: [OrganisationKind; 5] = [
    OrganisationKind::ManagedAccountProvider,
    OrganisationKind::IsfProvider,
    OrganisationKind::Broker,
    OrganisationKind::CareProvider,
    OrganisationKind::UserControlledTrust,
];

fn with_status(status: StatusCode, page: Markup) -> Response {
    (status, page).into_response()
}

// ---------------------------------------------------------------------------------------------
// Organisations

async fn organisations_page(
    state: &AppState,
    session: &AdminSession,
    form: views::OrganisationForm,
    errors: Vec<FieldError>,
    added: Option<String>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/organisations").await?;
    let council_id = session.actor.council_id;
    let listed = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { organisations::list(tx, council_id).await })
        })
        .await?;
    let mut kinds = vec![(String::new(), "Choose a kind".to_owned())];
    kinds.extend(
        KINDS
            .iter()
            .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned())),
    );
    Ok(views::organisations(
        &shell,
        &views::OrganisationsPage {
            organisations: listed
                .into_iter()
                .map(|o| views::OrganisationRow {
                    id: o.id.to_string(),
                    name: o.name,
                    kind: kind_label(o.kind).to_owned(),
                    bank: match (&o.bank, o.bank_verified) {
                        (None, _) => "None given".to_owned(),
                        (Some(_), true) => "Verified".to_owned(),
                        (Some(_), false) => "Waiting for a finance officer".to_owned(),
                    },
                })
                .collect(),
            kinds,
            form,
            errors,
            added,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

pub async fn organisations_list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    organisations_page(&state, &session, Default::default(), Vec::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct OrganisationFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    bank_sort_code: String,
    #[serde(default)]
    bank_account_number: String,
    #[serde(default)]
    bank_account_name: String,
}

pub async fn organisations_add(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<OrganisationFields>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let typed = views::OrganisationForm {
        name: form.name.clone(),
        kind: form.kind.clone(),
        bank_sort_code: form.bank_sort_code.clone(),
        bank_account_number: form.bank_account_number.clone(),
        bank_account_name: form.bank_account_name.clone(),
    };
    let mut errors = Vec::new();
    let kind = OrganisationKind::parse(&form.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "Choose the kind of organisation"));
    }
    let bank_given = [
        &form.bank_sort_code,
        &form.bank_account_number,
        &form.bank_account_name,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let bank = bank_given.then(|| BankDetails {
        sort_code: form.bank_sort_code.trim().to_owned(),
        account_number: form.bank_account_number.trim().to_owned(),
        account_name: form.bank_account_name.clone(),
    });
    if form.name.trim().is_empty() {
        errors.insert(0, FieldError::new("name", "Enter the organisation's name"));
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        let page = organisations_page(&state, &session, typed, errors, None).await?;
        return Ok(with_status(StatusCode::BAD_REQUEST, page));
    };
    let new = NewOrganisation {
        name: form.name.clone(),
        kind,
        bank,
    };
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, new) = (actor.clone(), new.clone());
            Box::pin(async move { organisations::create(tx, &actor, &new).await })
        })
        .await;
    match done {
        Ok(created) => {
            let page = organisations_page(
                &state,
                &session,
                Default::default(),
                Vec::new(),
                Some(created.name),
            )
            .await?;
            Ok(with_status(StatusCode::CREATED, page))
        }
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let page = organisations_page(&state, &session, typed, errors, None).await?;
            Ok(with_status(status, page))
        }
    }
}

async fn organisation_page(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    form: Option<views::OrganisationForm>,
    errors: Vec<FieldError>,
    saved: bool,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/organisations").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (organisation, staff) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let organisation = organisations::list(tx, council_id)
                    .await?
                    .into_iter()
                    .find(|o| o.id == id)
                    .ok_or(AppError::NotFound)?;
                let staff = users::list(tx, &actor)
                    .await?
                    .into_iter()
                    .filter(|u| u.user.organisation_id == Some(id))
                    .collect::<Vec<_>>();
                Ok((organisation, staff))
            })
        })
        .await?;
    let name = organisation.name.clone();
    let form = form.unwrap_or_else(|| views::OrganisationForm {
        name: name.clone(),
        ..Default::default()
    });
    Ok(views::organisation(
        &shell,
        &views::OrganisationPage {
            id: id.to_string(),
            name: organisation.name,
            kind: kind_label(organisation.kind).to_owned(),
            bank: organisation.bank.map(|b| {
                let b = b.masked();
                (b.sort_code, b.account_number, b.account_name)
            }),
            bank_verified: organisation.bank_verified,
            users: staff
                .into_iter()
                .map(|u| user_row(u, &BTreeMap::from([(id, name.clone())])))
                .collect(),
            form,
            errors,
            saved,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

pub async fn organisation_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    organisation_page(&state, &session, id, None, Vec::new(), false).await
}

/// Changes an organisation's name and, when any is given, its bank details
/// (`organisations::update`, as `PATCH /api/v1/organisations/{id}`).
pub async fn organisation_change(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<OrganisationFields>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let typed = views::OrganisationForm {
        name: form.name.clone(),
        kind: String::new(),
        bank_sort_code: form.bank_sort_code.clone(),
        bank_account_number: form.bank_account_number.clone(),
        bank_account_name: form.bank_account_name.clone(),
    };
    let bank_given = [
        &form.bank_sort_code,
        &form.bank_account_number,
        &form.bank_account_name,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let changes = organisations::OrganisationChanges {
        name: Some(form.name.clone()),
        bank: bank_given.then(|| BankDetails {
            sort_code: form.bank_sort_code.trim().to_owned(),
            account_number: form.bank_account_number.trim().to_owned(),
            account_name: form.bank_account_name.clone(),
        }),
    };
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, changes) = (actor.clone(), changes.clone());
            Box::pin(async move { organisations::update(tx, &actor, id, &changes).await })
        })
        .await;
    match done {
        Ok(_) => Ok(
            organisation_page(&state, &session, id, None, Vec::new(), true)
                .await?
                .into_response(),
        ),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let page = organisation_page(&state, &session, id, Some(typed), errors, false).await?;
            Ok(with_status(status, page))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users

fn user_row(u: users::UserRecord, organisations: &BTreeMap<Uuid, String>) -> views::UserRow {
    views::UserRow {
        id: u.user.id.to_string(),
        name: u.user.name,
        email: u.user.email,
        role: u.user.role.label().to_owned(),
        organisation: u
            .user
            .organisation_id
            .and_then(|o| organisations.get(&o).cloned())
            .unwrap_or_default(),
        active: u.active,
    }
}

async fn people_names(state: &AppState, council_id: Uuid) -> AdminResult<Vec<(Uuid, String)>> {
    Ok(state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        "SELECT id, name FROM people WHERE council_id = $1 ORDER BY name, id LIMIT 5000",
                        &[&council_id],
                    )
                    .await?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            })
        })
        .await?)
}

async fn users_page(
    state: &AppState,
    session: &AdminSession,
    form: views::UserForm,
    errors: Vec<FieldError>,
    added: Option<String>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/users").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (listed, orgs) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                Ok((
                    users::list(tx, &actor).await?,
                    organisations::list(tx, council_id).await?,
                ))
            })
        })
        .await?;
    let people = people_names(state, council_id).await?;
    let names: BTreeMap<Uuid, String> = orgs.iter().map(|o| (o.id, o.name.clone())).collect();
    let mut roles = vec![(String::new(), "Choose a role".to_owned())];
    roles.extend(
        Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), r.label().to_owned())),
    );
    let mut organisations = vec![(String::new(), "None".to_owned())];
    organisations.extend(orgs.iter().map(|o| (o.id.to_string(), o.name.clone())));
    let mut people_options = vec![(String::new(), "None".to_owned())];
    people_options.extend(people.into_iter().map(|(id, name)| (id.to_string(), name)));
    Ok(views::users(
        &shell,
        &views::UsersPage {
            users: listed.into_iter().map(|u| user_row(u, &names)).collect(),
            roles,
            organisations,
            people: people_options,
            form,
            errors,
            added,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

pub async fn users_list(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    users_page(&state, &session, Default::default(), Vec::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct UserFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation_id: String,
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    password: String,
}

fn optional_id(text: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<Uuid> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FieldError::new(field, "Choose one from the list"));
            None
        }
    }
}

pub async fn users_add(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<UserFields>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let typed = views::UserForm {
        name: form.name.clone(),
        email: form.email.clone(),
        role: form.role.clone(),
        organisation_id: form.organisation_id.clone(),
        person_id: form.person_id.clone(),
    };
    let mut errors = Vec::new();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose the user's role"));
    }
    let organisation_id = optional_id(&form.organisation_id, "organisation_id", &mut errors);
    let person_id = optional_id(&form.person_id, "person_id", &mut errors);
    let new = role.map(|role| NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        password: form.password.clone(),
        organisation_id,
        person_id,
    });
    // The fields' own checks first (name, email, password), so every refusal shows at once.
    let probe = NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role: role.unwrap_or(Role::Auditor),
        password: form.password.clone(),
        organisation_id,
        person_id,
    };
    for (field, check) in [
        (
            "name",
            users::check(&NewUser {
                email: "a@b.example".into(),
                ..probe.clone()
            }),
        ),
        ("email", users::normalise_email(&probe.email).map(|_| ())),
        (
            "password",
            password::check_policy(&probe.password)
                .map_err(|e| AppError::invalid("password", e.to_string())),
        ),
    ] {
        if let Err(e) = check {
            let (_, found) = refusal(e)?;
            errors.extend(found.into_iter().filter(|f| f.field == field));
        }
    }
    errors.sort_by_key(|e| {
        [
            "name",
            "email",
            "role",
            "organisation_id",
            "person_id",
            "password",
        ]
        .iter()
        .position(|f| *f == e.field)
    });
    let new = match new {
        Some(new) if errors.is_empty() => new,
        _ => {
            let page = users_page(&state, &session, typed, errors, None).await?;
            return Ok(with_status(StatusCode::BAD_REQUEST, page));
        }
    };
    let permit = state.sign_in.hashing_permit().await.ok_or_else(|| {
        AdminError::Page {
            status: StatusCode::TOO_MANY_REQUESTS,
            title: "Try again in a moment",
            message: "Too many passwords are being checked just now. Nothing was changed; try again in a moment.".into(),
        }
    })?;
    let (secret, iterations) = (new.password.clone(), state.settings.password_iterations);
    let hashed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password::hash(&secret, iterations)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, new, hashed) = (actor.clone(), new.clone(), hashed.clone());
            Box::pin(async move { users::create(tx, &actor, &new, &hashed).await })
        })
        .await;
    match done {
        Ok(user) => {
            let page = users_page(
                &state,
                &session,
                Default::default(),
                Vec::new(),
                Some(user.name),
            )
            .await?;
            Ok(with_status(StatusCode::CREATED, page))
        }
        Err(AppError::NotFound) => {
            let field = if new.organisation_id.is_some() {
                "organisation_id"
            } else {
                "person_id"
            };
            let errors = vec![FieldError::new(field, "Choose one from the list")];
            let page = users_page(&state, &session, typed, errors, None).await?;
            Ok(with_status(StatusCode::NOT_FOUND, page))
        }
        Err(AppError::Conflict { .. }) => {
            let errors = vec![FieldError::new(
                "email",
                "A user with this email address already exists in the council",
            )];
            let page = users_page(&state, &session, typed, errors, None).await?;
            Ok(with_status(StatusCode::CONFLICT, page))
        }
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let page = users_page(&state, &session, typed, errors, None).await?;
            Ok(with_status(status, page))
        }
    }
}

pub async fn user_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    let shell = session.shell(&state, "/council/users").await?;
    let actor = session.actor.clone();
    let council_id = actor.council_id;
    let (record, orgs, person) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let record = users::list(tx, &actor)
                    .await?
                    .into_iter()
                    .find(|u| u.user.id == id)
                    .ok_or(AppError::NotFound)?;
                let orgs = organisations::list(tx, council_id).await?;
                let person = match record.user.person_id {
                    Some(person_id) => tx
                        .query_opt(
                            "SELECT name FROM people WHERE council_id = $1 AND id = $2",
                            &[&council_id, &person_id],
                        )
                        .await?
                        .map(|r| (person_id.to_string(), r.get::<_, String>(0))),
                    None => None,
                };
                Ok((record, orgs, person))
            })
        })
        .await?;
    let organisation = record.user.organisation_id.and_then(|o| {
        orgs.iter()
            .find(|x| x.id == o)
            .map(|x| (x.id.to_string(), x.name.clone()))
    });
    Ok(views::user(
        &shell,
        &views::UserPage {
            name: record.user.name,
            email: record.user.email,
            role: record.user.role.label().to_owned(),
            organisation,
            person,
            active: record.active,
            added: record.created_at.format("%-d %B %Y %H:%M").to_string(),
            added_by: record
                .created_by_name
                .unwrap_or_else(|| "Set up with the council".to_owned()),
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Policy

/// The settings the page edits: (id, label, hint, kind). The card merchant tables keep their
/// values (changed through `PUT /api/v1/policy`).
const POLICY_FIELDS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "receipt_threshold",
        "Evidence needed above (£)",
        Some("Payments above this amount need a receipt, invoice or timesheet."),
        "money",
    ),
    (
        "hold_expiry_days",
        "Days a held payment waits for approval",
        Some("1 to 90."),
        "number",
    ),
    (
        "dp_may_buy_council_services",
        "A direct payment may buy the council's own services",
        None,
        "yesno",
    ),
    (
        "blocked_merchant_categories",
        "Merchant categories spending may never go to",
        Some("Separated by commas (optional)."),
        "text",
    ),
    (
        "surplus_weeks_dp",
        "Weeks of direct payments above which a balance is surplus",
        None,
        "number",
    ),
    (
        "surplus_weeks_isf",
        "Weeks of Individual Service Fund payments above which a balance is surplus",
        None,
        "number",
    ),
    (
        "interim_max_weeks",
        "Weeks urgent interim support may run without an approved plan",
        Some("At most 12."),
        "number",
    ),
    (
        "surplus_notice_weeks",
        "Weeks of notice before a surplus is recovered",
        Some("1 to 26."),
        "number",
    ),
    (
        "first_review_weeks",
        "Weeks from the first approved plan to its first review",
        Some("1 to 26."),
        "number",
    ),
    (
        "evidence_retention_years",
        "Years evidence is kept after its payment",
        Some("6 to 100."),
        "number",
    ),
    (
        "card_cash_daily_limit",
        "Most cash a card may withdraw in a day (£)",
        None,
        "money",
    ),
    (
        "card_hold_expiry_days",
        "Days an approved card authorisation holds its money",
        Some("At most 31."),
        "number",
    ),
    (
        "card_timeout_decision",
        "When a card decision cannot be made in time",
        None,
        "timeout",
    ),
    (
        "contact_phone",
        "Telephone number printed on statements",
        Some("Optional."),
        "tel",
    ),
    (
        "contact_email",
        "Email address printed on statements",
        Some("Optional."),
        "email",
    ),
];

fn policy_label(id: &str) -> String {
    POLICY_FIELDS
        .iter()
        .find(|(f, ..)| *f == id)
        .map(|(_, label, ..)| label.trim_end_matches(" (£)").to_owned())
        .unwrap_or_else(|| match id {
            "card_mcc_categories" => "Card merchant codes and their plan categories".to_owned(),
            "card_blocked_mccs" => "Merchant codes cards may never be used at".to_owned(),
            "card_cash_mccs" => "Merchant codes of cash withdrawals".to_owned(),
            "card_over_capture_mccs" => {
                "Merchant codes whose captures may exceed the authorisation".to_owned()
            }
            other => other.replace('_', " "),
        })
}

/// A policy's settings as text, by field id.
fn policy_values(p: &CouncilPolicy) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(p) {
        for (key, value) in map {
            if key == "version" {
                continue;
            }
            values.insert(key, shown(&value));
        }
    }
    values.insert(
        "dp_may_buy_council_services".into(),
        if p.dp_may_buy_council_services {
            "yes"
        } else {
            "no"
        }
        .into(),
    );
    values.insert(
        "card_timeout_decision".into(),
        match p.card_timeout_decision {
            CardTimeoutDecision::Decline => "decline",
            CardTimeoutDecision::Approve => "approve",
        }
        .into(),
    );
    values.insert(
        "receipt_threshold".into(),
        format!("{:.2}", p.receipt_threshold),
    );
    values.insert(
        "card_cash_daily_limit".into(),
        format!("{:.2}", p.card_cash_daily_limit),
    );
    values.entry("contact_phone".into()).or_default();
    values.entry("contact_email".into()).or_default();
    values
}

fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        serde_json::Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", shown(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn policy_fields(values: &BTreeMap<String, String>) -> Vec<views::PolicyField> {
    POLICY_FIELDS
        .iter()
        .map(|(id, label, hint, kind)| {
            let (kind, options) = match *kind {
                "yesno" => (
                    "select",
                    vec![("yes".into(), "Yes".into()), ("no".into(), "No".into())],
                ),
                "timeout" => (
                    "select",
                    vec![
                        ("decline".into(), "Decline the payment".into()),
                        ("approve".into(), "Approve it as the network would".into()),
                    ],
                ),
                other => (other, Vec::new()),
            };
            views::PolicyField {
                id,
                label,
                hint: *hint,
                kind,
                options,
                value: values.get(*id).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

async fn current_policy(state: &AppState, council_id: Uuid) -> AdminResult<CouncilPolicy> {
    Ok(state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move { policy::current(tx, council_id).await })
        })
        .await?)
}

async fn policy_page(
    state: &AppState,
    session: &AdminSession,
    version: i32,
    values: &BTreeMap<String, String>,
    reason: String,
    errors: Vec<FieldError>,
    saved: Option<i32>,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/policy").await?;
    Ok(views::policy(
        &shell,
        &views::PolicyPage {
            version,
            fields: policy_fields(values),
            reason,
            errors,
            saved,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

pub async fn policy_show(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    let current = current_policy(&state, session.actor.council_id).await?;
    policy_page(
        &state,
        &session,
        current.version,
        &policy_values(&current),
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

/// The typed settings over the policy in force, or the fields that could not be read.
fn typed_policy(
    current: &CouncilPolicy,
    typed: &BTreeMap<String, String>,
) -> Result<CouncilPolicy, Vec<FieldError>> {
    let mut next = current.clone();
    let mut errors = Vec::new();
    let text = |id: &str| {
        typed
            .get(id)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let whole = |id: &str, errors: &mut Vec<FieldError>| -> u32 {
        match text(id).parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(FieldError::new(
                    id,
                    format!("{} must be a whole number, like 4", policy_label(id)),
                ));
                0
            }
        }
    };
    next.hold_expiry_days = whole("hold_expiry_days", &mut errors);
    next.surplus_weeks_dp = whole("surplus_weeks_dp", &mut errors);
    next.surplus_weeks_isf = whole("surplus_weeks_isf", &mut errors);
    next.interim_max_weeks = whole("interim_max_weeks", &mut errors);
    next.surplus_notice_weeks = whole("surplus_notice_weeks", &mut errors);
    next.first_review_weeks = whole("first_review_weeks", &mut errors);
    next.evidence_retention_years = whole("evidence_retention_years", &mut errors);
    next.card_hold_expiry_days = whole("card_hold_expiry_days", &mut errors);
    for (id, slot) in [
        ("receipt_threshold", &mut next.receipt_threshold),
        ("card_cash_daily_limit", &mut next.card_cash_daily_limit),
    ] {
        match crate::money::Money::parse(text(id).trim_start_matches('£')) {
            Ok(m) if !m.amount().is_sign_negative() => *slot = m.amount(),
            _ => errors.push(FieldError::new(
                id,
                format!(
                    "{} must be an amount in pounds, like 250.00",
                    policy_label(id)
                ),
            )),
        }
    }
    match text("dp_may_buy_council_services").as_str() {
        "yes" => next.dp_may_buy_council_services = true,
        "no" => next.dp_may_buy_council_services = false,
        _ => errors.push(FieldError::new(
            "dp_may_buy_council_services",
            "Choose yes or no",
        )),
    }
    match text("card_timeout_decision").as_str() {
        "decline" => next.card_timeout_decision = CardTimeoutDecision::Decline,
        "approve" => next.card_timeout_decision = CardTimeoutDecision::Approve,
        _ => errors.push(FieldError::new(
            "card_timeout_decision",
            "Choose what happens when a card decision cannot be made in time",
        )),
    }
    next.blocked_merchant_categories = text("blocked_merchant_categories")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let optional = |id: &str| Some(text(id)).filter(|s| !s.is_empty());
    next.contact_phone = optional("contact_phone");
    next.contact_email = optional("contact_email");
    if errors.is_empty() {
        Ok(next)
    } else {
        Err(errors)
    }
}

pub async fn policy_change(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Vec<(String, String)>>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let council_id = session.actor.council_id;
    let typed: BTreeMap<String, String> = form
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    let reason = typed.get("reason").cloned().unwrap_or_default();
    let current = current_policy(&state, council_id).await?;
    let next = match typed_policy(&current, &typed) {
        Ok(next) => next,
        Err(errors) => {
            let page = policy_page(
                &state,
                &session,
                current.version,
                &typed,
                reason,
                errors,
                None,
            )
            .await?;
            return Ok(with_status(StatusCode::BAD_REQUEST, page));
        }
    };
    let actor = session.actor.clone();
    let done = state
        .write(council_id, |tx| {
            let (actor, next, reason) = (actor.clone(), next.clone(), reason.clone());
            Box::pin(async move { policy::change(tx, &actor, &next, Some(&reason)).await })
        })
        .await;
    match done {
        Ok(stored) => {
            let page = policy_page(
                &state,
                &session,
                stored.version,
                &policy_values(&stored),
                String::new(),
                Vec::new(),
                Some(stored.version),
            )
            .await?;
            Ok(page.into_response())
        }
        Err(e) => {
            let (status, mut errors) = refusal(e)?;
            for e in &mut errors {
                if POLICY_FIELDS.iter().any(|(id, ..)| *id == e.field) {
                    let mut chars = e.message.chars();
                    let rest: String = match chars.next() {
                        Some(first) => first.to_lowercase().chain(chars).collect(),
                        None => String::new(),
                    };
                    e.message = format!("{}: {rest}", policy_label(&e.field));
                }
            }
            let page = policy_page(
                &state,
                &session,
                current.version,
                &typed,
                reason,
                errors,
                None,
            )
            .await?;
            Ok(with_status(status, page))
        }
    }
}

/// What differs between two versions, setting by setting.
pub fn changes(before: &CouncilPolicy, after: &CouncilPolicy) -> Vec<views::Change> {
    let (old, new) = (policy_values(before), policy_values(after));
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| views::Change {
            setting: policy_label(k),
            before: none_if_empty(old.get(k).cloned().unwrap_or_default()),
            after: none_if_empty(v.clone()),
        })
        .collect()
}

fn none_if_empty(text: String) -> String {
    if text.is_empty() {
        "(none)".to_owned()
    } else {
        text
    }
}

pub async fn policy_versions(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    let shell = session.shell(&state, "/council/policy").await?;
    let council_id = session.actor.council_id;
    let (history, names) = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                let history = policy::history(tx, council_id).await?;
                let rows = tx
                    .query(
                        "SELECT id, name FROM users WHERE council_id = $1",
                        &[&council_id],
                    )
                    .await?;
                let names: BTreeMap<Uuid, String> =
                    rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                Ok((history, names))
            })
        })
        .await?;
    let rows = history
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let before = history.get(i + 1);
            views::VersionRow {
                version: v.policy.version,
                made: v
                    .created_at
                    .map(|at| at.format("%-d %B %Y %H:%M").to_string())
                    .unwrap_or_else(|| "When the council was set up".to_owned()),
                made_by: v
                    .created_by
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_else(|| "allot's defaults".to_owned()),
                reason: v.reason.clone().unwrap_or_else(|| "Not given".to_owned()),
                changes: before
                    .map(|b| changes(&b.policy, &v.policy))
                    .unwrap_or_default(),
                first: before.is_none(),
            }
        })
        .collect::<Vec<_>>();
    Ok(views::policy_versions(&shell, &rows))
}

// ---------------------------------------------------------------------------------------------
// Banking

async fn banking_page(
    state: &AppState,
    session: &AdminSession,
    form: Option<views::BankingForm>,
    errors: Vec<FieldError>,
    saved: bool,
) -> AdminResult<Markup> {
    let shell = session.shell(state, "/council/banking").await?;
    let council_id = session.actor.council_id;
    let current = state
        .in_tenant_tx(council_id, |tx| {
            Box::pin(async move {
                match banking::get(tx, council_id).await {
                    Ok(b) => Ok(Some(b)),
                    Err(AppError::Conflict { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
    let form = form.unwrap_or_else(|| match &current {
        Some(b) => views::BankingForm {
            service_user_number: b.service_user_number.clone(),
            account_sort_code: b.account.sort_code.clone(),
            account_account_number: b.account.account_number.clone(),
            account_account_name: b.account.account_name.clone(),
        },
        None => Default::default(),
    });
    Ok(views::banking(
        &shell,
        &views::BankingPage {
            set: current.is_some(),
            form,
            errors,
            saved,
            csrf_token: session.csrf_token.clone(),
        },
    ))
}

pub async fn banking_show(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Markup> {
    admin_only(&session)?;
    banking_page(&state, &session, None, Vec::new(), false).await
}

#[derive(Debug, Deserialize)]
pub struct BankingFields {
    #[serde(default)]
    service_user_number: String,
    #[serde(default)]
    account_sort_code: String,
    #[serde(default)]
    account_account_number: String,
    #[serde(default)]
    account_account_name: String,
}

pub async fn banking_change(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<BankingFields>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let typed = views::BankingForm {
        service_user_number: form.service_user_number.clone(),
        account_sort_code: form.account_sort_code.clone(),
        account_account_number: form.account_account_number.clone(),
        account_account_name: form.account_account_name.clone(),
    };
    let body = CouncilBanking {
        service_user_number: form.service_user_number.trim().to_owned(),
        account: BankDetails {
            sort_code: form.account_sort_code.trim().to_owned(),
            account_number: form.account_account_number.trim().to_owned(),
            account_name: form.account_account_name.clone(),
        },
    };
    // Every field's own check, so all refusals show at once (the service checks again).
    let mut errors = Vec::new();
    let sun = body.service_user_number.as_str();
    if sun.len() != 6 || !sun.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "service_user_number",
            "The service user number must be six digits",
        ));
    }
    for probe in [
        body.account.clone(),
        BankDetails {
            sort_code: "123456".into(),
            ..body.account.clone()
        },
        BankDetails {
            sort_code: "123456".into(),
            account_number: "12345678".into(),
            ..body.account.clone()
        },
    ] {
        if let Err(e) = probe.validate("account") {
            let (_, found) = refusal(e)?;
            for f in found {
                if !errors.iter().any(|x| x.field == f.field) {
                    errors.push(f);
                }
            }
        }
    }
    if !errors.is_empty() {
        let page = banking_page(&state, &session, Some(typed), errors, false).await?;
        return Ok(with_status(StatusCode::BAD_REQUEST, page));
    }
    let actor = session.actor.clone();
    let done = state
        .write(actor.council_id, |tx| {
            let (actor, body) = (actor.clone(), body.clone());
            Box::pin(async move { banking::set(tx, &actor, &body).await })
        })
        .await;
    match done {
        Ok(_) => Ok(banking_page(&state, &session, None, Vec::new(), true)
            .await?
            .into_response()),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let page = banking_page(&state, &session, Some(typed), errors, false).await?;
            Ok(with_status(status, page))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Charging parameters

#[derive(Debug, Deserialize)]
pub struct ChargingQuery {
    #[serde(default)]
    on: Option<String>,
}

fn pounds(amount: Decimal) -> String {
    format!("£{amount:.2}")
}

pub async fn charging_show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<ChargingQuery>,
) -> AdminResult<Response> {
    admin_only(&session)?;
    let shell = session.shell(&state, "/council/charging").await?;
    let today = state.clock.today();
    let typed = query.on.unwrap_or_default();
    let on = if typed.trim().is_empty() {
        Ok(today)
    } else {
        chrono::NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
    };
    let mut page = views::ChargingPage {
        on: if typed.is_empty() {
            today.to_string()
        } else {
            typed.clone()
        },
        errors: Vec::new(),
        figures: Vec::new(),
        mig_bands: Vec::new(),
    };
    let Ok(on) = on else {
        page.errors
            .push(FieldError::new("on", "Enter a date like 2025-04-06"));
        return Ok(with_status(
            StatusCode::BAD_REQUEST,
            views::charging(&shell, &page),
        ));
    };
    let found = state
        .in_tenant_tx(session.actor.council_id, |tx| {
            Box::pin(async move {
                match crate::budgets::charging::parameters_on(tx, on).await {
                    Ok(p) => Ok(Some(p)),
                    Err(AppError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
    let Some(p) = found else {
        page.errors.push(FieldError::new(
            "on",
            "No charging parameters are in force that early; choose a later date",
        ));
        return Ok(with_status(
            StatusCode::NOT_FOUND,
            views::charging(&shell, &page),
        ));
    };
    page.figures = vec![
        (
            "Capital figures in force from".into(),
            p.capital_valid_from.format("%-d %B %Y").to_string(),
        ),
        (
            "Upper capital limit".into(),
            pounds(p.capital.capital_upper),
        ),
        (
            "Lower capital limit".into(),
            pounds(p.capital.capital_lower),
        ),
        (
            "Tariff income".into(),
            format!(
                "{} a week for every {} (or part) between the limits",
                pounds(p.capital.tariff_per_step),
                pounds(p.capital.tariff_step)
            ),
        ),
    ];
    if let Some(from) = p.mig_valid_from {
        page.figures.push((
            "Minimum income guarantee in force from".into(),
            from.format("%-d %B %Y").to_string(),
        ));
    }
    page.mig_bands = p
        .mig_bands
        .iter()
        .map(|b| {
            (
                b.band.replace('_', " "),
                b.min_age.to_string(),
                format!("{:.2}", b.weekly_amount),
            )
        })
        .collect();
    Ok(views::charging(&shell, &page).into_response())
}
