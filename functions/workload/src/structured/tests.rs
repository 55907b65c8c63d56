use super::*;
use lastmile_events::Subject;

fn job(spec: Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ci", "resourceVersion": "7"},
        "spec": spec
    }))
    .unwrap()
}

fn diag() -> Diagnosis {
    Diagnosis::new("job.deadline_exceeded", 0.9, "s", Subject::default())
}

#[test]
fn raising_a_deadline_is_a_merge_patch_conditioned_on_the_seen_deadline() {
    let mut d = diag();
    d.remediation.push(Remediation {
        description: "inspect".into(),
        command: None,
    });
    raise_deadline(
        &mut d,
        &job(json!({"activeDeadlineSeconds": 600, "template": {}})),
        600,
        700,
    );
    assert_eq!(d.patches.len(), 1);
    let p = &d.patches[0];
    assert_eq!(p.step, 1, "points at the step it structures");
    assert_eq!(
        p.patch.body,
        json!({"spec": {"activeDeadlineSeconds": 1300}})
    );
    assert_eq!(p.patch.target.namespace.as_deref(), Some("ci"));
    assert_eq!(
        p.patch.preconditions.fields[0].path,
        "/spec/activeDeadlineSeconds"
    );
    assert_eq!(p.patch.preconditions.fields[0].value, json!(600));
    assert_eq!(
        d.remediation[1].command.as_deref(),
        Some(
            r#"kubectl patch job -n ci migrate --type=merge -p '{"spec":{"activeDeadlineSeconds":1300}}'"#
        )
    );
}

#[test]
fn suspend_expects_the_field_as_seen_and_ttl_only_when_missing() {
    let mut d = diag();
    suspend(&mut d, &job(json!({"template": {}})));
    assert_eq!(
        d.patches[0].patch.preconditions.fields[0].value,
        Value::Null
    );
    ttl_after_finished(
        &mut d,
        &job(json!({"ttlSecondsAfterFinished": 60, "template": {}})),
    );
    assert_eq!(d.patches.len(), 1, "a Job with a TTL keeps it");
    ttl_after_finished(&mut d, &job(json!({"template": {}})));
    assert_eq!(
        d.patches[1].patch.body["spec"]["ttlSecondsAfterFinished"],
        FINISHED_TTL_SECS
    );
}

#[test]
fn a_job_without_namespace_gets_no_structured_step() {
    let mut d = diag();
    let mut j = job(json!({"template": {}}));
    j.metadata.namespace = None;
    suspend(&mut d, &j);
    assert!(d.patches.is_empty() && d.remediation.is_empty());
}
