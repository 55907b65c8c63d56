//! Consuming: a durable pull consumer per function, re-opened with backoff after any
//! error, and deliveries settled with JetStream acks.

use std::time::Duration;

use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::stream;
use async_nats::jetstream::{self, AckKind, ErrorCode};
use async_trait::async_trait;
use futures::StreamExt;

use super::NatsBus;
use super::publish::from_header_map;
use super::retry::Backoff;
use super::streams::cluster_not_ready;
use crate::bus::{Bus, BusError, ConsumerSpec, Delivery, Message, Settle, Subscription};
use crate::error::Detail;

#[async_trait]
impl Bus for NatsBus {
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        if spec.durable.is_empty() || spec.durable.contains(['.', '*', '>', ' ']) {
            return Err(BusError::Rejected(
                format!("invalid durable consumer name {:?}", spec.durable).into(),
            ));
        }
        let stream = self.stream_of(&spec.subjects).await?;
        let (filter_subject, filter_subjects) = match spec.subjects.as_slice() {
            [one] => (one.clone(), Vec::new()),
            many => (String::new(), many.to_vec()),
        };
        let config = consumer::pull::Config {
            durable_name: Some(spec.durable.clone()),
            description: Some(format!("lastmile function {}", spec.durable)),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            max_deliver: i64::try_from(spec.delivery_limit()).unwrap_or(-1),
            filter_subject,
            filter_subjects,
            ..Default::default()
        };
        let mut subscription = NatsSubscription {
            bus: self.clone(),
            stream,
            config,
            messages: None,
            failures: 0,
        };
        // Fail on a consumer the server refuses; while the cluster cannot answer yet (it is
        // forming, or electing the stream's leader) retry within the budget. Later errors
        // are retried in `next` without limit.
        let what = format!("creating consumer {}", spec.durable);
        let messages = self.retrying(&what, || subscription.open()).await?;
        subscription.messages = Some(messages);
        Ok(Box::new(subscription))
    }
}

/// Backoff between attempts to re-open a subscription: 100 ms doubling up to 5 s, jittered
/// (every replica lost its pull at the same moment when a leader died).
pub(super) fn reopen_backoff(failures: u32) -> Duration {
    Backoff::CLUSTER.delay(failures)
}

/// Consecutive failures to re-open after which the client is made to reconnect: requests
/// that keep timing out on a connection that looks up mean the server it is connected to
/// was cut off (a partition keeps sockets open), and another server of the cluster can
/// answer.
const RECONNECT_AFTER_FAILURES: u32 = 3;

/// How long a pull request waits on the server, and how often the server proves it is alive
/// while one waits (a missed heartbeat means the connection is gone: re-open).
const PULL_EXPIRES: Duration = Duration::from_secs(30);
const PULL_HEARTBEAT: Duration = Duration::from_secs(5);

/// A durable pull subscription that survives server restarts.
struct NatsSubscription {
    bus: NatsBus,
    stream: String,
    config: consumer::pull::Config,
    messages: Option<consumer::pull::Stream>,
    failures: u32,
}

impl NatsSubscription {
    /// Creates (or updates, or re-creates) the consumer and starts pulling.
    async fn open(&self) -> Result<consumer::pull::Stream, BusError> {
        let name = self.config.durable_name.clone().unwrap_or_default();
        let create = self
            .bus
            .js
            .create_consumer_on_stream(self.config.clone(), self.stream.clone());
        let consumer: PullConsumer =
            self.bus
                .bounded(&format!("creating consumer {name}"), create)
                .await?
                .map_err(|e| {
                    let detail = format!("cannot create consumer {name} on {}: {e}", self.stream);
                    let transient = match e.kind() {
                        stream::ConsumerErrorKind::TimedOut
                        | stream::ConsumerErrorKind::Request => true,
                        stream::ConsumerErrorKind::JetStream(js) => {
                            cluster_not_ready(js.error_code())
                            // A stream just created may not have its leader yet.
                            || js.error_code() == ErrorCode::STREAM_NOT_FOUND
                        }
                        _ => false,
                    };
                    if transient {
                        BusError::Unavailable(Detail::caused_by(detail, e))
                    } else {
                        BusError::Rejected(Detail::caused_by(detail, e))
                    }
                })?;
        let pull = consumer
            .stream()
            .max_messages_per_batch(self.bus.pull_batch)
            .expires(PULL_EXPIRES)
            .heartbeat(PULL_HEARTBEAT)
            .messages();
        self.bus
            .bounded(&format!("starting to pull from {name}"), pull)
            .await?
            .map_err(|e| {
                BusError::Unavailable(Detail::caused_by(
                    format!("cannot pull from consumer {name}: {e}"),
                    e,
                ))
            })
    }
}

