use super::*;

fn q(s: &str) -> Option<Quantity> {
    Quantity::parse(s).ok()
}

#[test]
fn exceeded_quota_with_multiple_resources() {
    let m = "Error creating: pods \"jenkins-1-dr8p8\" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=2,limits.memory=1Gi, used: limits.cpu=2,limits.memory=1Gi, limited: limits.cpu=2,limits.memory=1Gi";
    let Some(QuotaRejection::Exceeded { quota, items }) = parse_quota(m) else {
        panic!()
    };
    assert_eq!(quota, "compute-resources");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].resource, "limits.memory");
    assert_eq!(items[1].requested, q("1Gi"));
    assert_eq!(items[0].limited, q("2"));
}

#[test]
fn exceeded_quota_object_count_and_mixed_units() {
    let Some(QuotaRejection::Exceeded { items, .. }) = parse_quota(
        "pods \"x\" is forbidden: exceeded quota: team-a, requested: requests.cpu=500m, used: requests.cpu=1700m, limited: requests.cpu=2",
    ) else {
        panic!()
    };
    assert_eq!(
        items[0].limited.unwrap() - items[0].used.unwrap(),
        Quantity::from_millis(300)
    );
    let Some(QuotaRejection::Exceeded { items, .. }) = parse_quota(
        "(combined from similar events): Error creating: pods \"capybara-ds7zk\" is forbidden: exceeded quota: quota-pods, requested: count/pods=1, used: count/pods=1, limited: count/pods=1",
    ) else {
        panic!()
    };
    assert_eq!(items[0].resource, "count/pods");
}

#[test]
fn must_specify_both_shapes() {
    let Some(QuotaRejection::MustSpecify {
        quota,
        resources,
        containers,
    }) = parse_quota(
        "pods \"hap-crdjob-1-6nxxb\" is forbidden: failed quota: ingress-stack: must specify limits.cpu for: crd; limits.memory for: crd; requests.cpu for: crd; requests.memory for: crd",
    )
    else {
        panic!()
    };
    assert_eq!(quota.as_deref(), Some("ingress-stack"));
    assert_eq!(
        resources,
        vec![
            "limits.cpu",
            "limits.memory",
            "requests.cpu",
            "requests.memory"
        ]
    );
    assert_eq!(containers, vec!["crd"]);
    let Some(QuotaRejection::MustSpecify { resources, .. }) = parse_quota(
        "pods \"nginx-pod\" is forbidden: failed quota: quota: must specify cpu,memory",
    ) else {
        panic!()
    };
    assert_eq!(resources, vec!["cpu", "memory"]);
    assert!(matches!(
        parse_quota("Failed quota: q: must specify memory"),
        Some(QuotaRejection::MustSpecify { .. })
    ));
}

#[test]
fn other_quota_causes() {
    for m in [
        "pods \"x\" is forbidden: status unknown for quota: compute-quota, resources: limits.cpu,limits.memory",
        "pods \"x\" is forbidden: insufficient quota to consume: requests.nvidia.com/gpu",
        "insufficient quota to match these scopes: [{PriorityClass In [high]}]",
        "Internal error occurred: resource quota evaluation timed out",
    ] {
        assert!(
            matches!(parse_quota(m), Some(QuotaRejection::Other { .. })),
            "{m}"
        );
    }
    assert!(parse_quota("0/3 nodes are available: 3 Insufficient cpu.").is_none());
}

#[test]
fn limit_range_every_format() {
    let cases = [
        (
            "minimum memory usage per Container is 100Mi, but request is 50Mi",
            "minimum",
        ),
        (
            "minimum cpu usage per Container is 100m.  No request is specified",
            "minimum",
        ),
        (
            "minimum cpu usage per Pod is 200m, but limit is 100m",
            "minimum",
        ),
        (
            "maximum cpu usage per Container is 2, but limit is 4",
            "maximum",
        ),
        (
            "maximum memory usage per Container is 1Gi.  No limit is specified",
            "maximum",
        ),
        (
            "maximum memory usage per Pod is 2Gi, but request is 3Gi",
            "maximum",
        ),
        (
            "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi",
            "minimum",
        ),
        (
            "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
            "ratio",
        ),
        (
            "memory max limit to request ratio per Container is 2, but no request is specified or request is 0",
            "ratio",
        ),
        (
            "cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0",
            "ratio",
        ),
        (
            "maximum cpu usage per Container is 2, but limit is 4.",
            "maximum",
        ),
    ];
    for (m, check) in cases {
        let v = parse_limit_range(m);
        assert_eq!(v.len(), 1, "{m}");
        assert_eq!(v[0].check, check, "{m}");
    }
    let agg = parse_limit_range(
        "pods \"x\" is forbidden: [maximum cpu usage per Container is 2, but limit is 4, maximum memory usage per Container is 1Gi, but limit is 2Gi]",
    );
    assert_eq!(agg.len(), 2);
    assert_eq!(agg[1].observed.as_deref(), Some("2Gi"));
    let v = parse_limit_range("minimum cpu usage per Container is 100m.  No request is specified");
    assert_eq!(v[0].enforced.as_deref(), Some("100m"));
}

