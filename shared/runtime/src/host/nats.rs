//! The consumer host: a long-running loop that pulls deliveries for one function, runs the
//! [`Executor`] on each with bounded concurrency, and settles them.
//!
//! The loop works on any [`Bus`]: JetStream in production, the memory bus for replay
//! ([`super::inprocess`] is this loop plus an "idle" shutdown), so the settle rules cannot
//! drift between hosts:
//!
//! | outcome | settle |
//! |---|---|
//! | processed | ack |
//! | bad input, permanent error | dead-letter, then term |
//! | retryable error, `attempt < max_deliver` | nak, redelivered after an exponential backoff |
//! | retryable error, `attempt >= max_deliver` | dead-letter with the last error, then term |
//! | `attempt > max_deliver` (earlier deliveries never settled) | dead-letter, then term |
//!
//! Dead-lettering publishes the original bytes and headers on `lastmile.dlq.<function>` with
//! `Lastmile-Dlq-Reason`, `Lastmile-Dlq-Subject` and `Lastmile-Dlq-Attempts`, under a
//! `Nats-Msg-Id` derived from the original message, so a repeated dead-lettering is dropped
//! as a duplicate. If that publish fails the delivery is nak'ed instead: a message is only
//! ever terminated once its copy is safely on the dead-letter subject.
//!
//! The loop and the settle rules are generic over a [`Processor`]: the [`Executor`] (a
//! function hosted here) is one; other consumers of lastmile's subjects (the Lambda
//! dispatcher, the watcher's CI consumer) plug in their own and settle exactly the same way.
//!
//! While a handler runs, the host tells the bus it is still working every half `ack_wait`.
//! On shutdown the host stops pulling, waits for in-flight work up to `drain_timeout`, and
//! returns; work still running after that is abandoned unsettled and redelivered elsewhere.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::bus::nats::ConfigError;
use crate::bus::{Bus, BusError, ConsumerSpec, Delivery, Message, Publisher, Settle};
use crate::executor::{Executor, ProcessError};
use crate::redact;

mod dead_letter;
mod options;

pub use dead_letter::{DLQ_ATTEMPTS_HEADER, dead_letter_message};
pub use options::HostOptions;

use dead_letter::dead_letter;

/// Why the host could not run.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The options are invalid (bad input).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The consumer could not be opened; [`BusError::is_retryable`] says whether to retry.
    #[error("cannot subscribe: {0}")]
    Subscribe(#[source] BusError),
}

/// What a run did, for logs, tests and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostReport {
    /// Deliveries processed and acknowledged.
    pub processed: u64,
    /// Deliveries nak'ed for a retry.
    pub retried: u64,
    /// Deliveries dead-lettered and terminated.
    pub dead_lettered: u64,
    /// Deliveries whose settlement (ack, nak, term) did not reach the bus; they come back.
    pub unsettled: u64,
    /// In-flight deliveries abandoned because the drain timeout passed.
    pub abandoned: u64,
}

/// How one delivery was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Processed and acknowledged.
    Acked,
    /// Nak'ed for a retry after the delay.
    Retried(Duration),
    /// Copied to the dead-letter subject and terminated.
    DeadLettered,
    /// The settlement did not reach the bus; the bus will redeliver.
    Unsettled,
}

/// What the consumer loop does with one message. Its error decides the settlement (see the
/// module docs): `Ok` acks, [`ProcessError::Retryable`] naks, the others dead-letter.
#[async_trait]
pub trait Processor: Send + Sync + 'static {
    /// The name dead letters are filed under: `lastmile.dlq.<name>`.
    fn name(&self) -> &str;
    /// Processes one message.
    async fn process(&self, message: &Message) -> Result<(), ProcessError>;
}

#[async_trait]
impl Processor for Executor {
    fn name(&self) -> &str {
        self.function().spec.name
    }

    async fn process(&self, message: &Message) -> Result<(), ProcessError> {
        let processed = Executor::process(self, message).await?;
        tracing::debug!(incident = %processed.incident, diagnoses = processed.diagnoses.len(), "Processed.");
        Ok(())
    }
}

