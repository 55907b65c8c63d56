//! The function's tests, shared helpers here: an incident built from the pod as the API
//! returns it (state) or from the text people paste, and a table checker. `tables` holds
//! one table per class, `boundaries` what the function must leave alone or never leak and
//! the shared compliance check, `kills` how exit 137 and memory told in prose are read.

use chrono::{DateTime, Utc};
use lastmile_contract::Context;
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, KubeEvent, ObjectRef};
use serde_json::{Value, json};

use super::*;

fn t0() -> DateTime<Utc> {
    "2026-03-03T09:20:00Z".parse().unwrap()
}

fn pod_ref() -> ObjectRef {
    ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "api-7c9b6d8f45-p2xnq".into(),
        ..Default::default()
    }
}

fn owner() -> ObjectRef {
    ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "api".into(),
        ..Default::default()
    }
}

/// An incident carrying the pod (container `api` with `spec`, status `status`) and events.
fn state(spec: Value, status: Value, events: &[(&str, &str)]) -> Incident {
    let mut container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0"});
    container
        .as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let mut st = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0", "imageID": "", "ready": false, "restartCount": 0});
    st.as_object_mut()
        .unwrap()
        .extend(status.as_object().unwrap().clone());
    let pod = json!({"metadata": {"name": "api-7c9b6d8f45-p2xnq", "namespace": "shop", "creationTimestamp": "2026-03-03T09:00:00Z"},
        "spec": {"nodeName": "node-b", "containers": [container]},
        "status": {"phase": "Running", "containerStatuses": [st]}});
    let mut i = Incident::new(IncidentFamily::Runtime, pod_ref(), Some(owner()), t0());
    i.pod = Some(serde_json::from_value(pod).unwrap());
    i.events = events
        .iter()
        .map(|(reason, message)| KubeEvent {
            ty: "Warning".into(),
            reason: (*reason).into(),
            message: (*message).into(),
            regarding: pod_ref(),
            count: 5,
            ..Default::default()
        })
        .collect();
    i
}

pub(crate) fn text(t: &str) -> Incident {
    let mut i = Incident::new(IncidentFamily::Runtime, pod_ref(), Some(owner()), t0());
    i.text = Some(t.into());
    i
}

struct Row {
    name: &'static str,
    incident: Incident,
    class: &'static str,
    summary: &'static str,
    command: &'static str,
}

fn check(rows: Vec<Row>) {
    for row in rows {
        let d = diagnose(&row.incident, &ClusterSnapshot::default());
        let first = d
            .first()
            .unwrap_or_else(|| panic!("{}: no diagnosis", row.name));
        assert_eq!(first.class, row.class, "{}: {d:#?}", row.name);
        assert!(
            first.summary.contains(row.summary),
            "{}: {}",
            row.name,
            first.summary
        );
        assert!(
            first
                .remediation
                .iter()
                .filter_map(|r| r.command.as_deref())
                .any(|c| c.contains(row.command)),
            "{}: {:#?}",
            row.name,
            first.remediation
        );
        assert_eq!(
            first.subject.namespace.as_deref(),
            Some("shop"),
            "{}",
            row.name
        );
    }
}

pub(crate) fn first_class(t: &str) -> String {
    diagnose(&text(t), &ClusterSnapshot::default())
        .first()
        .map(|d| d.class.as_str().to_owned())
        .unwrap_or_default()
}

mod boundaries;
mod kills;
mod tables;
