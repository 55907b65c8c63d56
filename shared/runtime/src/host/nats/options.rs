//! How the host consumes: [`HostOptions`] (flags and environment), the consumer they open
//! and the retry backoff.

use std::time::Duration;

use lastmile_contract::FunctionSpec;
use lastmile_events::subjects;

use crate::bus::ConsumerSpec;
use crate::bus::nats::{ConfigError, parse_duration};

/// How the host consumes. Flags and environment variables.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HostOptions {
    /// Messages processed at the same time by this replica.
    #[arg(long, env = "LASTMILE_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,
    /// Deliveries of a failing message before it is dead-lettered.
    #[arg(long, env = "LASTMILE_MAX_DELIVER", default_value_t = 5)]
    pub max_deliver: u64,
    /// How long a delivery may stay unacknowledged before the bus redelivers it (the host
    /// extends it while a handler runs).
    #[arg(long, env = "LASTMILE_ACK_WAIT", default_value = "30s", value_parser = parse_duration)]
    pub ack_wait: Duration,
    /// First retry delay after a retryable failure; doubles per attempt.
    #[arg(long, env = "LASTMILE_RETRY_BACKOFF", default_value = "1s", value_parser = parse_duration)]
    pub retry_backoff: Duration,
    /// Longest retry delay.
    #[arg(long, env = "LASTMILE_RETRY_BACKOFF_MAX", default_value = "1m", value_parser = parse_duration)]
    pub retry_backoff_max: Duration,
    /// On shutdown, how long in-flight work may take to finish (keep it below the pod's
    /// termination grace period).
    #[arg(long, env = "LASTMILE_DRAIN_TIMEOUT", default_value = "25s", value_parser = parse_duration)]
    pub drain_timeout: Duration,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_deliver: 5,
            ack_wait: Duration::from_secs(30),
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(25),
        }
    }
}

impl HostOptions {
    /// Checks the options; the message names the flag.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.concurrency == 0 {
            return invalid("--concurrency must be at least 1");
        }
        if self.max_deliver == 0 {
            return invalid("--max-deliver must be at least 1");
        }
        if self.ack_wait < Duration::from_millis(100) {
            return invalid("--ack-wait must be at least 100ms");
        }
        if self.retry_backoff > self.retry_backoff_max {
            return invalid("--retry-backoff must not exceed --retry-backoff-max");
        }
        Ok(())
    }

    /// The durable consumer for `function`: named after it, on its incident subjects.
    pub fn consumer_spec(&self, function: &FunctionSpec) -> ConsumerSpec {
        ConsumerSpec {
            durable: subjects::token(function.name),
            subjects: function
                .families
                .iter()
                .map(|f| subjects::incident(*f))
                .collect(),
            max_deliver: self.max_deliver,
            ack_wait: self.ack_wait,
        }
    }

    /// The nak delay after the `attempt`-th delivery failed: `retry_backoff * 2^(attempt-1)`,
    /// capped at `retry_backoff_max`.
    pub fn retry_delay(&self, attempt: u64) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(30);
        self.retry_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.retry_backoff_max)
    }
}
