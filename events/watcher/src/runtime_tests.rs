#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, PersistentVolumeClaim, Pod, Secret};
use lastmile_events::{ConfigObject, Incident, IncidentFamily};
use serde_json::json;

use crate::store::{ClusterStore, object_key};
use crate::{Tracker, TrackerConfig};

fn at(min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, min, sec).unwrap()
}

/// The `api` pod of Deployment `api` in `shop`, as `kubectl get -o json` prints it, with
/// the given container status.
fn api_pod(name: &str, node: &str, status: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "creationTimestamp": "2026-03-01T10:00:00Z",
            "labels": {"app": "api", "pod-template-hash": "7c9d8f6b5"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7c9d8f6b5", "uid": "rs-1", "controller": true}]
        },
        "spec": {
            "nodeName": node,
            "containers": [{
                "name": "api", "image": "registry.example.com/shop/api:1.4.2",
                "env": [
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}},
                    {"name": "FEATURES", "valueFrom": {"configMapKeyRef": {"name": "api-flags", "key": "features"}}}
                ],
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/api"}]
            }],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "api-data"}},
                {"name": "tls", "secret": {"secretName": "api-tls"}}
            ]
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [status]
        }
    }))
    .unwrap()
}

fn crash_looping() -> serde_json::Value {
    json!({
        "name": "api", "ready": false, "restartCount": 4, "image": "registry.example.com/shop/api:1.4.2",
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container=api pod=api-7c9d8f6b5-x2x9k_shop(uid)"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-03-01T10:03:58Z", "finishedAt": "2026-03-01T10:03:59Z"}}
    })
}

fn running_not_ready() -> serde_json::Value {
    json!({
        "name": "api", "ready": false, "started": true, "restartCount": 0,
        "state": {"running": {"startedAt": "2026-03-01T10:00:05Z"}}
    })
}

fn store() -> ClusterStore {
    let mut s = ClusterStore::default();
    let lr: LimitRange = serde_json::from_value(json!({
        "metadata": {"name": "defaults", "namespace": "shop"},
        "spec": {"limits": [{"type": "Container", "default": {"memory": "256Mi"}}]}
    }))
    .unwrap();
    s.limit_ranges.apply(object_key(&lr), lr);
    let other_lr: LimitRange = serde_json::from_value(json!({
        "metadata": {"name": "defaults", "namespace": "billing"},
        "spec": {"limits": [{"type": "Container", "default": {"memory": "1Gi"}}]}
    }))
    .unwrap();
    s.limit_ranges.apply(object_key(&other_lr), other_lr);
    let secrets = [
        json!({"metadata": {"name": "api-tls", "namespace": "shop"}, "data": {"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": "c2VjcmV0LWtleQ=="}}),
        // The credentials the pod names exist, but in another namespace.
        json!({"metadata": {"name": "db-credentials", "namespace": "billing"}, "data": {"password": "aHVudGVyMg=="}}),
        json!({"metadata": {"name": "unrelated", "namespace": "billing"}, "data": {"token": "dG9rZW4="}}),
    ];
    for v in secrets {
        let secret: Secret = serde_json::from_value(v).unwrap();
        s.secrets
            .apply(object_key(&secret), ConfigObject::from_secret(&secret));
    }
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "api-flags", "namespace": "shop"},
        "data": {"feature": "checkout-v2"}
    }))
    .unwrap();
    s.config_maps
        .apply(object_key(&cm), ConfigObject::from_config_map(&cm));
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "api-data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pvc-0d1e"},
        "status": {"phase": "Bound"}
    }))
    .unwrap();
    s.pvcs.apply(object_key(&pvc), pvc);
    s
}

fn runtime_incident(pod: Pod) -> Incident {
    let subject = lastmile_events::ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: pod.metadata.name.clone().unwrap(),
        ..Default::default()
    };
    let mut inc = Incident::new(IncidentFamily::Runtime, subject, None, at(4, 0));
    inc.pod = Some(Box::new(crate::trim::pod(&pod)));
    inc
}

