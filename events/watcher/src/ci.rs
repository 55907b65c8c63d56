//! CI deploy events for the [`Correlator`](crate::correlate::Correlator), read durably.
//!
//! The webhook publishes deploy events on `lastmile.ci.<provider>.deploy_requested`, kept by
//! the `LASTMILE_CI` stream. The watcher reads them through a **durable** JetStream consumer
//! (one per cluster, [`CiConsumer::durable`]), so events sent while it restarts are read when
//! it is back. It runs on the runtime's consumer loop
//! ([`lastmile_runtime::host::nats::run_consumer`]) and settles exactly as functions do: a
//! deploy event handed to the watch loop is acked; one that is not a CI CloudEvent is
//! dead-lettered on `lastmile.dlq.<durable>` with the reason (`Lastmile-Dlq-Reason`) and
//! never seen again.
//!
//! What the correlator learned lives in memory, and the durable consumer does not deliver
//! an acked event again; so at start the watcher first re-reads the deploy events of the
//! last hours from the stream ([`recent`], an ordered consumer that leaves nothing on the
//! server) and only then follows the durable consumer. Learning an event twice is harmless.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use lastmile_events::{CiEvent, CiEventKind, CloudEvent, subjects};
use lastmile_runtime::bus::{Bus, ConsumerSpec, Message};
use lastmile_runtime::executor::ProcessError;
use lastmile_runtime::host::nats::{HostError, HostOptions, HostReport, Processor, run_consumer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Default durable consumer name.
pub const DEFAULT_CONSUMER: &str = "watcher";

/// How far back [`recent`] re-reads deploy events at start.
pub const RECENT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Most deploy events [`recent`] keeps (the correlator's capacity).
pub const RECENT_MAX: usize = 10_000;

/// Deploy events buffered between the consumer and the watch loop.
const BUFFER: usize = 256;

/// The watcher's consumer of CI deploy events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiConsumer {
    /// Durable consumer name: one per cluster (each watcher must read every deploy event),
    /// the same across restarts of one watcher. Dead letters go to `lastmile.dlq.<durable>`.
    pub durable: String,
    /// How the consumer loop runs (deliveries, ack wait, backoff).
    pub host: HostOptions,
}

impl Default for CiConsumer {
    fn default() -> Self {
        Self {
            durable: DEFAULT_CONSUMER.into(),
            host: HostOptions {
                // Deploy events are learned in the order they were sent.
                concurrency: 1,
                ..HostOptions::default()
            },
        }
    }
}

/// An invalid [`CiConsumer`].
#[derive(Debug, thiserror::Error)]
#[error("invalid CI consumer name {0:?}: use letters, digits, '-' and '_' only")]
pub struct InvalidConsumerName(pub String);

impl CiConsumer {
    /// Checks the durable name against what JetStream accepts (no `.`, `*`, `>`, slashes,
    /// whitespace or control characters).
    pub fn validate(&self) -> Result<(), InvalidConsumerName> {
        let ok = !self.durable.is_empty()
            && self
                .durable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if ok {
            Ok(())
        } else {
            Err(InvalidConsumerName(self.durable.clone()))
        }
    }

    /// The consumer: every provider's deploy events.
    pub fn spec(&self) -> ConsumerSpec {
        ConsumerSpec {
            durable: self.durable.clone(),
            // Not `subjects::ci`: it would turn the wildcard into a literal token.
            subjects: vec![format!(
                "{}.ci.*.{}",
                subjects::ROOT,
                CiEventKind::DeployRequested.as_str()
            )],
            max_deliver: self.host.max_deliver,
            ack_wait: self.host.ack_wait,
        }
    }

    /// Starts consuming on `bus` until `shutdown`: returns the deploy events as a stream for
    /// [`crate::run`] and the consumer task (its report once stopped).
    pub fn start(
        &self,
        bus: Arc<dyn Bus>,
        shutdown: CancellationToken,
    ) -> (
        BoxStream<'static, CiEvent>,
        JoinHandle<Result<HostReport, HostError>>,
    ) {
        let (tx, rx) = mpsc::channel(BUFFER);
        let feed = Arc::new(CiFeed {
            name: self.durable.clone(),
            tx,
        });
        let (spec, opts) = (self.spec(), self.host.clone());
        let task = tokio::spawn(async move {
            let report = run_consumer(feed, spec, bus, opts, shutdown.cancelled_owned()).await;
            if let Err(e) = &report {
                tracing::error!(error = %e, "CI deploy events cannot be consumed; incidents are linked by annotations only.");
            }
            report
        });
        let events =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|ev| (ev, rx)) },
            )
            .boxed();
        (events, task)
    }
}

