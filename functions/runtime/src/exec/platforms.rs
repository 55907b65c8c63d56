//! `exec format error` checked against the registry: which platforms the image the pod runs
//! was published for, and whether the node's is among them.
//!
//! The registry is read with the image-pull function's client, never a second one: its
//! probe ([`probe::probe`], manifest then index entries or the image config's
//! `architecture`), with the pod's pull secrets read through the context's cluster view and
//! picked as the kubelet picks them ([`pull_secrets::resolve`], [`credentials::select`]),
//! and the node's platform from the cluster state ([`observe::node_platform`]).
//!
//! The image asked about is the one the node ran: the container status' `imageID` digest
//! when it names a repository, else the spec's image ([`image_of`]).
//!
//! Nothing here can fail the diagnosis. Without registry access, or when the registry does
//! not answer, the text-only diagnosis stands and says that the platforms were not checked.
//! The check is bounded twice: each request by [`REQUEST_TIMEOUT`] (the probe's own
//! timeout), and the whole check, secret reads included, by [`BUDGET`], well inside the
//! function's deadline: the probe makes several requests in a row (challenge, token,
//! manifest, config), so per-request timeouts alone do not bound it.

use std::future::Future;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use lastmile_contract::Context;
use lastmile_events::{ClusterSnapshot, Diagnosis, Incident};
use lastmile_fn_image_pull::platform::Platform;
use lastmile_fn_image_pull::reference::ImageRef;
use lastmile_fn_image_pull::{
    ProbeOptions, ProbeReport, credentials, observe, probe, pull_secrets,
};
use serde_json::json;

use crate::remedy::{self, Target};

/// The whole registry check at most (the function's deadline is 5 s).
pub(crate) const BUDGET: Duration = Duration::from_secs(3);
/// One registry request at most.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The platform of the node the pod runs on, and how it is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodePlatform {
    /// `node worker-1`, or `the pod's node` when only its nodeSelector is known.
    pub name: String,
    pub platform: Platform,
    /// Where the platform was read (`the Node's status.nodeInfo and labels`, …).
    pub source: &'static str,
}

/// The node's platform: from the Node in the cluster state, else from the pod's
/// `kubernetes.io/arch` nodeSelector (the scheduler only placed it on such a node).
pub(crate) fn node_platform(pod: Option<&Pod>, snapshot: &ClusterSnapshot) -> Option<NodePlatform> {
    let node_name = pod
        .and_then(|p| p.spec.as_ref()?.node_name.clone())
        .filter(|n| !n.is_empty());
    let name = node_name
        .as_deref()
        .map_or_else(|| "the pod's node".to_owned(), |n| format!("node {n}"));
    if let Some(platform) = observe::node_platform(pod, snapshot) {
        return Some(NodePlatform {
            name,
            platform,
            source: "the Node's status.nodeInfo and labels",
        });
    }
    let selector = pod?.spec.as_ref()?.node_selector.as_ref()?;
    let arch = selector.get("kubernetes.io/arch")?;
    let os = selector
        .get("kubernetes.io/os")
        .map_or("linux", String::as_str);
    Some(NodePlatform {
        name,
        platform: Platform::new(os, arch, None),
        source: "the pod's nodeSelector kubernetes.io/arch",
    })
}

/// The image `container` runs: the digest in its status' `imageID` when that names a
/// repository (`ghcr.io/acme/api@sha256:…`, Docker's `docker-pullable://` form too), else
/// the image its spec asks for, else the one its status reports. A bare `sha256:` id is
/// the image config's, not a manifest the registry serves.
pub(crate) fn image_of(pod: &Pod, container: Option<&str>) -> Option<String> {
    let statuses = pod
        .status
        .as_ref()?
        .container_statuses
        .as_deref()
        .unwrap_or_default();
    let status = statuses
        .iter()
        .find(|s| container.is_none_or(|c| s.name == c));
    let by_digest = status.and_then(|s| {
        let id = s.image_id.rsplit("://").next().unwrap_or_default();
        ImageRef::parse(id)
            .ok()
            .filter(|r| r.digest.is_some() && id.contains('@'))
            .map(|_| id.to_owned())
    });
    let spec = pod.spec.as_ref().and_then(|s| {
        s.containers
            .iter()
            .find(|c| container.is_none_or(|n| c.name == n))
            .and_then(|c| c.image.clone())
    });
    by_digest
        .or(spec)
        .or_else(|| status.map(|s| s.image.clone()))
        .filter(|i| !i.trim().is_empty())
}

