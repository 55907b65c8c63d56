//! A concurrent writer or a stale precondition is reported as a conflict and never applied
//! over.

use anyhow::Context as _;
use serde_json::json;

use super::{Executor, JOB_PATH, job, merge, publish, setup, target, wait_events};

#[tokio::test]
async fn remediate_reports_a_conflict_and_never_applies_over_it() -> anyhow::Result<()> {
    let (nats, bus, api) = setup().await?;
    let first_rv = api.apply(job("ci", "migrate", 600))?.to_string();
    let exec = Executor::spawn(&nats, &api, &["ci=job.active-deadline-seconds:3600"])?;

    // Another writer changes the Job right after the executor reads it: the dry run's
    // resourceVersion precondition fails with 409.
    api.touch_after_next_get(JOB_PATH);
    publish(
        &bus,
        30,
        merge(
            target("batch/v1", "Job", "ci", "migrate"),
            json!({"spec": {"activeDeadlineSeconds": 1200}}),
        ),
    )
    .await?;
    let audits = exec.wait_audits(1).await?;
    let audit = &audits[0];
    assert_eq!(audit["decision"], "conflict", "{audit:#}");
    let reason = audit["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("resourceVersion {first_rv}")),
        "{reason}"
    );
    assert!(reason.contains("not applied, not retried"), "{reason}");
    assert_eq!(
        audit["after"]["/spec/activeDeadlineSeconds"], 600,
        "re-read after the 409"
    );
    let patches: Vec<_> = api
        .writes()
        .into_iter()
        .filter(|w| w.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1, "one dry run, then nothing: {patches:#?}");
    assert!(patches[0].is_dry_run());
    let live = api
        .get("batch/v1", "Job", "ci", "migrate")
        .context("job gone")?;
    assert_eq!(live["spec"]["activeDeadlineSeconds"], 600);
    assert_eq!(
        live["metadata"]["annotations"]["lastmile.test/touched"],
        "true"
    );

    // A patch computed against an older version than the live one: refused before any PATCH.
    let mut stale = merge(
        target("batch/v1", "Job", "ci", "migrate"),
        json!({"spec": {"activeDeadlineSeconds": 1200}}),
    );
    stale.preconditions.resource_version = Some(first_rv.clone());
    publish(&bus, 31, stale).await?;
    let audits = exec.wait_audits(2).await?;
    assert!(
        audits
            .iter()
            .filter(|a| a["decision"] == "conflict")
            .count()
            == 2,
        "{audits:#?}"
    );
    assert_eq!(
        api.writes().iter().filter(|w| w.method == "PATCH").count(),
        1
    );
    let conflicts = wait_events(&api, "ci", 2, |e| e["reason"] == "RemediationConflict")
        .await?
        .len();
    assert_eq!(conflicts, 2);
    Ok(())
}
