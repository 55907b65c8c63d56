//! Message-level diagnosis through `handle` with text-only incidents (what `lastmile
//! explain` builds): real reports, every reference format, and messy input.

use lastmile_events::{Class, IncidentFamily, KubeEvent, ObjectRef};

use crate::support::{classes, run, text_incident};

fn first(text: &str) -> String {
    let o = run(&text_incident(text));
    o.diagnoses
        .first()
        .map(|d| d.class.as_str().to_owned())
        .unwrap_or_else(|| "(none)".into())
}

#[test]
fn real_dev_reports_first_class_is_accepted() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-failures-dev-pending.jsonl");
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut hits = 0;
    let mut misses = Vec::new();
    let mut total = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("json line");
        let accept: Vec<&str> = case["accept"]
            .as_array()
            .expect("accept")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let got = first(case["input"].as_str().expect("input"));
        total += 1;
        if accept.contains(&got.as_str()) {
            hits += 1;
        } else {
            misses.push(format!("{}: got {got}, accept {accept:?}", case["id"]));
        }
    }
    eprintln!("dev cases (pending family): {hits}/{total} first-class hits; misses: {misses:#?}");
    assert_eq!(hits, total, "misses: {misses:#?}");
}

#[test]
fn other_families_dev_reports_do_not_get_a_confident_pending_class() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-failures-dev-other.jsonl");
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut confident = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("json line");
        let o = run(&text_incident(case["input"].as_str().expect("input")));
        if let Some(d) = o.diagnoses.iter().find(|d| d.confidence >= 0.5) {
            confident.push(format!("{}: {} {:.2}", case["id"], d.class, d.confidence));
        }
    }
    assert!(
        confident.is_empty(),
        "image/init/job/build reports read as pending causes: {confident:#?}"
    );
}

#[test]
fn every_reference_fit_error_shape_gets_its_class() {
    let cases = [
        (
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
            Class::INSUFFICIENT_RESOURCES,
        ),
        (
            "0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
            Class::VOLUME_BINDING,
        ),
        (
            "0/5 nodes are available: 3 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector.",
            Class::INSUFFICIENT_RESOURCES,
        ),
        (
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            Class::VOLUME_BINDING,
        ),
        (
            "No nodes are available that match all of the following predicates:: Insufficient cpu (1).",
            Class::INSUFFICIENT_RESOURCES,
        ),
        ("no nodes available to schedule pods", Class::NO_NODES),
        (
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            Class::INSUFFICIENT_RESOURCES,
        ),
        (
            "running PreFilter plugin \"VolumeBinding\": error getting PVC \"ci/data\": could not find v1.PersistentVolumeClaim \"ci/data\"",
            Class::VOLUME_BINDING,
        ),
        (
            "0/17 nodes are available: 17 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/17 nodes are available: 17 Preemption is not helpful for scheduling.",
            Class::UNTOLERATED_TAINT,
        ),
        (
            // The one node the affinity allows is full: capacity is what blocks (issue 15).
            "0/46 nodes are available: 1 Too many pods, 45 node(s) didn't satisfy plugin(s) [NodeAffinity].",
            Class::INSUFFICIENT_RESOURCES,
        ),
        (
            "0/4 nodes are available: 4 node(s) were unschedulable.",
            Class::UNSCHEDULABLE_NODES,
        ),
        (
            "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.",
            Class::HOST_PORTS,
        ),
        (
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
            Class::POD_AFFINITY,
        ),
        (
            "0/6 nodes are available: 6 node(s) didn't match pod topology spread constraints (missing required label).",
            Class::POD_AFFINITY,
        ),
        (
            "0/2 nodes are available: 2 node(s) had no available volume zone.",
            Class::VOLUME_BINDING,
        ),
        (
            "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: ci}.",
            Class::UNTOLERATED_TAINT,
        ),
        (
            "0/3 nodes are available: 3 node(s) had taints that the pod didn't tolerate.",
            Class::UNTOLERATED_TAINT,
        ),
        (
            "0/2 nodes are available: 2 node(s) didn't match node selector.",
            Class::NODE_AFFINITY,
        ),
        (
            "0/1 nodes are available: 1 node(s) didn't match the requested node name.",
            Class::NODE_AFFINITY,
        ),
        (
            "0/9 nodes are available: 9 node(s) exceed max volume count.",
            Class::VOLUME_BINDING,
        ),
        (
            "Warning  FailedScheduling  default-scheduler  0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: not eligible due to preemptionPolicy=Never.",
            Class::INSUFFICIENT_RESOURCES,
        ),
    ];
    for (m, want) in cases {
        assert_eq!(first(m), want, "{m}");
    }
}

#[test]
fn control_plane_taint_is_scope_not_cause_when_workers_fail_otherwise() {
    let m = "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient memory. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.";
    let o = run(&text_incident(m));
    assert_eq!(
        classes(&o)[..2],
        [Class::INSUFFICIENT_RESOURCES, Class::UNTOLERATED_TAINT]
    );
}