#[test]
fn request_above_defaulted_limit() {
    let v = parse_limit_range(
        "Pod \"nginx-4\" is invalid: spec.containers[0].resources.requests: Invalid value: \"700m\": must be less than or equal to cpu limit",
    );
    assert_eq!(v[0].check, "request>limit");
    assert_eq!(v[0].observed.as_deref(), Some("700m"));
    assert_eq!(v[0].resource, "cpu");
}

#[test]
fn policy_denials() {
    let d = parse_policy("Error creating: admission webhook \"validation.gatekeeper.sh\" denied the request: [psp-privileged] Privileged container is not allowed: build").unwrap();
    assert!(d.by.contains("validation.gatekeeper.sh"));
    let d = parse_policy("pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)").unwrap();
    assert!(d.by.contains("restricted:latest"));
    let d = parse_policy("Internal error occurred: failed calling webhook \"mpod.kb.io\": Post \"https://x.svc:443/mutate?timeout=10s\": context deadline exceeded").unwrap();
    assert!(d.unreachable);
    assert!(parse_policy("pods \"x\" is forbidden: unable to validate against any security context constraint: [spec.containers[0].securityContext.privileged: Invalid value: true]").is_some());
    assert!(parse_policy("0/3 nodes are available").is_none());
}

/// The Priority admission plugin refuses a system priority class outside the namespaces
/// that may use it, and a class that does not exist.
#[test]
fn priority_class_refusals_are_the_priority_admission_plugin() {
    for m in [
        "Warning  FailedCreate  job-controller  Error creating: pods \"sweep-1-1571692440-\" is forbidden: pods with system-cluster-critical priorityClass is not permitted in batch namespace",
        "Error creating: pods \"api-7d9f-\" is forbidden: no PriorityClass with name high-priority was found",
    ] {
        let Some(p) = parse_policy(m) else {
            panic!("{m}")
        };
        assert_eq!(p.by, "the Priority admission plugin", "{m}");
        assert!(!p.unreachable);
    }
    // A pod that merely names its priority class is no refusal.
    assert!(parse_policy("priorityClassName: system-cluster-critical").is_none());
}

/// A controller's create that timed out in the API server is the admission chain (a webhook
/// it cannot reach), in the event-table, describe and controller-log wordings.
#[test]
fn a_create_that_timed_out_is_an_unreachable_webhook() {
    for m in [
        "25m  Warning  FailedCreate  ReplicaSet  Error creating: Timeout: request did not complete within requested timeout 30s",
        "Warning  FailedCreate  3m (x12 over 20m)  job-controller  Error creating: context deadline exceeded",
        "E0412 controller.go:231] failed to create pod web-0: the server was unable to return a response in the time allotted, but may still be processing the request",
    ] {
        let Some(p) = parse_policy(m) else {
            panic!("{m}")
        };
        assert!(p.unreachable, "{m}");
        assert_eq!(p.by, "an admission webhook");
    }
    // A timeout that is not a create (an image pull, a probe) is not admission.
    assert!(parse_policy("Failed to pull image: context deadline exceeded").is_none());
}

/// PodSecurityPolicy refusals in the shapes other versions print: no usable policy at all,
/// and a field refusal under a generic "forbidden" (the plugin not named).
#[test]
fn pod_security_policy_refusals_across_versions() {
    let none = "Error creating: pods \"node-exporter-\" is forbidden: no providers available to validate pod request";
    assert_eq!(parse_policy(none).unwrap().by, "PodSecurityPolicy");
    let field = "pods \"agent-x7\" is forbidden: [spec.containers[0].securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used]";
    assert_eq!(parse_policy(field).unwrap().by, "a pod security policy");
    let plugin = "Error creating: pods \"csi-node-\" is forbidden: SecurityContextDeny: unable to admit pod: privileged containers";
    assert_eq!(parse_policy(plugin).unwrap().by, "an admission plugin");
}

/// The kubelet refusing a pod for a sysctl (or AppArmor profile) it does not allow, in its
/// shapes across versions and tools; a sysctl step failing inside a container is not it.
#[test]
fn the_kubelets_node_admission_refusals() {
    for m in [
        "Warning  SysctlForbidden  12s  kubelet  forbidden sysctl: \"net.core.somaxconn\" not allowlisted",
        "Status: Failed\nReason: SysctlForbidden\nMessage: Pod was rejected",
        "pods \"redis-0\" was rejected: unsafe sysctl \"kernel.msgmax\" is not allowed",
        "Pod was rejected: sysctl \"net.ipv4.ip_local_port_range\" not allowed with host net enabled",
        "Warning AppArmor kubelet Cannot enforce AppArmor: profile \"deny-write\" is not loaded",
    ] {
        let Some(p) = parse_policy(m) else {
            panic!("{m}")
        };
        assert!(p.by.contains("kubelet"), "{m}");
        assert!(!p.unreachable, "{m}");
    }
    for m in [
        "sysctl: error setting key 'vm.max_map_count': Read-only file system",
        "we set the sysctl net.core.somaxconn on every node via a DaemonSet",
    ] {
        assert!(parse_policy(m).is_none(), "{m}");
    }
}
