//! Puts what the messages say and what the state shows together.
//!
//! The snapshot decides scheduling causes when it has nodes: a message that agrees raises
//! confidence; one that disagrees is kept only when it is newer than the snapshot (the
//! snapshot is then the stale side), and the evidence says which side was used and why.
//! Admission and autoscaler messages have no state counterpart beyond quota/LimitRange
//! arithmetic and pass through.

use chrono::{DateTime, Utc};
use lastmile_events::{Class, Incident, Remediation};
use serde_json::json;

use crate::fit::PodNeeds;
use crate::index::SnapshotIndex;
use crate::messages::admission::QuotaRejection;
use crate::messages::autoscaler::AutoscalerSignal;
use crate::messages::{Fact, Finding, fit_taints, merge, relate, scan};
use crate::remedy::{Workload, change_pod_spec, raise_quota};
use crate::state::{Cause, StateAnalysis, analyse, limit_range_causes, quota_causes};

/// Converts a k8s-openapi time to chrono.
pub fn to_chrono(
    t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(
        t.0.as_second(),
        u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0),
    )
}

/// Everything the messages of the incident say, merged by class.
pub fn message_findings(incident: &Incident) -> Vec<Finding> {
    let mut all = Vec::new();
    // The newest scheduling event is the scheduler's current opinion; older ones are history.
    let newest_sched = incident
        .events
        .iter()
        .filter(|e| e.reason.eq_ignore_ascii_case("FailedScheduling"))
        .filter_map(|e| e.last_time)
        .max();
    for e in &incident.events {
        let mut found = scan(e.clean_message());
        for f in &mut found {
            f.when = e.last_time.or(e.first_time);
            if e.reason.eq_ignore_ascii_case("FailedScheduling")
                && newest_sched.is_some_and(|n| e.last_time.is_some_and(|t| t < n))
            {
                f.confidence *= 0.8;
                f.summary
                    .push_str(" (an older event; a newer FailedScheduling says otherwise)");
            }
        }
        all.extend(found);
    }
    if let Some(pod) = &incident.pod {
        for c in pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
        {
            if c.type_ == "PodScheduled" && c.status == "False" {
                let msg = c.message.as_deref().unwrap_or("");
                let mut found = scan(msg);
                if c.reason.as_deref() == Some("SchedulingGated")
                    && !found.iter().any(|f| f.class == Class::Gated)
                {
                    found.extend(scan("SchedulingGated"));
                }
                for f in &mut found {
                    f.when = c.last_transition_time.as_ref().and_then(to_chrono);
                }
                all.extend(found);
            }
        }
    }
    if let Some(text) = incident.text.as_deref() {
        all.extend(scan(text));
        // A pasted table's rows carry ages, not times: the same judgement, read from them.
        let old = crate::messages::superseded::superseded(text);
        for f in all.iter_mut().filter(|f| old.contains(&f.class)) {
            f.confidence *= 0.8;
            f.summary
                .push_str(" (only older FailedScheduling rows say so; the newest says otherwise)");
        }
    }
    let mut merged = merge(all);
    if owned_by_daemonset(incident)
        || incident
            .text
            .as_deref()
            .is_some_and(|t| relate::daemonset_pod(&t.to_ascii_lowercase()))
    {
        relate::daemonset_fit(&mut merged);
    }
    merged
}

/// True when the incident's pod is controlled by a DaemonSet.
fn owned_by_daemonset(incident: &Incident) -> bool {
    incident
        .pod
        .as_ref()
        .and_then(|p| p.metadata.owner_references.as_ref())
        .is_some_and(|refs| {
            refs.iter()
                .any(|o| o.controller == Some(true) && o.kind == "DaemonSet")
        })
}

fn is_scheduling(class: &Class) -> bool {
    class.as_str().starts_with("scheduling.")
}

