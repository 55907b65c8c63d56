//! The `unknown` answers, which never stop at "unknown": each says what every family's
//! function looked for, what the input lacked, and which input would settle it ("add
//! `--snapshot`", "paste the pod's events", "the container's previous log").
//!
//! What was searched is read from the incident as the functions saw it (pod status, events,
//! text, the Job, the cluster state of the document and `--snapshot`), so the advice names
//! only inputs that are really missing, with the pod's own namespace and name filled in.
//! It is carried three ways: the summary names the first thing to add, the evidence lists
//! every family's search, and `details.searched` holds the same as data ([`Searched`]).

mod deploy_tool;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use lastmile_events::diagnosis::{FamilySearch, Searched};
use lastmile_events::{
    Class, ClusterSnapshot, Diagnosis, Incident, IncidentFamily, ObjectRef, Subject,
};

/// How pasted text reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    /// `kubectl describe` output with its `Events:` section.
    Describe,
    /// `kubectl describe` output cut before its `Events:` section.
    DescribeWithoutEvents,
    /// A `kubectl get events` table.
    EventsTable,
    /// Anything else: a container, CI or tool log.
    Log,
}

/// The inputs an incident came with.
#[derive(Debug, Default)]
struct Inputs {
    pod: bool,
    phase: Option<String>,
    init_containers: bool,
    /// Some container status is waiting, terminated or has restarted.
    container_trouble: bool,
    events: usize,
    warnings: usize,
    job: bool,
    text: Option<TextKind>,
    /// A deploy tool (Helm, Argo CD) that gave up waiting, in the text.
    gave_up: Option<deploy_tool::GaveUp>,
    nodes: usize,
    quotas: usize,
    limit_ranges: usize,
    pvcs: usize,
}

impl Inputs {
    fn of(incident: &Incident, cluster: Option<&ClusterSnapshot>) -> Self {
        let mut have = Inputs {
            pod: incident.pod.is_some(),
            events: incident.events.len(),
            warnings: incident.events.iter().filter(|e| e.ty == "Warning").count(),
            job: incident.job.is_some(),
            text: incident.text.as_deref().map(text_kind),
            gave_up: incident.text.as_deref().and_then(deploy_tool::gave_up),
            ..Inputs::default()
        };
        if let Some(pod) = &incident.pod {
            have.phase = pod.status.as_ref().and_then(|s| s.phase.clone());
            have.init_containers = pod
                .spec
                .as_ref()
                .and_then(|s| s.init_containers.as_ref())
                .is_some_and(|c| !c.is_empty());
            have.container_trouble = statuses(pod).any(|c| {
                c.restart_count > 0
                    || c.state
                        .as_ref()
                        .is_some_and(|s| s.waiting.is_some() || s.terminated.is_some())
            });
        }
        for snap in [Some(&*incident.snapshot), cluster].into_iter().flatten() {
            have.nodes += snap.nodes.len();
            have.quotas += snap.resource_quotas.len();
            have.limit_ranges += snap.limit_ranges.len();
            have.pvcs += snap.pvcs.len();
        }
        have
    }

    /// Events in any form: recorded, or a describe's / table's text.
    fn any_events(&self) -> bool {
        self.events > 0
    }

    /// A container or CI log among the input.
    fn log(&self) -> bool {
        self.text == Some(TextKind::Log)
    }

    /// The pod's status, as an object or as `kubectl describe` prints it.
    fn pod_status(&self) -> bool {
        self.pod
            || matches!(
                self.text,
                Some(TextKind::Describe | TextKind::DescribeWithoutEvents)
            )
    }

