//! Storage classes, zone-pinned volumes and scheduling gates.

use super::*;

#[test]
fn missing_storage_class_from_fixture() {
    let items = fixture_items("pvc-missing-storageclass.json");
    let pod = pending_pod(
        "ci",
        "dnsmasq-0",
        json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "dnsmasq-ironic"}}]}),
        None,
    );
    let ev = event(
        "FailedScheduling",
        "Pod",
        "dnsmasq-0",
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
        t(1),
        "default-scheduler",
    );
    let o = run(&incident(Some(pod), vec![ev], snapshot(items, Some(t(2)))));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::VOLUME_BINDING);
    assert!(
        d.summary
            .contains("StorageClass standard, which does not exist"),
        "{}",
        d.summary
    );
    assert!(
        d.remediation[0]
            .command
            .as_deref()
            .is_some_and(|c| c.contains("\"local-path\""))
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("the message agrees"))
    );
}

#[test]
fn pv_pinned_to_a_zone_without_nodes() {
    let items = vec![
        node(NodeSpec {
            zone: "us-east-1b",
            ..gke_node("n0", "p")
        }),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "ci"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, "storageClassName": "gp3", "volumeName": "pvc-123"},
               "status": {"phase": "Bound"}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pvc-123"},
               "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}]}]}}},
               "status": {"phase": "Bound"}}),
    ];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(classes(&o)[0], Class::VOLUME_BINDING);
    assert!(o.diagnoses[0].summary.contains("node affinity"));
}

#[test]
fn scheduling_gates() {
    let items = vec![node(gke_node("n0", "p"))];
    let pod = pending_pod(
        "ci",
        "p",
        json!({"schedulingGates": [{"name": "kueue.x-k8s.io/admission"}]}),
        None,
    );
    let o = run(&incident(Some(pod), vec![], snapshot(items, None)));
    assert_eq!(classes(&o)[0], Class::GATED);
    assert!(o.diagnoses[0].summary.contains("kueue.x-k8s.io/admission"));
}

#[test]
fn scheduling_gates_without_any_snapshot() {
    let pod = pending_pod(
        "ci",
        "p",
        json!({"schedulingGates": [{"name": "example.com/quota-check"}]}),
        None,
    );
    let o = run(&incident(
        Some(pod),
        vec![],
        lastmile_events::ClusterSnapshot::default(),
    ));
    assert_eq!(classes(&o)[0], Class::GATED);
}
