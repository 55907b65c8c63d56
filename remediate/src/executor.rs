//! The [`Remediator`]: one remediation command in, one audited decision out.
//!
//! For a command with a structured patch:
//! 1. [`plan::check`]: namespace, kind and every touched field against the allowlist, values
//!    against their bounds. Refused here means no API call at all.
//! 2. GET the target; [`plan::against`] checks the producer's resourceVersion and field
//!    preconditions and that a deadline is only raised.
//! 3. PATCH with `dryRun=All` and the read resourceVersion as precondition; then the same
//!    PATCH for real. A 409 (the object changed in between) is re-read and reported as a
//!    conflict, never retried into a state nobody checked.
//! 4. The audit entry goes to the evidence store (a failure there is retried: the decision
//!    is redone on the re-read object, so an applied patch comes back `unchanged`), then to
//!    a Kubernetes Event on the target (best effort), and its fields onto the span.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use lastmile_events::diagnosis::PatchSpec;
use lastmile_events::{CloudEvent, RemediationCommand};
use lastmile_runtime::bus::{Message, TRACEPARENT_HEADER};
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_runtime::executor::ProcessError;
use lastmile_runtime::host::nats::Processor;
use lastmile_runtime::telemetry;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::allow::Allowlist;
use crate::audit::{AuditEntry, Decision};
use crate::kube::{Kube, KubeError};
use crate::plan::{self, Verdict};

/// Applies allowlisted structured remediations and audits every decision.
pub struct Remediator {
    allow: Allowlist,
    identity: String,
    kube: Kube,
    evidence: Arc<dyn EvidenceStore>,
}

/// What [`Remediator::decide`] found, before it is recorded.
struct Outcome {
    decision: Decision,
    reason: String,
    before: Map<String, Value>,
    after: Map<String, Value>,
    dry_run: Option<bool>,
    /// The target's uid and resourceVersion, when it was read (for the Event).
    object: Option<(Option<String>, Option<String>)>,
}

impl Outcome {
    fn without_change(decision: Decision, reason: String) -> Self {
        Self {
            decision,
            reason,
            before: Map::new(),
            after: Map::new(),
            dry_run: None,
            object: None,
        }
    }
}

