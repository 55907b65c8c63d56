//! The `runtime` function: pods that are scheduled and pulled but never become Ready.
//!
//! Classes: `runtime.crashloop`, `runtime.oom_killed`, `runtime.config_missing`,
//! `runtime.mount_failed`, `runtime.probe_failing`, `runtime.exec_failed`, and
//! `image.platform_mismatch` for `exec format error` (see `shared/reference/taxonomy.md`).
//!
//! The main design choice: **one set of facts, one rule per class**. `facts::Facts` reads
//! the worst main container once — from the Pod the API returned when there is one, else
//! from pasted `kubectl describe` text — together with the Events and log lines; each class
//! module then asks its own question of those facts and of the cluster snapshot (ConfigMap
//! and Secret names, PVCs and the pods that mount them, LimitRanges), and says how sure it
//! is. The answers are ranked by confidence, so a crash loop whose liveness probe kills it
//! is reported as the probe, and an OOM kill is not reported as a plain crash. Secret values
//! never enter a diagnosis: the snapshot carries key names only, env values are never read,
//! and quoted lines go through `lastmile-redact`.
//!
//! One class asks beyond the incident: for `exec format error`, when the host gives registry
//! access, [`handle`] reads which platforms the image the pod runs was published for, with
//! the image-pull function's registry client (its probe, the pod's pull secrets, the node's
//! platform) rather than a second one, bounded well inside the deadline; without an answer
//! the diagnosis stays the text-only one and says the platforms were not checked.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod crashloop;
mod exec;
mod facts;
mod host_port;
mod mount;
mod oom;
mod probe;
mod remedy;
mod text;
mod whose;

use std::time::Duration;

use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, Subject};

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "runtime",
    description: "Rollouts that never become Ready: crash loops, OOM kills, missing Secrets/ConfigMaps, volumes that do not mount, failing probes, exec failures.",
    families: &[IncidentFamily::Runtime],
    deadline: Duration::from_secs(5),
    max_evidence_bytes: 64 * 1024,
};

/// The function, for hosts' static tables.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

