//! The outbox: a bounded queue in front of the bus that survives bus outages.
//!
//! Publishing never blocks the watch loop. Messages wait here while the bus is down and are
//! re-sent with exponential back-off (with jitter) until the bus acknowledges them; each
//! keeps its `Nats-Msg-Id`, so a re-send after a lost acknowledgement is dropped by
//! JetStream's duplicate window instead of being delivered twice. Messages with the same
//! coalescing key (an incident key) replace each other while queued: only the latest state
//! of an incident matters. When the queue is full the oldest message is dropped and counted;
//! drops are logged and visible in [`OutboxStats`].
//!
//! A message may be queued *deferred* ([`Outbox::push_deferred`]): its body is rendered only
//! when it is sent, and dropped right after. Incidents carry cluster snapshots close to a
//! megabyte each; queuing them rendered made the queue, not the cluster state, the bulk of
//! the watcher's memory. Deferred, only the one in flight exists as bytes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lastmile_runtime::bus::{BusError, Message, Publisher};
use tokio::sync::Notify;

/// Limits and timings of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Messages queued at most; beyond this the oldest is dropped.
    pub capacity: usize,
    /// Timeout of one publish (waiting for the acknowledgement).
    pub publish_timeout: Duration,
    /// First retry delay.
    pub backoff_min: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            publish_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// Counters of what happened to queued messages.
#[derive(Debug, Default)]
pub struct OutboxStats {
    /// Acknowledged by the bus.
    pub published: AtomicU64,
    /// Dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Refused by the bus for good (not retried).
    pub rejected: AtomicU64,
    /// Publish attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Replaced by a newer message with the same key while queued.
    pub coalesced: AtomicU64,
}

impl OutboxStats {
    /// `(published, dropped, rejected, retries, coalesced)`.
    pub fn snapshot(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.published.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.coalesced.load(Ordering::Relaxed),
        )
    }
}

/// Renders a deferred message body at send time; an error drops the message (counted as
/// rejected).
pub type Render = Arc<dyn Fn() -> Result<bytes::Bytes, String> + Send + Sync>;

/// One queued message: the head (subject, headers, body unless deferred) and, when deferred,
/// how to render its body.
#[derive(Clone)]
struct Entry {
    key: Option<String>,
    /// Unique per push, so the sender removes exactly what it sent.
    seq: u64,
    message: Message,
    render: Option<Render>,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Entry>,
    next_seq: u64,
    closed: bool,
}

/// The producer side; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    queue: Arc<Mutex<Queue>>,
    notify: Arc<Notify>,
    stats: Arc<OutboxStats>,
    capacity: usize,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Starts the sender task on the current runtime; returns the producer handle and the
    /// task (it ends after [`Outbox::close`] once the queue is empty).
    pub fn start(
        publisher: Arc<dyn Publisher>,
        cfg: OutboxConfig,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let outbox = Self {
            queue: Arc::new(Mutex::new(Queue::default())),
            notify: Arc::new(Notify::new()),
            stats: Arc::new(OutboxStats::default()),
            capacity: cfg.capacity.max(1),
        };
        let task = tokio::spawn(send_loop(outbox.clone(), publisher, cfg));
        (outbox, task)
    }

    /// Counters of what was published, dropped, rejected, retried and coalesced, shared with
    /// the send loop.
    pub fn stats(&self) -> &Arc<OutboxStats> {
        &self.stats
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.queue.lock().map(|q| q.items.len()).unwrap_or(0)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a message; a queued message with the same `coalesce` key is replaced.
    pub fn push(&self, coalesce: Option<String>, message: Message) {
        self.enqueue(coalesce, message, None);
    }

    /// Queues a message whose body `render` produces when it is sent (`head.payload` is
    /// ignored); a queued message with the same `coalesce` key is replaced.
    pub fn push_deferred(&self, coalesce: Option<String>, head: Message, render: Render) {
        self.enqueue(coalesce, head, Some(render));
    }

    fn enqueue(&self, key: Option<String>, message: Message, render: Option<Render>) {
        let Ok(mut q) = self.queue.lock() else { return };
        let seq = q.next_seq;
        q.next_seq += 1;
        if let Some(k) = key.as_ref()
            && let Some(slot) = q.items.iter_mut().find(|e| e.key.as_ref() == Some(k))
        {
            *slot = Entry {
                key,
                seq,
                message,
                render,
            };
            self.stats.coalesced.fetch_add(1, Ordering::Relaxed);
            self.notify.notify_one();
            return;
        }
        if q.items.len() >= self.capacity
            && let Some(old) = q.items.pop_front()
        {
            let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(subject = %old.message.subject, dropped_total = n, "Outbox full; dropped the oldest message.");
        }
        q.items.push_back(Entry {
            key,
            seq,
            message,
            render,
        });
        drop(q);
        self.notify.notify_one();
    }

    /// No more messages will be pushed; the sender drains the queue and ends.
    pub fn close(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.closed = true;
        }
        self.notify.notify_one();
    }

    fn front(&self) -> Option<Option<Entry>> {
        let q = self.queue.lock().ok()?;
        match q.items.front() {
            Some(e) => Some(Some(e.clone())),
            None if q.closed => None,
            None => Some(None),
        }
    }

    /// Removes the front message if it is still the one pushed as `seq` (it may have been
    /// coalesced or dropped since).
    fn pop_if(&self, seq: u64) {
        if let Ok(mut q) = self.queue.lock()
            && q.items.front().is_some_and(|e| e.seq == seq)
        {
            q.items.pop_front();
        }
    }
}

async fn send_loop(outbox: Outbox, publisher: Arc<dyn Publisher>, cfg: OutboxConfig) {
    let mut delay = cfg.backoff_min;
    loop {
        let entry = match outbox.front() {
            None => return,
            Some(None) => {
                outbox.notify.notified().await;
                continue;
            }
            Some(Some(entry)) => entry,
        };
        let seq = entry.seq;
        let mut msg = entry.message;
        if let Some(render) = entry.render {
            match render() {
                Ok(body) => msg.payload = body,
                Err(e) => {
                    outbox.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, subject = %msg.subject, "Could not render the message; dropped.");
                    outbox.pop_if(seq);
                    continue;
                }
            }
        }
        let result =
            match tokio::time::timeout(cfg.publish_timeout, publisher.publish(msg.clone())).await {
                Ok(r) => r,
                Err(_) => Err(BusError::Unavailable("publish timed out".into())),
            };
        match result {
            Ok(()) => {
                outbox.stats.published.fetch_add(1, Ordering::Relaxed);
                outbox.pop_if(seq);
                delay = cfg.backoff_min;
            }
            Err(e) if e.is_retryable() => {
                outbox.stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, subject = %msg.subject, queued = outbox.len(), retry_in_ms = delay.as_millis() as u64, "Publish failed; will retry.");
                let jitter = rand::random_range(0..=delay.as_millis() as u64 / 4 + 1);
                tokio::time::sleep(delay + Duration::from_millis(jitter)).await;
                delay = (delay * 2).min(cfg.backoff_max);
            }
            Err(e) => {
                outbox.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, subject = %msg.subject, "Bus rejected the message; dropped.");
                outbox.pop_if(seq);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
