//! Requests made from the published OpenAPI description: plausible request bodies from its
//! schemas, for tests that walk every route.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use uuid::Uuid;

/// A schema from the description, following `$ref`.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A plausible instance of `schema` (its required fields only), so that a request gets past the
/// body's parsing to whatever the test is about; a uuid field takes its id from `ids` by the
/// field's name (a random one otherwise).
pub fn sample(
    doc: &Value,
    schema: &Value,
    field: &str,
    ids: &BTreeMap<&'static str, Uuid>,
    depth: usize,
) -> Value {
    let schema = resolve(doc, schema);
    if depth > 8 {
        return Value::Null;
    }
    if let Some(first) = schema["oneOf"]
        .as_array()
        .or(schema["anyOf"].as_array())
        .and_then(|options| options.iter().find(|o| o["type"] != "null"))
    {
        return sample(doc, first, field, ids, depth + 1);
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind
        .as_str()
        .unwrap_or(if schema["properties"].is_object() {
            "object"
        } else {
            ""
        }) {
        "object" => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                let property = &schema["properties"][name];
                out.insert(name.into(), sample(doc, property, name, ids, depth + 1));
            }
            Value::Object(out)
        }
        "array" => json!([sample(doc, &schema["items"], field, ids, depth + 1)]),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "string" => match (schema["format"].as_str(), field) {
            (Some("uuid"), _) => json!(ids.get(field).copied().unwrap_or_else(Uuid::new_v4)),
            (Some("date"), _) => json!("2025-02-10"),
            (Some("date-time"), _) => json!("2025-02-10T10:00:00Z"),
            (_, "sort_code") => json!("20-00-00"),
            (_, "account_number") => json!("55779911"),
            (_, "email") => json!("someone@example.org"),
            _ => json!("Isolation test"),
        },
        _ => json!({}),
    }
}
