//! Init containers, from the Pod's status: crash-looping, blocked on a dependency, or
//! deadlocked with another pod (reference §7).

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use lastmile_events::k8s::time;
use lastmile_events::{Class, ClusterSnapshot, Diagnosis, Incident, Subject};

use crate::deps::{Dependency, waited_on};
use crate::graph::{Step, WaitGraph, provides};
use crate::{diagnosis, remedy};

// Waiting reasons the image-pull function owns (the shared kubelet list).
use lastmile_events::facts::IMAGE_PULL_REASONS as PULL_REASONS;
/// Waiting reasons of a container that cannot even be created (missing ConfigMap/Secret…).
const START_REASONS: &[&str] = &[
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
];

/// The first init container that has not finished, with its status when reported.
struct Unfinished<'a> {
    name: &'a str,
    spec: Option<&'a Container>,
    status: Option<&'a ContainerStatus>,
}

impl Unfinished<'_> {
    fn command_line(&self) -> String {
        self.spec
            .map(|c| {
                c.command
                    .iter()
                    .flatten()
                    .chain(c.args.iter().flatten())
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }

    fn waiting(&self) -> (&str, &str) {
        let w = self
            .status
            .and_then(|s| s.state.as_ref())
            .and_then(|s| s.waiting.as_ref());
        (
            w.and_then(|w| w.reason.as_deref()).unwrap_or(""),
            w.and_then(|w| w.message.as_deref()).unwrap_or(""),
        )
    }

    fn running_since(&self) -> Option<DateTime<Utc>> {
        let running = self.status?.state.as_ref()?.running.as_ref()?;
        Some(
            running
                .started_at
                .as_ref()
                .map(time)
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        )
    }
}

fn first_unfinished(pod: &Pod) -> Option<Unfinished<'_>> {
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    if phase == "Running" || phase == "Succeeded" {
        return None;
    }
    let (specs, statuses) = lastmile_events::facts::pod::init_containers(pod);
    let names: Vec<&str> = if specs.is_empty() {
        statuses.iter().map(|s| s.name.as_str()).collect()
    } else {
        specs.iter().map(|c| c.name.as_str()).collect()
    };
    names.into_iter().find_map(|name| {
        let spec = specs.iter().find(|c| c.name == name);
        let status = statuses.iter().find(|s| s.name == name);
        let sidecar = spec.is_some_and(|c| c.restart_policy.as_deref() == Some("Always"));
        let exit = status
            .and_then(|s| s.state.as_ref())
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code);
        let done = exit == Some(0) || (sidecar && status.is_some_and(|s| s.started == Some(true)));
        (!done).then_some(Unfinished { name, spec, status })
    })
}

fn pod_subject(incident: &Incident, pod: &Pod, container: &str) -> Subject {
    Subject {
        kind: "Pod".into(),
        namespace: pod
            .metadata
            .namespace
            .clone()
            .or_else(|| incident.subject.namespace.clone()),
        name: pod
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| incident.subject.name.clone()),
        container: Some(container.to_owned()),
    }
}