fn meta(object: &Value, field: &str) -> Option<String> {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn values_at(object: &Value, pointers: impl Iterator<Item = String>) -> Map<String, Value> {
    pointers
        .map(|p| {
            let v = object.pointer(&p).cloned().unwrap_or(Value::Null);
            (p, v)
        })
        .collect()
}

fn retry(e: &KubeError) -> ProcessError {
    ProcessError::Retryable(lastmile_redact::text(&e.to_string()).into_owned())
}

impl Remediator {
    /// An executor allowed to make the changes in `allow`, recording audit entries under
    /// `identity` in `evidence`.
    pub fn new(
        allow: Allowlist,
        identity: String,
        kube: Kube,
        evidence: Arc<dyn EvidenceStore>,
    ) -> Self {
        Self {
            allow,
            identity,
            kube,
            evidence,
        }
    }

    /// Steps 1–3 of the module docs. `Err` only for what a retry can fix (the API server did
    /// not answer); every other failure is a decision.
    async fn decide(&self, spec: &PatchSpec) -> Result<Outcome, ProcessError> {
        let checked = match plan::check(spec, &self.allow) {
            Ok(c) => c,
            Err(reason) => return Ok(Outcome::without_change(Decision::Refused, reason)),
        };
        let live = match self.kube.get(&spec.target).await {
            Ok(live) => live,
            Err(e) if e.is_retryable() => return Err(retry(&e)),
            Err(e) => {
                return Ok(Outcome::without_change(
                    Decision::Failed,
                    format!("cannot read the target: {e}"),
                ));
            }
        };
        let object = Some((meta(&live, "uid"), meta(&live, "resourceVersion")));
        let rv = meta(&live, "resourceVersion").unwrap_or_default();
        let (before, after) = match plan::against(spec, &checked, &live) {
            Verdict::Apply { before, after } => (before, after),
            Verdict::Unchanged { values } => {
                return Ok(Outcome {
                    before: values.clone(),
                    after: values,
                    object,
                    ..Outcome::without_change(
                        Decision::Unchanged,
                        "every field already has the patch's value".into(),
                    )
                });
            }
            Verdict::Conflict(reason) => {
                return Ok(Outcome {
                    object,
                    ..Outcome::without_change(Decision::Conflict, reason)
                });
            }
            Verdict::Refused(reason) => {
                return Ok(Outcome {
                    object,
                    ..Outcome::without_change(Decision::Refused, reason)
                });
            }
        };
        let body = plan::request_body(spec, &rv);
        let pointers = || after.keys().cloned();
        let mut outcome = Outcome {
            decision: Decision::Failed,
            reason: String::new(),
            before: before.clone(),
            after: Map::new(),
            dry_run: Some(false),
            object,
        };
        // The dry run: the server validates (admission, schema) without storing.
        match self
            .kube
            .patch(&spec.target, spec.patch_type, &body, true)
            .await
        {
            Ok(would_be) => {
                let predicted = values_at(&would_be, pointers());
                if predicted != after {
                    outcome.reason = "the dry run predicts other values than the patch sets".into();
                    outcome.after = predicted;
                    return Ok(outcome);
                }
            }
            Err(e) if e.is_conflict() => return Ok(self.conflict(spec, outcome, &rv).await),
            Err(e) if e.is_retryable() => return Err(retry(&e)),
            Err(e) => {
                outcome.reason = format!("the server-side dry run refused the patch: {e}");
                return Ok(outcome);
            }
        }
        outcome.dry_run = Some(true);
        match self
            .kube
            .patch(&spec.target, spec.patch_type, &body, false)
            .await
        {
            Ok(patched) => {
                outcome.decision = Decision::Applied;
                outcome.after = values_at(&patched, pointers());
                outcome.reason = format!(
                    "allowlisted in namespace {}; applied at resourceVersion {rv}",
                    spec.target.namespace.as_deref().unwrap_or_default()
                );
                outcome.object = Some((meta(&patched, "uid"), meta(&patched, "resourceVersion")));
                Ok(outcome)
            }
            Err(e) if e.is_conflict() => Ok(self.conflict(spec, outcome, &rv).await),
            // Not retried: whether the patch landed is unknown; the redelivery re-reads and
            // decides again (an applied patch then shows as unchanged).
            Err(e) if e.is_retryable() => Err(retry(&e)),
            Err(e) => {
                outcome.reason = format!("the API server refused the patch: {e}");
                Ok(outcome)
            }
        }
    }

    /// A 409: re-read to report what the object is now; never re-apply.
    async fn conflict(&self, spec: &PatchSpec, mut outcome: Outcome, read_rv: &str) -> Outcome {
        outcome.decision = Decision::Conflict;
        let now = match self.kube.get(&spec.target).await {
            Ok(live) => {
                outcome.after = values_at(&live, outcome.before.keys().cloned());
                outcome.object = Some((meta(&live, "uid"), meta(&live, "resourceVersion")));
                meta(&live, "resourceVersion").unwrap_or_default()
            }
            Err(e) => format!("unknown ({e})"),
        };
        outcome.reason = format!(
            "the object changed after it was read (resourceVersion {read_rv}, now {now}); not applied, not retried"
        );
        outcome
    }
}

#[async_trait]
impl Processor for Remediator {
    fn name(&self) -> &str {
        "remediate"
    }

    async fn process(&self, message: &Message) -> Result<(), ProcessError> {
        let event = CloudEvent::<RemediationCommand>::from_slice(&message.payload)
            .map_err(|e| ProcessError::BadInput(format!("not a remediation command: {e}")))?;
        let command = &event.data;
        let Some(spec) = command.patch.as_ref() else {
            tracing::debug!(id = %event.id, "Text-only remediation; nothing to apply.");
            return Ok(());
        };
        let t = &spec.target;
        let span = tracing::info_span!(
            "lastmile.remediate",
            otel.name = %format!("remediate {}", t.kind),
            otel.kind = "client",
            k8s.namespace.name = t.namespace.as_deref().unwrap_or_default(),
            lastmile.target.kind = %t.kind,
            lastmile.target.name = %t.name,
            lastmile.remediation.id = %event.id,
            lastmile.remediation.patch_type = spec.patch_type.content_type(),
            lastmile.remediation.decision = tracing::field::Empty,
            lastmile.remediation.reason = tracing::field::Empty,
            lastmile.remediation.who = %self.identity,
        );
        let mut parent: BTreeMap<String, String> = message.headers.clone();
        if !parent
            .keys()
            .any(|k| k.eq_ignore_ascii_case(TRACEPARENT_HEADER))
            && let Some(tp) = &event.traceparent
        {
            parent.insert(TRACEPARENT_HEADER.to_owned(), tp.clone());
        }
        telemetry::set_parent_from(&span, &parent);
        let outcome = self.decide(spec).instrument(span.clone()).await?;
        let mut body = spec.body.clone();
        lastmile_redact::json(&mut body);
        let entry = AuditEntry {
            id: event.id.clone(),
            time: Utc::now(),
            who: self.identity.clone(),
            target: t.clone(),
            patch_type: spec.patch_type,
            body,
            description: lastmile_redact::text(&command.remediation.description).into_owned(),
            before: outcome.before,
            after: outcome.after,
            decision: outcome.decision,
            reason: lastmile_redact::text(&outcome.reason).into_owned(),
            dry_run: outcome.dry_run,
            diagnosis_id: command.diagnosis_id.clone(),
            incident: command.incident.clone(),
            trace_id: telemetry::trace_id_of(&span),
        };
        span.record("lastmile.remediation.decision", entry.decision.as_str());
        span.record("lastmile.remediation.reason", entry.reason.as_str());
        let key = entry
            .store(self.evidence.as_ref())
            .instrument(span.clone())
            .await
            .map_err(|e| {
                if e.is_retryable() {
                    ProcessError::Retryable(format!("audit entry not stored: {e}"))
                } else {
                    ProcessError::Permanent(format!("audit entry not stored: {e}"))
                }
            })?;
        let (uid, rv) = outcome.object.unwrap_or_default();
        if let Some(ns) = t.namespace.as_deref()
            && let Err(e) = self
                .kube
                .create_event(ns, &entry.event(uid.as_deref(), rv.as_deref()))
                .instrument(span.clone())
                .await
        {
            span.in_scope(|| tracing::warn!(error = %e, audit = %key, "Audit Event not recorded."));
        }
        span.in_scope(|| {
            let log = |decision: Decision| {
                if decision == Decision::Applied || decision == Decision::Unchanged {
                    tracing::info!(decision = decision.as_str(), namespace = ?t.namespace, kind = %t.kind, name = %t.name, reason = %entry.reason, audit = %key, "Remediation decided.");
                } else {
                    tracing::warn!(decision = decision.as_str(), namespace = ?t.namespace, kind = %t.kind, name = %t.name, reason = %entry.reason, audit = %key, "Remediation not applied.");
                }
            };
            log(entry.decision);
        });
        Ok(())
    }
}
