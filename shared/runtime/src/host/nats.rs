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

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use lastmile_contract::FunctionSpec;
use lastmile_events::envelope::stable_id;
use lastmile_events::subjects;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::bus::nats::{ConfigError, parse_duration};
use crate::bus::{
    Bus, BusError, ConsumerSpec, DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, Delivery, MSG_ID_HEADER,
    Message, Publisher, Settle,
};
use crate::executor::{Executor, ProcessError};
use crate::redact;

/// Header carrying how many deliveries a dead-lettered message had.
pub const DLQ_ATTEMPTS_HEADER: &str = "Lastmile-Dlq-Attempts";
/// Longest `Lastmile-Dlq-Reason` value, bytes (the full error is in the host's log).
const MAX_REASON_BYTES: usize = 1024;

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

async fn dead_letter(
    dlq: &dyn Publisher,
    opts: &HostOptions,
    function: &str,
    message: &Message,
    attempt: u64,
    reason: &str,
    settle: Box<dyn Settle>,
) -> Settled {
    let letter = dead_letter_message(function, message, attempt, reason);
    tracing::error!(
        reason = letter.header(DLQ_REASON_HEADER).unwrap_or_default(),
        attempt,
        subject = %message.subject,
        dlq = %letter.subject,
        "Dead-lettering the message."
    );
    match dlq.publish(letter).await {
        Ok(()) => settled(settle.term().await, Settled::DeadLettered),
        Err(e) => {
            let delay = opts.retry_delay(attempt);
            tracing::error!(error = %e, ?delay, "Dead-letter publish failed; retrying the message later.");
            settled(settle.nak(delay).await, Settled::Retried(delay))
        }
    }
}

/// The copy of `message` published on `lastmile.dlq.<function>`. The reason is redacted
/// (errors may quote a URL with credentials or a header); the payload is kept as it was, so
/// the message can be replayed once fixed.
pub fn dead_letter_message(
    function: &str,
    message: &Message,
    attempt: u64,
    reason: &str,
) -> Message {
    // Server-interpreted headers (Nats-Msg-Id, Nats-Expected-*) must not be replayed.
    let mut headers: BTreeMap<String, String> = message
        .headers
        .iter()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("nats-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let original = match message.header(MSG_ID_HEADER) {
        Some(id) => id.to_owned(),
        None => hex::encode(Sha256::digest(&message.payload)),
    };
    let id = stable_id(&["dlq", function, &message.subject, &original]);
    headers.insert(MSG_ID_HEADER.to_owned(), id);
    headers.insert(
        DLQ_REASON_HEADER.to_owned(),
        header_value(&redact::text(reason)),
    );
    headers.insert(DLQ_SUBJECT_HEADER.to_owned(), message.subject.clone());
    headers.insert(DLQ_ATTEMPTS_HEADER.to_owned(), attempt.to_string());
    Message {
        subject: subjects::dlq(function),
        headers,
        payload: Bytes::clone(&message.payload),
    }
}

