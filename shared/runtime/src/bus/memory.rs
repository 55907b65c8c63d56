//! In-process bus: the embedded default (`lastmile replay`) and a fast stand-in for
//! JetStream where no server runs.
//!
//! It keeps JetStream's semantics rather than a plain channel's, so a host behaves the same
//! on both buses:
//! - every message lands in the stream of [`lastmile_events::subjects::STREAMS`] that
//!   captures its subject (no stream → rejected, like JetStream's "no responders"), with
//!   that stream's maximum message size;
//! - a repeated `Nats-Msg-Id` inside the stream's duplicate window is dropped;
//! - a durable consumer delivers each matching message to exactly one of its subscriptions,
//!   starting from the first message ever published (JetStream's `DeliverPolicy::All`);
//! - nak → redelivery after the delay; a delivery left unsettled past `ack_wait` is
//!   redelivered; `term` stops redelivery; at most [`ConsumerSpec::delivery_limit`]
//!   deliveries per message;
//! - subjects filter with NATS wildcards (`*` one token, `>` one or more trailing tokens).
//!
//! Everything published stays in memory until the bus is dropped ([`MemoryBus::published`]
//! reads it back by subject pattern): fine for a replay, not for a long-running service.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use lastmile_events::subjects::{STREAMS, StreamSpec};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{
    Bus, BusError, ConsumerSpec, Delivery, MSG_ID_HEADER, Message, Publisher, Settle, Subscription,
};

