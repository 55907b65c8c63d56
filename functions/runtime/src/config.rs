//! `runtime.config_missing`: CreateContainerConfigError — a Secret, ConfigMap or key the
//! container's env refers to does not exist. Checked against the cluster when the snapshot
//! has ConfigMap/Secret names: the object in another namespace, the key spelled
//! differently, the object created after the pod. Never a value: only names and keys.

use std::sync::LazyLock;

use k8s_openapi::api::core::v1::Pod;
use lastmile_events::{Class, ClusterSnapshot, ConfigObject, Diagnosis, Incident};
use regex::Regex;

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote, re};

/// `secret "db" not found`, `secrets "db" not found`, `configmap "app" not found`.
static NOT_FOUND: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\b(secret|configmap)s?\s+\\?"([^"\\]+)\\?"\s+not found"#));
/// `couldn't find key VALUE in Secret default/app`.
static NO_KEY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)couldn't find key\s+(\S+)\s+in\s+(secret|configmap)\s+(?:([a-z0-9.-]+)/)?([a-z0-9.-]+)",
    )
});

/// The reference that could not be resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Missing {
    /// `Secret` or `ConfigMap`.
    pub kind: &'static str,
    pub name: String,
    /// The namespace the message names (key errors do), else the pod's.
    pub namespace: Option<String>,
    /// The key, when the object exists but the key does not.
    pub key: Option<String>,
    /// The line that said so.
    pub line: String,
}

fn kind_of(word: &str) -> &'static str {
    if word.eq_ignore_ascii_case("secret") {
        "Secret"
    } else {
        "ConfigMap"
    }
}

/// The missing reference in one line, if it names one.
pub(crate) fn missing_in(line: &str) -> Option<Missing> {
    if let Some(c) = NO_KEY.captures(line) {
        return Some(Missing {
            kind: kind_of(c.get(2)?.as_str()),
            name: c.get(4)?.as_str().to_owned(),
            namespace: c.get(3).map(|m| m.as_str().to_owned()),
            key: Some(c.get(1)?.as_str().to_owned()),
            line: line.trim().to_owned(),
        });
    }
    let c = NOT_FOUND.captures(line)?;
    Some(Missing {
        kind: kind_of(c.get(1)?.as_str()),
        name: c.get(2)?.as_str().to_owned(),
        namespace: None,
        key: None,
        line: line.trim().to_owned(),
    })
}

/// True for lines about volumes (those are `runtime.mount_failed`).
pub(crate) fn is_volume_line(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("mountvolume") || l.contains("failedmount") || l.contains("volume \"")
}

