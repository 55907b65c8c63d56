//! Typed reading that costs a wrongly typed field, not the object.
//!
//! `kubectl` output edited by hand, or produced by another tool, carries the odd field of
//! the wrong type (`"count": "five"`, `"reason": 42`, a timestamp that is not RFC 3339).
//! k8s-openapi rejects the whole object for one such field; here the offending field is
//! removed and the object read again, and every removal is reported as an [`Ignored`] note,
//! so what the diagnosis could not use is said, never silently lost.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Most fields removed from one object before it is given up: a hostile object cannot make
/// intake loop for long.
const MAX_REPAIRS: usize = 16;

/// Something of the input that intake could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Where it is in the document, e.g. `items[3].count`.
    pub path: String,
    /// The object it belongs to, e.g. `Event ci/migrate-x7k2p.17a`.
    pub object: String,
    /// Why it was ignored, e.g. `expected a number, found a string`.
    pub reason: String,
    /// True when the whole object was skipped (a required field is missing or unreadable).
    pub whole_object: bool,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.whole_object {
            "skipped"
        } else {
            "ignored"
        };
        write!(f, "{what}: {}", self.path)?;
        if !self.object.is_empty() {
            write!(f, " of {}", self.object)?;
        }
        write!(f, " ({})", self.reason)
    }
}

/// Where an object sits in the document and what it is, for notes.
pub(crate) struct At<'a> {
    /// e.g. `items[3]`.
    pub path: &'a str,
    /// e.g. `Pod ci/api-0`.
    pub object: &'a str,
    /// Top-level fields without which the object means nothing (a Pod's `spec`, an
    /// Event's `involvedObject`): when one of them does not fit, the object is skipped.
    pub essential: &'a [&'a str],
}

/// Reads `value` as a `T`, removing fields that do not fit until it does. Every removal, or
/// the object given up, is pushed onto `notes`.
pub(crate) fn read<T: DeserializeOwned>(
    mut value: Value,
    at: &At<'_>,
    notes: &mut Vec<Ignored>,
) -> Option<T> {
    let At {
        path,
        object,
        essential,
    } = *at;
    for _ in 0..=MAX_REPAIRS {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(obj) => return Some(obj),
            Err(err) => err,
        };
        let field = err.path().to_string();
        let reason = explain(&field, &err.inner().to_string());
        let removable =
            field != "." && !is_missing_field(err.inner()) && !essential.contains(&field.as_str());
        if removable && remove(&mut value, &field) {
            notes.push(Ignored {
                path: join(path, &field),
                object: object.to_owned(),
                reason,
                whole_object: false,
            });
            continue;
        }
        notes.push(Ignored {
            path: path.to_owned(),
            object: object.to_owned(),
            reason: if field == "." {
                reason
            } else {
                format!("{field}: {reason}")
            },
            whole_object: true,
        });
        return None;
    }
    notes.push(Ignored {
        path: path.to_owned(),
        object: object.to_owned(),
        reason: format!("more than {MAX_REPAIRS} fields of the wrong type"),
        whole_object: true,
    });
    None
}

fn is_missing_field(err: &serde_json::Error) -> bool {
    err.to_string().starts_with("missing field")
}

fn join(path: &str, field: &str) -> String {
    if field.starts_with('[') {
        format!("{path}{field}")
    } else {
        format!("{path}.{field}")
    }
}

/// A short reason that names the expected type, without echoing the value (which may be
/// anything a user pasted).
fn explain(field: &str, message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let found = rest.split([' ', ',']).next().unwrap_or("value");
        let expected = rest
            .rsplit_once("expected ")
            .map_or("another type", |(_, e)| e);
        return format!("expected {}, found {}", kind_name(expected), article(found));
    }
    if message.starts_with("missing field") {
        return message
            .split(" at line")
            .next()
            .unwrap_or(message)
            .to_owned();
    }
    let last = field.rsplit('.').next().unwrap_or(field);
    if last.ends_with("Timestamp") || last.ends_with("Time") || last.ends_with("At") {
        return "expected an RFC 3339 time".to_owned();
    }
    if message.starts_with("invalid value") {
        let expected = message
            .rsplit_once("expected ")
            .map_or("another value", |(_, e)| e);
        return format!("expected {}", kind_name(expected));
    }
    "a value of the wrong shape".to_owned()
}

/// serde's names for what it expected, in words.
fn kind_name(expected: &str) -> &str {
    let e = expected.trim();
    match e {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "f32" | "f64" => "a number",
        "a boolean" | "a string" | "a sequence" | "a map" => e,
        _ if e.starts_with("struct ") || e.starts_with("a map") => "an object",
        _ if e.ends_with("integer") || e.contains("number") => "a number",
        _ => e,
    }
}

fn article(found: &str) -> String {
    match found {
        "string" => "a string".into(),
        "integer" | "floating" => "a number".into(),
        "boolean" => "a boolean".into(),
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "null" => "null".into(),
        other => other.to_owned(),
    }
}

/// Removes the field at a serde_path_to_error path (`a.b[2].c`); false when there is none.
fn remove(value: &mut Value, path: &str) -> bool {
    let segments = segments(path);
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut at = value;
    for seg in parents {
        let next = match seg {
            Segment::Key(k) => at.get_mut(k.as_str()),
            Segment::Index(i) => at.get_mut(*i),
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match (last, at) {
        (Segment::Key(k), Value::Object(map)) => map.remove(k.as_str()).is_some(),
        (Segment::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key.to_owned()));
        }
        while let Some((idx, after)) = rest.split_once(']') {
            if let Ok(i) = idx.parse() {
                out.push(Segment::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

#[cfg(test)]
mod tests;
