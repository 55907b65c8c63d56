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
mod tests {
    use super::*;

    #[test]
    fn picks_the_newest_time_key_and_ignores_other_strings() {
        let doc = serde_json::json!({
            "items": [
                {"metadata": {"creationTimestamp": "2026-03-01T10:00:00Z", "name": "2030-01-01T00:00:00Z"}},
                {"status": {"containerStatuses": [{"state": {"terminated": {"finishedAt": "2026-03-01T10:05:00Z"}}}]}},
                {"eventTime": "not a time"}
            ]
        });
        assert_eq!(
            newest_timestamp(&doc).map(|t| t.to_rfc3339()),
            Some("2026-03-01T10:05:00+00:00".into())
        );
        assert_eq!(newest_timestamp(&serde_json::json!({"a": 1})), None);
    }
}
