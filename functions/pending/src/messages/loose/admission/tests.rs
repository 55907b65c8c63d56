use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::{merge, scan};

/// A policy (PodSecurityPolicy, Pod Security admission, a policy webhook) told not to
/// admit the pods; admission told without a policy, or pods admitted, is not it.
#[test]
fn a_policy_told_not_to_admit_the_pods() {
    for m in [
        "The node-exporter DaemonSet says the pod security policy could not admit its pods: they ask for hostPID.",
        "With Pod Security admission at restricted, the agent pods are not admitted and the DaemonSet stays at 0 ready.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::PolicyDenied, "{m}: {found:?}");
    }
    for m in [
        "The scheduler could not admit the pods to the queue: 0 ready.",
        "The PSP allows privileged, and the pods are admitted and Running.",
    ] {
        assert!(!rules_hit(m).contains(&"described-policy"), "{m}");
    }
}
