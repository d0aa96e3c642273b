//! The council administrator's pages: organisations, users, the council's policy (with its
//! versions and what each changed), the council's banking and the national charging parameters.
//! Every form keeps what was typed when it is refused and shows each refusal beside its field.

use maud::{html, Markup};

use crate::components::{csrf_field, field_error_summary, Field, FieldError};
use crate::layout::{page, Shell};

/// One organisation in the list.
#[derive(Debug, Clone)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// "Verified", "Waiting for a finance officer" or "None given".
    pub bank: String,
}

/// The add-an-organisation form as typed.
#[derive(Debug, Clone, Default)]
pub struct OrganisationForm {
    pub name: String,
    pub kind: String,
    pub bank_sort_code: String,
    pub bank_account_number: String,
    pub bank_account_name: String,
}

pub struct OrganisationsPage {
    pub organisations: Vec<OrganisationRow>,
    /// `(value, label)` of each kind of organisation.
    pub kinds: Vec<(String, String)>,
    pub form: OrganisationForm,
    pub errors: Vec<FieldError>,
    /// The organisation just added (its name).
    pub added: Option<String>,
    pub csrf_token: String,
}

pub fn organisations(shell: &Shell, data: &OrganisationsPage) -> Markup {
    let errors = &data.errors;
    let f = &data.form;
    page(
        shell,
        "Organisations",
        html! {
            (field_error_summary(errors))
            @if let Some(name) = &data.added {
                div.notice role="status" { p { "The organisation " strong { (name) } " has been added." } }
            }
            @if data.organisations.is_empty() {
                p { "No organisations yet. Add the providers, brokers and trusts that work with your council below." }
            } @else {
                table {
                    caption { "The council's organisations" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Bank details" } } }
                    tbody { @for o in &data.organisations { tr {
                        td { a href={ "/council/organisations/" (o.id) } { (o.name) } }
                        td { (o.kind) } td { (o.bank) }
                    } } }
                }
            }
            h2 id="add-organisation" { "Add an organisation" }
            form method="post" action="/council/organisations" novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "name", label: "Name", value: &f.name, hint: None, errors }.input("text"))
                (Field { id: "kind", label: "Kind of organisation", value: &f.kind, hint: None, errors }.select(&data.kinds))
                fieldset {
                    legend { "Bank details (optional)" }
                    p.hint { "Where payments to this organisation go. A finance officer verifies them before anything is paid." }
                    (Field { id: "bank_sort_code", label: "Sort code", value: &f.bank_sort_code, hint: Some("Six digits, like 12-34-56"), errors }.input("text"))
                    (Field { id: "bank_account_number", label: "Account number", value: &f.bank_account_number, hint: Some("Eight digits"), errors }.input("text"))
                    (Field { id: "bank_account_name", label: "Name on the account", value: &f.bank_account_name, hint: None, errors }.input("text"))
                }
                button.primary type="submit" { "Add the organisation" }
            }
        },
    )
}

/// One user in a list.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: String,
    pub active: bool,
}

fn user_table(caption: &str, users: &[UserRow]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" }
                th scope="col" { "Organisation" } th scope="col" { "Active" }
            } }
            tbody { @for u in users { tr {
                td { a href={ "/council/users/" (u.id) } { (u.name) } }
                td { (u.email) } td { (u.role) } td { (u.organisation) }
                td { @if u.active { "Yes" } @else { "No" } }
            } } }
        }
    }
}

pub struct OrganisationPage {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub bank: Option<(String, String, String)>,
    pub bank_verified: bool,
    pub users: Vec<UserRow>,
    /// The change form as typed (the name, and new bank details if any).
    pub form: OrganisationForm,
    pub errors: Vec<FieldError>,
    pub saved: bool,
    pub csrf_token: String,
}

pub fn organisation(shell: &Shell, data: &OrganisationPage) -> Markup {
    let errors = &data.errors;
    let f = &data.form;
    page(
        shell,
        &data.name,
        html! {
            (field_error_summary(errors))
            @if data.saved {
                div.notice role="status" { p { "The organisation has been changed." } }
            }
            dl.summary {
                dt { "Kind" } dd { (data.kind) }
                dt { "Bank details" }
                dd {
                    @match &data.bank {
                        Some((sort_code, account, name)) => {
                            (sort_code) " · " (account) " · " (name)
                            @if data.bank_verified { " (verified)" } @else { " (waiting for a finance officer to verify them)" }
                        }
                        None => { "None given" }
                    }
                }
            }
            h2 { "Its users" }
            @if data.users.is_empty() {
                p { "Nobody from this organisation can sign in yet. " a href="/council/users#add-user" { "Add a user" } " with the role of broker or provider staff." }
            } @else {
                (user_table("Users of this organisation", &data.users))
            }
            h2 id="change-organisation" { "Change its name or bank details" }
            form method="post" action={ "/council/organisations/" (data.id) } novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "name", label: "Name", value: &f.name, hint: None, errors }.input("text"))
                fieldset {
                    legend { "New bank details" }
                    p.hint { "Leave these empty to keep the details on file. New details are not paid until a finance officer verifies them." }
                    (Field { id: "bank_sort_code", label: "Sort code", value: &f.bank_sort_code, hint: Some("Six digits, like 12-34-56"), errors }.input("text"))
                    (Field { id: "bank_account_number", label: "Account number", value: &f.bank_account_number, hint: Some("Eight digits"), errors }.input("text"))
                    (Field { id: "bank_account_name", label: "Name on the account", value: &f.bank_account_name, hint: None, errors }.input("text"))
                }
                button.primary type="submit" { "Save the changes" }
            }
            p { a href="/council/organisations" { "All organisations" } }
        },
    )
}

