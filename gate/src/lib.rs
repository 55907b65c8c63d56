//! `lastmile gate`: the CI step that waits for a deploy and fails fast with the cause.
//!
//! The gate reads four kinds of messages and keeps a small state about one target (a CI
//! run, or one workload `kind/namespace/name`):
//!
//! | subject | what it means to the gate |
//! |---|---|
//! | `lastmile.diagnosis.>` | a diagnosis; a *definitive* one about the target fails the gate at once |
//! | `lastmile.incident.>` | the target is stuck (open) or recovered (resolved) |
//! | `lastmile.k8s.job.>` | the watcher's **readiness signal**: a Job reached `Complete` (ready) or `Failed` |
//! | `lastmile.ci.>` | a deploy event of the run: the workloads the run deploys |
//!
//! **Ready** means: for a Job, its `Complete` observation; for other kinds, a resolved
//! incident and none open, or (with `--settle`) no open incident for that long; for a CI
//! run, every workload it deploys is ready and none has an open incident.
//!
//! **Failed** means: a definitive diagnosis about the target whose incident is not
//! resolved, or a Job that failed (the gate then waits `grace` for a diagnosis to explain
//! it). Verdicts are evaluated after each message and on a one-second tick, so a diagnosis
//! fails the gate as soon as it arrives.
//!
//! Messages come from NATS through ephemeral **ordered JetStream consumers** starting
//! `lookback` before the gate started ([`nats_source`]): a diagnosis published between
//! `kubectl apply` and the gate starting is not missed, nothing durable is left behind on
//! the server, and ordered consumers recreate themselves after a reconnect.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use lastmile_events::facts::{JobTerminal, ci_run_of, job_terminal, workload_key};
use lastmile_events::{
    CiEvent, CiEventKind, CloudEvent, Diagnosis, Incident, IncidentStatus, K8sObservation,
};
use lastmile_runtime::bus::Message;
use lastmile_runtime::redact;

mod trace;

/// Exit code: the deploy is ready.
pub const EXIT_READY: u8 = 0;
/// Exit code: the deploy will not become ready (definitive diagnosis, or the Job failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit code (set by the CLI): bad arguments or NATS unreachable.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: the timeout passed without a verdict.
pub const EXIT_TIMEOUT: u8 = 3;

/// What the gate waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every workload a CI run deploys; `provider` is checked when given (`github/123`).
    CiRun {
        /// Provider token, when given.
        provider: Option<String>,
        /// Run id.
        run_id: String,
    },
    /// One workload.
    Workload {
        /// Kind, lower case (`job`, `deployment`).
        kind: String,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
}

impl Target {
    /// `--ci-run 123` or `--ci-run github/123`.
    pub fn ci_run(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (provider, run_id) = match raw.split_once('/') {
            Some((p, id)) => (Some(p.to_ascii_lowercase()), id),
            None => (None, raw),
        };
        if run_id.is_empty() {
            return Err(format!("--ci-run {raw:?}: empty run id"));
        }
        Ok(Self::CiRun {
            provider,
            run_id: run_id.to_owned(),
        })
    }

    /// `--workload job/NAMESPACE/NAME`.
    pub fn workload(raw: &str) -> Result<Self, String> {
        match raw.trim().split('/').collect::<Vec<_>>().as_slice() {
            [kind, ns, name] if !kind.is_empty() && !ns.is_empty() && !name.is_empty() => {
                Ok(Self::Workload {
                    kind: kind.to_ascii_lowercase(),
                    namespace: (*ns).to_owned(),
                    name: (*name).to_owned(),
                })
            }
            _ => Err(format!(
                "--workload {raw:?}: expected KIND/NAMESPACE/NAME, e.g. job/ci/migrate"
            )),
        }
    }

    fn run_matches(&self, run: &lastmile_events::CiRunRef) -> bool {
        match self {
            Self::CiRun { provider, run_id } => {
                &run.run_id == run_id
                    && provider
                        .as_deref()
                        .is_none_or(|p| p == run.provider.as_str())
            }
            Self::Workload { .. } => false,
        }
    }

