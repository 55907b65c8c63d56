//! The pure parts of the platform check: which image and node it asks about, how a probe
//! report reads, and what the diagnosis then says. The registry itself is exercised in
//! `tests/it/runtime_exec_arch.rs` against a real `docker-registry`.

use lastmile_events::{Class, Subject};
use lastmile_fn_image_pull::message::Cause;
use lastmile_fn_image_pull::probe::Verdict;
use lastmile_fn_image_pull::transcript::{Entry, Transcript};
use serde_json::{Value, json};

use super::*;

const DIGEST: &str = "sha256:9b2a4e3f0c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f";

/// A pod as `kubectl get pod -o json` shows it: container `api` on `node`, its status'
/// `imageID` as given.
fn pod(image_id: &str, node_selector: Option<serde_json::Value>) -> Pod {
    let mut spec = json!({"nodeName": "worker-1", "containers": [
        {"name": "sidecar", "image": "envoyproxy/envoy:v1.31.0"},
        {"name": "api", "image": "ghcr.io/acme/api:2.14.0", "command": ["/app/server"]}]});
    if let Some(s) = node_selector {
        spec["nodeSelector"] = s;
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-7c9b6d8f45-p2xnq", "namespace": "shop"},
        "spec": spec,
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "sidecar", "image": "docker.io/envoyproxy/envoy:v1.31.0", "imageID": format!("docker.io/envoyproxy/envoy@{DIGEST}"), "ready": true, "restartCount": 0},
            {"name": "api", "image": "ghcr.io/acme/api:2.14.0", "imageID": image_id, "ready": false, "restartCount": 4,
             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container=api"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
    }))
    .unwrap()
}

fn node(name: &str, arch: &str) -> k8s_openapi::api::core::v1::Node {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/arch": arch, "kubernetes.io/os": "linux"}},
        "status": {"nodeInfo": {"architecture": arch, "operatingSystem": "linux", "bootID": "", "containerRuntimeVersion": "containerd://1.7.20",
                   "kernelVersion": "", "kubeProxyVersion": "", "kubeletVersion": "v1.31.0", "machineID": "", "osImage": "", "systemUUID": ""}}
    }))
    .unwrap()
}

#[test]
fn the_image_asked_about_is_the_digest_the_node_ran() {
    let containerd = format!("ghcr.io/acme/api@{DIGEST}");
    assert_eq!(
        image_of(&pod(&containerd, None), Some("api")).as_deref(),
        Some(containerd.as_str())
    );
    // Docker's form.
    assert_eq!(
        image_of(
            &pod(&format!("docker-pullable://{containerd}"), None),
            Some("api")
        )
        .as_deref(),
        Some(containerd.as_str())
    );
    // A bare config id, or none yet: the spec's image.
    for id in [
        DIGEST.to_owned(),
        format!("docker://{DIGEST}"),
        String::new(),
    ] {
        assert_eq!(
            image_of(&pod(&id, None), Some("api")).as_deref(),
            Some("ghcr.io/acme/api:2.14.0"),
            "{id}"
        );
    }
}

#[test]
fn the_nodes_platform_comes_from_the_node_else_from_the_pods_node_selector() {
    let p = pod("", None);
    let mut snapshot = ClusterSnapshot::default();
    assert_eq!(node_platform(Some(&p), &snapshot), None);
    snapshot.nodes.push(node("worker-1", "amd64"));
    let n = node_platform(Some(&p), &snapshot).unwrap();
    assert_eq!(
        (n.name.as_str(), n.platform.to_string()),
        ("node worker-1", "linux/amd64".to_owned())
    );
    let selected = pod("", Some(json!({"kubernetes.io/arch": "amd64"})));
    let n = node_platform(Some(&selected), &ClusterSnapshot::default()).unwrap();
    assert_eq!(n.platform.to_string(), "linux/amd64");
    assert_eq!(n.source, "the pod's nodeSelector kubernetes.io/arch");
}

fn entry(step: &str) -> Entry {
    Entry {
        step: step.into(),
        method: "GET".into(),
        url: "https://ghcr.io/v2/acme/api/manifests/2.14.0".into(),
        request_headers: Default::default(),
        status: Some(200),
        error: None,
        response_headers: Default::default(),
        body: None,
        elapsed_ms: 3,
    }
}

