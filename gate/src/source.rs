//! The gate's messages from NATS: ordered JetStream consumers, merged.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use lastmile_runtime::bus::Message;

/// Gate errors (connecting and subscribing).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// NATS could not be reached or a consumer could not be created: retryable.
    #[error("cannot read from NATS: {what}: {source}")]
    Nats {
        /// What was being done (`stream LASTMILE_CI`, `consumer on LASTMILE_K8S`, …).
        what: String,
        /// async-nats' error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl GateError {
    fn nats(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Nats {
            what: what.into(),
            source: source.into(),
        }
    }
}

/// The watcher's readiness signals the gate reads from `LASTMILE_K8S`: finished Jobs, and
/// Deployments, StatefulSets and DaemonSets whose rollout state changed (one consumer with
/// several filter subjects, NATS 2.10+).
pub const READINESS_SUBJECTS: &[&str] = &[
    "lastmile.k8s.job.>",
    "lastmile.k8s.deployment.>",
    "lastmile.k8s.statefulset.>",
    "lastmile.k8s.daemonset.>",
];

/// Ordered JetStream consumers on the diagnosis, incident, readiness ([`READINESS_SUBJECTS`])
/// and CI subjects, starting `lookback` ago, merged into one stream.
pub async fn nats_source(
    js: &async_nats::jetstream::Context,
    lookback: Duration,
) -> Result<BoxStream<'static, Message>, GateError> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let start = Utc::now() - chrono::Duration::from_std(lookback).unwrap_or_default();
    let start = time::OffsetDateTime::from_unix_timestamp(start.timestamp())
        .map_err(|e| GateError::nats("the lookback start", e))?;
    let wanted: [(&str, &[&str]); 4] = [
        ("LASTMILE_DIAGNOSES", &["lastmile.diagnosis.>"]),
        ("LASTMILE_INCIDENTS", &["lastmile.incident.>"]),
        ("LASTMILE_K8S", READINESS_SUBJECTS),
        ("LASTMILE_CI", &["lastmile.ci.>"]),
    ];
    let mut streams = Vec::new();
    for (stream, filter) in wanted {
        let s = js
            .get_stream(stream)
            .await
            .map_err(|e| GateError::nats(format!("stream {stream}"), e))?;
        let consumer = s
            .create_consumer(pull::OrderedConfig {
                filter_subjects: filter.iter().map(|f| (*f).to_owned()).collect(),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|e| GateError::nats(format!("consumer on {stream}"), e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| GateError::nats(format!("reading {stream}"), e))?;
        streams.push(
            messages
                .filter_map(|m| async move {
                    let m = m.ok()?;
                    let headers = m
                        .headers
                        .as_ref()
                        .map(|h| {
                            h.iter()
                                .filter_map(|(k, v)| Some((k.to_string(), v.first()?.to_string())))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(Message {
                        subject: m.subject.to_string(),
                        headers,
                        payload: m.payload.clone(),
                    })
                })
                .boxed(),
        );
    }
    Ok(futures::stream::select_all(streams).boxed())
}
