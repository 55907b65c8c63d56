//! One message in, diagnoses out: the path every host shares.
//!
//! 1. parse the structured-mode CloudEvent (bad bytes → [`ProcessError::BadInput`]);
//! 2. open the function span as a child of the message's `traceparent`;
//! 3. call the function under its deadline, and pass what it returns through the one output
//!    boundary ([`lastmile_contract::finalize`]: provenance, bounds, redaction) — nothing
//!    is stored or published that did not;
//! 4. store the outcome's evidence bundle in one call (redacted, content-addressed objects,
//!    then the one manifest the outcome's diagnoses share);
//! 5. publish each diagnosis on `lastmile.diagnosis.<class>` and each remediation step on
//!    `lastmile.remediation.<class>`.
//!
//! Every id is derived from the message and the function, never from the clock, so a
//! redelivered message rewrites the same objects and manifest and publishes the same
//! `Nats-Msg-Id`s, which JetStream drops as duplicates: at-least-once delivery yields
//! exactly one diagnosis.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use lastmile_contract::{Context, ErrorKind, Function, finalize};
use lastmile_events::envelope::stable_id;
use lastmile_events::{CloudEvent, Diagnosis, Incident, RemediationCommand, subjects};
use tracing::{Instrument, field};

use crate::bus::{BusError, MSG_ID_HEADER, Message, Publisher};
use crate::evidence::bundle::store_finalized;
use crate::evidence::{EvidenceError, EvidenceStore};
use crate::telemetry;

/// Producer source written into the envelopes the executor publishes.
pub const SOURCE_PREFIX: &str = "/lastmile/function";

