use super::*;
use serde_json::json;

#[test]
fn patch_spec_round_trips_in_its_documented_shape() {
    let spec = PatchSpec {
        target: PatchTarget {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: Some("ci".into()),
            name: "migrate".into(),
        },
        patch_type: PatchType::StrategicMerge,
        body: json!({"spec": {"ttlSecondsAfterFinished": 3600}}),
        preconditions: Preconditions {
            resource_version: None,
            fields: vec![ExpectedField {
                path: "/spec/ttlSecondsAfterFinished".into(),
                value: Value::Null,
            }],
        },
    };
    let v = serde_json::to_value(&spec).unwrap();
    assert_eq!(v["patch_type"], "strategic-merge");
    assert_eq!(v["target"]["apiVersion"], "batch/v1");
    assert!(v["preconditions"].get("resourceVersion").is_none());
    assert_eq!(serde_json::from_value::<PatchSpec>(v).unwrap(), spec);
}

#[test]
fn an_absent_field_matches_null() {
    let job = json!({"spec": {"suspend": false}});
    let f = |path: &str, value| ExpectedField {
        path: path.into(),
        value,
    };
    assert!(f("/spec/ttlSecondsAfterFinished", Value::Null).holds(&job));
    assert!(f("/spec/suspend", json!(false)).holds(&job));
    assert!(!f("/spec/suspend", json!(true)).holds(&job));
}
