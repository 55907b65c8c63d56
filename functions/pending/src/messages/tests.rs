#![allow(clippy::unwrap_used)]

use super::rules::RULES;
use super::*;

/// The names of the rules that find something in `text`, each rule run alone.
pub(super) fn rules_hit(text: &str) -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|rule| !run_rule(rule.scan, text).is_empty())
        .map(|rule| rule.name)
        .collect()
}

/// Asserts that [`scan`] ranks `class` first for every one of `messages`.
pub(super) fn assert_first(class: Class, messages: &[&str]) {
    for m in messages {
        let found = merge(scan(m));
        assert_eq!(
            found.first().map(|f| &f.class),
            Some(&class),
            "{m}: {found:?}"
        );
    }
}

/// Asserts that the rule named `rule` finds nothing in any of `messages`.
pub(super) fn assert_silent(rule: &str, messages: &[&str]) {
    for m in messages {
        assert!(!rules_hit(m).contains(&rule), "{m}");
    }
}

/// One sample per rule that this rule, and no other, finds.
#[test]
fn each_rule_finds_its_own_sample() {
    let samples = [
        ("fit-error", "0/3 nodes are available: 3 Insufficient cpu."),
        ("bare-reason", "3 Insufficient memory"),
        (
            "quota",
            "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=9, limited: requests.cpu=10",
        ),
        (
            "limit-range",
            "maximum cpu usage per Container is 2, but limit is 4",
        ),
        (
            "policy",
            "admission webhook \"validate.kyverno.svc\" denied the request: require-labels",
        ),
        (
            "autoscaler",
            "Normal NotTriggerScaleUp pod didn't trigger scale-up: 2 max node group size reached",
        ),
        (
            "node-group-unreachable",
            "cluster-autoscaler: failed to get node group pool-b: NotFound",
        ),
        ("no-nodes", "no nodes available to schedule pods"),
        (
            "described-stale-affinity",
            "db-1 stays Pending: its affinity is still zone a after the cluster moved to zone b.",
        ),
        (
            "described-no-nodes",
            "kubectl get nodes\nNo resources found\n\nand the web pods stay Pending",
        ),
        ("scheduling-gate", "the pod is SchedulingGated"),
        ("kubelet-predicate", "Pod Predicate NodeAffinity failed"),
        (
            "device-allocate",
            "Warning  UnexpectedAdmissionError  kubelet  failed to allocate device plugin resource for pod: amd.com/gpu: no healthy devices",
        ),
        (
            "plugin-error",
            "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded",
        ),
        ("volume", "storageclass.storage.k8s.io \"fast\" not found"),
        (
            "node-taints",
            "Taints:             dedicated=gpu:NoSchedule",
        ),
        (
            "cni-not-ready",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
        ),
        (
            "bare-taint",
            "my pods stay Pending; the workers were tainted with dedicated=ml:NoSchedule last week",
        ),
        (
            "pending-claims",
            "$ kubectl get pvc\nNAME            STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE\ndatadir-kafka-0 Pending                                                2d19h",
        ),
        (
            "described-spread",
            "The StatefulSet has a podAntiAffinity rule, one pod per node; with two nodes the third replica stays Pending.",
        ),
        (
            "gang-unschedulable",
            "Warning  Unschedulable  2m  volcano  3/4 tasks in gang unschedulable: pod group is not ready, 4 Pending, 4 minAvailable",
        ),
        (
            "described-capacity",
            "Our pods stay Pending: there are not enough resources in the cluster for them.",
        ),
        (
            "described-no-scale-up",
            "The pod is Pending and the cluster autoscaler does not add a node to the gpu node group.",
        ),
        (
            "cordoned-nodes",
            "NAME      STATUS                     ROLES           AGE   VERSION\ncp-1      Ready,SchedulingDisabled   control-plane   8m    v1.28.4\nthe coredns pods are Pending",
        ),
        (
            "described-cordon",
            "After the upgrade every worker stays cordoned and the new pods are Pending.",
        ),
        (
            "described-host-ports",
            "The DaemonSet uses hostNetwork: true and after the upgrade the new pod stays Pending.",
        ),
        (
            "described-node-label",
            "Our workers are not labeled role=ingress, so the controller pod stays Pending.",
        ),
        (
            "selected-role-absent",
            "NAME    STATUS   ROLES           AGE   VERSION\ncp-1    Ready    control-plane   2d    v1.25.4\nNode-Selectors:  node-role.kubernetes.io/master=",
        ),
        (
            "described-quota",
            "The ReplicaSet cannot create its pods because of the namespace's ResourceQuota.",
        ),
        (
            "described-volume-zone",
            "The claim's disk was created in zone europe-west4-a; the StatefulSet pod can't be scheduled since then.",
        ),
        (
            "described-limit-range",
            "The namespace LimitRange caps memory at 1Gi, and our 4Gi container is larger than the maximum.",
        ),
        (
            "described-policy",
            "Gatekeeper rejects the pods of the new ReplicaSet though the Deployment was created.",
        ),
        (
            "replacement-beside-lost-node",
            "After we powered off node-3 its pod went Unknown and the replacement pod is Pending.",
        ),
        (
            "replicas-beyond-nodes",
            "NAME     STATUS   ROLES    AGE   VERSION\nw1       Ready    <none>   9d    v1.29.1\nweb-6d4f8b7c9-abcde   1/1   Running   0   9d\nweb-6d4f8b7c9-fghij   0/1   Pending   0   9d",
        ),
        (
            "described-taint",
            "The ingress pods stay Pending: they don't tolerate the taint dedicated=edge on the workers.",
        ),
        (
            "held-from-autoscaler",
            "status:\n  conditions:\n  - reason: Schedulable\n    status: \"False\"\n    type: PodScheduled",
        ),
        (
            "expected-scale-up",
            "Expected: the cluster autoscaler should add a node to the pool. Actual: the job pod can't be scheduled.",
        ),
        (
            "described-disk-pressure",
            "kubelet: eviction manager: attempting to reclaim nodefs; the new pods never start.",
        ),
        (
            "described-partial-scale-up",
            "With autoscaling on, 2 nodes were created, but the last replica is still Pending.",
        ),
        (
            "empty-daemonset",
            "$ kubectl get ds -A | grep exporter\nmonitoring   node-exporter   0   0   0   0   0   role=metrics   5m",
        ),
        (
            "not-ready-nodes",
            "NAME      STATUS     ROLES    AGE   VERSION\nmaster    NotReady   master   56m   v1.16.0\nworker1   NotReady   <none>   52m   v1.16.0\ncoredns-5644d7b6d9-4qvm9   0/1   Pending   0   31m",
        ),
    ];
    for (name, text) in samples {
        assert_eq!(rules_hit(text), [name], "{text}");
    }
    for rule in RULES {
        assert!(
            samples.iter().any(|(n, _)| *n == rule.name),
            "no sample for rule {}",
            rule.name
        );
    }
    assert!(rules_hit("all good").is_empty());
}

