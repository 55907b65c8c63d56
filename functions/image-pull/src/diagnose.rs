//! From failures (and probe reports) to diagnoses: class, confidence, summary, evidence,
//! remediation, and whether the kubelet's old error and the registry's answer now differ.

use lastmile_contract::{Context, EvidenceItem, FunctionError, Outcome};
use lastmile_events::{Class, Diagnosis, Incident, Subject};
use serde_json::json;

use crate::cloud;
use crate::config::ImagePullConfig;
use crate::cosign::SignatureCheck;
use crate::credentials::{self, ProbeCredentials, SecretProblem};
use crate::message::Cause;
use crate::observe::{self, Failure};
use crate::probe::{self, ProbeOptions, ProbeReport, Verdict};
use crate::reference::ImageRef;
use crate::remedy::{self, Target};

/// Causes the registry cannot confirm or refute (policy on the node, binaries in the image).
fn node_side(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::NeverPull | Cause::Signature | Cause::ExecFormat
    )
}

/// Diagnoses `incident`; probes the registry when `ctx.http` is set, with the signature and
/// base-OS checks of the host's [`ImagePullConfig`].
pub async fn diagnose(
    incident: &Incident,
    ctx: &Context,
    creds: &ProbeCredentials,
    base: &ProbeOptions,
) -> Result<Outcome, FunctionError> {
    let checks = ImagePullConfig::of(ctx)
        .map_err(|e| FunctionError::permanent(e.to_string()))?
        .checks;
    let snapshot = ctx.snapshot_for(incident).await;
    let pod = incident.pod.as_deref();
    let node = observe::node_platform(pod, &snapshot);
    let cloud_node = observe::pod_node(pod, &snapshot).and_then(cloud::node_cloud);
    let ns = incident
        .subject
        .namespace
        .clone()
        .or_else(|| pod.and_then(|p| p.metadata.namespace.clone()))
        .unwrap_or_else(|| "default".into());
    let sa = pod
        .and_then(|p| p.spec.as_ref())
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let workload = match &incident.owner {
        Some(o) if !o.kind.is_empty() && !o.name.is_empty() => {
            format!("{}/{}", o.kind.to_lowercase(), o.name)
        }
        _ => format!("pod/{}", incident.subject.name),
    };
    let mut diagnoses = Vec::new();
    let mut probes = Vec::new();
    let failures = observe::failures(incident);
    for f in &failures {
        let Some(best) = f.best() else { continue };
        let msg_cause = best.message.cause;
        let parsed = f.image.as_deref().map(ImageRef::parse);
        let image = parsed.as_ref().and_then(|r| r.as_ref().ok());
        let selection = image
            .map(|i| credentials::select(pod, i, creds))
            .unwrap_or_default();
        // A signature failure is the node's policy, unless ours covers the image too.
        let our_policy = msg_cause == Cause::Signature
            && image.is_some_and(|i| checks.signature.keys_for(&i.name()).is_some());
        let report = match (&ctx.http, f.image.as_deref()) {
            (Some(http), Some(raw))
                if (!node_side(msg_cause) || our_policy)
                    && f.pull_policy.as_deref() != Some("Never") =>
            {
                let mut opts = base.clone();
                if let Some(n) = &node {
                    opts.platforms = vec![n.clone()];
                }
                Some(
                    probe::probe_checked(
                        http.as_ref(),
                        ctx.clock.as_ref(),
                        raw,
                        &selection.candidates,
                        &opts,
                        &checks,
                    )
                    .await,
                )
            }
            _ => None,
        };
        // EKS/GKE/AKS nodes pull their own cloud's registry with the node identity.
        let node_identity = cloud_node
            .as_ref()
            .filter(|n| image.is_some_and(|i| cloud::pulls_with_node_identity(n, &i.registry)));
        let mut d = build(
            incident,
            f,
            best,
            report.as_ref(),
            Secrets {
                problems: &selection.problems,
                referenced: &selection.referenced,
                node_identity,
            },
        );
        let target = Target {
            namespace: &ns,
            workload: workload.clone(),
            container: f.container.as_deref(),
            init: f.init,
            index: f.index,
            image,
            service_account: &sa,
            nearest_tags: report.as_ref().map_or(&[][..], |r| &r.nearest_tags[..]),
            published: report
                .as_ref()
                .map_or(&[][..], |r| &r.published_platforms[..]),
            node: node.as_ref(),
            secret_problems: &selection.problems,
            node_identity,
        };
        let cause = d.1;
        d.0.remediation = remedy::steps(cause, &target);
        // A second reading when the text is ambiguous and nothing settled it.
        if report.is_none()
            && let Some(alt) = best.message.alternative
            && alt.class() != cause.class()
        {
            let mut a = Diagnosis::new(
                alt.class(),
                (1.0 - d.0.confidence).min(0.45),
                format!("{}: {}", who(f), alt.explain()),
                d.0.subject.clone(),
            );
            a.evidence = d.0.evidence.clone();
            a.remediation = remedy::steps(alt, &target);
            diagnoses.push(a);
        }
        diagnoses.push(d.0);
        if let Some(r) = report {
            probes.push(r);
        }
    }
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut evidence = Vec::new();
    if !failures.is_empty() {
        evidence.push(EvidenceItem::json("pull-messages.json", &failures)?);
    }
    if !probes.is_empty() {
        evidence.push(EvidenceItem::json("probe-transcript.json", &probes)?);
    }
    let mut outcome = Outcome {
        diagnoses,
        evidence,
    };
    bound_evidence(&mut outcome, crate::SPEC.max_evidence_bytes);
    Ok(outcome)
}

