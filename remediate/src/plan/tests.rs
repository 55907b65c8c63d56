#![allow(clippy::unwrap_used)]

use lastmile_events::diagnosis::{ExpectedField, PatchSpec, PatchTarget, PatchType, Preconditions};
use serde_json::{Value, json};

use super::*;

fn allow() -> Allowlist {
    Allowlist::parse(&[
        "ci=job.suspend,job.ttl-seconds-after-finished,job.active-deadline-seconds:7200",
    ])
    .unwrap()
}

fn spec(ty: PatchType, body: Value) -> PatchSpec {
    PatchSpec {
        target: PatchTarget {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: Some("ci".into()),
            name: "migrate".into(),
        },
        patch_type: ty,
        body,
        preconditions: Preconditions::default(),
    }
}

fn job(deadline: Option<i64>) -> Value {
    let mut j = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "resourceVersion": "42"},
        "spec": {"suspend": false}});
    if let Some(d) = deadline {
        j["spec"]["activeDeadlineSeconds"] = json!(d);
    }
    j
}

#[test]
fn allowed_fields_within_their_bound_pass() {
    let s = spec(
        PatchType::StrategicMerge,
        json!({"spec": {"activeDeadlineSeconds": 3600, "ttlSecondsAfterFinished": 600}}),
    );
    let checked = check(&s, &allow()).unwrap();
    assert_eq!(checked.fields.len(), 2);
    let Verdict::Apply { before, after } = against(&s, &checked, &job(Some(600))) else {
        panic!("not applied")
    };
    assert_eq!(before["/spec/activeDeadlineSeconds"], 600);
    assert_eq!(before["/spec/ttlSecondsAfterFinished"], Value::Null);
    assert_eq!(after["/spec/activeDeadlineSeconds"], 3600);
}

#[test]
fn bounds_and_types_are_checked_before_any_read() {
    let refused = |body: Value| check(&spec(PatchType::Merge, body), &allow()).unwrap_err();
    assert!(
        refused(json!({"spec": {"activeDeadlineSeconds": 7201}}))
            .contains("above the bound of 7200")
    );
    assert!(refused(json!({"spec": {"activeDeadlineSeconds": 0}})).contains("positive"));
    assert!(refused(json!({"spec": {"ttlSecondsAfterFinished": -1}})).contains("≥ 0"));
    assert!(refused(json!({"spec": {"suspend": "yes"}})).contains("true or false"));
    assert!(refused(json!({"spec": {"parallelism": 5}})).contains("spec.parallelism is outside"));
    assert!(refused(json!({"metadata": {"labels": {"a": "b"}}})).contains("metadata is outside"));
    assert!(refused(json!({})).contains("changes nothing"));
    let with_secret = refused(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "c", "env": [{"name": "TOKEN", "value": "s3cr3t-value"}]}]}}}}));
    assert!(!with_secret.contains("s3cr3t"), "{with_secret}");
}

#[test]
fn other_namespaces_and_kinds_are_refused() {
    let mut s = spec(PatchType::Merge, json!({"spec": {"suspend": true}}));
    s.target.namespace = Some("prod".into());
    assert_eq!(
        check(&s, &allow()).unwrap_err(),
        "namespace prod has no allowlist"
    );
    s.target.namespace = Some("ci".into());
    s.target.kind = "Deployment".into();
    s.target.api_version = "apps/v1".into();
    assert!(
        check(&s, &allow())
            .unwrap_err()
            .contains("apps/v1/Deployment is not an allowlisted kind")
    );
    let only_suspend = Allowlist::parse(&["ci=job.suspend"]).unwrap();
    let ttl = spec(
        PatchType::Merge,
        json!({"spec": {"ttlSecondsAfterFinished": 60}}),
    );
    assert!(
        check(&ttl, &only_suspend)
            .unwrap_err()
            .contains("outside the allowlist of namespace ci")
    );
}

#[test]
fn deadlines_are_only_ever_raised() {
    let s = spec(
        PatchType::Merge,
        json!({"spec": {"activeDeadlineSeconds": 1200}}),
    );
    let checked = check(&s, &allow()).unwrap();
    assert!(
        matches!(against(&s, &checked, &job(Some(1800))), Verdict::Refused(r) if r.contains("lowered from 1800 to 1200"))
    );
    assert!(
        matches!(against(&s, &checked, &job(None)), Verdict::Refused(r) if r.contains("no activeDeadlineSeconds"))
    );
    assert!(matches!(
        against(&s, &checked, &job(Some(1200))),
        Verdict::Unchanged { .. }
    ));
}

#[test]
fn preconditions_and_versions_are_checked_on_the_live_object() {
    let mut s = spec(
        PatchType::Merge,
        json!({"metadata": {"resourceVersion": "41"}, "spec": {"suspend": true}}),
    );
    let checked = check(&s, &allow()).unwrap();
    assert_eq!(checked.expected_version.as_deref(), Some("41"));
    assert!(matches!(
        against(&s, &checked, &job(None)),
        Verdict::Conflict(_)
    ));
    s.body = json!({"spec": {"suspend": true}});
    s.preconditions.fields.push(ExpectedField {
        path: "/spec/suspend".into(),
        value: json!(true),
    });
    let checked = check(&s, &allow()).unwrap();
    assert!(
        matches!(against(&s, &checked, &job(None)), Verdict::Refused(r) if r.contains("/spec/suspend"))
    );
}

#[test]
fn json_patches_are_read_op_by_op() {
    let s = spec(
        PatchType::Json,
        json!([{"op": "test", "path": "/spec/suspend", "value": false},
               {"op": "replace", "path": "/spec/suspend", "value": true}]),
    );
    let checked = check(&s, &allow()).unwrap();
    assert_eq!(checked.fields[0].change, Change::JobSuspend);
    let body = request_body(&s, "42");
    assert_eq!(
        body[0],
        json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "42"})
    );
    assert_eq!(body.as_array().unwrap().len(), 3);
    let nested = spec(
        PatchType::Json,
        json!([{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}]),
    );
    assert!(
        check(&nested, &allow())
            .unwrap_err()
            .contains("outside the allowlist")
    );
    let remove = spec(
        PatchType::Json,
        json!([{"op": "remove", "path": "/spec/suspend"}]),
    );
    assert!(check(&remove, &allow()).is_err());
}

#[test]
fn merge_bodies_carry_the_live_version() {
    let s = spec(
        PatchType::StrategicMerge,
        json!({"spec": {"suspend": true}}),
    );
    assert_eq!(
        request_body(&s, "42"),
        json!({"spec": {"suspend": true}, "metadata": {"resourceVersion": "42"}})
    );
}
