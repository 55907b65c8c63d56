//! What the incident says about failing pulls, per container: waiting states, kubelet events
//! and free text, each classified by [`crate::message`].

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use lastmile_events::{ClusterSnapshot, Incident};

use crate::message::{self, Cause, PullMessage};
use crate::platform::Platform;

// Waiting reasons of the image family (the kubelet's, shared with every producer).
use lastmile_events::facts::IMAGE_PULL_REASONS as PULL_REASONS;

/// One classified statement, with where it came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observed {
    /// Where: `status.containerStatuses[app].state.waiting`, `event Failed (x3)`, `text`.
    pub source: String,
    /// What it says.
    pub message: PullMessage,
}

/// One container (or the free text) that fails to pull.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Failure {
    /// Container name, when known.
    pub container: Option<String>,
    /// True for an init container.
    pub init: bool,
    /// Index in `containers` / `initContainers`.
    pub index: Option<usize>,
    /// Image as written in the pod spec (or the message when there is no pod).
    pub image: Option<String>,
    /// `imagePullPolicy`.
    pub pull_policy: Option<String>,
    /// Everything said about it.
    pub observed: Vec<Observed>,
}

impl Failure {
    /// The most telling statement: a known cause beats an unspecified one, then confidence.
    pub fn best(&self) -> Option<&Observed> {
        self.observed.iter().max_by(|a, b| {
            let ka = (a.message.cause != Cause::Unspecified, a.message.confidence);
            let kb = (b.message.cause != Cause::Unspecified, b.message.confidence);
            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        })
    }
}

fn containers(pod: &Pod) -> Vec<(bool, usize, &Container)> {
    let spec = pod.spec.as_ref();
    let init = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| (true, i, c));
    let main = spec
        .into_iter()
        .flat_map(|s| s.containers.iter())
        .enumerate()
        .map(|(i, c)| (false, i, c));
    init.chain(main).collect()
}

fn statuses(pod: &Pod) -> Vec<&ContainerStatus> {
    let st = pod.status.as_ref();
    st.and_then(|s| s.init_container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            st.and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
        .collect()
}

/// `spec.containers{app}` → `app`.
fn container_of(field_path: Option<&str>) -> Option<String> {
    let fp = field_path?;
    let start = fp.find('{')? + 1;
    let end = fp[start..].find('}')? + start;
    Some(fp[start..end].to_owned())
}

/// Collects the failing pulls of an incident.
pub fn failures(incident: &Incident) -> Vec<Failure> {
    let mut out: Vec<Failure> = Vec::new();
    if let Some(pod) = &incident.pod {
        for (init, index, c) in containers(pod) {
            out.push(Failure {
                container: Some(c.name.clone()),
                init,
                index: Some(index),
                image: c.image.clone(),
                pull_policy: c.image_pull_policy.clone(),
                observed: Vec::new(),
            });
        }
        for st in statuses(pod) {
            let Some(w) = st.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let reason = w.reason.as_deref().unwrap_or_default();
            if !PULL_REASONS.contains(&reason) {
                continue;
            }
            let text = format!("{reason}: {}", w.message.as_deref().unwrap_or_default());
            if let Some(m) = message::classify(&text) {
                let slot = slot(&mut out, Some(&st.name), Some(&st.image));
                slot.observed.push(Observed {
                    source: format!("status of container {}: waiting {reason}", st.name),
                    message: m,
                });
            }
        }
    }
    for ev in &incident.events {
        if ev.ty.eq_ignore_ascii_case("Normal") {
            continue;
        }
        let text = format!("{}: {}", ev.reason, ev.clean_message());
        let Some(m) = message::classify(&text) else {
            continue;
        };
        let container = container_of(ev.regarding.field_path.as_deref());
        let image = m.image.clone();
        let slot = slot(&mut out, container.as_deref(), image.as_deref());
        let count = if ev.count > 1 {
            format!(" (x{})", ev.count)
        } else {
            String::new()
        };
        slot.observed.push(Observed {
            source: format!("event {}{count}", ev.reason),
            message: m,
        });
    }
    if let Some(text) = incident.text.as_deref()
        && let Some(m) = message::classify(text)
    {
        let image = m.image.clone();
        let slot = slot(&mut out, None, image.as_deref());
        slot.observed.push(Observed {
            source: "text".into(),
            message: m,
        });
    }
    out.retain(|f| !f.observed.is_empty());
    for f in &mut out {
        if f.image.is_none() {
            f.image = f.observed.iter().find_map(|o| o.message.image.clone());
        }
    }
    out
}

/// The failure of `container`, or the one pulling `image`, or a new one.
fn slot<'a>(
    out: &'a mut Vec<Failure>,
    container: Option<&str>,
    image: Option<&str>,
) -> &'a mut Failure {
    let by_container =
        container.and_then(|c| out.iter().position(|f| f.container.as_deref() == Some(c)));
    let by_image = || {
        let img = image?;
        out.iter()
            .position(|f| f.image.as_deref().is_some_and(|fi| same_image(fi, img)))
    };
    let idx = match by_container.or_else(by_image) {
        Some(i) => i,
        None if out.len() == 1 && container.is_none() && image.is_none() => 0,
        None => {
            out.push(Failure {
                container: container.map(str::to_owned),
                image: image.map(str::to_owned),
                ..Default::default()
            });
            out.len() - 1
        }
    };
    &mut out[idx]
}

/// `nginx` and `docker.io/library/nginx:latest` are the same image.
fn same_image(a: &str, b: &str) -> bool {
    match (
        crate::reference::ImageRef::parse(a),
        crate::reference::ImageRef::parse(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The platform of the node the pod runs on, from the snapshot.
pub fn node_platform(pod: Option<&Pod>, snapshot: &ClusterSnapshot) -> Option<Platform> {
    let node = pod_node(pod, snapshot)?;
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let info = node.status.as_ref().and_then(|s| s.node_info.as_ref());
    let os = info
        .map(|i| i.operating_system.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| labels.get("kubernetes.io/os").cloned())?;
    let arch = info
        .map(|i| i.architecture.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| labels.get("kubernetes.io/arch").cloned())?;
    let variant = labels.get("kubernetes.io/arch-variant").map(String::as_str);
    Some(Platform::new(&os, &arch, variant))
}

/// The node the pod is bound to, from the snapshot.
pub fn pod_node<'a>(
    pod: Option<&Pod>,
    snapshot: &'a ClusterSnapshot,
) -> Option<&'a k8s_openapi::api::core::v1::Node> {
    let node_name = pod?.spec.as_ref()?.node_name.as_deref()?;
    snapshot
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(node_name))
}
