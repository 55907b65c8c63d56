//! The decision, without I/O: is this patch allowed, and what would it change?
//!
//! The executor never trusts what a patch claims to do; it reads the body itself. A patch is
//! allowed only when **every** field it touches is a Job spec field on the namespace's
//! allowlist ([`crate::allow`]) with a value of the right type inside its bound. Reasons
//! name field paths, never values, so a refused patch carrying a secret does not copy it
//! into the audit trail.
//!
//! [`check`] runs before the object is read (nothing allowed: no API call at all);
//! [`against`] runs on the live object (preconditions, "raise only", already applied); and
//! [`request_body`] adds the `resourceVersion` precondition to what is sent.

use lastmile_events::diagnosis::{PatchSpec, PatchType};
use serde_json::{Map, Value, json};

use crate::allow::{Allowlist, Change};

/// One field the patch sets.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// The allowlist entry that permits it.
    pub change: Change,
    /// The value the patch sets.
    pub value: Value,
}

impl FieldChange {
    /// The field as a JSON pointer into the Job, e.g. `/spec/suspend`.
    pub fn pointer(&self) -> String {
        format!("/spec/{}", self.change.field())
    }
}

/// What the static check found: the fields and the resourceVersion the producer expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Every field the patch sets, each allowlisted.
    pub fields: Vec<FieldChange>,
    /// The `metadata.resourceVersion` the patch must apply to, when the producer gave one.
    pub expected_version: Option<String>,
}

/// The verdict on the live object.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Apply: every field's value before and after, by pointer.
    Apply {
        /// Current values (`null`: absent).
        before: Map<String, Value>,
        /// Values after the patch.
        after: Map<String, Value>,
    },
    /// Every field already has its value: nothing to do (a redelivery of an applied patch).
    Unchanged {
        /// The current values.
        values: Map<String, Value>,
    },
    /// The object is not at the version the patch was computed against.
    Conflict(String),
    /// A precondition or bound fails on the live object.
    Refused(String),
}

/// Why a patch is refused before the object is read.
pub type Refusal = String;

/// The static check: target, patch type and every touched field against `allow`.
pub fn check(spec: &PatchSpec, allow: &Allowlist) -> Result<Checked, Refusal> {
    let t = &spec.target;
    let Some(ns) = t.namespace.as_deref().filter(|n| !n.is_empty()) else {
        return Err(format!(
            "{} {} has no namespace; only namespaced Jobs can be patched",
            t.kind, t.name
        ));
    };
    if allow.in_namespace(ns).is_empty() {
        return Err(format!("namespace {ns} has no allowlist"));
    }
    if t.kind != "Job" || t.api_version != "batch/v1" {
        return Err(format!(
            "{}/{} is not an allowlisted kind (only batch/v1 Job)",
            t.api_version, t.kind
        ));
    }
    let mut expected_version = spec.preconditions.resource_version.clone();
    let mut fields = Vec::new();
    let mut set = |field: &str, value: &Value| -> Result<(), Refusal> {
        let Some(change) = allow.job_field(ns, field) else {
            return Err(format!(
                "field spec.{field} is outside the allowlist of namespace {ns}"
            ));
        };
        bounded(change, value)?;
        fields.push(FieldChange {
            change,
            value: value.clone(),
        });
        Ok(())
    };
    match spec.patch_type {
        PatchType::Merge | PatchType::StrategicMerge => {
            let body = spec
                .body
                .as_object()
                .ok_or_else(|| "a merge patch body must be an object".to_owned())?;
            for (key, value) in body {
                match (key.as_str(), value) {
                    ("spec", Value::Object(spec_fields)) => {
                        for (field, v) in spec_fields {
                            set(field, v)?;
                        }
                    }
                    ("metadata", Value::Object(meta))
                        if meta.keys().all(|k| k == "resourceVersion") =>
                    {
                        if let Some(rv) = meta.get("resourceVersion").and_then(Value::as_str) {
                            expect_version(&mut expected_version, rv)?;
                        }
                    }
                    (other, _) => {
                        return Err(format!("field {other} is outside the allowlist"));
                    }
                }
            }
        }
        PatchType::Json => {
            let ops = spec
                .body
                .as_array()
                .ok_or_else(|| "a JSON patch body must be an array".to_owned())?;
            for op in ops {
                let name = op.get("op").and_then(Value::as_str).unwrap_or("");
                let path = op.get("path").and_then(Value::as_str).unwrap_or("");
                let value = op.get("value").unwrap_or(&Value::Null);
                match (name, path) {
                    ("replace" | "test", "/metadata/resourceVersion") => {
                        if let Some(rv) = value.as_str() {
                            expect_version(&mut expected_version, rv)?;
                        }
                    }
                    ("test", _) => {}
                    ("add" | "replace", p)
                        if p.starts_with("/spec/") && p[6..].find('/').is_none() =>
                    {
                        set(&p[6..], value)?;
                    }
                    (name, path) => {
                        return Err(format!(
                            "JSON patch operation {name} {path} is outside the allowlist"
                        ));
                    }
                }
            }
        }
    }
    if fields.is_empty() {
        return Err("the patch changes nothing the allowlist covers".to_owned());
    }
    Ok(Checked {
        fields,
        expected_version,
    })
}

