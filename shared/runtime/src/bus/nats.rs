//! NATS JetStream bus (async-nats): the production transport.
//!
//! - [`NatsConfig`]: where and how to connect (flags and env, validated before connecting).
//! - [`NatsBus::ensure_streams`]: creates or updates every stream of
//!   [`lastmile_events::subjects::STREAMS`], idempotently.
//! - Publishing waits for JetStream's acknowledgement; the caller's `Nats-Msg-Id` header
//!   makes re-sends inside the stream's duplicate window no-ops.
//! - Subscribing opens a durable **pull** consumer (explicit ack) named after the function,
//!   so every replica pulls from the same consumer and each message goes to one of them.
//!   JetStream redelivers up to [`ConsumerSpec::delivery_limit`] times; the host
//!   dead-letters a message itself (it knows the error), the bus only counts deliveries.
//!
//! Every network call is bounded by the configured request timeout. The client reconnects
//! on its own; the subscription re-opens its message stream (and re-creates the consumer if
//! it vanished) with exponential backoff after any error, so a server restart never ends it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::context::{CreateStreamErrorKind, PublishErrorKind};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind};
use async_nats::{ConnectErrorKind, HeaderMap, HeaderName, HeaderValue, ServerAddr};
use async_trait::async_trait;
use futures::StreamExt;
use lastmile_events::subjects::{Retention, STREAMS, StreamSpec};
use serde::Deserialize;

use super::memory::subject_matches;
use super::{Bus, BusError, ConsumerSpec, Delivery, Message, Publisher, Settle, Subscription};
use crate::redact;

/// How to reach NATS. Flags and environment variables; secrets never appear in `Debug`.
#[derive(Clone, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// NATS server URLs, comma-separated (`nats://host:4222`, `tls://host:4222`).
    #[arg(
        long = "nats-url",
        env = "NATS_URL",
        value_delimiter = ',',
        default_value = "nats://127.0.0.1:4222"
    )]
    #[serde(default = "default_urls")]
    pub urls: Vec<String>,
    /// Credentials file (user JWT and NKey seed) for NATS accounts/decentralised auth.
    #[arg(long = "nats-creds", env = "NATS_CREDS")]
    #[serde(default)]
    pub creds_file: Option<PathBuf>,
    /// Authentication token.
    #[arg(long = "nats-token", env = "NATS_TOKEN", hide_env_values = true)]
    #[serde(default)]
    pub token: Option<String>,
    /// User name (with `--nats-password`).
    #[arg(long = "nats-user", env = "NATS_USER")]
    #[serde(default)]
    pub user: Option<String>,
    /// Password for `--nats-user`.
    #[arg(long = "nats-password", env = "NATS_PASSWORD", hide_env_values = true)]
    #[serde(default)]
    pub password: Option<String>,
    /// How long the first connection may take (`500ms`, `5s`, `1m`).
    #[arg(long = "nats-connect-timeout", env = "NATS_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    #[serde(default = "default_connect_timeout", deserialize_with = "de_duration")]
    pub connect_timeout: Duration,
    /// Bound on every request to the server: JetStream API calls, publish acks, acks.
    #[arg(long = "nats-request-timeout", env = "NATS_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    #[serde(default = "default_request_timeout", deserialize_with = "de_duration")]
    pub request_timeout: Duration,
    /// Messages a subscription pulls ahead of processing. Pulled messages wait for a free
    /// worker while their ack deadline runs, so keep it near the host's concurrency.
    #[arg(long = "nats-pull-batch", env = "NATS_PULL_BATCH", default_value_t = DEFAULT_PULL_BATCH)]
    #[serde(default = "default_pull_batch")]
    pub pull_batch: usize,
}

const DEFAULT_PULL_BATCH: usize = 16;

fn default_urls() -> Vec<String> {
    vec!["nats://127.0.0.1:4222".to_owned()]
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_pull_batch() -> usize {
    DEFAULT_PULL_BATCH
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            urls: default_urls(),
            creds_file: None,
            token: None,
            user: None,
            password: None,
            connect_timeout: default_connect_timeout(),
            request_timeout: default_request_timeout(),
            pull_batch: DEFAULT_PULL_BATCH,
        }
    }
}

