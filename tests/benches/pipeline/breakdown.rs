//! In process, no NATS: where one event's time goes in the executor, stage by stage, and
//! the function's own throughput next to the executor's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_contract::{Context, Outcome, finalize};
use lastmile_events::{CloudEvent, Incident, RemediationCommand};
use lastmile_fn_pending::FUNCTION;
use lastmile_runtime::bus::{BusError, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::evidence::store_bundle;
use lastmile_runtime::executor::Executor;
use sha2::{Digest, Sha256};

/// Events the breakdown runs over (the first of the bench's incidents).
pub const EVENTS: usize = 1000;

/// Passes over the events when the function runs alone, 16 at a time.
const FUNCTION_PASSES: u32 = 4;

fn per_event(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1e6 / n.max(1) as f64
}

/// A publisher that drops what it is given: the executor's own cost, without an in-process
/// bus keeping every message it was handed (which NATS keeps in the server, not here).
struct Discard;

#[async_trait::async_trait]
impl Publisher for Discard {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        std::hint::black_box(message);
        Ok(())
    }
}

/// Incidents each stage cycles over: every stage drops its result before the next event,
/// as the executor does, so the figures are steady-state costs. (Collecting a thousand
/// parsed incidents first made "parse" look 3x dearer than it is: fresh pages, not JSON.)
const WORKING_SET: usize = 64;

/// Times `stage` over events `0..n` (each stage picks its input from the working set by
/// index); each result is dropped at once.
async fn steady<O, F, Fut>(n: usize, mut stage: F) -> anyhow::Result<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<O>>,
{
    let t = Instant::now();
    for i in 0..n {
        std::hint::black_box(stage(i).await?);
    }
    Ok(t.elapsed())
}

