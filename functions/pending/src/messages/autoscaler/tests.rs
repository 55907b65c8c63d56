use super::*;

#[test]
fn cluster_autoscaler_current_and_old_shapes() {
    let Some(AutoscalerSignal::NoScaleUp {
        reasons, at_limit, ..
    }) = parse_autoscaler(
        "Normal NotTriggerScaleUp 2m cluster-autoscaler pod didn't trigger scale-up: 12 node(s) didn't match Pod's node affinity/selector, 3 max node group size reached",
    )
    else {
        panic!()
    };
    assert_eq!(reasons.len(), 2);
    assert!(at_limit);
    let Some(AutoscalerSignal::NoScaleUp {
        reasons, at_limit, ..
    }) = parse_autoscaler(
        "pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 Insufficient memory",
    )
    else {
        panic!()
    };
    assert_eq!(reasons, vec![(1, "Insufficient memory".to_owned())]);
    assert!(!at_limit);
    assert!(matches!(
        parse_autoscaler(
            "pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 max limit reached"
        ),
        Some(AutoscalerSignal::NoScaleUp { at_limit: true, .. })
    ));
}

/// A NotTriggerScaleUp message cut after its colon (a describe table's column, a closing
/// code fence) names no reason: none is made up from the punctuation that follows, and the
/// scheduler's own reason leads the report.
#[test]
fn a_no_scale_up_cut_after_its_colon_has_no_reasons() {
    let Some(AutoscalerSignal::NoScaleUp { reasons, .. }) = parse_autoscaler(
        "Normal   NotTriggerScaleUp  4m17s  cluster-autoscaler  pod didn't trigger scale-up: ``` ---",
    ) else {
        panic!()
    };
    assert!(reasons.is_empty(), "{reasons:?}");
    crate::messages::tests::assert_first(
        lastmile_events::Class::NodeAffinity,
        &[
            "Events:\n  Warning  FailedScheduling   4m19s  default-scheduler   0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.\n  Normal   NotTriggerScaleUp  4m17s  cluster-autoscaler  pod didn't trigger scale-up:\n```",
        ],
    );
}

/// The autoscaler's simulation fits the pod on an existing node (which the scheduler
/// rejects), so it adds none.
#[test]
fn a_pod_the_simulation_places_on_an_existing_node_gets_no_scale_up() {
    let line = "I0412 10:02:11.123456       1 filter_out_schedulable.go:123] Pod batch/etl-7f9c marked as unschedulable can be scheduled on node ip-10-0-3-17.ec2.internal (based on hinting). Ignoring in scale up.";
    assert!(matches!(
        parse_autoscaler(line),
        Some(AutoscalerSignal::NoScaleUp {
            at_limit: false,
            ..
        })
    ));
}

/// GKE's visibility event for a pod no node pool would fit.
#[test]
fn gke_no_scale_up_event() {
    let event = r#"{"noDecisionStatus": {"noScaleUp": {"unhandledPodGroups": [{"podGroup": {"samplePod": {"name": "trainer-0"}}, "rejectedMigs": [{"mig": {"name": "gke-ml-pool-1"}, "reason": {"messageId": "no.scale.up.mig.failing.predicate", "parameters": ["NodeResourcesFit", "Insufficient nvidia.com/gpu"]}}]}]}}}"#;
    assert!(matches!(
        parse_autoscaler(event),
        Some(AutoscalerSignal::NoScaleUp { .. })
    ));
}

#[test]
fn triggered_scale_up_is_progress() {
    assert!(matches!(
        parse_autoscaler(
            "Normal TriggeredScaleUp pod triggered scale-up: [{eks-ci-pool-1a 2->4 (max: 10)}]"
        ),
        Some(AutoscalerSignal::ScaleUpTriggered { .. })
    ));
}

