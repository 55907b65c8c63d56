//! The gate's loop: messages and a one-second tick in, a verdict out.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use lastmile_runtime::bus::Message;

use crate::{Gate, GateConfig, Output, Verdict, trace};

/// Runs the gate over `messages` until a verdict; prints progress through `out`.
pub async fn run(
    cfg: GateConfig,
    mut messages: BoxStream<'static, Message>,
    out: &mut Output,
) -> Verdict {
    let mut gate = Gate::new(cfg.clone(), Utc::now());
    let mut span = cfg
        .traceparent
        .as_deref()
        .map(|tp| trace::gate_span(&cfg.target, Some(tp)));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_progress = std::time::Instant::now();
    out.line(&format!(
        "lastmile gate: waiting for {} (timeout {}s)",
        cfg.target,
        cfg.timeout.as_secs()
    ));
    loop {
        tokio::select! {
            next = messages.next() => match next {
                Some(msg) => {
                gate.observe(&msg, Utc::now());
                if span.is_none() && gate.traceparent().is_some() {
                    span = Some(trace::gate_span(&cfg.target, gate.traceparent()));
                }
            }
                None => {
                    // The source ended (shutdown): wait out the timeout on the tick alone.
                    messages = futures::stream::pending().boxed();
                }
            },
            _ = tick.tick() => {
                if last_progress.elapsed() >= cfg.progress_every {
                    last_progress = std::time::Instant::now();
                    out.line(&gate.progress(Utc::now()));
                }
            }
        }
        if let Some(v) = gate.verdict(Utc::now()) {
            out.verdict(&cfg.target, &v);
            let span = span.unwrap_or_else(|| trace::gate_span(&cfg.target, None));
            trace::record_verdict(&span, &v);
            return v;
        }
    }
}