    fn facts(&self) -> Vec<String> {
        let mut facts = Vec::new();
        if self.pod {
            facts.push(format!(
                "a Pod object (phase {})",
                self.phase.as_deref().unwrap_or("not recorded")
            ));
        }
        if self.job {
            facts.push("a Job object".to_owned());
        }
        facts.push(format!(
            "{} event(s), {} Warning",
            self.events, self.warnings
        ));
        match self.text {
            Some(TextKind::Describe) => facts.push("`kubectl describe` output".into()),
            Some(TextKind::DescribeWithoutEvents) => {
                facts.push("`kubectl describe` output cut before its Events section".into())
            }
            Some(TextKind::EventsTable) => facts.push("a `kubectl get events` table".into()),
            Some(TextKind::Log) => facts.push("log text (no Kubernetes objects)".into()),
            None => {}
        }
        if let Some(tool) = &self.gave_up {
            facts.push(tool.fact());
        }
        if self.nodes + self.quotas + self.limit_ranges + self.pvcs == 0 {
            facts.push("no cluster state (nodes, quotas, LimitRanges, PVCs)".into());
        } else {
            facts.push(format!(
                "cluster state: {} node(s), {} ResourceQuota(s), {} LimitRange(s), {} PVC(s)",
                self.nodes, self.quotas, self.limit_ranges, self.pvcs
            ));
        }
        facts
    }
}

fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let init = status.and_then(|s| s.init_container_statuses.as_ref());
    let main = status.and_then(|s| s.container_statuses.as_ref());
    init.into_iter().flatten().chain(main.into_iter().flatten())
}

fn text_kind(text: &str) -> TextKind {
    let has_line = |start: &str| text.lines().any(|l| l.trim_start().starts_with(start));
    let describe = has_line("Name:")
        && (has_line("Namespace:") || has_line("Containers:") || has_line("Status:"));
    if describe {
        if has_line("Events:") {
            TextKind::Describe
        } else {
            TextKind::DescribeWithoutEvents
        }
    } else if text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("LAST SEEN")
            || (l.contains("TYPE") && l.contains("REASON"))
            || (l.starts_with("Type") && l.contains("Reason"))
    }) {
        TextKind::EventsTable
    } else {
        TextKind::Log
    }
}

