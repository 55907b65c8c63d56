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

/// Roll the workload back to its previous template.
pub(crate) fn rollback(t: &Target) -> Remediation {
    step(
        "If the previous version worked, roll back while the cause is fixed.",
        format!("kubectl rollout undo{} {}", t.ns(), t.workload()),
    )
}

#[cfg(test)]
mod tests {
    use lastmile_events::{IncidentFamily, ObjectRef};

    use super::*;

    fn target(kind: &str, name: &str) -> Target {
        let subject = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "p".into(),
            ..Default::default()
        };
        let owner = ObjectRef {
            kind: kind.into(),
            name: name.into(),
            ..Default::default()
        };
        Target::of(&Incident::new(
            IncidentFamily::Runtime,
            subject,
            Some(owner),
            chrono::DateTime::UNIX_EPOCH,
        ))
    }

    #[test]
    fn a_replicasets_deployment_is_its_name_without_the_template_hash() {
        assert_eq!(
            target("ReplicaSet", "api-7c9b6d8f45").workload(),
            "deployment/api"
        );
        assert_eq!(target("StatefulSet", "db").workload(), "statefulset/db");
        // Not a hash: no guess.
        assert_eq!(
            target("ReplicaSet", "api-v1").workload(),
            "deployment/<name>"
        );
        assert_eq!(target("Job", "migrate").workload(), "deployment/<name>");
    }
}