#[test]
fn every_pattern_compiles() {
    rules::compile_all();
    admission::compile_all();
    loose::compile_all();
    described::compile_all();
    relate::compile_all();
}

#[test]
fn shorten_cuts_on_a_char_boundary_and_marks_the_cut() {
    assert_eq!(shorten("  short  ", 10), "short");
    let cut = shorten(&"é".repeat(10), 5);
    assert_eq!(cut, "éé …");
}

/// A pod's own tolerations are not what blocks it: triples in a `Tolerations:` block (and
/// `for 300s` lines) are skipped, and a fit error, when there is one, is left to speak.
#[test]
fn bare_taints_skip_tolerations_and_defer_to_the_scheduler() {
    let tolerations = "node-admin   0/1   Pending\nTolerations:     node.kubernetes.io/not-ready:NoExecute for 300s\n                 node.kubernetes.io/unreachable:NoExecute for 300s\nEvents: <none>";
    assert!(!rules_hit(tolerations).contains(&"bare-taint"));
    let with_fit = "pods pending: 0/3 nodes are available: 3 node(s) had untolerated taint {gpu: true}. I tainted them gpu=true:NoSchedule";
    assert!(!rules_hit(with_fit).contains(&"bare-taint"));
    let compose =
        "kubectl taint nodes worker-1 team=data:NoSchedule\nnow all new pods are stuck in Pending";
    assert_eq!(rules_hit(compose), ["bare-taint"]);
    let ready = "NAME   STATUS     ROLES   AGE   VERSION\na   Ready   <none>   5m   v1.29.1\nb   NotReady   <none>   5m   v1.29.1\npod-x   0/1   Pending";
    assert!(!rules_hit(ready).contains(&"not-ready-nodes"));
}

