//! Snapshot edge cases: no nodes, terminal pods, bounded evidence.

use super::*;

#[test]
fn no_nodes_in_the_snapshot() {
    let items = vec![pending_pod("ci", "p", json!({}), None)];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert_eq!(classes(&o)[0], Class::NO_NODES);
}

#[test]
fn terminal_pods_do_not_hold_capacity() {
    let mut done = running_pod("ci", "old", "n0", "3", "12Gi", json!({}));
    done["status"]["phase"] = json!("Succeeded");
    let items = vec![
        node(NodeSpec {
            memory: "16Gi",
            cpu: "4",
            ..gke_node("n0", "p")
        }),
        done,
    ];
    let o = run(&incident(
        Some(pending_pod("ci", "p", json!({}), None)),
        vec![],
        snapshot(items, None),
    ));
    assert!(
        o.diagnoses
            .iter()
            .all(|d| d.class.as_str() != Class::INSUFFICIENT_RESOURCES),
        "{:?}",
        classes(&o)
    );
}

#[test]
fn evidence_is_bounded_and_has_no_env_values() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "env": [{"name": "TOKEN", "value": "s3cr3t-token"}], "resources": {"requests": {"memory": "6Gi"}}}]}),
        None,
    );
    let incident = incident(Some(pod), vec![], snapshot(items, None));
    // As every host stores it: through the one output boundary, which applies the redaction
    // policy (the function itself leaves secrets to it).
    let o =
        lastmile_contract::finalize::outcome(&lastmile_fn_pending::SPEC, &incident, run(&incident));
    // Not vacuous: the pod is in the evidence, with its env var's name but not its value.
    let pod_evidence = o
        .evidence
        .iter()
        .find(|e| e.name == "pod.json")
        .unwrap_or_else(|| {
            panic!(
                "no pod.json in {:?}",
                o.evidence.iter().map(|e| &e.name).collect::<Vec<_>>()
            )
        });
    assert!(String::from_utf8_lossy(&pod_evidence.bytes).contains("\"TOKEN\""));
    for e in &o.evidence {
        let text = String::from_utf8_lossy(&e.bytes);
        assert!(
            !text.contains("s3cr3t-token") && !text.contains("hunter2"),
            "{} leaks an env value",
            e.name
        );
    }
    assert!(o.evidence_bytes() <= lastmile_fn_pending::SPEC.max_evidence_bytes);
}
