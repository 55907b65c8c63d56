#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// The kubelet's own disk-threshold words (eviction manager reclaiming disk, a
/// `NodeHasDiskPressure` event) beside pods that do not start: the disk-pressure taint.
/// The same words beside pods that run fine are not it.
#[test]
fn kubelet_disk_over_threshold_beside_pods_not_starting() {
    assert_first(
        Class::UntoleratedTaint,
        &[
            "kubelet[812]: W0603 eviction_manager.go:351] eviction manager: attempting to reclaim ephemeral-storage\nNew pods of the nightly job never get a node until I prune /var/lib/containerd.",
            "Events:\n  Normal  NodeHasDiskPressure  3m  kubelet  Node worker-2 status is now: NodeHasDiskPressure\nThe new deployment's pods don't start at all.",
        ],
    );
    assert_silent(
        "described-disk-pressure",
        &[
            "image_gc_manager.go:300] Disk usage on image filesystem is at 88% which is over the high threshold (85%). All pods are running.",
            "The build box's disk is at 90% and docker builds are slow.",
        ],
    );
}