#[test]
fn runtime_snapshot_has_limit_ranges_config_names_and_the_claims_other_holder() {
    let mut s = store();
    // The old ReplicaSet's pod still mounts the ReadWriteOnce claim on another node.
    let old = api_pod(
        "api-5f6d7c8b9-q4w7z",
        "node-b",
        json!({"name": "api", "ready": true, "restartCount": 0, "state": {"running": {}}}),
    );
    s.apply_pod(&old);
    let unrelated: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"nodeName": "node-c", "containers": [{"name": "web"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "web-data"}}]},
        "status": {"phase": "Running"}
    }))
    .unwrap();
    s.apply_pod(&unrelated);
    let new = api_pod("api-7c9d8f6b5-x2x9k", "node-a", crash_looping());
    s.apply_pod(&new);

    let snap = s.snapshot_local(&runtime_incident(new), at(4, 0));

    let lrs: Vec<_> = snap
        .limit_ranges
        .iter()
        .map(|l| l.metadata.namespace.as_deref().unwrap())
        .collect();
    assert_eq!(lrs, ["shop"]);
    let mut configs: Vec<String> = snap
        .configs
        .iter()
        .map(|c| format!("{} {}/{} {:?}", c.kind, c.namespace, c.name, c.keys))
        .collect();
    configs.sort();
    assert_eq!(
        configs,
        [
            r#"ConfigMap shop/api-flags ["feature"]"#,
            r#"Secret billing/db-credentials ["password"]"#,
            r#"Secret shop/api-tls ["tls.crt", "tls.key"]"#,
        ]
    );
    let json = serde_json::to_string(&snap).unwrap();
    for value in ["aHVudGVyMg", "c2VjcmV0LWtleQ", "checkout-v2"] {
        assert!(!json.contains(value), "a value leaked: {value}");
    }
    assert_eq!(snap.pvcs.len(), 1);
    let holders: Vec<(&str, &str)> = snap
        .pods
        .iter()
        .map(|p| {
            (
                p.metadata.name.as_deref().unwrap(),
                p.spec.as_ref().unwrap().node_name.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(holders, [("api-5f6d7c8b9-q4w7z", "node-b")]);
}

#[test]
fn deleted_secret_leaves_the_snapshot_and_a_pod_without_claims_gets_no_pods() {
    let mut s = store();
    s.secrets.delete("shop/api-tls");
    let mut pod = api_pod("api-7c9d8f6b5-x2x9k", "node-a", crash_looping());
    pod.spec.as_mut().unwrap().volumes = None;
    let other = api_pod("api-5f6d7c8b9-q4w7z", "node-b", running_not_ready());
    s.apply_pod(&other);
    let snap = s.snapshot_local(&runtime_incident(pod), at(4, 0));
    assert!(snap.configs.iter().all(|c| c.name != "api-tls"));
    assert!(snap.pods.is_empty() && snap.pvcs.is_empty());
}

#[test]
fn never_ready_pod_waits_for_the_runtime_threshold_not_the_pending_one() {
    let cfg = TrackerConfig {
        pending_after: Duration::from_secs(60),
        runtime_after: Duration::from_secs(180),
        first_publish_wait: Duration::ZERO,
        ..Default::default()
    };
    let mut t = Tracker::new(cfg);
    let pod = api_pod("api-7c9d8f6b5-x2x9k", "node-a", running_not_ready());
    assert!(t.observe_pod(&pod, at(0, 10)).is_empty());
    assert!(
        t.tick(at(2, 0)).is_empty(),
        "not Ready since 10:00:05: past the pending threshold, not the runtime one"
    );
    let out = t.tick(at(3, 6));
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].family, IncidentFamily::Runtime);
    assert_eq!(out[0].first_seen, at(0, 5));
}

#[test]
fn crash_loop_opens_at_once_whatever_the_runtime_threshold() {
    let cfg = TrackerConfig {
        runtime_after: Duration::from_secs(3600),
        first_publish_wait: Duration::ZERO,
        ..Default::default()
    };
    let mut t = Tracker::new(cfg);
    let out = t.observe_pod(
        &api_pod("api-7c9d8f6b5-x2x9k", "node-a", crash_looping()),
        at(4, 0),
    );
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].family, IncidentFamily::Runtime);
    assert_eq!(out[0].owner.as_ref().unwrap().kind, "Deployment");
}

#[test]
fn runtime_snapshot_carries_the_pods_node_and_its_platform_only() {
    let mut s = store();
    for (name, arch) in [("node-a", "amd64"), ("node-b", "arm64")] {
        let node: k8s_openapi::api::core::v1::Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/arch": arch, "kubernetes.io/os": "linux"}},
            "status": {"nodeInfo": {"architecture": arch, "operatingSystem": "linux",
                "kubeletVersion": "v1.31.2", "containerRuntimeVersion": "containerd://1.7.22",
                "bootID": "b", "kernelVersion": "6.1.0", "kubeProxyVersion": "", "machineID": "m",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": "u"}}
        }))
        .unwrap();
        s.nodes
            .apply_json(object_key(&node), &crate::trim::node(&node));
    }
    let pod = api_pod("api-7c9d8f6b5-x2x9k", "node-a", crash_looping());
    s.apply_pod(&pod);
    let snap = s.snapshot_local(&runtime_incident(pod), at(4, 0));
    let nodes: Vec<(&str, &str)> = snap
        .nodes
        .iter()
        .map(|n| {
            (
                n.metadata.name.as_deref().unwrap(),
                n.status
                    .as_ref()
                    .unwrap()
                    .node_info
                    .as_ref()
                    .unwrap()
                    .architecture
                    .as_str(),
            )
        })
        .collect();
    assert_eq!(nodes, [("node-a", "amd64")]);
}
