use super::*;
use serde_json::json;

fn job() -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "labels": {"app": "db"}},
        "spec": {
            "activeDeadlineSeconds": 600, "suspend": false,
            "template": {"spec": {"containers": [
                {"name": "main", "image": "migrate:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "side", "image": "proxy:1"}
            ]}}
        }
    })
}

#[test]
fn merge_patch_merges_maps_deletes_on_null_and_replaces_lists() {
    let patch = json!({
        "metadata": {"labels": {"app": null, "team": "data"}},
        "spec": {"activeDeadlineSeconds": 1200,
                 "template": {"spec": {"containers": [{"name": "main", "image": "migrate:2"}]}}}
    });
    let out = apply(Kind::Merge, &job(), &patch).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"team": "data"}));
    assert_eq!(out["spec"]["activeDeadlineSeconds"], 1200);
    assert_eq!(out["spec"]["suspend"], false, "untouched fields stay");
    let containers = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "merge patch replaces lists");
    assert!(containers[0].get("env").is_none());
}

#[test]
fn strategic_merge_merges_lists_by_their_merge_key() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "migrate:2", "env": [{"name": "B", "value": "2"}]},
        {"name": "new", "image": "debug:1"}
    ]}}}});
    let out = apply(Kind::Strategic, &job(), &patch).unwrap();
    let containers = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(
        containers
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["main", "side", "new"]
    );
    assert_eq!(containers[0]["image"], "migrate:2");
    assert_eq!(
        containers[0]["env"].as_array().unwrap().len(),
        2,
        "env merged by name"
    );
    assert_eq!(containers[1]["image"], "proxy:1");
}

#[test]
fn strategic_merge_scalars_and_maps_behave_as_merge_patch() {
    let patch = json!({"spec": {"ttlSecondsAfterFinished": 3600, "suspend": true}});
    let a = apply(Kind::Strategic, &job(), &patch).unwrap();
    let b = apply(Kind::Merge, &job(), &patch).unwrap();
    assert_eq!(a, b);
    assert_eq!(a["spec"]["ttlSecondsAfterFinished"], 3600);
}

#[test]
fn strategic_directives_are_refused_not_misapplied() {
    let patch = json!({"spec": {"template": {"spec": {"$patch": "replace"}}}});
    assert!(apply(Kind::Strategic, &job(), &patch).is_err());
}

#[test]
fn json_patch_applies_in_order_and_test_failures_change_nothing() {
    let ops = json!([
        {"op": "test", "path": "/spec/suspend", "value": false},
        {"op": "replace", "path": "/spec/suspend", "value": true},
        {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 60},
        {"op": "remove", "path": "/metadata/labels/app"},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "x"}},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/job"}
    ]);
    let out = apply(Kind::Json, &job(), &ops).unwrap();
    assert_eq!(out["spec"]["suspend"], true);
    assert_eq!(out["spec"]["ttlSecondsAfterFinished"], 60);
    assert_eq!(out["metadata"]["labels"], json!({"job": "migrate"}));
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][2]["name"],
        "x"
    );

    let failing = json!([{"op": "test", "path": "/spec/suspend", "value": true}]);
    let e = apply(Kind::Json, &job(), &failing).unwrap_err();
    assert!(e.0.contains("testing value /spec/suspend failed"), "{e}");
    let missing = json!([{"op": "replace", "path": "/spec/nope/x", "value": 1}]);
    assert!(apply(Kind::Json, &job(), &missing).is_err());
    assert!(apply(Kind::Json, &job(), &json!({"op": "add"})).is_err());
}

#[test]
fn content_types_name_the_patch_type() {
    assert_eq!(
        Kind::of("application/merge-patch+json; charset=utf-8"),
        Some(Kind::Merge)
    );
    assert_eq!(Kind::of("application/json-patch+json"), Some(Kind::Json));
    assert_eq!(
        Kind::of("application/strategic-merge-patch+json"),
        Some(Kind::Strategic)
    );
    assert_eq!(Kind::of("application/apply-patch+yaml"), None);
}
