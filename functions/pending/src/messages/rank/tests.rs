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