/// True when `subject` matches the NATS subject `pattern`: tokens are separated by `.`,
/// `*` matches exactly one token and `>` (last token only) matches one or more tokens.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut pattern = pattern.split('.');
    let mut subject = subject.split('.');
    loop {
        match (pattern.next(), subject.next()) {
            (Some(">"), Some(token)) => return pattern.next().is_none() && !token.is_empty(),
            (Some("*"), Some(token)) if !token.is_empty() => {}
            (Some(p), Some(s)) if p == s && !p.is_empty() && p != "*" && p != ">" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// True when `subject` is a valid subject to publish on: non-empty tokens, no wildcards,
/// no whitespace.
pub fn is_publish_subject(subject: &str) -> bool {
    subject
        .split('.')
        .all(|t| !t.is_empty() && t != "*" && t != ">" && !t.chars().any(char::is_whitespace))
}

/// The in-process bus. Cheap to clone; clones share the same messages and consumers.
#[derive(Clone, Default)]
pub struct MemoryBus {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Woken on every state change (publish, settle, new consumer).
    changed: Notify,
}

#[derive(Default)]
struct State {
    /// Every stored message; the stream sequence is the index + 1.
    log: Vec<Message>,
    /// `(stream, Nats-Msg-Id)` → when its duplicate window ends.
    seen: HashMap<(&'static str, String), Instant>,
    /// The keys of `seen` in the order they were stored, so expired ids are pruned from the
    /// front instead of scanning every id on every publish.
    seen_order: VecDeque<(&'static str, String)>,
    consumers: HashMap<String, Group>,
}

/// One durable consumer, shared by all its subscriptions.
struct Group {
    spec: ConsumerSpec,
    /// Index into the log of the next message never delivered.
    cursor: usize,
    /// Messages waiting for redelivery: log index → (deliveries so far, when).
    waiting: HashMap<usize, (u64, Instant)>,
    /// Unsettled deliveries: log index → (deliveries so far, ack deadline).
    in_flight: HashMap<usize, (u64, Instant)>,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("MemoryBus")
            .field("messages", &state.log.len())
            .field("consumers", &state.consumers.len())
            .finish()
    }
}

impl Shared {
    /// Locks the state. A panic while holding the lock cannot leave it inconsistent (every
    /// update is a single step), so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `f` to the durable `durable` and wakes every waiter.
    fn update(&self, durable: &str, f: impl FnOnce(&mut Group)) {
        {
            let mut state = self.lock();
            if let Some(group) = state.consumers.get_mut(durable) {
                f(group);
            }
        }
        self.changed.notify_waiters();
    }

    /// Waits until `ready` returns `Some`, re-checking on every change and at the deadline
    /// `ready` asks for.
    async fn wait_for<T>(
        &self,
        mut ready: impl FnMut(&mut State, Instant) -> Result<T, Option<Instant>>,
    ) -> T {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wake_at = {
                let mut state = self.lock();
                match ready(&mut state, Instant::now()) {
                    Ok(value) => return value,
                    Err(wake_at) => wake_at,
                }
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

impl MemoryBus {
    /// An empty bus with lastmile's streams.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored message whose subject matches `pattern` (NATS wildcards), in publish
    /// order. Duplicates dropped by the `Nats-Msg-Id` window are not included.
    pub fn published(&self, pattern: &str) -> Vec<Message> {
        let state = self.shared.lock();
        state
            .log
            .iter()
            .filter(|m| subject_matches(pattern, &m.subject))
            .cloned()
            .collect()
    }

    /// Waits until the durable consumer `durable` exists and has nothing left to do: every
    /// matching message delivered and settled, none waiting for a redelivery. The
    /// in-process host uses it as its shutdown signal.
    pub async fn wait_idle(&self, durable: &str) {
        self.shared
            .wait_for(|state, now| {
                let log = &state.log;
                let Some(group) = state.consumers.get_mut(durable) else {
                    return Err(None);
                };
                group.skip_unmatched(log);
                group.expire(now);
                if group.cursor < log.len() || !group.waiting.is_empty() {
                    return Err(None);
                }
                // Unsettled deliveries come back when their ack deadline passes.
                match group
                    .in_flight
                    .values()
                    .map(|(_, deadline)| *deadline)
                    .min()
                {
                    None => Ok(()),
                    Some(deadline) => Err(Some(deadline)),
                }
            })
            .await;
    }
}

fn stream_for(subject: &str) -> Option<&'static StreamSpec> {
    STREAMS
        .iter()
        .find(|s| s.subjects.iter().any(|p| subject_matches(p, subject)))
}

#[async_trait]
impl Publisher for MemoryBus {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        if !is_publish_subject(&message.subject) {
            return Err(BusError::Rejected(
                format!("invalid subject {:?}", message.subject).into(),
            ));
        }
        let stream = stream_for(&message.subject).ok_or_else(|| {
            BusError::Rejected(format!("no stream captures subject {}", message.subject).into())
        })?;
        let size = message.payload.len()
            + message
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>();
        if size > usize::try_from(stream.max_msg_size).unwrap_or(usize::MAX) {
            return Err(BusError::Rejected(
                format!(
                    "message of {size} bytes exceeds the {} bytes limit of stream {}",
                    stream.max_msg_size, stream.name
                )
                .into(),
            ));
        }
        {
            let mut state = self.shared.lock();
            let now = Instant::now();
            let window = Duration::from_secs(stream.duplicate_window_secs);
            let state = &mut *state;
            while let Some(oldest) = state.seen_order.front() {
                if state.seen.get(oldest).is_some_and(|end| *end > now) {
                    break;
                }
                state.seen.remove(oldest);
                state.seen_order.pop_front();
            }
            if let Some(id) = message.header(MSG_ID_HEADER) {
                let key = (stream.name, id.to_owned());
                if state.seen.get(&key).is_some_and(|end| *end > now) {
                    tracing::debug!(subject = %message.subject, msg_id = %id, "Duplicate dropped.");
                    return Ok(());
                }
                state.seen.insert(key.clone(), now + window);
                state.seen_order.push_back(key);
            }
            state.log.push(message);
        }
        self.shared.changed.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        if spec.durable.is_empty() || spec.subjects.is_empty() {
            return Err(BusError::Rejected(
                "a consumer needs a durable name and at least one subject".into(),
            ));
        }
        {
            let mut state = self.shared.lock();
            let group = state
                .consumers
                .entry(spec.durable.clone())
                .or_insert_with(|| Group {
                    spec: spec.clone(),
                    cursor: 0,
                    waiting: HashMap::new(),
                    in_flight: HashMap::new(),
                });
            // Like a JetStream consumer update: the latest settings win.
            group.spec = spec.clone();
        }
        self.shared.changed.notify_waiters();
        Ok(Box::new(MemorySubscription {
            shared: self.shared.clone(),
            durable: spec.durable.clone(),
        }))
    }
}

impl Group {
    fn matches(&self, subject: &str) -> bool {
        self.spec
            .subjects
            .iter()
            .any(|p| subject_matches(p, subject))
    }

    /// Moves the cursor past messages this consumer does not want.
    fn skip_unmatched(&mut self, log: &[Message]) {
        while self.cursor < log.len() && !self.matches(&log[self.cursor].subject) {
            self.cursor += 1;
        }
    }

    /// Takes the next delivery that is due: an expired ack deadline or a nak'ed message
    /// whose delay passed, else the next new message. `Err` carries when to look again.
    fn take_due(&mut self, log: &[Message], now: Instant) -> Result<(usize, u64), Option<Instant>> {
        self.expire(now);
        let due = self
            .waiting
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .min_by_key(|(i, (_, at))| (*at, **i));
        if let Some((&index, &(delivered, _))) = due {
            self.waiting.remove(&index);
            return Ok(self.start(index, delivered + 1, now));
        }
        self.skip_unmatched(log);
        if self.cursor < log.len() {
            let index = self.cursor;
            self.cursor += 1;
            return Ok(self.start(index, 1, now));
        }
        let next_wait = self.waiting.values().map(|(_, at)| *at);
        let next_deadline = self.in_flight.values().map(|(_, d)| *d);
        Err(next_wait.chain(next_deadline).min())
    }

    /// Moves deliveries whose ack deadline passed to the redelivery queue.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<usize> = self
            .in_flight
            .iter()
            .filter(|(_, (_, d))| *d <= now)
            .map(|(i, _)| *i)
            .collect();
        for index in expired {
            if let Some((delivered, _)) = self.in_flight.remove(&index) {
                self.redeliver(index, delivered, now);
            }
        }
    }

    /// Queues `index` for redelivery at `at`, unless it used up its deliveries.
    fn redeliver(&mut self, index: usize, delivered: u64, at: Instant) {
        if delivered < self.spec.delivery_limit() {
            self.waiting.insert(index, (delivered, at));
        }
    }

    fn start(&mut self, index: usize, delivered: u64, now: Instant) -> (usize, u64) {
        self.in_flight
            .insert(index, (delivered, now + self.spec.ack_wait));
        (index, delivered)
    }

    /// Removes `index` from in-flight or waiting; returns its delivery count.
    fn take(&mut self, index: usize) -> Option<u64> {
        self.in_flight
            .remove(&index)
            .or_else(|| self.waiting.remove(&index))
            .map(|(delivered, _)| delivered)
    }
}

/// One subscription of a durable consumer on the memory bus.
struct MemorySubscription {
    shared: Arc<Shared>,
    durable: String,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        let durable = self.durable.as_str();
        let taken = self
            .shared
            .wait_for(|state, now| {
                let State { log, consumers, .. } = state;
                let Some(group) = consumers.get_mut(durable) else {
                    return Ok(None);
                };
                let (index, delivered) = group.take_due(log, now)?;
                Ok(Some((log[index].clone(), index, delivered)))
            })
            .await;
        let (message, index, attempt) = taken?;
        let settle = MemorySettle {
            shared: self.shared.clone(),
            durable: self.durable.clone(),
            index,
        };
        Some(Ok(Delivery {
            message,
            attempt,
            settle: Box::new(settle),
        }))
    }
}

/// Settles one memory-bus delivery. Dropping it unsettled lets the ack deadline expire.
struct MemorySettle {
    shared: Arc<Shared>,
    durable: String,
    index: usize,
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.shared.update(&self.durable, |g| {
            g.take(self.index);
        });
        Ok(())
    }

    async fn nak(self: Box<Self>, delay: Duration) -> Result<(), BusError> {
        self.shared.update(&self.durable, |g| {
            if let Some(delivered) = g.take(self.index) {
                g.redeliver(self.index, delivered, Instant::now() + delay);
            }
        });
        Ok(())
    }

    async fn term(self: Box<Self>) -> Result<(), BusError> {
        self.ack().await
    }

    async fn in_progress(&mut self) -> Result<(), BusError> {
        self.shared.update(&self.durable, |g| {
            let ack_wait = g.spec.ack_wait;
            if let Some((_, deadline)) = g.in_flight.get_mut(&self.index) {
                *deadline = Instant::now() + ack_wait;
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests;