/// Turns a message-only finding into a cause with the remediation its facts allow.
pub fn finding_to_cause(f: &Finding, w: &Workload, needs: Option<&PodNeeds<'_>>) -> Cause {
    let mut c = Cause {
        class: f.class.clone(),
        confidence: f.confidence,
        summary: f.summary.clone(),
        evidence: vec![format!("\"{}\"", f.quote)],
        remediation: Vec::new(),
        definitive: f.definitive,
        details: serde_json::Value::Null,
    };
    match (&f.fact, &f.class) {
        (Fact::Fit(fit), Class::UntoleratedTaint) => {
            let named = fit_taints(fit);
            let condition = named.iter().find(|(k, _)| k.starts_with("node.kubernetes.io/")).map(|(k, _)| k.clone());
            if let Some(k) = condition {
                c.summary.push_str(&format!(" — {k} is a condition taint: the node is unhealthy"));
                c.remediation.push(Remediation {
                    description: format!("fix the node instead of tolerating {k}: check kubelet, container runtime, CNI and disk"),
                    command: Some("kubectl get nodes -o wide && kubectl describe nodes | grep -A6 -E '^(Taints|Conditions):'".into()),
                });
            } else if let Some((k, v)) = named.iter().find(|(k, _)| !crate::messages::reasons::is_control_plane_taint(k) || named.len() == 1).cloned() {
                let tol = if v.is_empty() {
                    json!({"key": k, "operator": "Exists", "effect": "NoSchedule"})
                } else {
                    json!({"key": k, "operator": "Equal", "value": v, "effect": "NoSchedule"})
                };
                let mut all: Vec<serde_json::Value> =
                    needs.map(|n| n.spec.tolerations.iter().flatten().filter_map(|t| serde_json::to_value(t).ok()).collect()).unwrap_or_default();
                all.push(tol.clone());
                let jq = format!(".tolerations = ((.tolerations // []) + [{tol}])");
                c.remediation.push(change_pod_spec(w, &format!("add toleration {tol} (check the taint's effect with kubectl describe nodes; NoExecute needs effect NoExecute)"), json!({"tolerations": all}), &jq));
                if crate::messages::reasons::is_control_plane_taint(&k) {
                    c.remediation.push(Remediation {
                        description: "on a single-node (kind/CI) cluster, remove the control-plane taint instead".into(),
                        command: Some(format!("kubectl taint nodes --all {k}:NoSchedule-")),
                    });
                }
            } else {
                c.remediation.push(Remediation { description: "find which taint blocks the pod and add a matching toleration, or fix the node if it is a condition taint (not-ready, disk-pressure)".into(), command: Some("kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints".into()) });
            }
        }
        (Fact::NodeTaints(taints), _) => {
            let names: Vec<String> = taints.iter().map(|(k, v, e)| crate::selectors::taint_shown(k, v, e)).collect();
            c.remediation.push(Remediation {
                description: format!("for condition taints ({}) fix the node (CNI, kubelet, disk); for others add a toleration or remove the taint", names.join(", ")),
                command: Some("kubectl get nodes -o wide && kubectl describe nodes | grep -A3 -i -E 'taints|conditions'".into()),
            });
        }
        (_, Class::InsufficientResources) => {
            c.remediation.push(Remediation {
                description: "compare the pod's requests with the nodes' free allocatable capacity; lower the requests (watch units: 500 cpu is 500 cores, 500m is half a core) or add capacity".into(),
                command: Some(format!("kubectl get {}/{} -n {} -o jsonpath='{{..resources}}' && kubectl describe nodes | grep -A8 'Allocated resources'", w.kind.to_lowercase(), w.name, w.namespace)),
            });
        }
        (_, Class::NodeAffinity) => c.remediation.push(Remediation {
            description: "compare the pod's nodeSelector/affinity with the node labels; fix the selector or label the nodes".into(),
            command: Some("kubectl get nodes --show-labels".into()),
        }),
        (_, Class::UnschedulableNodes) => c.remediation.push(Remediation {
            description: "uncordon the nodes once maintenance is over".into(),
            command: Some("kubectl get nodes | grep SchedulingDisabled".into()),
        }),
        (_, Class::VolumeBinding) => c.remediation.push(Remediation {
            description: "check the claims: their StorageClass must exist, and a zonal volume needs a node in its zone (prefer WaitForFirstConsumer binding)".into(),
            command: Some(format!("kubectl get pvc -n {} && kubectl get storageclass", w.namespace)),
        }),
        (_, Class::PodAffinity) => c.remediation.push(Remediation {
            description: "relax required (anti-)affinity / topology spread, or add nodes in the needed topology domains".into(),
            command: None,
        }),
        (_, Class::HostPorts) => c.remediation.push(Remediation { description: "drop the hostPort or make sure at most one such pod runs per node".into(), command: None }),
        (_, Class::Gated) => c.remediation.push(Remediation {
            description: "the controller that added the gate (e.g. Kueue) must remove it; check why it has not".into(),
            command: Some(format!("kubectl get pods -n {} -o custom-columns=NAME:.metadata.name,GATES:.spec.schedulingGates", w.namespace)),
        }),
        (_, Class::NoNodes) => c.remediation.push(Remediation { description: "add nodes or check the node pool / autoscaler".into(), command: Some("kubectl get nodes".into()) }),
        (Fact::Quota(QuotaRejection::Exceeded { quota, items }), _) => {
            for i in items {
                if let (Some(req), Some(used)) = (i.requested, i.used) {
                    c.remediation.push(raise_quota(&w.namespace, quota, &i.resource, &(used + req).display_for(&i.resource)));
                }
            }
            c.remediation.push(Remediation {
                description: "or free quota: finished or stuck Terminating pods still count against it".into(),
                command: Some(format!("kubectl describe resourcequota {quota} -n {}", w.namespace)),
            });
        }
        (Fact::Quota(QuotaRejection::MustSpecify { quota, resources, containers }), _) => {
            c.remediation.push(Remediation {
                description: "set requests and limits for the listed resources on every container (or add a LimitRange with defaults)".into(),
                command: Some(format!("kubectl set resources {}/{} -n {} --requests=cpu=100m,memory=128Mi --limits=cpu=500m,memory=512Mi", w.kind.to_lowercase(), w.name, w.namespace)),
            });
            let who = if containers.is_empty() { vec!["*".to_owned()] } else { containers.clone() };
            let missing: Vec<(String, String)> = resources.iter().flat_map(|r| who.iter().map(move |c| (r.clone(), c.clone()))).collect();
            crate::provenance::must_specify(&mut c, quota.as_deref(), &missing, w);
        }
        (_, Class::QuotaExceeded) => c.remediation.push(Remediation { description: "inspect the namespace's quotas".into(), command: Some(format!("kubectl describe resourcequota -n {}", w.namespace)) }),
        (_, Class::LimitRange) => c.remediation.push(Remediation {
            description: "fit each container's requests/limits within the LimitRange (a request above the defaulted limit needs an explicit limit)".into(),
            command: Some(format!("kubectl describe limitrange -n {}", w.namespace)),
        }),
        (Fact::Policy(p), _) if p.by == crate::messages::admission::KUBELET_NODE_ADMISSION => c.remediation.push(Remediation {
            description: "the node's kubelet refuses the pod itself: drop the unsafe sysctl from securityContext.sysctls (set it on the nodes or in a privileged init container instead) or allow it on those kubelets (--allowed-unsafe-sysctls / allowedUnsafeSysctls); for AppArmor, load the profile on the node or change the pod's profile".into(),
            command: Some(format!("kubectl get {}/{} -n {} -o yaml | grep -n -A3 -E 'sysctls|appArmor'", w.kind.to_lowercase(), w.name, w.namespace)),
        }),
        (Fact::Policy(p), _) => c.remediation.push(Remediation {
            description: if p.unreachable {
                format!("{} is down or unreachable; restore it (or its failurePolicy) — the pod itself may be fine", p.by)
            } else {
                format!("change the pod to satisfy {} (the denial text says which field), or get an exception", p.by)
            },
            command: Some("kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations".into()),
        }),
        (Fact::Autoscaler(AutoscalerSignal::NoScaleUp { by, at_limit, pools, reasons, .. }), _) => c.remediation.push(Remediation {
            description: if *at_limit {
                format!("raise the max size / limits of the node group or NodePool {} used by {by}", pools.join(", "))
            } else if reasons.iter().any(|(_, r)| r == crate::messages::autoscaler::CLOUD_STOCKOUT) {
                format!("the cloud had no capacity for the instance types {by} asked for: allow more instance types, zones or capacity types (on-demand beside spot), reserve capacity, or retry later")
            } else if reasons.iter().any(|(_, r)| r.contains("DaemonSet overhead")) {
                format!("no instance type {by} may launch fits the pod once the DaemonSets' requests (and kubelet/system reserved) are counted: allow larger instance types, lower the pod's or the DaemonSets' requests, or keep DaemonSets off those nodes")
            } else {
                format!("make the pod fit a node group {by} can launch (requests, selectors, tolerations), or add such a group")
            },
            command: Some(if *by == "karpenter" { "kubectl get nodepools -o yaml".into() } else { "kubectl -n kube-system get configmap cluster-autoscaler-status -o yaml".into() }),
        }),
        _ => {}
    }
    c
}