/// Why a message produced no diagnosis. The host decides ack / nak / dead-letter from it.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The message can never be processed (malformed CloudEvent, wrong type, bad payload).
    #[error("bad input: {0}")]
    BadInput(String),
    /// Something transient failed (store, bus, function timeout): try again later.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Retrying cannot help (rejected by the store, a bug in the function).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl ProcessError {
    fn from_evidence(e: EvidenceError) -> Self {
        if e.is_retryable() {
            Self::Retryable(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }

    fn from_bus(e: BusError) -> Self {
        if e.is_retryable() {
            Self::Retryable(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }
}

/// What one processed message produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The incident that was diagnosed.
    pub incident: String,
    /// The diagnoses as published (ids, evidence refs and trace id filled in).
    pub diagnoses: Vec<Diagnosis>,
}

/// Runs one function against bus messages. Cheap to clone; build once per host.
#[derive(Clone)]
pub struct Executor {
    function: Function,
    ctx: Context,
    evidence: Arc<dyn EvidenceStore>,
    publisher: Arc<dyn Publisher>,
    host: HostKind,
}

/// Where the executor runs; it picks the span attributes that describe the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKind {
    /// A JetStream consumer (`messaging.system = nats`).
    #[default]
    Nats,
    /// An AWS Lambda invocation (`cloud.provider = aws`, no messaging system).
    Lambda,
    /// The in-process bus of `lastmile replay`.
    InProcess,
}

impl Executor {
    /// An executor for `function` with the clients it needs.
    pub fn new(
        function: Function,
        ctx: Context,
        evidence: Arc<dyn EvidenceStore>,
        publisher: Arc<dyn Publisher>,
    ) -> Self {
        Self {
            function,
            ctx,
            evidence,
            publisher,
            host: HostKind::Nats,
        }
    }

    /// The same executor, describing its spans as running in `host`.
    pub fn on_host(mut self, host: HostKind) -> Self {
        self.host = host;
        self
    }

    /// The function this executor runs.
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// Processes one message end to end. See the module docs for the steps.
    pub async fn process(&self, message: &Message) -> Result<Processed, ProcessError> {
        let event = CloudEvent::<Incident>::from_slice(&message.payload)
            .map_err(|e| ProcessError::BadInput(e.to_string()))?;
        let span = function_span(self.function.spec.name, self.host, &event);
        // Header first (set by the transport), else the envelope's extension attribute.
        let mut parent = message.headers.clone();
        if !parent.keys().any(|k| k.eq_ignore_ascii_case("traceparent"))
            && let Some(tp) = &event.traceparent
        {
            parent.insert("traceparent".into(), tp.clone());
        }
        telemetry::set_parent_from(&span, &parent);
        self.process_event(event).instrument(span).await
    }

    async fn process_event(&self, event: CloudEvent<Incident>) -> Result<Processed, ProcessError> {
        let spec = self.function.spec;
        let incident = &event.data;
        let outcome = match tokio::time::timeout(
            spec.deadline,
            self.function.call(incident, &self.ctx),
        )
        .await
        {
            Err(_) => {
                return Err(ProcessError::Retryable(format!(
                    "function {} exceeded its deadline of {:?}",
                    spec.name, spec.deadline
                )));
            }
            Ok(Err(e)) => {
                return Err(match e.kind() {
                    ErrorKind::Retryable => ProcessError::Retryable(e.to_string()),
                    ErrorKind::Permanent => ProcessError::Permanent(e.to_string()),
                    ErrorKind::BadInput => ProcessError::BadInput(e.to_string()),
                });
            }
            Ok(Ok(outcome)) => finalize::outcome(spec, incident, outcome),
        };

        let trace_id = telemetry::trace_id_of(&tracing::Span::current());
        // Ids first. The outcome's diagnoses list the same objects, so they share one
        // manifest, named after the first diagnosis (an outcome of one diagnosis, the usual
        // case, has the manifest of its diagnosis' id); the whole bundle (objects, then the
        // manifest) is stored before anything is published, so a published diagnosis always
        // names evidence that exists.
        let mut per_class: BTreeMap<String, usize> = BTreeMap::new();
        let ids: Vec<String> = outcome
            .diagnoses
            .iter()
            .map(|d| {
                let ordinal = per_class.entry(d.class.to_string()).or_default();
                *ordinal += 1;
                diagnosis_id(spec.name, incident, d.class.as_str(), *ordinal)
            })
            .collect();
        let evidence_ref = match ids.first() {
            None => None,
            Some(first) => {
                let manifest_key = format!("manifests/{}/{first}.json", subjects::token(spec.name));
                let stored =
                    store_finalized(self.evidence.as_ref(), &manifest_key, &outcome.evidence)
                        .instrument(tracing::info_span!(
                            "lastmile.evidence.store",
                            lastmile.evidence.manifest = %manifest_key
                        ))
                        .await
                        .map_err(ProcessError::from_evidence)?;
                Some(stored)
            }
        };
        let mut published = Vec::with_capacity(outcome.diagnoses.len());
        for (mut diagnosis, id) in outcome.diagnoses.into_iter().zip(ids) {
            diagnosis.id = Some(id);
            diagnosis.evidence_ref = evidence_ref.clone();
            diagnosis.trace_id = trace_id.clone();
            tracing::Span::current().record("lastmile.diagnosis.class", diagnosis.class.as_str());
            published.push(diagnosis);
        }
        // Every envelope of the outcome, in order (each diagnosis, then its remediation
        // steps), each under its own publish span. They go out one after another on the
        // connection and their acknowledgements are awaited together: one round trip for
        // the outcome rather than one per message.
        let mut sends = Vec::new();
        let published = published
            .into_iter()
            .map(|diagnosis| {
                let (diagnosis, envelopes) = self.envelopes(&event, diagnosis)?;
                sends.extend(envelopes);
                Ok(diagnosis)
            })
            .collect::<Result<Vec<_>, ProcessError>>()?;
        futures::future::try_join_all(
            sends
                .into_iter()
                .map(|(span, message)| self.publisher.publish(message).instrument(span)),
        )
        .await
        .map_err(ProcessError::from_bus)?;
        for diagnosis in &published {
            tracing::info!(
                incident = %incident.key,
                class = %diagnosis.class,
                confidence = diagnosis.confidence,
                "Diagnosis published."
            );
        }
        Ok(Processed {
            incident: incident.key.clone(),
            diagnoses: published,
        })
    }

    /// The diagnosis envelope and one remediation command per step, each with the span
    /// its publish runs under. The diagnosis goes into its envelope and comes back out once
    /// serialised (it is not copied: with its details and evidence it is the largest payload
    /// an event publishes).
    fn envelopes(
        &self,
        cause: &CloudEvent<Incident>,
        diagnosis: Diagnosis,
    ) -> Result<(Diagnosis, Vec<(tracing::Span, Message)>), ProcessError> {
        let id = diagnosis.id.clone().unwrap_or_default();
        let source = format!("{SOURCE_PREFIX}/{}", self.function.spec.name);
        let subject_ref = Some(cause.data.subject.to_string());
        let class = diagnosis.class.to_string();
        let mut out = Vec::with_capacity(1 + diagnosis.remediation.len());
        let mut envelope = CloudEvent::new(
            id.clone(),
            source.clone(),
            subject_ref.clone(),
            cause.time,
            diagnosis,
        );
        let subject = subjects::diagnosis(&class);
        let span = tracing::info_span!("lastmile.diagnosis.publish", messaging.destination.name = %subject);
        out.push(message(subject, &id, &mut envelope, span)?);
        let diagnosis = envelope.data;
        let remediation_subject = subjects::remediation(&class);
        for (step, remediation) in diagnosis.remediation.iter().enumerate() {
            let rid = stable_id(&[&id, "remediation", &step.to_string()]);
            let command = RemediationCommand {
                diagnosis_id: id.clone(),
                incident: cause.data.key.clone(),
                class: diagnosis.class.clone(),
                subject: diagnosis.subject.clone(),
                remediation: remediation.clone(),
                patch: diagnosis
                    .patches
                    .iter()
                    .find(|p| p.step == step)
                    .map(|p| p.patch.clone()),
            };
            let mut envelope = CloudEvent::new(
                rid.clone(),
                source.clone(),
                subject_ref.clone(),
                cause.time,
                command,
            );
            let span = tracing::info_span!("lastmile.remediation.publish", messaging.destination.name = %remediation_subject);
            out.push(message(
                remediation_subject.clone(),
                &rid,
                &mut envelope,
                span,
            )?);
        }
        Ok((diagnosis, out))
    }
}

/// One envelope as a bus message with its `Nats-Msg-Id`, its trace context taken from
/// `span` (the publish span it will be sent under), paired with that span.
fn message<T: lastmile_events::envelope::EventType>(
    subject: String,
    msg_id: &str,
    envelope: &mut CloudEvent<T>,
    span: tracing::Span,
) -> Result<(tracing::Span, Message), ProcessError> {
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), msg_id.to_owned());
    span.in_scope(|| telemetry::inject_current(&mut headers));
    envelope.traceparent = headers.get("traceparent").cloned();
    envelope.tracestate = headers.get("tracestate").cloned();
    let payload = envelope
        .to_vec()
        .map_err(|e| ProcessError::Permanent(format!("cannot serialise {}: {e}", T::TYPE)))?;
    let message = Message {
        subject,
        headers,
        payload: Bytes::from(payload),
    };
    Ok((span, message))
}

