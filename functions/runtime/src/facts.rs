//! What the incident says about its main containers, read once for every class: from the
//! Pod the API returned (authoritative) or, when only text was pasted, from `kubectl
//! describe` lines. Event messages and raw log lines are kept as [`Facts::lines`] for the
//! message rules.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, Probe};
use lastmile_events::Incident;

use crate::text;

/// One probe as the spec (or `kubectl describe`) states it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProbeSpec {
    /// `liveness`, `readiness` or `startup`.
    pub kind: &'static str,
    /// `http-get`, `tcp-socket`, `exec` or `grpc`.
    pub action: String,
    /// The port, numeric when it is (a named port is resolved against the container).
    pub port: Option<u16>,
    /// The port as written when it is a name (`http`).
    pub port_name: Option<String>,
    /// The HTTP path.
    pub path: Option<String>,
    pub initial_delay: i32,
    pub timeout: i32,
    pub period: i32,
    pub failure_threshold: i32,
}

impl ProbeSpec {
    /// How long a container may take to answer before this probe gives up on it.
    pub fn budget_seconds(&self) -> i32 {
        self.initial_delay + self.period * self.failure_threshold
    }

    fn from_spec(kind: &'static str, p: &Probe, ports: &[(Option<String>, u16)]) -> Self {
        let (action, port, path) = if let Some(h) = &p.http_get {
            ("http-get", Some(&h.port), h.path.clone())
        } else if let Some(t) = &p.tcp_socket {
            ("tcp-socket", Some(&t.port), None)
        } else if let Some(g) = &p.grpc {
            return Self {
                kind,
                action: "grpc".into(),
                port: u16::try_from(g.port).ok(),
                ..Self::timing(kind, p)
            };
        } else {
            ("exec", None, None)
        };
        let (port, port_name) = match port {
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => {
                (u16::try_from(*n).ok(), None)
            }
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name)) => (
                ports
                    .iter()
                    .find(|(n, _)| n.as_deref() == Some(name.as_str()))
                    .map(|(_, p)| *p),
                Some(name.clone()),
            ),
            None => (None, None),
        };
        Self {
            action: action.into(),
            port,
            port_name,
            path,
            ..Self::timing(kind, p)
        }
    }

    fn timing(kind: &'static str, p: &Probe) -> Self {
        Self {
            kind,
            initial_delay: p.initial_delay_seconds.unwrap_or(0),
            timeout: p.timeout_seconds.unwrap_or(1),
            period: p.period_seconds.unwrap_or(10),
            failure_threshold: p.failure_threshold.unwrap_or(3),
            ..Self::default()
        }
    }
}

/// The facts about one main container.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// The container, when known.
    pub container: Option<String>,
    /// The image, when known.
    pub image: Option<String>,
    /// The current waiting reason and message.
    pub waiting: Option<(String, String)>,
    /// The last (or current) termination: exit code, reason, message (the termination
    /// message), signal.
    pub exit_code: Option<i32>,
    pub exit_reason: Option<String>,
    pub termination_message: Option<String>,
    pub signal: Option<i32>,
    pub restarts: Option<i32>,
    /// The pod is a Job's: the incident's owner is a Job (its ownerReferences, or
    /// `Controlled By: Job/…` in a pasted `kubectl describe pod`).
    pub job_pod: bool,
    /// The container's current state is a clean exit (terminated, exit code 0) and it never
    /// restarted: it ran to completion (a Job's or a one-shot pod's container, whose
    /// restartPolicy is not Always), which is no crash loop.
    pub finished: bool,
    /// A pasted `kubectl get pods` table shows every pod running (or `NotReady`, a
    /// container still running beside one that ended) with 0 restarts: nothing there
    /// restarts, so an error line in a log is one the process logged and lived through.
    pub running_unrestarted: bool,
    pub ready: Option<bool>,
    /// Memory limit and request as written (`512Mi`).
    pub mem_limit: Option<String>,
    pub mem_request: Option<String>,
    /// Declared container ports, with their names.
    pub ports: Vec<(Option<String>, u16)>,
    pub probes: Vec<ProbeSpec>,
    /// The command and args as one line.
    pub command: Option<String>,
    /// Event messages (`Reason: message`) and raw text lines, newest last.
    pub lines: Vec<String>,
}

impl Facts {
    /// The container's facts: the pod's status for the worst main container when there is
    /// a pod, else what the pasted text says.
    pub fn of(incident: &Incident) -> Self {
        let mut f = match incident.pod.as_deref().and_then(worst_container) {
            Some((spec, status)) => from_pod(spec, status),
            None => incident
                .text
                .as_deref()
                .map(text::describe_facts)
                .unwrap_or_default(),
        };
        for e in &incident.events {
            f.lines.push(format!("{}: {}", e.reason, e.clean_message()));
        }
        if let Some(t) = &incident.text {
            f.lines.extend(t.lines().map(str::to_owned));
        }
        f.job_pod = incident.owner.as_ref().is_some_and(|o| o.kind == "Job");
        f
    }

