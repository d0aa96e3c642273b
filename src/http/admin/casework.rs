//! Casework pages: a care manager adds a person and a budget (with the direct-payment terms),
//! records urgent interim support, a family-payment decision and a change in capacity; a budget
//! holder asks for their own personal assistant to be paid. Each form is turned into the JSON the
//! API takes and read by the same parser, then passed to the same service function, through the
//! same write path, so the page and the API accept and write exactly the same things. A refusal
//! re-renders the form with what was typed and the error beside the field it concerns.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{AdminPath, AdminQuery, AdminResult};
use crate::auth::Role;
use crate::budgets::budget::{self, create as budget_create, NewBudget};
use crate::budgets::family_approvals::{self, NewFamilyPaymentApproval};
use crate::budgets::interim::{self, NewUrgentInterim};
use crate::budgets::payees::{self, NewPayee};
use crate::budgets::people::update::{self, PersonChanges};
use crate::budgets::people::{self, NewPerson};
use crate::budgets::{agreements, organisations};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::rules::Relationship;
use allot_views::components::FieldError;
use allot_views::pages::casework::{case_form, CaseForm, FieldGroup, FormField, Input};

type Typed = HashMap<String, String>;

fn typed(form: &Typed, id: &str) -> String {
    form.get(id)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn yes_no(yes: &str, no: &str) -> Input {
    Input::Select(vec![("yes".into(), yes.into()), ("no".into(), no.into())])
}

fn choices(items: &[(&str, &str)]) -> Input {
    Input::Select(
        items
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
            .collect(),
    )
}

/// The label of a field, for the error summary.
fn label_of(groups: &[FieldGroup], id: &str) -> String {
    groups
        .iter()
        .flat_map(|g| g.fields.iter())
        .find(|f| f.id == id)
        .map(|f| f.label.clone())
        .unwrap_or_default()
}

/// Refusals of the fields that must be given and were left empty.
fn missing(groups: &[FieldGroup], form: &Typed, required: &[&str]) -> Vec<FieldError> {
    required
        .iter()
        .filter(|id| typed(form, id).is_empty())
        .map(|id| {
            FieldError::new(
                *id,
                format!(
                    "{}: enter this",
                    label_of(groups, id).trim_end_matches(" (optional)")
                ),
            )
        })
        .collect()
}

/// A refusal as errors beside the fields: each detail naming a field of the form (the API's
/// `bank.sort_code` is the form's `bank_sort_code`) goes beside it; a refusal naming no field of
/// the form goes beside the field its code concerns (`by_code`), else beside `fallback`.
fn field_errors(
    groups: &[FieldGroup],
    error: &ApiError,
    by_code: &[(&str, &str)],
    fallback: &str,
) -> Vec<FieldError> {
    let known = |id: &str| {
        groups
            .iter()
            .flat_map(|g| g.fields.iter())
            .any(|f| f.id == id)
    };
    let mut out: Vec<FieldError> = error
        .details
        .iter()
        .filter_map(|d| {
            let id = d.field.as_deref()?.replace('.', "_");
            known(&id).then(|| {
                FieldError::new(
                    id.clone(),
                    format!("{}: {}", label_of(groups, &id), d.message),
                )
            })
        })
        .collect();
    if out.is_empty() {
        let field = by_code
            .iter()
            .find(|(code, _)| *code == error.code)
            .map(|(_, field)| *field)
            .unwrap_or(fallback);
        out.push(FieldError::new(field, error.message.clone()));
    }
    out
}

/// Parses the JSON built from the form exactly as the API parses its body.
fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    parse_json::<T>(body.to_string().as_bytes())
}

/// Adds each non-empty typed field to the JSON body under `key`.
fn put(body: &mut Map<String, Value>, key: &str, value: String) {
    if !value.is_empty() {
        body.insert(key.into(), Value::String(value));
    }
}

fn flag(form: &Typed, id: &str) -> Value {
    match typed(form, id).as_str() {
        "yes" => json!(true),
        "no" | "" => json!(false),
        other => json!(other),
    }
}

struct Rendered {
    status: StatusCode,
    form: CaseForm,
}

async fn render(
    state: &AppState,
    session: &AdminSession,
    current: &str,
    r: Rendered,
) -> AdminResult<Response> {
    let shell = session.shell(state, current).await?;
    Ok((r.status, case_form(&shell, &r.form)).into_response())
}