/// Runs `executor` on every delivery of its function's durable consumer until `shutdown`
/// completes, then drains in-flight work (see the module docs) and returns what it did.
pub async fn run(
    executor: Executor,
    bus: Arc<dyn Bus>,
    opts: HostOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<HostReport, HostError> {
    opts.validate()?;
    let spec = opts.consumer_spec(executor.function().spec);
    run_consumer(Arc::new(executor), spec, bus, opts, shutdown).await
}

/// [`run`] for any [`Processor`] on the durable consumer `spec`.
pub async fn run_consumer(
    processor: Arc<dyn Processor>,
    spec: ConsumerSpec,
    bus: Arc<dyn Bus>,
    opts: HostOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<HostReport, HostError> {
    opts.validate()?;
    let mut subscription = bus.subscribe(&spec).await.map_err(HostError::Subscribe)?;
    tracing::info!(
        consumer = %spec.durable,
        subjects = ?spec.subjects,
        concurrency = opts.concurrency,
        "Consuming."
    );
    let opts = Arc::new(opts);
    let permits = Arc::new(Semaphore::new(opts.concurrency));
    let mut tasks: JoinSet<Settled> = JoinSet::new();
    let mut report = HostReport::default();
    tokio::pin!(shutdown);

    loop {
        while let Some(done) = tasks.try_join_next() {
            count(&mut report, done);
        }
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
        };
        let next = tokio::select! {
            biased;
            () = &mut shutdown => break,
            next = subscription.next() => next,
        };
        let delivery = match next {
            Some(Ok(delivery)) => delivery,
            Some(Err(e)) => {
                // The subscription backs off and re-opens by itself.
                tracing::warn!(error = %e, "Bus error while pulling.");
                continue;
            }
            None => {
                tracing::info!("Subscription closed.");
                break;
            }
        };
        let (processor, bus, opts) = (processor.clone(), bus.clone(), opts.clone());
        tasks.spawn(async move {
            let settled = handle(processor.as_ref(), bus.as_ref(), &opts, delivery).await;
            drop(permit);
            settled
        });
    }

    drop(subscription);
    let in_flight = tasks.len();
    if in_flight > 0 {
        tracing::info!(in_flight, timeout = ?opts.drain_timeout, "Draining in-flight work.");
    }
    let drain = async {
        while let Some(done) = tasks.join_next().await {
            count(&mut report, done);
        }
    };
    if tokio::time::timeout(opts.drain_timeout, drain)
        .await
        .is_err()
    {
        report.abandoned = tasks.len() as u64;
        tracing::warn!(
            abandoned = report.abandoned,
            "Drain timeout passed; abandoning in-flight work."
        );
        tasks.shutdown().await;
    }
    tracing::info!(?report, "Consumer stopped.");
    Ok(report)
}

fn count(report: &mut HostReport, done: Result<Settled, tokio::task::JoinError>) {
    match done {
        Ok(Settled::Acked) => report.processed += 1,
        Ok(Settled::Retried(_)) => report.retried += 1,
        Ok(Settled::DeadLettered) => report.dead_lettered += 1,
        Ok(Settled::Unsettled) => report.unsettled += 1,
        Err(e) => {
            // A panicking handler: the delivery was never settled and will come back.
            tracing::error!(error = %e, "Delivery task failed.");
            report.unsettled += 1;
        }
    }
}

/// Processes one delivery and settles it by the rules in the module docs. Every host
/// settles through this function.
pub async fn handle(
    processor: &dyn Processor,
    dlq: &dyn Publisher,
    opts: &HostOptions,
    delivery: Delivery,
) -> Settled {
    let Delivery {
        message,
        attempt,
        mut settle,
    } = delivery;
    let function = processor.name();
    if attempt > opts.max_deliver {
        let reason = format!(
            "still unsettled after {} deliveries (earlier attempts crashed, ran past the ack wait or could not be dead-lettered)",
            attempt - 1
        );
        return dead_letter(dlq, opts, function, &message, attempt, &reason, settle).await;
    }
    let result = with_progress(processor.process(&message), settle.as_mut(), opts.ack_wait).await;
    match result {
        Ok(()) => settled(settle.ack().await, Settled::Acked),
        Err(ProcessError::Retryable(e)) if attempt < opts.max_deliver => {
            let delay = opts.retry_delay(attempt);
            let e = redact::text(&e);
            tracing::warn!(error = %e, attempt, ?delay, subject = %message.subject, "Retryable failure; will retry.");
            settled(settle.nak(delay).await, Settled::Retried(delay))
        }
        Err(e) => {
            let reason = e.to_string();
            dead_letter(dlq, opts, function, &message, attempt, &reason, settle).await
        }
    }
}

/// Awaits `work`, telling the bus every half `ack_wait` that the delivery is still in hand.
async fn with_progress<T>(
    work: impl Future<Output = T>,
    settle: &mut dyn Settle,
    ack_wait: Duration,
) -> T {
    tokio::pin!(work);
    let period = (ack_wait / 2).max(Duration::from_millis(50));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticks.tick() => {
                if let Err(e) = settle.in_progress().await {
                    tracing::debug!(error = %e, "Could not extend the ack deadline.");
                }
            }
        }
    }
}

fn settled(result: Result<(), BusError>, ok: Settled) -> Settled {
    match result {
        Ok(()) => ok,
        Err(e) => {
            tracing::warn!(error = %e, "Settlement did not reach the bus; the message will be redelivered.");
            Settled::Unsettled
        }
    }
}

/// Completes on SIGTERM or Ctrl-C: the usual `shutdown` argument of [`run`].
pub async fn termination_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "Cannot listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; shutting down."),
        () = term => tracing::info!("SIGTERM received; shutting down."),
    }
}

#[cfg(test)]
mod tests;
