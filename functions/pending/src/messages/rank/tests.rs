use lastmile_events::Class;

use super::super::{merge, scan};

/// Mixed reasons where a taint that hides its key sits beside a capacity reason on other
/// nodes: the nodes without room are the candidates (old predicate names, v1.17 and v1.35
/// texts alike); a node-condition taint is never scope.
#[test]
fn a_keyless_taint_beside_capacity_is_scope() {
    for m in [
        "fit failure summary on nodes : PodToleratesNodeTaints (3), Insufficient memory (2)",
        "0/5 nodes are available: 2 Insufficient nvidia.com/gpu, 3 node(s) had taints that the pod didn't tolerate.",
        "0/7 nodes are available: 3 Insufficient cpu, 4 node(s) had untolerated taint(s).",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources, "{m}");
    }
    // A node-condition taint is not scope: not-ready nodes are the finding.
    let m = "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) were not ready.";
    assert_eq!(merge(scan(m))[0].class, Class::UntoleratedTaint);
}

/// A volume pinned to other nodes beside a capacity reason: the nodes that report no room
/// are the ones the volume allows, so capacity blocks the pod. Without a capacity reason a
/// volume pinned where the pod's own selector does not go stays the volume's finding.
#[test]
fn a_pinned_volume_beside_capacity_is_scope() {
    for m in [
        "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had volume node affinity conflict.",
        "0/6 nodes are available: 2 Insufficient cpu, 4 node(s) had volume node affinity conflict.",
        "fit failure summary on nodes : NoVolumeZoneConflict (2), Insufficient cpu (1)",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources, "{m}");
    }
    let m = "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict.";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding, "{m}");
    // An unbound claim is no pinned volume: it blocks every node whatever their room.
    let m = "0/3 nodes are available: 1 Insufficient cpu, 3 pod has unbound immediate PersistentVolumeClaims.";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding, "{m}");
}

/// Beside taints on the nodes a pinned volume allows, the volume stays a blocker of its own:
/// the nodes it allows are not only full.
#[test]
fn a_pinned_volume_beside_taints_and_capacity_is_not_scope() {
    let m = "0/31 nodes are available: 12 node(s) had no available volume zone, 3 Insufficient memory, 3 node(s) had untolerated taint {role: db}, 3 node(s) had untolerated taint {role: tools}, 7 node(s) had volume node affinity conflict.";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding, "{m}");
}