/// Diagnoses the incident's pod, when it carries one whose init containers are unfinished.
pub(crate) fn diagnose(incident: &Incident, snapshot: &ClusterSnapshot) -> Vec<Diagnosis> {
    let Some(pod) = incident.pod.as_deref() else {
        return Vec::new();
    };
    let Some(stuck) = first_unfinished(pod) else {
        return Vec::new();
    };
    let (reason, message) = stuck.waiting();
    if PULL_REASONS.contains(&reason) {
        return Vec::new();
    }
    let subject = pod_subject(incident, pod, stuck.name);
    let command = stuck.command_line();
    let deps = waited_on(&command);
    let mut evidence = Vec::new();
    if !command.is_empty() {
        evidence.push(format!("init container `{}` runs: {command}", stuck.name));
    }
    if let Some(d) = crashloop(incident, pod, &stuck, &subject, &deps, &mut evidence) {
        return vec![d];
    }
    if START_REASONS.contains(&reason) {
        evidence.insert(
            0,
            format!(
                "init container `{}` is waiting: {reason}: {message}",
                stuck.name
            ),
        );
        let d = diagnosis(
            Class::InitBlocked,
            0.8,
            format!(
                "Init container `{}` cannot start ({reason}): {}",
                stuck.name,
                first_sentence(message)
            ),
            subject.clone(),
            evidence,
            vec![remedy::describe_pod(&subject)],
            false,
        );
        return vec![d];
    }
    let graph = WaitGraph::new(pod, snapshot, waits_of);
    if let Some(cycle) = graph.cycle() {
        return vec![deadlock(&graph, &cycle, &stuck, &subject, evidence)];
    }
    vec![blocked(
        incident, pod, &stuck, &subject, &deps, snapshot, &graph, evidence,
    )]
}

fn crashloop(
    incident: &Incident,
    pod: &Pod,
    stuck: &Unfinished<'_>,
    subject: &Subject,
    deps: &[Dependency],
    evidence: &mut Vec<String>,
) -> Option<Diagnosis> {
    let (reason, message) = stuck.waiting();
    let status = stuck.status;
    let restarts = status.map_or(0, |s| s.restart_count);
    let last = status
        .and_then(|s| s.last_state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let now = status
        .and_then(|s| s.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let failed_exit = last.or(now).filter(|t| t.exit_code != 0);
    let phase_failed = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
    let crashing = reason == "CrashLoopBackOff"
        || (restarts >= 2 && failed_exit.is_some())
        || (now.is_some_and(|t| t.exit_code != 0));
    if !crashing {
        return None;
    }
    if !reason.is_empty() {
        evidence.insert(
            0,
            format!(
                "init container `{}` is waiting: {reason}{}",
                stuck.name,
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" ({message})")
                }
            ),
        );
    }
    evidence.push(format!("restartCount: {restarts}"));
    if let Some(t) = failed_exit {
        evidence.push(format!(
            "last run terminated: reason {}, exit code {}{}",
            t.reason.as_deref().unwrap_or("-"),
            t.exit_code,
            t.message
                .as_deref()
                .map(|m| format!(", message: {}", first_sentence(m)))
                .unwrap_or_default()
        ));
    }
    let backoffs: u32 = incident
        .events
        .iter()
        .filter(|e| e.reason == "BackOff" && e.message.contains(stuck.name))
        .map(|e| e.count)
        .sum();
    if backoffs > 0 {
        evidence.push(format!(
            "{backoffs} BackOff events: \"Back-off restarting failed container {}\"",
            stuck.name
        ));
    }
    let gives_up = deps
        .first()
        .map(|d| {
            format!(
                " It waits for `{}` and exits when that is not there.",
                d.target
            )
        })
        .unwrap_or_default();
    let summary = match failed_exit {
        Some(t) => format!(
            "Init container `{}` fails repeatedly (exit code {}, {} restarts), so the pod never starts.{gives_up}",
            stuck.name, t.exit_code, restarts
        ),
        None => format!(
            "Init container `{}` fails repeatedly ({} restarts), so the pod never starts.{gives_up}",
            stuck.name, restarts
        ),
    };
    let mut remediation = vec![remedy::init_logs(subject, stuck.name, true)];
    remediation.extend(
        deps.iter()
            .take(2)
            .map(|d| remedy::check_dependency(subject, d)),
    );
    Some(diagnosis(
        Class::InitCrashloop,
        if reason == "CrashLoopBackOff" {
            0.92
        } else {
            0.85
        },
        summary,
        subject.clone(),
        std::mem::take(evidence),
        remediation,
        restarts >= 3 || phase_failed,
    ))
}

