//! JSON Schemas for every event payload, generated from the Rust types.
//!
//! The checked-in copies live in `shared/events/schemas/`; `cargo test` fails when they drift
//! from the code, and `LASTMILE_BLESS=1 cargo test -p lastmile-events` rewrites them.

use schemars::{JsonSchema, schema_for};

use crate::{
    CiEvent, CloudEvent, Diagnosis, DiagnosisReport, EvidenceRef, Incident, K8sObservation,
    RemediationCommand,
};

/// `(file name, schema)` for every event type, plus the `--format json` report.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    fn one<T: JsonSchema>() -> serde_json::Value {
        serde_json::to_value(schema_for!(T)).unwrap_or(serde_json::Value::Null)
    }
    vec![
        (
            "k8s-observation.schema.json",
            one::<CloudEvent<K8sObservation>>(),
        ),
        ("ci-event.schema.json", one::<CloudEvent<CiEvent>>()),
        ("incident.schema.json", one::<CloudEvent<Incident>>()),
        ("diagnosis.schema.json", one::<CloudEvent<Diagnosis>>()),
        (
            "remediation-command.schema.json",
            one::<CloudEvent<RemediationCommand>>(),
        ),
        ("evidence-ref.schema.json", one::<CloudEvent<EvidenceRef>>()),
        ("diagnosis-report.schema.json", one::<DiagnosisReport>()),
    ]
}

/// The `--format json` contract as Markdown (`docs/json-contract.md` is this, checked by a
/// test): every object of the report with its fields, types, whether they are always present,
/// and what they mean, rendered from the same schema as `diagnosis-report.schema.json`.
pub fn contract_markdown() -> String {
    let schema = serde_json::to_value(schema_for!(DiagnosisReport)).unwrap_or_default();
    let mut out = String::from(
        "# The `--format json` contract\n\n\
         Generated from the Rust types (`shared/events/src/diagnosis.rs`) by \
         `lastmile_events::schema::contract_markdown`; a test fails when this file drifts. \
         Regenerate with `LASTMILE_BLESS=1 cargo test -p lastmile-events`. The JSON Schema is \
         `shared/events/schemas/diagnosis-report.schema.json`; the class IDs are in \
         [classes.md](classes.md).\n\n\
         `lastmile explain --format json`, `lastmile replay --format json` and the diagnoses \
         published on `lastmile.diagnosis.*` (inside a CloudEvents envelope) use these shapes. \
         Fields are only ever added; consumers must ignore fields they do not know.\n",
    );
    render_object(&mut out, "DiagnosisReport", &schema);
    render_defs(&mut out, &schema);
    render_details_keys(&mut out);
    out
}

/// Every object (and tagged enum) a schema defines, in name order.
fn render_defs(out: &mut String, schema: &serde_json::Value) {
    if let Some(defs) = schema.get("$defs").and_then(|d| d.as_object()) {
        for (name, def) in defs {
            if def.get("properties").is_some() {
                render_object(out, name, def);
            } else if def.get("oneOf").is_some() {
                render_tagged(out, name, def);
            }
        }
    }
}

/// The `details` keys whose shape is part of the contract: key, what sets it, its schema.
fn details_keys() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use crate::diagnosis::Searched;
    use crate::facts::provenance::ValueOrigin;
    vec![
        (
            "provenance",
            "`pending` resource causes and `runtime.oom_killed`, when the pod's admission \
             records or `--snapshot` show where a request or limit came from",
            serde_json::to_value(schema_for!(Vec<ValueOrigin>)).unwrap_or_default(),
        ),
        (
            "searched",
            "the `unknown` answer of `explain`/`replay`: what was looked for, what the input \
             lacked, and which input would settle it",
            serde_json::to_value(schema_for!(Searched)).unwrap_or_default(),
        ),
    ]
}