/// Why [`recent`] could not read the stream.
#[derive(Debug, thiserror::Error)]
#[error("cannot re-read recent CI deploy events: {0}")]
pub struct RecentError(String);

/// The deploy events stored in `LASTMILE_CI` during the last `window` (at most `max`, the
/// newest kept), read once through an ordered consumer; malformed ones are skipped (the
/// durable consumer dead-letters them). Bounded by `timeout`.
pub async fn recent(
    js: &async_nats::jetstream::Context,
    window: Duration,
    max: usize,
    timeout: Duration,
) -> Result<Vec<CiEvent>, RecentError> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let read = async {
        let err = |e: &dyn std::fmt::Display| RecentError(e.to_string());
        let start = chrono::Utc::now() - chrono::Duration::from_std(window).unwrap_or_default();
        let start =
            time::OffsetDateTime::from_unix_timestamp(start.timestamp()).map_err(|e| err(&e))?;
        let spec = CiConsumer::default().spec();
        let stream = js.get_stream("LASTMILE_CI").await.map_err(|e| err(&e))?;
        let mut consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: spec.subjects.concat(),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|e| err(&e))?;
        let pending = consumer.info().await.map_err(|e| err(&e))?.num_pending;
        let mut out = std::collections::VecDeque::new();
        if pending == 0 {
            return Ok(out);
        }
        let mut messages = consumer.messages().await.map_err(|e| err(&e))?;
        let mut seen = 0;
        while seen < pending {
            let Some(m) = messages.next().await else {
                break;
            };
            let m = m.map_err(|e| err(&e))?;
            seen += 1;
            let message = Message {
                subject: m.subject.to_string(),
                payload: m.payload.clone(),
                ..Default::default()
            };
            if let Ok(ev) = parse(&message) {
                out.push_back(ev);
                if out.len() > max {
                    out.pop_front();
                }
            }
        }
        Ok(out)
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r.map(Vec::from),
        Err(_) => Err(RecentError(format!("timed out after {timeout:?}"))),
    }
}

/// Hands each deploy event to the watch loop.
struct CiFeed {
    name: String,
    tx: mpsc::Sender<CiEvent>,
}

/// The deploy event a message carries, or why it is not one.
pub fn parse(message: &Message) -> Result<CiEvent, ProcessError> {
    let ce = CloudEvent::<CiEvent>::from_slice(&message.payload)
        .map_err(|e| ProcessError::BadInput(format!("not a CI CloudEvent: {e}")))?;
    if ce.data.kind != CiEventKind::DeployRequested {
        return Err(ProcessError::BadInput(format!(
            "a {} event on the deploy subject {}",
            ce.data.kind.as_str(),
            message.subject
        )));
    }
    Ok(ce.data)
}

#[async_trait]
impl Processor for CiFeed {
    fn name(&self) -> &str {
        &self.name
    }

    async fn process(&self, message: &Message) -> Result<(), ProcessError> {
        let event = parse(message)?;
        tracing::info!(run = %event.run.run_id, workloads = event.workloads.len(), "CI deploy event read.");
        self.tx
            .send(event)
            .await
            .map_err(|_| ProcessError::Retryable("the watch loop has stopped".into()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
