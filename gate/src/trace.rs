//! The gate's span, in the CI run's trace.
//!
//! The gate joins the trace of the run it waits for: the CI step's own `traceparent` when
//! it has one ([`GateConfig::traceparent`](crate::GateConfig::traceparent), e.g. from a
//! `TRACEPARENT` variable), else the run's as the webhook put it on the run's deploy event
//! or the watcher on the run's incidents. The span opens when that parent is known (at
//! once, or with the first message that carries it; at the verdict as a root when none
//! ever does) and closes at the verdict, which it records.

use std::collections::BTreeMap;

use lastmile_runtime::bus::TRACEPARENT_HEADER;
use lastmile_runtime::telemetry;
use tracing::field::Empty;

use crate::{Target, Verdict};

/// The gate's span for `target`, a child of `traceparent` when given.
pub(crate) fn gate_span(target: &Target, traceparent: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "lastmile gate",
        otel.kind = "internal",
        otel.status_code = Empty,
        lastmile.gate.target = %target,
        cicd.pipeline.run.id = Empty,
        lastmile.gate.verdict = Empty,
        lastmile.gate.exit_code = Empty,
    );
    if let Target::CiRun { run_id, .. } = target {
        span.record("cicd.pipeline.run.id", run_id.as_str());
    }
    if let Some(tp) = traceparent {
        let mut parent = BTreeMap::new();
        parent.insert(TRACEPARENT_HEADER.to_owned(), tp.to_owned());
        telemetry::set_parent_from(&span, &parent);
    }
    span
}

/// Records the verdict on the span (a failed deploy is an error).
pub(crate) fn record_verdict(span: &tracing::Span, verdict: &Verdict) {
    let word = match verdict {
        Verdict::Ready(_) => "ready",
        Verdict::Failed { .. } => "failed",
        Verdict::TimedOut { .. } => "timed_out",
    };
    span.record("lastmile.gate.verdict", word);
    span.record("lastmile.gate.exit_code", u64::from(verdict.exit_code()));
    if !matches!(verdict, Verdict::Ready(_)) {
        span.record("otel.status_code", "ERROR");
    }
}