fn report(published: &[&str], verdict: Verdict, steps: &[&str]) -> ProbeReport {
    ProbeReport {
        image: "ghcr.io/acme/api:2.14.0".into(),
        resolved: None,
        verdict,
        auth: "anonymous".into(),
        published_platforms: published
            .iter()
            .map(|p| Platform::parse(p).unwrap())
            .collect(),
        missing_platforms: Vec::new(),
        nearest_tags: Vec::new(),
        rate_limit: None,
        signature: None,
        base_os: None,
        transcript: Transcript {
            entries: steps.iter().map(|s| entry(s)).collect(),
        },
    }
}

fn fails(cause: Cause, detail: &str) -> Verdict {
    Verdict::Fails {
        cause,
        detail: detail.into(),
    }
}

#[test]
fn a_report_reads_as_the_index_or_the_config_or_not_checked() {
    let config = report(
        &["linux/arm64"],
        fails(
            Cause::PlatformNoMatch,
            "publishes [linux/arm64/v8] but not linux/amd64",
        ),
        &["manifest", "manifest", "config"],
    );
    let Check::Read(r) = Check::of_report(&config) else {
        panic!("read")
    };
    assert!(!r.from_index);
    assert_eq!(r.published, [Platform::parse("linux/arm64/v8").unwrap()]);

    // buildx's attestation entries are not platforms.
    let index = report(
        &["linux/amd64", "unknown/unknown"],
        Verdict::Pullable {
            digest: Some(DIGEST.into()),
            media_type: "application/vnd.oci.image.index.v1+json".into(),
        },
        &["manifest", "manifest"],
    );
    let Check::Read(r) = Check::of_report(&index) else {
        panic!("read")
    };
    assert!(r.from_index);
    assert_eq!(r.published.len(), 1);

    let down = report(
        &[],
        fails(Cause::Refused, "connection refused"),
        &["manifest"],
    );
    assert_eq!(
        Check::of_report(&down),
        Check::NotChecked(
            "the registry check of ghcr.io/acme/api:2.14.0 failed (image.network): connection refused"
                .into()
        )
    );
}

fn text_only() -> Diagnosis {
    let mut d = Diagnosis::new(
        Class::IMAGE_PLATFORM_MISMATCH,
        0.9,
        "Container `api` cannot start: `exec format error` means its binary was built for another CPU architecture than the node's.",
        Subject::default(),
    );
    d.remediation = vec![remedy::step(
        "Compare the image's platforms with the node's architecture.",
        "kubectl get nodes -L kubernetes.io/arch",
    )];
    d.details = json!({"executable": "/app/server"});
    d
}

fn target() -> Target {
    let subject = lastmile_events::ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "api-7c9b6d8f45-p2xnq".into(),
        ..Default::default()
    };
    let owner = lastmile_events::ObjectRef {
        kind: "Deployment".into(),
        name: "api".into(),
        ..Default::default()
    };
    Target::of(&Incident::new(
        lastmile_events::IncidentFamily::Runtime,
        subject,
        Some(owner),
        chrono::DateTime::UNIX_EPOCH,
    ))
}

fn amd64_node() -> NodePlatform {
    NodePlatform {
        name: "node worker-1".into(),
        platform: Platform::parse("linux/amd64").unwrap(),
        source: "the Node's status.nodeInfo and labels",
    }
}

fn said<'a>(node: Option<&'a NodePlatform>, t: &'a Target) -> Said<'a> {
    Said {
        who: "Container `api`",
        node,
        target: t,
        spec_image: "ghcr.io/acme/api:2.14.0",
    }
}

fn commands(d: &Diagnosis) -> Vec<&str> {
    d.remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect()
}

#[test]
fn an_arm64_only_image_on_an_amd64_node_is_said_as_fact_with_both_fixes() {
    let (t, n) = (target(), amd64_node());
    let mut d = text_only();
    let read = Check::Read(Read {
        image: format!("ghcr.io/acme/api@{DIGEST}"),
        published: vec![Platform::parse("linux/arm64").unwrap()],
        from_index: false,
        login: "anonymous".into(),
    });
    apply(&mut d, &read, &said(Some(&n), &t));
    assert_eq!(
        d.summary,
        format!(
            "Container `api` cannot start: `exec format error`: image ghcr.io/acme/api@{DIGEST} is built for linux/arm64/v8 only; node worker-1 is linux/amd64."
        )
    );
    assert_eq!(
        d.evidence,
        [
            format!(
                "read from the registry (anonymous): the image config of ghcr.io/acme/api@{DIGEST} says \"architecture\": \"arm64\", \"os\": \"linux\", \"variant\": \"v8\""
            ),
            "node worker-1 is linux/amd64 (the Node's status.nodeInfo and labels)".to_owned(),
        ]
    );
    assert_eq!(
        commands(&d),
        [
            "docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/acme/api:2.14.0 --push .",
            "kubectl patch -n shop deployment/api -p '{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/arch\":\"arm64\"}}}}}'",
        ]
    );
    assert!(d.confidence >= 0.97 && d.definitive);
    assert_eq!(d.details["platform_check"]["serves_node"], false);
    assert_eq!(d.details["executable"], "/app/server");
}