impl NatsConfig {
    /// A configuration for one server URL with the defaults otherwise.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            urls: vec![url.into()],
            ..Self::default()
        }
    }

    /// Checks the configuration without touching the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.urls.iter().all(|u| u.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "--nats-url: no server URL given".into(),
            ));
        }
        for url in self.urls.iter().filter(|u| !u.trim().is_empty()) {
            ServerAddr::from_str(url.trim()).map_err(|e| {
                ConfigError::Invalid(format!(
                    "--nats-url: {:?} is not a NATS URL: {e}",
                    redact::text(url)
                ))
            })?;
        }
        let methods = [
            self.creds_file.is_some(),
            self.token.is_some(),
            self.user.is_some(),
        ];
        if methods.iter().filter(|m| **m).count() > 1 {
            return Err(ConfigError::Invalid(
                "choose one of --nats-creds, --nats-token and --nats-user/--nats-password".into(),
            ));
        }
        if self.user.is_some() != self.password.is_some() {
            return Err(ConfigError::Invalid(
                "--nats-user and --nats-password go together".into(),
            ));
        }
        if let Some(path) = self.creds_file.as_ref().filter(|p| !p.is_file()) {
            return Err(ConfigError::Invalid(format!(
                "--nats-creds: {} is not a readable file",
                path.display()
            )));
        }
        for (name, value) in [
            ("--nats-connect-timeout", self.connect_timeout),
            ("--nats-request-timeout", self.request_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Invalid(format!(
                    "{name} must be greater than zero"
                )));
            }
        }
        if self.pull_batch == 0 {
            return Err(ConfigError::Invalid(
                "--nats-pull-batch must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("NatsConfig")
            .field("urls", &redact::text(&self.urls.join(",")))
            .field("creds_file", &self.creds_file)
            .field("token", &hidden(&self.token))
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("pull_batch", &self.pull_batch)
            .finish()
    }
}

/// A configuration value that cannot work. Bad input: fix the flags or environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The message names the flag and what is wrong with it.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Parses a duration written as `250ms`, `5s`, `2m`, `1h`, or bare seconds (`30`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration (e.g. 500ms, 5s, 2m, 1h)"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(format!(
                "{raw:?}: unknown unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    n.checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{raw:?} is too long"))
}

/// Serde adapter for durations written as [`parse_duration`] reads them.
fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    parse_duration(&raw).map_err(serde::de::Error::custom)
}

/// The JetStream stream configuration for one of lastmile's [`StreamSpec`]s.
pub fn stream_config(spec: &StreamSpec) -> stream::Config {
    stream::Config {
        name: spec.name.to_owned(),
        subjects: spec.subjects.iter().map(|s| (*s).to_owned()).collect(),
        description: Some(spec.description.to_owned()),
        retention: match spec.retention {
            Retention::Limits => RetentionPolicy::Limits,
            Retention::WorkQueue => RetentionPolicy::WorkQueue,
        },
        max_age: Duration::from_secs(spec.max_age_secs),
        duplicate_window: Duration::from_secs(spec.duplicate_window_secs),
        max_message_size: spec.max_msg_size,
        storage: StorageType::File,
        discard: DiscardPolicy::Old,
        num_replicas: 1,
        ..Default::default()
    }
}

