#![allow(clippy::unwrap_used)]

use super::rules::{Input, RULES};
use super::*;

/// The names of the rules that find something in `text`, each rule run alone.
fn rules_hit(text: &str) -> Vec<&'static str> {
    let flat = flatten(text);
    let lower = flat.to_ascii_lowercase();
    let input = Input {
        text,
        flat: &flat,
        lower: &lower,
    };
    RULES
        .iter()
        .filter(|rule| {
            let mut out = Vec::new();
            (rule.scan)(&input, &mut out);
            !out.is_empty()
        })
        .map(|rule| rule.name)
        .collect()
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
        ("no-nodes", "no nodes available to schedule pods"),
        ("scheduling-gate", "the pod is SchedulingGated"),
        ("kubelet-predicate", "Pod Predicate NodeAffinity failed"),
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

/// Claims listed Pending by `kubectl get pvc`; Bound claims and pod tables are not.
#[test]
fn pending_claims_in_a_pvc_table() {
    let bound = "NAME    STATUS   VOLUME     CAPACITY   ACCESS MODES\ndata-0  Bound    pvc-1234   10Gi       RWO";
    assert!(!rules_hit(bound).contains(&"pending-claims"));
    let pods = "NAME    READY   STATUS    RESTARTS   AGE\nweb-0   0/1     Pending   0          3m";
    assert!(!rules_hit(pods).contains(&"pending-claims"));
}

/// Extended resources quoted alone, with or without their vendor domain (and cut where a
/// paste wrapped `nvidia.com/gpu`).
#[test]
fn extended_resources_quoted_alone_are_capacity() {
    for m in [
        "PodUnschedulable Cannot schedule pods: Insufficient nvidia",
        "0/8 nodes available: insufficient gpu",
        "FailedScheduling: 2 Insufficient amd.com/gpu, 1 Insufficient cpu",
        "Warning FailedScheduling pod has been pending for 5m: Insufficient gpus",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources, "{m}");
    }
}

/// Capacity described in words beside a pending pod or a stalled deploy; a container
/// running out of memory is not a scheduling fact, and enough capacity is no finding.
#[test]
fn capacity_told_in_words() {
    for m in [
        "My gpu-pod is stuck in Pending. It seems I don't have any GPUs to allocate to the pod, yet the node has 8.",
        "The app stays Progressing: we had not enough hardware in the cluster for the new replicas.",
        "We ran out of cpu on the nodes, so the rollout never finished.",
        "Asked for more resources than the cluster has and nothing told me.",
        "the deployment hangs, there are no GPUs available on the node pool",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::InsufficientResources, "{m}");
        assert!(!found[0].definitive, "{m}");
    }
    for m in [
        "the container was killed: not enough memory in the container",
        "the cluster has enough resources, the pod is Running",
        "Pending: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. Not enough resources in the cluster either?",
    ] {
        assert!(!rules_hit(m).contains(&"described-capacity"), "{m}");
    }
}

/// A node autoscaler described as not adding nodes beside a pending pod.
#[test]
fn no_scale_up_told_in_words() {
    for m in [
        "I have a nodegroup (min 0, max 3) that could run the pod, but the autoscaler doesn't seem to agree.\nStatus: Pending",
        "Pods stay Pending for an hour and Karpenter never launches a node.",
        "The workers node pool is at 2 nodes; pods are pending but no scale up happens.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::NoScaleUp, "{m}");
    }
    for m in [
        "The autoscaler doesn't matter here, the pod is Running.",
        "Pods are pending and nothing scales up.",
    ] {
        assert!(!rules_hit(m).contains(&"described-no-scale-up"), "{m}");
    }
}

/// `kubectl get nodes` with only cordoned nodes (old tables have no ROLES column); one
/// schedulable node listed means cordoning is not why.
#[test]
fn only_cordoned_nodes_listed() {
    let old = "all masters are in SchedulingDisabled state.\n\nNAME        STATUS                     AGE   VERSION\nmaster-01   Ready,SchedulingDisabled   8m    v1.6.3\nmaster-02   Ready,SchedulingDisabled   8m    v1.6.3\n\nso the kube-dns pods are not started";
    let found = merge(scan(old));
    assert_eq!(found[0].class, Class::UnschedulableNodes, "{found:?}");
    assert!(found[0].summary.contains("master-01, master-02"));
    let mixed = "NAME   STATUS                     ROLES    AGE   VERSION\na      Ready,SchedulingDisabled   <none>   5d    v1.29.1\nb      Ready                      <none>   5d    v1.29.1\nweb-0  0/1  Pending";
    assert!(!rules_hit(mixed).contains(&"cordoned-nodes"));
}

/// Anti-affinity told with a space or without a hyphen, beside a Pending pod of a rolling
/// update on a single node.
#[test]
fn anti_affinity_told_in_any_spelling() {
    for m in [
        "On our one-node cluster the new ingress pod stays Pending, seemingly because of the Pod Anti Affinity rule against the old pod.",
        "metrics-server-7b9c 0/1 Pending 0 3h\nthe chart sets requiredDuringScheduling antiaffinity on hostname",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::PodAffinity, "{m}");
    }
}