/// The wait cycle `cycle` (through the incident's pod) as a diagnosis. One cycle is one
/// deadlock, however many of its workloads have an incident: the workload whose key sorts
/// first reports `init.deadlock` naming every workload; the others report that they are
/// blocked by it (`init.blocked`, pointing at that report), so a deadlock is diagnosed once.
fn deadlock(
    graph: &WaitGraph<'_>,
    cycle: &[Step],
    stuck: &Unfinished<'_>,
    subject: &Subject,
    mut evidence: Vec<String>,
) -> Diagnosis {
    let workloads: std::collections::BTreeSet<&str> =
        cycle.iter().map(|s| s.workload.as_str()).collect();
    let names: Vec<&str> = workloads.iter().copied().collect();
    let chain: Vec<String> = cycle
        .iter()
        .map(|s| match &s.service {
            Some(svc) => format!("`{}` waits for `{}` (Service {svc})", s.pod, s.target),
            None => format!("`{}` waits for `{}`", s.pod, s.target),
        })
        .collect();
    evidence.push(format!("wait cycle: {}", chain.join(", ")));
    for step in cycle {
        let Some(key) = &step.service else { continue };
        let svc = graph.index().services().iter().find(|s| {
            format!(
                "{}/{}",
                s.metadata.namespace.as_deref().unwrap_or(""),
                s.metadata.name.as_deref().unwrap_or("")
            ) == *key
        });
        if let Some(svc) = svc {
            let ready = graph.index().ready_endpoints(svc).len();
            evidence.push(format!(
                "Service {key} has {ready} ready endpoint(s): its pods wait in init themselves"
            ));
        }
    }
    if graph.guessed() {
        evidence.push(
            "no Services were in the snapshot: the cycle was matched by pod and Service names, not resolved through DNS and selectors".into(),
        );
    }
    let own = cycle.first().map_or("", |s| s.workload.as_str());
    let reporter = names.first().copied().unwrap_or(own);
    if own != reporter {
        let target = cycle.first().map_or("", |s| s.target.as_str());
        return diagnosis(
            Class::InitBlocked,
            0.9,
            format!(
                "Init container `{}` waits for `{target}`, whose pods wait in init on this workload in turn: a wait cycle between {}, reported as init.deadlock on {reporter}.",
                stuck.name,
                names.join(" and ")
            ),
            subject.clone(),
            evidence,
            vec![remedy::init_logs(subject, stuck.name, false)],
            false,
        );
    }
    diagnosis(
        Class::InitDeadlock,
        // A cycle matched by names (no Services in the snapshot) is still a cycle of waits
        // read from the pods' own specs: above what a report's wording can contest.
        if graph.guessed() { 0.85 } else { 0.95 },
        format!(
            "Init containers of {} wait on each other in a cycle ({}); none can ever finish.",
            names.join(" and "),
            chain.join(", ")
        ),
        subject.clone(),
        evidence,
        vec![
            lastmile_events::Remediation {
                description: "Break the cycle: drop the init-container wait on one side and let that application retry its connection (or gate it with a readiness probe) instead.".into(),
                command: None,
            },
            remedy::init_logs(subject, stuck.name, false),
        ],
        true,
    )
}

