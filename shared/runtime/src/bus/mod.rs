//! The bus: publish with acknowledgement, consume with explicit ack / nak / term.
//!
//! Two implementations share these traits: [`nats`] (JetStream, production) and
//! [`memory`] (in-process, the embedded default used by `lastmile replay`).

pub mod memory;
pub mod nats;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::Detail;

/// Header carrying the reason a message was dead-lettered.
pub const DLQ_REASON_HEADER: &str = "Lastmile-Dlq-Reason";
/// Header carrying the subject a dead-lettered message was first published on.
pub const DLQ_SUBJECT_HEADER: &str = "Lastmile-Dlq-Subject";
/// JetStream's de-duplication header.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";
/// W3C trace context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// A message as read from or written to the bus.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The subject it was published on, or is to be (`lastmile.incident.<family>`, …).
    pub subject: String,
    /// Headers (names as sent; `traceparent`, `Nats-Msg-Id`, …).
    pub headers: BTreeMap<String, String>,
    /// Body: a structured-mode CloudEvent (or the raw bytes of a dead-lettered message).
    pub payload: Bytes,
}

impl Message {
    /// A header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Bus failures, each saying whether a retry can help. The client's own error (async-nats'
/// `ConnectError`, `PublishError`, ...) is kept as the [`Detail`]'s source.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The server is unreachable or did not acknowledge in time: retry.
    #[error("bus unavailable: {0}")]
    Unavailable(#[source] Detail),
    /// The server refused the operation (bad stream config, permissions): do not retry.
    #[error("bus rejected the operation: {0}")]
    Rejected(#[source] Detail),
    /// The subscription ended (host shutting down).
    #[error("subscription closed")]
    Closed,
}

impl BusError {
    /// True when retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Publishes and waits for the server's acknowledgement. `Nats-Msg-Id` must be set by the
/// caller (stable ids make re-sends idempotent).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes one message; returns once the bus has stored it.
    async fn publish(&self, message: Message) -> Result<(), BusError>;
}

/// How a delivery is settled. Exactly one of these is called per delivery.
#[async_trait]
pub trait Settle: Send {
    /// Done; never deliver again.
    async fn ack(self: Box<Self>) -> Result<(), BusError>;
    /// Failed transiently; deliver again after `delay`.
    async fn nak(self: Box<Self>, delay: Duration) -> Result<(), BusError>;
    /// Never deliver again (it was dead-lettered).
    async fn term(self: Box<Self>) -> Result<(), BusError>;
    /// Still working: extend the ack deadline.
    async fn in_progress(&mut self) -> Result<(), BusError>;
}

/// One delivery of a message to a consumer.
pub struct Delivery {
    /// The message.
    pub message: Message,
    /// 1 for the first delivery, 2 for the first redelivery, …
    pub attempt: u64,
    /// How to settle it.
    pub settle: Box<dyn Settle>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.message.subject)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// A stream of deliveries for one durable consumer.
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery; `None` when the subscription ended.
    async fn next(&mut self) -> Option<Result<Delivery, BusError>>;
}

/// Consumer settings shared by all replicas of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Durable name (the function name): replicas with the same name share the work.
    pub durable: String,
    /// Subjects to consume.
    pub subjects: Vec<String>,
    /// Deliveries after which a failing message is dead-lettered.
    pub max_deliver: u64,
    /// How long a delivery may stay unacknowledged before the server redelivers it.
    pub ack_wait: Duration,
}

impl ConsumerSpec {
    /// How many times the bus delivers one message at most: `max_deliver + 1`. The host
    /// dead-letters a message itself once `attempt >= max_deliver`; the one extra delivery
    /// lets it also dead-letter a message whose every attempt died unsettled (a consumer
    /// crash or an ack deadline missed) instead of the bus dropping it silently.
    pub fn delivery_limit(&self) -> u64 {
        self.max_deliver.saturating_add(1)
    }
}

/// A bus: publish and consume.
#[async_trait]
pub trait Bus: Publisher {
    /// Opens (creating if needed) the durable consumer and streams its deliveries.
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError>;
}