#[test]
fn karpenter_nodepools_and_reasons() {
    let m = r#"Failed to schedule pod, incompatible with nodepool "gpu", daemonset overhead={"cpu":"200m","pods":"3"}, did not tolerate nvidia.com/gpu=true:NoSchedule; incompatible with nodepool "default", daemonset overhead={"cpu":"200m","pods":"3"}, no instance type satisfied resources {"cpu":"96","memory":"400Gi","pods":"4"} and requirements karpenter.sh/capacity-type In [on-demand spot]"#;
    let Some(AutoscalerSignal::NoScaleUp {
        by, pools, reasons, ..
    }) = parse_autoscaler(m)
    else {
        panic!()
    };
    assert_eq!(by, "karpenter");
    assert_eq!(pools, vec!["gpu", "default"]);
    assert_eq!(reasons.len(), 2);
}

#[test]
fn karpenter_restricted_label() {
    let m = r#"{"level":"DEBUG","logger":"controller.provisioner","message":"ignoring pod, label karpenter.sh/provisioner-name is restricted; specify a well known label: [karpenter.k8s.aws/instance-category ..."#;
    let Some(AutoscalerSignal::NoScaleUp { reasons, .. }) = parse_autoscaler(m) else {
        panic!()
    };
    assert_eq!(
        classify_reason(&reasons[0].1).class(),
        Some(lastmile_events::Class::NodeAffinity)
    );
}

/// The cluster-autoscaler's own log lines, pasted instead of the pod's event.
#[test]
fn cluster_autoscaler_log_lines() {
    for (line, limit) in [
        (
            "I0312 08:14:02.118148       1 scale_up.go:116] Skipping node group eks-workers-1a - max size reached",
            true,
        ),
        (
            "I0312 08:14:02.118150       1 orchestrator.go:188] Scale-up: group ng-spot would exceed max size",
            true,
        ),
        (
            "I0312 08:14:02.118200       1 scale_up.go:186] No expansion options",
            false,
        ),
    ] {
        let Some(AutoscalerSignal::NoScaleUp { by, at_limit, .. }) = parse_autoscaler(line) else {
            panic!("{line}")
        };
        assert_eq!(by, "cluster-autoscaler");
        assert_eq!(at_limit, limit, "{line}");
    }
    assert!(parse_autoscaler("I0312 1 scale_up.go:92] Upcoming 0 nodes").is_none());
}

/// The cluster-autoscaler checking the pod against a node group's template: the group it
/// names will not be grown for the pod, whatever the predicate (here a node selector).
#[test]
fn cluster_autoscaler_template_predicate_checks() {
    for line in [
        "I1104 09:12:44.310021       1 orchestrator.go:541] Pod ci/runner-5d8f9-xk2p can't be scheduled on gpu-pool-b, predicate checking error: node(s) didn't match Pod's node affinity/selector; predicateName=NodeAffinity; reasons: node(s) didn't match Pod's node affinity/selector; debugInfo=",
        "I1104 09:12:44.310090       1 pod_schedulable.go:157] Pod runner-5d8f9-xk2p can't be scheduled on gpu-pool-b. Used cached predicate check results",
    ] {
        let Some(AutoscalerSignal::NoScaleUp { by, at_limit, .. }) = parse_autoscaler(line) else {
            panic!("{line}")
        };
        assert_eq!(by, "cluster-autoscaler");
        assert!(!at_limit);
    }
    // The scheduler's own "can't be scheduled" wording without a predicate check is not
    // the autoscaler's.
    assert!(parse_autoscaler("the pod can't be scheduled on any node yet").is_none());
}

