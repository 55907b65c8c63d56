#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::tests::{assert_first, assert_silent};
use crate::messages::{merge, scan};

/// Claims listed Pending by `kubectl get pvc`; Bound claims and pod tables are not.
#[test]
fn pending_claims_in_a_pvc_table() {
    let bound = "NAME    STATUS   VOLUME     CAPACITY   ACCESS MODES\ndata-0  Bound    pvc-1234   10Gi       RWO";
    assert!(!rules_hit(bound).contains(&"pending-claims"));
    let pods = "NAME    READY   STATUS    RESTARTS   AGE\nweb-0   0/1     Pending   0          3m";
    assert!(!rules_hit(pods).contains(&"pending-claims"));
}

/// A DaemonSet `kubectl get ds` shows wanting no pod selects no node; one with pods, or a
/// Deployment's table, is not this.
#[test]
fn a_daemonset_that_wants_no_pod_selects_no_node() {
    let empty = "$ kubectl get ds -n monitoring\nNAME            DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR              AGE\nnode-exporter   0         0         0       0            0           node-role/metrics=true   12m";
    assert_first(Class::NodeAffinity, &[empty]);
    let running = "NAMESPACE     NAME            DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE\nkube-system   node-exporter   3         3         3       3            3           <none>          12m";
    assert!(!rules_hit(running).contains(&"empty-daemonset"));
    let deployments =
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    0/0     0            0           5m";
    assert!(!rules_hit(deployments).contains(&"empty-daemonset"));
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
        "Our inference pod is Pending because the node's only nvidia.com/gpu is held by an existing training job.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::InsufficientResources, "{m}");
        assert!(!found[0].definitive, "{m}");
    }
    assert_silent(
        "described-capacity",
        &[
            "the container was killed: not enough memory in the container",
            "the cluster has enough resources, the pod is Running",
            "Pending: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. Not enough resources in the cluster either?",
        ],
    );
}

/// A node autoscaler described as not adding nodes beside a pending pod.
#[test]
fn no_scale_up_told_in_words() {
    for m in [
        "I have a nodegroup (min 0, max 3) that could run the pod, but the autoscaler doesn't seem to agree.\nStatus: Pending",
        "Pods stay Pending for an hour and Karpenter never launches a node.",
        "The workers node pool is at 2 nodes; pods are pending but no scale up happens.",
        // Pods called by the autoscalers' own word for waiting pods.
        "With one node dead the cluster-autoscaler does not add capacity, though 40 pods remain unscheduled.",
    ] {
        assert_eq!(merge(scan(m))[0].class, Class::NoScaleUp, "{m}");
    }
    assert_silent(
        "described-no-scale-up",
        &[
            "The autoscaler doesn't matter here, the pod is Running.",
            "Pods are pending and nothing scales up.",
            "The autoscaler did not scale up during the unscheduled maintenance window; all pods Running.",
        ],
    );
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
    assert_silent(
        "described-cordon",
        &[
            "I uncordoned node-2 and the Pending pods are still Pending.",
            "The node is cordoned for maintenance; all pods are Running elsewhere.",
        ],
    );
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
    assert_first(
        Class::NoScaleUp,
        &[
            "With minSize 0 on the arm64 node pool, a scale-up is never triggered; the autoscaler log says the pod would not fit.",
            "Expected: Karpenter adds capacity for the batch job.\nActual: no new nodes were launched.",
            "cluster-autoscaler gives up: the ASG is already at its maximum size and the computed size exceeds the max",
            "The autoscaler didn't trigger a scale-up for the GPU node group.",
        ],
    );
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
    assert_first(
        Class::UnschedulableNodes,
        &[
            "We drained worker-3 for the kernel update and the operator's pod now stays Pending.",
            "The remediation controller cordoned every one of the nodes overnight.",
            "After the nodes were drained, the database pods cannot be scheduled anywhere.",
        ],
    );
    assert_silent(
        "described-cordon",
        &[
            "We drained the node and every pod moved to the others; all Running.",
            "Draining the queue took an hour.",
        ],
    );
}

/// A zonal volume beside pods that cannot be scheduled, or with no node left in its zone.
#[test]
fn volume_pinned_to_a_zone_told_in_words() {
    assert_first(
        Class::VolumeBinding,
        &[
            "The PV has a node affinity for zone us-central1-c and all our nodes are in us-central1-a, so the pod is pending.",
            "our EBS volume sits in eu-central-1b; after the node group shrank there is no node in that zone any more",
        ],
    );
    assert_silent(
        "described-volume-zone",
        &[
            "The volume in zone a mounts fine and the pod is Running.",
            "0/3 nodes are available: 3 node(s) had volume node affinity conflict. The PV is in zone b.",
        ],
    );
}

