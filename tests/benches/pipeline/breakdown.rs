//! In process, no NATS: where one event's time goes in the executor, stage by stage, and
//! the function's own throughput next to the executor's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_contract::{Context, Outcome, finalize};
use lastmile_events::{CloudEvent, Incident, RemediationCommand};
use lastmile_fn_pending::FUNCTION;
use lastmile_runtime::bus::Message;
use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::evidence::store_bundles;
use lastmile_runtime::executor::Executor;
use sha2::{Digest, Sha256};

/// Events the breakdown runs over (the first of the bench's incidents).
pub const EVENTS: usize = 1000;

/// Passes over the events when the function runs alone, 16 at a time.
const FUNCTION_PASSES: u32 = 4;

fn per_event(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1e6 / n.max(1) as f64
}

/// Runs every stage over `events` and prints µs per event and events/s.
pub async fn print(events: &[(String, Message)], concurrency: usize) -> anyhow::Result<()> {
    let n = events.len();
    let ctx = Context::offline();
    let dir = tempfile::tempdir()?;

    let t = Instant::now();
    let parsed: Vec<CloudEvent<Incident>> = events
        .iter()
        .map(|(_, m)| CloudEvent::<Incident>::from_slice(&m.payload))
        .collect::<Result<_, _>>()?;
    let parse = t.elapsed();

    let t = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(n);
    for event in &parsed {
        outcomes.push(FUNCTION.call(&event.data, &ctx).await?);
    }
    let function = t.elapsed();

    let t = Instant::now();
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .zip(&parsed)
        .map(|(o, e)| finalize::outcome(FUNCTION.spec, &e.data, o))
        .collect();
    let boundary = t.elapsed();

    let t = Instant::now();
    let mut digests = 0usize;
    for outcome in &outcomes {
        for item in &outcome.evidence {
            let clean = lastmile_redact::bytes(&item.bytes, &item.media_type);
            digests += Sha256::digest(&clean)[0] as usize;
        }
    }
    let redact_hash = t.elapsed();
    std::hint::black_box(digests);

    // As the executor stores them: one bundle per outcome, its objects once and a manifest
    // per diagnosis.
    let store = LocalStore::new(dir.path().join("stages"))?;
    let t = Instant::now();
    for (i, outcome) in outcomes.iter().enumerate() {
        let keys: Vec<String> = (0..outcome.diagnoses.len())
            .map(|d| format!("manifests/bench/{i}-{d}.json"))
            .collect();
        store_bundles(&store, &outcome.evidence, &keys).await?;
    }
    let evidence = t.elapsed();

    let t = Instant::now();
    let mut bytes = 0usize;
    for (outcome, event) in outcomes.iter().zip(&parsed) {
        for diagnosis in &outcome.diagnoses {
            let envelope = CloudEvent::new("id", "/bench", None, event.time, diagnosis.clone());
            bytes += envelope.to_vec()?.len();
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
                bytes += envelope.to_vec()?.len();
            }
        }
    }
    let serialise = t.elapsed();
    let diagnoses: usize = outcomes.iter().map(|o| o.diagnoses.len()).sum();
    let evidence_items: usize = outcomes.iter().map(|o| o.evidence.len()).sum();

    let executor = |name: &str| -> anyhow::Result<Executor> {
        Ok(Executor::new(
            FUNCTION,
            Context::offline(),
            Arc::new(LocalStore::new(dir.path().join(name))?),
            Arc::new(MemoryBus::new()),
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
    let cpu = process_cpu();
    let mut runs = futures::stream::iter(events.iter().map(|(_, m)| {
        let many = many.clone();
        async move { many.process(m).await.map(|_| ()) }
    }))
    .buffer_unordered(concurrency);
    while let Some(done) = runs.next().await {
        done?;
    }
    let executor_many = t.elapsed();
    let executor_cpu = process_cpu().saturating_sub(cpu);

    // The function alone is ~4x cheaper than the executor: run it FUNCTION_PASSES times so
    // its CPU time spans enough 10 ms ticks, and report per pass.
    let t = Instant::now();
    let cpu = process_cpu();
    for _ in 0..FUNCTION_PASSES {
        let mut calls = futures::stream::iter(parsed.iter().map(|e| {
            let ctx = &ctx;
            async move { FUNCTION.call(&e.data, ctx).await.map(|_| ()) }
        }))
        .buffer_unordered(concurrency);
        while let Some(done) = calls.next().await {
            done.context("function")?;
        }
    }
    let function_many = t.elapsed() / FUNCTION_PASSES;
    let function_cpu = process_cpu().saturating_sub(cpu) / FUNCTION_PASSES;

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
        evidence_bytes / n.max(1),
        evidence_items / n.max(1)
    );
    println!(
        "  {:<38} {:>9.1} us/event",
        "sum of stages",
        per_event(stages, n)
    );
    println!(
        "  {:<38} {:>9.1} us/event  {:>8.0} events/s",
        "executor end to end (memory bus)",
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
        "executor (memory bus)",
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
        "CPU: executor (memory bus)",
        per_event(executor_cpu, n)
    );
    println!(
        "  runtime CPU overhead / function CPU: {:.2}",
        (per_event(executor_cpu, n) - per_event(function_cpu, n)) / per_event(function_cpu, n)
    );
    Ok(())
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (Linux; in
/// USER_HZ ticks of 10 ms, so measure at least a second of work). Zero elsewhere.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
