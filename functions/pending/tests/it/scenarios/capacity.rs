//! Insufficient resources: largest free node, oversized requests, mixed causes, and the patch.

use super::*;

#[test]
fn insufficient_memory_names_the_largest_free_and_the_pool() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "migrate-x7k2p",
        json!({"containers": [{"name": "migrate", "image": "m:1", "resources": {"requests": {"cpu": "500m", "memory": "6Gi"}}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, Some(t(5)))));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(
        d.summary.contains("requests 6Gi memory")
            && d.summary
                .contains("the largest free is 3.5Gi on pool default-pool (12 node(s))"),
        "{}",
        d.summary
    );
    assert!(!d.definitive, "a 16Gi node could hold 6Gi once freed");
    let cmd = d.remediation[0].command.as_deref().expect("command");
    assert!(
        cmd.contains("kubectl get job/migrate -n ci -o json") && cmd.contains("\"3.5Gi\""),
        "{cmd}"
    );
    assert!(d.remediation[0].description.contains("immutable"));
    assert!(d.remediation.iter().any(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.starts_with("gcloud container clusters resize"))
    }));
    assert_eq!(d.details["groups"][0]["count"], 12);
    assert!(o.evidence.iter().any(|e| e.name == "node-groups.json"));
}

#[test]
fn request_bigger_than_any_node_is_definitive() {
    let items = vec![node(NodeSpec {
        memory: "16Gi",
        ..gke_node("n1", "default-pool")
    })];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "500", "memory": "1Gi"}}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(o.diagnoses[0].class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(o.diagnoses[0].definitive);
    assert!(
        o.diagnoses[0].summary.contains("requests 500 cpu"),
        "{}",
        o.diagnoses[0].summary
    );
}

/// Two single-change fixes: the one that unlocks more nodes ranks first, both are reported.
#[test]
fn mixed_causes_across_pools_rank_by_nodes_each_fix_unlocks() {
    // 20 ci-pool nodes would take the pod with a toleration; 12 default-pool nodes with less memory.
    let o = mixed_pools(20);
    assert_eq!(
        classes(&o)[..2],
        [Class::UNTOLERATED_TAINT, Class::INSUFFICIENT_RESOURCES]
    );
    let taint = &o.diagnoses[0];
    assert!(
        taint.summary.contains("dedicated=ci:NoSchedule"),
        "{}",
        taint.summary
    );
    assert_eq!(
        taint.details["toleration"],
        json!({"key": "dedicated", "operator": "Equal", "value": "ci", "effect": "NoSchedule"})
    );
    assert!(taint.evidence[0].starts_with("20 of 32 nodes blocked by scheduling.untolerated_taint; on 20 of them it is the only obstacle"), "{:?}", taint.evidence);
    assert!(o.diagnoses[0].confidence > o.diagnoses[1].confidence);
    assert_eq!(o.diagnoses[1].details["groups"][0]["pool"], "default-pool");

    // 3 ci-pool nodes: lowering memory (12 nodes) now unlocks more.
    let o = mixed_pools(3);
    assert_eq!(
        classes(&o)[..2],
        [Class::INSUFFICIENT_RESOURCES, Class::UNTOLERATED_TAINT]
    );
}

#[test]
fn deployment_gets_a_strategic_merge_patch_keeping_existing_tolerations() {
    let items = vec![node(NodeSpec {
        taints: json!([{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]),
        ..gke_node("n1", "ci-pool")
    })];
    let pod = pending_pod("ci", "web-5d8f-abcde", json!({}), None);
    let mut inc = incident(Some(pod), vec![], snapshot(items, None));
    inc.owner = Some(lastmile_events::ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("ci".into()),
        name: "web".into(),
        ..Default::default()
    });
    let o = run(&inc);
    let cmd = o.diagnoses[0].remediation[0]
        .command
        .as_deref()
        .expect("command");
    assert!(
        cmd.starts_with("kubectl patch deployment/web -n ci --type=strategic -p '"),
        "{cmd}"
    );
    assert!(
        cmd.contains("node.kubernetes.io/not-ready") && cmd.contains("\"dedicated\""),
        "the patch replaces the list, so it must keep the old entries: {cmd}"
    );
}
