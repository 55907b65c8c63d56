//! The function spec, as a test every function runs.
//!
//! Every function MUST:
//! 1. be idempotent: the same incident gives the same outcome (hosts derive diagnosis ids
//!    and evidence keys from it, so redelivery cannot create a second diagnosis);
//! 2. never panic on malformed input (empty objects, missing fields, hostile text);
//! 3. name only taxonomy classes, with confidence in 0..=1 and a non-empty summary;
//! 4. bound its evidence to `spec.max_evidence_bytes`;
//! 5. finish within `spec.deadline`.
//!
//! (Span attributes are the host's job: hosts wrap every call in the agreed span.)

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lastmile_events::{Class, Incident, IncidentFamily, ObjectRef};

use crate::{Context, Function};

/// Incidents with nothing useful, or hostile content, that every function must survive.
pub fn hostile_incidents(family: IncidentFamily) -> Vec<Incident> {
    let now = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ns".into()),
        name: "p".into(),
        ..Default::default()
    };
    let empty = Incident::new(family, subject.clone(), None, now);
    let mut texty = empty.clone();
    texty.text = Some(
        "\u{0}\u{fffd}0/ nodes are available: -1 Insufficient \u{202e}cpu, , ,.. ... ".repeat(50),
    );
    let mut weird_events = empty.clone();
    weird_events.events.push(lastmile_events::KubeEvent {
        ty: "Warning".into(),
        reason: "FailedScheduling".into(),
        message:
            "0/99999999999999999999 nodes are available: 18446744073709551616 Insufficient cpu"
                .into(),
        regarding: subject.clone(),
        ..Default::default()
    });
    let mut pod_no_spec = empty.clone();
    pod_no_spec.pod = Some(Default::default());
    pod_no_spec.job = Some(Default::default());
    vec![empty, texty, weird_events, pod_no_spec]
}

/// Runs the spec against `samples` (realistic incidents) plus [`hostile_incidents`].
/// Panics with a description of the first violation (it is a test helper).
pub async fn check(function: &Function, samples: &[Incident], ctx: &Context) {
    let spec = function.spec;
    let mut all: Vec<Incident> = samples.to_vec();
    for family in spec.families {
        all.extend(hostile_incidents(*family));
    }
    for incident in &all {
        let run = || async {
            let fut = AssertUnwindSafe(function.call(incident, ctx)).catch_unwind();
            // The timer catches a handler that never finishes; the clock catches one that
            // finishes on its first poll after blocking the thread past the deadline (a
            // CPU-bound handler never yields, so the timer cannot win the race).
            let started = std::time::Instant::now();
            let outcome = tokio_timeout(spec.deadline, fut).await;
            let elapsed = started.elapsed();
            match outcome {
                _ if elapsed > spec.deadline => panic!(
                    "{}: exceeded its deadline of {:?} on {} (took {elapsed:?})",
                    spec.name, spec.deadline, incident.key
                ),
                None => panic!(
                    "{}: exceeded its deadline of {:?} on {}",
                    spec.name, spec.deadline, incident.key
                ),
                Some(Err(_)) => panic!("{}: panicked on incident {}", spec.name, incident.key),
                Some(Ok(result)) => result,
            }
        };
        let first = run().await;
        let second = run().await;
        match (&first, &second) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{}: not idempotent on {}", spec.name, incident.key);
                assert!(
                    a.evidence_bytes() <= spec.max_evidence_bytes,
                    "{}: evidence {} bytes > bound {}",
                    spec.name,
                    a.evidence_bytes(),
                    spec.max_evidence_bytes
                );
                for d in &a.diagnoses {
                    assert!(
                        Class::new(d.class.as_str()).is_known(),
                        "{}: unknown class {}",
                        spec.name,
                        d.class
                    );
                    assert!(
                        (0.0..=1.0).contains(&d.confidence),
                        "{}: confidence {}",
                        spec.name,
                        d.confidence
                    );
                    assert!(
                        !d.summary.trim().is_empty(),
                        "{}: empty summary for {}",
                        spec.name,
                        d.class
                    );
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind(), "{}: error kind not stable", spec.name)
            }
            _ => panic!(
                "{}: succeeded once and failed once on {}",
                spec.name, incident.key
            ),
        }
    }
}

async fn tokio_timeout<F: std::future::Future>(
    limit: std::time::Duration,
    fut: F,
) -> Option<F::Output> {
    // A tiny select over the future and a sleeping thread, so this crate needs no runtime
    // dependency: the thread wakes the deadline future when time is up.
    let deadline = Box::pin(sleep(limit));
    match futures::future::select(Box::pin(fut), deadline).await {
        futures::future::Either::Left((out, _)) => Some(out),
        futures::future::Either::Right(_) => None,
    }
}

async fn sleep(limit: std::time::Duration) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let _ = tx.send(());
    });
    let _ = rx.await;
}

#[cfg(test)]
mod tests;