fn expect_version(expected: &mut Option<String>, rv: &str) -> Result<(), Refusal> {
    match expected {
        Some(e) if e != rv => Err("the patch names two different resourceVersions".to_owned()),
        _ => {
            *expected = Some(rv.to_owned());
            Ok(())
        }
    }
}

/// The type and bound of each change's value.
fn bounded(change: Change, value: &Value) -> Result<(), Refusal> {
    let field = change.field();
    match change {
        Change::JobSuspend if value.is_boolean() => Ok(()),
        Change::JobSuspend => Err(format!("spec.{field} must be true or false")),
        Change::JobTtl => match value.as_i64() {
            Some(v) if v >= 0 => Ok(()),
            _ => Err(format!("spec.{field} must be a number of seconds ≥ 0")),
        },
        Change::JobDeadline { max } => match value.as_i64() {
            Some(v) if v > 0 && v <= max => Ok(()),
            Some(v) if v > max => Err(format!(
                "spec.{field} {v} is above the bound of {max} seconds"
            )),
            _ => Err(format!("spec.{field} must be a positive number of seconds")),
        },
    }
}

/// The check against the live object: its resourceVersion, the preconditions, and that a
/// deadline is only ever raised.
pub fn against(spec: &PatchSpec, checked: &Checked, live: &Value) -> Verdict {
    let live_rv = live
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(expected) = &checked.expected_version
        && expected != live_rv
    {
        return Verdict::Conflict(format!(
            "the object is at resourceVersion {live_rv}, the patch was computed against {expected}"
        ));
    }
    if let Some(failed) = spec.preconditions.fields.iter().find(|f| !f.holds(live)) {
        return Verdict::Refused(format!("precondition on {} does not hold", failed.path));
    }
    let mut before = Map::new();
    let mut after = Map::new();
    for f in &checked.fields {
        let pointer = f.pointer();
        let current = live.pointer(&pointer).cloned().unwrap_or(Value::Null);
        if let Change::JobDeadline { .. } = f.change
            && current != f.value
        {
            match (current.as_i64(), f.value.as_i64()) {
                (None, _) => {
                    return Verdict::Refused(
                        "the Job has no activeDeadlineSeconds: setting one would bound it, not raise it"
                            .to_owned(),
                    );
                }
                (Some(now), Some(new)) if new < now => {
                    return Verdict::Refused(format!(
                        "spec.activeDeadlineSeconds would be lowered from {now} to {new}; only raising is allowed"
                    ));
                }
                _ => {}
            }
        }
        before.insert(pointer.clone(), current);
        after.insert(pointer, f.value.clone());
    }
    if before == after {
        return Verdict::Unchanged { values: before };
    }
    Verdict::Apply { before, after }
}

/// The body sent to the API server: the patch with the live `resourceVersion` as its
/// precondition (in `metadata` for the merge types, a `replace` op for a JSON patch), so
/// the server answers 409 Conflict if the object changed after it was read.
pub fn request_body(spec: &PatchSpec, resource_version: &str) -> Value {
    match spec.patch_type {
        PatchType::Merge | PatchType::StrategicMerge => {
            let mut body = spec.body.clone();
            body["metadata"]["resourceVersion"] = json!(resource_version);
            body
        }
        PatchType::Json => {
            let mut ops = vec![
                json!({"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version}),
            ];
            ops.extend(
                spec.body
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|op| {
                        op.get("path").and_then(Value::as_str) != Some("/metadata/resourceVersion")
                    })
                    .cloned(),
            );
            Value::Array(ops)
        }
    }
}

#[cfg(test)]
mod tests;