/// The older cluster-autoscaler's wording of the same template check (scale_up.go):
/// "predicate mismatch, cannot put POD on template-node-for-GROUP, reason: …". The group's
/// template does not fit the pod (a selector, a port, a resource the template lacks), so
/// the group is not grown; "cannot put" in prose is not it.
#[test]
fn older_template_predicate_mismatch_is_no_scale_up() {
    let line = "I0922 07:41:10.552 1 scale_up.go:118] Scale-up predicate failed: MatchNodeSelector predicate mismatch, cannot put ml/trainer-7c9d-2kq on template-node-for-ng-highmem.eu-central-1-551234, reason: node(s) didn't match node selector";
    let Some(AutoscalerSignal::NoScaleUp { by, reasons, .. }) = parse_autoscaler(line) else {
        panic!("{line}")
    };
    assert_eq!(by, "cluster-autoscaler");
    assert_eq!(
        reasons,
        vec![(1, "node(s) didn't match node selector".to_owned())]
    );
    assert!(
        parse_autoscaler("We cannot put more replicas on these nodes; the new pods are Pending.")
            .is_none()
    );
}

/// The simulation's verdict quoted without the pod and node group it was about.
#[test]
fn a_bare_predicate_checking_error_is_the_autoscaler_s() {
    let Some(AutoscalerSignal::NoScaleUp { by, reasons, .. }) = parse_autoscaler(
        "I0412 10:01:02 orchestrator.go:123] predicate checking error: Insufficient nvidia.com/gpu; predicateName=NodeResourcesFit",
    ) else {
        panic!("not read");
    };
    assert_eq!(by, "cluster-autoscaler");
    assert_eq!(reasons, vec![(1, "Insufficient nvidia.com/gpu".to_owned())]);
}

/// The per-group verbose verdicts: no pod fits a group's template, no node estimated.
#[test]
fn per_group_verbose_verdicts_are_no_scale_up() {
    for line in [
        "I0301 12:00:01.123 scale_up.go:300] No pod can fit to eks-gpu-20240301",
        "I0301 12:00:01.456 orchestrator.go:410] Estimated 0 nodes needed in eks-spot-large",
    ] {
        assert!(
            matches!(
                parse_autoscaler(line),
                Some(AutoscalerSignal::NoScaleUp { .. })
            ),
            "{line}"
        );
    }
}

/// A provisioner whose every instance type is too small once the DaemonSets' overhead is
/// counted, in its log shapes across versions: it launches nothing for the pods.
#[test]
fn instance_types_too_small_after_daemonset_overhead_is_no_scale_up() {
    for line in [
        "DEBUG provisioner Excluding instance type c6i.large because there are not enough resources for daemons",
        "ERROR controller.provisioning Failed to find instance type option(s) for [batch/etl-0 batch/etl-1]",
        "could not schedule pod, no instance types satisfy the pod's requests plus daemonset overhead",
        "unable to provision: could not find any instance type with enough capacity for the pod and the daemons",
    ] {
        let Some(AutoscalerSignal::NoScaleUp { by, reasons, .. }) = parse_autoscaler(line) else {
            panic!("{line}")
        };
        assert_eq!(by, "karpenter", "{line}");
        assert!(!reasons.is_empty(), "{line}");
    }
    assert!(
        parse_autoscaler("the daemonset pods were scheduled on every instance type we use")
            .is_none()
    );
}

#[test]
fn every_verdict_anchor_is_in_the_prefilter() {
    // Each literal the parser starts a verdict from must pass the prefilter, or that
    // verdict would silently stop being read.
    let source = include_str!("../autoscaler.rs");
    let body = &source[source
        .find("pub fn parse_autoscaler")
        .expect("the parser is in the file")..];
    let locators = ["pod ", "reason: ", "label", "schedule pod"];
    let mut checked = 0;
    for piece in body.split(".find(\"").skip(1) {
        let literal = piece.split('"').next().unwrap_or_default();
        if locators.contains(&literal) {
            continue;
        }
        assert!(ANCHORS.is_match(literal), "{literal:?} is not in ANCHORS");
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} anchors found in the parser");
    for marker in CA_MARKERS.iter().chain(KARPENTER).chain(LAUNCH_CAPACITY) {
        let line = format!("Warning  Event  pod/ci/p-0  {marker} for the pod");
        assert!(parse_autoscaler(&line).is_some(), "{marker:?}");
        assert!(
            parse_autoscaler(&line.to_uppercase()).is_some(),
            "{marker:?} upper"
        );
    }
    assert_eq!(
        parse_autoscaler("0/3 nodes are available: 3 Insufficient cpu."),
        None
    );
}