    fn is(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        match self {
            Self::Workload {
                kind: k,
                namespace: n,
                name: m,
            } => k.eq_ignore_ascii_case(kind) && Some(n.as_str()) == namespace && m == name,
            Self::CiRun { .. } => false,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CiRun {
                provider: Some(p),
                run_id,
            } => write!(f, "CI run {p}/{run_id}"),
            Self::CiRun {
                provider: None,
                run_id,
            } => write!(f, "CI run {run_id}"),
            Self::Workload {
                kind,
                namespace,
                name,
            } => write!(f, "{kind}/{namespace}/{name}"),
        }
    }
}

/// How one workload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    Waiting,
    Ready(String),
    Failed(String),
}

/// The gate's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Ready; the string says what showed it.
    Ready(String),
    /// Will not become ready: the diagnosis that says why, or the failure seen.
    Failed {
        /// The most confident definitive diagnosis, when one arrived.
        diagnosis: Option<Box<Diagnosis>>,
        /// What failed, in words.
        reason: String,
    },
    /// The timeout passed; the best (non-definitive) diagnoses so far.
    TimedOut {
        /// Diagnoses seen, most confident first.
        diagnoses: Vec<Diagnosis>,
    },
}

impl Verdict {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Ready(_) => EXIT_READY,
            Self::Failed { .. } => EXIT_FAILED,
            Self::TimedOut { .. } => EXIT_TIMEOUT,
        }
    }
}

/// Settings of one gate run.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// What to wait for.
    pub target: Target,
    /// Give up after this long.
    pub timeout: Duration,
    /// After a Job failed, wait this long for a diagnosis before failing without one.
    pub grace: Duration,
    /// For non-Job workloads: ready when no incident is open for this long (off when None).
    pub settle: Option<Duration>,
    /// Print a progress line this often.
    pub progress_every: Duration,
    /// The CI step's own trace context (`TRACEPARENT`), which the gate's span continues;
    /// without it, the run's as its messages carry it (see `trace`).
    pub traceparent: Option<String>,
}

/// The gate's state. Feed it messages with [`Gate::observe`]; ask [`Gate::verdict`].
#[derive(Debug)]
pub struct Gate {
    cfg: GateConfig,
    started: DateTime<Utc>,
    incidents: BTreeMap<String, Incident>,
    diagnoses: BTreeMap<String, Diagnosis>,
    workloads: BTreeMap<String, Standing>,
    job_failed_at: Option<DateTime<Utc>>,
    quiet_since: DateTime<Utc>,
    /// The run's trace context, from the first message about the target that carries it.
    traceparent: Option<String>,
}

impl Gate {
    /// A gate that started at `now`.
    pub fn new(cfg: GateConfig, now: DateTime<Utc>) -> Self {
        let mut workloads = BTreeMap::new();
        if let Target::Workload {
            kind,
            namespace,
            name,
        } = &cfg.target
        {
            workloads.insert(workload_key(kind, namespace, name), Standing::Waiting);
        }
        Self {
            cfg,
            started: now,
            incidents: BTreeMap::new(),
            diagnoses: BTreeMap::new(),
            workloads,
            job_failed_at: None,
            quiet_since: now,
            traceparent: None,
        }
    }

