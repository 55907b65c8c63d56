//! How to confirm a lead: the command that shows the fact a rule would have needed.

use lastmile_events::{Class, Remediation, Subject};

/// The steps that would confirm (or refute) `class` for `subject`.
pub fn steps(class: &Class, subject: &Subject) -> Vec<Remediation> {
    let pod = named(subject, "Pod");
    let (description, command) = match class.family() {
        "scheduling" | "admission" => (
            "Read the scheduler's or admission's own message in the pod's events, and re-run `lastmile explain` on it with `--snapshot` (nodes, quotas, LimitRanges, PVCs).",
            format!("kubectl describe pod {pod}"),
        ),
        "scaling" => (
            "Read the autoscaler's decision for the pending pod (its events), then its status.",
            format!(
                "kubectl describe pod {pod}; kubectl -n kube-system describe configmap cluster-autoscaler-status"
            ),
        ),
        "image" => (
            "Read the registry's answer the kubelet quoted in the pod's Failed event.",
            format!("kubectl describe pod {pod}"),
        ),
        "init" | "runtime" => (
            "Read the container's last output and the pod's events: they name what it waits for or why it exits.",
            format!("kubectl logs {pod} --all-containers --previous"),
        ),
        "job" => (
            "Read the Job's conditions and its pods' events.",
            format!("kubectl describe job {}", named(subject, "Job")),
        ),
        "build" => (
            "Check the module graph and go.sum the build used, in a clean checkout of the same commit.",
            "go mod verify && go build -mod=readonly ./...".to_owned(),
        ),
        _ => return Vec::new(),
    };
    vec![Remediation {
        description: description.to_owned(),
        command: Some(command),
    }]
}

/// `name -n ns` when the subject is a `kind` with a name, else a placeholder (`<pod>`) so
/// the command reads as a template rather than naming the wrong object.
fn named(subject: &Subject, kind: &str) -> String {
    if subject.kind != kind || subject.name.is_empty() || subject.name == "unknown" {
        return format!("<{}>", kind.to_lowercase());
    }
    match &subject.namespace {
        Some(ns) => format!("{} -n {ns}", subject.name),
        None => subject.name.clone(),
    }
}