/// The whole decision for one incident.
pub fn decide(
    incident: &Incident,
    index: Option<&SnapshotIndex<'_>>,
) -> (Vec<Cause>, Option<StateAnalysis>) {
    let w = match (&incident.owner, &incident.pod) {
        (None, Some(pod)) => Workload::from_pod_owner(pod)
            .unwrap_or_else(|| Workload::from_refs(&incident.subject, None)),
        _ => Workload::from_refs(&incident.subject, incident.owner.as_ref()),
    };
    let findings = message_findings(incident);
    let job_spec = incident
        .job
        .as_ref()
        .and_then(|j| j.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref());
    let needs = match (&incident.pod, job_spec) {
        (Some(pod), _) if pod.spec.is_some() => PodNeeds::from_pod(pod, index),
        (_, Some(spec)) => {
            let job = incident.job.as_deref();
            let ns = job
                .and_then(|j| j.metadata.namespace.as_deref())
                .or(incident.subject.namespace.as_deref())
                .unwrap_or("default");
            let name = job
                .and_then(|j| j.metadata.name.as_deref())
                .unwrap_or(&incident.subject.name);
            let labels = incident
                .job
                .as_ref()
                .and_then(|j| j.spec.as_ref()?.template.metadata.as_ref()?.labels.clone())
                .unwrap_or_default();
            Some(PodNeeds::new(ns, name, labels, spec, index))
        }
        _ => None,
    };
    let mut causes: Vec<Cause> = Vec::new();
    let mut analysis = None;
    if let (Some(needs), Some(index)) = (needs.as_ref(), index) {
        let a = analyse(needs, index, &w);
        let pod_created = incident.pod.as_deref().is_some_and(|p| p.spec.is_some());
        let admission_failed = incident
            .events
            .iter()
            .any(|e| e.reason.eq_ignore_ascii_case("FailedCreate"));
        if !pod_created || admission_failed {
            causes.extend(quota_causes(needs, &index.quotas(&needs.namespace), &w));
            causes.extend(limit_range_causes(needs, index));
        }
        causes.extend(a.causes.iter().cloned());
        analysis = Some(a);
    }
    let taken = index.and_then(|i| i.snapshot.taken_at);
    let nodes_analysed = analysis.as_ref().is_some_and(|a| a.nodes > 0) && needs.is_some();
    for f in &findings {
        if let Some(existing) = causes.iter_mut().find(|c| c.class == f.class) {
            existing.confidence = (existing.confidence + 0.03).min(0.98);
            existing
                .evidence
                .push(format!("the message agrees: \"{}\"", f.quote));
            continue;
        }
        if nodes_analysed && is_scheduling(&f.class) {
            let a = analysis
                .as_ref()
                .map(|a| (a.fitting, a.nodes))
                .unwrap_or_default();
            let event_newer = matches!((f.when, taken), (Some(e), Some(s)) if e > s);
            let mut c = finding_to_cause(f, &w, needs.as_ref());
            c.details = json!({
                "disagreement": {
                    "source_used": if event_newer { "message" } else { "snapshot" },
                    "why": if event_newer { "the message is newer than the snapshot" } else { "the snapshot is newer than the message (or the message has no time)" },
                    "message_last_seen": f.when.map(|t| t.to_rfc3339()),
                    "snapshot_taken": taken.map(|t| t.to_rfc3339()),
                    "nodes_fitting_in_snapshot": a.0,
                    "nodes_in_snapshot": a.1,
                }
            });
            if event_newer {
                c.evidence.push(format!(
                    "the snapshot (taken {}) is older than this message (last seen {}): using the message, the snapshot may miss recent changes",
                    taken.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    f.when.map(|t| t.to_rfc3339()).unwrap_or_default()
                ));
            } else {
                c.confidence *= 0.45;
                c.definitive = false;
                let state = if a.0 > 0 {
                    format!("the pod fits {} of {} nodes now", a.0, a.1)
                } else {
                    format!("no node is blocked by {}", f.class)
                };
                c.summary = format!(
                    "stale message: {} — but the snapshot disagrees ({state})",
                    c.summary
                );
                c.evidence.push(format!(
                    "using the snapshot{}, not the message{}: the snapshot is the newer view (capacity or nodes changed since)",
                    taken.map(|t| format!(" (taken {})", t.to_rfc3339())).unwrap_or_default(),
                    f.when.map(|t| format!(" (last seen {})", t.to_rfc3339())).unwrap_or_default()
                ));
                if a.0 > 0 {
                    c.remediation.insert(0, Remediation { description: "nothing to change if the pod schedules on the next attempt; the scheduler retries unschedulable pods within minutes".into(), command: Some(format!("kubectl get pod -n {} -w", w.namespace)) });
                }
            }
            causes.push(c);
            continue;
        }
        causes.push(finding_to_cause(f, &w, needs.as_ref()));
    }
    if let (Some(needs), Some(index)) = (needs.as_ref(), index) {
        let origins = crate::provenance::origins(incident, needs, index);
        crate::provenance::annotate(&mut causes, &origins, &w);
    }
    causes.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    (causes, analysis)
}