    /// The run's trace context, once a message about the target carried it.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    fn incident_matches(&self, inc: &Incident) -> bool {
        let t = &self.cfg.target;
        inc.ci.as_ref().is_some_and(|r| t.run_matches(r))
            || [Some(&inc.subject), inc.owner.as_ref()]
                .into_iter()
                .flatten()
                .any(|o| {
                    t.is(&o.kind, o.namespace.as_deref(), &o.name)
                        || self.workloads.contains_key(&workload_key(
                            &o.kind,
                            o.namespace.as_deref().unwrap_or(""),
                            &o.name,
                        ))
                })
    }

    fn diagnosis_matches(&self, d: &Diagnosis) -> bool {
        let t = &self.cfg.target;
        d.ci.as_ref().is_some_and(|r| t.run_matches(r))
            || d.incident
                .as_ref()
                .is_some_and(|k| self.incidents.contains_key(k))
            || t.is(
                &d.subject.kind,
                d.subject.namespace.as_deref(),
                &d.subject.name,
            )
            || self.incidents.values().any(|i| {
                i.subject.kind.eq_ignore_ascii_case(&d.subject.kind)
                    && i.subject.name == d.subject.name
                    && i.subject.namespace == d.subject.namespace
            })
    }

    /// Takes one message into account. Unknown or malformed messages are ignored.
    pub fn observe(&mut self, msg: &Message, now: DateTime<Utc>) {
        let s = msg.subject.as_str();
        if s.starts_with("lastmile.diagnosis.") {
            if let Ok(ce) = CloudEvent::<Diagnosis>::from_slice(&msg.payload)
                && self.diagnosis_matches(&ce.data)
            {
                let d = ce.data;
                if self.traceparent.is_none() {
                    self.traceparent = d.ci.as_ref().and_then(|c| c.traceparent.clone());
                }
                let key = d.id.clone().unwrap_or_else(|| {
                    format!("{}/{}", d.incident.as_deref().unwrap_or(""), d.class)
                });
                self.diagnoses.insert(key, d);
            }
        } else if s.starts_with("lastmile.incident.") {
            if let Ok(ce) = CloudEvent::<Incident>::from_slice(&msg.payload)
                && self.incident_matches(&ce.data)
            {
                let inc = ce.data;
                if self.traceparent.is_none() {
                    self.traceparent = inc.ci.as_ref().and_then(|c| c.traceparent.clone());
                }
                self.track_incident_workload(&inc);
                if inc.status == IncidentStatus::Open {
                    self.quiet_since = now;
                }
                self.incidents.insert(inc.key.clone(), inc);
            }
        } else if s.starts_with("lastmile.k8s.job.") {
            if let Ok(ce) = CloudEvent::<K8sObservation>::from_slice(&msg.payload)
                && let K8sObservation::Job(job) = ce.data
            {
                self.observe_job(&job, now);
            }
        } else if s.starts_with("lastmile.ci.")
            && let Ok(ce) = CloudEvent::<CiEvent>::from_slice(&msg.payload)
            && ce.data.kind == CiEventKind::DeployRequested
            && self.cfg.target.run_matches(&ce.data.run)
        {
            if self.traceparent.is_none() {
                self.traceparent = ce.traceparent.clone().or(ce.data.run.traceparent.clone());
            }
            for w in &ce.data.workloads {
                self.workloads
                    .entry(workload_key(&w.kind, &w.namespace, &w.name))
                    .or_insert(Standing::Waiting);
            }
        }
    }

    fn track_incident_workload(&mut self, inc: &Incident) {
        if !matches!(self.cfg.target, Target::CiRun { .. }) {
            return;
        }
        let o = inc.owner.as_ref().unwrap_or(&inc.subject);
        self.workloads
            .entry(workload_key(
                &o.kind,
                o.namespace.as_deref().unwrap_or(""),
                &o.name,
            ))
            .or_insert(Standing::Waiting);
    }

    fn observe_job(&mut self, job: &k8s_openapi::api::batch::v1::Job, now: DateTime<Utc>) {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let name = job.metadata.name.as_deref().unwrap_or("");
        let key = workload_key("job", ns, name);
        let ours = self.workloads.contains_key(&key)
            || ci_run_of(&job.metadata).is_some_and(|r| self.cfg.target.run_matches(&r));
        if !ours {
            return;
        }
        let standing = match job_terminal(job) {
            Some(JobTerminal::Complete { .. }) => {
                Standing::Ready(format!("Job {ns}/{name} completed"))
            }
            Some(JobTerminal::Failed { reason }) => {
                self.job_failed_at.get_or_insert(now);
                Standing::Failed(format!("Job {ns}/{name} failed: {reason}"))
            }
            None => return,
        };
        self.workloads.insert(key, standing);
    }

    fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents
            .values()
            .filter(|i| i.status == IncidentStatus::Open)
    }

    fn ranked(&self) -> Vec<Diagnosis> {
        let mut ds: Vec<Diagnosis> = self
            .diagnoses
            .values()
            .filter(|d| {
                d.incident
                    .as_ref()
                    .and_then(|k| self.incidents.get(k))
                    .is_none_or(|i| i.status == IncidentStatus::Open)
            })
            .cloned()
            .collect();
        ds.sort_by(|a, b| {
            b.definitive
                .cmp(&a.definitive)
                .then(b.confidence.total_cmp(&a.confidence))
        });
        ds
    }

    /// The verdict now, if there is one.
    pub fn verdict(&self, now: DateTime<Utc>) -> Option<Verdict> {
        let ranked = self.ranked();
        if let Some(d) = ranked.iter().find(|d| d.definitive) {
            return Some(Verdict::Failed {
                reason: d.summary.clone(),
                diagnosis: Some(Box::new(d.clone())),
            });
        }
        if let Some(reason) = self.workloads.values().find_map(|s| match s {
            Standing::Failed(r) => Some(r.clone()),
            _ => None,
        }) {
            let grace = chrono::Duration::from_std(self.cfg.grace).unwrap_or(chrono::Duration::MAX);
            let waited = self.job_failed_at.is_some_and(|t| now - t >= grace);
            if waited || !ranked.is_empty() {
                return Some(Verdict::Failed {
                    reason,
                    diagnosis: ranked.first().cloned().map(Box::new),
                });
            }
        }
        let any_open = self.open_incidents().next().is_some();
        if !any_open && !self.workloads.is_empty() {
            let all_ready = self.workloads.iter().all(|(key, s)| match s {
                Standing::Ready(_) => true,
                Standing::Failed(_) => false,
                // Non-Job workloads: a resolved incident shows progress.
                Standing::Waiting => !key.starts_with("job/") && self.resolved_for(key),
            });
            if all_ready {
                let how: Vec<String> = self
                    .workloads
                    .iter()
                    .map(|(k, s)| match s {
                        Standing::Ready(r) => r.clone(),
                        _ => format!("{k}: its incidents resolved"),
                    })
                    .collect();
                return Some(Verdict::Ready(how.join("; ")));
            }
            if let Some(settle) = self.cfg.settle {
                let settle = chrono::Duration::from_std(settle).unwrap_or(chrono::Duration::MAX);
                let no_jobs_waiting = !self
                    .workloads
                    .iter()
                    .any(|(k, s)| k.starts_with("job/") && *s == Standing::Waiting);
                if no_jobs_waiting && now - self.quiet_since >= settle {
                    return Some(Verdict::Ready(format!(
                        "no incident open for {}s",
                        settle.num_seconds()
                    )));
                }
            }
        }
        let timeout = chrono::Duration::from_std(self.cfg.timeout).unwrap_or(chrono::Duration::MAX);
        if now - self.started >= timeout {
            return Some(Verdict::TimedOut { diagnoses: ranked });
        }
        None
    }

    fn resolved_for(&self, workload: &str) -> bool {
        let mine: Vec<&Incident> = self
            .incidents
            .values()
            .filter(|i| {
                let o = i.owner.as_ref().unwrap_or(&i.subject);
                workload_key(&o.kind, o.namespace.as_deref().unwrap_or(""), &o.name) == workload
            })
            .collect();
        !mine.is_empty() && mine.iter().all(|i| i.status == IncidentStatus::Resolved)
    }

    /// One progress line.
    pub fn progress(&self, now: DateTime<Utc>) -> String {
        let open: Vec<String> = self
            .open_incidents()
            .map(|i| format!("{} ({} x{})", i.subject, i.family, i.count))
            .collect();
        let waiting: BTreeSet<&String> = self
            .workloads
            .iter()
            .filter(|(_, s)| **s == Standing::Waiting)
            .map(|(k, _)| k)
            .collect();
        format!(
            "lastmile gate: waiting for {} ({}s): {} workload(s) not ready {:?}, open incidents: {}, diagnoses: {}",
            self.cfg.target,
            (now - self.started).num_seconds(),
            waiting.len(),
            waiting,
            if open.is_empty() {
                "none".to_owned()
            } else {
                open.join(", ")
            },
            self.diagnoses.len()
        )
    }
}

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

