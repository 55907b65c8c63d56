//! Snapshot scenarios: one per class, plus mixed causes, stale events, LimitRange defaults
//! and quota with mixed units. Objects are in `kubectl get -o json` shape.

mod admission;
mod capacity;
mod events;
mod placement;
mod snapshot;
mod storage_and_gates;

use lastmile_events::Class;
use serde_json::{Value, json};

use crate::support::{
    NodeSpec, classes, event, fixture_items, incident, node, pending_pod, run, running_pod,
    snapshot, t,
};

const GKE_POOL: &str = "cloud.google.com/gke-nodepool";

fn gke_node(name: &str, pool: &str) -> NodeSpec<'static> {
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let pool: &'static str = Box::leak(pool.to_owned().into_boxed_str());
    NodeSpec {
        name,
        pool_label: Some((GKE_POOL, pool)),
        provider_id: "gce://acme-ci/us-central1-a/x",
        ..Default::default()
    }
}

/// 12 nodes of `default-pool` (16Gi) each with 12.5Gi requested: 3.5Gi free.
fn busy_default_pool(items: &mut Vec<Value>) {
    for i in 0..12 {
        let name = format!("gke-ci-default-pool-{i:02}");
        items.push(node(NodeSpec {
            memory: "16Gi",
            cpu: "4",
            ..gke_node(&name, "default-pool")
        }));
        items.push(running_pod(
            "apps",
            &format!("api-{i}"),
            &name,
            "500m",
            "12800Mi",
            json!({"app": "api"}),
        ));
    }
}

fn mixed_pools(ci_nodes: usize) -> lastmile_contract::Outcome {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    for i in 0..ci_nodes {
        items.push(node(NodeSpec {
            memory: "32Gi",
            taints: json!([{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]),
            ..gke_node(&format!("gke-ci-ci-pool-{i}"), "ci-pool")
        }));
    }
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "1", "memory": "6Gi"}}}]}),
        None,
    );
    run(&incident(Some(pod), vec![], snapshot(items, None)))
}

fn job(template_spec: Value) -> k8s_openapi::api::batch::v1::Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "uid": "uid-job"},
        "spec": {"backoffLimit": 2, "template": {"metadata": {"labels": {"app": "migrate"}}, "spec": template_spec}},
        "status": {"active": 0}
    }))
    .expect("job")
}