#[test]
fn an_index_that_has_the_nodes_platform_means_the_binary_inside_is_wrong() {
    let (t, n) = (target(), amd64_node());
    let mut d = text_only();
    let read = Check::Read(Read {
        image: "ghcr.io/acme/api:2.14.0".into(),
        published: ["linux/amd64", "linux/arm64"]
            .map(|p| Platform::parse(p).unwrap())
            .to_vec(),
        from_index: true,
        login: "pull secret shop/ghcr".into(),
    });
    apply(&mut d, &read, &said(Some(&n), &t));
    assert!(
        d.summary.contains("although image ghcr.io/acme/api:2.14.0's index has linux/amd64 (node worker-1's platform): the binary inside the image is built for another CPU architecture"),
        "{}",
        d.summary
    );
    assert_eq!(
        d.evidence[0],
        "read from the registry (pull secret shop/ghcr): the image index of ghcr.io/acme/api:2.14.0 lists linux/amd64, linux/arm64/v8"
    );
    assert!(
        commands(&d)[0].contains("docker cp \"$id:/app/server\" ./binary")
            && commands(&d)[0].contains("file ./binary"),
        "{:?}",
        commands(&d)
    );
    assert_eq!(d.details["platform_check"]["serves_node"], true);
}

/// Runtime incidents from the watcher carry no Node: the index's platforms are still said,
/// the comparison is left to the text-only remediation.
#[test]
fn an_unknown_node_still_gets_the_images_platforms() {
    let t = target();
    let before = text_only();
    let mut d = text_only();
    let read = Check::Read(Read {
        image: "ghcr.io/acme/api:2.14.0".into(),
        published: vec![Platform::parse("linux/arm64").unwrap()],
        from_index: true,
        login: "anonymous".into(),
    });
    apply(&mut d, &read, &said(None, &t));
    assert!(
        d.summary
            .contains("image ghcr.io/acme/api:2.14.0 is built for linux/arm64/v8 only")
            && d.summary
                .contains("the node's platform is not in the cluster state"),
        "{}",
        d.summary
    );
    assert_eq!(d.evidence.len(), 1, "{:?}", d.evidence);
    assert_eq!(d.remediation, before.remediation);
    assert_eq!(d.details["platform_check"]["serves_node"], Value::Null);
}

#[test]
fn not_checked_keeps_the_text_only_diagnosis_and_says_so() {
    let t = target();
    let before = text_only();
    let mut d = text_only();
    apply(
        &mut d,
        &Check::NotChecked("this host gives the function no registry access".into()),
        &said(None, &t),
    );
    assert!(d.summary.starts_with(&before.summary));
    assert!(
        d.summary
            .ends_with("The image's platforms were not checked against the registry.")
    );
    assert_eq!(
        d.evidence,
        ["image platforms not checked: this host gives the function no registry access"]
    );
    assert_eq!(d.remediation, before.remediation);
    assert_eq!(d.confidence, before.confidence);
}

#[test]
fn buildx_platforms_leave_out_the_default_arm64_variant() {
    for (p, want) in [
        ("linux/arm64", "linux/arm64"),
        ("linux/amd64", "linux/amd64"),
        ("linux/arm/v7", "linux/arm/v7"),
    ] {
        assert_eq!(build_platform(&Platform::parse(p).unwrap()), want);
    }
}

#[test]
fn the_budget_fits_the_deadline() {
    assert!(BUDGET + Duration::from_secs(1) < crate::SPEC.deadline);
    assert!(REQUEST_TIMEOUT < BUDGET);
}

#[tokio::test]
async fn within_ends_a_check_that_outlives_its_budget() {
    let started = std::time::Instant::now();
    let never = within(Duration::from_millis(50), futures::future::pending::<()>()).await;
    assert_eq!(never, None);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(within(Duration::from_secs(30), async { 7 }).await, Some(7));
}
