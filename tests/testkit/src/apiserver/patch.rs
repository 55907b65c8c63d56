//! The three Kubernetes patch types, applied to JSON objects as the API server does.
//!
//! * **JSON merge patch** (RFC 7386, `application/merge-patch+json`): maps merge
//!   recursively, `null` deletes a key, anything else (lists included) replaces.
//! * **Strategic merge patch** (`application/strategic-merge-patch+json`): as merge patch,
//!   except that lists with a merge key in the Kubernetes schema merge item by item on that
//!   key (`containers` by `name`, `volumeMounts` by `mountPath`, ...; see [`merge_key`]).
//!   Limits: the `$patch`, `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList`
//!   directives are not supported (a patch using them is refused), and merge keys are known
//!   by field name only, not per type — enough for the Pod and Job shapes lastmile patches.
//! * **JSON patch** (RFC 6902, `application/json-patch+json`): `add`, `remove`, `replace`,
//!   `move`, `copy` and `test`, applied in order, all or nothing.

use serde_json::{Map, Value};

/// Why a patch could not be applied (the API server answers 422 or 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError(pub String);

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A patch type by its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
}

impl Kind {
    /// The patch type of a `Content-Type` header value (parameters ignored).
    pub fn of(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Applies `patch` of type `kind` to `object`, returning the patched object.
pub fn apply(kind: Kind, object: &Value, patch: &Value) -> Result<Value, PatchError> {
    match kind {
        Kind::Merge => {
            if !patch.is_object() {
                return Err(PatchError("a merge patch must be a JSON object".into()));
            }
            Ok(merge(object, patch, false, None)?)
        }
        Kind::Strategic => {
            if !patch.is_object() {
                return Err(PatchError(
                    "a strategic merge patch must be a JSON object".into(),
                ));
            }
            Ok(merge(object, patch, true, None)?)
        }
        Kind::Json => json_patch(object, patch),
    }
}

/// The merge key of a list field in the Kubernetes schema, by field name.
pub fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => "name",
        "hostAliases" => "ip",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "conditions" => "type",
        _ => return None,
    })
}

fn merge(
    target: &Value,
    patch: &Value,
    strategic: bool,
    field: Option<&str>,
) -> Result<Value, PatchError> {
    match (target, patch) {
        (_, Value::Object(p)) => {
            if strategic && let Some(directive) = p.keys().find(|k| k.starts_with('$')) {
                return Err(PatchError(format!(
                    "the fake API server does not support the strategic merge directive {directive}"
                )));
            }
            let mut out = match target {
                Value::Object(t) => t.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = merge(out.get(k).unwrap_or(&Value::Null), v, strategic, Some(k))?;
                    out.insert(k.clone(), merged);
                }
            }
            Ok(Value::Object(out))
        }
        (Value::Array(t), Value::Array(p)) if strategic => match field.and_then(merge_key) {
            Some(key) => merge_list(t, p, key),
            None => Ok(patch.clone()),
        },
        _ => Ok(patch.clone()),
    }
}

/// Strategic merge of a list by `key`: items with a matching key merge, new ones append.
fn merge_list(target: &[Value], patch: &[Value], key: &str) -> Result<Value, PatchError> {
    let mut out = target.to_vec();
    for item in patch {
        let Some(id) = item.get(key) else {
            return Err(PatchError(format!(
                "list item without its merge key {key}: {item}"
            )));
        };
        match out.iter_mut().find(|t| t.get(key) == Some(id)) {
            Some(existing) => *existing = merge(existing, item, true, None)?,
            None => out.push(merge(&Value::Null, item, true, None)?),
        }
    }
    Ok(Value::Array(out))
}

fn json_patch(object: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| PatchError("a JSON patch must be an array of operations".into()))?;
    let mut doc = object.clone();
    for (i, op) in ops.iter().enumerate() {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| PatchError(format!("operation {i} has no path")))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| PatchError(format!("operation {i} ({name}) has no value")))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| PatchError(format!("operation {i} ({name}) has no from")))
        };
        match name {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value()?)?;
            }
            "move" => {
                let moved = remove(&mut doc, from()?)?;
                add(&mut doc, path, moved)?;
            }
            "copy" => {
                let copied = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| PatchError(format!("operation {i}: from does not exist")))?;
                add(&mut doc, path, copied)?;
            }
            "test" => {
                let expected = value()?;
                if doc.pointer(path) != Some(&expected) {
                    return Err(PatchError(format!(
                        "testing value {path} failed: expected {expected}"
                    )));
                }
            }
            other => return Err(PatchError(format!("unknown JSON patch op {other:?}"))),
        }
    }
    Ok(doc)
}

/// Splits a JSON pointer into its parent pointer and its last (unescaped) token.
fn split(path: &str) -> Result<(&str, String), PatchError> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| PatchError(format!("invalid JSON pointer {path:?}")))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), PatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let at = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| PatchError(format!("invalid array index in {path}")))?
            };
            items.insert(at, value);
            Ok(())
        }
        _ => Err(PatchError(format!("the parent of {path} does not exist"))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, PatchError> {
    let (parent, last) = split(path)?;
    let missing = || PatchError(format!("{path} does not exist"));
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(items)) => {
            let at = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(missing)?;
            Ok(items.remove(at))
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
