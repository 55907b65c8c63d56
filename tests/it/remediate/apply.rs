//! An allowed patch is applied: a dry run first, the read resourceVersion as precondition,
//! an audit entry, a Kubernetes Event and a span in the command's trace.

use std::time::Duration;

use anyhow::Context as _;
use lastmile_events::diagnosis::ExpectedField;
use lastmile_tests::otlp::OtlpReceiver;
use serde_json::{Value, json};

use super::{
    Executor, IDENTITY, JOB_PATH, SECRET, assert_no_secret, job, merge, publish, setup, target,
    trace_id, wait_events,
};

#[tokio::test]
async fn remediate_applies_an_allowed_patch_after_a_dry_run_with_its_resource_version()
-> anyhow::Result<()> {
    let (nats, bus, api) = setup().await?;
    let rv = api.apply(job("ci", "migrate", 600))?.to_string();
    let otlp = OtlpReceiver::start().await?;
    let exec = Executor::spawn_traced(
        &nats,
        &api,
        &["ci=job.active-deadline-seconds:3600,job.ttl-seconds-after-finished"],
        Some(&otlp.endpoint()),
    )?;
    let mut patch = merge(
        target("batch/v1", "Job", "ci", "migrate"),
        json!({"spec": {"activeDeadlineSeconds": 1800, "ttlSecondsAfterFinished": 86400}}),
    );
    patch.preconditions.fields.push(ExpectedField {
        path: "/spec/activeDeadlineSeconds".into(),
        value: json!(600),
    });
    let id = publish(&bus, 1, patch).await?;
    let audits = exec.wait_audits(1).await?;
    let audit = &audits[0];
    assert_eq!(audit["decision"], "applied", "{audit:#}");
    assert_eq!(audit["who"], IDENTITY);
    assert_eq!(audit["id"], id.as_str());
    assert_eq!(audit["dry_run"], true);
    assert_eq!(audit["before"]["/spec/activeDeadlineSeconds"], 600);
    assert_eq!(
        audit["before"]["/spec/ttlSecondsAfterFinished"],
        Value::Null
    );
    assert_eq!(audit["after"]["/spec/activeDeadlineSeconds"], 1800);
    assert_eq!(audit["after"]["/spec/ttlSecondsAfterFinished"], 86400);

    let writes: Vec<_> = api
        .writes()
        .into_iter()
        .filter(|w| w.method == "PATCH")
        .collect();
    assert_eq!(writes.len(), 2, "{writes:#?}");
    assert!(
        writes[0].is_dry_run(),
        "the dry run comes first: {writes:#?}"
    );
    assert!(!writes[1].is_dry_run());
    for w in &writes {
        assert!(w.uri.starts_with(JOB_PATH), "{}", w.uri);
        assert_eq!(w.content_type, "application/merge-patch+json");
        assert_eq!(
            w.body["metadata"]["resourceVersion"],
            rv.as_str(),
            "the read resourceVersion is the precondition"
        );
    }
    let live = api
        .get("batch/v1", "Job", "ci", "migrate")
        .context("job gone")?;
    assert_eq!(live["spec"]["activeDeadlineSeconds"], 1800);
    assert_eq!(live["spec"]["ttlSecondsAfterFinished"], 86400);

    let events = wait_events(&api, "ci", 1, |_| true).await?;
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["reason"], "RemediationApplied");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["involvedObject"]["kind"], "Job");
    assert_eq!(event["involvedObject"]["name"], "migrate");
    assert_eq!(event["involvedObject"]["uid"], "uid-migrate");
    assert_eq!(event["reportingInstance"], IDENTITY);
    assert!(
        event["message"]
            .as_str()
            .is_some_and(|m| m.contains("activeDeadlineSeconds=600")
                && m.contains("activeDeadlineSeconds=1800")),
        "{event:#}"
    );
    exec.wait_log("Remediation decided.").await?;
    assert_no_secret(&exec, &api);

    // The decision is also a span, in the trace of the remediation command.
    assert_eq!(audit["trace_id"], trace_id(1).as_str());
    let spans = otlp
        .wait_until(Duration::from_secs(30), "the remediate span", |spans| {
            spans
                .iter()
                .any(|s| s.attr("lastmile.remediation.decision").is_some())
        })
        .await?;
    let span = spans
        .iter()
        .find(|s| s.attr("lastmile.remediation.decision").is_some())
        .context("no decision span")?;
    assert_eq!(span.trace_id, trace_id(1));
    assert_eq!(span.attr("lastmile.remediation.decision"), Some("applied"));
    assert_eq!(span.attr("lastmile.remediation.who"), Some(IDENTITY));
    assert_eq!(span.attr("lastmile.target.name"), Some("migrate"));
    let spans_text = format!("{spans:?}");
    assert!(!spans_text.contains(SECRET), "spans leak: {spans_text}");
    Ok(())
}
