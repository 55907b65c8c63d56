//! The shared function spec (idempotence, no panics, bounded evidence, deadline).

use lastmile_contract::Context;
use serde_json::json;

use crate::support::{
    NodeSpec, event, incident, node, pending_pod, running_pod, snapshot, t, text_incident,
};

#[test]
fn pending_passes_the_compliance_check() {
    let mut items = Vec::new();
    for i in 0..20 {
        let name = format!("n{i}");
        items.push(node(NodeSpec {
            name: Box::leak(name.clone().into_boxed_str()),
            taints: if i % 3 == 0 {
                json!([{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}])
            } else {
                json!([])
            },
            ..Default::default()
        }));
        items.push(running_pod(
            "apps",
            &format!("a{i}"),
            &name,
            "3",
            "12Gi",
            json!({"app": "a"}),
        ));
    }
    let samples = vec![
        incident(
            Some(pending_pod("ci", "migrate-x7k2p", json!({}), None)),
            vec![event(
                "FailedScheduling",
                "Pod",
                "migrate-x7k2p",
                "0/20 nodes are available: 7 node(s) had untolerated taint {dedicated: ci}, 13 Insufficient cpu.",
                t(1),
                "default-scheduler",
            )],
            snapshot(items, Some(t(2))),
        ),
        text_incident(
            "Error creating: pods \"m-1\" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=2, limited: cpu=2",
        ),
        text_incident(&"0/3 nodes are available: 3 Insufficient cpu, ".repeat(5000)),
    ];
    let ctx = Context::fixed(t(30));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(lastmile_contract::compliance::check(
        &lastmile_fn_pending::FUNCTION,
        &samples,
        &ctx,
    ));
}