    /// The lines that contain `needle` (lower-case match).
    pub fn lines_with<'a>(&'a self, needle: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .map(String::as_str)
            .filter(move |l| l.to_lowercase().contains(needle))
    }

    /// The first line containing any of `needles` (lower-case match).
    pub fn first_line_with(&self, needles: &[&str]) -> Option<&str> {
        self.lines.iter().map(String::as_str).find(|l| {
            let lower = l.to_lowercase();
            needles.iter().any(|n| lower.contains(n))
        })
    }

    /// True when the waiting reason, an event or a line mentions `needle` (lower case).
    pub fn mentions(&self, needle: &str) -> bool {
        self.waiting
            .as_ref()
            .is_some_and(|(r, m)| format!("{r} {m}").to_lowercase().contains(needle))
            || self.lines_with(needle).next().is_some()
    }

    /// True when the container is restarting (CrashLoopBackOff, restarts, BackOff events).
    pub fn restarting(&self) -> bool {
        self.waiting_reason() == Some("CrashLoopBackOff")
            || self.restarts.is_some_and(|r| r > 0)
            || self.mentions("crashloopbackoff")
            || self.mentions("back-off restarting failed container")
    }

    /// The current waiting reason.
    pub fn waiting_reason(&self) -> Option<&str> {
        self.waiting.as_ref().map(|(r, _)| r.as_str())
    }
}

/// The main container in the worst state: waiting with a reason, then not ready with
/// restarts, then not ready.
fn worst_container(pod: &Pod) -> Option<(Option<&Container>, &ContainerStatus)> {
    let statuses = pod.status.as_ref()?.container_statuses.as_deref()?;
    let score = |s: &ContainerStatus| {
        let waiting = lastmile_events::facts::waiting_reason(s);
        let mut n = 0;
        if lastmile_events::facts::pod::RUNTIME_WAITING_REASONS.contains(&waiting) {
            n += 4;
        }
        if lastmile_events::facts::pod::oom_killed(s) {
            n += 3;
        }
        if s.restart_count > 0 {
            n += 2;
        }
        if !s.ready {
            n += 1;
        }
        n
    };
    let status = statuses.iter().max_by_key(|s| score(s))?;
    let spec = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == status.name));
    Some((spec, status))
}

fn from_pod(spec: Option<&Container>, status: &ContainerStatus) -> Facts {
    let mut f = Facts {
        container: Some(status.name.clone()),
        image: Some(status.image.clone()).filter(|i| !i.is_empty()),
        restarts: Some(status.restart_count),
        ready: Some(status.ready),
        ..Facts::default()
    };
    let state = status.state.as_ref();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        f.waiting = Some((
            w.reason.clone().unwrap_or_default(),
            w.message.clone().unwrap_or_default(),
        ));
    }
    f.finished = status.restart_count == 0
        && state
            .and_then(|s| s.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0);
    let ended = state
        .and_then(|s| s.terminated.as_ref())
        .or_else(|| status.last_state.as_ref()?.terminated.as_ref());
    if let Some(t) = ended {
        f.exit_code = Some(t.exit_code);
        f.exit_reason = t.reason.clone();
        f.termination_message = t.message.clone().filter(|m| !m.trim().is_empty());
        f.signal = t.signal;
    }
    let Some(c) = spec else {
        return f;
    };
    f.image = c.image.clone().or(f.image);
    if let Some(r) = &c.resources {
        f.mem_limit = r
            .limits
            .as_ref()
            .and_then(|l| l.get("memory"))
            .map(|q| q.0.clone());
        f.mem_request = r
            .requests
            .as_ref()
            .and_then(|l| l.get("memory"))
            .map(|q| q.0.clone());
    }
    f.ports = c
        .ports
        .iter()
        .flatten()
        .filter_map(|p| Some((p.name.clone(), u16::try_from(p.container_port).ok()?)))
        .collect();
    for (kind, probe) in [
        ("liveness", &c.liveness_probe),
        ("readiness", &c.readiness_probe),
        ("startup", &c.startup_probe),
    ] {
        if let Some(p) = probe {
            f.probes.push(ProbeSpec::from_spec(kind, p, &f.ports));
        }
    }
    let command: Vec<&str> = c
        .command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .map(String::as_str)
        .collect();
    if !command.is_empty() {
        f.command = Some(command.join(" "));
    }
    f
}
