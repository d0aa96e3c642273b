//! Webhook endpoints (council administrators for the council, provider staff for their
//! organisation): each endpoint with its delivery log, a form to register one (its secret shown
//! once, on the page that answers the form) and a delete button each.

use maud::{html, Markup};

use crate::components::{csrf_field, error_summary};
use crate::layout::{page, Shell};

/// One delivery in an endpoint's log.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub event: String,
    pub webhook_id: String,
    pub status: String,
    pub attempts: i32,
    /// The last attempt: when, and its status code or error.
    pub last: String,
    pub next: String,
}

#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub status: String,
    pub deliveries: Vec<DeliveryRow>,
}

/// The register form as typed.
#[derive(Debug, Clone, Default)]
pub struct EndpointForm {
    pub url: String,
    pub events: Vec<String>,
}

pub struct WebhooksPage {
    pub endpoints: Vec<EndpointRow>,
    /// Every event an endpoint may subscribe to.
    pub events: Vec<&'static str>,
    pub form: EndpointForm,
    /// The secret of the endpoint just registered (shown this once).
    pub created: Option<(String, String)>,
    pub csrf_token: String,
    pub errors: Vec<String>,
}

pub fn webhooks(shell: &Shell, data: &WebhooksPage) -> Markup {
    page(
        shell,
        "Webhooks",
        html! {
            (error_summary(&data.errors))
            @if let Some((url, secret)) = &data.created {
                div.notice role="status" {
                    h2 { "Endpoint registered" }
                    p { "The signing secret of " (url) " is shown this once. Keep it with the receiver: it checks every request's " code { "webhook-signature" } " with it." }
                    p { code.secret { (secret) } }
                }
            }
            p { "allot sends a signed POST (Standard Webhooks) to each endpoint when an event it subscribes to happens, and tries again on a schedule when the receiver does not answer 2xx." }
            @if data.endpoints.is_empty() {
                p { "No endpoints yet." }
            }
            @for e in &data.endpoints {
                section.endpoint aria-labelledby={ "endpoint-" (e.id) } {
                    h2 id={ "endpoint-" (e.id) } { (e.url) }
                    dl.summary {
                        dt { "Events" } dd { (e.events) }
                        dt { "Status" } dd { (e.status) }
                    }
                    form method="post" action={ "/webhooks/" (e.id) "/delete" } {
                        (csrf_field(&data.csrf_token))
                        button.warning type="submit" aria-label={ "Delete the endpoint " (e.url) } { "Delete" }
                    }
                    h3 { "Deliveries" }
                    @if e.deliveries.is_empty() {
                        p { "Nothing sent yet." }
                    } @else {
                        table {
                            caption.visually-hidden { "Deliveries to " (e.url) ", newest first" }
                            thead { tr {
                                th scope="col" { "Event" } th scope="col" { "Id" } th scope="col" { "Status" }
                                th scope="col" { "Attempts" } th scope="col" { "Last attempt" } th scope="col" { "Next" }
                            } }
                            tbody {
                                @for d in &e.deliveries {
                                    tr {
                                        td { (d.event) } td { code { (d.webhook_id) } } td { (d.status) }
                                        td.num { (d.attempts) } td { (d.last) } td { (d.next) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Register an endpoint" }
            form method="post" action="/webhooks" {
                (csrf_field(&data.csrf_token))
                div.field {
                    label for="url" { "URL" }
                    span.hint id="url-hint" { "https, on an address reachable from the internet." }
                    input id="url" name="url" type="url" value=(data.form.url) aria-describedby="url-hint";
                }
                fieldset {
                    legend { "Events" }
                    @for event in &data.events {
                        div.checkbox {
                            input id={ "event-" (event) } name="events" type="checkbox" value=(event)
                                checked[data.form.events.iter().any(|e| e == event)];
                            label for={ "event-" (event) } { (event) }
                        }
                    }
                }
                button.primary type="submit" { "Register the endpoint" }
            }
        },
    )
}
