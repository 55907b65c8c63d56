//! ResourceQuota with mixed units and LimitRange defaults.

use super::*;

#[test]
fn quota_with_mixed_units_on_a_job() {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-a", "namespace": "ci"},
        "spec": {"hard": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.memory": "8Gi", "count/pods": "10"}},
        "status": {"hard": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.memory": "8Gi", "count/pods": "10"},
                   "used": {"requests.cpu": "1700m", "requests.memory": "3584Mi", "limits.memory": "7.5Gi", "count/pods": "4"}}});
    let items = vec![node(gke_node("n0", "p")), quota];
    let mut inc = incident(
        None,
        vec![event(
            "FailedCreate",
            "Job",
            "migrate",
            "Error creating: pods \"migrate-abc\" is forbidden: exceeded quota: team-a, requested: requests.cpu=500m, used: requests.cpu=1700m, limited: requests.cpu=2",
            t(3),
            "job-controller",
        )],
        snapshot(items, Some(t(4))),
    );
    inc.job = Some(Box::new(job(
        json!({"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "0.5", "memory": "512Mi"}, "limits": {"memory": "0.5Gi"}}}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::QUOTA_EXCEEDED);
    assert!(
        d.summary.contains(
            "quota team-a has 300m requests.cpu left (hard 2, used 1700m), the pod asks 500m"
        ),
        "{}",
        d.summary
    );
    assert_eq!(
        d.remediation[0].command.as_deref(),
        Some(
            "kubectl patch resourcequota team-a -n ci --type=merge -p '{\"spec\":{\"hard\":{\"requests.cpu\":\"2200m\"}}}'"
        )
    );
    // Memory fits exactly (512Mi left), limits.memory too (0.5Gi left): only cpu is reported.
    assert_eq!(
        o.diagnoses
            .iter()
            .filter(|d| d.class.as_str() == Class::QUOTA_EXCEEDED)
            .count(),
        1,
        "{:#?}",
        o.diagnoses
    );
    assert!(o.evidence.iter().any(|e| e.name == "job.json"));
}

#[test]
fn quota_must_specify_from_state() {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "ns-quota", "namespace": "ci"},
        "spec": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}}, "status": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}, "used": {"limits.cpu": "0", "limits.memory": "0"}}});
    let mut inc = incident(None, vec![], snapshot(vec![quota], None));
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "crd", "image": "i"}]}),
    )));
    let o = run(&inc);
    assert_eq!(classes(&o)[0], Class::QUOTA_EXCEEDED);
    assert!(
        o.diagnoses[0].summary.contains("limits.cpu for: crd"),
        "{}",
        o.diagnoses[0].summary
    );
    assert!(o.diagnoses[0].definitive);
}

#[test]
fn limit_range_default_request_changes_the_fit() {
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "ci"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "8Gi"}, "defaultRequest": {"cpu": "250m", "memory": "6Gi"}}]}});
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    items.push(lr);
    let mut inc = incident(None, vec![], snapshot(items, None));
    // No requests in the template: the LimitRange default (6Gi) is what the scheduler will see.
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "migrate", "image": "m"}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(
        d.class.as_str(),
        Class::INSUFFICIENT_RESOURCES,
        "{:?}",
        classes(&o)
    );
    assert!(d.summary.contains("requests 6Gi memory"), "{}", d.summary);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("LimitRange defaults applied") && e.contains("requests.memory")),
        "{:?}",
        d.evidence
    );
}

#[test]
fn limit_range_default_limit_below_the_request() {
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "cpu-limit", "namespace": "ci"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "10m"}, "defaultRequest": {"cpu": "10m"}}]}});
    let mut inc = incident(
        None,
        vec![],
        snapshot(vec![node(gke_node("n0", "p")), lr], None),
    );
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "nginx", "image": "nginx", "resources": {"requests": {"cpu": "700m"}}}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::LIMIT_RANGE, "{:?}", classes(&o));
    assert!(
        d.summary.contains("injected the default limit 10m"),
        "{}",
        d.summary
    );
}