/// A connected JetStream bus. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    request_timeout: Duration,
    pull_batch: usize,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("state", &self.client.connection_state())
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// Validates `config` and connects. Fails (rather than retrying forever) when the first
    /// connection cannot be made, so a misconfigured host exits with a clear cause; later
    /// disconnections are retried by the client without limit.
    pub async fn connect(config: &NatsConfig) -> Result<Self, BusError> {
        config
            .validate()
            .map_err(|e| BusError::Rejected(e.to_string()))?;
        let mut options = async_nats::ConnectOptions::new()
            .name("lastmile")
            .connection_timeout(config.connect_timeout)
            .request_timeout(Some(config.request_timeout))
            .max_reconnects(None)
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("NATS connected."),
                    async_nats::Event::Disconnected => {
                        tracing::warn!("NATS disconnected; reconnecting.")
                    }
                    other => tracing::info!(event = %other, "NATS connection event."),
                }
            });
        if let Some(path) = &config.creds_file {
            options = options.credentials_file(path).await.map_err(|e| {
                BusError::Rejected(format!(
                    "cannot read NATS credentials file {}: {e}",
                    path.display()
                ))
            })?;
        }
        if let Some(token) = &config.token {
            options = options.token(token.clone());
        }
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            options = options.user_and_password(user.clone(), password.clone());
        }
        let urls: Vec<&str> = config
            .urls
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .collect();
        // URLs may carry `user:password@`; errors show them redacted.
        let shown_urls = redact::text(&urls.join(",")).into_owned();
        // The client bounds each attempt by connect_timeout; bound the whole call too.
        let connect = options.connect(urls.as_slice());
        let client = tokio::time::timeout(config.connect_timeout.saturating_mul(2), connect)
            .await
            .map_err(|_| BusError::Unavailable(format!("no NATS server answered at {shown_urls}")))?
            .map_err(|e| {
                let detail = format!("cannot connect to NATS at {shown_urls}: {e}");
                match e.kind() {
                    ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
                        BusError::Rejected(detail)
                    }
                    _ => BusError::Unavailable(detail),
                }
            })?;
        Ok(Self::from_client(
            client,
            config.request_timeout,
            config.pull_batch,
        ))
    }

    /// Wraps an already connected client.
    pub fn from_client(
        client: async_nats::Client,
        request_timeout: Duration,
        pull_batch: usize,
    ) -> Self {
        let js = jetstream::ContextBuilder::new()
            .timeout(request_timeout)
            .backpressure_on_inflight(true)
            .build(client.clone());
        Self {
            client,
            js,
            request_timeout,
            pull_batch: pull_batch.max(1),
        }
    }

    /// The NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Creates or updates every stream lastmile uses. Safe to run on every start and from
    /// every replica at once.
    pub async fn ensure_streams(&self) -> Result<(), BusError> {
        for spec in STREAMS {
            self.ensure_stream(spec).await?;
        }
        Ok(())
    }

    /// Creates or updates one stream; returns the server's view of it.
    pub async fn ensure_stream(&self, spec: &StreamSpec) -> Result<stream::Info, BusError> {
        let call = self.js.create_or_update_stream(stream_config(spec));
        let info = self
            .bounded(&format!("creating stream {}", spec.name), call)
            .await?
            .map_err(|e| {
                let detail = format!("cannot create or update stream {}: {e}", spec.name);
                match e.kind() {
                    CreateStreamErrorKind::TimedOut
                    | CreateStreamErrorKind::JetStreamUnavailable => BusError::Unavailable(detail),
                    _ => BusError::Rejected(detail),
                }
            })?;
        tracing::debug!(stream = spec.name, "Stream ensured.");
        Ok(info)
    }

    /// Runs `call` under the request timeout.
    async fn bounded<T>(
        &self,
        what: &str,
        call: impl std::future::IntoFuture<Output = T>,
    ) -> Result<T, BusError> {
        tokio::time::timeout(self.request_timeout, call.into_future())
            .await
            .map_err(|_| {
                BusError::Unavailable(format!(
                    "{what}: no answer within {:?}",
                    self.request_timeout
                ))
            })
    }

    /// The stream holding `subjects`: lastmile's own table first, else the server's answer.
    async fn stream_of(&self, subjects: &[String]) -> Result<String, BusError> {
        let first = subjects
            .first()
            .ok_or_else(|| BusError::Rejected("a consumer needs at least one subject".into()))?;
        let known = STREAMS.iter().find(|s| {
            subjects.iter().all(|subject| {
                s.subjects
                    .iter()
                    .any(|p| p == subject || subject_matches(p, subject))
            })
        });
        if let Some(spec) = known {
            return Ok(spec.name.to_owned());
        }
        self.bounded(
            "looking up the stream",
            self.js.stream_by_subject(first.clone()),
        )
        .await?
        .map_err(|e| BusError::Rejected(format!("no stream captures {first}: {e}")))
    }
}

#[async_trait]
impl Publisher for NatsBus {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        let headers = to_header_map(&message.headers)?;
        let publish = jetstream::message::PublishMessage::build()
            .payload(message.payload)
            .headers(headers);
        let what = format!("publishing on {}", message.subject);
        let ack = self
            .bounded(
                &what,
                self.js.send_publish(message.subject.clone(), publish),
            )
            .await?;
        let ack = self
            .bounded(&what, ack.map_err(|e| publish_error(&message.subject, e))?)
            .await?;
        let ack = ack.map_err(|e| publish_error(&message.subject, e))?;
        if ack.duplicate {
            tracing::debug!(subject = %message.subject, stream = %ack.stream, "Duplicate dropped by JetStream.");
        }
        Ok(())
    }
}

fn publish_error(subject: &str, e: jetstream::context::PublishError) -> BusError {
    let detail = format!("publishing on {subject}: {e}");
    match e.kind() {
        // "No stream" is also what a server whose JetStream is still starting answers.
        PublishErrorKind::StreamNotFound
        | PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending
        | PublishErrorKind::Other => BusError::Unavailable(detail),
        PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence
        | PublishErrorKind::MaxPayloadExceeded => BusError::Rejected(detail),
    }
}

fn to_header_map(headers: &BTreeMap<String, String>) -> Result<HeaderMap, BusError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_str(name)
            .map_err(|_| BusError::Rejected(format!("invalid header name {name:?}")))?;
        let v = HeaderValue::from_str(value).map_err(|_| {
            BusError::Rejected(format!(
                "invalid value for header {name} (no CR or LF allowed)"
            ))
        })?;
        map.insert(n, v);
    }
    Ok(map)
}

fn from_header_map(headers: Option<&HeaderMap>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, values) in headers.into_iter().flat_map(HeaderMap::iter) {
        if let Some(last) = values.last() {
            out.insert(name.to_string(), last.as_str().to_owned());
        }
    }
    out
}