/// One line of at most [`MAX_REASON_BYTES`] bytes: header values cannot hold CR or LF.
fn header_value(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() <= MAX_REASON_BYTES {
        return line;
    }
    let mut end = MAX_REASON_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// How a binary embeds the bus and host options.
    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        nats: crate::bus::nats::NatsConfig,
        #[command(flatten)]
        host: HostOptions,
    }

    #[test]
    fn flags_parse_with_defaults_and_durations() {
        use clap::{CommandFactory, Parser};
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "lastmile",
            "--nats-url",
            "nats://a:4222,nats://b:4222",
            "--ack-wait",
            "45s",
            "--concurrency",
            "8",
        ])
        .unwrap();
        assert_eq!(cli.nats.urls, ["nats://a:4222", "nats://b:4222"]);
        assert_eq!(cli.host.ack_wait, Duration::from_secs(45));
        assert_eq!(cli.host.concurrency, 8);
        assert_eq!(cli.host.drain_timeout, HostOptions::default().drain_timeout);
        assert_eq!(
            cli.host.retry_backoff_max,
            HostOptions::default().retry_backoff_max
        );
        assert!(cli.host.validate().is_ok() && cli.nats.validate().is_ok());
        let err = Cli::try_parse_from(["lastmile", "--ack-wait", "soon"]).unwrap_err();
        assert!(err.to_string().contains("not a duration"), "{err}");
    }

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let opts = HostOptions {
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(10),
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=6).map(|a| opts.retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(opts.retry_delay(u64::MAX), Duration::from_secs(10));
    }

    #[test]
    fn options_validation_names_the_flag() {
        assert!(HostOptions::default().validate().is_ok());
        let cases = [
            (
                HostOptions {
                    concurrency: 0,
                    ..Default::default()
                },
                "--concurrency",
            ),
            (
                HostOptions {
                    max_deliver: 0,
                    ..Default::default()
                },
                "--max-deliver",
            ),
            (
                HostOptions {
                    ack_wait: Duration::ZERO,
                    ..Default::default()
                },
                "--ack-wait",
            ),
            (
                HostOptions {
                    retry_backoff: Duration::from_secs(120),
                    ..Default::default()
                },
                "--retry-backoff",
            ),
        ];
        for (opts, flag) in cases {
            let err = opts.validate().unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn dead_letter_keeps_the_bytes_and_headers_and_gets_a_stable_id() {
        let mut headers = BTreeMap::new();
        headers.insert("Nats-Msg-Id".to_owned(), "incident-42".to_owned());
        headers.insert("Nats-Expected-Stream".to_owned(), "X".to_owned());
        headers.insert(
            "traceparent".to_owned(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
        );
        let original = Message {
            subject: "lastmile.incident.pending".to_owned(),
            headers,
            payload: Bytes::from_static(b"{not json"),
        };
        let reason =
            "bad input: malformed CloudEvent: key must be a string at line 1 column 2\nsecond line";
        let letter = dead_letter_message("pending", &original, 3, reason);
        assert_eq!(letter.subject, "lastmile.dlq.pending");
        assert_eq!(letter.payload, original.payload);
        assert_eq!(letter.header("traceparent"), original.header("traceparent"));
        assert_eq!(
            letter.header(DLQ_SUBJECT_HEADER),
            Some("lastmile.incident.pending")
        );
        assert_eq!(letter.header(DLQ_ATTEMPTS_HEADER), Some("3"));
        assert_eq!(letter.header("Nats-Expected-Stream"), None);
        let shown = letter.header(DLQ_REASON_HEADER).unwrap();
        assert!(
            shown.contains("malformed CloudEvent") && !shown.contains('\n'),
            "{shown}"
        );
        let id = letter.header(MSG_ID_HEADER).unwrap();
        assert_ne!(id, "incident-42");
        // Same message, later attempt and other reason: same id, so JetStream drops the repeat.
        let again = dead_letter_message("pending", &original, 5, "other");
        assert_eq!(again.header(MSG_ID_HEADER), Some(id));
    }

    #[test]
    fn dead_letter_reason_is_redacted() {
        let original = Message {
            subject: "lastmile.incident.image-pull".to_owned(),
            ..Message::default()
        };
        let reason = "retryable: GET https://ci-bot:hunter2-token@registry.example.com/v2/ failed; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl";
        let letter = dead_letter_message("image-pull", &original, 1, reason);
        let shown = letter.header(DLQ_REASON_HEADER).unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains("eyJzdWIi"),
            "{shown}"
        );
        assert!(shown.contains("registry.example.com"), "{shown}");
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let reason = "é".repeat(2000);
        let value = header_value(&reason);
        assert!(value.len() <= MAX_REASON_BYTES + "…".len());
        assert!(value.ends_with('…'));
    }

    #[test]
    fn consumer_spec_is_named_after_the_function_and_its_families() {
        let spec = FunctionSpec {
            name: "image-pull",
            description: "test",
            families: &[lastmile_events::IncidentFamily::ImagePull],
            deadline: Duration::from_secs(5),
            max_evidence_bytes: 1024,
        };
        let consumer = HostOptions::default().consumer_spec(&spec);
        assert_eq!(consumer.durable, "image-pull");
        assert_eq!(consumer.subjects, ["lastmile.incident.image-pull"]);
        assert_eq!(consumer.delivery_limit(), 6);
    }
}