/// What the registry said about the image's platforms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Read {
    /// The reference asked about.
    pub image: String,
    /// The platforms it was published for (never empty).
    pub published: Vec<Platform>,
    /// True when they come from an index (manifest list), false from the image config.
    pub from_index: bool,
    /// The login used (its source only), or `anonymous`.
    pub login: String,
}

/// The registry check's result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Check {
    /// The registry told the image's platforms.
    Read(Read),
    /// Not checked, and why.
    NotChecked(String),
}

impl Check {
    /// The check's result from a probe report.
    pub fn of_report(report: &ProbeReport) -> Self {
        let published: Vec<Platform> = report
            .published_platforms
            .iter()
            .filter(|p| !p.is_unknown())
            .cloned()
            .collect();
        if published.is_empty() {
            return Self::NotChecked(match report.cause() {
                Some(cause) if cause != lastmile_fn_image_pull::message::Cause::PlatformNoMatch => {
                    let detail = match &report.verdict {
                        probe::Verdict::Fails { detail, .. } if !detail.is_empty() => {
                            format!(": {detail}")
                        }
                        _ => String::new(),
                    };
                    format!(
                        "the registry check of {} failed ({}){detail}",
                        report.image,
                        cause.class()
                    )
                }
                _ => format!(
                    "the registry served {} but named no platform for it",
                    report.image
                ),
            });
        }
        Self::Read(Read {
            image: report.image.clone(),
            published,
            // The probe reads the config only for a single-platform manifest.
            from_index: !report.transcript.entries.iter().any(|e| e.step == "config"),
            login: report.auth.clone(),
        })
    }
}

/// Reads the platforms of the image `container` of the incident's pod runs, when the host
/// gave registry access; never longer than [`BUDGET`].
pub(crate) async fn check(
    incident: &Incident,
    container: Option<&str>,
    node: Option<&NodePlatform>,
    ctx: &Context,
) -> (Check, Option<ProbeReport>) {
    let Some(http) = ctx.http.as_ref() else {
        return (
            Check::NotChecked("this host gives the function no registry access".into()),
            None,
        );
    };
    let pod = incident.pod.as_deref();
    let Some(image) = pod.and_then(|p| image_of(p, container)) else {
        return (
            Check::NotChecked("the incident names no image for the container".into()),
            None,
        );
    };
    let parsed = match ImageRef::parse(&image) {
        Ok(r) => r,
        Err(e) => return (Check::NotChecked(format!("{image}: {e}")), None),
    };
    let opts = ProbeOptions {
        timeout: REQUEST_TIMEOUT,
        platforms: node.map(|n| vec![n.platform.clone()]).unwrap_or_default(),
        list_tags: false,
        ..ProbeOptions::default()
    };
    let read = async {
        let namespace = pull_secrets::namespace_of(incident.subject.namespace.as_deref(), pod);
        let resolution = pull_secrets::resolve(pod, &namespace, ctx.cluster.as_ref()).await;
        let selection = credentials::select(pod, &parsed, &resolution.credentials);
        let report = probe::probe(
            http.as_ref(),
            ctx.clock.as_ref(),
            &image,
            &selection.candidates,
            &opts,
        )
        .await;
        (report, resolution.limitations())
    };
    let Some((report, limits)) = within(BUDGET, read).await else {
        return (
            Check::NotChecked(format!(
                "the registry check of {image} did not finish within {}s",
                BUDGET.as_secs()
            )),
            None,
        );
    };
    // Without the node's platform the probe reads an index's entries but not a single
    // image's config.
    let result = if node.is_none()
        && report.published_platforms.is_empty()
        && report.cause().is_none()
    {
        Check::NotChecked(format!(
            "{image} is a single-platform image and the node's platform is not in the cluster state, so its config was not read"
        ))
    } else {
        Check::of_report(&report)
    };
    // A refused login may be lastmile's own limit (a pull secret it could not read).
    let result = match result {
        Check::NotChecked(why) if !limits.is_empty() => {
            Check::NotChecked(format!("{why}; {}", limits.join("; ")))
        }
        other => other,
    };
    (result, Some(report))
}

