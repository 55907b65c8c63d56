//! Patches outside the allowlist are refused and nothing is patched; without an allowlist the
//! executor does not even read the target.

use anyhow::Context as _;
use serde_json::json;

use super::{
    Executor, JOB_PATH, SECRET, assert_no_secret, job, merge, publish, setup, target, wait_events,
};

#[tokio::test]
async fn remediate_refuses_other_namespaces_kinds_fields_and_bounds_and_patches_nothing()
-> anyhow::Result<()> {
    let (nats, bus, api) = setup().await?;
    api.apply(job("ci", "migrate", 600))?;
    api.apply(job("prod", "migrate", 600))?;
    api.apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ci"}, "spec": {"replicas": 1}}))?;
    let exec = Executor::spawn(&nats, &api, &["ci=job.active-deadline-seconds:3600"])?;
    let cases = [
        (
            merge(
                target("batch/v1", "Job", "prod", "migrate"),
                json!({"spec": {"activeDeadlineSeconds": 1200}}),
            ),
            "namespace prod has no allowlist",
        ),
        (
            merge(
                target("apps/v1", "Deployment", "ci", "web"),
                json!({"spec": {"replicas": 0}}),
            ),
            "apps/v1/Deployment is not an allowlisted kind",
        ),
        (
            merge(
                target("batch/v1", "Job", "ci", "migrate"),
                json!({"spec": {"activeDeadlineSeconds": 99999}}),
            ),
            "above the bound of 3600 seconds",
        ),
        (
            merge(
                target("batch/v1", "Job", "ci", "migrate"),
                json!({"spec": {"activeDeadlineSeconds": 1200, "template": {"spec": {"containers": [
                    {"name": "main", "env": [{"name": "DB_PASSWORD", "value": SECRET}]}]}}}}),
            ),
            "field spec.template is outside the allowlist",
        ),
        (
            merge(
                target("batch/v1", "Job", "ci", "migrate"),
                json!({"spec": {"activeDeadlineSeconds": 300}}),
            ),
            "only raising is allowed",
        ),
    ];
    for (n, (patch, _)) in cases.iter().enumerate() {
        publish(&bus, 10 + n, patch.clone()).await?;
    }
    let audits = exec.wait_audits(cases.len()).await?;
    for (_, reason) in &cases {
        let audit = audits
            .iter()
            .find(|a| a["reason"].as_str().is_some_and(|r| r.contains(reason)))
            .with_context(|| format!("no audit entry says {reason:?}: {audits:#?}"))?;
        assert_eq!(audit["decision"], "refused", "{audit:#}");
        assert_eq!(audit["after"], json!({}), "{audit:#}");
    }
    assert!(
        api.writes().iter().all(|w| w.method != "PATCH"),
        "nothing is patched: {:#?}",
        api.writes()
    );
    let live = api
        .get("batch/v1", "Job", "ci", "migrate")
        .context("job gone")?;
    assert_eq!(live["spec"]["activeDeadlineSeconds"], 600);
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0].get("env"),
        None
    );
    let refused_events = wait_events(&api, "", cases.len(), |e| {
        e["reason"] == "RemediationRefused" && e["type"] == "Warning"
    })
    .await?
    .len();
    assert_eq!(refused_events, cases.len());
    exec.wait_log("Remediation not applied.").await?;
    assert_no_secret(&exec, &api);
    Ok(())
}

#[tokio::test]
async fn remediate_is_off_without_an_allowlist() -> anyhow::Result<()> {
    let (nats, bus, api) = setup().await?;
    api.apply(job("ci", "migrate", 600))?;
    let exec = Executor::spawn(&nats, &api, &[])?;
    publish(
        &bus,
        20,
        merge(
            target("batch/v1", "Job", "ci", "migrate"),
            json!({"spec": {"activeDeadlineSeconds": 1200}}),
        ),
    )
    .await?;
    let audits = exec.wait_audits(1).await?;
    assert_eq!(audits[0]["decision"], "refused");
    assert_eq!(audits[0]["reason"], "namespace ci has no allowlist");
    assert!(api.writes().iter().all(|w| w.method != "PATCH"));
    assert!(
        api.requests().iter().all(|r| !r.starts_with(JOB_PATH)),
        "not even read"
    );
    Ok(())
}