/// Each family's search over `have`.
fn families(have: &Inputs) -> Vec<FamilySearch> {
    let mut out = Vec::new();
    let mut push = |family, looked_for: &[&'static str], missing: Vec<&'static str>| {
        out.push(FamilySearch {
            family,
            looked_for: looked_for.to_vec(),
            missing,
        });
    };
    let mut missing = Vec::new();
    if !have.any_events() {
        missing.push("FailedScheduling / FailedCreate events");
    }
    if have.nodes == 0 {
        missing.push("nodes, quotas and LimitRanges (`--snapshot`)");
    }
    push(
        IncidentFamily::Pending,
        &[
            "FailedScheduling / FailedCreate events",
            "the pod's PodScheduled condition",
            "nodes, quotas and LimitRanges (`--snapshot`)",
        ],
        missing,
    );
    let mut missing = Vec::new();
    if !have.any_events() && !have.container_trouble && !have.log() {
        missing
            .push("the pull error (kubelet `Failed to pull image` event or the waiting message)");
    }
    push(
        IncidentFamily::ImagePull,
        &[
            "ErrImagePull / ImagePullBackOff waiting reasons and their message",
            "kubelet `Failed to pull image` events",
            "pull errors in text (containerd, docker, crictl)",
        ],
        missing,
    );
    let mut missing = Vec::new();
    if !have.pod_status() {
        missing.push("the pod's init container statuses");
    }
    if !have.log() {
        missing.push("the init container's log");
    }
    push(
        IncidentFamily::Init,
        &[
            "init container states, exit codes and restarts",
            "what the init container waits for (its command and log)",
        ],
        missing,
    );
    let mut missing = Vec::new();
    if !have.job {
        missing.push("the Job object");
    }
    if !have.any_events() {
        missing.push("job-controller events");
    }
    push(
        IncidentFamily::Job,
        &[
            "the Job's conditions (DeadlineExceeded, BackoffLimitExceeded)",
            "job-controller events",
        ],
        missing,
    );
    push(
        IncidentFamily::Build,
        &["Go toolchain and module errors in a CI step's log"],
        if have.log() {
            Vec::new()
        } else {
            vec!["a CI step's log"]
        },
    );
    let mut missing = Vec::new();
    if !have.pod_status() {
        missing.push("container statuses (last termination, exit code, restarts)");
    }
    if !have.any_events() {
        missing.push("the pod's events");
    }
    if !have.log() {
        missing.push("the container's log");
    }
    push(
        IncidentFamily::Runtime,
        &[
            "containers' last termination (OOMKilled, exit code) and restarts",
            "BackOff, Unhealthy and FailedMount events",
            "the container's log",
        ],
        missing,
    );
    out
}

/// The inputs that would settle it, most useful first, with commands for `subject`.
fn settle(have: &Inputs, subject: &ObjectRef, family: IncidentFamily) -> Vec<String> {
    let ns = subject.namespace.as_deref().unwrap_or("NAMESPACE");
    let pod = if subject.kind == "Pod" && subject.name != "unknown" {
        subject.name.as_str()
    } else {
        "POD"
    };
    let mut out = Vec::new();
    if let Some(tool) = &have.gave_up {
        out.push(tool.settle());
    }
    match have.text {
        Some(TextKind::DescribeWithoutEvents) => out.push(format!(
            "paste the whole `kubectl describe pod -n {ns} {pod}`: its Events section, where the scheduler and kubelet say why, is missing"
        )),
        _ if !have.any_events() => out.push(format!(
            "paste the pod's events: `kubectl get events -n {ns} --field-selector involvedObject.name={pod}` (or the whole `kubectl describe pod -n {ns} {pod}`)"
        )),
        _ => {}
    }
    if !have.pod_status() {
        out.push(format!(
            "paste the pod itself: `kubectl get pod -n {ns} {pod} -o json` (container states, exit codes, conditions)"
        ));
    }
    if !have.log() && family != IncidentFamily::Pending {
        out.push(format!(
            "the container's logs: `kubectl logs -n {ns} {pod} --all-containers --previous`"
        ));
    }
    if have.nodes == 0 && matches!(family, IncidentFamily::Pending | IncidentFamily::Runtime) {
        out.push(
            "add `--snapshot <(kubectl get nodes,pods,resourcequota,limitrange,pvc,pv,storageclass -A -o json)` for the cluster state".into(),
        );
    }
    out
}

/// What was searched for `incident`, seeing `cluster` (its document's and `--snapshot`'s).
pub fn searched(incident: &Incident, cluster: Option<&ClusterSnapshot>) -> Searched {
    let have = Inputs::of(incident, cluster);
    let mut families = families(&have);
    // The family intake guessed first: its search is the one the reader expects.
    families.sort_by_key(|f| f.family != incident.family);
    Searched {
        input: have.facts(),
        looked_for: Vec::new(),
        settle: settle(&have, &incident.subject, incident.family),
        families,
    }
}

/// `" To settle it, …."` with the first input that would settle it (empty when nothing is
/// missing).
fn settle_sentence(searched: &Searched) -> String {
    searched
        .settle
        .first()
        .map_or_else(String::new, |s| format!(" To settle it, {s}."))
}

/// Adds to a lead no rule backs (the `wording` function's) what an `unknown` answer says:
/// what was seen and searched, and in the summary the first input that would turn the lead
/// into a finding.
pub fn attach_to_lead(d: &mut Diagnosis, incident: &Incident, searched: &Searched) {
    d.evidence.extend(seen(incident));
    attach(d, searched);
    d.summary = format!(
        "No rule settled this. {}{}",
        d.summary,
        settle_sentence(searched)
    );
}

/// Adds `searched` to an `unknown` diagnosis: evidence lines and `details.searched`.
pub fn attach(d: &mut Diagnosis, searched: &Searched) {
    d.evidence
        .push(format!("input: {}", searched.input.join("; ")));
    if !searched.looked_for.is_empty() {
        d.evidence
            .push(format!("looked for: {}", searched.looked_for.join("; ")));
    }
    for f in &searched.families {
        let missing = if f.missing.is_empty() {
            "all present, none matched a known cause".to_owned()
        } else {
            format!("missing: {}", f.missing.join("; "))
        };
        d.evidence.push(format!(
            "searched {}: {} — {missing}",
            f.family,
            f.looked_for.join("; ")
        ));
    }
    for s in &searched.settle {
        d.evidence.push(format!("to settle it: {s}"));
    }
    let value = serde_json::to_value(searched).unwrap_or_default();
    match &mut d.details {
        serde_json::Value::Object(map) => {
            map.insert("searched".into(), value);
        }
        details => *details = serde_json::json!({ "searched": value }),
    }
}

/// The `unknown` diagnosis: nothing recognised; what was seen, what was searched, and what
/// would settle it.
pub fn unknown(incident: &Incident, cluster: Option<&ClusterSnapshot>) -> Diagnosis {
    let subject = Subject {
        kind: incident.subject.kind.clone(),
        namespace: incident.subject.namespace.clone(),
        name: incident.subject.name.clone(),
        container: None,
    };
    let searched = searched(incident, cluster);
    let next = settle_sentence(&searched);
    let mut d = Diagnosis::new(
        Class::UNKNOWN,
        0.1,
        format!(
            "No function recognised the cause of this {} incident; the evidence is what was seen and searched.{next}",
            incident.family
        ),
        subject,
    );
    d.evidence.extend(seen(incident));
    attach(&mut d, &searched);
    d.incident = Some(incident.key.clone());
    d
}

/// What was seen of `incident`, as evidence: its Warning events (up to eight), else the
/// first lines of its text, then the pod's phase.
fn seen(incident: &Incident) -> Vec<String> {
    let mut seen: Vec<String> = incident
        .events
        .iter()
        .filter(|e| e.ty == "Warning")
        .take(8)
        .map(|e| {
            format!(
                "{} {} (x{}): {}",
                e.ty,
                e.reason,
                e.count,
                e.clean_message()
            )
        })
        .collect();
    if seen.is_empty()
        && let Some(text) = &incident.text
    {
        seen.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(5)
                .map(|l| format!("\"{l}\"")),
        );
    }
    if let Some(pod) = &incident.pod
        && let Some(phase) = pod.status.as_ref().and_then(|s| s.phase.as_deref())
    {
        seen.push(format!("pod phase: {phase}"));
    }
    seen
}

