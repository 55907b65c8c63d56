//! Builders for objects in the shape `kubectl get -o json` prints, and incident helpers.

use chrono::{DateTime, TimeZone, Utc};
use lastmile_contract::{Context, Outcome};
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, KubeEvent, ObjectRef};
use serde_json::{Value, json};

pub fn t(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, min, 0)
        .single()
        .expect("valid time")
}

/// A node as `kubectl get node -o json` prints it.
pub struct NodeSpec<'a> {
    pub name: &'a str,
    pub pool_label: Option<(&'a str, &'a str)>,
    pub zone: &'a str,
    pub cpu: &'a str,
    pub memory: &'a str,
    pub pods: &'a str,
    pub taints: Value,
    pub unschedulable: bool,
    pub provider_id: &'a str,
    pub extra_labels: Value,
}

impl Default for NodeSpec<'_> {
    fn default() -> Self {
        Self {
            name: "node",
            pool_label: None,
            zone: "us-central1-a",
            cpu: "3920m",
            memory: "15258044Ki",
            pods: "110",
            taints: json!([]),
            unschedulable: false,
            provider_id: "",
            extra_labels: json!({}),
        }
    }
}

pub fn node(n: NodeSpec<'_>) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": n.name,
        "topology.kubernetes.io/zone": n.zone,
        "node.kubernetes.io/instance-type": "e2-standard-4",
    });
    if let Some((k, v)) = n.pool_label {
        labels[k] = json!(v);
    }
    if let (Some(l), Some(extra)) = (labels.as_object_mut(), n.extra_labels.as_object()) {
        for (k, v) in extra {
            l.insert(k.clone(), v.clone());
        }
    }
    let mut spec = json!({"podCIDR": "10.4.1.0/24"});
    if !n.provider_id.is_empty() {
        spec["providerID"] = json!(n.provider_id);
    }
    if n.taints.as_array().is_some_and(|a| !a.is_empty()) {
        spec["taints"] = n.taints.clone();
    }
    if n.unschedulable {
        spec["unschedulable"] = json!(true);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": n.name,
            "uid": format!("uid-{}", n.name),
            "resourceVersion": "123456",
            "creationTimestamp": "2026-11-20T08:00:00Z",
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        },
        "spec": spec,
        "status": {
            "allocatable": {"cpu": n.cpu, "ephemeral-storage": "47060071478", "hugepages-2Mi": "0", "memory": n.memory, "pods": n.pods},
            "capacity": {"cpu": "4", "ephemeral-storage": "98831908Ki", "hugepages-2Mi": "0", "memory": "16393916Ki", "pods": n.pods},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "lastHeartbeatTime": "2026-11-26T09:59:00Z", "lastTransitionTime": "2026-11-20T08:00:00Z", "message": "kubelet has sufficient memory available"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": "2026-11-26T09:59:00Z", "lastTransitionTime": "2026-11-20T08:01:00Z", "message": "kubelet is posting ready status"}
            ],
            "nodeInfo": {"architecture": "amd64", "kubeletVersion": "v1.33.5", "operatingSystem": "linux", "containerRuntimeVersion": "containerd://2.0.6"}
        }
    })
}

/// A running pod bound to `node_name`.
pub fn running_pod(
    ns: &str,
    name: &str,
    node_name: &str,
    cpu: &str,
    memory: &str,
    labels: Value,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "labels": labels, "creationTimestamp": "2026-11-26T08:00:00Z"},
        "spec": {
            "nodeName": node_name,
            "containers": [{
                "name": "main",
                "image": "registry.example.com/app:1.4.2",
                "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
                "env": [{"name": "DB_PASSWORD", "value": "hunter2"}]
            }],
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        },
        "status": {"phase": "Running", "qosClass": "Burstable", "hostIP": "10.128.0.5", "podIP": "10.4.1.7"}
    })
}

