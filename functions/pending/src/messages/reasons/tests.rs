use super::*;

#[test]
fn every_reference_reason_has_its_class() {
    let cases = [
        ("Insufficient cpu", Class::INSUFFICIENT_RESOURCES),
        ("Insufficient hugepages-2Mi", Class::INSUFFICIENT_RESOURCES),
        ("Too many pods", Class::INSUFFICIENT_RESOURCES),
        ("node(s) had untolerated taint(s)", Class::UNTOLERATED_TAINT),
        (
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            Class::UNTOLERATED_TAINT,
        ),
        (
            "node(s) had taint {dedicated: gpu}, that the pod didn't tolerate",
            Class::UNTOLERATED_TAINT,
        ),
        (
            "node(s) had taints that the pod didn't tolerate",
            Class::UNTOLERATED_TAINT,
        ),
        (
            "node(s) didn't match Pod's node affinity/selector",
            Class::NODE_AFFINITY,
        ),
        ("node(s) didn't match node selector", Class::NODE_AFFINITY),
        (
            "node(s) didn't match scheduler-enforced node affinity",
            Class::NODE_AFFINITY,
        ),
        ("pod affinity terms conflict", Class::NODE_AFFINITY),
        (
            "node(s) didn't satisfy plugin(s) [NodeAffinity]",
            Class::NODE_AFFINITY,
        ),
        (
            "node(s) didn't satisfy plugin(s) [NodeAffinity VolumeBinding] simultaneously",
            Class::VOLUME_BINDING,
        ),
        ("node(s) were unschedulable", Class::UNSCHEDULABLE_NODES),
        ("node(s) had unknown conditions", Class::UNSCHEDULABLE_NODES),
        (
            "node(s) didn't have free ports for the requested pod ports",
            Class::HOST_PORTS,
        ),
        (
            "node(s) didn't match pod affinity rules",
            Class::POD_AFFINITY,
        ),
        (
            "node(s) didn't match pod anti-affinity rules",
            Class::POD_AFFINITY,
        ),
        (
            "node(s) didn't satisfy existing pods anti-affinity rules",
            Class::POD_AFFINITY,
        ),
        (
            "node(s) didn't match pod affinity/anti-affinity",
            Class::POD_AFFINITY,
        ),
        (
            "node(s) didn't match pod topology spread constraints",
            Class::POD_AFFINITY,
        ),
        (
            "node(s) didn't match pod topology spread constraints (missing required label)",
            Class::POD_AFFINITY,
        ),
        (
            "pod has unbound immediate PersistentVolumeClaims",
            Class::VOLUME_BINDING,
        ),
        (
            "persistentvolumeclaim \"data-postgres-0\" not found",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) didn't match PersistentVolume's node affinity",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) had volume node affinity conflict",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) didn't find available persistent volumes to bind",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) did not have enough free storage",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)",
            Class::VOLUME_BINDING,
        ),
        ("node(s) had no available disk", Class::VOLUME_BINDING),
        (
            "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
            Class::VOLUME_BINDING,
        ),
        ("node(s) exceed max volume count", Class::VOLUME_BINDING),
        (
            "node(s) had no available volume zone",
            Class::VOLUME_BINDING,
        ),
        (
            "node(s) didn't match the requested node name",
            Class::NODE_AFFINITY,
        ),
        (
            "node(s) didn't match the requested hostname",
            Class::NODE_AFFINITY,
        ),
        // Pre-framework predicate names (OpenShift 3.x, Kubernetes ≤ 1.14).
        ("MatchInterPodAffinity", Class::POD_AFFINITY),
        ("ExistingPodsAntiAffinityRulesNotMatch", Class::POD_AFFINITY),
        ("CheckServiceAffinity", Class::POD_AFFINITY),
        ("MatchNodeSelector", Class::NODE_AFFINITY),
        ("PodToleratesNodeTaints", Class::UNTOLERATED_TAINT),
        ("NodeNotReady", Class::UNTOLERATED_TAINT),
        ("PodFitsHostPorts", Class::HOST_PORTS),
        ("NoVolumeZoneConflict", Class::VOLUME_BINDING),
        ("max node group size reached", Class::NO_SCALE_UP),
        ("node(s) had disk pressure", Class::UNTOLERATED_TAINT),
        ("node(s) were not ready", Class::UNTOLERATED_TAINT),
    ];
    for (text, class) in cases {
        assert_eq!(classify_reason(text).class(), Some(class), "{text}");
    }
    assert_eq!(
        classify_reason("Preemption is not helpful for scheduling").class(),
        None
    );
}

#[test]
fn insufficient_keeps_the_resource_name_case() {
    assert_eq!(
        classify_reason("Insufficient nvidia.com/gpu"),
        Reason::Insufficient {
            resource: "nvidia.com/gpu".into()
        }
    );
}

#[test]
fn control_plane_taints_are_scope() {
    assert!(
        classify_reason("node(s) had untolerated taint {node-role.kubernetes.io/master: }")
            .is_scope()
    );
    assert!(!classify_reason("node(s) had untolerated taint {dedicated: ci}").is_scope());
}
