//! A finished Job is announced on the K8s stream, for the gate.

use lastmile_events::{CloudEvent, K8sObservation};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;

use super::{bus, config, fixture, start_watcher, wait_for};

#[tokio::test]
async fn finished_job_is_announced_for_the_gate() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    api.apply(fixture("job-migrate-active.json"))?;
    let w = start_watcher(&api, bus, config()).await?;
    let mut done = fixture("job-migrate-complete.json");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for c in done["status"]["conditions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        c["lastTransitionTime"] = now.clone().into();
    }
    api.apply(done)?;
    let s = wait_for(&js, "LASTMILE_K8S", "the Job completion", |s| !s.is_empty()).await?;
    let (_, subject, payload) = &s[0];
    assert_eq!(subject, "lastmile.k8s.job.ci");
    let ce = CloudEvent::<K8sObservation>::from_slice(payload)?;
    assert_eq!(ce.subject.as_deref(), Some("job/ci/migrate"));
    assert!(matches!(ce.data, K8sObservation::Job(_)));
    w.stop.cancel();
    w.task.await?;
    Ok(())
}