/// Runs every stage over `events` and prints µs per event and events/s.
pub async fn print(events: &[(String, Message)], concurrency: usize) -> anyhow::Result<()> {
    let n = events.len();
    let ctx = Context::offline();
    let dir = tempfile::tempdir()?;
    let set = &events[..n.min(WORKING_SET)];

    // The working set's inputs to each stage, built once.
    let parsed: Vec<CloudEvent<Incident>> = set
        .iter()
        .map(|(_, m)| CloudEvent::<Incident>::from_slice(&m.payload))
        .collect::<Result<_, _>>()?;
    let mut raw: Vec<Outcome> = Vec::with_capacity(parsed.len());
    for event in &parsed {
        raw.push(FUNCTION.call(&event.data, &ctx).await?);
    }
    let outcomes: Vec<Outcome> = raw
        .iter()
        .zip(&parsed)
        .map(|(o, e)| finalize::outcome(FUNCTION.spec, &e.data, o.clone()))
        .collect();
    let inputs: Vec<(&CloudEvent<Incident>, &Outcome, &Outcome)> = parsed
        .iter()
        .zip(&raw)
        .zip(&outcomes)
        .map(|((e, r), o)| (e, r, o))
        .collect();

    let parse = steady(n, |i| {
        let (_, m) = &set[i % set.len()];
        let parsed = CloudEvent::<Incident>::from_slice(&m.payload);
        async move { Ok(parsed?) }
    })
    .await?;
    let function = steady(n, |i| {
        let e = &parsed[i % parsed.len()];
        let call = FUNCTION.call(&e.data, &ctx);
        async move { Ok(call.await?) }
    })
    .await?;
    // finalize takes the outcome by value: the clone it needs is timed alone and taken off.
    let clone = steady(n, |i| std::future::ready(Ok(raw[i % raw.len()].clone()))).await?;
    let boundary = steady(n, |i| {
        let (e, r, _) = &inputs[i % inputs.len()];
        std::future::ready(Ok(finalize::outcome(FUNCTION.spec, &e.data, (*r).clone())))
    })
    .await?
    .saturating_sub(clone);
    let redact_hash = steady(n, |i| {
        let o = &outcomes[i % outcomes.len()];
        let mut digests = 0usize;
        for item in &o.evidence {
            let clean = lastmile_redact::bytes(&item.bytes, &item.media_type);
            digests += Sha256::digest(&clean)[0] as usize;
        }
        std::future::ready(Ok(digests))
    })
    .await?;
    // As the executor stores them: one bundle per outcome, its objects once and the one
    // manifest its diagnoses share.
    let store = LocalStore::new(dir.path().join("stages"))?;
    let evidence = steady(n, |i| {
        let o = &outcomes[i % outcomes.len()];
        let key = format!("manifests/bench/{i}.json");
        let store = &store;
        async move { Ok(store_bundle(store, &key, &o.evidence).await?) }
    })
    .await?;
    let mut bytes = 0usize;
    let serialise = steady(n, |i| {
        let (event, _, outcome) = &inputs[i % inputs.len()];
        let mut size = 0usize;
        let mut envelopes = || -> anyhow::Result<()> {
            for diagnosis in &outcome.diagnoses {
                let envelope = CloudEvent::new("id", "/bench", None, event.time, diagnosis.clone());
                size += envelope.to_vec()?.len();
                for remediation in &diagnosis.remediation {
                    let command = RemediationCommand {
                        diagnosis_id: "id".into(),
                        incident: event.data.key.clone(),
                        class: diagnosis.class.clone(),
                        subject: diagnosis.subject.clone(),
                        remediation: remediation.clone(),
                        patch: None,
                    };
                    let envelope = CloudEvent::new("rid", "/bench", None, event.time, command);
                    size += envelope.to_vec()?.len();
                }
            }
            Ok(())
        };
        let done = envelopes().map(|()| size);
        if let Ok(s) = done {
            bytes += s;
        }
        std::future::ready(done)
    })
    .await?;
    // Counts over the working set, scaled to the n events the stages ran.
    let per_set = |count: usize| count * n / outcomes.len().max(1);
    let diagnoses = per_set(outcomes.iter().map(|o| o.diagnoses.len()).sum());
    let evidence_items = per_set(outcomes.iter().map(|o| o.evidence.len()).sum());

    let executor = |name: &str| -> anyhow::Result<Executor> {
        Ok(Executor::new(
            FUNCTION,
            Context::offline(),
            Arc::new(LocalStore::new(dir.path().join(name))?),
            Arc::new(Discard),
        ))
    };
    let one = executor("one")?;
    let t = Instant::now();
    for (_, message) in events {
        one.process(message).await?;
    }
    let executor_one = t.elapsed();

    let many = executor("many")?;
    let t = Instant::now();
    let cpu = lastmile_tests::cpu::this_process();
    let mut runs = futures::stream::iter(events.iter().map(|(_, m)| {
        let many = many.clone();
        async move { many.process(m).await.map(|_| ()) }
    }))
    .buffer_unordered(concurrency);
    while let Some(done) = runs.next().await {
        done?;
    }
    let executor_many = t.elapsed();
    let executor_cpu = lastmile_tests::cpu::this_process().saturating_sub(cpu);

    // The function alone is ~4x cheaper than the executor: run it FUNCTION_PASSES times so
    // its CPU time spans enough 10 ms ticks, and report per pass.
    let t = Instant::now();
    let cpu = lastmile_tests::cpu::this_process();
    for _ in 0..FUNCTION_PASSES {
        let mut calls = futures::stream::iter((0..n).map(|i| {
            let (ctx, e) = (&ctx, &parsed[i % parsed.len()]);
            async move { FUNCTION.call(&e.data, ctx).await.map(|_| ()) }
        }))
        .buffer_unordered(concurrency);
        while let Some(done) = calls.next().await {
            done.context("function")?;
        }
    }
    let function_many = t.elapsed() / FUNCTION_PASSES;
    let function_cpu = lastmile_tests::cpu::this_process().saturating_sub(cpu) / FUNCTION_PASSES;

    println!();
    println!(
        "in process, {n} events ({diagnoses} diagnoses, {evidence_items} evidence items, {} bytes of envelopes out per event), one at a time:",
        bytes / n.max(1)
    );
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    for (stage, took) in [
        ("parse the incident envelope", parse),
        ("function (pending) own work", function),
        ("output boundary (finalize)", boundary),
        ("evidence: redact + sha256 (CPU only)", redact_hash),
        ("evidence: objects + manifests (all)", evidence),
        ("serialise diagnosis + remediations", serialise),
    ] {
        println!("  {stage:<38} {:>9.1} us/event", per_event(took, n));
    }
    let stages = parse + function + boundary + evidence + serialise;
    let evidence_bytes: usize = outcomes
        .iter()
        .flat_map(|o| &o.evidence)
        .map(|i| i.bytes.len())
        .sum();
    println!(
        "  (evidence: {} bytes per event in {} items)",
        evidence_bytes / outcomes.len().max(1),
        evidence_items / n.max(1)
    );
    println!(
        "  {:<38} {:>9.1} us/event",
        "sum of stages",
        per_event(stages, n)
    );
    println!(
        "  {:<38} {:>9.1} us/event  {:>8.0} events/s",
        "executor end to end (discarding bus)",
        per_event(executor_one, n),
        rate(executor_one)
    );
    println!(
        "  runtime overhead / function work: {:.2}",
        (per_event(executor_one, n) - per_event(function, n)) / per_event(function, n)
    );
    println!("in process, {concurrency} at a time:");
    println!(
        "  {:<38} {:>9.0} events/s",
        "function alone",
        rate(function_many)
    );
    println!(
        "  {:<38} {:>9.0} events/s",
        "executor (discarding bus)",
        rate(executor_many)
    );
    // CPU time of the whole process (every thread, blocking pool included), not wall time:
    // what the runtime costs on a busy host, without the hand-off latency a one-at-a-time
    // run adds.
    println!(
        "  {:<38} {:>9.1} us/event",
        "CPU: function alone",
        per_event(function_cpu, n)
    );
    println!(
        "  {:<38} {:>9.1} us/event",
        "CPU: executor (discarding bus)",
        per_event(executor_cpu, n)
    );
    println!(
        "  runtime CPU overhead / function CPU: {:.2}",
        (per_event(executor_cpu, n) - per_event(function_cpu, n)) / per_event(function_cpu, n)
    );
    Ok(())
}