/// The id of a diagnosis: the same workload stuck for the same cause since the same moment
/// always gets the same id, whichever message carried the incident. So a redelivery, or an
/// incident re-published because more pods of the same Job got stuck (an event storm), is
/// one diagnosis on the bus (JetStream drops the repeated `Nats-Msg-Id`) and one manifest
/// (rewritten with the newest evidence), while an incident that reopens later gets a new one.
fn diagnosis_id(function: &str, incident: &Incident, class: &str, ordinal: usize) -> String {
    stable_id(&[
        function,
        &incident.key,
        &incident.first_seen.to_rfc3339(),
        class,
        &ordinal.to_string(),
    ])
}

/// The function span, with the OTel semantic-convention attributes of the incident.
fn function_span(function: &str, host: HostKind, event: &CloudEvent<Incident>) -> tracing::Span {
    let incident = &event.data;
    let span = tracing::info_span!(
        "lastmile.function",
        otel.name = %format!("diagnose {function}"),
        otel.kind = "consumer",
        faas.name = function,
        faas.trigger = "pubsub",
        messaging.system = field::Empty,
        cloud.provider = field::Empty,
        cloudevents.event_id = %event.id,
        cloudevents.event_type = %event.ty,
        lastmile.incident.key = %incident.key,
        lastmile.incident.family = %incident.family,
        lastmile.diagnosis.class = field::Empty,
        k8s.namespace.name = field::Empty,
        k8s.pod.name = field::Empty,
        k8s.job.name = field::Empty,
        cicd.pipeline.run.id = field::Empty,
        cicd.pipeline.name = field::Empty,
    );
    match host {
        HostKind::Nats => {
            span.record("messaging.system", "nats");
        }
        HostKind::Lambda => {
            span.record("cloud.provider", "aws");
        }
        HostKind::InProcess => {}
    }
    if let Some(ns) = &incident.subject.namespace {
        span.record("k8s.namespace.name", ns.as_str());
    }
    if incident.subject.kind == "Pod" {
        span.record("k8s.pod.name", incident.subject.name.as_str());
    }
    if let Some(owner) = incident.owner.as_ref().filter(|o| o.kind == "Job") {
        span.record("k8s.job.name", owner.name.as_str());
    }
    if let Some(ci) = &incident.ci {
        span.record("cicd.pipeline.run.id", ci.run_id.as_str());
        if let Some(p) = &ci.pipeline {
            span.record("cicd.pipeline.name", p.as_str());
        }
    }
    span
}

#[cfg(test)]
mod tests;