#[async_trait]
impl Subscription for NatsSubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        loop {
            let Some(messages) = self.messages.as_mut() else {
                match self.open().await {
                    Ok(messages) => {
                        tracing::info!(stream = %self.stream, "Pulling again.");
                        self.messages = Some(messages);
                        continue;
                    }
                    Err(e) => {
                        self.failures = self.failures.saturating_add(1);
                        if self.failures.is_multiple_of(RECONNECT_AFTER_FAILURES)
                            && e.is_retryable()
                        {
                            tracing::warn!(error = %e, failures = self.failures, "The server does not answer; reconnecting to another one.");
                            if let Err(e) = self.bus.client.force_reconnect().await {
                                tracing::warn!(error = %e, "Reconnect failed; the client keeps trying.");
                            }
                        }
                        tokio::time::sleep(reopen_backoff(self.failures)).await;
                        return Some(Err(e));
                    }
                }
            };
            match messages.next().await {
                Some(Ok(message)) => {
                    self.failures = 0;
                    return Some(Ok(delivery(message, self.bus.request_timeout)));
                }
                Some(Err(e)) => {
                    self.messages = None;
                    self.failures = self.failures.saturating_add(1);
                    tracing::warn!(error = %e, stream = %self.stream, "Pull failed; re-opening the subscription.");
                    tokio::time::sleep(reopen_backoff(self.failures)).await;
                    return Some(Err(BusError::Unavailable(Detail::caused_by(
                        format!("pulling from {}: {e}", self.stream),
                        e,
                    ))));
                }
                None => {
                    self.messages = None;
                    self.failures = self.failures.saturating_add(1);
                    tokio::time::sleep(reopen_backoff(self.failures)).await;
                }
            }
        }
    }
}

fn delivery(message: jetstream::Message, timeout: Duration) -> Delivery {
    let attempt = message
        .info()
        .map(|i| u64::try_from(i.delivered).unwrap_or(1).max(1))
        .unwrap_or(1);
    let (message, acker) = message.split();
    let message = Message {
        subject: message.subject.to_string(),
        headers: from_header_map(message.headers.as_ref()),
        payload: message.payload,
    };
    Delivery {
        message,
        attempt,
        settle: Box::new(NatsSettle { acker, timeout }),
    }
}

/// Settles a JetStream delivery. Ack and term wait for the server's confirmation, so work
/// reported as acknowledged survives a server restart.
struct NatsSettle {
    acker: Acker,
    timeout: Duration,
}

impl NatsSettle {
    async fn send(&self, kind: AckKind, confirm: bool) -> Result<(), BusError> {
        let what = format!("{kind:?}");
        let call = async {
            if confirm {
                self.acker.double_ack_with(kind).await
            } else {
                self.acker.ack_with(kind).await
            }
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| {
                BusError::Unavailable(format!("{what}: no answer within {:?}", self.timeout).into())
            })?
            .map_err(|e| BusError::Unavailable(Detail::caused_by(format!("{what}: {e}"), e)))
    }
}

#[async_trait]
impl Settle for NatsSettle {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.send(AckKind::Ack, true).await
    }

    async fn nak(self: Box<Self>, delay: Duration) -> Result<(), BusError> {
        let delay = (!delay.is_zero()).then_some(delay);
        self.send(AckKind::Nak(delay), false).await
    }

    async fn term(self: Box<Self>) -> Result<(), BusError> {
        self.send(AckKind::Term, true).await
    }

    async fn in_progress(&mut self) -> Result<(), BusError> {
        self.send(AckKind::Progress, false).await
    }
}
