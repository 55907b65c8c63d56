//! `runtime.mount_failed`: a volume cannot be attached or mounted. The missing Secret,
//! ConfigMap or PVC; the pod (and node) that still holds a ReadWriteOnce volume for a
//! Multi-Attach error; the CSI driver that is not registered on the node or that failed.

use std::sync::LazyLock;

use k8s_openapi::api::core::v1::Pod;
use lastmile_events::{Class, ClusterSnapshot, Incident, Remediation};
use regex::Regex;

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote, re};

static USED_BY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)already used by pod\(s\)\s+([a-z0-9.,\s-]+)"));
static VOLUME: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)for volume \\?"([^"\\]+)\\?""#));
static DRIVER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)driver name (\S+) not found in the list of registered CSI drivers"));
static OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)\b(secret|configmap|persistentvolumeclaim)s?\s+\\?"([^"\\]+)\\?"\s+not found"#)
});
/// `stat /logs/pods/: no such file or directory` while the kubelet creates the container.
static STAT_MISSING: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bstat (/[^:\s`]*): no such file or directory"));
static UNMOUNTED: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)unmounted volumes=\[([^\]]*)\]"));

/// The kind of mount failure, most specific first.
enum Kind {
    MultiAttach { holders: Vec<String> },
    Missing { kind: String, name: String },
    MissingKey,
    CsiNotRegistered { driver: String },
    CsiError,
    Timeout { volumes: String },
}

const MOUNT_WORDS: &[&str] = &[
    "failedmount",
    "failedattachvolume",
    "mountvolume",
    "multi-attach",
    "unable to attach or mount",
    "unable to mount volumes",
    "waiting for volumes to attach",
    "attachvolume.attach failed",
    "registered csi drivers",
    "references non-existent config key",
];
/// The kubelet's and attach controller's success events (`SuccessfulMountVolume`,
/// `SuccessfulAttachVolume`, "MapVolume.MapDevice succeeded for volume …"): a volume that
/// mounted is no mount failure, whatever words it shares with one.
const SUCCESS_WORDS: &[&str] = &[
    "successfulmountvolume",
    "successfulattachvolume",
    "succeeded for volume",
];

/// The mount diagnosis, when a line reports a volume that cannot be attached or mounted.
pub(crate) fn diagnose(
    f: &Facts,
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    t: &Target,
) -> Option<Found> {
    let lines: Vec<&str> = f
        .lines
        .iter()
        .map(String::as_str)
        .filter(|l| {
            let lower = l.to_lowercase();
            MOUNT_WORDS.iter().any(|w| lower.contains(w))
                && !SUCCESS_WORDS.iter().any(|w| lower.contains(w))
        })
        .collect();
    if let Some(found) = sub_path(f, t) {
        return Some(found);
    }
    let first = *lines.first()?;
    let kind_line = |pred: &dyn Fn(&str) -> bool| lines.iter().copied().find(|l| pred(l));
    let (kind, line) = if let Some(l) = kind_line(&|l| l.to_lowercase().contains("multi-attach")) {
        let holders = USED_BY
            .captures(l)
            .map(|c| {
                c[1].split(',')
                    .map(|s| s.trim().trim_end_matches('.').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        (Kind::MultiAttach { holders }, l)
    } else if let Some((l, c)) = lines
        .iter()
        .find_map(|l| OBJECT.captures(l).map(|c| (*l, c)))
    {
        (
            Kind::Missing {
                kind: c[1].to_lowercase(),
                name: c[2].to_owned(),
            },
            l,
        )
    } else if let Some(l) = kind_line(&|l| l.to_lowercase().contains("non-existent config key")) {
        (Kind::MissingKey, l)
    } else if let Some((l, c)) = lines
        .iter()
        .find_map(|l| DRIVER.captures(l).map(|c| (*l, c)))
    {
        (
            Kind::CsiNotRegistered {
                driver: c[1].to_owned(),
            },
            l,
        )
    } else if let Some(l) = kind_line(&|l| {
        let lower = l.to_lowercase();
        lower.contains("rpc error")
            || lower.contains("kubernetes.io/csi")
            || lower.contains("attachvolume.attach failed")
            || lower.contains("waitforattach")
    }) {
        (Kind::CsiError, l)
    } else {
        let volumes = lines
            .iter()
            .find_map(|l| UNMOUNTED.captures(l))
            .map(|c| c[1].to_owned())
            .or_else(|| {
                lines.iter().find_map(|l| {
                    l.split("volumes=[")
                        .nth(1)?
                        .split(']')
                        .next()
                        .map(str::to_owned)
                })
            })
            .unwrap_or_default();
        (Kind::Timeout { volumes }, first)
    };
    let volume = VOLUME.captures(line).map(|c| c[1].to_owned());
    let node = incident
        .pod
        .as_ref()
        .and_then(|p| p.spec.as_ref()?.node_name.clone());
    let mut evidence = vec![format!("{}", quote(line))];
    let (summary, confidence, remediation) = match kind {
        Kind::MultiAttach { holders } => multi_attach(incident, snapshot, t, volume.as_deref(), holders, &mut evidence),
        Kind::Missing { kind, name } => {
            let ns = t.namespace().to_owned();
            let (what, cmd) = match kind.as_str() {
                "secret" => ("Secret", format!("kubectl create secret generic {name} -n {ns} --from-file=<file>")),
                "configmap" => ("ConfigMap", format!("kubectl create configmap {name} -n {ns} --from-file=<file>")),
                _ => ("PersistentVolumeClaim", format!("kubectl get pvc -n {ns}")),
            };
            let elsewhere: Vec<&str> = snapshot
                .configs
                .iter()
                .filter(|o| o.kind == what && o.name == name && o.namespace != ns)
                .map(|o| o.namespace.as_str())
                .collect();
            if !elsewhere.is_empty() {
                evidence.push(format!("{what} {name} exists in namespace(s): {}", elsewhere.join(", ")));
            }
            (
                format!(
                    "Volume {}cannot be mounted: {what} {name} does not exist in namespace {ns}{}.",
                    volume.as_deref().map(|v| format!("`{v}` ")).unwrap_or_default(),
                    if elsewhere.is_empty() { String::new() } else { format!(" (it exists in {})", elsewhere.join(", ")) }
                ),
                0.92,
                vec![remedy::step(format!("Create the {what} the volume refers to (or fix the name in the pod template)."), cmd)],
            )
        }
        Kind::MissingKey => (
            "A ConfigMap/Secret volume lists an item whose key the object does not have (`references non-existent config key`).".into(),
            0.85,
            vec![remedy::step(
                "Compare the volume's items[].key with the keys the object has.",
                format!("kubectl get{} {} -o jsonpath='{{.spec.volumes}}'", t.ns(), t.pod()),
            )],
        ),
        Kind::CsiNotRegistered { driver } => (
            format!(
                "Volume {}cannot be mounted: CSI driver {driver} is not registered with the kubelet on {} (its node plugin is not running there, or registered under another name).",
                volume.as_deref().map(|v| format!("`{v}` ")).unwrap_or_default(),
                node.as_deref().map(|n| format!("node {n}")).unwrap_or_else(|| "the pod's node".into())
            ),
            0.9,
            vec![
                remedy::step(
                    "Check the driver object and its node plugin pod on that node (the DaemonSet's nodeSelector/tolerations must cover it).",
                    format!(
                        "kubectl get csidrivers {driver}; kubectl get csinode {} -o yaml; kubectl get pods -A -o wide --field-selector spec.nodeName={}",
                        node.as_deref().unwrap_or("<node>"),
                        node.as_deref().unwrap_or("<node>")
                    ),
                ),
            ],
        ),
        Kind::CsiError => (
            format!(
                "Volume {}cannot be attached or mounted: the storage driver reports an error (quoted in the evidence).",
                volume.as_deref().map(|v| format!("`{v}` ")).unwrap_or_default()
            ),
            0.82,
            vec![remedy::step(
                "See the attachment's status and the CSI controller's error for the volume.",
                format!(
                    "kubectl get volumeattachments -o wide | grep {}",
                    volume.as_deref().unwrap_or("<pv-name>")
                ),
            )],
        ),
        Kind::Timeout { volumes } => (
            format!(
                "The pod's volumes{} never mounted; the first event about each volume names the missing object or the driver error.",
                if volumes.is_empty() { String::new() } else { format!(" [{volumes}]") }
            ),
            0.7,
            vec![remedy::describe(t)],
        ),
    };
    Some(Found::of(
        Class::RUNTIME_MOUNT_FAILED,
        confidence,
        summary,
        remediation,
        None,
        evidence,
    ))
}

fn multi_attach(
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    t: &Target,
    volume: Option<&str>,
    mut holders: Vec<String>,
    evidence: &mut Vec<String>,
) -> (String, f64, Vec<Remediation>) {
    let ns = incident.subject.namespace.clone().unwrap_or_default();
    let own_node = incident
        .pod
        .as_ref()
        .and_then(|p| p.spec.as_ref()?.node_name.clone());
    // The claim behind the PV the message names, then the other pods that mount it.
    let claim = volume.and_then(|pv| {
        snapshot
            .pvcs
            .iter()
            .find(|c| c.spec.as_ref().and_then(|s| s.volume_name.as_deref()) == Some(pv))
            .and_then(|c| c.metadata.name.clone())
    });
    if let Some(claim) = &claim {
        evidence.push(format!(
            "volume {} is PersistentVolumeClaim {ns}/{claim}",
            volume.unwrap_or("?")
        ));
        if holders.is_empty() {
            holders = snapshot
                .pods
                .iter()
                .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
                .filter(|p| p.metadata.name.as_deref() != Some(incident.subject.name.as_str()))
                .filter(|p| mounts_claim(p, claim))
                .filter_map(|p| p.metadata.name.clone())
                .collect();
        }
    }
    let mut held_on = Vec::new();
    for h in &holders {
        let node = snapshot
            .pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(h.as_str()))
            .and_then(|p| p.spec.as_ref()?.node_name.clone());
        match &node {
            Some(n) => evidence.push(format!("pod {h} still mounts it on node {n}")),
            None => evidence.push(format!("pod {h} still uses it")),
        }
        held_on.push((h.clone(), node));
    }
    if let Some(n) = &own_node {
        evidence.push(format!("this pod runs on node {n}"));
    }
    let who = match held_on.first() {
        Some((h, Some(n))) => format!("pod {h} on node {n}"),
        Some((h, None)) => format!("pod {h}"),
        None => {
            "another node (a pod there, or an attachment left after that node went away)".into()
        }
    };
    let mut remediation = Vec::new();
    if let Some((h, _)) = held_on.first() {
        remediation.push(remedy::step(
            "Stop the pod that holds the ReadWriteOnce volume once it is safe to (a bootstrap or old-revision pod), so it detaches.",
            format!("kubectl delete pod -n {ns} {h}"),
        ));
    }
    remediation.push(remedy::step(
        "If no pod holds it, a stale VolumeAttachment does (the old node went away): find it and delete it.",
        format!("kubectl get volumeattachments -o wide | grep {}", volume.unwrap_or("<pv-name>")),
    ));
    if t.workload().starts_with("deployment/") {
        remediation.push(remedy::step(
            "A Deployment with a ReadWriteOnce volume must replace pods with Recreate, not RollingUpdate (or use a ReadWriteMany volume).",
            format!(
                "kubectl patch{} {} --type merge -p '{{\"spec\":{{\"strategy\":{{\"type\":\"Recreate\",\"rollingUpdate\":null}}}}}}'",
                t.ns(),
                t.workload()
            ),
        ));
    }
    (
        format!(
            "Volume {}is ReadWriteOnce and still attached for {who}; it cannot attach to this pod's node until that lets go (Multi-Attach).",
            volume.map(|v| format!("`{v}` ")).unwrap_or_default()
        ),
        0.93,
        remediation,
    )
}

/// A container that cannot be created because the directory behind a `subPath` mount does
/// not exist (a hostPath or PV directory missing on the node, a `$(VAR)` that `subPath`
/// does not expand: that needs `subPathExpr`).
fn sub_path(f: &Facts, t: &Target) -> Option<Found> {
    let creating = f.mentions("createcontainerconfigerror")
        || f.mentions("createcontainererror")
        || f.mentions("subpath");
    if !creating {
        return None;
    }
    let (line, path) = f
        .waiting
        .iter()
        .map(|(_, m)| m.as_str())
        .chain(f.lines.iter().map(String::as_str))
        .filter(|l| !l.contains("exec:"))
        .find_map(|l| STAT_MISSING.captures(l).map(|c| (l, c[1].to_owned())))?;
    let (summary, confidence, remediation) = sub_path_summary(&path, t);
    Some(Found::of(
        Class::RUNTIME_MOUNT_FAILED,
        confidence,
        summary,
        remediation,
        f.container.as_deref(),
        vec![quote(line)],
    ))
}

fn sub_path_summary(path: &str, t: &Target) -> (String, f64, Vec<Remediation>) {
    (
        format!(
            "The container cannot be created: `{path}`, the volume path behind a subPath mount, does not exist on the node (a hostPath/PV directory that is not there, or a $(VAR) in subPath, which only subPathExpr expands)."
        ),
        0.86,
        vec![remedy::step(
            "See the volume and the subPath that point at it; create the directory on the node (or use a volume that exists there), and use subPathExpr for $(VAR).",
            format!(
                "kubectl get{} {} -o jsonpath='{{.spec.template.spec.volumes}}{{\"\\n\"}}{{.spec.template.spec.containers[*].volumeMounts}}'",
                t.ns(),
                t.workload()
            ),
        )],
    )
}

fn mounts_claim(pod: &Pod, claim: &str) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|vs| {
            vs.iter().any(|v| {
                v.persistent_volume_claim
                    .as_ref()
                    .is_some_and(|c| c.claim_name == claim)
            })
        })
}
