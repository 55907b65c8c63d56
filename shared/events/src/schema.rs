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
}