/// A provisioner's cloud launch that failed for want of cloud capacity (a stockout), told
/// by any provisioner or cloud, is a refused scale-up, not a scheduler capacity verdict.
#[test]
fn cloud_stockout_at_launch_is_no_scale_up() {
    for line in [
        "ERROR controller.provisioner Could not launch node, launching instances, with fleet error(s), InsufficientInstanceCapacity: We currently do not have sufficient p3.8xlarge capacity in the Availability Zone you requested (us-east-1a).",
        "Instance 'gke-ml-pool-3f1a' creation failed: The zone 'projects/p/zones/us-central1-a' does not have enough resources available to fulfill the request. ZONE_RESOURCE_POOL_EXHAUSTED",
        "VMSS scale out failed: Code=\"SkuNotAvailable\" Message=\"The requested size for resource is currently not available in location 'westeurope'\"",
    ] {
        let Some(AutoscalerSignal::NoScaleUp {
            reasons, at_limit, ..
        }) = parse_autoscaler(line)
        else {
            panic!("{line}")
        };
        assert_eq!(reasons, vec![(1, CLOUD_STOCKOUT.to_owned())], "{line}");
        assert!(!at_limit, "{line}");
    }
    let karpenter = r#"{"level":"ERROR","message":"failed launching nodeclaim","NodeClaim":{"name":"batch-x2"},"error":"insufficient capacity, all requested instance types were unavailable during launch"}"#;
    assert!(matches!(
        parse_autoscaler(karpenter),
        Some(AutoscalerSignal::NoScaleUp {
            by: "karpenter",
            ..
        })
    ));
    let found = crate::messages::merge(crate::messages::scan(karpenter));
    assert_eq!(found[0].class, lastmile_events::Class::NoScaleUp);
    // The cluster-autoscaler's own resize failure keeps its reading.
    assert!(matches!(
        parse_autoscaler("Failed to increase node group size: InsufficientInstanceCapacity"),
        Some(AutoscalerSignal::NoScaleUp { by: "cluster-autoscaler", ref reasons, .. }) if reasons.is_empty()
    ));
}

/// A node group's resize refused by the cloud provider or the group's own bounds
/// (`FailedToScaleUpGroup`), in any provider's wording.
#[test]
fn group_resize_refused_is_no_scale_up() {
    for line in [
        "Warning  FailedToScaleUpGroup  3m  cluster-autoscaler  Scale-up failed for group https://www.googleapis.com/compute/v1/projects/p/zones/z/instanceGroups/gke-pool-1: Quota 'CPUS' exceeded.",
        "I1102 scale_up.go:87] Target size 3 requested outside Max: 12, Min: 4 for node group workers",
    ] {
        assert!(
            matches!(
                parse_autoscaler(line),
                Some(AutoscalerSignal::NoScaleUp { .. })
            ),
            "{line}"
        );
    }
    assert_eq!(
        parse_autoscaler("Normal SuccessfulScaleUp group workers scaled up to 5"),
        None
    );
}

/// "pod didn't trigger scale-up:" cut after the colon says nothing about why; the older
/// wording's parenthesis, with no list after it, still says no new node would take the pod.
#[test]
fn the_older_wordings_parenthesis_is_a_reason_an_empty_list_is_not() {
    let signal = |t: &str| parse_autoscaler(t).unwrap();
    assert!(
        signal("Normal NotTriggerScaleUp 51s cluster-autoscaler pod didn't trigger scale-up:")
            .gives_no_reason()
    );
    assert!(
        !signal("Normal NotTriggerScaleUp 51s (x23 over 6m) cluster-autoscaler pod didn't trigger scale-up (it wouldn't fit if a new node is added)")
            .gives_no_reason()
    );
}
