use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::tests::{assert_first, assert_silent};
use crate::messages::{merge, scan};

/// A policy (PodSecurityPolicy, Pod Security admission, a policy webhook) told not to
/// admit the pods; admission told without a policy, or pods admitted, is not it.
#[test]
fn a_policy_told_not_to_admit_the_pods() {
    assert_first(
        Class::PolicyDenied,
        &[
            "The node-exporter DaemonSet says the pod security policy could not admit its pods: they ask for hostPID.",
            "With Pod Security admission at restricted, the agent pods are not admitted and the DaemonSet stays at 0 ready.",
        ],
    );
    assert_silent(
        "described-policy",
        &[
            "The scheduler could not admit the pods to the queue: 0 ready.",
            "The PSP allows privileged, and the pods are admitted and Running.",
        ],
    );
}

/// A quota set or changed on the namespace, beside pods told not to be created any more;
/// a quota set with pods created, or pods not created with no quota set, is not it.
#[test]
fn pods_not_created_after_a_quota_was_set() {
    assert_first(
        Class::QuotaExceeded,
        &[
            "After applying a ResourceQuota to the team namespace, the Deployment's pods are no longer created.",
            "Since we configured a namespace quota for memory, pods that get deleted are never re-created.",
        ],
    );
    // The quota told to be in force (not said to be set), and pod creation told to fail.
    assert_first(
        Class::QuotaExceeded,
        &[
            "Our operator's job pods fail to be created once a ResourceQuota is enforced in the tenant namespace.",
            "Creating the worker pods errors out whenever the namespace quota is active.",
        ],
    );
    assert_silent(
        "described-quota",
        &[
            "We set a resource quota on the namespace and the pods were created fine.",
            "The resource quota is enabled; creating the pods works, but they crash with exit code 137.",
            "The pods are not created because the service account is missing.",
        ],
    );
}

/// Containers that set no limits, told to fail under a LimitRange; a LimitRange that
/// defaults them with pods running, or a quota beside it (the quota reading's), is not it.
#[test]
fn containers_without_limits_fail_under_a_limit_range() {
    assert_first(
        Class::LimitRange,
        &[
            "Our namespace has a LimitRange, and the injected proxy container declares no limits, so the pod is rejected at admission.",
            "Under the LimitRange, a Job whose init container is without resource limits fails to create its pod.",
        ],
    );
    let defaulted =
        "The LimitRange gives containers without limits a default of 500m, and the pods run.";
    assert!(!rules_hit(defaulted).contains(&"described-limit-range"));
    let with_quota = "The namespace has a ResourceQuota and a LimitRange; the sidecar sets no limits, so pod creation fails.";
    assert_eq!(merge(scan(with_quota))[0].class, Class::QuotaExceeded);
}

/// A policy engine's rule shown or told to match Pods, beside a workload said not to run:
/// the pods are denied out of sight (only the ReplicaSet's events tell). Pods waiting for
/// a node were admitted, and a rule on pods with the app up is no finding.
#[test]
fn a_policy_on_pods_beside_a_workload_that_never_runs() {
    assert_first(
        Class::PolicyDenied,
        &[
            "Our Kyverno ClusterPolicy has match: resources: kinds: - Pod and requires a team label. Developers only see that the app never starts; helm reports the release as deployed.",
            "We added an OPA rule on pods that forbids latest tags, and now the service is not running, with nothing in helm's output.",
        ],
    );
    assert_silent(
        "described-policy",
        &[
            "Gatekeeper has a constraint for pods requiring labels; the pods are Pending with Insufficient cpu.",
            "The Kyverno policy on pods adds default labels, and the app is running fine.",
        ],
    );
}

/// Quota told to be used up in the namespace ("not enough quota in the namespace", "the
/// namespace ran out of quota") while pod creations fail; a cloud region's or project's
/// quota (an autoscaler's limit) is not it.
#[test]
fn quota_told_to_be_used_up_in_the_namespace() {
    assert_first(
        Class::QuotaExceeded,
        &[
            "The Argo workflow step never starts: creating its pod is rejected because there is insufficient quota for the namespace.",
            "Our CI namespace runs out of quota at peak hours and the job controller keeps failing to create pods.",
        ],
    );
    assert_silent(
        "described-quota",
        &[
            "The node pool does not grow: not enough CPUS quota in region us-central1 for the project.",
            "The namespace has plenty of quota left and the pods are Running.",
        ],
    );
}

/// A cluster policy told to require requests or limits (or to turn away containers
/// without them) denies the pods of a chart that sets none; a quota's requirement, or a
/// policy merely recommending limits, is not it.
#[test]
fn a_policy_told_to_require_resource_limits() {
    assert_first(
        Class::PolicyDenied,
        &[
            "Our clusters run Kyverno, which rejects any pod whose containers have no cpu or memory requests, and the operator's chart gives no value to set them.",
            "The company admission rules enforce memory limits on every container, so the agent never deploys there.",
        ],
    );
    assert_silent(
        "described-policy",
        &[
            "The namespace's ResourceQuota requires limits, and the init container sets none.",
            "Our policy recommends limits; the pods set none and run fine.",
        ],
    );
}