#[async_trait]
impl Bus for NatsBus {
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        if spec.durable.is_empty() || spec.durable.contains(['.', '*', '>', ' ']) {
            return Err(BusError::Rejected(format!(
                "invalid durable consumer name {:?}",
                spec.durable
            )));
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
        // Fail fast on a consumer the server refuses; later errors are retried in `next`.
        subscription.messages = Some(subscription.open().await?);
        Ok(Box::new(subscription))
    }
}

/// Backoff between attempts to re-open a subscription: 100 ms doubling up to 5 s.
fn reopen_backoff(failures: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << failures.min(6))).min(Duration::from_secs(5))
}

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
                    match e.kind() {
                        stream::ConsumerErrorKind::TimedOut
                        | stream::ConsumerErrorKind::Request => BusError::Unavailable(detail),
                        _ => BusError::Rejected(detail),
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
            .map_err(|e| BusError::Unavailable(format!("cannot pull from consumer {name}: {e}")))
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
                    return Some(Err(BusError::Unavailable(format!(
                        "pulling from {}: {e}",
                        self.stream
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
                BusError::Unavailable(format!("{what}: no answer within {:?}", self.timeout))
            })?
            .map_err(|e| BusError::Unavailable(format!("{what}: {e}")))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration(" 1h "), Ok(Duration::from_secs(3600)));
        for bad in ["", "s", "5 days", "-1s", "1.5s", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_validation_names_the_flag() {
        assert_eq!(NatsConfig::default().validate(), Ok(()));
        let cases = [
            (
                NatsConfig {
                    urls: vec![" ".into()],
                    ..Default::default()
                },
                "--nats-url",
            ),
            (
                NatsConfig {
                    urls: vec!["nats://host:notaport".into()],
                    ..Default::default()
                },
                "--nats-url",
            ),
            (
                NatsConfig {
                    token: Some("t".into()),
                    user: Some("u".into()),
                    password: Some("p".into()),
                    ..Default::default()
                },
                "choose one",
            ),
            (
                NatsConfig {
                    user: Some("u".into()),
                    ..Default::default()
                },
                "--nats-password",
            ),
            (
                NatsConfig {
                    creds_file: Some("/nonexistent/user.creds".into()),
                    ..Default::default()
                },
                "--nats-creds",
            ),
            (
                NatsConfig {
                    request_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "--nats-request-timeout",
            ),
            (
                NatsConfig {
                    pull_batch: 0,
                    ..Default::default()
                },
                "--nats-pull-batch",
            ),
        ];
        for (config, flag) in cases {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(flag), "{err} should mention {flag}");
        }
    }

    #[test]
    fn config_from_json_rejects_unknown_fields_and_reads_durations() {
        let ok: NatsConfig =
            serde_json::from_str(r#"{"urls":["nats://a:4222"],"request_timeout":"2s"}"#).unwrap();
        assert_eq!(ok.request_timeout, Duration::from_secs(2));
        assert_eq!(ok.connect_timeout, Duration::from_secs(5));
        let err = serde_json::from_str::<NatsConfig>(r#"{"url":"nats://a:4222"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn debug_hides_secrets() {
        let config = NatsConfig {
            user: Some("ci".into()),
            password: Some("hunter2-secret".into()),
            ..Default::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let config = NatsConfig::with_url("nats://ci:url-s3cr3t@nats.example.com:4222");
        assert!(!format!("{config:?}").contains("url-s3cr3t"));
        let config = NatsConfig {
            token: Some("s3cr3t-token".into()),
            ..Default::default()
        };
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn stream_config_follows_the_spec() {
        for spec in STREAMS {
            let c = stream_config(spec);
            assert_eq!(c.name, spec.name);
            assert_eq!(c.subjects, spec.subjects);
            assert_eq!(c.max_age, Duration::from_secs(spec.max_age_secs));
            assert_eq!(
                c.duplicate_window,
                Duration::from_secs(spec.duplicate_window_secs)
            );
            assert_eq!(c.max_message_size, spec.max_msg_size);
        }
    }

    #[test]
    fn header_values_with_newlines_are_rejected_not_panicking() {
        let mut headers = BTreeMap::new();
        headers.insert(
            "Lastmile-Dlq-Reason".to_owned(),
            "line one\r\nline two".to_owned(),
        );
        assert!(matches!(
            to_header_map(&headers),
            Err(BusError::Rejected(_))
        ));
        let mut headers = BTreeMap::new();
        headers.insert("bad:name".to_owned(), "v".to_owned());
        assert!(matches!(
            to_header_map(&headers),
            Err(BusError::Rejected(_))
        ));
    }

    #[test]
    fn reopen_backoff_grows_and_is_capped() {
        assert!(reopen_backoff(1) < reopen_backoff(2));
        assert_eq!(reopen_backoff(40), Duration::from_secs(5));
    }
}