fn base_form(session: &AdminSession, title: &str, action: String, submit: &str) -> CaseForm {
    CaseForm {
        title: title.into(),
        intro: Vec::new(),
        done: None,
        back: None,
        action,
        groups: Vec::new(),
        submit: submit.into(),
        errors: Vec::new(),
        csrf_token: session.csrf_token.clone(),
        recorded_heading: None,
        recorded: Vec::new(),
    }
}

// A person ----------------------------------------------------------------------------------------

fn person_groups(form: &Typed) -> Vec<FieldGroup> {
    let v = |id| typed(form, id);
    vec![
        FieldGroup {
            legend: None,
            fields: vec![
                FormField::new("name", "Full name", Input::Text, &v("name")),
                FormField::new(
                    "date_of_birth",
                    "Date of birth",
                    Input::Date,
                    &v("date_of_birth"),
                ),
                FormField::new(
                    "has_capacity",
                    "Mental capacity to manage their money",
                    yes_no("Has capacity", "Lacks capacity"),
                    &v("has_capacity"),
                ),
                FormField::new(
                    "excluded_from_direct_payments",
                    "Excluded from direct payments (DP Regulations schedule 1)",
                    yes_no("Excluded", "Not excluded"),
                    &v("excluded_from_direct_payments"),
                ),
            ],
        },
        FieldGroup {
            legend: Some("Contact (optional)".into()),
            fields: vec![
                FormField::new(
                    "contact_phone",
                    "Phone (optional)",
                    Input::Tel,
                    &v("contact_phone"),
                ),
                FormField::new(
                    "contact_email",
                    "Email (optional)",
                    Input::Email,
                    &v("contact_email"),
                ),
                FormField::new(
                    "contact_address",
                    "Address (optional)",
                    Input::TextArea,
                    &v("contact_address"),
                ),
            ],
        },
    ]
}

fn person_form(session: &AdminSession, form: &Typed) -> CaseForm {
    let mut page = base_form(
        session,
        "Add a person",
        "/people/new".into(),
        "Add the person",
    );
    page.back = Some(("/people".into(), "Back to people".into()));
    page.intro =
        vec!["Record someone with eligible needs. Their budgets are added from their page.".into()];
    page.groups = person_groups(form);
    page
}

