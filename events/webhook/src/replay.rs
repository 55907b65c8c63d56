//! Replay protection: remembers delivery ids for a while, bounded.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Delivery ids seen in the last `ttl`, at most `capacity` of them (oldest forgotten first).
#[derive(Debug)]
pub struct DeliveryLog {
    seen: HashMap<String, Instant>,
    order: VecDeque<(Instant, String)>,
    ttl: Duration,
    capacity: usize,
}

impl DeliveryLog {
    /// A log keeping ids for `ttl`, at most `capacity`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, id)) = self.order.front() {
            if now.duration_since(*at) <= self.ttl && self.order.len() <= self.capacity {
                break;
            }
            if self.seen.get(id) == Some(at) {
                self.seen.remove(id);
            }
            self.order.pop_front();
        }
    }

    /// Records `id`; false when it was already recorded (a replay).
    pub fn first_time(&mut self, id: &str, now: Instant) -> bool {
        self.expire(now);
        if self.seen.contains_key(id) {
            return false;
        }
        self.seen.insert(id.to_owned(), now);
        self.order.push_back((now, id.to_owned()));
        self.expire(now);
        true
    }

    /// Forgets `id` (its delivery failed and the sender will retry).
    pub fn forget(&mut self, id: &str) {
        self.seen.remove(id);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
