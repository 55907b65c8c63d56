//! Init-phase tracing: for a pod that gets an incident, one span per run of each of its init
//! containers, placed at the times the pod status gives, as children of the incident's span
//! (the `traceparent` its message carries), so a trace viewer shows where the minutes before
//! the incident went.
//!
//! [`init_runs`] is the pure part: the pod's `initContainerStatuses` (read from JSON, so a
//! malformed timestamp costs one run, not the pod) to the runs it proves: the previous run
//! (`lastState.terminated`, the one before a restart), the current one (`state.terminated`,
//! or `state.running` up to `now`, marked still running). A run without a parsable start is
//! left out (it cannot be placed); a terminated run without a parsable end ends where it
//! started. [`InitTracer`] records the spans once per incident and trace.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use lastmile_events::{Incident, IncidentStatus};
use lastmile_runtime::bus::TRACEPARENT_HEADER;
use lastmile_runtime::telemetry::{RecordedSpan, SpanValue, record_span};
use serde_json::Value;

/// One run of an init container, as the pod status shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InitRun {
    /// Container name.
    pub container: String,
    /// Image, as the status (else the spec) names it.
    pub image: Option<String>,
    /// When the run started.
    pub start: DateTime<Utc>,
    /// When it ended; `now` for a run still going.
    pub end: DateTime<Utc>,
    /// True while the run is still going (`state.running`).
    pub running: bool,
    /// Exit code of a terminated run.
    pub exit_code: Option<i64>,
    /// `Completed`, `Error`, `OOMKilled`… of a terminated run.
    pub reason: Option<String>,
    /// The container's restart count when the status was read.
    pub restart_count: i64,
    /// True for the run before the last restart (`lastState`).
    pub previous: bool,
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The init-container runs `pod` (as JSON) shows, in the order of its
/// `initContainerStatuses`, each container's previous run before its current one.
pub fn init_runs(pod: &Value, now: DateTime<Utc>) -> Vec<InitRun> {
    let spec_images: HashMap<&str, &str> = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?, c["image"].as_str()?)))
        .collect();
    let mut out = Vec::new();
    for st in pod["status"]["initContainerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(name) = st["name"].as_str() else {
            continue;
        };
        let image = st["image"]
            .as_str()
            .or_else(|| spec_images.get(name).copied())
            .map(str::to_owned);
        let restart_count = st["restartCount"].as_i64().unwrap_or(0);
        let run = |state: &Value, previous: bool| -> Option<InitRun> {
            let (start, end, running, t) = if let Some(t) = state.get("terminated") {
                let start = time(&t["startedAt"])?;
                let end = time(&t["finishedAt"]).unwrap_or(start).max(start);
                (start, end, false, Some(t))
            } else {
                let start = time(&state.get("running")?["startedAt"])?;
                (start, now.max(start), true, None)
            };
            Some(InitRun {
                container: name.to_owned(),
                image: image.clone(),
                start,
                end,
                running,
                exit_code: t.and_then(|t| t["exitCode"].as_i64()),
                reason: t.and_then(|t| t["reason"].as_str()).map(str::to_owned),
                restart_count,
                previous,
            })
        };
        out.extend(run(&st["lastState"], true));
        out.extend(run(&st["state"], false));
    }
    out
}

/// The span recorded for `run`.
pub fn span_of(run: &InitRun) -> RecordedSpan {
    let mut attributes = vec![
        (
            "k8s.container.name".to_owned(),
            SpanValue::Str(run.container.clone()),
        ),
        (
            "k8s.container.restart_count".to_owned(),
            SpanValue::Int(run.restart_count),
        ),
        (
            "lastmile.init.state".to_owned(),
            SpanValue::Str(if run.running { "running" } else { "terminated" }.into()),
        ),
        (
            "lastmile.init.previous_run".to_owned(),
            SpanValue::Bool(run.previous),
        ),
    ];
    if let Some(image) = &run.image {
        attributes.push(("container.image.name".into(), SpanValue::Str(image.clone())));
    }
    if let Some(code) = run.exit_code {
        attributes.push(("lastmile.init.exit_code".into(), SpanValue::Int(code)));
    }
    if let Some(reason) = &run.reason {
        attributes.push((
            "lastmile.init.reason".into(),
            SpanValue::Str(reason.clone()),
        ));
    }
    let failed = run.exit_code.is_some_and(|c| c != 0);
    RecordedSpan {
        name: format!("init {}", run.container),
        start: run.start.into(),
        end: run.end.into(),
        attributes,
        error: failed.then(|| {
            format!(
                "exit code {}{}",
                run.exit_code.unwrap_or_default(),
                run.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        }),
    }
}

/// Records the init-phase spans of incidents as they are published: once per incident and
/// trace (an incident linked to a CI run later moves into the run's trace, and gets its
/// init spans there too). Holds one entry per open incident that has been traced.
#[derive(Debug, Default)]
pub struct InitTracer {
    traced: HashMap<String, String>,
}

impl InitTracer {
    /// Records the spans of `incident`'s pod under the message `headers` (its
    /// `traceparent`), unless already recorded in that trace. Returns how many.
    pub fn on_publish(
        &mut self,
        incident: &Incident,
        headers: &BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> usize {
        if incident.status == IncidentStatus::Resolved {
            self.traced.remove(&incident.key);
            return 0;
        }
        let Some(tp) = headers.get(TRACEPARENT_HEADER) else {
            return 0;
        };
        // traceparent: version-traceid-spanid-flags.
        let trace = tp.split('-').nth(1).unwrap_or_default();
        if self.traced.get(&incident.key).map(String::as_str) == Some(trace) {
            return 0;
        }
        let Some(pod) = incident
            .pod
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok())
        else {
            return 0;
        };
        let runs = init_runs(&pod, now);
        if runs.is_empty() {
            return 0;
        }
        let recorded = runs
            .iter()
            .filter(|r| record_span(headers, &span_of(r)))
            .count();
        self.traced.insert(incident.key.clone(), trace.to_owned());
        recorded
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