/// The form adding a person (care managers).
pub async fn person_new_form(
    State(state): State<AppState>,
    session: AdminSession,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let mut form = Typed::new();
    form.insert("has_capacity".into(), "yes".into());
    form.insert("excluded_from_direct_payments".into(), "no".into());
    let page = person_form(&session, &form);
    render(
        &state,
        &session,
        "/people",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

/// Adds the person through `people::record`, as `POST /api/v1/people` does.
pub async fn person_new(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let mut page = person_form(&session, &form);
    let errors = missing(&page.groups, &form, &["name", "date_of_birth"]);
    if !errors.is_empty() {
        page.errors = errors;
        return render(
            &state,
            &session,
            "/people",
            Rendered {
                status: StatusCode::BAD_REQUEST,
                form: page,
            },
        )
        .await;
    }
    let mut body = Map::new();
    put(&mut body, "name", typed(&form, "name"));
    put(&mut body, "date_of_birth", typed(&form, "date_of_birth"));
    body.insert("has_capacity".into(), flag(&form, "has_capacity"));
    body.insert(
        "excluded_from_direct_payments".into(),
        flag(&form, "excluded_from_direct_payments"),
    );
    let mut contact = Map::new();
    put(&mut contact, "phone", typed(&form, "contact_phone"));
    put(&mut contact, "email", typed(&form, "contact_email"));
    put(&mut contact, "address", typed(&form, "contact_address"));
    if !contact.is_empty() {
        body.insert("contact".into(), Value::Object(contact));
    }
    let result = match parse::<NewPerson>(&Value::Object(body)) {
        Ok(new) => {
            let (actor, today) = (session.actor.clone(), state.clock.today());
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { people::record(tx, &actor, &new, today).await })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(person) => Ok(Redirect::to(&format!("/people/{}", person.id)).into_response()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            page.errors = field_errors(&page.groups, &e, &[], "name");
            render(
                &state,
                &session,
                "/people",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}

// A change in capacity ------------------------------------------------------------------------------

fn capacity_form(session: &AdminSession, id: Uuid, name: &str, form: &Typed) -> CaseForm {
    let v = |k| typed(form, k);
    let mut page = base_form(
        session,
        "Record a change in capacity",
        format!("/people/{id}/capacity"),
        "Record the change",
    );
    page.back = Some((format!("/people/{id}"), format!("Back to {name}")));
    page.intro = vec![
        format!("{name}: what the latest assessment found."),
        "A change makes the person's review due now, and any grant that no longer fits them stops working at once.".into(),
    ];
    page.groups = vec![FieldGroup {
        legend: None,
        fields: vec![
            FormField::new(
                "has_capacity",
                "Mental capacity to manage their money",
                yes_no("Has capacity", "Lacks capacity"),
                &v("has_capacity"),
            ),
            FormField::new(
                "excluded_from_direct_payments",
                "Excluded from direct payments (DP Regulations schedule 1)",
                yes_no("Excluded", "Not excluded"),
                &v("excluded_from_direct_payments"),
            ),
        ],
    }];
    page
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// The form recording a change in a person's capacity (care managers).
pub async fn capacity_form_page(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let actor = session.actor.clone();
    let person = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { people::get(tx, &actor, id).await })
        })
        .await?;
    let mut form = Typed::new();
    form.insert("has_capacity".into(), yes(person.has_capacity));
    form.insert(
        "excluded_from_direct_payments".into(),
        yes(person.excluded_from_direct_payments),
    );
    let page = capacity_form(&session, id, &person.name, &form);
    render(
        &state,
        &session,
        "/people",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

/// Records the change through `people::update::update`, as `PATCH /api/v1/people/{id}` does.
pub async fn capacity_submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let actor = session.actor.clone();
    let name = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move { Ok(people::get(tx, &actor, id).await?.name) })
        })
        .await?;
    let mut page = capacity_form(&session, id, &name, &form);
    let body = json!({
        "has_capacity": flag(&form, "has_capacity"),
        "excluded_from_direct_payments": flag(&form, "excluded_from_direct_payments"),
    });
    let result = match parse::<PersonChanges>(&body) {
        Ok(changes) => {
            let (actor, now) = (session.actor.clone(), state.clock.now());
            state
                .write(actor.council_id, |tx| {
                    let (actor, changes) = (actor.clone(), changes.clone());
                    Box::pin(async move {
                        update::update(tx, &actor, id, &changes, now).await?;
                        agreements::misfits_of_person(tx, actor.council_id, id).await
                    })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/people/{id}")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(AppError::NotFound.into()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            page.errors = field_errors(&page.groups, &e, &[], "has_capacity");
            render(
                &state,
                &session,
                "/people",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}

// A budget ----------------------------------------------------------------------------------------

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewBudgetQuery {
    #[serde(default)]
    person_id: Option<Uuid>,
}

/// What the budget form offers: the people, the brokers and the users who may receive a direct
/// payment for someone.
struct BudgetChoices {
    people: Vec<(String, String)>,
    brokers: Vec<(String, String)>,
    recipients: Vec<(String, String)>,
    /// The chosen person's assessments (none before a person is chosen).
    assessments: Vec<(String, String)>,
}

async fn budget_choices(
    state: &AppState,
    session: &AdminSession,
    person: Option<Uuid>,
) -> AdminResult<BudgetChoices> {
    let actor = session.actor.clone();
    let choices = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let people = people::list(tx, &actor)
                    .await?
                    .into_iter()
                    .map(|p| {
                        (
                            p.id.to_string(),
                            format!("{} (born {})", p.name, p.date_of_birth.format("%-d %B %Y")),
                        )
                    })
                    .collect();
                let mut brokers = vec![(String::new(), "No broker".to_owned())];
                brokers.extend(
                    organisations::list(tx, actor.council_id)
                        .await?
                        .into_iter()
                        .filter(|o| o.kind == organisations::OrganisationKind::Broker)
                        .map(|o| (o.id.to_string(), o.name)),
                );
                let mut recipients =
                    vec![(String::new(), "Nobody (the person receives it)".to_owned())];
                let rows = tx
                    .query(
                        "SELECT id, name, email FROM users
                         WHERE council_id = $1 AND role = 'representative' AND active
                         ORDER BY name, id LIMIT 1000",
                        &[&actor.council_id],
                    )
                    .await?;
                recipients.extend(rows.iter().map(|r| {
                    let (id, name, email): (Uuid, String, String) = (r.get(0), r.get(1), r.get(2));
                    (id.to_string(), format!("{name} ({email})"))
                }));
                let mut assessments = vec![(String::new(), "None".to_owned())];
                if let Some(person) = person {
                    // Another council's or an unknown person: no assessments to offer.
                    let found =
                        match crate::budgets::assessments::of_person(tx, &actor, person).await {
                            Err(AppError::NotFound) => Vec::new(),
                            other => other?,
                        };
                    assessments.extend(found.into_iter().map(|a| {
                        let kind = if a.kind.as_str() == "carer" {
                            "Carer's"
                        } else {
                            "Needs"
                        };
                        (
                            a.id.to_string(),
                            format!(
                                "{kind} assessment of {}: £{} a week",
                                a.created_at.format("%-d %B %Y"),
                                a.indicative_weekly.amount()
                            ),
                        )
                    }));
                }
                Ok(BudgetChoices {
                    people,
                    brokers,
                    recipients,
                    assessments,
                })
            })
        })
        .await?;
    Ok(choices)
}

fn budget_form(session: &AdminSession, c: &BudgetChoices, form: &Typed) -> CaseForm {
    let v = |id| typed(form, id);
    let mut page = base_form(
        session,
        "Add a budget",
        "/budgets/new".into(),
        "Add the budget",
    );
    page.back = Some(("/budgets".into(), "Back to budgets".into()));
    page.intro = vec![
        "The personal budget (Care Act section 26). Accounts are opened when a plan is approved."
            .into(),
    ];
    page.groups = vec![
        FieldGroup {
            legend: None,
            fields: vec![
                FormField::new("person_id", "Person", Input::Select(c.people.clone()), &v("person_id")),
                FormField::new(
                    "funder",
                    "Funded by",
                    choices(&[("council", "The council (adult social care)"), ("nhs", "The NHS (personal health budget)")]),
                    &v("funder"),
                ),
                FormField::new(
                    "kind",
                    "Kind of budget",
                    choices(&[("standard", "Personal budget"), ("reablement", "Reablement (free, up to six weeks)")]),
                    &v("kind"),
                ),
                FormField::new("annual_cost", "Cost of meeting needs, a year, in pounds", Input::Money, &v("annual_cost"))
                    .hint("For example 15600.00"),
                FormField::new(
                    "weekly_contribution",
                    "The person's weekly contribution, in pounds",
                    Input::Money,
                    &v("weekly_contribution"),
                )
                .hint("0 when they pay nothing"),
                FormField::new(
                    "contribution_basis",
                    "How the contribution is collected",
                    choices(&[("net", "Net: the person pays it into their account"), ("gross", "Gross: the council recovers it")]),
                    &v("contribution_basis"),
                ),
                FormField::new("start_date", "Starts on", Input::Date, &v("start_date")),
                FormField::new("end_date", "Ends on (optional)", Input::Date, &v("end_date"))
                    .hint("Reablement needs an end date, at most six weeks after it starts"),
                FormField::new(
                    "broker_organisation_id",
                    "Broker drafting the plan (optional)",
                    Input::Select(c.brokers.clone()),
                    &v("broker_organisation_id"),
                ),
            ],
        },
        FieldGroup {
            legend: Some("Assessment (optional)".into()),
            fields: vec![
                FormField::new(
                    "assessment_id",
                    "The assessment the budget comes from",
                    Input::Select(c.assessments.clone()),
                    &v("assessment_id"),
                )
                .hint("The person's assessments are offered once the person is chosen (from their page)"),
                FormField::new("cost_reason", "Why the cost differs from the assessment", Input::TextArea, &v("cost_reason"))
                    .hint("Needed when the weekly cost (a year's cost divided by 52) is not the indicative amount"),
            ],
        },
        FieldGroup {
            legend: Some("Funders, when more than one pays (optional)".into()),
            fields: vec![
                FormField::new("council_weekly", "The council pays, a week, in pounds", Input::Money, &v("council_weekly"))
                    .hint("Leave the three amounts empty when the funder above pays it all; given, they add up to the weekly cost"),
                FormField::new("nhs_weekly", "The NHS pays, a week, in pounds", Input::Money, &v("nhs_weekly")),
                FormField::new("other_weekly", "Another fund pays, a week, in pounds", Input::Money, &v("other_weekly")),
                FormField::new("other_name", "The other fund's name", Input::Text, &v("other_name")),
                FormField::new(
                    "nhs_dp_separate_account",
                    "NHS money is paid into an account used only for it",
                    yes_no("Yes", "No"),
                    &v("nhs_dp_separate_account"),
                )
                .hint("Required before an NHS-funded direct payment is paid (NHS Direct Payments Regulations 2013, regulation 10)"),
            ],
        },
        FieldGroup {
            legend: Some("Direct payment".into()),
            fields: vec![
                FormField::new(
                    "direct_payment_consent_recorded",
                    "The person asked for and consented to a direct payment",
                    yes_no("Yes", "No"),
                    &v("direct_payment_consent_recorded"),
                ),
                FormField::new(
                    "direct_payment_recipient",
                    "Who receives the direct payment",
                    choices(&[
                        ("person", "The person (who has capacity)"),
                        ("nominated_person", "A nominated person (the person has capacity)"),
                        ("authorised_person", "An authorised person (the person lacks capacity)"),
                    ]),
                    &v("direct_payment_recipient"),
                ),
                FormField::new(
                    "direct_payment_recipient_user_id",
                    "The nominated or authorised person",
                    Input::Select(c.recipients.clone()),
                    &v("direct_payment_recipient_user_id"),
                ),
                FormField::new(
                    "direct_payment_recipient_agreed",
                    "The nominated person agreed to receive it",
                    yes_no("Yes", "No"),
                    &v("direct_payment_recipient_agreed"),
                ),
            ],
        },
        FieldGroup {
            legend: Some("Account the direct payment is paid into (optional)".into()),
            fields: vec![
                FormField::new("bank_sort_code", "Sort code", Input::Text, &v("bank_sort_code"))
                    .hint("Six digits, like 12-34-56. A finance officer verifies the details before anything is paid."),
                FormField::new("bank_account_number", "Account number", Input::Text, &v("bank_account_number")),
                FormField::new("bank_account_name", "Name on the account", Input::Text, &v("bank_account_name")),
            ],
        },
    ];
    page
}

/// The form adding a budget (care managers); `?person_id=` chooses the person.
pub async fn budget_new_form(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<NewBudgetQuery>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let c = budget_choices(&state, &session, query.person_id).await?;
    let mut form = Typed::new();
    if let Some(person) = query.person_id {
        form.insert("person_id".into(), person.to_string());
    }
    form.insert("weekly_contribution".into(), "0".into());
    form.insert(
        "start_date".into(),
        state.clock.today().format("%Y-%m-%d").to_string(),
    );
    form.insert("direct_payment_consent_recorded".into(), "no".into());
    form.insert("direct_payment_recipient_agreed".into(), "no".into());
    form.insert("nhs_dp_separate_account".into(), "no".into());
    let page = budget_form(&session, &c, &form);
    render(
        &state,
        &session,
        "/budgets",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

fn budget_body(form: &Typed) -> Value {
    let mut body = Map::new();
    for key in [
        "person_id",
        "funder",
        "kind",
        "annual_cost",
        "weekly_contribution",
        "contribution_basis",
        "start_date",
        "end_date",
        "broker_organisation_id",
        "assessment_id",
        "cost_reason",
    ] {
        put(&mut body, key, typed(form, key));
    }
    let mut funding = Vec::new();
    for (funder, key) in [
        ("council", "council_weekly"),
        ("nhs", "nhs_weekly"),
        ("other", "other_weekly"),
    ] {
        let amount = typed(form, key);
        if !amount.trim().is_empty() {
            let mut part = Map::new();
            part.insert("funder".into(), json!(funder));
            part.insert("weekly_amount".into(), json!(amount.trim()));
            if funder == "other" {
                put(&mut part, "name", typed(form, "other_name"));
            }
            funding.push(Value::Object(part));
        }
    }
    if !funding.is_empty() {
        body.insert("funding".into(), Value::Array(funding));
    }
    body.insert(
        "nhs_dp_separate_account".into(),
        flag(form, "nhs_dp_separate_account"),
    );
    let mut bank = Map::new();
    for key in ["sort_code", "account_number", "account_name"] {
        put(&mut bank, key, typed(form, &format!("bank_{key}")));
    }
    if !bank.is_empty() {
        for key in ["sort_code", "account_number", "account_name"] {
            bank.entry(key).or_insert(json!(""));
        }
        body.insert("bank".into(), Value::Object(bank));
    }
    let mut terms = Map::new();
    terms.insert(
        "consent_recorded".into(),
        flag(form, "direct_payment_consent_recorded"),
    );
    put(
        &mut terms,
        "recipient",
        typed(form, "direct_payment_recipient"),
    );
    put(
        &mut terms,
        "recipient_user_id",
        typed(form, "direct_payment_recipient_user_id"),
    );
    terms.insert(
        "recipient_agreed".into(),
        flag(form, "direct_payment_recipient_agreed"),
    );
    body.insert("direct_payment".into(), Value::Object(terms));
    Value::Object(body)
}

/// Adds the budget through `budget::create::create`, as `POST /api/v1/budgets` does.
pub async fn budget_new(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let person = typed(&form, "person_id").parse::<Uuid>().ok();
    let c = budget_choices(&state, &session, person).await?;
    let mut page = budget_form(&session, &c, &form);
    let errors = missing(
        &page.groups,
        &form,
        &[
            "person_id",
            "funder",
            "annual_cost",
            "weekly_contribution",
            "contribution_basis",
            "start_date",
        ],
    );
    if !errors.is_empty() {
        page.errors = errors;
        return render(
            &state,
            &session,
            "/budgets",
            Rendered {
                status: StatusCode::BAD_REQUEST,
                form: page,
            },
        )
        .await;
    }
    let result = match parse::<NewBudget>(&budget_body(&form)) {
        Ok(new) => {
            let actor = session.actor.clone();
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { budget_create::create(tx, &actor, &new).await })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(budget) => Ok(Redirect::to(&format!("/budgets/{}", budget.id)).into_response()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            let by_code = [
                ("capacity_role", "direct_payment_recipient"),
                ("not_found", "person_id"),
                ("invalid_amount", "annual_cost"),
                ("reason_required", "cost_reason"),
                ("funding_mismatch", "council_weekly"),
                ("nhs_no_charging", "weekly_contribution"),
                ("carer_not_charged", "weekly_contribution"),
            ];
            page.errors = field_errors(&page.groups, &e, &by_code, "person_id");
            render(
                &state,
                &session,
                "/budgets",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}

// Urgent interim support ------------------------------------------------------------------------

async fn budget_heading(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
) -> AdminResult<(String, String, Uuid)> {
    let actor = session.actor.clone();
    let found = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let b = budget::load::visible(tx, &actor, id).await?;
                let person = people::get(tx, &actor, b.person_id).await?;
                Ok((b.reference, person.name, b.person_id))
            })
        })
        .await?;
    Ok(found)
}

fn interim_form(
    session: &AdminSession,
    id: Uuid,
    reference: &str,
    name: &str,
    form: &Typed,
) -> CaseForm {
    let v = |k| typed(form, k);
    let mut page = base_form(
        session,
        "Record urgent interim support",
        format!("/budgets/{id}/urgent-interim"),
        "Record the support",
    );
    page.back = Some((
        format!("/budgets/{id}"),
        format!("Back to budget {reference}"),
    ));
    page.intro = vec![
        format!("{name}, budget {reference}: support the council arranges itself while the plan is agreed."),
        "It is council-managed, at most the budget's weekly cost, and lasts at most the council's limit in weeks.".into(),
    ];
    page.groups = vec![FieldGroup {
        legend: None,
        fields: vec![
            FormField::new(
                "weekly_amount",
                "Amount a week, in pounds",
                Input::Money,
                &v("weekly_amount"),
            )
            .hint("For example 250.00"),
            FormField::new("start_date", "Starts on", Input::Date, &v("start_date")),
            FormField::new("reason", "Why it is urgent", Input::TextArea, &v("reason"))
                .hint("Hospital discharge, a carer's breakdown, ..."),
        ],
    }];
    page
}

/// The form recording urgent interim support (care managers).
pub async fn interim_form_page(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let (reference, name, _) = budget_heading(&state, &session, id).await?;
    let mut form = Typed::new();
    form.insert(
        "start_date".into(),
        state.clock.today().format("%Y-%m-%d").to_string(),
    );
    let page = interim_form(&session, id, &reference, &name, &form);
    render(
        &state,
        &session,
        "/budgets",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

/// Records it through `interim::record`, as `POST /api/v1/budgets/{id}/urgent-interim` does.
pub async fn interim_submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let (reference, name, _) = budget_heading(&state, &session, id).await?;
    let mut page = interim_form(&session, id, &reference, &name, &form);
    let errors = missing(
        &page.groups,
        &form,
        &["weekly_amount", "start_date", "reason"],
    );
    if !errors.is_empty() {
        page.errors = errors;
        return render(
            &state,
            &session,
            "/budgets",
            Rendered {
                status: StatusCode::BAD_REQUEST,
                form: page,
            },
        )
        .await;
    }
    let body = json!({
        "weekly_amount": typed(&form, "weekly_amount"),
        "start_date": typed(&form, "start_date"),
        "reason": typed(&form, "reason"),
    });
    let result = match parse::<NewUrgentInterim>(&body) {
        Ok(new) => {
            let actor = session.actor.clone();
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { interim::record(tx, &actor, id, &new).await })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/budgets/{id}")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(AppError::NotFound.into()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            let by_code = [
                ("plan_not_approved", "weekly_amount"),
                ("conflict", "start_date"),
            ];
            page.errors = field_errors(&page.groups, &e, &by_code, "weekly_amount");
            render(
                &state,
                &session,
                "/budgets",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}

// A family-payment decision -------------------------------------------------------------------------

async fn family_form(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    form: &Typed,
) -> AdminResult<CaseForm> {
    let actor = session.actor.clone();
    let (reference, name, payee_choices, recorded) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let b = budget::load::visible(tx, &actor, id).await?;
                let person = people::get(tx, &actor, b.person_id).await?;
                let payees = payees::of_person(tx, actor.council_id, b.person_id).await?;
                let recorded = family_approvals::of_budget(tx, actor.council_id, id).await?;
                Ok((b.reference, person.name, payees, recorded))
            })
        })
        .await?;
    let v = |k| typed(form, k);
    let mut page = base_form(
        session,
        "Record a family-payment decision",
        format!("/budgets/{id}/family-payments"),
        "Record the decision",
    );
    page.back = Some((
        format!("/budgets/{id}"),
        format!("Back to budget {reference}"),
    ));
    page.intro = vec![
        format!("{name}, budget {reference}."),
        "A direct payment may pay a close relative who lives with the person only when the council has decided it is necessary (Direct Payments Regulations, regulation 3).".into(),
    ];
    let mut options = vec![(String::new(), "Choose the payee".to_owned())];
    options.extend(payee_choices.iter().map(|p| {
        (
            p.id.to_string(),
            format!("{} ({})", p.name, p.relationship.label()),
        )
    }));
    page.groups = vec![FieldGroup {
        legend: None,
        fields: vec![
            FormField::new("payee_id", "Payee", Input::Select(options), &v("payee_id")),
            FormField::new(
                "reason",
                "Why paying them is necessary",
                Input::TextArea,
                &v("reason"),
            )
            .hint("For the person's care, or to administer the payment"),
        ],
    }];
    page.recorded_heading = Some("Decisions recorded".into());
    page.recorded = recorded
        .iter()
        .map(|f| {
            format!(
                "{} — {} ({})",
                f.payee_name,
                f.reason,
                f.approved_at.format("%-d %B %Y")
            )
        })
        .collect();
    Ok(page)
}

/// The form recording a family-payment decision (care managers).
pub async fn family_form_page(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let page = family_form(&state, &session, id, &Typed::new()).await?;
    render(
        &state,
        &session,
        "/budgets",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

/// Records it through `family_approvals::record`, as
/// `POST /api/v1/budgets/{id}/family-payment-approvals` does.
pub async fn family_submit(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let mut page = family_form(&state, &session, id, &form).await?;
    let errors = missing(&page.groups, &form, &["payee_id", "reason"]);
    if !errors.is_empty() {
        page.errors = errors;
        return render(
            &state,
            &session,
            "/budgets",
            Rendered {
                status: StatusCode::BAD_REQUEST,
                form: page,
            },
        )
        .await;
    }
    let body = json!({"payee_id": typed(&form, "payee_id"), "reason": typed(&form, "reason")});
    let result = match parse::<NewFamilyPaymentApproval>(&body) {
        Ok(new) => {
            let actor = session.actor.clone();
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { family_approvals::record(tx, &actor, id, &new).await })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/budgets/{id}/family-payments")).into_response()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            // The budget is visible (the form was drawn): a 404 here is the payee.
            let by_code = [("not_found", "payee_id"), ("conflict", "payee_id")];
            page.errors = field_errors(&page.groups, &e, &by_code, "payee_id");
            render(
                &state,
                &session,
                "/budgets",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}

// A budget holder's own personal assistant --------------------------------------------------------

#[derive(Debug, Default, serde::Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    sent: Option<String>,
}

fn pa_form(session: &AdminSession, form: &Typed, done: Option<String>) -> CaseForm {
    let v = |k| typed(form, k);
    let mut page = base_form(
        session,
        "Ask for your personal assistant to be paid",
        "/payee-requests/new".into(),
        "Send the request",
    );
    page.done = done;
    page.intro = vec![
        "Give your personal assistant's name and bank details.".into(),
        "A finance officer at the council checks the bank details before anything is paid to them; until then a payment to them is refused.".into(),
    ];
    let mut relationships = vec![];
    relationships.extend(
        Relationship::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), capitalised(r.label()))),
    );
    page.groups = vec![
        FieldGroup {
            legend: None,
            fields: vec![
                FormField::new("name", "Their full name", Input::Text, &v("name")),
                FormField::new(
                    "relationship",
                    "How they are related to you",
                    Input::Select(relationships),
                    &v("relationship"),
                ),
                FormField::new(
                    "lives_with_person",
                    "Do they live with you?",
                    yes_no("Yes", "No"),
                    &v("lives_with_person"),
                ),
            ],
        },
        FieldGroup {
            legend: Some("Their bank account".into()),
            fields: vec![
                FormField::new(
                    "bank_sort_code",
                    "Sort code",
                    Input::Text,
                    &v("bank_sort_code"),
                )
                .hint("Six digits, like 12-34-56"),
                FormField::new(
                    "bank_account_number",
                    "Account number",
                    Input::Text,
                    &v("bank_account_number"),
                )
                .hint("Eight digits"),
                FormField::new(
                    "bank_account_name",
                    "Name on the account",
                    Input::Text,
                    &v("bank_account_name"),
                ),
            ],
        },
    ];
    page
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The budget holder's request for their own personal assistant as a payee.
pub async fn pa_request_form(
    State(state): State<AppState>,
    session: AdminSession,
    AdminQuery(query): AdminQuery<SentQuery>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::BudgetHolder])?;
    let mut form = Typed::new();
    form.insert("relationship".into(), "none".into());
    form.insert("lives_with_person".into(), "no".into());
    let done = query.sent.map(|_| {
        "Your request was sent. A finance officer will check the bank details; you can pay them once they have.".to_owned()
    });
    let page = pa_form(&session, &form, done);
    render(
        &state,
        &session,
        "/budgets",
        Rendered {
            status: StatusCode::OK,
            form: page,
        },
    )
    .await
}

