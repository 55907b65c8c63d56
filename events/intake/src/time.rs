//! The newest timestamp in a document: what replay uses instead of the wall clock.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The newest RFC 3339 time under any key that names a time (`creationTimestamp`,
/// `lastTimestamp`, `eventTime`, `startTime`, `finishedAt`, …), anywhere in `value`.
pub(crate) fn newest_timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let mut newest = None;
    walk(value, &mut newest, 0);
    newest
}

/// Documents nest a few levels (List → Pod → status → containerStatuses → state); the
/// depth bound only keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 32;

fn walk(value: &Value, newest: &mut Option<DateTime<Utc>>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if let Value::String(s) = v
                    && is_time_key(key)
                    && let Ok(t) = DateTime::parse_from_rfc3339(s)
                {
                    let t = t.with_timezone(&Utc);
                    *newest = Some(newest.map_or(t, |n: DateTime<Utc>| n.max(t)));
                }
                walk(v, newest, depth + 1);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, newest, depth + 1)),
        _ => {}
    }
}

fn is_time_key(key: &str) -> bool {
    key.ends_with("Timestamp") || key.ends_with("Time") || key.ends_with("At")
}

#[cfg(test)]
mod tests;