/// Where the gate writes: plain lines, plus GitHub Actions annotations and job summary.
pub struct Output {
    out: Box<dyn Write + Send>,
    github: bool,
    summary: Option<PathBuf>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("github", &self.github)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// Escapes a GitHub workflow-command message (`%`, CR, LF).
pub fn escape_annotation(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_annotation(s).replace(':', "%3A").replace(',', "%2C")
}

impl Output {
    /// Output to `out`; `github` enables annotations, `summary` the job summary file.
    pub fn new(out: Box<dyn Write + Send>, github: bool, summary: Option<PathBuf>) -> Self {
        Self {
            out,
            github,
            summary,
        }
    }

    /// From the environment: `GITHUB_ACTIONS=true` and `GITHUB_STEP_SUMMARY`.
    pub fn from_env(out: Box<dyn Write + Send>) -> Self {
        let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let summary = std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .filter(|_| github);
        Self::new(out, github, summary)
    }

    /// Every printed line (and so every annotation) passes the shared redaction policy and
    /// has its control characters escaped: a CI log is public to everyone with repo access.
    fn line(&mut self, s: &str) {
        let clean = redact::text(s);
        let _ = writeln!(self.out, "{}", redact::escape_control(&clean));
        let _ = self.out.flush();
    }

    /// Prints the verdict: cause, fix and trace, or readiness.
    pub fn verdict(&mut self, target: &Target, v: &Verdict) {
        match v {
            Verdict::Ready(how) => {
                self.line(&format!("lastmile gate: {target} is ready: {how}"));
                self.summary(&format!("### ✅ lastmile: {target} is ready\n\n{how}\n"));
            }
            Verdict::Failed { diagnosis, reason } => {
                self.line(&format!(
                    "lastmile gate: {target} will not become ready: {reason}"
                ));
                if let Some(d) = diagnosis {
                    for l in describe(d) {
                        self.line(&l);
                    }
                    if self.github {
                        let fix = d
                            .remediation
                            .first()
                            .map(|r| r.command.clone().unwrap_or_else(|| r.description.clone()));
                        let msg = match fix {
                            Some(f) => format!("{}\nfix: {f}", d.summary),
                            None => d.summary.clone(),
                        };
                        let title = escape_property(&format!("lastmile: {}", d.class));
                        self.line(&format!(
                            "::error title={title}::{}",
                            escape_annotation(&msg)
                        ));
                    }
                    self.summary(&markdown(target, d));
                } else {
                    if self.github {
                        self.line(&format!(
                            "::error title=lastmile::{}",
                            escape_annotation(reason)
                        ));
                    }
                    self.summary(&format!(
                        "### ❌ lastmile: {target} will not become ready\n\n{reason}\n"
                    ));
                }
            }
            Verdict::TimedOut { diagnoses } => {
                self.line(&format!("lastmile gate: timed out waiting for {target}"));
                for d in diagnoses.iter().take(3) {
                    for l in describe(d) {
                        self.line(&l);
                    }
                }
                if self.github {
                    let best = diagnoses
                        .first()
                        .map(|d| format!(" — most likely: {}", d.summary))
                        .unwrap_or_default();
                    self.line(&format!(
                        "::error title=lastmile: timeout::{}",
                        escape_annotation(&format!("{target} was not ready in time{best}"))
                    ));
                }
                let mut md = format!("### ⏱ lastmile: {target} was not ready in time\n\n");
                for d in diagnoses.iter().take(3) {
                    md.push_str(&markdown(target, d));
                }
                self.summary(&md);
            }
        }
    }

