use super::*;

use crate::messages::run_rule;

/// Gated pods in the API's words and in reporters' words: a queue that admitted the
/// workload but left the gate, a gate never lifted.
#[test]
fn a_pod_held_by_its_scheduling_gates() {
    for text in [
        "Warning  FailedScheduling  pod/etl-0  0/3 nodes: pod is SchedulingGated",
        "The job was admitted by the queue, yet its pods keep schedulingGates: [{name: example.com/quota}] and never start.",
        "After admission the pods remain gated and nothing is Running.",
        "The gate on the pods is never removed by the controller.",
    ] {
        let out = run_rule(scheduling_gate, text);
        assert_eq!(out.len(), 1, "{text}");
        assert_eq!(out[0].class, Class::Gated, "{text}");
    }
}

/// A feature gate is not a scheduling gate.
#[test]
fn feature_gates_are_not_scheduling_gates() {
    for text in [
        "Enable the PodSchedulingReadiness feature gate; the pod is Pending on a tainted node.",
        "The feature gates were not removed from the kubelet config.",
    ] {
        assert!(run_rule(scheduling_gate, text).is_empty(), "{text}");
    }
}