/// The config diagnosis, when the container cannot be created for a missing reference.
pub(crate) fn diagnose(
    f: &Facts,
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    t: &Target,
) -> Option<Found> {
    let config_error = f.waiting_reason() == Some("CreateContainerConfigError")
        || f.mentions("createcontainerconfigerror");
    let missing = f
        .waiting
        .iter()
        .map(|(_, m)| m.as_str())
        .chain(f.lines.iter().map(String::as_str))
        .filter(|l| !is_volume_line(l))
        .find_map(missing_in);
    if missing.is_none() && !config_error {
        return None;
    }
    // A whole missing Secret beside a failing pull, with no CreateContainerConfigError: the
    // pod's image pull secret does not exist, which the image-pull function diagnoses.
    let pulling = ["imagepullbackoff", "errimagepull", "back-off pulling image"]
        .iter()
        .any(|w| f.mentions(w));
    if !config_error
        && pulling
        && missing
            .as_ref()
            .is_some_and(|m| m.kind == "Secret" && m.key.is_none())
    {
        return None;
    }
    // CreateContainerConfigError has other causes, which other rules name: a root image
    // under runAsNonRoot, a subPath whose directory is missing.
    if missing.is_none() && (f.mentions("runasnonroot") || f.mentions("no such file or directory"))
    {
        return None;
    }
    let c = f.container.as_deref();
    let who = c
        .map(|c| format!("Container `{c}`"))
        .unwrap_or_else(|| "The container".into());
    let mut evidence = Vec::new();
    if let Some((r, m)) = f.waiting.as_ref().filter(|(r, _)| !r.is_empty()) {
        evidence.push(format!(
            "waiting: {r}{}",
            if m.is_empty() {
                String::new()
            } else {
                format!(": {}", quote(m))
            }
        ));
    }
    let Some(m) = missing else {
        let mut d = Diagnosis::new(
            Class::RUNTIME_CONFIG_MISSING,
            0.7,
            format!(
                "{who} cannot be created (CreateContainerConfigError): a Secret, ConfigMap or key its env refers to is missing; the pod's events name it."
            ),
            Default::default(),
        );
        d.remediation = vec![remedy::describe(t)];
        return Some(Found::new(d, c, evidence));
    };
    evidence.push(format!("the kubelet said: {}", quote(&m.line)));
    let ns = m
        .namespace
        .clone()
        .or_else(|| incident.subject.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let keys = referenced_keys(incident.pod.as_deref(), m.kind, &m.name);
    if let Some(p) = incident.pod.as_deref() {
        for (var, key) in env_refs(p, m.kind, &m.name) {
            evidence.push(format!(
                "env {var} is set from key `{key}` of {} {}",
                m.kind, m.name
            ));
        }
    }
    let check = Check::against(snapshot, &m, &ns, incident);
    evidence.extend(check.evidence.iter().cloned());
    let what = match &m.key {
        Some(k) => format!("key `{k}` of {} {ns}/{}", m.kind, m.name),
        None => format!("{} {ns}/{}", m.kind, m.name),
    };
    let mut remediation = check.remediation(&m, &ns, &keys, t);
    remediation.push(remedy::step(
        "Once it exists, the kubelet creates the container on its next retry; restart the pod to retry at once.",
        format!("kubectl delete{} {}", t.ns(), t.pod()),
    ));
    Some(Found::of(
        Class::RUNTIME_CONFIG_MISSING,
        0.92,
        format!(
            "{who} cannot be created: {what} does not exist{}.",
            check.verdict
        ),
        remediation,
        c,
        evidence,
    ))
}

/// What the snapshot says about the missing object.
struct Check<'a> {
    elsewhere: Vec<&'a ConfigObject>,
    here: Option<&'a ConfigObject>,
    similar_key: Option<String>,
    verdict: String,
    evidence: Vec<String>,
}

impl<'a> Check<'a> {
    fn against(s: &'a ClusterSnapshot, m: &Missing, ns: &str, incident: &Incident) -> Self {
        let same = |o: &&ConfigObject| o.kind == m.kind && o.name == m.name;
        let here = s.configs.iter().filter(same).find(|o| o.namespace == ns);
        let elsewhere: Vec<&ConfigObject> = s
            .configs
            .iter()
            .filter(same)
            .filter(|o| o.namespace != ns)
            .collect();
        let mut check = Check {
            elsewhere,
            here,
            similar_key: None,
            verdict: String::new(),
            evidence: Vec::new(),
        };
        if s.configs.is_empty() {
            check.evidence.push(
                "no ConfigMap/Secret names were in the snapshot: checked from the message alone"
                    .into(),
            );
            return check;
        }
        match (here, &m.key) {
            (Some(obj), Some(key)) => {
                check.evidence.push(format!(
                    "{} {ns}/{} has keys: {}",
                    m.kind,
                    m.name,
                    obj.keys.join(", ")
                ));
                if let Some(k) = obj.keys.iter().find(|k| same_key(k, key)) {
                    check.verdict = format!(" (it has `{k}`: the key is spelled differently)");
                    check.similar_key = Some(k.clone());
                }
            }
            (Some(obj), None) => {
                let pod_created = incident
                    .pod
                    .as_ref()
                    .and_then(|p| p.metadata.creation_timestamp.as_ref())
                    .map(lastmile_events::k8s::time);
                if let (Some(made), Some(pod)) = (obj.created, pod_created)
                    && made > pod
                {
                    check.verdict = format!(
                        " when the pod was created; it was created at {} after the pod ({})",
                        made.to_rfc3339(),
                        pod.to_rfc3339()
                    );
                    check.evidence.push(format!(
                        "{} {ns}/{} was created after the pod",
                        m.kind, m.name
                    ));
                } else {
                    check.verdict = " when the kubelet tried; it exists now, so the next retry should create the container".into();
                    check.evidence.push(format!(
                        "{} {ns}/{} exists in the snapshot now",
                        m.kind, m.name
                    ));
                }
            }
            (None, _) => {
                let others: Vec<&str> = check
                    .elsewhere
                    .iter()
                    .map(|o| o.namespace.as_str())
                    .collect();
                if others.is_empty() {
                    check.evidence.push(format!(
                        "no {} named {} in any namespace of the snapshot",
                        m.kind, m.name
                    ));
                } else {
                    check.verdict =
                        format!(" in namespace {ns}; it exists in {}", others.join(", "));
                    check.evidence.push(format!(
                        "{} {} exists in namespace(s): {}",
                        m.kind,
                        m.name,
                        others.join(", ")
                    ));
                }
            }
        }
        check
    }