/// Checks the image of the `exec format error` diagnosis `d` against the registry and
/// says the result in `d` (see [`apply`]). Returns the probe's report (its redacted
/// transcript is evidence) when the registry answered in time.
pub(crate) async fn settle(
    d: &mut Diagnosis,
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    ctx: &Context,
) -> Option<ProbeReport> {
    let pod = incident.pod.as_deref();
    let container = d.subject.container.clone();
    let node = node_platform(pod, snapshot);
    let (result, report) = check(incident, container.as_deref(), node.as_ref(), ctx).await;
    let spec_image = pod
        .and_then(|p| p.spec.as_ref())
        .and_then(|s| {
            s.containers
                .iter()
                .find(|c| container.as_deref().is_none_or(|n| c.name == n))
        })
        .and_then(|c| c.image.clone())
        .unwrap_or_else(|| "<image>".into());
    let who = super::who(container.as_deref());
    let target = Target::of(incident);
    apply(
        d,
        &result,
        &Said {
            who: &who,
            node: node.as_ref(),
            target: &target,
            spec_image: &spec_image,
        },
    );
    report
}

/// `fut`'s output, or `None` when `limit` passes first (the future is then dropped, which
/// cancels its request in flight). The timer is a thread parked on a channel, so this needs
/// no async runtime; it wakes and ends as soon as `fut` does.
async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let (fire, fired) = futures::channel::oneshot::channel::<()>();
    let (done, stop) = std::sync::mpsc::channel::<()>();
    let timer = std::thread::Builder::new()
        .name("lastmile-budget".into())
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(limit) {
                let _ = fire.send(());
            }
        });
    if timer.is_err() {
        // No thread to time it: the probe's per-request timeouts still bound each step.
        return Some(fut.await);
    }
    let out = match futures::future::select(std::pin::pin!(fut), fired).await {
        futures::future::Either::Left((out, _)) => Some(out),
        futures::future::Either::Right(_) => None,
    };
    drop(done);
    out
}

/// `linux/arm64` for `docker buildx --platform` (its default variant left out).
fn build_platform(p: &Platform) -> String {
    match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", Some("v8")) | (_, None) => format!("{}/{}", p.os, p.architecture),
        (_, Some(v)) => format!("{}/{}/{v}", p.os, p.architecture),
    }
}

fn list(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the diagnosis needs to say the check's result.
pub(crate) struct Said<'a> {
    pub who: &'a str,
    pub node: Option<&'a NodePlatform>,
    pub target: &'a Target,
    /// The image as the pod spec writes it (what a rebuild is tagged as).
    pub spec_image: &'a str,
}

