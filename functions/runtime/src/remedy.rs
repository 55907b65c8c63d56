//! Remediation steps as kubectl commands lastmile never runs itself. Values a person must
//! supply are `<placeholders>`; secret values are never written into a command.

use lastmile_events::{Incident, Remediation};

/// Where commands point: the namespace flag and the object that owns the pod template
/// (`deployment/api`), or the pod itself when no workload is known.
pub(crate) struct Target {
    ns: String,
    pod: String,
    workload: Option<String>,
}

impl Target {
    /// The target for an incident.
    pub fn of(incident: &Incident) -> Self {
        let ns = incident
            .subject
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        let pod = if incident.subject.name.is_empty() || incident.subject.name == "unknown" {
            "<pod>".to_owned()
        } else {
            incident.subject.name.clone()
        };
        let workload = incident.owner.as_ref().and_then(|o| match o.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" => {
                Some(format!("{}/{}", o.kind.to_lowercase(), o.name))
            }
            // Pasted describe text names the ReplicaSet (`api-7c9b6d8f45`); its Deployment
            // is the name without the pod-template hash.
            "ReplicaSet" => o
                .name
                .rsplit_once('-')
                .filter(|(_, hash)| template_hash(hash))
                .map(|(deployment, _)| format!("deployment/{deployment}")),
            _ => None,
        });
        Self { ns, pod, workload }
    }

    /// ` -n ns` or empty.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// The namespace, or `<namespace>`.
    pub fn namespace(&self) -> &str {
        self.ns.strip_prefix(" -n ").unwrap_or("<namespace>")
    }

    /// `deployment/api`, or `deployment/<name>` when the owner is unknown.
    pub fn workload(&self) -> &str {
        self.workload.as_deref().unwrap_or("deployment/<name>")
    }

    /// `pod/NAME`.
    pub fn pod(&self) -> String {
        format!("pod/{}", self.pod)
    }
}

/// True for a pod-template hash: 6 to 10 characters of the controller's alphabet.
fn template_hash(s: &str) -> bool {
    (6..=10).contains(&s.len())
        && s.bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
}

/// A step with a command.
pub(crate) fn step(description: impl Into<String>, command: impl Into<String>) -> Remediation {
    Remediation {
        description: description.into(),
        command: Some(command.into()),
    }
}

/// A step without a command.
pub(crate) fn advice(description: impl Into<String>) -> Remediation {
    Remediation {
        description: description.into(),
        command: None,
    }
}

/// Read the output of the last failed run.
pub(crate) fn previous_logs(t: &Target, container: Option<&str>) -> Remediation {
    let c = container.map(|c| format!(" -c {c}")).unwrap_or_default();
    step(
        "Read the last lines the container printed before it exited.",
        format!("kubectl logs{} {}{c} --previous --tail=50", t.ns(), t.pod()),
    )
}

/// Read what the app logs now (it runs, but does not answer its probe).
pub(crate) fn current_logs(t: &Target, container: Option<&str>) -> Remediation {
    let c = container.map(|c| format!(" -c {c}")).unwrap_or_default();
    step(
        "Read what the app logs while its probe fails (start-up progress, the port it listens on).",
        format!("kubectl logs{} {}{c} --tail=50", t.ns(), t.pod()),
    )
}

/// Describe the pod: its events say what the kubelet tried.
pub(crate) fn describe(t: &Target) -> Remediation {
    step(
        "See the pod's events and container states.",
        format!("kubectl describe{} {}", t.ns(), t.pod()),
    )
}

/// Change LimitRange `name`'s Container default for `resource` to `value` (a JSON patch
/// of the one item that has the default), when the snapshot shows the LimitRange.
pub(crate) fn limit_range_default(
    t: &Target,
    snapshot: &lastmile_events::ClusterSnapshot,
    name: &str,
    resource: &str,
    value: &str,
) -> Option<Remediation> {
    let lr = snapshot
        .limit_ranges
        .iter()
        .find(|lr| lr.metadata.name.as_deref() == Some(name))?;
    let index = lr.spec.as_ref()?.limits.iter().position(|l| {
        l.type_ == "Container" && l.default.as_ref().is_some_and(|d| d.contains_key(resource))
    })?;
    Some(step(
        format!(
            "Or raise the default in LimitRange {name}: every container of the namespace that sets no {resource} limit gets it."
        ),
        format!(
            "kubectl patch limitrange {name}{} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/limits/{index}/default/{resource}\",\"value\":\"{value}\"}}]'",
            t.ns()
        ),
    ))
}

/// Roll the workload back to its previous template.
pub(crate) fn rollback(t: &Target) -> Remediation {
    step(
        "If the previous version worked, roll back while the cause is fixed.",
        format!("kubectl rollout undo{} {}", t.ns(), t.workload()),
    )
}

#[cfg(test)]
mod tests;
