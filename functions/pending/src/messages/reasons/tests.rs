use super::*;

#[test]
fn every_reference_reason_has_its_class() {
    let cases = [
        ("Insufficient cpu", Class::InsufficientResources),
        ("Insufficient hugepages-2Mi", Class::InsufficientResources),
        ("Too many pods", Class::InsufficientResources),
        ("node(s) had untolerated taint(s)", Class::UntoleratedTaint),
        (
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            Class::UntoleratedTaint,
        ),
        (
            "node(s) had taint {dedicated: gpu}, that the pod didn't tolerate",
            Class::UntoleratedTaint,
        ),
        (
            "node(s) had taints that the pod didn't tolerate",
            Class::UntoleratedTaint,
        ),
        (
            "node(s) didn't match Pod's node affinity/selector",
            Class::NodeAffinity,
        ),
        ("node(s) didn't match node selector", Class::NodeAffinity),
        (
            "node(s) didn't match scheduler-enforced node affinity",
            Class::NodeAffinity,
        ),
        ("pod affinity terms conflict", Class::NodeAffinity),
        (
            "node(s) didn't satisfy plugin(s) [NodeAffinity]",
            Class::NodeAffinity,
        ),
        (
            "node(s) didn't satisfy plugin(s) [NodeAffinity VolumeBinding] simultaneously",
            Class::VolumeBinding,
        ),
        ("node(s) were unschedulable", Class::UnschedulableNodes),
        ("node(s) had unknown conditions", Class::UnschedulableNodes),
        (
            "node(s) didn't have free ports for the requested pod ports",
            Class::HostPorts,
        ),
        (
            "node(s) didn't match pod affinity rules",
            Class::PodAffinity,
        ),
        (
            "node(s) didn't match pod anti-affinity rules",
            Class::PodAffinity,
        ),
        (
            "node(s) didn't satisfy existing pods anti-affinity rules",
            Class::PodAffinity,
        ),
        (
            "node(s) didn't match pod affinity/anti-affinity",
            Class::PodAffinity,
        ),
        (
            "node(s) didn't match pod topology spread constraints",
            Class::PodAffinity,
        ),
        (
            "node(s) didn't match pod topology spread constraints (missing required label)",
            Class::PodAffinity,
        ),
        (
            "pod has unbound immediate PersistentVolumeClaims",
            Class::VolumeBinding,
        ),
        (
            "persistentvolumeclaim \"data-postgres-0\" not found",
            Class::VolumeBinding,
        ),
        (
            "node(s) didn't match PersistentVolume's node affinity",
            Class::VolumeBinding,
        ),
        (
            "node(s) had volume node affinity conflict",
            Class::VolumeBinding,
        ),
        // Batch schedulers' own words for capacity.
        ("node(s) resource fit failed", Class::InsufficientResources),
        ("node(s) pod number exceeded", Class::InsufficientResources),
        // Clipped by the reporter: only a volume's node affinity "conflicts".
        ("node affinity conflict", Class::VolumeBinding),
        ("PV node affinity conflict", Class::VolumeBinding),
        (
            "node(s) didn't find available persistent volumes to bind",
            Class::VolumeBinding,
        ),
        (
            "node(s) did not have enough free storage",
            Class::VolumeBinding,
        ),
        (
            "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)",
            Class::VolumeBinding,
        ),
        ("node(s) had no available disk", Class::VolumeBinding),
        (
            "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
            Class::VolumeBinding,
        ),
        ("node(s) exceed max volume count", Class::VolumeBinding),
        ("node(s) had no available volume zone", Class::VolumeBinding),
        (
            "node(s) didn't match the requested node name",
            Class::NodeAffinity,
        ),
        (
            "node(s) didn't match the requested hostname",
            Class::NodeAffinity,
        ),
        // Pre-framework predicate names (OpenShift 3.x, Kubernetes ≤ 1.14).
        ("MatchInterPodAffinity", Class::PodAffinity),
        ("ExistingPodsAntiAffinityRulesNotMatch", Class::PodAffinity),
        ("CheckServiceAffinity", Class::PodAffinity),
        ("MatchNodeSelector", Class::NodeAffinity),
        ("PodToleratesNodeTaints", Class::UntoleratedTaint),
        ("NodeNotReady", Class::UntoleratedTaint),
        ("PodFitsHostPorts", Class::HostPorts),
        ("NoVolumeZoneConflict", Class::VolumeBinding),
        ("max node group size reached", Class::NoScaleUp),
        ("node(s) had disk pressure", Class::UntoleratedTaint),
        ("node(s) were not ready", Class::UntoleratedTaint),
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

/// A node pressure condition named as the condition (`MemoryPressure`, `PIDPressure`, one
/// word, any case) is the pressure taint, as the words "had disk pressure" are.
#[test]
fn pressure_condition_names_written_as_one_word_are_taints() {
    for text in [
        "2 node(s) had MemoryPressure",
        "1 node(s) had pidpressure",
        "node(s) had condition DiskPressure",
    ] {
        assert_eq!(
            classify_reason(text).class(),
            Some(Class::UntoleratedTaint),
            "{text}"
        );
    }
    // A pod's own memory request is no node condition.
    assert_ne!(
        classify_reason("1 Insufficient memory, pressure on the pool").class(),
        Some(Class::UntoleratedTaint)
    );
}
