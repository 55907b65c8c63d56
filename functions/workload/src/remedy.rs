//! Remediation steps: ready-to-run commands lastmile never runs itself.

use lastmile_events::{Remediation, Subject};

use crate::deps::Dependency;

fn ns_flag(subject: &Subject) -> String {
    subject
        .namespace
        .as_deref()
        .map(|ns| format!(" -n {ns}"))
        .unwrap_or_default()
}

/// The object's name for a command; a placeholder when intake could not tell (pasted text
/// without a `Name:` header), so the command reads as a template rather than a wrong name.
fn name(subject: &Subject) -> String {
    if subject.name.is_empty() || subject.name == "unknown" {
        format!("<{}>", subject.kind.to_lowercase())
    } else {
        subject.name.clone()
    }
}

fn step(description: impl Into<String>, command: impl Into<String>) -> Remediation {
    Remediation {
        description: description.into(),
        command: Some(command.into()),
    }
}

/// Read the init container's own output: it says what it waits for or why it fails.
pub(crate) fn init_logs(subject: &Subject, container: &str, previous: bool) -> Remediation {
    let prev = if previous { " --previous" } else { "" };
    step(
        if previous {
            "Read the output of the last failed run of the init container."
        } else {
            "Read what the init container is printing while it waits."
        },
        format!(
            "kubectl logs{} pod/{} -c {container}{prev} --tail=50",
            ns_flag(subject),
            name(subject)
        ),
    )
}

/// List the namespace's Jobs and their events: the Job a wait depends on must exist and
/// complete.
pub(crate) fn awaited_jobs(subject: &Subject) -> Remediation {
    let ns = ns_flag(subject);
    step(
        "Check that the Job the pods wait on exists and completes: a Helm hook Job is not created by `helm template`, `--no-hooks`, or a GitOps tool that skips hooks; run its work by hand once if it never ran.",
        format!(
            "kubectl get jobs{ns} && kubectl get events{ns} --field-selector involvedObject.kind=Job"
        ),
    )
}

/// Describe the pod: its events name the missing ConfigMap, Secret or volume.
pub(crate) fn describe_pod(subject: &Subject) -> Remediation {
    step(
        "See which ConfigMap, Secret or volume the container is missing.",
        format!("kubectl describe pod{} {}", ns_flag(subject), name(subject)),
    )
}

/// Check that the dependency exists and has ready endpoints.
pub(crate) fn check_dependency(subject: &Subject, dep: &Dependency) -> Remediation {
    let ns = dep
        .namespace()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_else(|| ns_flag(subject));
    let svc = dep.service();
    step(
        format!(
            "Check that Service `{svc}` exists and has ready endpoints; the init container cannot finish until it answers{}.",
            dep.port
                .map(|p| format!(" on port {p}"))
                .unwrap_or_default()
        ),
        format!(
            "kubectl get service{ns} {svc} && kubectl get endpointslices{ns} -l kubernetes.io/service-name={svc}"
        ),
    )
}

/// Short names resolve only through the pod's search path; the FQDN always does.
pub(crate) fn use_fqdn(name: &str) -> Remediation {
    let mut parts = name.split('.');
    let svc = parts.next().unwrap_or(name);
    let ns = parts.next().unwrap_or("<namespace>");
    Remediation {
        description: format!(
            "`{name}` did not resolve. Use the fully qualified name `{svc}.{ns}.svc.cluster.local` in the init container's command (busybox's resolver does not walk the search path reliably)."
        ),
        command: None,
    }
}

/// Grant the service account read access a wait-for container needs.
pub(crate) fn grant_read(namespace: &str, account: &str, resource: &str) -> Remediation {
    step(
        format!(
            "Let service account `{namespace}:{account}` read {resource}, which the waiting container polls."
        ),
        format!(
            "kubectl create role lastmile-wait-for -n {namespace} --verb=get,list,watch --resource={resource} && kubectl create rolebinding lastmile-wait-for -n {namespace} --role=lastmile-wait-for --serviceaccount={namespace}:{account}"
        ),
    )
}

/// Inspect a Job's spec, status and conditions.
pub(crate) fn inspect_job(subject: &Subject) -> Remediation {
    step(
        "Inspect the Job's spec and status (deadline, backoffLimit, conditions, start time).",
        format!(
            "kubectl get job{} {} -o yaml",
            ns_flag(subject),
            name(subject)
        ),
    )
}

/// Read a queued Job's Kueue Workload: its conditions say why it is not admitted, its
/// ClusterQueue how much quota is used.
pub(crate) fn inspect_workload(subject: &Subject, workload: &str) -> Remediation {
    step(
        "Read why Kueue has not admitted the Job's Workload, then the quota and usage of its ClusterQueue (`kubectl get clusterqueue -o wide`).",
        format!("kubectl describe workload{} {workload}", ns_flag(subject)),
    )
}

/// Resume a suspended Job.
pub(crate) fn resume_job(subject: &Subject) -> Remediation {
    step(
        "Resume the Job once nothing should hold it (a queueing controller may suspend it again).",
        format!(
            "kubectl patch job{} {} --type=merge -p '{{\"spec\":{{\"suspend\":false}}}}'",
            ns_flag(subject),
            name(subject)
        ),
    )
}

/// Read the logs of a Job's pods.
pub(crate) fn job_logs(subject: &Subject) -> Remediation {
    step(
        "Read the logs of the Job's pods to see why they failed (while the pods still exist).",
        format!(
            "kubectl logs{} -l batch.kubernetes.io/job-name={} --all-containers --prefix --tail=50",
            ns_flag(subject),
            name(subject)
        ),
    )
}

/// A Job that failed cannot be resumed: fix the manifest and create it again.
pub(crate) fn recreate_job(subject: &Subject, what: &str) -> Remediation {
    step(
        format!(
            "{what} in the Job manifest, then delete the failed Job and create it again (a failed Job never restarts)."
        ),
        format!(
            "kubectl delete job{} {} && kubectl apply -f <job-manifest.yaml>",
            ns_flag(subject),
            name(subject)
        ),
    )
}

/// Let a sidecar that outlives the main container stop with it, so the pod (and its Job)
/// can finish.
pub(crate) fn end_sidecar() -> Remediation {
    Remediation {
        description: "Run the sidecar as a native sidecar (an init container with restartPolicy: Always, Kubernetes 1.28+), or have the main container tell it to quit when done (istio: POST localhost:15020/quitquitquit; linkerd: POST localhost:4191/shutdown), or disable injection for the Job's pods.".into(),
        command: None,
    }
}