/// The add-a-user form as typed (never the password).
#[derive(Debug, Clone, Default)]
pub struct UserForm {
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation_id: String,
    pub person_id: String,
}

pub struct UsersPage {
    pub users: Vec<UserRow>,
    pub roles: Vec<(String, String)>,
    /// `(id, name)`, the first being "none".
    pub organisations: Vec<(String, String)>,
    pub people: Vec<(String, String)>,
    pub form: UserForm,
    pub errors: Vec<FieldError>,
    pub added: Option<String>,
    pub csrf_token: String,
}

pub fn users(shell: &Shell, data: &UsersPage) -> Markup {
    let errors = &data.errors;
    let f = &data.form;
    page(
        shell,
        "Users",
        html! {
            (field_error_summary(errors))
            @if let Some(name) = &data.added {
                div.notice role="status" { p { (name) " can now sign in." } }
            }
            (user_table("The council's users, newest first", &data.users))
            h2 id="add-user" { "Add a user" }
            form method="post" action="/council/users" novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "name", label: "Full name", value: &f.name, hint: None, errors }.input("text"))
                (Field { id: "email", label: "Email address", value: &f.email, hint: Some("They sign in with it; it is unique within the council."), errors }.input("email"))
                (Field { id: "role", label: "Role", value: &f.role, hint: None, errors }.select(&data.roles))
                (Field { id: "organisation_id", label: "Organisation", value: &f.organisation_id, hint: Some("Brokers and provider staff only."), errors }.select(&data.organisations))
                (Field { id: "person_id", label: "Person", value: &f.person_id, hint: Some("Budget holders only: the person whose budget it is."), errors }.select(&data.people))
                (Field { id: "password", label: "First password", value: "", hint: Some("At least 12 characters. Give it to them in person; it is not shown again."), errors }.input("password"))
                button.primary type="submit" { "Add the user" }
            }
        },
    )
}

pub struct UserPage {
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: Option<(String, String)>,
    pub person: Option<(String, String)>,
    pub active: bool,
    pub added: String,
    pub added_by: String,
}

pub fn user(shell: &Shell, data: &UserPage) -> Markup {
    page(
        shell,
        &data.name,
        html! {
            dl.summary {
                dt { "Email" } dd { (data.email) }
                dt { "Role" } dd { (data.role) }
                @if let Some((id, name)) = &data.organisation {
                    dt { "Organisation" } dd { a href={ "/council/organisations/" (id) } { (name) } }
                }
                @if let Some((id, name)) = &data.person {
                    dt { "Person" } dd { a href={ "/people/" (id) } { (name) } }
                }
                dt { "Active" } dd { @if data.active { "Yes" } @else { "No" } }
                dt { "Added" } dd { (data.added) }
                dt { "Added by" } dd { (data.added_by) }
            }
            p { a href="/council/users" { "All users" } }
        },
    )
}

/// One setting of the policy as shown and typed.
#[derive(Debug, Clone)]
pub struct PolicyField {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    /// `text`, `number`, `money`, `email`, `tel`, or `select` with options.
    pub kind: &'static str,
    pub options: Vec<(String, String)>,
    pub value: String,
}

pub struct PolicyPage {
    pub version: i32,
    pub fields: Vec<PolicyField>,
    pub reason: String,
    pub errors: Vec<FieldError>,
    /// The version just stored.
    pub saved: Option<i32>,
    pub csrf_token: String,
}

pub fn policy(shell: &Shell, data: &PolicyPage) -> Markup {
    let errors = &data.errors;
    page(
        shell,
        "Council policy",
        html! {
            (field_error_summary(errors))
            @if let Some(v) = data.saved {
                div.notice role="status" { p { "Version " (v) " of the policy is now in force. Decisions already made keep the version they were made under." } }
            }
            p { "Version " strong { (data.version) } " is in force. Changing a value stores a new version; " a href="/council/policy/versions" { "see every version and what changed" } "." }
            form method="post" action="/council/policy" novalidate {
                (csrf_field(&data.csrf_token))
                @for p in &data.fields {
                    @let field = Field { id: p.id, label: p.label, value: &p.value, hint: p.hint, errors };
                    @match p.kind {
                        "money" => { (field.money()) }
                        "select" => { (field.select(&p.options)) }
                        kind => { (field.input(kind)) }
                    }
                }
                (Field { id: "reason", label: "Why it is changing", value: &data.reason, hint: Some("Kept with the version (optional, up to 2000 characters)."), errors }.textarea())
                button.primary type="submit" { "Store a new version" }
            }
        },
    )
}

