#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// A required pod (co-location) affinity told in words beside a Pending pod: no node runs
/// the pods it must sit beside. A node affinity or selector told the same way is not it.
#[test]
fn a_pod_affinity_told_in_words_beside_a_pending_pod() {
    assert_first(
        Class::PodAffinity,
        &[
            "The api pod stays Pending: its podAffinity wants a memcached pod on the same host and memcached only runs on node-a, which is full.",
            "Our worker replicas are pending because of the affinity rule that ties them to the cache pods, and the new node has no cache pod.",
        ],
    );
    assert_silent(
        "described-spread",
        &[
            "The pod is pending; its affinity rule is a node affinity on the disktype=ssd label.",
            "We added an affinity rule for the cache pods and they all run fine.",
        ],
    );
}