#[test]
fn taint_message_gets_a_toleration_patch() {
    let o = run(&text_incident(
        "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: ci}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::UNTOLERATED_TAINT);
    let cmd = d.remediation[0].command.as_deref().expect("command");
    assert!(
        cmd.contains("\"key\":\"dedicated\"") && cmd.contains("\"value\":\"ci\""),
        "{cmd}"
    );
}

#[test]
fn quota_and_limit_range_and_policy_texts() {
    let cases = [
        (
            "Warning  FailedCreate  2m (x12 over 20m)  job-controller  Error creating: pods \"migrate-abc\" is forbidden: exceeded quota: team-a, requested: requests.cpu=500m, used: requests.cpu=1700m, limited: requests.cpu=2",
            Class::QUOTA_EXCEEDED,
        ),
        (
            "Error creating: pods \"build-7c9b6d8f45-\" is forbidden: failed quota: compute-resources: must specify limits.cpu,limits.memory,requests.cpu,requests.memory",
            Class::QUOTA_EXCEEDED,
        ),
        (
            "pods \"x\" is forbidden: status unknown for quota: compute-quota, resources: limits.cpu,limits.memory",
            Class::QUOTA_EXCEEDED,
        ),
        (
            "Error from server (Forbidden): error when creating \"pod.yaml\": pods \"x\" is forbidden: [maximum cpu usage per Container is 2, but limit is 4, maximum memory usage per Container is 1Gi, but limit is 2Gi]",
            Class::LIMIT_RANGE,
        ),
        (
            "Error creating: pods \"x\" is forbidden: minimum cpu usage per Container is 100m.  No request is specified",
            Class::LIMIT_RANGE,
        ),
        (
            "Error creating: admission webhook \"validate.kyverno.svc-fail\" denied the request: policy ci/require-labels for resource violation: validation error: label team is required",
            Class::POLICY_DENIED,
        ),
        (
            "Error creating: pods \"migrate-x\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true (pod or container \"migrate\" must set securityContext.runAsNonRoot=true)",
            Class::POLICY_DENIED,
        ),
    ];
    for (m, want) in cases {
        assert_eq!(first(m), want, "{m}");
    }
    let o = run(&text_incident(cases[0].0));
    assert!(
        o.diagnoses[0].summary.contains("300m left"),
        "{}",
        o.diagnoses[0].summary
    );
    let cmd = o.diagnoses[0].remediation[0]
        .command
        .as_deref()
        .expect("cmd");
    assert!(cmd.contains("\"requests.cpu\":\"2200m\""), "{cmd}");
}

#[test]
fn autoscaler_texts() {
    assert_eq!(
        first(
            "Normal  NotTriggerScaleUp  3m  cluster-autoscaler  pod didn't trigger scale-up: 4 node(s) didn't match Pod's node affinity/selector, 2 max node group size reached"
        ),
        Class::NO_SCALE_UP
    );
    assert_eq!(
        first(
            "Normal NotTriggerScaleUp pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 Insufficient memory"
        ),
        Class::NO_SCALE_UP
    );
    assert_eq!(
        first(
            r#"Warning  FailedScheduling  karpenter  Failed to schedule pod, incompatible with nodepool "default", daemonset overhead={"cpu":"180m","memory":"120Mi","pods":"5"}, no instance type satisfied resources {"cpu":"64180m","memory":"256120Mi","pods":"6"} and requirements karpenter.sh/capacity-type In [on-demand spot], karpenter.sh/nodepool In [default]"#
        ),
        Class::NO_SCALE_UP
    );
    let o = run(&text_incident(
        "Warning FailedScheduling 0/3 nodes are available: 3 Insufficient cpu.\nNormal TriggeredScaleUp pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instanceGroups/gke-ci-pool 1->2 (max: 5)}]",
    ));
    assert_eq!(classes(&o)[0], Class::INSUFFICIENT_RESOURCES);
    assert!(!o.diagnoses[0].definitive);
}

#[test]
fn gated_and_no_nodes() {
    assert_eq!(
        first("Conditions:\n  Type           Status\n  PodScheduled   False   SchedulingGated"),
        Class::GATED
    );
    assert_eq!(
        first(
            "Warning  FailedScheduling  10s  default-scheduler  no nodes available to schedule pods"
        ),
        Class::NO_NODES
    );
}

#[test]
fn messy_describe_output_with_wrapped_lines_and_noise() {
    let text = "\u{1b}[33mWARN\u{1b}[0m deploy step timed out\r\nName:         migrate-7k2p\r\nNamespace:    ci\r\nStatus:       Pending\r\nEvents:\r\n  Type     Reason            Age                  From               Message\r\n  ----     ------            ----                 ----               -------\r\n  Warning  FailedScheduling  2m (x31 over 17m)    default-scheduler  0/12 nodes are available: 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },\r\n 9 Insufficient memory. preemption: 0/12 nodes are available: 12 No preemption victims found for\r\n incoming pod.\r\n  Normal   NotTriggerScaleUp  1m (x40 over 17m)   cluster-autoscaler  pod didn't trigger scale-up: 2 max node group size reached\r\n";
    let o = run(&text_incident(text));
    let cs = classes(&o);
    assert!(
        cs.contains(&Class::INSUFFICIENT_RESOURCES) && cs.contains(&Class::NO_SCALE_UP),
        "{cs:?}"
    );
    let ins = o
        .diagnoses
        .iter()
        .find(|d| d.class.as_str() == Class::INSUFFICIENT_RESOURCES)
        .expect("insufficient");
    assert!(ins.summary.contains("9 of 12"), "{}", ins.summary);
}

#[test]
fn events_json_text_and_truncated_message() {
    let text = r#"{"kind":"EventList","items":[{"reason":"FailedScheduling","type":"Warning","message":"0/800 nodes are available: 200 Insufficient cpu, 200 Insufficient memory, 396 node(s) had untolerated taint {dedicated: gpu}, 4 node(s) were unschedulable, 100 node(s) didn't match Pod's node affinity/selector, 12 node(s) didn't have free ports for the requested ..."}]}"#;
    let o = run(&text_incident(text));
    assert_eq!(classes(&o)[0], Class::INSUFFICIENT_RESOURCES);
    assert!(classes(&o).contains(&Class::UNTOLERATED_TAINT));
}

#[test]
fn stale_event_is_ranked_below_the_newest_one() {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "p".into(),
        ..Default::default()
    };
    let mut i = lastmile_events::Incident::new(
        IncidentFamily::Pending,
        subject.clone(),
        None,
        crate::support::t(0),
    );
    let ev = |msg: &str, min: u32| KubeEvent {
        ty: "Warning".into(),
        reason: "FailedScheduling".into(),
        message: msg.into(),
        regarding: subject.clone(),
        count: 1,
        first_time: Some(crate::support::t(min)),
        last_time: Some(crate::support::t(min)),
        reporting_controller: "default-scheduler".into(),
    };
    i.events.push(ev(
        "0/6 nodes are available: 6 pod has unbound immediate PersistentVolumeClaims.",
        1,
    ));
    i.events.push(ev("0/6 nodes are available: 3 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 3 Insufficient cpu.", 9));
    let o = run(&i);
    assert_eq!(
        classes(&o)[0],
        Class::INSUFFICIENT_RESOURCES,
        "{:?}",
        classes(&o)
    );
}

#[test]
fn unrelated_text_gives_no_diagnosis() {
    let o = run(&text_incident(
        "Step 4/9 : RUN go build ./...\n ---> Running in 3f2a\nok  \tgithub.com/acme/app\t0.012s",
    ));
    assert!(o.diagnoses.is_empty(), "{:?}", classes(&o));
}

#[test]
fn condition_taint_is_fixed_on_the_node_not_tolerated() {
    let o = run(&text_incident(
        "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::UNTOLERATED_TAINT);
    assert!(
        d.remediation[0].description.starts_with("fix the node"),
        "{:?}",
        d.remediation
    );
    assert!(
        d.remediation
            .iter()
            .all(|r| !r.command.as_deref().unwrap_or("").contains("tolerations"))
    );
}

#[test]
fn older_and_kubelet_phrasings() {
    assert_eq!(first("0/0 nodes are available: ."), Class::NO_NODES);
    assert_eq!(
        first(
            "NAME        READY   STATUS     RESTARTS   AGE\nmigrate-x   0/1     OutOfcpu   0          2m"
        ),
        Class::INSUFFICIENT_RESOURCES
    );
    assert_eq!(
        first(
            "Warning  OutOfmemory  kubelet  Node didn't have enough resource: memory, requested: 8589934592, used: 1073741824, capacity: 4294967296"
        ),
        Class::INSUFFICIENT_RESOURCES
    );
    assert_eq!(
        first("0/3 nodes are available: 3 node(s) had disk pressure."),
        Class::UNTOLERATED_TAINT
    );
    assert_eq!(
        first("pod has unbound PersistentVolumeClaims (repeated 3 times)"),
        Class::VOLUME_BINDING
    );
}

#[test]
fn ci_runner_and_cloud_autoscaler_phrasings() {
    // GitLab runner's Kubernetes executor quotes the condition message.
    assert_eq!(
        first(
            "Waiting for pod gitlab-runner/runner-abc-project-1-concurrent-0 to be running, status is Pending\n\tUnschedulable: \"0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.\""
        ),
        Class::NODE_AFFINITY
    );
    assert_eq!(
        first(
            "Warning  FailedScheduling  running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded"
        ),
        Class::VOLUME_BINDING
    );
    assert_eq!(
        first(
            "Normal  NotTriggerScaleUp  cluster-autoscaler  Node scale up in zones us-central1-a associated with this pod failed: GCE quota exceeded. Pod is at risk of not being scheduled."
        ),
        Class::NO_SCALE_UP
    );
}