/// Cordoned nodes told in words or by the kubelet's event, beside pods that do not start;
/// an uncordon alone, or cordoned nodes with pods running, is no finding.
#[test]
fn cordoned_nodes_told_in_words() {
    for m in [
        "Every few hours all our nodes show up as Ready, SchedulingDisabled again and the rollout's pods sit in Pending.",
        "Normal  NodeNotSchedulable  12m  kubelet  Node ip-10-0-3-7 status is now: NodeNotSchedulable\nthe new ReplicaSet's pods are not scheduled",
        "The masters were cordoned by the upgrade job, so coredns never gets scheduled (Pending).",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::UnschedulableNodes, "{m}");
    }
    for m in [
        "I uncordoned node-2 and the Pending pods are still Pending.",
        "The node is cordoned for maintenance; all pods are Running elsewhere.",
    ] {
        assert!(!rules_hit(m).contains(&"described-cordon"), "{m}");
    }
}

/// hostNetwork / hostPort pods that cannot be placed, in a few wordings; hostNetwork
/// alone (running fine) is no finding.
#[test]
fn host_ports_told_in_words() {
    for m in [
        "K8S cannot schedule the new pod to the node because listen ports are not available.\n  hostNetwork: true",
        "replicas: 3 with hostPort 80 on a 3 node cluster; during the rolling update one pod is always Pending",
        "With hostNetwork the ports are already in use by the old pod, so the update hangs.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::HostPorts, "{m}");
    }
    assert!(
        !rules_hit("hostNetwork: true works and the pod is Running")
            .contains(&"described-host-ports")
    );
}

/// Nodes said to lack the label the pods need, beside pending pods.
#[test]
fn missing_node_labels_told_in_words() {
    for m in [
        "If the masters are not labeled as node-role.kubernetes.io/worker, Alertmanager is stuck in Pending.",
        "The pods stay pending because no node has the label disktype=ssd.",
        "pending forever: our GPU nodes are missing the label accelerator=nvidia",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::NodeAffinity, "{m}");
    }
    assert!(
        !rules_hit("the nodes are labeled and the pod is Running")
            .contains(&"described-node-label")
    );
}

/// A ResourceQuota told to block pod creation, in a few wordings; a quota merely mentioned
/// is no finding, and a quoted quota message is left to the quota rule.
#[test]
fn quota_told_in_words() {
    for m in [
        "App stays Progressing while the replicaset won't be loaded due to resourcequota issue.",
        "New pods are blocked by the namespace quota after the upgrade.",
        "The ResourceQuota is full, so the Job creates no pods.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::QuotaExceeded, "{m}");
    }
    assert!(
        !rules_hit("We set a ResourceQuota on every namespace; pods run fine.")
            .contains(&"described-quota")
    );
    let quoted = "Error creating: pods \"w\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=5, limited: pods=5. The quota is full.";
    assert_eq!(rules_hit(quoted), ["quota"]);
}

/// The cordon taint (`node.kubernetes.io/unschedulable`) quoted bare is a cordoned node,
/// not a taint the pod should tolerate; any other bare taint stays a taint.
#[test]
fn the_bare_cordon_taint_is_a_cordoned_node() {
    let cordon = "kubectl describe node gpu-7 | grep Taints\nnode.kubernetes.io/unschedulable:NoSchedule\nthe debug pod pinned to gpu-7 stays Pending";
    let found = merge(scan(cordon));
    assert_eq!(found[0].class, Class::UnschedulableNodes, "{found:?}");
    let other = "kubectl describe node gpu-7 | grep Taints\nnvidia.com/gpu=present:NoSchedule\nthe pod stays Pending";
    assert_eq!(merge(scan(other))[0].class, Class::UntoleratedTaint);
}

/// The cluster-autoscaler's status ConfigMap showing no scale-up activity while a pod is
/// pending; the same status with no pending pod says nothing.
#[test]
fn autoscaler_status_with_no_scale_up_activity_beside_a_pending_pod() {
    let status = "kubectl -n kube-system get cm cluster-autoscaler-status -o yaml\n  NodeGroups:\n    Name:        eks-workers-2a\n    ScaleUp:     NoActivity (ready=3 cloudProviderTarget=3)\nThe 16Gi pod has been Pending for an hour.";
    let found = merge(scan(status));
    assert_eq!(found[0].class, Class::NoScaleUp, "{found:?}");
    assert_eq!(rules_hit(status), ["described-no-scale-up"]);
    let idle = "Cluster-autoscaler status:\n  ScaleUp:     NoActivity (ready=3 registered=3)\n  ScaleDown:   NoCandidates";
    assert!(rules_hit(idle).is_empty());
}