/// A pending pod of a Job, with the scheduler's condition when given.
pub fn pending_pod(ns: &str, name: &str, spec_extra: Value, condition: Option<&str>) -> Value {
    let mut spec = json!({
        "containers": [{
            "name": "migrate",
            "image": "registry.example.com/migrate:2.1.0",
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
            "env": [{"name": "API_TOKEN", "value": "s3cr3t-token"}]
        }],
        "restartPolicy": "Never",
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]
    });
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    let mut status = json!({"phase": "Pending", "qosClass": "Burstable"});
    if let Some(msg) = condition {
        status["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg, "lastTransitionTime": "2026-11-26T10:00:00Z", "lastProbeTime": null}]);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": format!("uid-{name}"),
            "labels": {"app": "migrate", "batch.kubernetes.io/job-name": "migrate", "job-name": "migrate"},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "migrate", "uid": "uid-job", "controller": true, "blockOwnerDeletion": true}],
            "creationTimestamp": "2026-11-26T09:59:30Z"
        },
        "spec": spec,
        "status": status
    })
}

pub fn event(
    reason: &str,
    kind: &str,
    name: &str,
    message: &str,
    last: DateTime<Utc>,
    component: &str,
) -> KubeEvent {
    KubeEvent {
        ty: "Warning".into(),
        reason: reason.into(),
        message: message.into(),
        regarding: ObjectRef {
            kind: kind.into(),
            namespace: Some("ci".into()),
            name: name.into(),
            ..Default::default()
        },
        count: 3,
        first_time: Some(last - chrono::Duration::minutes(5)),
        last_time: Some(last),
        reporting_controller: component.into(),
    }
}

/// A snapshot from a `kubectl get … -o json` List (items of any kind).
pub fn snapshot(items: Vec<Value>, taken: Option<DateTime<Utc>>) -> ClusterSnapshot {
    let mut s = ClusterSnapshot {
        taken_at: taken,
        ..Default::default()
    };
    for item in items {
        let kind = item["kind"].as_str().unwrap_or("").to_owned();
        match kind.as_str() {
            "Node" => s.nodes.push(serde_json::from_value(item).expect("node")),
            "Pod" => s.pods.push(serde_json::from_value(item).expect("pod")),
            "ResourceQuota" => s
                .resource_quotas
                .push(serde_json::from_value(item).expect("quota")),
            "LimitRange" => s
                .limit_ranges
                .push(serde_json::from_value(item).expect("limitrange")),
            "PersistentVolumeClaim" => s.pvcs.push(serde_json::from_value(item).expect("pvc")),
            "PersistentVolume" => s.pvs.push(serde_json::from_value(item).expect("pv")),
            "StorageClass" => s
                .storage_classes
                .push(serde_json::from_value(item).expect("sc")),
            other => panic!("unexpected kind {other}"),
        }
    }
    s
}

/// Reads a fixture List file.
pub fn fixture_items(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("fixture json");
    v["items"].as_array().cloned().unwrap_or_default()
}

/// An incident about a pod of Job ci/migrate.
pub fn incident(pod: Option<Value>, events: Vec<KubeEvent>, snapshot: ClusterSnapshot) -> Incident {
    let pod_name = pod
        .as_ref()
        .and_then(|p| p["metadata"]["name"].as_str())
        .unwrap_or("migrate-x7k2p")
        .to_owned();
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: pod_name,
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: "migrate".into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::Pending, subject, Some(owner), t(0));
    i.pod = pod.map(|p| serde_json::from_value(p).expect("pod"));
    i.events = events;
    i.snapshot = snapshot.into();
    i
}

/// A text-only incident, as `lastmile explain` builds it.
pub fn text_incident(text: &str) -> Incident {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "pasted".into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::Pending, subject, None, t(0));
    i.text = Some(text.to_owned());
    i
}

pub fn run(incident: &Incident) -> Outcome {
    let ctx = Context::fixed(t(30));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(lastmile_fn_pending::handle(incident, &ctx))
        .expect("handle")
}

pub fn classes(o: &Outcome) -> Vec<&str> {
    o.diagnoses.iter().map(|d| d.class.as_str()).collect()
}
