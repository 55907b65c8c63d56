//! Per-node reason texts (scheduler plugins, old predicates, autoscaler reasons) → classes.
//!
//! Matching is by lower-case keyword, never by whole-string equality: the texts changed
//! between releases (`had taint {k: v}, that the pod didn't tolerate` → `had untolerated
//! taint {k: v}` → `had untolerated taint(s)`), and wrappers re-phrase them.

use lastmile_events::Class;

/// What one reason text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `Insufficient <resource>` / `Too many pods` / kubelet `OutOf<resource>`.
    Insufficient {
        /// The resource (`cpu`, `memory`, `pods`, `nvidia.com/gpu`).
        resource: String,
    },
    /// An untolerated taint; key and value when the text still carries them.
    Taint {
        /// Taint key.
        key: Option<String>,
        /// Taint value (may be empty).
        value: Option<String>,
    },
    /// Node selector / required node affinity / node name.
    NodeAffinity,
    /// Inter-pod (anti-)affinity or topology spread.
    PodAffinity,
    /// Cordoned nodes.
    Unschedulable,
    /// Host port conflicts.
    HostPorts,
    /// Volume binding, zones, attach limits.
    Volume,
    /// The preemption PostFilter's own verdicts: not a cause.
    Preemption,
    /// The cluster-autoscaler's own node-group reasons (`max node group size reached`).
    Autoscaler,
    /// Anything else.
    Other,
}

impl Reason {
    /// The taxonomy class this reason stands for, if any.
    pub fn class(&self) -> Option<Class> {
        Some(match self {
            Reason::Insufficient { .. } => Class::InsufficientResources,
            Reason::Taint { .. } => Class::UntoleratedTaint,
            Reason::NodeAffinity => Class::NodeAffinity,
            Reason::PodAffinity => Class::PodAffinity,
            Reason::Unschedulable => Class::UnschedulableNodes,
            Reason::HostPorts => Class::HostPorts,
            Reason::Volume => Class::VolumeBinding,
            Reason::Autoscaler => Class::NoScaleUp,
            Reason::Preemption | Reason::Other => return None,
        })
    }

    /// True for reasons that usually mean "this node was never meant for the pod"
    /// (control-plane taints, selectors): they explain why *those* nodes are out, not why
    /// the pod is pending, when other nodes fail for another reason.
    pub fn is_scope(&self) -> bool {
        match self {
            Reason::NodeAffinity => true,
            Reason::Taint { key: Some(k), .. } => is_control_plane_taint(k),
            _ => false,
        }
    }
}

/// `node-role.kubernetes.io/control-plane` and the older `…/master`.
pub fn is_control_plane_taint(key: &str) -> bool {
    key == "node-role.kubernetes.io/control-plane" || key == "node-role.kubernetes.io/master"
}