/// A quota shown beside a Deployment whose ReplicaSet creates no pods, with the creation
/// error not quoted.
#[test]
fn quota_beside_a_replicaset_that_creates_no_pods() {
    let m = "kubectl describe quota compute -n team-a\nResource         Used   Hard\n--------         ----   ----\nlimits.memory    3Gi    4Gi\n\nkubectl describe deploy api\n  ReplicaFailure   True    FailedCreate\nNewReplicaSet:   api-7c9f (0/2 replicas created)";
    assert_eq!(merge(scan(m))[0].class, Class::QuotaExceeded);
    // FailedCreate with no quota in sight, or with its error quoted, is not this reading.
    assert_silent(
        "described-quota",
        &[
            "ReplicaFailure   True    FailedCreate\nNewReplicaSet:   api-7c9f (0/2 replicas created)",
            "ResourceQuota compute exists.\nWarning FailedCreate replicaset-controller Error creating: pods \"api-1\" is forbidden: error looking up service account team-a/api",
        ],
    );
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
    assert_silent(
        "described-limit-range",
        &[
            "We have a LimitRange with default requests; the pods run.",
            "LimitRange: maximum cpu usage per Container is 2, but limit is 4; greater than the max",
        ],
    );
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
    assert_silent(
        "described-policy",
        &[
            "Kyverno is installed and the pods run.",
            "The pod is denied by the network firewall.",
            "admission webhook \"validate.kyverno.svc\" denied the request: the pods are blocked",
        ],
    );
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

/// Containers told to set no requests or limits in a namespace with a quota, in other
/// words than "must specify"; set resources beside a quota, or unset ones with no quota,
/// are not this reading.
#[test]
fn unset_requests_under_a_quota_told_in_words() {
    for m in [
        "The injected proxy sidecar has no cpu limits, and our namespace has a ResourceQuota on limits.cpu, so the ReplicaSet can't create pods.",
        "Our Job's init container doesn't set resource requests; with the team quota in place the Job never gets a pod.",
        "quota on the namespace; the migration hook's limits are not set and nothing starts",
        "the pre-install hook Job has no resources defined and the namespace enforces a quota, so it never gets a pod",
        "values.yaml for the exporter sidecar:\n  resources: {}\nand the namespace has a ResourceQuota; ReplicaSet shows FailedCreate",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::QuotaExceeded, "{m}: {found:?}");
        assert!(found[0].confidence >= 0.7, "{m}");
    }
    for m in [
        "we have a resource quota and every container sets requests and limits; pods run",
        "the sidecar has no cpu limits and the pod is OOMKilled",
    ] {
        assert!(
            merge(scan(m))
                .iter()
                .all(|f| f.confidence < 0.7 || f.class != Class::QuotaExceeded),
            "{m}"
        );
    }
}

/// A node group at (or scaling from) zero said not to scale up, with no pod said to be
/// pending: the template-from-zero reading; a group at zero that scales fine is none.
#[test]
fn a_group_scaling_from_zero_said_not_to_scale_up() {
    assert_first(
        Class::NoScaleUp,
        &[
            "Our GPU node pool has minSize: 0 and the cluster autoscaler never adds a node for the training job.",
            "karpenter-less EKS: the spot ASG is scaled to zero and cluster-autoscaler doesn't scale it up for the batch pods",
            "Node group with desired size set to 0 does not scale up when I submit the job, the one with min size 1 works",
            "GKE: the autoscaler doesn't scale-from-zero our zero-node pool for the GPU workload",
        ],
    );
    assert!(
        merge(scan(
            "the ASG scales from zero and the autoscaler adds a node within two minutes"
        ))
        .is_empty()
    );
}

/// A volume in one named zone while the pod's nodes are in another, told in words (AWS and
/// GCP zone names); one zone named, or a volume beside running pods, is no finding.
#[test]
fn a_volume_in_one_named_zone_and_the_pod_s_nodes_in_another() {
    assert_first(
        Class::VolumeBinding,
        &[
            "The PV was created in europe-west1-c but our nodeSelector sends the pod to the pool in europe-west1-b, so it is stuck.",
            "Postgres can't be started: its EBS disk lives in us-west-2a while the only node group it may use is in us-west-2c.",
        ],
    );
    for m in [
        "The PV was created in europe-west1-c and the pod runs fine there.",
        "the volume is in us-east-1a; the pod is stuck on a bad readiness probe",
    ] {
        assert!(
            merge(scan(m))
                .iter()
                .all(|f| f.class != Class::VolumeBinding),
            "{m}"
        );
    }
}

