//! Where the pod's values came from (issue 15): a LimitRange default, a change at
//! admission, a ResourceQuota that requires them. Recorded objects in `kubectl get -o json`
//! shape, reasoned over as a snapshot.

use lastmile_events::Class;
use serde_json::{Value, json};

use crate::support::{NodeSpec, classes, event, incident, node, pending_pod, run, snapshot, t};

fn job(template_spec: Value) -> k8s_openapi::api::batch::v1::Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "uid": "uid-job"},
        "spec": {"backoffLimit": 2, "template": {"metadata": {"labels": {"app": "migrate"}}, "spec": template_spec}},
        "status": {"active": 1}
    }))
    .expect("job")
}

/// Three 4Gi nodes: nothing with a 6Gi request fits.
fn small_nodes() -> Vec<Value> {
    ["n0", "n1", "n2"]
        .into_iter()
        .map(|name| {
            node(NodeSpec {
                name,
                memory: "4Gi",
                cpu: "4",
                ..Default::default()
            })
        })
        .collect()
}

fn defaults_limit_range() -> Value {
    json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "ci"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "8Gi"},
                             "defaultRequest": {"cpu": "250m", "memory": "6Gi"}}]}})
}

fn evidence_has(d: &lastmile_events::Diagnosis, line: &str) -> bool {
    d.evidence.iter().any(|e| e == line)
}

#[test]
fn a_pending_pod_whose_requests_a_limit_range_defaulted_names_it_with_both_fixes() {
    // The Job's template sets no resources; the pod it created runs with the LimitRange's
    // defaultRequest (6Gi), which no 4Gi node can hold.
    let pod = pending_pod(
        "ci",
        "migrate-x7k2p",
        json!({"containers": [{"name": "migrate", "image": "m:1", "resources": {
            "requests": {"cpu": "250m", "memory": "6Gi"}, "limits": {"cpu": "1", "memory": "8Gi"}}}]}),
        None,
    );
    let mut items = small_nodes();
    items.push(defaults_limit_range());
    let mut inc = incident(Some(pod), vec![], snapshot(items, Some(t(5))));
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "migrate", "image": "m:1"}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(
        d.class.as_str(),
        Class::INSUFFICIENT_RESOURCES,
        "{:?}",
        classes(&o)
    );
    assert!(
        d.summary.ends_with(
            "(the pod's values come from LimitRange defaults's defaults: the manifest sets none)"
        ),
        "{}",
        d.summary
    );
    assert!(
        evidence_has(
            d,
            "resources.requests.memory 6Gi of container `migrate` is LimitRange defaults's default: the manifest sets none (the Job's pod template sets none)"
        ),
        "{:#?}",
        d.evidence
    );
    // Both fixes: the manifest (a Job's template is re-created, not patched) and the default.
    let fixes: Vec<(&str, Option<&str>)> = d
        .remediation
        .iter()
        .map(|r| (r.description.as_str(), r.command.as_deref()))
        .collect();
    assert!(
        fixes.contains(&(
            "set resources.requests.memory in the Job's manifest and re-create it, so the LimitRange default no longer applies",
            None
        )),
        "{fixes:#?}"
    );
    assert!(
        fixes.contains(&(
            "or change the default in LimitRange defaults (every container of the namespace that sets none gets it)",
            Some("kubectl edit limitrange defaults -n ci")
        )),
        "{fixes:#?}"
    );
    // Structured, beside the node groups: the memory request only (capacity is reserved by
    // requests, and the defaulted cpu request is not what blocks).
    let prov = d.details["provenance"].as_array().expect("provenance");
    assert_eq!(prov.len(), 1, "{prov:#?}");
    assert!(prov.iter().all(|p| p["kind"] == "requests"
        && p["resource"] == "memory"
        && p["source"] == json!({"kind": "limit_range_default", "limit_range": "defaults"})));
    assert!(d.details["groups"].is_array(), "{:#}", d.details);
}