/// Classifies one reason text (a histogram item without its count).
pub fn classify_reason(reason: &str) -> Reason {
    let r = reason.trim().to_ascii_lowercase();
    let r = r.as_str();
    if r.contains("preemption") {
        return Reason::Preemption;
    }
    if let Some(rest) = r.strip_prefix("insufficient ") {
        let original = reason.trim();
        let start = original.len() - rest.len();
        let resource = original
            .get(start..)
            .unwrap_or(rest)
            .trim()
            .trim_end_matches('.');
        return Reason::Insufficient {
            resource: resource.to_owned(),
        };
    }
    // Batch schedulers word it their own way (Volcano: `node(s) pod number exceeded`,
    // `node(s) resource fit failed`).
    if r.contains("too many pods")
        || r.contains("insufficient pods")
        || r.contains("pod number exceeded")
    {
        return Reason::Insufficient {
            resource: "pods".into(),
        };
    }
    if let Some(rest) = r.strip_prefix("outof") {
        return Reason::Insufficient {
            resource: rest.trim().to_owned(),
        };
    }
    if r.contains("podfitsresources")
        || r.contains("resource fit failed")
        || r.contains("noderesourcesfit")
        || r.contains("enough resource")
    {
        return Reason::Insufficient {
            resource: resource_after(r, "resource:").unwrap_or_else(|| "cpu/memory".into()),
        };
    }
    // Volume reasons first: "volume node affinity conflict" must not read as node affinity.
    // The scheduler says "conflict" of node affinity only for a volume's (a PV pinned to
    // other nodes); a pod's own selector "didn't match", so a clipped "node affinity
    // conflict" is the volume's too.
    const VOLUME: [&str; 17] = [
        "node affinity conflict",
        "persistentvolumeclaim",
        "persistent volume",
        "persistentvolume's",
        "volume node affinity",
        "volume zone",
        "enough free storage",
        "available disk",
        "max volume count",
        "non-existent pv",
        "readwriteoncepod",
        "volumebinding",
        "volumezone",
        "novolumezoneconflict",
        "maxebsvolumecount",
        "checkvolumebinding",
        "volume",
    ];
    if VOLUME.iter().any(|k| r.contains(k)) {
        return Reason::Volume;
    }
    if r.contains("taint") || r.contains("didn't tolerate") || r.contains("did not tolerate") {
        let (key, value) = taint_key_value(reason);
        return Reason::Taint { key, value };
    }
    // Pressure conditions in words ("had disk pressure") or by the condition's name, written
    // as one word ("had DiskPressure", "NodeUnderMemoryPressure", "had pidpressure").
    const NOT_READY: [&str; 12] = [
        "nodenotready",
        "were not ready",
        "node(s) not ready",
        "diskpressure",
        "memorypressure",
        "pidpressure",
        "nodeoutofdisk",
        "disk pressure",
        "memory pressure",
        "pid pressure",
        "out of disk",
        "network unavailable",
    ];
    if NOT_READY.iter().any(|k| r.contains(k)) {
        return Reason::Taint {
            key: None,
            value: None,
        };
    }
    if r.contains("unschedulable") || r.contains("unknown conditions") {
        return Reason::Unschedulable;
    }
    if r.contains("free ports")
        || r.contains("hostport")
        || r.contains("nodeports")
        || r.contains("host port")
    {
        return Reason::HostPorts;
    }
    const POD_AFFINITY: [&str; 8] = [
        "pod affinity rules",
        "anti-affinity",
        "antiaffinity",
        "pod affinity/anti",
        "topology spread",
        "interpodaffinity",
        "serviceaffinity",
        "podtopologyspread",
    ];
    if POD_AFFINITY.iter().any(|k| r.contains(k)) {
        return Reason::PodAffinity;
    }
    const NODE_AFFINITY: [&str; 8] = [
        "node affinity",
        "node selector",
        "nodeselector",
        "nodeaffinity",
        "affinity terms conflict",
        "requested node name",
        "requested hostname",
        "hostname",
    ];
    if NODE_AFFINITY.iter().any(|k| r.contains(k)) {
        return Reason::NodeAffinity;
    }
    if let Some(plugins) = r
        .split_once("plugin(s) [")
        .or_else(|| r.split_once("plugin ["))
        .map(|(_, p)| p)
    {
        return classify_reason(plugins.split([']', ' ']).next().unwrap_or(""));
    }
    const AUTOSCALER: [&str; 6] = [
        "max node group size",
        "max limit reached",
        "backoff after failed scale-up",
        "not ready for scale-up",
        "max cluster",
        "node group",
    ];
    if AUTOSCALER.iter().any(|k| r.contains(k)) {
        return Reason::Autoscaler;
    }
    if r.contains("pod affinity") || r.contains("podaffinity") {
        return Reason::PodAffinity;
    }
    Reason::Other
}

/// `{key: value}` from a taint reason; `(None, None)` when the text hides them.
fn taint_key_value(reason: &str) -> (Option<String>, Option<String>) {
    let Some(open) = reason.find('{') else {
        return (None, None);
    };
    let inner = &reason[open + 1..];
    let inner = inner.split('}').next().unwrap_or(inner);
    match inner.split_once(':') {
        Some((k, v)) => (Some(k.trim().to_owned()), Some(v.trim().to_owned())),
        None => (Some(inner.trim().to_owned()), None),
    }
}

fn resource_after(r: &str, marker: &str) -> Option<String> {
    let rest = r.split_once(marker)?.1.trim();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'))
        .collect();
    (!word.is_empty()).then_some(word)
}

#[cfg(test)]
mod tests;
