//! Where and how to connect: [`NatsConfig`] (flags and env, validated before connecting)
//! and the duration syntax every lastmile flag uses ([`parse_duration`]).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_nats::ServerAddr;
use serde::Deserialize;

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
    /// PEM file of the CA(s) that signed the NATS servers' certificates (a private CA).
    /// Given, the connection requires TLS even for `nats://` URLs.
    #[arg(long = "nats-tls-ca", env = "NATS_TLS_CA")]
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (with `--nats-tls-key`).
    #[arg(long = "nats-tls-cert", env = "NATS_TLS_CERT")]
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--nats-tls-cert`.
    #[arg(long = "nats-tls-key", env = "NATS_TLS_KEY")]
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Replicas of every stream lastmile creates: 1 for a single server, 3 for a
    /// three-node JetStream cluster (a stream then survives the loss of one server).
    #[arg(
        long = "nats-stream-replicas",
        env = "NATS_STREAM_REPLICAS",
        default_value_t = 1
    )]
    #[serde(default = "default_stream_replicas")]
    pub stream_replicas: usize,
    /// Messages a subscription pulls ahead of processing. Pulled messages wait for a free
    /// worker while their ack deadline runs, so keep it near the host's concurrency.
    #[arg(long = "nats-pull-batch", env = "NATS_PULL_BATCH", default_value_t = DEFAULT_PULL_BATCH)]
    #[serde(default = "default_pull_batch")]
    pub pull_batch: usize,
    /// How long a call the cluster cannot answer yet (leader election, a cluster still
    /// forming) is retried before it fails: creating or finding streams and consumers, and
    /// publishes that got no acknowledgement (re-sent under the same `Nats-Msg-Id`).
    #[arg(long = "nats-retry-for", env = "NATS_RETRY_FOR", default_value = "30s", value_parser = parse_duration)]
    #[serde(default = "default_retry_for", deserialize_with = "de_duration")]
    pub retry_for: Duration,
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
fn default_retry_for() -> Duration {
    Duration::from_secs(30)
}
fn default_stream_replicas() -> usize {
    1
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
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            stream_replicas: 1,
            pull_batch: DEFAULT_PULL_BATCH,
            retry_for: default_retry_for(),
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
        for (flag, path) in [
            ("--nats-creds", &self.creds_file),
            ("--nats-tls-ca", &self.tls_ca),
            ("--nats-tls-cert", &self.tls_cert),
            ("--nats-tls-key", &self.tls_key),
        ] {
            if let Some(path) = path.as_ref().filter(|p| !p.is_file()) {
                return Err(ConfigError::Invalid(format!(
                    "{flag}: {} is not a readable file",
                    path.display()
                )));
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "--nats-tls-cert and --nats-tls-key go together".into(),
            ));
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
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(ConfigError::Invalid(
                "--nats-stream-replicas must be between 1 and 5 (JetStream's limit)".into(),
            ));
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
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("stream_replicas", &self.stream_replicas)
            .field("pull_batch", &self.pull_batch)
            .field("retry_for", &self.retry_for)
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

/// A duration flag or setting that [`parse_duration`] cannot read. Bad input: the message
/// quotes what was given and shows the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No leading number (`fast`, `-5s`, ``).
    #[error("{raw:?} is not a duration (e.g. 500ms, 5s, 2m, 1h)")]
    NotANumber {
        /// The value as given (trimmed).
        raw: String,
    },
    /// A number followed by a unit other than `ms`, `s`, `m` or `h`.
    #[error("{raw:?}: unknown unit {unit:?} (use ms, s, m or h)")]
    UnknownUnit {
        /// The value as given (trimmed).
        raw: String,
        /// The text after the number.
        unit: String,
    },
    /// More milliseconds than a `u64` holds.
    #[error("{raw:?} is too long")]
    TooLong {
        /// The value as given (trimmed).
        raw: String,
    },
}

/// Parses a duration written as `250ms`, `5s`, `2m`, `1h`, or bare seconds (`30`).
pub fn parse_duration(raw: &str) -> Result<Duration, DurationError> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().map_err(|_| DurationError::NotANumber {
        raw: raw.to_owned(),
    })?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(DurationError::UnknownUnit {
                raw: raw.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    n.checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| DurationError::TooLong {
            raw: raw.to_owned(),
        })
}

/// Serde adapter for durations written as [`parse_duration`] reads them.
fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    parse_duration(&raw).map_err(serde::de::Error::custom)
}