/// A node autoscaler said not to add nodes in words strong enough without "pending": a
/// scale-up not triggered, nodes not added, a group at (or past) its maximum.
#[test]
fn no_scale_up_told_plainly_needs_no_pending_pod() {
    for m in [
        "With minSize 0 on the arm64 node pool, a scale-up is never triggered; the autoscaler log says the pod would not fit.",
        "Expected: Karpenter adds capacity for the batch job.\nActual: no new nodes were launched.",
        "cluster-autoscaler gives up: the ASG is already at its maximum size and the computed size exceeds the max",
        "The autoscaler didn't trigger a scale-up for the GPU node group.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::NoScaleUp, "{m}: {found:?}");
    }
    // No autoscaler, node group or ASG named: not this rule.
    assert!(
        !rules_hit("Nodes were not added to the load balancer target group.")
            .contains(&"described-no-scale-up")
    );
    // The weak wording still needs a pending pod.
    assert!(
        !rules_hit("The cluster autoscaler does not remove idle nodes in the node group.")
            .contains(&"described-no-scale-up")
    );
}

/// Drained or all-cordoned nodes told in words: a drain beside pods that cannot be
/// scheduled, and "every node cordoned" alone.
#[test]
fn drained_or_all_cordoned_nodes_told_in_words() {
    for m in [
        "We drained worker-3 for the kernel update and the operator's pod now stays Pending.",
        "The remediation controller cordoned every one of the nodes overnight.",
        "After the nodes were drained, the database pods cannot be scheduled anywhere.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::UnschedulableNodes, "{m}: {found:?}");
    }
    for m in [
        "We drained the node and every pod moved to the others; all Running.",
        "Draining the queue took an hour.",
    ] {
        assert!(!rules_hit(m).contains(&"described-cordon"), "{m}");
    }
}

/// A zonal volume beside pods that cannot be scheduled, or with no node left in its zone.
#[test]
fn volume_pinned_to_a_zone_told_in_words() {
    for m in [
        "The PV has a node affinity for zone us-central1-c and all our nodes are in us-central1-a, so the pod is pending.",
        "our EBS volume sits in eu-central-1b; after the node group shrank there is no node in that zone any more",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::VolumeBinding, "{m}: {found:?}");
    }
    for m in [
        "The volume in zone a mounts fine and the pod is Running.",
        "0/3 nodes are available: 3 node(s) had volume node affinity conflict. The PV is in zone b.",
    ] {
        assert!(!rules_hit(m).contains(&"described-volume-zone"), "{m}");
    }
}

/// A quota shown beside a Deployment whose ReplicaSet creates no pods, with the creation
/// error not quoted.
#[test]
fn quota_beside_a_replicaset_that_creates_no_pods() {
    let m = "kubectl describe quota compute -n team-a\nResource         Used   Hard\n--------         ----   ----\nlimits.memory    3Gi    4Gi\n\nkubectl describe deploy api\n  ReplicaFailure   True    FailedCreate\nNewReplicaSet:   api-7c9f (0/2 replicas created)";
    assert_eq!(merge(scan(m))[0].class, Class::QuotaExceeded);
    // FailedCreate with no quota in sight, or with its error quoted, is not this reading.
    for m in [
        "ReplicaFailure   True    FailedCreate\nNewReplicaSet:   api-7c9f (0/2 replicas created)",
        "ResourceQuota compute exists.\nWarning FailedCreate replicaset-controller Error creating: pods \"api-1\" is forbidden: error looking up service account team-a/api",
    ] {
        assert!(!rules_hit(m).contains(&"described-quota"), "{m}");
    }
}

/// A LimitRange bound told to be crossed; a quoted LimitRange message is left to its rule,
/// a LimitRange merely mentioned is no finding.
#[test]
fn limit_range_bound_told_in_words() {
    for m in [
        "I set min cpu 200m in the LimitRange and the sidecar asks 50m, which is below the minimum, so the pod is never created.",
        "Requests exceeding the max of the limit range get the ReplicaSet stuck.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::LimitRange, "{m}");
    }
    for m in [
        "We have a LimitRange with default requests; the pods run.",
        "LimitRange: maximum cpu usage per Container is 2, but limit is 4; greater than the max",
    ] {
        assert!(!rules_hit(m).contains(&"described-limit-range"), "{m}");
    }
}

/// A policy engine told to block pods; the engine named without a blocked pod, or a quoted
/// webhook denial, is not this rule.
#[test]
fn policy_engine_told_to_block_pods() {
    for m in [
        "Since we enabled Kyverno in enforce mode, the pods of the job are being rejected.",
        "PSP blocks the pods: the DaemonSet shows 0 desired scheduled.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::PolicyDenied, "{m}");
    }
    for m in [
        "Kyverno is installed and the pods run.",
        "The pod is denied by the network firewall.",
        "admission webhook \"validate.kyverno.svc\" denied the request: the pods are blocked",
    ] {
        assert!(!rules_hit(m).contains(&"described-policy"), "{m}");
    }
}

/// Capacity told as a request above what one machine has.
#[test]
fn requests_above_a_machine_told_in_words() {
    let m = "The Job asks for 64 CPUs, which exceeds the capacity of any node we have, so its pod stays Pending.";
    assert_eq!(merge(scan(m))[0].class, Class::InsufficientResources);
    assert!(
        !rules_hit("The log volume exceeds the size of the disk.").contains(&"described-capacity")
    );
}