/// Records the payee through `payees::create`, as `POST /api/v1/payees` does for a budget holder:
/// their own personal assistant, with bank details waiting for a finance officer.
pub async fn pa_request_submit(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<Typed>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::BudgetHolder])?;
    let mut page = pa_form(&session, &form, None);
    let errors = missing(
        &page.groups,
        &form,
        &[
            "name",
            "bank_sort_code",
            "bank_account_number",
            "bank_account_name",
        ],
    );
    if !errors.is_empty() {
        page.errors = errors;
        return render(
            &state,
            &session,
            "/budgets",
            Rendered {
                status: StatusCode::BAD_REQUEST,
                form: page,
            },
        )
        .await;
    }
    let body = json!({
        "name": typed(&form, "name"),
        "kind": "personal_assistant",
        "person_id": session.actor.person_id,
        "relationship": typed(&form, "relationship"),
        "lives_with_person": flag(&form, "lives_with_person"),
        "bank": {
            "sort_code": typed(&form, "bank_sort_code"),
            "account_number": typed(&form, "bank_account_number"),
            "account_name": typed(&form, "bank_account_name"),
        },
    });
    let result = match parse::<NewPayee>(&body) {
        Ok(new) => {
            let actor = session.actor.clone();
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { payees::create(tx, &actor, &new).await })
                })
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/payee-requests/new?sent=1").into_response()),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(AppError::Forbidden.into()),
        Err(e) => {
            page.errors = field_errors(&page.groups, &e, &[], "name");
            render(
                &state,
                &session,
                "/budgets",
                Rendered {
                    status: e.status,
                    form: page,
                },
            )
            .await
        }
    }
}