/// The answer for a document in which nothing is stuck; `ignored` parts of it are counted,
/// since what could not be read may be what was stuck. `cluster` is what the document held.
pub fn nothing_stuck(input: &[u8], ignored: usize, cluster: &ClusterSnapshot) -> Diagnosis {
    let mut d = Diagnosis::new(
        Class::UNKNOWN,
        0.05,
        "Nothing in the input is stuck: no Pending or waiting pod, failed Job, or Warning event was found. \
If a pod is failing, paste its `kubectl describe pod` output (with the Events section) and its logs.",
        Subject {
            kind: "Input".into(),
            namespace: None,
            name: "document".into(),
            container: None,
        },
    );
    d.evidence.push(format!(
        "read a {} byte JSON document with no stuck objects",
        input.len()
    ));
    let mut phases: Vec<(String, usize)> = Vec::new();
    for pod in &cluster.pods {
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "no phase".into());
        match phases.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, n)) => *n += 1,
            None => phases.push((phase, 1)),
        }
    }
    let mut input_facts: Vec<String> = phases
        .iter()
        .map(|(p, n)| format!("{n} pod(s) {p}"))
        .collect();
    if input_facts.is_empty() {
        input_facts.push("no pods".into());
    }
    if ignored > 0 {
        d.evidence.push(format!(
            "{ignored} part(s) of the input could not be read and were ignored (listed below)"
        ));
        input_facts.push(format!("{ignored} unreadable part(s)"));
    }
    let searched = Searched {
        input: input_facts,
        looked_for: vec![
            "Pending pods",
            "containers waiting, crash-looping or restarting",
            "failed or stuck Jobs",
            "Warning events",
        ],
        families: Vec::new(),
        settle: vec![
            "if a pod restarts or is not Ready: paste `kubectl describe pod -n NAMESPACE POD` (with its Events) and `kubectl logs -n NAMESPACE POD --previous`".into(),
            "if the object you mean is not in this document: export it with `kubectl get pod,job -n NAMESPACE NAME -o json`".into(),
        ],
    };
    attach(&mut d, &searched);
    d
}

#[cfg(test)]
mod tests;
