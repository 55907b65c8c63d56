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
    #[error("cannot read from NATS: {0}")]
    Nats(String),
}

/// Ordered JetStream consumers on the diagnosis, incident, Job and CI subjects, starting
/// `lookback` ago, merged into one stream.
pub async fn nats_source(
    js: &async_nats::jetstream::Context,
    lookback: Duration,
) -> Result<BoxStream<'static, Message>, GateError> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let start = Utc::now() - chrono::Duration::from_std(lookback).unwrap_or_default();
    let start = time::OffsetDateTime::from_unix_timestamp(start.timestamp())
        .map_err(|e| GateError::Nats(e.to_string()))?;
    let wanted: [(&str, &str); 4] = [
        ("LASTMILE_DIAGNOSES", "lastmile.diagnosis.>"),
        ("LASTMILE_INCIDENTS", "lastmile.incident.>"),
        ("LASTMILE_K8S", "lastmile.k8s.job.>"),
        ("LASTMILE_CI", "lastmile.ci.>"),
    ];
    let mut streams = Vec::new();
    for (stream, filter) in wanted {
        let s = js
            .get_stream(stream)
            .await
            .map_err(|e| GateError::Nats(format!("stream {stream}: {e}")))?;
        let consumer = s
            .create_consumer(pull::OrderedConfig {
                filter_subject: filter.to_owned(),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|e| GateError::Nats(format!("consumer on {stream}: {e}")))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| GateError::Nats(format!("reading {stream}: {e}")))?;
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
