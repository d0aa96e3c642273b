//! The decision-making agreement page: the grants, how each important decision is made in plain
//! words (from the person's capacity record and the grants in force), and the care manager's form.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::session::{AdminSession, CsrfForm};
use super::{labels, AdminPath, AdminResult};
use crate::auth::Role;
use crate::budgets::agreements::{self, Grant, NewGrant};
use crate::budgets::budget;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::parse_json;
use crate::http::AppState;
use crate::rules::{ActingAs, Category, Deployment, Power};
use allot_views::pages::agreement::{
    agreement as agreement_page, AgreementPage, DecisionWords, GrantRow, GrantValues,
};
use allot_views::pages::payments::Choice;

fn categories_words(grant: &Grant) -> String {
    match &grant.categories {
        None => "anything in the plan".to_owned(),
        Some(list) => list
            .iter()
            .map(|c| labels::category(*c).to_lowercase())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The money the grant covers: "the direct payment", "the managed account or the Individual Service Fund".
fn deployments_words(grant: &Grant) -> String {
    let names: Vec<String> = grant
        .deployments
        .iter()
        .map(|d| format!("the {}", d.label()))
        .collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn powers_words(grant: &Grant) -> String {
    grant
        .powers
        .iter()
        .map(|p| match p {
            Power::Pay => "pay",
            Power::Approve => "approve",
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// How each important decision is made, in plain words.
pub fn decisions(person: &str, has_capacity: bool, grants: &[Grant]) -> Vec<DecisionWords> {
    let in_force: Vec<&Grant> = grants.iter().filter(|g| g.in_force).collect();
    let payers: Vec<String> = in_force
        .iter()
        .filter(|g| g.powers.contains(&Power::Pay))
        .map(|g| {
            let mut s = format!(
                "{} ({}) may pay up to £{} a payment for {} from {}",
                g.user_name,
                g.acting_as.label(),
                g.max_per_payment,
                categories_words(g),
                deployments_words(g)
            );
            if g.acting_as != ActingAs::Person {
                s.push_str(&format!(" on {person}'s behalf"));
            }
            if let Some(c) = &g.cosign_above {
                s.push_str(&format!("; above £{c} a second person must agree"));
            }
            s.push('.');
            s
        })
        .collect();
    let approvers: Vec<String> = in_force
        .iter()
        .filter(|g| g.powers.contains(&Power::Approve))
        .map(|g| {
            format!(
                "{} ({}) may approve other people's payments of up to £{} for {} from {}.",
                g.user_name,
                g.acting_as.label(),
                g.max_per_payment,
                categories_words(g),
                deployments_words(g)
            )
        })
        .collect();
    let deciders: Vec<String> = in_force
        .iter()
        .filter(|g| {
            matches!(
                g.acting_as,
                ActingAs::AuthorisedPerson | ActingAs::Attorney | ActingAs::Deputy
            )
        })
        .map(|g| format!("{} ({})", g.user_name, g.acting_as.label()))
        .collect();
    let mut spending = Vec::new();
    if has_capacity {
        spending.push(format!(
            "{person} decides how the money is spent on the needs in the support plan."
        ));
    } else {
        spending.push(format!(
            "{person}'s record says they do not have capacity to manage the money, so spending \
             decisions are made in their best interests: whoever decides must involve {person} as \
             much as possible and consult the people who care for them (Mental Capacity Act 2005 \
             s.4)."
        ));
    }
    if payers.is_empty() {
        spending.push("Nobody has been given authority to make payments yet.".to_owned());
    } else {
        spending.extend(payers);
    }
    let mut plan = vec![
        "A care manager approves every version of the support plan; spending must match a line of it."
            .to_owned(),
    ];
    if has_capacity {
        plan.push(format!(
            "{person} agrees the plan with the care manager, and may ask for a review at any time."
        ));
    } else if deciders.is_empty() {
        plan.push(format!(
            "The care manager decides in {person}'s best interests, after involving {person} and \
             consulting the people who care for them."
        ));
    } else {
        plan.push(format!(
            "The care manager agrees it with {}, in {person}'s best interests and involving \
             {person} as much as possible.",
            deciders.join(" and ")
        ));
    }
    let mut approving = Vec::new();
    if approvers.is_empty() {
        approving.push(
            "Nobody has been given power to approve other people's payments: a payment above \
             someone's limit is refused rather than left waiting."
                .to_owned(),
        );
    } else {
        approving.extend(approvers);
    }
    approving.push(
        "Spending beyond what a plan line allows for the year waits for a care manager. Nobody \
         approves their own payment, and a payment not approved within the council's time limit \
         is released."
            .to_owned(),
    );
    vec![
        DecisionWords {
            title: "Day-to-day spending on the plan",
            sentences: spending,
        },
        DecisionWords {
            title: "Paying a family member",
            sentences: vec![format!(
                "A direct payment cannot pay {person}'s spouse, civil partner or partner, or a close \
                 relative who lives in the same household, unless the council has recorded that it \
                 is necessary. A care manager records that decision, with the reason."
            )],
        },
        DecisionWords {
            title: "Short stays in a care home",
            sentences: vec![
                "Respite in a care home can be paid for up to 4 weeks in any 12 months; stays less \
                 than 4 weeks apart count as one. Each payment gives the first and last night."
                    .to_owned(),
            ],
        },
        DecisionWords {
            title: "Changing the support plan",
            sentences: plan,
        },
        DecisionWords {
            title: "Approving payments above someone's limit",
            sentences: approving,
        },
    ]
}

fn row(grant: &Grant) -> GrantRow {
    let state = if grant.ended_at.is_some() {
        "Ended".to_owned()
    } else if let Some(misfit) = &grant.misfit {
        format!("Not working: {misfit}")
    } else if grant.in_force {
        "In force".to_owned()
    } else {
        "Not in force on today's date".to_owned()
    };
    GrantRow {
        id: grant.id,
        party: grant.user_name.clone(),
        acting_as: grant.acting_as.label(),
        powers: powers_words(grant),
        categories: categories_words(grant),
        deployments: deployments_words(grant),
        max_per_payment: grant.max_per_payment.clone(),
        cosign_above: grant.cosign_above.clone(),
        valid_from: grant.valid_from,
        valid_to: grant.valid_to,
        in_force: grant.in_force,
        ended: grant.ended_at.is_some(),
        state,
    }
}

async fn render(
    state: &AppState,
    session: &AdminSession,
    id: Uuid,
    values: GrantValues,
    errors: Vec<String>,
) -> AdminResult<maud::Markup> {
    let shell = session.shell(state, "/budgets").await?;
    let actor = session.actor.clone();
    let (reference, person_name, has_capacity, grants, parties) = state
        .in_tenant_tx(actor.council_id, |tx| {
            Box::pin(async move {
                let budget = budget::load::visible(tx, &actor, id).await?;
                let person = tx
                    .query_one(
                        "SELECT name, has_capacity FROM people WHERE council_id = $1 AND id = $2",
                        &[&actor.council_id, &budget.person_id],
                    )
                    .await?;
                let grants = agreements::list(tx, &actor, id).await?;
                let parties = tx
                    .query(
                        "SELECT id, name, role FROM users WHERE council_id = $1
                         AND role IN ('representative', 'budget_holder', 'broker', 'provider_staff')
                         AND (role <> 'budget_holder' OR person_id = $2)
                         ORDER BY name LIMIT 500",
                        &[&actor.council_id, &budget.person_id],
                    )
                    .await?
                    .iter()
                    .map(|r| Choice {
                        value: r.get::<_, Uuid>(0).to_string(),
                        label: format!(
                            "{} ({})",
                            r.get::<_, String>(1),
                            r.get::<_, String>(2).replace('_', " ")
                        ),
                    })
                    .collect::<Vec<_>>();
                Ok((
                    budget.reference,
                    person.get::<_, String>(0),
                    person.get::<_, bool>(1),
                    grants,
                    parties,
                ))
            })
        })
        .await?;
    let mut categories = vec![Choice {
        value: String::new(),
        label: "Anything in the plan".into(),
    }];
    categories.extend(Category::ALL.iter().map(|c| Choice {
        value: c.as_str().into(),
        label: labels::category(*c).into(),
    }));
    let mut deployments = vec![Choice {
        value: String::new(),
        label: "The usual money for this party".into(),
    }];
    deployments.extend(Deployment::ALL.iter().map(|d| Choice {
        value: d.as_str().into(),
        label: labels::deployment(*d).into(),
    }));
    Ok(agreement_page(
        &shell,
        &AgreementPage {
            budget_id: id,
            budget_reference: reference,
            decisions: decisions(&person_name, has_capacity, &grants),
            person_name,
            grants: grants.iter().map(row).collect(),
            can_edit: session.actor.role == Role::CareManager,
            csrf_token: session.csrf_token.clone(),
            parties,
            acting_as: ActingAs::ALL
                .iter()
                .map(|a| Choice {
                    value: a.as_str().into(),
                    label: a.label().into(),
                })
                .collect(),
            categories,
            deployments,
            values,
            errors,
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    session: AdminSession,
    AdminPath(id): AdminPath<Uuid>,
) -> AdminResult<maud::Markup> {
    let values = GrantValues {
        pay: true,
        valid_from: state.clock.today().format("%Y-%m-%d").to_string(),
        ..GrantValues::default()
    };
    render(&state, &session, id, values, Vec::new()).await
}

fn values(form: &HashMap<String, String>) -> GrantValues {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    GrantValues {
        user_id: get("user_id"),
        acting_as: get("acting_as"),
        pay: form.contains_key("pay"),
        approve: form.contains_key("approve"),
        category: get("category"),
        deployment: get("deployment"),
        max_per_payment: get("max_per_payment"),
        cosign_above: get("cosign_above"),
        valid_from: get("valid_from"),
        valid_to: get("valid_to"),
        lpa_registered: form.contains_key("lpa_registered"),
        court_order_ref: get("court_order_ref"),
    }
}

/// The form as the API's JSON, parsed by the same code as the API.
fn to_json(v: &GrantValues) -> Value {
    let mut body = Map::new();
    let mut powers = Vec::new();
    if v.pay {
        powers.push("pay");
    }
    if v.approve {
        powers.push("approve");
    }
    body.insert("powers".into(), json!(powers));
    body.insert("lpa_registered".into(), json!(v.lpa_registered));
    if !v.category.is_empty() {
        body.insert("categories".into(), json!([v.category]));
    }
    if !v.deployment.is_empty() {
        body.insert("deployments".into(), json!([v.deployment]));
    }
    for (key, value) in [
        ("user_id", &v.user_id),
        ("acting_as", &v.acting_as),
        ("max_per_payment", &v.max_per_payment),
        ("cosign_above", &v.cosign_above),
        ("valid_from", &v.valid_from),
        ("valid_to", &v.valid_to),
        ("court_order_ref", &v.court_order_ref),
    ] {
        if !value.is_empty() {
            body.insert(key.into(), json!(value));
        }
    }
    Value::Object(body)
}

fn messages(error: &ApiError) -> Vec<String> {
    let mut out = vec![error.message.clone()];
    out.extend(
        error
            .details
            .iter()
            .filter(|d| d.message != error.message && !error.message.ends_with(&d.message))
            .map(|d| d.message.clone()),
    );
    out
}

pub async fn record(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<Uuid>,
    CsrfForm { session, form }: CsrfForm<HashMap<String, String>>,
) -> AdminResult<Response> {
    session.actor.require(&[Role::CareManager])?;
    let v = values(&form);
    let result = match parse_json::<NewGrant>(to_json(&v).to_string().as_bytes()) {
        Err(e) => Err(e),
        Ok(new) => {
            let actor = session.actor.clone();
            state
                .write(actor.council_id, |tx| {
                    let (actor, new) = (actor.clone(), new.clone());
                    Box::pin(async move { agreements::record(tx, &actor, id, &new).await })
                })
                .await
                .map_err(|e| match e {
                    AppError::NotFound => ApiError::from(AppError::NotFound),
                    other => ApiError::from(other),
                })
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/budgets/{id}/agreement")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(AppError::NotFound.into()),
        Err(e) => {
            let status = e.status;
            let page = render(&state, &session, id, v, messages(&e)).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn end(
    State(state): State<AppState>,
    AdminPath((id, grant_id)): AdminPath<(Uuid, Uuid)>,
    CsrfForm { session, form: _ }: CsrfForm<Empty>,
) -> AdminResult<Response> {
    let actor = session.actor.clone();
    state
        .write(actor.council_id, |tx| {
            let actor = actor.clone();
            Box::pin(async move { agreements::end(tx, &actor, id, grant_id).await })
        })
        .await?;
    Ok(Redirect::to(&format!("/budgets/{id}/agreement")).into_response())
}
