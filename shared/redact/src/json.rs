//! The policy over JSON documents: structure says where secrets are (keys, Secret data,
//! container env), the text rules cover every other string.

use serde_json::Value;

use crate::keys::is_sensitive_key;
use crate::{REDACTED, text_in_place};

/// Redacts a JSON document in place. Returns true when anything was replaced.
pub fn json(value: &mut Value) -> bool {
    walk(value, false)
}

/// JSON (or JSON-lines) bytes redacted and re-serialised; `None` when they are not JSON.
pub(crate) fn json_bytes(input: &[u8]) -> Option<Vec<u8>> {
    if let Ok(mut value) = serde_json::from_slice::<Value>(input) {
        if !json(&mut value) {
            return Some(input.to_vec());
        }
        return serde_json::to_vec_pretty(&value).ok();
    }
    // JSON lines: every non-empty line must be a document.
    let text = std::str::from_utf8(input).ok()?;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push('\n');
            continue;
        }
        let mut value = serde_json::from_str::<Value>(line).ok()?;
        json(&mut value);
        out.push_str(&serde_json::to_string(&value).ok()?);
        out.push('\n');
    }
    Some(out.into_bytes())
}

/// Walks `value`; `sensitive` says the enclosing key names a secret, so scalars go.
fn walk(value: &mut Value, sensitive: bool) -> bool {
    match value {
        Value::String(_) | Value::Number(_) if sensitive => replace_scalar(value),
        Value::String(s) => redact_string(s),
        Value::Array(items) => {
            let mut changed = redact_header_pair(items);
            for item in items.iter_mut() {
                changed |= walk(item, sensitive);
            }
            changed
        }
        Value::Object(map) => {
            let secret_object = map.get("kind").and_then(Value::as_str) == Some("Secret");
            let mut changed = false;
            // `{"name": "Authorization", "value": "…"}` (HAR headers, HTTP probes).
            if map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(is_sensitive_key)
                && let Some(v) = map.get_mut("value")
            {
                changed |= walk(v, true);
            }
            for (key, child) in map.iter_mut() {
                changed |= if secret_object && (key == "data" || key == "stringData") {
                    redact_all_values(child)
                } else if key == "env" {
                    redact_env(child)
                } else {
                    walk(child, is_sensitive_key(key))
                };
            }
            changed
        }
        Value::Bool(_) | Value::Null | Value::Number(_) => false,
    }
}

/// Replaces a non-empty string or a number; returns true when it changed anything.
fn replace_scalar(value: &mut Value) -> bool {
    match value {
        Value::String(s) if s.is_empty() || s == REDACTED => false,
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(REDACTED.to_owned());
            true
        }
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// A free string: JSON embedded in it is redacted as JSON, anything else by the text rules.
fn redact_string(s: &mut String) -> bool {
    let trimmed = s.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut inner) = serde_json::from_str::<Value>(s)
    {
        if json(&mut inner)
            && let Ok(out) = serde_json::to_string(&inner)
        {
            *s = out;
            return true;
        }
        return false;
    }
    text_in_place(s)
}

/// `["Authorization", "Bearer …"]` header pairs.
fn redact_header_pair(items: &mut [Value]) -> bool {
    if let [Value::String(name), value @ Value::String(_)] = items
        && is_sensitive_key(name)
    {
        return replace_scalar(value);
    }
    false
}

/// Every value of a Secret's `data` / `stringData` map, keys kept.
fn redact_all_values(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => map
            .values_mut()
            .fold(false, |c, v| redact_all_values(v) | c),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |c, v| redact_all_values(v) | c),
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => replace_scalar(value),
    }
}

/// Container `env`: `[{name, value | valueFrom}]`. Values go (env values are secrets by
/// policy), names and `valueFrom` references stay.
fn redact_env(value: &mut Value) -> bool {
    let Value::Array(items) = value else {
        return walk(value, false);
    };
    let mut changed = false;
    for item in items {
        if let Value::Object(var) = item
            && var.contains_key("name")
            && let Some(v) = var.get_mut("value")
        {
            changed |= redact_all_values(v);
        }
        changed |= walk(item, false);
    }
    changed
}