fn who(f: &Failure) -> String {
    let img = f.image.as_deref().unwrap_or("the image");
    match &f.container {
        Some(c) => format!("container {c} cannot pull {img}"),
        None => format!("cannot pull {img}"),
    }
}

/// What is known about the credentials a pull used.
struct Secrets<'a> {
    /// Problems with the referenced pull secrets.
    problems: &'a [SecretProblem],
    /// The pull secrets the pod and its service account reference, by name.
    referenced: &'a [String],
    /// The node pulls this registry with its cloud identity (no pull secret needed).
    node_identity: Option<&'a cloud::CloudNode>,
}

fn build(
    incident: &Incident,
    f: &Failure,
    best: &observe::Observed,
    report: Option<&ProbeReport>,
    secrets: Secrets<'_>,
) -> (Diagnosis, Cause) {
    let Secrets {
        problems,
        referenced,
        node_identity,
    } = secrets;
    let msg = &best.message;
    let subject = Subject {
        kind: incident.subject.kind.clone(),
        namespace: incident.subject.namespace.clone(),
        name: incident.subject.name.clone(),
        container: f.container.clone(),
    };
    let mut evidence = vec![format!("{}: \"{}\"", best.source, msg.quote)];
    if let Some(s) = msg.http_status {
        evidence.push(format!("HTTP status in the error: {s}"));
    }
    if msg.program_call {
        evidence.push(
            "the Job is told to have failed, so its pods ran and failed (a pull failure keeps a pod waiting and never counts against the backoff limit): this registry error is a call the program in the pod made, not the node's pull".into(),
        );
    }
    let (cause, mut confidence, mut note) = match report.map(|r| (&r.verdict, r)) {
        Some((Verdict::Fails { cause, detail }, r)) if *cause != Cause::Unspecified => {
            evidence.push(format!("registry probe ({}): {detail}", r.auth));
            let conf = if cause.class() == msg.cause.class() {
                msg.confidence.max(0.97)
            } else {
                0.9
            };
            let note = (cause.class() != msg.cause.class() && msg.cause != Cause::Unspecified)
                .then(|| {
                    format!(
                        " The kubelet's error said {} ({}); the registry's answer now says {}.",
                        msg.cause.class(),
                        msg.cause.explain(),
                        cause.class()
                    )
                });
            (*cause, conf, note)
        }
        Some((Verdict::Pullable { digest, .. }, r)) => {
            evidence.push(format!(
                "registry probe ({}): the manifest resolves now{}",
                r.auth,
                digest
                    .as_deref()
                    .map(|d| format!(" to {d}"))
                    .unwrap_or_default()
            ));
            let note = Some(" The registry now serves this image with the pod's credentials: the kubelet's error is stale (tag pushed, secret or registry fixed since); delete the pod to retry the pull.".to_owned());
            (msg.cause, (msg.confidence * 0.6).min(0.55), note)
        }
        _ => (msg.cause, msg.confidence, None),
    };
    if let Some(r) = report {
        if let Some(rl) = &r.rate_limit {
            evidence.push(format!(
                "rate limit headers: limit={} remaining={} retry-after={} source={}",
                rl.limit.as_deref().unwrap_or("-"),
                rl.remaining.as_deref().unwrap_or("-"),
                rl.retry_after.as_deref().unwrap_or("-"),
                rl.source.as_deref().unwrap_or("-")
            ));
        }
        if !r.published_platforms.is_empty() {
            let p: Vec<String> = r
                .published_platforms
                .iter()
                .map(ToString::to_string)
                .collect();
            evidence.push(format!("published platforms: {}", p.join(", ")));
        }
        if !r.nearest_tags.is_empty() {
            evidence.push(format!(
                "nearest existing tags: {}",
                r.nearest_tags.join(", ")
            ));
        }
        // A failed check is the verdict's own detail, already above.
        if let Some(line) = r.signature.as_ref().and_then(SignatureCheck::verified_line) {
            evidence.push(line);
        }
        if let Some(os) = &r.base_os {
            evidence.push(format!("base OS: {}", os.summary()));
        }
    }
    if cause.class() == Class::IMAGE_AUTH {
        match node_identity {
            Some(n) => evidence.push(format!(
                "node {} runs on {} ({}): it pulls from {} with {} through the kubelet credential provider, no imagePullSecret needed, so that identity is what the registry refused",
                n.name,
                n.cloud.kubernetes_service(),
                n.because,
                n.cloud.registry_service(),
                n.cloud.node_identity()
            )),
            None if referenced.is_empty() && incident.pod.is_some() => evidence
                .push("the pod and its service account reference no imagePullSecrets".into()),
            None => {}
        }
        for p in problems {
            evidence.push(match p {
                SecretProblem::Missing { name } => {
                    format!("pull secret {name} does not exist in the pod's namespace")
                }
                SecretProblem::OtherNamespace { name, found_in } => {
                    format!("pull secret {name} exists only in namespace {found_in}")
                }
                SecretProblem::Malformed { name, reason } => {
                    format!("pull secret {name} is unusable: {reason}")
                }
                SecretProblem::NoMatchingEntry { name, registries } => {
                    format!(
                        "pull secret {name} has no entry for this registry (has: {})",
                        registries.join(", ")
                    )
                }
            });
        }
        if !problems.is_empty() {
            confidence = confidence.max(0.9);
        }
        if report.is_some_and(|r| r.auth == "anonymous")
            && !referenced.is_empty()
            && problems.is_empty()
        {
            evidence.push(format!(
                "the pod references imagePullSecrets [{}] whose contents were not available to the probe, so it asked anonymously",
                referenced.join(", ")
            ));
        }
    }
    if report.is_none() && cause != Cause::Unspecified {
        let extra = " (from the error text alone; no registry probe)";
        note = Some(note.map_or_else(|| extra.to_owned(), |n| n + extra));
    }
    let who = if msg.program_call {
        "a call a program in the failed Job's pod made to a registry or token service failed (not the node's pull)".to_owned()
    } else {
        who(f)
    };
    let summary = format!(
        "{who}: {}.{}",
        cause.explain(),
        note.clone().unwrap_or_default()
    );
    let mut d = Diagnosis::new(cause.class(), confidence, summary, subject);
    d.evidence = evidence;
    // A cause only described in words is a reading until the registry confirms it: it must
    // not fail a CI gate fast.
    let reading = msg.told && report.is_none();
    d.definitive = cause.definitive()
        && !reading
        && !matches!(report.map(|r| &r.verdict), Some(Verdict::Pullable { .. }));
    d.details = json!({
        "cause": cause,
        "kubelet_cause": msg.cause,
        "registry_cause": report.and_then(ProbeReport::cause),
        "differs": report.is_some_and(|r| r.cause().map(Cause::class) != Some(msg.cause.class())),
        "image": f.image,
        "probed": report.is_some(),
        "signature": report.and_then(|r| r.signature.as_ref()),
        "base_os": report.and_then(|r| r.base_os.as_ref()),
    });
    (d, cause)
}

/// Drops evidence items, last first, until the evidence fits the bound.
fn bound_evidence(outcome: &mut Outcome, max: usize) {
    while outcome.evidence_bytes() > max {
        if outcome.evidence.pop().is_none() {
            break;
        }
    }
}
