//! Retrying what a JetStream cluster refuses while it elects leaders.
//!
//! Right after a cluster forms, and for a few seconds after a stream's or consumer's leader
//! dies, the JetStream API answers "no responders", times out, or says the cluster is not
//! ready. Those answers are [`BusError::Unavailable`]; every call that creates or looks up a
//! stream or consumer, and every publish that got no acknowledgement, is retried under
//! [`Backoff`] until it succeeds, the server refuses it for good ([`BusError::Rejected`]), or
//! the retry budget (`--nats-retry-for`) is spent. Each retry is logged.
//!
//! Retrying a publish is idempotent: the message keeps its `Nats-Msg-Id`, so a publish that
//! did land (and only its acknowledgement was lost) is dropped by the stream as a duplicate.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use tokio::time::Instant;

use super::NatsBus;
use crate::bus::BusError;

/// Capped exponential backoff with jitter: the `n`-th delay is drawn from
/// `[d/2, d]` where `d = min(base * 2^(n-1), cap)`, so retries of many replicas that failed
/// at the same moment (a leader died under all of them) spread out instead of arriving
/// together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay (before jitter).
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Backoff {
    /// 100 ms doubling up to 5 s: what the bus uses for JetStream API calls and re-opening
    /// subscriptions.
    pub const CLUSTER: Self = Self {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(5),
    };

    /// The delay before retry `attempt` (1 for the first retry), jittered.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let full = self.base.saturating_mul(1 << exponent).min(self.cap);
        let half = full / 2;
        half + half.mul_f64(jitter())
    }
}

/// A number in `[0, 1)`, different on every call (std's per-instance random hash keys; no
/// cryptographic quality needed to spread retries).
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(std::thread::current().id());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

impl NatsBus {
    /// Runs `call` until it succeeds, fails with a non-retryable error, or the retry budget
    /// is spent (then the last error is returned). `what` names the call in the log.
    pub(super) async fn retrying<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, BusError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, BusError>>,
    {
        let deadline = Instant::now() + self.retry_for;
        let mut attempt = 0u32;
        loop {
            match call().await {
                Ok(value) => {
                    if attempt > 0 {
                        tracing::info!(what, retries = attempt, "Succeeded after retrying.");
                    }
                    return Ok(value);
                }
                Err(e) if e.is_retryable() => {
                    attempt = attempt.saturating_add(1);
                    let delay = Backoff::CLUSTER.delay(attempt);
                    if Instant::now() + delay > deadline {
                        tracing::warn!(error = %e, what, retries = attempt - 1, budget = ?self.retry_for, "Giving up: the retry budget is spent.");
                        return Err(e);
                    }
                    tracing::warn!(error = %e, what, attempt, ?delay, "Not available yet; retrying.");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
