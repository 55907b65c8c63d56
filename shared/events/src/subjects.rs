//! The subject scheme and the JetStream streams that hold it.
//!
//! | subject | payload | stream |
//! |---|---|---|
//! | `lastmile.k8s.<kind>.<namespace>` (`_cluster` for cluster-scoped) | [`K8sObservation`](crate::K8sObservation) | `LASTMILE_K8S` |
//! | `lastmile.ci.<provider>.<event>` | [`CiEvent`](crate::CiEvent) | `LASTMILE_CI` |
//! | `lastmile.incident.<family>` | [`Incident`](crate::Incident) | `LASTMILE_INCIDENTS` |
//! | `lastmile.diagnosis.<class>` | [`Diagnosis`](crate::Diagnosis) | `LASTMILE_DIAGNOSES` |
//! | `lastmile.remediation.<class>` | [`RemediationCommand`](crate::RemediationCommand) | `LASTMILE_DIAGNOSES` |
//! | `lastmile.dlq.<function>` | the original bytes, with `Lastmile-Dlq-Reason` header | `LASTMILE_DLQ` |
//!
//! Class IDs contain a dot (`image.auth`), so `lastmile.diagnosis.image.auth` is two
//! tokens deep: `lastmile.diagnosis.image.>` selects a whole family.

use serde::Serialize;

use crate::incident::IncidentFamily;

/// Prefix of every subject.
pub const ROOT: &str = "lastmile";

/// Replaces characters that are not allowed (or are wildcards) in a subject token.
pub fn token(raw: &str) -> String {
    let t: String = raw
        .chars()
        .map(|c| match c {
            '.' | '*' | '>' | ' ' | '\t' | '\r' | '\n' => '_',
            c => c,
        })
        .collect();
    if t.is_empty() { "_".to_owned() } else { t }
}

/// `lastmile.k8s.<kind>.<namespace>`.
pub fn k8s(kind: &str, namespace: Option<&str>) -> String {
    format!(
        "{ROOT}.k8s.{}.{}",
        token(&kind.to_lowercase()),
        token(namespace.unwrap_or("_cluster"))
    )
}

/// `lastmile.ci.<provider>.<event>`.
pub fn ci(provider: &str, event: &str) -> String {
    format!("{ROOT}.ci.{}.{}", token(provider), token(event))
}

/// `lastmile.incident.<family>`.
pub fn incident(family: IncidentFamily) -> String {
    format!("{ROOT}.incident.{}", family.as_str())
}

/// `lastmile.diagnosis.<class>` (the class keeps its dot).
pub fn diagnosis(class: &str) -> String {
    format!("{ROOT}.diagnosis.{}", class_tokens(class))
}

/// `lastmile.remediation.<class>`.
pub fn remediation(class: &str) -> String {
    format!("{ROOT}.remediation.{}", class_tokens(class))
}

/// `lastmile.dlq.<function>`.
pub fn dlq(function: &str) -> String {
    format!("{ROOT}.dlq.{}", token(function))
}

fn class_tokens(class: &str) -> String {
    class.split('.').map(token).collect::<Vec<_>>().join(".")
}

/// Retention policy of a stream (mirrors JetStream's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Retention {
    /// Keep until limits: several consumers may read the same messages.
    Limits,
    /// Delete once every consumer acknowledged: a work queue.
    WorkQueue,
}

/// A JetStream stream lastmile needs. Created idempotently at start-up and also kept as
/// `infra/nats/streams/*.json` (a test checks the files match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamSpec {
    /// Stream name.
    pub name: &'static str,
    /// Subjects it captures.
    pub subjects: &'static [&'static str],
    /// What it is for.
    pub description: &'static str,
    /// Retention policy.
    pub retention: Retention,
    /// Maximum age of a message, seconds.
    pub max_age_secs: u64,
    /// Window in which a repeated `Nats-Msg-Id` is dropped, seconds.
    pub duplicate_window_secs: u64,
    /// Maximum size of one message, bytes.
    pub max_msg_size: i32,
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Every stream lastmile uses.
pub const STREAMS: &[StreamSpec] = &[
    StreamSpec {
        name: "LASTMILE_K8S",
        subjects: &["lastmile.k8s.>"],
        description: "Kubernetes observations from the watcher.",
        retention: Retention::Limits,
        max_age_secs: 6 * HOUR,
        duplicate_window_secs: 10 * 60,
        max_msg_size: 1 << 20,
    },
    StreamSpec {
        name: "LASTMILE_CI",
        subjects: &["lastmile.ci.>"],
        description: "CI run, job and deploy events from the webhook receiver.",
        retention: Retention::Limits,
        max_age_secs: 7 * DAY,
        duplicate_window_secs: 10 * 60,
        max_msg_size: 1 << 20,
    },
    StreamSpec {
        name: "LASTMILE_INCIDENTS",
        subjects: &["lastmile.incident.>"],
        description: "Stuck workloads with their captured events and cluster state, one subject per failure family.",
        retention: Retention::Limits,
        max_age_secs: 7 * DAY,
        duplicate_window_secs: 10 * 60,
        max_msg_size: 8 << 20,
    },
    StreamSpec {
        name: "LASTMILE_DIAGNOSES",
        subjects: &["lastmile.diagnosis.>", "lastmile.remediation.>"],
        description: "Diagnoses and the remediation commands that would fix them.",
        retention: Retention::Limits,
        max_age_secs: 30 * DAY,
        duplicate_window_secs: 10 * 60,
        max_msg_size: 1 << 20,
    },
    StreamSpec {
        name: "LASTMILE_DLQ",
        subjects: &["lastmile.dlq.>"],
        description: "Messages a function could not process, with the reason in the Lastmile-Dlq-Reason header.",
        retention: Retention::Limits,
        max_age_secs: 30 * DAY,
        duplicate_window_secs: 10 * 60,
        max_msg_size: 8 << 20,
    },
];

/// The stream definition as the JSON file kept under `infra/nats/streams/` (the shape
/// `nats stream add --config` reads; durations in nanoseconds).
pub fn stream_file_json(spec: &StreamSpec) -> serde_json::Value {
    serde_json::json!({
        "name": spec.name,
        "subjects": spec.subjects,
        "description": spec.description,
        "retention": match spec.retention { Retention::Limits => "limits", Retention::WorkQueue => "workqueue" },
        "storage": "file",
        "discard": "old",
        "num_replicas": 1,
        "max_age": spec.max_age_secs * 1_000_000_000,
        "duplicate_window": spec.duplicate_window_secs * 1_000_000_000,
        "max_msg_size": spec.max_msg_size,
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod infra_files {
    use std::path::PathBuf;

    /// The stream definitions kept under `infra/nats/streams/` must match [`super::STREAMS`].
    #[test]
    fn stream_files_in_infra_match_the_code() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/nats/streams");
        let bless = std::env::var_os("LASTMILE_BLESS").is_some();
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
        }
        for spec in super::STREAMS {
            let text = serde_json::to_string_pretty(&super::stream_file_json(spec)).unwrap() + "\n";
            let path = dir.join(format!("{}.json", spec.name.to_lowercase()));
            if bless {
                std::fs::write(&path, &text).unwrap();
            } else {
                let found = std::fs::read_to_string(&path).unwrap_or_default();
                assert_eq!(found, text, "{} drifted; run `just bless`", path.display());
            }
        }
    }
}