/// v1.4–v1.6 scheduler output: per-node `fit failure on node (…)` lines and the summary.
#[test]
fn pre_1_7_fit_failures_are_read() {
    let one = "pod (registry-520578653-d8n7i) failed to fit in any node\nfit failure on node (home-server): PodToleratesNodeTaints";
    let found = merge(scan(one));
    assert_eq!(found[0].class, Class::UntoleratedTaint, "{found:?}");
    let many = "pod (web-1) failed to fit in any node\nfit failure on node (n1): Insufficient cpu\nfit failure on node (n2): Insufficient cpu, MatchNodeSelector\nfit failure on node (n3): CheckNodeMemoryPressure";
    let found = merge(scan(many));
    assert_eq!(found[0].class, Class::InsufficientResources, "{found:?}");
    let summary = "FailedScheduling pod (vsphere-e2e-j11sb) failed to fit in any node - fit failure summary on nodes : MatchNodeSelector (2), PodToleratesNodeTaints (1)";
    let found = merge(scan(summary));
    assert_eq!(found[0].class, Class::UntoleratedTaint, "{found:?}");
    let zone = "fit failure summary on nodes : NoVolumeZoneConflict (3)";
    assert_eq!(merge(scan(zone))[0].class, Class::VolumeBinding);
}

/// Mixed reasons are ranked by which nodes each rules out, not by their counts alone.
#[test]
fn mixed_reasons_rank_the_blocker_of_the_candidate_nodes() {
    // The one node the selector allows is tainted.
    let m = "0/23 nodes are available: 1 node(s) had taints that the pod didn't tolerate, 22 node(s) didn't match node selector.";
    assert_eq!(merge(scan(m))[0].class, Class::UntoleratedTaint);
    // The selector rules out every node: nothing else matters.
    let m = "0/10 nodes are available: 10 node(s) didn't match node selector, 4 Insufficient cpu.";
    assert_eq!(merge(scan(m))[0].class, Class::NodeAffinity);
    // The one node the selector allows is cordoned (and so reports no room either).
    let m = "0/4 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 NodeUnschedulable, 3 MatchNodeSelector.";
    assert_eq!(merge(scan(m))[0].class, Class::UnschedulableNodes);
    // Zone-pinned volume on the nodes the affinity allows.
    let m = "0/6 nodes are available: 2 node(s) had volume node affinity conflict, 4 node(s) didn't match Pod's node affinity/selector.";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding);
    // Plain capacity still wins on its own counts.
    let m = "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4 Insufficient memory.";
    assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources);
}

/// The API server's validation of a LimitRange default below the container's request.
#[test]
fn defaulted_limit_below_request_is_a_limit_range_finding() {
    for m in [
        "The Pod \"blah\" is invalid: spec.containers[0].resources.limits: Invalid value: \"512Mi\": must be greater than or equal to memory request",
        "Error creating: pods \"api-7d9\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::LimitRange, "{m}");
    }
}

/// A reason quoted alone, without `0/N nodes are available:` or `node(s)`.
#[test]
fn volume_reasons_quoted_alone() {
    let m = "That error appeared in the describe output: \"volume node affinity conflict\"";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding);
    let m = "since the node was replaced the StatefulSet pod hangs with a node affinity conflict";
    assert_eq!(merge(scan(m))[0].class, Class::VolumeBinding);
    let m =
        "the pod could not be scheduled because there was insufficient capacity in the node pool";
    assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources);
}

/// The unbound-claim reason quoted in the singular (a dashboard, an older scheduler) is the
/// volume's, like the plural one.
#[test]
fn unbound_claim_reason_in_the_singular_is_volume_binding() {
    assert_first(
        Class::VolumeBinding,
        &[
            "The Kubernetes dashboard shows the StatefulSet's first pod with: pod has unbound immediate PersistentVolumeClaim (repeated 4 times)",
            "kafka-0 is stuck, the UI says `pod has unbound PersistentVolumeClaim` and nothing else",
        ],
    );
}