/// A port told to be held on the nodes by a per-node workload (load balancer DaemonSet,
/// ingress controller), beside pending pods, without hostPort named; a process in a
/// container failing to bind is not a scheduling matter.
#[test]
fn a_port_held_on_the_nodes_told_in_words() {
    assert_first(
        Class::HostPorts,
        &[
            "The ingress controller pods stay Pending because ports 80 and 443 are already taken on every node by the ServiceLB pods.",
            "new node-local-dns pods are pending; the old load balancer DaemonSet still holds port 53",
        ],
    );
    let m = "pod pending then crashing: listen tcp :8080: bind: address already in use, port 8080 is already in use on the node";
    assert!(
        merge(scan(m)).iter().all(|f| f.class != Class::HostPorts),
        "{m}"
    );
}

/// The replacement of a pod on a lost node stays Pending beside Ready nodes: one replica
/// per healthy node already (a required anti-affinity), in a table or in words.
#[test]
fn a_replacement_pending_beside_a_lost_node_is_one_replica_per_node() {
    assert_first(
        Class::PodAffinity,
        &[
            "We shut down one worker node to test failover.\n$ kubectl get po -n prod\nNAME                    READY   STATUS        RESTARTS   AGE\napi-6d9f7c8b5-x2kqp     1/1     Terminating   0          2h\napi-6d9f7c8b5-7hzlm     0/1     Pending       0          4m\napi-6d9f7c8b5-q8wfd     1/1     Running       0          2h",
            "When a node goes down the old keycloak pod is stuck in Terminating and the new replica stays Pending for ever, even though two nodes are healthy.",
            "Simulating a node failure: the old pod sits in Unknown while the new one is pending, the two other nodes are fine.",
        ],
    );
    // Every node down is the not-ready taint; no lost node is nothing of this.
    for m in [
        "kubectl get nodes\nNAME  STATUS     ROLES   AGE  VERSION\nn1    NotReady   worker  2d   v1.27.3\n\nkubectl get pods\nNAME              READY  STATUS   RESTARTS  AGE\nweb-5f7d8-abcde   1/1    Unknown  0         1h\nweb-5f7d8-fghij   0/1    Pending  0         2m",
        "the old pod is Terminating and the new pod is Pending during a rolling update",
    ] {
        assert!(
            merge(scan(m)).iter().all(|f| f.class != Class::PodAffinity),
            "{m}"
        );
    }
}

/// A cluster with no node at all, told by an empty `kubectl get nodes` or in words, beside
/// pods that do not start; a namespaced empty listing, a label-selector query and "no nodes
/// with …" are not it.
#[test]
fn a_cluster_with_no_nodes_told_in_words() {
    for m in [
        "After terraform apply every pod is Pending. `kubectl get nodes` returns nothing at all, though the console shows three instances.",
        "Our new cluster has no worker nodes yet and coredns is stuck in Pending.",
        "No node has ever joined the cluster, so the ingress controller never starts.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::NoNodes, "{m}");
    }
    assert_silent(
        "described-no-nodes",
        &[
            "kubectl get pods -n web\nNo resources found in web namespace.\nThe web deployment is Pending.",
            "kubectl get nodes -l gpu=true returns nothing, and my trainer pod is Pending.",
            "The cluster has no nodes with a GPU, so the pod stays Pending.",
            "kubectl get nodes\nNAME   STATUS   ROLES    AGE   VERSION\nw-1    Ready    <none>   3d    v1.29.2\nno nodes were added and the pod is Pending",
        ],
    );
}

/// A gang scheduler holding a pod group for lack of room (Volcano's condition and event, the
/// coscheduling plugin's words) is capacity for the group together.
#[test]
fn a_gang_scheduler_holding_a_pod_group_is_capacity() {
    for text in [
        "Conditions:\n    Message:               1/1 tasks in gang unschedulable: pod group is not ready, 1 Pending, 1 minAvailable.\n    Reason:                NotEnoughResources\n    Type:                  Unschedulable",
        "Warning  Unschedulable  2m  volcano  3/4 tasks in gang unschedulable: pod group is not ready, 4 Pending, 4 minAvailable",
        "the pods in pod group train-a are unschedulable: not enough resources for all 8 workers",
    ] {
        assert_first(Class::InsufficientResources, &[text]);
    }
    assert!(!rules_hit("the pod group controller is healthy").contains(&"gang-unschedulable"));
}