    fn summary(&mut self, md: &str) {
        let Some(path) = &self.summary else { return };
        let md = redact::text(md);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(md.as_bytes()));
        if let Err(e) = written {
            let _ = writeln!(
                self.out,
                "lastmile gate: cannot append to the job summary {}: {e}",
                path.display()
            );
        }
    }
}

/// The plain-text description of a diagnosis (reads well in GitLab and Jenkins logs).
pub fn describe(d: &Diagnosis) -> Vec<String> {
    let mut l = vec![format!(
        "  cause:      {} ({:.0}% confident{})",
        d.class,
        d.confidence * 100.0,
        if d.definitive { ", definitive" } else { "" }
    )];
    l.push(format!("  summary:    {}", d.summary));
    let s = &d.subject;
    l.push(format!(
        "  subject:    {} {}{}{}",
        s.kind,
        s.namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default(),
        s.name,
        s.container
            .as_deref()
            .map(|c| format!(" (container {c})"))
            .unwrap_or_default()
    ));
    for e in d.evidence.iter().take(5) {
        l.push(format!("  evidence:   {e}"));
    }
    for r in &d.remediation {
        l.push(format!("  fix:        {}", r.description));
        if let Some(c) = &r.command {
            l.push(format!("              $ {c}"));
        }
    }
    if let Some(t) = &d.trace_id {
        l.push(format!("  trace:      {t}"));
    }
    if let Some(e) = &d.evidence_ref {
        l.push(format!(
            "  evidence bundle: {}/{}",
            e.store.trim_end_matches('/'),
            e.manifest_key
        ));
    }
    if let Some(run) = &d.ci {
        l.push(format!(
            "  CI run:     {}/{}{}",
            run.provider.as_str(),
            run.run_id,
            run.url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
    }
    l
}

/// The job-summary Markdown for a diagnosis.
pub fn markdown(target: &Target, d: &Diagnosis) -> String {
    let mut md = format!(
        "### ❌ lastmile: {target} will not become ready\n\n**{}** — {}\n\n",
        d.class, d.summary
    );
    if !d.evidence.is_empty() {
        md.push_str("**Evidence**\n\n");
        for e in d.evidence.iter().take(8) {
            md.push_str(&format!("- `{}`\n", e.replace('`', "'")));
        }
        md.push('\n');
    }
    if !d.remediation.is_empty() {
        md.push_str("**Fix**\n\n");
        for r in &d.remediation {
            md.push_str(&format!("- {}\n", r.description));
            if let Some(c) = &r.command {
                md.push_str(&format!("\n```sh\n{c}\n```\n"));
            }
        }
        md.push('\n');
    }
    if let Some(t) = &d.trace_id {
        md.push_str(&format!("Trace ID: `{t}`\n\n"));
    }
    md
}

/// Gate errors (connecting and subscribing).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// NATS could not be reached or a consumer could not be created: retryable.
    #[error("cannot read from NATS: {0}")]
    Nats(String),
}

/// Ordered JetStream consumers on the diagnosis, incident, Job and CI subjects, starting
/// `lookback` ago, merged into one stream.
pub async fn nats_source(
    js: &async_nats::jetstream::Context,
    lookback: Duration,
) -> Result<BoxStream<'static, Message>, GateError> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let start = Utc::now() - chrono::Duration::from_std(lookback).unwrap_or_default();
    let start = time::OffsetDateTime::from_unix_timestamp(start.timestamp())
        .map_err(|e| GateError::Nats(e.to_string()))?;
    let wanted: [(&str, &str); 4] = [
        ("LASTMILE_DIAGNOSES", "lastmile.diagnosis.>"),
        ("LASTMILE_INCIDENTS", "lastmile.incident.>"),
        ("LASTMILE_K8S", "lastmile.k8s.job.>"),
        ("LASTMILE_CI", "lastmile.ci.>"),
    ];
    let mut streams = Vec::new();
    for (stream, filter) in wanted {
        let s = js
            .get_stream(stream)
            .await
            .map_err(|e| GateError::Nats(format!("stream {stream}: {e}")))?;
        let consumer = s
            .create_consumer(pull::OrderedConfig {
                filter_subject: filter.to_owned(),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|e| GateError::Nats(format!("consumer on {stream}: {e}")))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| GateError::Nats(format!("reading {stream}: {e}")))?;
        streams.push(
            messages
                .filter_map(|m| async move {
                    let m = m.ok()?;
                    let headers = m
                        .headers
                        .as_ref()
                        .map(|h| {
                            h.iter()
                                .filter_map(|(k, v)| Some((k.to_string(), v.first()?.to_string())))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(Message {
                        subject: m.subject.to_string(),
                        headers,
                        payload: m.payload.clone(),
                    })
                })
                .boxed(),
        );
    }
    Ok(futures::stream::select_all(streams).boxed())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