/// A fit error pasted without the colon after its header, naming a node condition as one
/// word, is still the scheduler's histogram: the pressure taint keeps the pod off.
#[test]
fn fit_error_without_colon_naming_a_pressure_condition_is_a_taint() {
    let found = merge(scan(
        "Warning  FailedScheduling  default-scheduler  0/2 nodes are available 2 node(s) had MemoryPressure",
    ));
    assert_eq!(
        found.first().map(|f| f.class.clone()),
        Some(Class::UntoleratedTaint)
    );
    // Memory pressure told of the app, with no fit error and no node, finds nothing.
    assert!(scan("the app is under memory pressure and its pods stay pending").is_empty());
}

/// A policy engine's denial for an image's signature stays a policy denial, held below the
/// image-pull function's `image.signature` (0.9) so the image's cause leads; other denials
/// keep their weight.
#[test]
fn a_denial_for_an_image_signature_yields_to_the_signature_finding() {
    let verify = "Error creating: admission webhook \"mutate.kyverno.svc-fail\" denied the request: \n\nresource Pod/default/web-5d8 was blocked due to the following policies\n\ncheck-image:\n  verify-signature: 'failed to verify signature for ghcr.io/acme/web:1.4: .attestors[0].entries[0].keys: no matching signatures'";
    let found = merge(scan(verify));
    assert_eq!(found[0].class, Class::PolicyDenied, "{found:?}");
    assert!(found[0].confidence <= 0.85, "{found:?}");
    let ratify = "Error from server (Forbidden): admission webhook \"validation.gatekeeper.sh\" denied the request: [ratify-constraint] Subject failed verification: registry.example.com/app@sha256:4f3c";
    let found = merge(scan(ratify));
    assert_eq!(found[0].class, Class::PolicyDenied, "{found:?}");
    assert!(found[0].confidence <= 0.85, "{found:?}");
    // A verifier known by name, whose message says nothing of signatures.
    let sigstore = "Error from server (BadRequest): error when creating \"job.yaml\": admission webhook \"policy.sigstore.dev\" denied the request: validation failed:";
    let found = merge(scan(sigstore));
    assert_eq!(found[0].class, Class::PolicyDenied, "{found:?}");
    assert!(found[0].confidence <= 0.85, "{found:?}");
    let plain = "Error creating: pods \"web-5d8\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false)";
    let found = merge(scan(plain));
    assert_eq!(found[0].class, Class::PolicyDenied, "{found:?}");
    assert!(found[0].confidence > 0.85, "{found:?}");
}

/// An autoscaler that will not add a node because a new node would bring the same host-port
/// conflict (a DaemonSet holds the port on every node) answers nothing the scheduler did
/// not: the host ports lead. An autoscaler refusing for a resource still leads.
#[test]
fn an_autoscaler_refusing_for_host_ports_defers_to_the_scheduler() {
    assert_first(
        Class::HostPorts,
        &[
            "Warning  FailedScheduling  40s  default-scheduler  0/9 nodes are available: 7 node(s) didn't have free ports for the requested pod ports, 2 Insufficient cpu.\nNormal  NotTriggerScaleUp  35s  cluster-autoscaler  pod didn't trigger scale-up (it wouldn't fit if a new node is added): 3 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match node selector",
        ],
    );
    assert_first(
        Class::NoScaleUp,
        &[
            "Warning  FailedScheduling  40s  default-scheduler  0/3 nodes are available: 3 Insufficient nvidia.com/gpu.\nNormal  NotTriggerScaleUp  35s  cluster-autoscaler  pod didn't trigger scale-up (it wouldn't fit if a new node is added): 2 Insufficient nvidia.com/gpu",
        ],
    );
}

/// A fit error wrapped inside a YAML condition (`message: '0/3 … affinity.'` then `reason:
/// Unschedulable`, a code fence) ends at its closing quote: the condition's next field is no
/// reason of the scheduler's, so the cordon reading its word `Unschedulable` is not made up.
#[test]
fn a_fit_error_wrapped_in_a_yaml_condition_ends_at_its_quote() {
    let text = "status:\n  phase: Pending\n  conditions:\n    type: PodScheduled\n    status: \"False\"\n    message: '0/3 nodes are available: 1 node(s) didn''t match pod affinity/anti-affinity,\n      1 node(s) didn''t match pod anti-affinity rules, 2 node(s) didn''t match Pod''s\n      node affinity.'\n    reason: Unschedulable\n```";
    let at = text.find("0/3").unwrap();
    let msg = super::message_at(text, at);
    assert!(msg.ends_with("node affinity.'"), "{msg}");
    assert_first(Class::PodAffinity, &[text]);
}