/// Diagnoses one incident from the incident and the context's snapshot. One question goes
/// further: for `exec format error`, when the host gives registry access (`ctx.http`), the
/// image's platforms are read from the registry, within the deadline, and a failed read
/// only says they were not checked.
pub async fn handle(incident: &Incident, ctx: &Context) -> Result<Outcome, FunctionError> {
    let snapshot = ctx.snapshot_for(incident).await;
    let mut diagnoses = diagnose(incident, &snapshot);
    let mut probe = None;
    if let Some(d) = diagnoses
        .iter_mut()
        .find(|d| d.class.as_str() == Class::IMAGE_PLATFORM_MISMATCH)
    {
        probe = exec::platforms::settle(d, incident, &snapshot, ctx).await;
        diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    }
    let mut evidence = Vec::new();
    if !diagnoses.is_empty() {
        let facts: Vec<serde_json::Value> = diagnoses
            .iter()
            .map(|d| serde_json::json!({"class": d.class, "subject": d.subject, "evidence": d.evidence}))
            .collect();
        evidence.push(EvidenceItem::json("runtime-facts.json", &facts)?);
    }
    if let Some(report) = &probe {
        let transcript = EvidenceItem::json("platform-check.json", report)?;
        let used: usize = evidence.iter().map(|e| e.bytes.len()).sum();
        // The transcript is supporting detail: left out rather than crowding the facts.
        if used + transcript.bytes.len() <= SPEC.max_evidence_bytes {
            evidence.push(transcript);
        }
    }
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// Every class's answer for the incident, most confident first.
pub fn diagnose(
    incident: &Incident,
    snapshot: &lastmile_events::ClusterSnapshot,
) -> Vec<Diagnosis> {
    let f = facts::Facts::of(incident);
    let t = remedy::Target::of(incident);
    // What the kubelet says about creating a container (a missing Secret, a volume, an
    // executable) holds for init containers too; how an app behaves once running (exits,
    // memory, probes) is the workload function's question for init containers.
    let app = !init_incident(incident);
    let found = [
        exec::diagnose(&f, &t),
        host_port::diagnose(&f),
        config::diagnose(&f, incident, snapshot, &t),
        mount::diagnose(&f, incident, snapshot, &t),
        app.then(|| oom::diagnose(&f, incident, snapshot, &t))
            .flatten(),
        app.then(|| probe::diagnose(&f, &t)).flatten(),
        app.then(|| crashloop::diagnose(&f, &t)).flatten(),
    ];
    let mut out: Vec<Diagnosis> = found
        .into_iter()
        .flatten()
        .map(|x| x.into_diagnosis(incident))
        .collect();
    // An OOM kill or an exec failure also makes the container exit; the crash loop is then
    // their symptom, not a second cause.
    let explained = out.iter().any(|d| {
        matches!(
            d.class.as_str(),
            Class::RUNTIME_OOM_KILLED | Class::RUNTIME_EXEC_FAILED | Class::IMAGE_PLATFORM_MISMATCH
        ) && d.confidence >= 0.85
    });
    if explained {
        out.retain(|d| d.class.as_str() != Class::RUNTIME_CRASHLOOP || d.confidence >= 0.9);
    }
    // A host port the node could not publish: the pod never started, so its "address
    // already in use" is no crash of the app.
    if out.iter().any(|d| d.class.as_str() == Class::HOST_PORTS) {
        out.retain(|d| d.class.as_str() != Class::RUNTIME_CRASHLOOP);
    }
    // Error lines of an init container or a build/release tool read as a main container's
    // crash loop: kept only as a weak answer, below the rules that read them as what they are.
    if whose::not_a_main_container(incident) {
        for d in out
            .iter_mut()
            .filter(|d| d.class.as_str() == Class::RUNTIME_CRASHLOOP)
        {
            d.confidence = d.confidence.min(0.5);
            d.definitive = false;
        }
    }
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

/// True when the incident is about an init container (the workload function's), which
/// this function leaves alone: a pod object stuck in init, or text that says so.
fn init_incident(incident: &Incident) -> bool {
    if incident.family == IncidentFamily::Init {
        // A main program told to refuse to start on a kernel limit is a main container's
        // crash, whatever init container the report also shows.
        return !whose::main_refuses_kernel_limit(incident);
    }
    if let Some(pod) = &incident.pod {
        return lastmile_events::facts::stuck_pod(pod, false)
            .is_some_and(|s| s.family == IncidentFamily::Init);
    }
    false
}

/// One class module's finding, before the subject is filled in.
pub(crate) struct Found {
    diagnosis: Diagnosis,
    container: Option<String>,
    evidence: Vec<String>,
}

impl Found {
    /// A finding of `class`: the diagnosis with its summary and remediation, about
    /// `container`, with its evidence lines.
    fn of(
        class: &'static str,
        confidence: f64,
        summary: String,
        remediation: Vec<lastmile_events::Remediation>,
        container: Option<&str>,
        evidence: Vec<String>,
    ) -> Self {
        let mut d = Diagnosis::new(class, confidence, summary, Default::default());
        d.remediation = remediation;
        Self::new(d, container, evidence)
    }

    fn new(diagnosis: Diagnosis, container: Option<&str>, evidence: Vec<String>) -> Self {
        Self {
            diagnosis,
            container: container.map(str::to_owned),
            evidence,
        }
    }

    fn into_diagnosis(self, incident: &Incident) -> Diagnosis {
        let mut d = self.diagnosis;
        d.subject = Subject::of(&incident.subject, self.container.as_deref());
        d.evidence = self.evidence;
        d.definitive = d.confidence >= 0.85;
        d
    }
}

/// A line from the input, trimmed, redacted and bounded, for evidence.
pub(crate) fn quote(line: &str) -> String {
    let mut s = lastmile_redact::text(line.trim()).into_owned();
    lastmile_redact::truncate_at_char_boundary(&mut s, 400);
    s
}

/// A built-in regular expression.
#[allow(clippy::expect_used)]
pub(crate) fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("a valid built-in pattern")
}

#[cfg(test)]
mod tests;
