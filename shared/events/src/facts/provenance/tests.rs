#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn pod(v: serde_json::Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

fn limit_range(name: &str, default: serde_json::Value, request: serde_json::Value) -> LimitRange {
    serde_json::from_value(json!({"metadata": {"name": name, "namespace": "shop"},
        "spec": {"limits": [{"type": "Container", "default": default, "defaultRequest": request}]}}))
    .unwrap()
}

#[test]
fn the_limit_ranger_annotation_names_what_the_default_set() {
    let p = pod(
        json!({"metadata": {"name": "api-1", "namespace": "shop", "annotations": {
            "kubernetes.io/limit-ranger": "LimitRanger plugin set: cpu, memory request for container api; memory limit for container api; cpu request for init container migrate"}},
        "spec": {"initContainers": [{"name": "migrate", "resources": {"requests": {"cpu": "100m"}}}],
                 "containers": [{"name": "api", "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi", "cpu": "2"}}}]}}),
    );
    let lrs = [
        limit_range("other", json!({"memory": "1Gi"}), json!({})),
        limit_range(
            "defaults",
            json!({"memory": "128Mi"}),
            json!({"memory": "64Mi", "cpu": "100m"}),
        ),
    ];
    let o = resource_origins(&p, None, &lrs);
    let fields: Vec<(String, String, Option<&str>)> = o
        .iter()
        .map(|v| (v.container.clone(), v.field(), v.limit_range()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "migrate".into(),
                "resources.requests.cpu".into(),
                Some("defaults")
            ),
            (
                "api".into(),
                "resources.requests.cpu".into(),
                Some("defaults")
            ),
            (
                "api".into(),
                "resources.requests.memory".into(),
                Some("defaults")
            ),
            (
                "api".into(),
                "resources.limits.memory".into(),
                Some("defaults")
            ),
        ]
    );
    // limits.cpu 2 was the manifest's: the annotation does not list it.
    assert!(o.iter().all(|v| v.field() != "resources.limits.cpu"));
    assert_eq!(
        o[3].sentence(),
        "resources.limits.memory 128Mi of container `api` is LimitRange defaults's default: the manifest sets none (annotation kubernetes.io/limit-ranger)"
    );
}

#[test]
fn a_job_template_without_a_limit_shows_the_default_and_a_changed_value_shows_mutation() {
    let job: Job =
        serde_json::from_value(json!({"metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "x",
            "resources": {"requests": {"cpu": "250m"}}}]}}}}))
        .unwrap();
    let p = pod(
        json!({"metadata": {"name": "migrate-x7k2p", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "migrate", "uid": "u"}]},
        "spec": {"containers": [{"name": "m", "image": "x", "resources": {
            "requests": {"cpu": "500m"}, "limits": {"memory": "256Mi", "cpu": "1"}}}]}}),
    );
    let manifest = manifest_spec(&p, Some(&job)).unwrap();
    assert_eq!(manifest.1, "the Job's pod template");
    let lrs = [limit_range("mem", json!({"memory": "256Mi"}), json!({}))];
    let o = resource_origins(&p, Some(&manifest), &lrs);
    assert_eq!(o.len(), 3, "{o:#?}");
    assert_eq!(
        o[0].source,
        Source::Admission {
            manifest: Some("250m".into())
        }
    );
    assert_eq!(o[0].basis, "the Job's pod template says 250m");
    // limits.cpu 1 is in no default: something else at admission added it.
    assert_eq!(o[1].field(), "resources.limits.cpu");
    assert_eq!(o[1].source, Source::Admission { manifest: None });
    assert_eq!(o[2].field(), "resources.limits.memory");
    assert_eq!(
        o[2].source,
        Source::LimitRangeDefault {
            limit_range: Some("mem".into())
        }
    );
    assert_eq!(o[2].basis, "the Job's pod template sets none");
}

#[test]
fn last_applied_configuration_is_the_manifest_of_a_bare_pod() {
    let applied = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tool"},
        "spec": {"containers": [{"name": "tool", "image": "x"}]}})
    .to_string();
    let p = pod(json!({"metadata": {"name": "tool", "namespace": "shop",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
        "spec": {"containers": [{"name": "tool", "image": "x", "resources": {"limits": {"memory": "0.5Gi"}}}]}}));
    let manifest = manifest_spec(&p, None).unwrap();
    let lrs = [limit_range(
        "defaults",
        json!({"memory": "512Mi"}),
        json!({}),
    )];
    let o = resource_origins(&p, Some(&manifest), &lrs);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].limit_range(), Some("defaults"));
    assert_eq!(o[0].basis, "the pod's last-applied-configuration sets none");
}

#[test]
fn nothing_is_claimed_without_a_record_of_the_manifest() {
    let p = pod(json!({"metadata": {"name": "api-1", "namespace": "shop"},
        "spec": {"containers": [{"name": "api", "resources": {"limits": {"memory": "128Mi"}}}]}}));
    let lrs = [limit_range(
        "defaults",
        json!({"memory": "128Mi"}),
        json!({}),
    )];
    assert!(resource_origins(&p, None, &lrs).is_empty());
}

#[test]
fn a_quota_on_limits_requires_every_container_to_set_them() {
    let spec: PodSpec = serde_json::from_value(json!({"containers": [
        {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "1"}}}]}))
    .unwrap();
    let quota: ResourceQuota =
        serde_json::from_value(json!({"metadata": {"name": "compute", "namespace": "shop"},
        "spec": {"hard": {"limits.cpu": "4", "limits.memory": "8Gi", "pods": "10"}}}))
        .unwrap();
    let o = quota_requirements(&spec, Some("shop"), &[quota]);
    let lacking: Vec<(String, String)> =
        o.iter().map(|v| (v.container.clone(), v.field())).collect();
    assert_eq!(
        lacking,
        [
            ("b".to_owned(), "resources.limits.cpu".to_owned()),
            ("b".to_owned(), "resources.limits.memory".to_owned())
        ]
    );
    assert_eq!(
        o[0].sentence(),
        "container `b` sets no resources.limits.cpu, which ResourceQuota compute requires (its hard limits include limits.cpu)"
    );
}

#[test]
fn quantities_compare_by_amount() {
    assert!(same_quantity("0.5", "500m"));
    assert!(same_quantity("1Gi", "1024Mi"));
    assert!(!same_quantity("1G", "1Gi"));
    assert!(!same_quantity("lots", "more"));
}