    fn remediation(
        &self,
        m: &Missing,
        ns: &str,
        keys: &[String],
        t: &Target,
    ) -> Vec<lastmile_events::Remediation> {
        let res = m.kind.to_lowercase();
        if let (Some(found), Some(key)) = (&self.similar_key, &m.key) {
            return vec![remedy::step(
                format!(
                    "Point the reference at the existing key `{found}` instead of `{key}` (or add `{key}` to the {}).",
                    m.kind
                ),
                format!("kubectl edit{} {}", t.ns(), t.workload()),
            )];
        }
        if let Some(key) = &m.key {
            let field = if m.kind == "Secret" {
                "stringData"
            } else {
                "data"
            };
            return vec![remedy::step(
                format!(
                    "Add the key `{key}` to {} {ns}/{} (the value is yours to supply).",
                    m.kind, m.name
                ),
                format!(
                    "kubectl patch {res} {} -n {ns} --type merge -p '{{\"{field}\":{{\"{key}\":\"<value>\"}}}}'",
                    m.name
                ),
            )];
        }
        if self.here.is_some() {
            return Vec::new();
        }
        if let Some(other) = self.elsewhere.first() {
            return vec![remedy::step(
                format!(
                    "Copy {} {} from namespace {} (Secrets and ConfigMaps are only visible in their own namespace).",
                    m.kind, m.name, other.namespace
                ),
                format!(
                    "kubectl get {res} {} -n {} -o json | jq 'del(.metadata.namespace,.metadata.uid,.metadata.resourceVersion,.metadata.creationTimestamp,.metadata.ownerReferences)' | kubectl apply -n {ns} -f -",
                    m.name, other.namespace
                ),
            )];
        }
        let literals: String = if keys.is_empty() {
            " --from-literal=<KEY>=<value>".into()
        } else {
            keys.iter()
                .map(|k| format!(" --from-literal={k}=<value>"))
                .collect()
        };
        let create = if m.kind == "Secret" {
            "secret generic"
        } else {
            "configmap"
        };
        vec![remedy::step(
            format!(
                "Create {} {} in namespace {ns} with the keys the pod reads (or fix the name the pod refers to).",
                m.kind, m.name
            ),
            format!("kubectl create {create} {} -n {ns}{literals}", m.name),
        )]
    }
}

/// Two key names that differ only in case or separators (`logs.region`, `logs_region`,
/// `LOGS_REGION`).
fn same_key(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    a != b && norm(a) == norm(b)
}

/// The env vars (name, key) that read keys of the object: names only, never values.
fn env_refs(pod: &Pod, kind: &str, name: &str) -> Vec<(String, String)> {
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    containers
        .iter()
        .flat_map(|c| c.env.iter().flatten())
        .filter_map(|e| {
            let from = e.value_from.as_ref()?;
            let (ref_name, key) = if kind == "Secret" {
                let r = from.secret_key_ref.as_ref()?;
                (r.name.as_str(), r.key.as_str())
            } else {
                let r = from.config_map_key_ref.as_ref()?;
                (r.name.as_str(), r.key.as_str())
            };
            (ref_name == name).then(|| (e.name.clone(), key.to_owned()))
        })
        .collect()
}

fn referenced_keys(pod: Option<&Pod>, kind: &str, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = pod
        .map(|p| {
            env_refs(p, kind, name)
                .into_iter()
                .map(|(_, k)| k)
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests;
