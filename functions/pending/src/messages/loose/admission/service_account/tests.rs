#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// A ServiceAccount told missing (or created only after the workload) beside a controller
/// that creates no pods: its pods are rejected at admission. A missing account with pods
/// running (or failing at run time) is not it.
#[test]
fn a_missing_service_account_beside_a_controller_with_no_pods() {
    assert_first(
        Class::PolicyDenied,
        &[
            "The migration Job never gets a pod: our chart creates the ServiceAccount later, in a post-install hook.\nPods Statuses:  0 Active / 0 Succeeded / 0 Failed",
            "kubectl describe rs api-7f9c shows ReplicaFailure True FailedCreate; the service account api-runner does not exist in this namespace.",
        ],
    );
    assert_silent(
        "described-policy",
        &[
            "The service account is missing its image pull secret, so the pod is in ImagePullBackOff.",
            "We created the service account after the deployment and its pods are Running, but the app gets 403 from the API.",
        ],
    );
}