/// The well-known keys of `Diagnosis.details`, and the objects they hold.
fn render_details_keys(out: &mut String) {
    use std::fmt::Write as _;
    out.push_str(
        "\n## Well-known `details` keys\n\n\
         `details` is function-specific and additive; these keys have a fixed shape.\n\n\
         | key | type | set by |\n|---|---|---|\n",
    );
    let keys = details_keys();
    for (key, set_by, schema) in &keys {
        let ty = match schema.get("title").and_then(|t| t.as_str()) {
            Some(title) if schema.get("properties").is_some() => title.to_owned(),
            _ => type_name(schema),
        };
        let _ = writeln!(out, "| `{key}` | {ty} | {set_by} |");
    }
    for (_, _, schema) in &keys {
        if let Some(title) = schema.get("title").and_then(|t| t.as_str())
            && schema.get("properties").is_some()
        {
            render_object(out, title, schema);
        }
        render_defs(out, schema);
    }
}

/// An internally tagged enum (`{"kind": "...", ...}`): one row per variant.
fn render_tagged(out: &mut String, name: &str, schema: &serde_json::Value) {
    use std::fmt::Write as _;
    let _ = write!(out, "\n## `{name}`\n\n");
    if let Some(description) = schema.get("description").and_then(|d| d.as_str()) {
        let _ = write!(out, "{description}\n\n");
    }
    out.push_str("| variant | other fields | meaning |\n|---|---|---|\n");
    for variant in schema["oneOf"].as_array().into_iter().flatten() {
        let properties = variant.get("properties").and_then(|p| p.as_object());
        // A unit variant is a string constant; a struct variant carries its tag field.
        let tag = match variant.get("const").and_then(|c| c.as_str()) {
            Some(c) => format!("`\"{c}\"`"),
            None => properties
                .into_iter()
                .flatten()
                .find_map(|(field, p)| {
                    p.get("const")
                        .and_then(|c| c.as_str())
                        .map(|c| format!("`{field}: {c}`"))
                })
                .unwrap_or_default(),
        };
        let fields = properties
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.get("const").is_none())
            .map(|(field, p)| format!("`{field}` ({})", type_name(p)))
            .collect::<Vec<_>>()
            .join(", ");
        let meaning = variant
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .replace('|', "\\|")
            .replace('\n', " ");
        let _ = writeln!(out, "| {tag} | {fields} | {meaning} |");
    }
}

fn render_object(out: &mut String, name: &str, schema: &serde_json::Value) {
    use std::fmt::Write as _;
    let description = schema.get("description").and_then(|d| d.as_str());
    let _ = write!(out, "\n## `{name}`\n\n");
    if let Some(description) = description {
        let _ = write!(out, "{description}\n\n");
    }
    out.push_str("| field | type | always present | meaning |\n|---|---|---|---|\n");
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    for (field, property) in properties {
        let meaning = property
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("")
            .replace('|', "\\|")
            .replace('\n', " ");
        let _ = writeln!(
            out,
            "| `{field}` | {} | {} | {meaning} |",
            type_name(property),
            if required.contains(&field.as_str()) {
                "yes"
            } else {
                "no"
            },
        );
    }
}

/// A short type name for a property schema: `string`, `array of Remediation`, `CiRunRef or null`.
fn type_name(schema: &serde_json::Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(|r| r.as_str()) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(any) = schema.get("anyOf").and_then(|a| a.as_array()) {
        return any.iter().map(type_name).collect::<Vec<_>>().join(" or ");
    }
    match schema.get("type") {
        Some(serde_json::Value::String(t)) if t == "array" => match schema.get("items") {
            Some(items) => format!("array of {}", type_name(items)),
            None => "array".to_owned(),
        },
        Some(serde_json::Value::String(t)) => t.clone(),
        Some(serde_json::Value::Array(types)) => types
            .iter()
            .filter_map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any JSON".to_owned(),
    }
}

#[cfg(test)]
mod tests;
