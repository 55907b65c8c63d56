//! Rendering an incident for the bus: its subject, headers (`Nats-Msg-Id`, `traceparent`)
//! and CloudEvent body, serialised only when the outbox sends it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lastmile_events::envelope::stable_id;
use lastmile_events::{CloudEvent, ClusterSnapshot, Incident, IncidentStatus, subjects};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, TRACEPARENT_HEADER};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::store::{ClusterWide, is_empty_array};

/// The bus message for an incident: a structured CloudEvent on `lastmile.incident.<family>`,
/// with a `Nats-Msg-Id` derived from what the incident says (so a restart that re-derives
/// the same incident is de-duplicated) and the CI run's `traceparent` when linked.
pub fn incident_message(
    inc: &Incident,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Message, serde_json::Error> {
    let (mut head, envelope) = incident_envelope(inc.clone(), source, now);
    head.payload = envelope.to_vec()?.into();
    Ok(head)
}

/// The head of [`incident_message`] (subject and headers, empty payload) and the envelope
/// its payload serialises.
pub(super) fn incident_envelope(
    inc: Incident,
    source: &str,
    now: DateTime<Utc>,
) -> (Message, CloudEvent<Incident>) {
    let mut facts: Vec<String> = inc
        .events
        .iter()
        .map(|e| format!("{}:{}", e.reason, e.clean_message()))
        .collect();
    facts.sort();
    let status = match inc.status {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
    };
    let count = inc.count.to_string();
    let facts = facts.join("\n");
    // The run it is linked to counts: a deploy event read after the first publish links
    // the incident, and that publish must not be dropped as a duplicate.
    let run = inc
        .ci
        .as_ref()
        .map(|c| c.run_id.as_str())
        .unwrap_or_default();
    let id = stable_id(&[
        &inc.key,
        status,
        &count,
        inc.resolution.as_deref().unwrap_or_default(),
        &facts,
        run,
    ]);
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), id.clone());
    let span = tracing::info_span!("incident.publish", incident = %inc.key);
    if let Some(tp) = inc.ci.as_ref().and_then(|c| c.traceparent.clone()) {
        let mut parent = BTreeMap::new();
        parent.insert(TRACEPARENT_HEADER.to_owned(), tp.clone());
        lastmile_runtime::telemetry::set_parent_from(&span, &parent);
        headers.insert(TRACEPARENT_HEADER.to_owned(), tp);
    }
    span.in_scope(|| lastmile_runtime::telemetry::inject_current(&mut headers));
    let head = Message {
        subject: subjects::incident(inc.family),
        headers,
        payload: bytes::Bytes::new(),
    };
    let subject = Some(inc.subject.to_string());
    let mut ce = CloudEvent::new(id, source, subject, now, inc);
    ce.traceparent = head.headers.get(TRACEPARENT_HEADER).cloned();
    (head, ce)
}

/// A queued incident whose body is serialised only when it is sent: the envelope (its
/// incident without snapshot), the namespace-local snapshot part, and the cluster-wide
/// part (already JSON) shared with the other incidents queued at the same time. Serialises
/// exactly as the incident with the whole snapshot would ([`incident_message`]).
pub(super) struct DeferredIncident {
    /// The envelope; its incident's own snapshot is empty.
    pub envelope: CloudEvent<Incident>,
    /// The snapshot part kept for this incident alone. Every field of [`ClusterSnapshot`]
    /// is rendered through its own `Serialize`, so a field added there cannot be dropped
    /// here (the Services and EndpointSlices of Init incidents once were).
    pub local: ClusterSnapshot,
    /// The cluster-wide part (nodes and bound pods) of a Pending incident; it takes the
    /// place of `local`'s nodes and pods, which are then empty.
    pub wide: Option<Arc<ClusterWide>>,
}

impl DeferredIncident {
    pub(super) fn render(&self) -> Result<bytes::Bytes, String> {
        let e = &self.envelope;
        let wide = self.wide.as_deref();
        let view = CloudEvent {
            specversion: e.specversion.clone(),
            id: e.id.clone(),
            source: e.source.clone(),
            ty: e.ty.clone(),
            subject: e.subject.clone(),
            time: e.time,
            datacontenttype: e.datacontenttype.clone(),
            traceparent: e.traceparent.clone(),
            tracestate: e.tracestate.clone(),
            data: IncidentView {
                incident: &e.data,
                snapshot: SnapshotView {
                    local: &self.local,
                    nodes: wide.map(|w| &*w.nodes).filter(|n| !is_empty_array(n)),
                    pods: wide.map(|w| &*w.pods).filter(|p| !is_empty_array(p)),
                },
            },
        };
        serde_json::to_vec(&view)
            .map(Into::into)
            .map_err(|e| format!("serialising an incident: {e}"))
    }
}

/// An incident (whose own snapshot is empty, so it is skipped) with a borrowed snapshot.
#[derive(Serialize)]
struct IncidentView<'a> {
    #[serde(flatten)]
    incident: &'a Incident,
    #[serde(skip_serializing_if = "SnapshotView::is_empty")]
    snapshot: SnapshotView<'a>,
}

/// [`ClusterSnapshot`] borrowed, with a Pending incident's nodes and bound pods as the JSON
/// arrays shared between incidents; serialised with the same names and omissions.
#[derive(Serialize)]
struct SnapshotView<'a> {
    #[serde(flatten)]
    local: &'a ClusterSnapshot,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pods: Option<&'a RawValue>,
}

impl SnapshotView<'_> {
    /// As [`ClusterSnapshot::is_empty`]: no objects (a time alone does not count).
    fn is_empty(&self) -> bool {
        self.local.is_empty() && self.nodes.is_none() && self.pods.is_none()
    }
}
