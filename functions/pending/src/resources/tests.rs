use super::*;

fn spec(v: serde_json::Value) -> PodSpec {
    serde_json::from_value(v).unwrap()
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

#[test]
fn init_max_vs_app_sum_plus_overhead() {
    let s = spec(serde_json::json!({
        "initContainers": [{"name": "migrate", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}],
        "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "1536Mi"}}}
        ],
        "overhead": {"cpu": "100m", "memory": "64Mi"}
    }));
    let r = pod_requests(&s, &[]);
    assert_eq!(r.get("cpu"), q("2100m"));
    assert_eq!(r.get("memory"), q("2624Mi"));
    assert_eq!(r.get("pods"), q("1"));
}

#[test]
fn sidecars_run_alongside_later_init_and_app_containers() {
    let s = spec(serde_json::json!({
        "initContainers": [
            {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
            {"name": "setup", "resources": {"requests": {"cpu": "2"}}}
        ],
        "containers": [{"name": "app", "resources": {"requests": {"cpu": "1500m"}}}]
    }));
    // max(1 + 2, 1 + 1.5) = 3
    assert_eq!(pod_requests(&s, &[]).get("cpu"), q("3"));
}

#[test]
fn limit_only_container_requests_its_limit() {
    let s = spec(
        serde_json::json!({"containers": [{"name": "a", "resources": {"limits": {"memory": "2Gi"}}}]}),
    );
    assert_eq!(pod_requests(&s, &[]).get("memory"), q("2Gi"));
}

#[test]
fn limit_range_defaults_fill_missing_requests() {
    let lr: LimitRange = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "defaults", "namespace": "ci"},
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "1000Mi"}, "defaultRequest": {"cpu": "250m", "memory": "6Gi"}}]}
        }))
        .unwrap();
    let s = spec(serde_json::json!({"containers": [
        {"name": "a"},
        {"name": "b", "resources": {"requests": {"cpu": "700m"}}}
    ]}));
    let r = pod_requests(&s, &[&lr]);
    assert_eq!(r.get("memory"), q("12Gi"));
    assert_eq!(r.get("cpu"), q("950m"));
    assert!(
        r.containers[0]
            .defaulted
            .contains(&"requests.memory".to_owned())
    );
    // b keeps its own request but gets the default limit, below the request.
    assert_eq!(r.containers[1].limits["cpu"], q("500m"));
}