#[allow(clippy::too_many_arguments)]
fn blocked(
    incident: &Incident,
    pod: &Pod,
    stuck: &Unfinished<'_>,
    subject: &Subject,
    deps: &[Dependency],
    snapshot: &ClusterSnapshot,
    graph: &WaitGraph<'_>,
    mut evidence: Vec<String>,
) -> Diagnosis {
    let (reason, _) = stuck.waiting();
    let since = stuck.running_since();
    if let Some(started) = since {
        let observed = incident.last_seen;
        let minutes = (observed - started).num_minutes();
        if minutes > 0 {
            evidence.insert(0, format!("init container `{}` has been running since {} ({minutes} min before the last observation) without finishing", stuck.name, started.to_rfc3339()));
        } else {
            evidence.insert(
                0,
                format!(
                    "init container `{}` is running and has not finished",
                    stuck.name
                ),
            );
        }
    } else if !reason.is_empty() {
        evidence.insert(
            0,
            format!("init container `{}` is waiting: {reason}", stuck.name),
        );
    }
    if let Some(msg) = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.type_ == "Initialized" && c.status == "False")
        })
        .and_then(|c| c.message.clone())
    {
        evidence.push(format!("condition Initialized=False: {msg}"));
    }
    for dep in deps.iter().take(3) {
        evidence.push(format!(
            "it waits for `{}`{} ({})",
            dep.target,
            dep.port.map(|p| format!(" port {p}")).unwrap_or_default(),
            dep.how
        ));
        if !graph.guessed() {
            evidence.push(resolved(graph, pod, dep));
        } else if !snapshot.pods.is_empty() {
            match snapshot.pods.iter().find(|p| provides(p, dep)) {
                Some(p) => evidence.push(format!(
                    "pod `{}` matching `{}` is {}; check the Service's selector and port",
                    p.metadata.name.as_deref().unwrap_or(""),
                    dep.service(),
                    p.status
                        .as_ref()
                        .and_then(|s| s.phase.as_deref())
                        .unwrap_or("in an unknown phase")
                )),
                None => evidence.push(format!(
                    "no pod in the snapshot provides `{}`: the dependency is not running",
                    dep.service()
                )),
            }
        }
    }
    let confidence = match (deps.is_empty(), since.is_some()) {
        (false, _) => 0.88,
        (true, true) => 0.72,
        (true, false) => 0.55,
    };
    let summary = match deps.first() {
        Some(d) => format!(
            "Init container `{}` waits for `{}`, which never becomes available, so the pod stays in Init.",
            stuck.name, d.target
        ),
        None => format!(
            "Init container `{}` never finishes, so the pod stays in Init; its command or logs say what it waits for.",
            stuck.name
        ),
    };
    let mut remediation = vec![remedy::init_logs(subject, stuck.name, false)];
    remediation.extend(
        deps.iter()
            .take(2)
            .map(|d| remedy::check_dependency(subject, d)),
    );
    diagnosis(
        Class::InitBlocked,
        confidence,
        summary,
        subject.clone(),
        evidence,
        remediation,
        false,
    )
}

/// What `dep` resolves to through the snapshot's Services, as evidence.
fn resolved(graph: &WaitGraph<'_>, pod: &Pod, dep: &Dependency) -> String {
    let Some(svc) = graph.service_of(pod, dep) else {
        return format!(
            "`{}` resolves to no Service in the snapshot (from namespace {}): the Service does not exist there",
            dep.target,
            pod.metadata.namespace.as_deref().unwrap_or("default")
        );
    };
    let key = format!(
        "{}/{}",
        svc.metadata.namespace.as_deref().unwrap_or(""),
        svc.metadata.name.as_deref().unwrap_or("")
    );
    if !lastmile_events::facts::ServiceIndex::exposes(svc, dep.port) {
        return format!(
            "`{}` resolves to Service {key}, which does not expose port {}",
            dep.target,
            dep.port.unwrap_or_default()
        );
    }
    match graph.index().ready_endpoints(svc).len() {
        0 => format!(
            "`{}` resolves to Service {key}, which has no ready endpoints: nothing behind it answers",
            dep.target
        ),
        n => format!(
            "`{}` resolves to Service {key} with {n} ready endpoint(s): check the probe itself (port, path, credentials)",
            dep.target
        ),
    }
}

fn waits_of(pod: &Pod) -> Vec<Dependency> {
    first_unfinished(pod)
        .map(|u| waited_on(&u.command_line()))
        .unwrap_or_default()
}

fn first_sentence(s: &str) -> &str {
    let s = s.trim();
    s.split_inclusive(". ").next().unwrap_or(s).trim()
}
