//! Rendering incidents for the bus and sharing the cluster-wide snapshot part.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Node, Pod, ResourceQuota, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use lastmile_events::{
    CloudEvent, ClusterSnapshot, Incident, IncidentFamily, IncidentStatus, ObjectRef,
};
use lastmile_runtime::bus::MSG_ID_HEADER;

use super::incident_message;
use super::render::{DeferredIncident, incident_envelope};
use crate::store::{ClusterStore, object_key};
use crate::trim;

fn store() -> ClusterStore {
    let mut s = ClusterStore::default();
    for i in 0..3 {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("node-{i}"), "labels": {"kubernetes.io/os": "linux"}},
            "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}
        }))
        .unwrap();
        s.nodes.apply_json(object_key(&node), &trim::node(&node));
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("web-{i}"), "namespace": "team", "labels": {"app": "web"}},
            "spec": {"nodeName": format!("node-{i}"), "containers": [{"name": "app", "resources": {"requests": {"cpu": "7500m"}}}]},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        s.apply_pod(&pod);
    }
    let quota: ResourceQuota = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "compute", "namespace": "ci"},
        "spec": {"hard": {"requests.cpu": "4"}}, "status": {"used": {"requests.cpu": "4"}}
    }))
    .unwrap();
    s.quotas.apply(object_key(&quota), quota);
    s
}

fn pending() -> Incident {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "migrate-x7k2p".into(),
        ..Default::default()
    };
    Incident::new(IncidentFamily::Pending, subject, None, Utc::now())
}

#[test]
fn deferred_incident_renders_exactly_the_whole_incident() {
    let s = store();
    let now = Utc::now();
    let inc = pending();
    let mut whole = inc.clone();
    whole.snapshot = s.snapshot_for(&whole, now).into();
    assert_eq!(
        (whole.snapshot.nodes.len(), whole.snapshot.pods.len()),
        (3, 3)
    );
    assert_eq!(whole.snapshot.resource_quotas.len(), 1);
    let expected = incident_message(&whole, "/lastmile/watcher/test", now).unwrap();

    let (head, envelope) = incident_envelope(inc.clone(), "/lastmile/watcher/test", now);
    let deferred = DeferredIncident {
        envelope,
        local: s.snapshot_local(&inc, now),
        wide: Some(Arc::new(s.cluster_wide())),
    };
    let body = deferred.render().unwrap();
    assert_eq!(head.subject, expected.subject);
    assert_eq!(
        head.headers.get(MSG_ID_HEADER),
        expected.headers.get(MSG_ID_HEADER)
    );
    let got = CloudEvent::<Incident>::from_slice(&body).unwrap();
    let want = CloudEvent::<Incident>::from_slice(&expected.payload).unwrap();
    assert_eq!(got, want);
    assert!(String::from_utf8_lossy(&body).contains("dedicated"));
}

#[test]
fn resolved_incident_renders_without_snapshot() {
    let now = Utc::now();
    let mut inc = pending();
    inc.status = IncidentStatus::Resolved;
    inc.resolution = Some("pod scheduled".into());
    let (_, envelope) = incident_envelope(inc.clone(), "/w", now);
    let deferred = DeferredIncident {
        envelope,
        local: ClusterSnapshot::default(),
        wide: None,
    };
    let body = deferred.render().unwrap();
    let got = CloudEvent::<Incident>::from_slice(&body).unwrap();
    assert_eq!(got.data, inc);
    assert!(!String::from_utf8_lossy(&body).contains("\"snapshot\""));
}

#[test]
fn cluster_wide_part_is_shared_until_the_store_changes() {
    let mut s = store();
    let v = s.cluster_wide_version();
    let quota: ResourceQuota = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "more", "namespace": "ci"}
    }))
    .unwrap();
    s.quotas.apply(object_key(&quota), quota);
    assert_eq!(s.cluster_wide_version(), v, "quotas are not cluster-wide");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web-9", "namespace": "team"},
        "spec": {"nodeName": "node-0", "containers": []}, "status": {"phase": "Running"}
    }))
    .unwrap();
    s.apply_pod(&pod);
    assert_ne!(s.cluster_wide_version(), v);
}

/// Regression: the deferred rendering listed the snapshot's fields by hand and left out
/// the Services and EndpointSlices, so a live Init incident reached the workload function
/// without them and its wait-for edges fell back to name guesses.
#[test]
fn init_incident_renders_its_services_and_endpoint_slices() {
    let mut s = ClusterStore::default();
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "orders-1", "namespace": "shop", "labels": {"app": "orders"}},
        "spec": {"nodeName": "n1",
            "initContainers": [{"name": "wait", "image": "busybox",
                "command": ["sh", "-c", "until nc -z payments 8080; do sleep 2; done"]}],
            "containers": [{"name": "orders", "image": "orders:1"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [{"name": "wait", "image": "busybox",
            "imageID": "", "ready": false, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-03-03T09:00:00Z"}}}]}
    }))
    .unwrap();
    s.apply_pod(&pod);
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "payments", "namespace": "shop"},
        "spec": {"selector": {"app": "payments"}, "ports": [{"port": 8080}]}
    }))
    .unwrap();
    s.apply_service(&svc);
    let slice: EndpointSlice = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "payments-abc", "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "payments"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.9"], "conditions": {"ready": false}}]
    }))
    .unwrap();
    s.apply_slice(&slice);
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "orders-1".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(IncidentFamily::Init, subject, None, Utc::now());
    inc.pod = Some(Box::new(pod));
    let now = Utc::now();
    let (_, envelope) = incident_envelope(inc.clone(), "/w", now);
    let local = s.snapshot_local(&inc, now);
    assert_eq!((local.services.len(), local.endpoint_slices.len()), (1, 1));
    let deferred = DeferredIncident {
        envelope,
        local,
        wide: None,
    };
    let got = CloudEvent::<Incident>::from_slice(&deferred.render().unwrap()).unwrap();
    let snap = &got.data.snapshot;
    assert_eq!(snap.pods.len(), 1, "the waiting pod");
    assert_eq!(
        snap.services[0].metadata.name.as_deref(),
        Some("payments"),
        "{snap:#?}"
    );
    assert_eq!(snap.endpoint_slices.len(), 1);
    let mut whole = inc;
    whole.snapshot = s.snapshot_for(&whole, now).into();
    let want =
        CloudEvent::<Incident>::from_slice(&incident_message(&whole, "/w", now).unwrap().payload)
            .unwrap();
    assert_eq!(got.data, want.data);
}