#[test]
fn a_request_admission_changed_says_what_the_manifest_asked() {
    // The template asks 1Gi; a mutating webhook raised the pod to 6Gi.
    let pod = pending_pod(
        "ci",
        "migrate-x7k2p",
        json!({"containers": [{"name": "migrate", "image": "m:1", "resources": {
            "requests": {"cpu": "250m", "memory": "6Gi"}}}]}),
        None,
    );
    let mut inc = incident(Some(pod), vec![], snapshot(small_nodes(), Some(t(5))));
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "migrate", "image": "m:1",
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(
        d.summary
            .ends_with("(admission changed the pod's values: the manifest says otherwise)"),
        "{}",
        d.summary
    );
    assert!(
        evidence_has(
            d,
            "resources.requests.memory 6Gi of container `migrate` was changed at admission: the manifest says 1Gi (the Job's pod template says 1Gi)"
        ),
        "{:#?}",
        d.evidence
    );
    assert_eq!(
        d.details["provenance"][0]["source"],
        json!({"kind": "admission", "manifest": "1Gi"})
    );
    assert!(
        d.remediation
            .iter()
            .any(|r| r.command.as_deref() == Some("kubectl get mutatingwebhookconfigurations"))
    );
}

#[test]
fn quota_must_specify_names_the_quota_and_offers_a_limit_range_default() {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "ns-quota", "namespace": "ci"},
        "spec": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}},
        "status": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi"}, "used": {"limits.cpu": "0", "limits.memory": "0"}}});
    let mut inc = incident(None, vec![], snapshot(vec![quota], None));
    inc.job = Some(Box::new(job(
        json!({"containers": [{"name": "crd", "image": "i"}]}),
    )));
    let o = run(&inc);
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::QUOTA_EXCEEDED);
    assert!(d.summary.contains("quota ns-quota"), "{}", d.summary);
    let prov = d.details["provenance"].as_array().expect("provenance");
    assert_eq!(
        prov.iter()
            .map(|p| (
                p["container"].as_str().unwrap(),
                p["kind"].as_str().unwrap(),
                p["resource"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [("crd", "limits", "cpu"), ("crd", "limits", "memory")]
    );
    assert_eq!(
        prov[0]["source"],
        json!({"kind": "quota_requires", "resource_quota": "ns-quota"})
    );
    let lr = d
        .remediation
        .iter()
        .find_map(|r| r.command.as_deref().filter(|c| c.contains("LimitRange")))
        .expect("a LimitRange fix");
    assert_eq!(
        lr,
        r#"kubectl apply -n ci -f - <<< '{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"default-resources"},"spec":{"limits":[{"default":{"cpu":"500m","memory":"512Mi"},"type":"Container"}]}}'"#
    );
}

#[test]
fn quota_must_specify_from_the_message_alone_names_the_quota() {
    let ev = event(
        "FailedCreate",
        "Job",
        "migrate",
        "Error creating: pods \"migrate-7p2kq\" is forbidden: failed quota: compute-quota: must specify limits.cpu for: migrate; limits.memory for: migrate",
        t(1),
        "job-controller",
    );
    let o = run(&incident(None, vec![ev], snapshot(vec![], None)));
    let d = o
        .diagnoses
        .iter()
        .find(|d| d.class.as_str() == Class::QUOTA_EXCEEDED)
        .expect("quota diagnosis");
    let prov = d.details["provenance"].as_array().expect("provenance");
    assert!(!prov.is_empty());
    assert!(
        prov.iter()
            .all(|p| p["source"]
                == json!({"kind": "quota_requires", "resource_quota": "compute-quota"})),
        "{prov:#?}"
    );
    assert!(
        d.remediation.iter().any(|r| r
            .command
            .as_deref()
            .is_some_and(|c| c.contains("\"kind\":\"LimitRange\""))),
        "{:#?}",
        d.remediation
    );
}
