#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::assert_silent;
use crate::messages::{merge, scan};

/// A StatefulSet whose Running replicas fill every Ready node while the next is Pending:
/// one replica per node, the shape of a required pod anti-affinity.
#[test]
fn replicas_filling_every_ready_node_and_the_next_pending() {
    let m = "$ kubectl get nodes\nNAME          STATUS   ROLES           AGE   VERSION\ncp-a          Ready    control-plane   3d    v1.30.2\nworker-b      Ready    <none>          3d    v1.30.2\nworker-c      Ready    <none>          3d    v1.30.2\n$ kubectl -n data get pods\nNAME      READY   STATUS    RESTARTS   AGE\nzk-0      1/1     Running   0          3d\nzk-1      1/1     Running   0          3d\nzk-2      1/1     Running   0          3d\nzk-3      0/1     Pending   0          3d";
    let found = merge(scan(m));
    assert_eq!(found[0].class, Class::PodAffinity, "{found:?}");
}

/// Fewer Running replicas than Ready nodes (a node is left free, so it is not one per
/// node), or a node listed NotReady or cordoned, is not this reading.
#[test]
fn a_free_node_or_an_unready_one_is_not_one_per_node() {
    assert_silent(
        "replicas-beyond-nodes",
        &[
            "NAME   STATUS   ROLES    AGE   VERSION\nn1     Ready    <none>   3d    v1.30.2\nn2     Ready    <none>   3d    v1.30.2\nn3     Ready    <none>   3d    v1.30.2\napi-5c8d7f-aaaaa   1/1   Running   0   1h\napi-5c8d7f-bbbbb   0/1   Pending   0   1h",
            "NAME   STATUS                     ROLES    AGE   VERSION\nn1     Ready                      <none>   3d    v1.30.2\nn2     Ready,SchedulingDisabled   <none>   3d    v1.30.2\napi-5c8d7f-aaaaa   1/1   Running   0   1h\napi-5c8d7f-bbbbb   1/1   Running   0   1h\napi-5c8d7f-ccccc   0/1   Pending   0   1h",
        ],
    );
}
