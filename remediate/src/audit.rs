//! The audit trail: one entry per decision, kept three ways — a JSON document in the
//! evidence store, a Kubernetes Event on the target, and the attributes of the decision's
//! span.
//!
//! An entry says who (the executor's identity), what (target, patch type, the fields the
//! patch sets and its body), the fields' values before and after, the decision and the
//! reason. Before and after hold only the fields the patch touches, never the whole object
//! (a Job's template can carry environment values); the whole entry passes the
//! `lastmile-redact` policy before it is written anywhere.

use chrono::{DateTime, Utc};
use lastmile_events::diagnosis::{PatchTarget, PatchType};
use lastmile_runtime::evidence::{EvidenceError, EvidenceStore};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What the executor decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Dry run passed and the patch was applied.
    Applied,
    /// Every field already had its value; nothing was sent.
    Unchanged,
    /// Not allowlisted, out of bounds, or a precondition failed; nothing was sent but reads.
    Refused,
    /// The object changed between read and patch (409 or a stale precondition); not applied.
    Conflict,
    /// The dry run or the patch failed for another reason; not applied.
    Failed,
}

impl Decision {
    /// The decision's name, as in the entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Unchanged => "unchanged",
            Self::Refused => "refused",
            Self::Conflict => "conflict",
            Self::Failed => "failed",
        }
    }

    /// The Kubernetes Event reason.
    fn event_reason(self) -> &'static str {
        match self {
            Self::Applied => "RemediationApplied",
            Self::Unchanged => "RemediationUnchanged",
            Self::Refused => "RemediationRefused",
            Self::Conflict => "RemediationConflict",
            Self::Failed => "RemediationFailed",
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// The remediation command's id (the CloudEvent id).
    pub id: String,
    /// When the decision was made.
    pub time: DateTime<Utc>,
    /// The executor's identity (its service account).
    pub who: String,
    /// The object.
    pub target: PatchTarget,
    /// The patch type.
    pub patch_type: PatchType,
    /// The patch body as received (redacted).
    pub body: Value,
    /// What the step is for, from the diagnosis (redacted).
    pub description: String,
    /// The touched fields' values before (JSON pointer → value; `null`: absent).
    pub before: Map<String, Value>,
    /// The touched fields' values after (from the API server's answer when applied).
    pub after: Map<String, Value>,
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reason: String,
    /// Whether the server-side dry run ran and passed.
    pub dry_run: Option<bool>,
    /// The diagnosis the remediation belongs to.
    pub diagnosis_id: String,
    /// The incident key.
    pub incident: String,
    /// The trace id of the decision's span (hex), when traced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// A key component from untrusted text: path separators and dot-only names replaced.
fn component(raw: &str) -> String {
    let c: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if c.is_empty() || c.chars().all(|c| c == '.') {
        "_".to_owned()
    } else {
        c
    }
}

impl AuditEntry {
    /// The entry as redacted JSON: what is stored and what the Event and logs are built from.
    pub fn to_redacted_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        lastmile_redact::json(&mut v);
        v
    }

    /// `audit/remediate/<namespace>/<name>/<time>-<id>.json`: one file per decision, never
    /// overwritten by a later one (a redelivery writes a second entry).
    pub fn key(&self) -> String {
        format!(
            "audit/remediate/{}/{}/{}-{}.json",
            component(self.target.namespace.as_deref().unwrap_or("_cluster")),
            component(&self.target.name),
            self.time.format("%Y%m%dT%H%M%S%.3fZ"),
            component(&self.id),
        )
    }

    /// Writes the redacted entry to the evidence store; returns its key.
    pub async fn store(&self, store: &dyn EvidenceStore) -> Result<String, EvidenceError> {
        let key = self.key();
        let bytes = serde_json::to_vec_pretty(&self.to_redacted_json()).map_err(|e| {
            EvidenceError::Rejected(format!("cannot encode the audit entry: {e}").into())
        })?;
        store.put(&key, &bytes, "application/json").await?;
        Ok(key)
    }

    /// One line for people: the decision, the fields and the reason.
    pub fn message(&self) -> String {
        let fields = |m: &Map<String, Value>| {
            m.iter()
                .map(|(k, v)| format!("{}={v}", k.trim_start_matches("/spec/")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = match self.decision {
            Decision::Applied => format!(
                "lastmile-remediate applied a {} patch ({} -> {}) after a server-side dry run: {}",
                self.patch_type.content_type(),
                fields(&self.before),
                fields(&self.after),
                self.reason
            ),
            d => format!(
                "lastmile-remediate did not patch ({}): {}",
                d.as_str(),
                self.reason
            ),
        };
        lastmile_redact::text(&text).into_owned()
    }

    /// The `v1` Event recording this decision on the target (`involvedObject`).
    pub fn event(&self, uid: Option<&str>, resource_version: Option<&str>) -> Value {
        let t = &self.target;
        let now = self.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut involved = json!({
            "apiVersion": t.api_version, "kind": t.kind,
            "namespace": t.namespace, "name": t.name,
        });
        if let Some(uid) = uid {
            involved["uid"] = json!(uid);
        }
        if let Some(rv) = resource_version {
            involved["resourceVersion"] = json!(rv);
        }
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "generateName": format!("{}.lastmile-", t.name),
                "namespace": t.namespace,
                "annotations": {"lastmile.dev/remediation": self.id, "lastmile.dev/decision": self.decision.as_str()},
            },
            "involvedObject": involved,
            "reason": self.decision.event_reason(),
            "message": self.message(),
            "type": if self.decision == Decision::Applied || self.decision == Decision::Unchanged { "Normal" } else { "Warning" },
            "action": "Patch",
            "source": {"component": crate::kube::FIELD_MANAGER},
            "reportingComponent": crate::kube::FIELD_MANAGER,
            "reportingInstance": self.who,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