/// One value that differs between a version and the one before it.
#[derive(Debug, Clone)]
pub struct Change {
    pub setting: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: i32,
    pub made: String,
    pub made_by: String,
    pub reason: String,
    pub changes: Vec<Change>,
    /// The first version (the defaults): nothing before it.
    pub first: bool,
}

pub fn policy_versions(shell: &Shell, versions: &[VersionRow]) -> Markup {
    page(
        shell,
        "Policy versions",
        html! {
            p { "Newest first. Each version lists the settings that differ from the version before it." }
            @for v in versions {
                section aria-labelledby={ "version-" (v.version) } {
                    h2 id={ "version-" (v.version) } { "Version " (v.version) }
                    dl.summary {
                        dt { "Made" } dd { (v.made) }
                        dt { "By" } dd { (v.made_by) }
                        dt { "Why" } dd { (v.reason) }
                    }
                    @if v.first {
                        p { "The council's starting settings." }
                    } @else if v.changes.is_empty() {
                        p { "No setting differs from version " (v.version - 1) "." }
                    } @else {
                        table {
                            caption { "What changed in version " (v.version) }
                            thead { tr { th scope="col" { "Setting" } th scope="col" { "Before" } th scope="col" { "After" } } }
                            tbody { @for c in &v.changes { tr { th scope="row" { (c.setting) } td { (c.before) } td { (c.after) } } } }
                        }
                    }
                }
            }
            p { a href="/council/policy" { "The policy in force" } }
        },
    )
}

#[derive(Debug, Clone, Default)]
pub struct BankingForm {
    pub service_user_number: String,
    pub account_sort_code: String,
    pub account_account_number: String,
    pub account_account_name: String,
}

pub struct BankingPage {
    /// Whether the banking has been set at all.
    pub set: bool,
    pub form: BankingForm,
    pub errors: Vec<FieldError>,
    pub saved: bool,
    pub csrf_token: String,
}

pub fn banking(shell: &Shell, data: &BankingPage) -> Markup {
    let errors = &data.errors;
    let f = &data.form;
    page(
        shell,
        "Council banking",
        html! {
            (field_error_summary(errors))
            @if data.saved {
                div.notice role="status" { p { "The council's banking has been changed. The next payment files use it." } }
            }
            @if !data.set {
                p { "The council's bank account and Bacs service user number have not been set, so no payment file can be made yet." }
            } @else {
                p { "Payment files are made from this account under this service user number." }
            }
            form method="post" action="/council/banking" novalidate {
                (csrf_field(&data.csrf_token))
                (Field { id: "service_user_number", label: "Bacs service user number", value: &f.service_user_number, hint: Some("Six digits, issued by the council's sponsoring bank."), errors }.input("text"))
                fieldset {
                    legend { "The account payments leave from" }
                    (Field { id: "account_sort_code", label: "Sort code", value: &f.account_sort_code, hint: Some("Six digits, like 12-34-56"), errors }.input("text"))
                    (Field { id: "account_account_number", label: "Account number", value: &f.account_account_number, hint: Some("Eight digits"), errors }.input("text"))
                    (Field { id: "account_account_name", label: "Name on the account", value: &f.account_account_name, hint: None, errors }.input("text"))
                }
                button.primary type="submit" { @if data.set { "Change the banking" } @else { "Set the banking" } }
            }
        },
    )
}

pub struct ChargingPage {
    /// The date asked about (as typed).
    pub on: String,
    pub errors: Vec<FieldError>,
    /// `(label, value)` rows of the parameters in force, when found.
    pub figures: Vec<(String, String)>,
    /// `(band, from age, weekly amount)`.
    pub mig_bands: Vec<(String, String, String)>,
}

pub fn charging(shell: &Shell, data: &ChargingPage) -> Markup {
    let errors = &data.errors;
    page(
        shell,
        "Charging parameters",
        html! {
            (field_error_summary(errors))
            p { "The national figures financial assessments use (capital limits, tariff income and the minimum income guarantee). They are set nationally each April and loaded with allot's migrations; councils read them here." }
            form method="get" action="/council/charging" novalidate {
                (Field { id: "on", label: "In force on", value: &data.on, hint: Some("A date like 2025-04-06"), errors }.input("date"))
                button type="submit" { "Show" }
            }
            @if !data.figures.is_empty() {
                dl.summary { @for (label, value) in &data.figures { dt { (label) } dd { (value) } } }
            }
            @if !data.mig_bands.is_empty() {
                table {
                    caption { "Minimum income guarantee, a week" }
                    thead { tr { th scope="col" { "Band" } th scope="col" { "From age" } th scope="col" { "Weekly amount" } } }
                    tbody { @for (band, age, amount) in &data.mig_bands { tr { td { (band) } td.num { (age) } td.num { "£" (amount) } } } }
                }
            }
        },
    )
}
