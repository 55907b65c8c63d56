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
    if let Some(defs) = schema.get("$defs").and_then(|d| d.as_object()) {
        for (name, def) in defs {
            if def.get("properties").is_some() {
                render_object(&mut out, name, def);
            }
        }
    }
    out
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
mod tests {
    use std::path::PathBuf;

    #[test]
    fn checked_in_schemas_match_the_code() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let bless = std::env::var_os("LASTMILE_BLESS").is_some();
        let mut drifted = Vec::new();
        for (name, schema) in super::all() {
            assert!(!schema.is_null(), "{name} did not serialise");
            let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            let path = dir.join(name);
            if bless {
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                drifted.push(name);
            }
        }
        assert!(
            drifted.is_empty(),
            "schemas drifted from the Rust types: {drifted:?}; run `LASTMILE_BLESS=1 cargo test -p lastmile-events` and commit"
        );
    }

    #[test]
    fn docs_json_contract_is_generated_from_the_types() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-contract.md");
        let text = super::contract_markdown();
        for needle in ["`class` | Class | yes", "`diagnoses`", "## `Remediation`"] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        if std::env::var_os("LASTMILE_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == text,
            "docs/json-contract.md drifted from the types; run `LASTMILE_BLESS=1 cargo test -p lastmile-events` and commit"
        );
    }
}