/// Rewrites the text-only `exec format error` diagnosis `d` with the check's result.
pub(crate) fn apply(d: &mut Diagnosis, check: &Check, said: &Said<'_>) {
    let detail = match check {
        Check::NotChecked(why) => {
            d.summary
                .push_str(" The image's platforms were not checked against the registry.");
            d.evidence
                .push(format!("image platforms not checked: {why}"));
            json!({"checked": false, "why": why})
        }
        Check::Read(read) => {
            let what = if read.from_index {
                format!(
                    "the image index of {} lists {}",
                    read.image,
                    list(&read.published)
                )
            } else {
                let p = &read.published[0];
                format!(
                    "the image config of {} says \"architecture\": \"{}\", \"os\": \"{}\"{}",
                    read.image,
                    p.architecture,
                    p.os,
                    p.variant
                        .as_deref()
                        .map(|v| format!(", \"variant\": \"{v}\""))
                        .unwrap_or_default()
                )
            };
            d.evidence
                .push(format!("read from the registry ({}): {what}", read.login));
            if let Some(n) = said.node {
                d.evidence
                    .push(format!("{} is {} ({})", n.name, n.platform, n.source));
            }
            let serves = said
                .node
                .map(|n| read.published.iter().any(|p| p.serves(&n.platform)));
            match (serves, said.node) {
                (Some(false), Some(n)) => lacks(d, read, n, said),
                (Some(true), Some(n)) => serves_node(d, read, n, said),
                _ => {
                    d.summary = format!(
                        "{} cannot start: `exec format error`: image {} is built for {} only, and its binary is not for the node's CPU architecture (the node's platform is not in the cluster state lastmile has).",
                        said.who,
                        read.image,
                        list(&read.published)
                    );
                }
            }
            json!({
                "checked": true,
                "image": read.image,
                "published": read.published.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "from": if read.from_index { "index" } else { "config" },
                "node": said.node.map(|n| n.platform.to_string()),
                "serves_node": serves,
            })
        }
    };
    if !d.details.is_object() {
        d.details = json!({});
    }
    if let Some(details) = d.details.as_object_mut() {
        details.insert("platform_check".into(), detail);
    }
    d.definitive = d.confidence >= 0.85;
}

/// The image was not published for the node's platform.
fn lacks(d: &mut Diagnosis, read: &Read, n: &NodePlatform, said: &Said<'_>) {
    let t = said.target;
    d.confidence = d.confidence.max(0.97);
    d.summary = format!(
        "{} cannot start: `exec format error`: image {} is built for {} only; {} is {}.",
        said.who,
        read.image,
        list(&read.published),
        n.name,
        n.platform
    );
    let mut both = vec![build_platform(&n.platform)];
    both.extend(read.published.iter().map(build_platform));
    both.dedup();
    let mut steps = vec![remedy::step(
        format!(
            "Publish the image for {} too (a multi-platform build), then roll the workload out again.",
            build_platform(&n.platform)
        ),
        format!(
            "docker buildx build --platform {} -t {} --push .",
            both.join(","),
            said.spec_image
        ),
    )];
    if let Some(other) = read.published.iter().find(|p| p.os == n.platform.os) {
        steps.push(remedy::step(
            format!(
                "Or run it on {} nodes, if the cluster has them.",
                build_platform(other)
            ),
            format!(
                "kubectl patch{} {} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"nodeSelector\":{{\"kubernetes.io/arch\":\"{}\"}}}}}}}}}}'",
                t.ns(),
                t.workload(),
                other.architecture
            ),
        ));
    }
    d.remediation = steps;
}

/// The image was published for the node's platform: the binary inside is the wrong one.
fn serves_node(d: &mut Diagnosis, read: &Read, n: &NodePlatform, said: &Said<'_>) {
    let where_ = if read.from_index {
        format!(
            "image {}'s index has {} ({}'s platform)",
            read.image, n.platform, n.name
        )
    } else {
        format!(
            "image {}'s config says {} ({}'s platform)",
            read.image, read.published[0], n.name
        )
    };
    d.summary = format!(
        "{} cannot start: `exec format error` although {where_}: the binary inside the image is built for another CPU architecture (e.g. a binary cross-compiled or built on another machine and copied into an image labelled {}).",
        said.who,
        build_platform(&n.platform)
    );
    let path = d
        .details
        .get("executable")
        .and_then(|v| v.as_str())
        .unwrap_or("<entrypoint>")
        .to_owned();
    d.remediation = vec![
        remedy::step(
            "See which architecture the binary in the image really is.",
            format!(
                "id=$(docker create --platform {} {}) && docker cp \"$id:{path}\" ./binary && docker rm \"$id\" && file ./binary",
                build_platform(&n.platform),
                read.image
            ),
        ),
        remedy::advice(format!(
            "Build the binary for {} in the image's own build (GOOS/GOARCH, or buildx's TARGETOS/TARGETARCH in a multi-stage Dockerfile) instead of copying in one built elsewhere, then rebuild and push the image.",
            build_platform(&n.platform)
        )),
    ];
}

#[cfg(test)]
mod tests;
