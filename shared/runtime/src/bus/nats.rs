//! NATS JetStream bus (async-nats): the production transport.
//!
//! - [`NatsConfig`]: where and how to connect (flags and env, validated before connecting).
//! - [`NatsBus::ensure_streams`]: creates or updates every stream of
//!   [`lastmile_events::subjects::STREAMS`], idempotently.
//! - Publishing waits for JetStream's acknowledgement; the caller's `Nats-Msg-Id` header
//!   makes re-sends inside the stream's duplicate window no-ops.
//! - Subscribing opens a durable **pull** consumer (explicit ack) named after the function,
//!   so every replica pulls from the same consumer and each message goes to one of them.
//!   JetStream redelivers up to [`ConsumerSpec::delivery_limit`](super::ConsumerSpec::delivery_limit) times; the host
//!   dead-letters a message itself (it knows the error), the bus only counts deliveries.
//!
//! Every network call is bounded by the configured request timeout. The client reconnects
//! on its own (and, when a pull keeps timing out on a connection that still looks up, is
//! made to reconnect to another server: a partitioned server stops answering without
//! closing its sockets); the subscription re-opens its message stream (and re-creates the
//! consumer if it vanished) with jittered exponential backoff after any error, so a server
//! restart or a leader election never ends it. Calls a cluster cannot answer yet are
//! retried for `--nats-retry-for` ([`retry`]).

mod config;
mod consume;
mod publish;
pub mod retry;
mod streams;

use std::time::Duration;

use async_nats::ConnectErrorKind;
use async_nats::jetstream;

pub use config::{ConfigError, DurationError, NatsConfig, parse_duration};
pub use streams::stream_config;

use super::BusError;

/// How often the client pings the server it is connected to.
const PING_INTERVAL: Duration = Duration::from_secs(10);
use crate::error::Detail;
use crate::redact;

/// A connected JetStream bus. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    request_timeout: Duration,
    pull_batch: usize,
    stream_replicas: usize,
    retry_for: Duration,
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
            .map_err(|e| BusError::Rejected(Detail::caused_by(e.to_string(), e)))?;
        crate::tls::install_crypto_provider();
        let mut options = async_nats::ConnectOptions::new()
            .name("lastmile")
            .connection_timeout(config.connect_timeout)
            .request_timeout(Some(config.request_timeout))
            .max_reconnects(None)
            // A server that stops answering without closing the socket (a partition) is
            // noticed after two missed pings, not the default two minutes.
            .ping_interval(PING_INTERVAL)
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
                BusError::Rejected(Detail::caused_by(
                    format!("cannot read NATS credentials file {}: {e}", path.display()),
                    e,
                ))
            })?;
        }
        if let Some(ca) = &config.tls_ca {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
            options = options
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
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
            .map_err(|_| {
                BusError::Unavailable(format!("no NATS server answered at {shown_urls}").into())
            })?
            .map_err(|e| {
                let mut detail = format!("cannot connect to NATS at {shown_urls}: {e}");
                match e.kind() {
                    _ if crate::tls::is_tls_failure(&e) => {
                        detail.push_str(if config.tls_ca.is_some() {
                            " (is --nats-tls-ca the CA that signed the server's certificate?)"
                        } else {
                            " (a server with a private CA needs --nats-tls-ca)"
                        });
                        BusError::Rejected(Detail::caused_by(detail, e))
                    }
                    ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
                        BusError::Rejected(Detail::caused_by(detail, e))
                    }
                    _ => BusError::Unavailable(Detail::caused_by(detail, e)),
                }
            })?;
        Ok(
            Self::from_client(client, config.request_timeout, config.pull_batch)
                .with_stream_replicas(config.stream_replicas)
                .with_retry_for(config.retry_for),
        )
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
            stream_replicas: 1,
            retry_for: Duration::from_secs(30),
        }
    }

    /// Calls the cluster cannot answer yet are retried for `retry_for` (see [`retry`]).
    pub fn with_retry_for(mut self, retry_for: Duration) -> Self {
        self.retry_for = retry_for;
        self
    }

    /// Streams this bus creates get `replicas` copies (see `--nats-stream-replicas`).
    pub fn with_stream_replicas(mut self, replicas: usize) -> Self {
        self.stream_replicas = replicas.max(1);
        self
    }

    /// The NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
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
                BusError::Unavailable(
                    format!("{what}: no answer within {:?}", self.request_timeout).into(),
                )
            })
    }
}

#[cfg(test)]
mod tests;
