//! The function end to end without network: the compliance spec, realistic incidents, and the
//! real failure reports of `shared/cases` (message-level diagnosis, as `lastmile explain` runs it).

#![allow(clippy::unwrap_used)]

use lastmile_contract::{Context, compliance};
use lastmile_events::{Incident, IncidentFamily, KubeEvent, ObjectRef};
use lastmile_fn_image_pull::{FUNCTION, handle};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn pod_ref(name: &str) -> ObjectRef {
    ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: name.into(),
        ..Default::default()
    }
}

fn text_incident(text: &str) -> Incident {
    let mut i = Incident::new(IncidentFamily::ImagePull, pod_ref("from-text"), None, now());
    i.text = Some(text.to_owned());
    i
}

/// A pod stuck in ImagePullBackOff as `kubectl get pod -o json` prints it (kubelet 1.32+ text).
fn backoff_incident() -> Incident {
    let pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-7d9f-x2", "namespace": "ci", "uid": "u-1"},
        "spec": {"nodeName": "node-a", "serviceAccountName": "builder",
                 "containers": [{"name": "api", "image": "registry.example.com/team/api:1.4.2", "imagePullPolicy": "IfNotPresent"}],
                 "imagePullSecrets": [{"name": "regcred"}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "image": "registry.example.com/team/api:1.4.2", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.example.com/team/api:1.4.2\": ErrImagePull: failed to pull and unpack image \"registry.example.com/team/api:1.4.2\": failed to resolve reference \"registry.example.com/team/api:1.4.2\": registry.example.com/team/api:1.4.2: not found"}}}]}
    }))
    .unwrap();
    let mut i = Incident::new(
        IncidentFamily::ImagePull,
        pod_ref("api-7d9f-x2"),
        Some(ObjectRef {
            kind: "Deployment".into(),
            namespace: Some("ci".into()),
            name: "api".into(),
            ..Default::default()
        }),
        now(),
    );
    i.pod = Some(pod);
    i.events.push(KubeEvent {
        ty: "Warning".into(),
        reason: "Failed".into(),
        message: "Error: ImagePullBackOff".into(),
        regarding: ObjectRef {
            field_path: Some("spec.containers{api}".into()),
            ..pod_ref("api-7d9f-x2")
        },
        count: 7,
        reporting_controller: "kubelet".into(),
        ..Default::default()
    });
    i
}

#[tokio::test]
async fn function_meets_the_compliance_spec() {
    let samples = vec![
        backoff_incident(),
        text_incident(
            "Failed to pull image \"nginx:nope\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:nope\": docker.io/library/nginx:nope: not found",
        ),
        text_incident(
            "InvalidImageName: Failed to apply default image tag \"Nginx\": couldn't parse image name \"Nginx\": invalid reference format: repository name (library/Nginx) must be lowercase",
        ),
    ];
    compliance::check(&FUNCTION, &samples, &Context::fixed(now())).await;
}

#[tokio::test]
async fn backoff_pod_names_container_class_and_fix() {
    let out = handle(&backoff_incident(), &Context::fixed(now()))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.not_found");
    assert_eq!(d.subject.container.as_deref(), Some("api"));
    assert!(d.definitive);
    assert!(d.summary.contains("no registry probe"), "{}", d.summary);
    assert!(d.evidence[0].contains("not found"), "{:?}", d.evidence);
    let cmds: Vec<&str> = d
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        cmds.iter()
            .any(|c| c.contains("registry.example.com/team/api:1.4.2")),
        "{cmds:?}"
    );
    assert_eq!(d.details["probed"], false);
}

#[tokio::test]
async fn never_pull_and_ambiguous_denied_give_the_right_first_and_second_reading() {
    let out = handle(&text_incident("Warning  ErrImageNeverPull  kubelet  Container image \"app:dev\" is not present with pull policy of Never"), &Context::fixed(now())).await.unwrap();
    assert_eq!(out.diagnoses[0].class.as_str(), "image.never_pull");
    let out = handle(&text_incident("Failed to pull image \"acme/private:1\": rpc error: code = Unknown desc = Error response from daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), &Context::fixed(now())).await.unwrap();
    let classes: Vec<&str> = out.diagnoses.iter().map(|d| d.class.as_str()).collect();
    assert_eq!(classes, ["image.auth", "image.not_found"]);
    assert!(out.diagnoses[0].remediation.iter().any(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.starts_with("kubectl create secret docker-registry"))
    }));
}

#[derive(serde::Deserialize)]
struct Case {
    id: String,
    accept: Vec<String>,
    input: String,
}

fn cases() -> Vec<Case> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/real-failures-dev.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the copy of shared/cases in tests/fixtures)",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn real_failure_reports_image_cases_hit_rate() {
    let mut hits = 0;
    let mut misses = Vec::new();
    let image_cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.accept.iter().any(|a| a.starts_with("image.")))
        .collect();
    for c in &image_cases {
        let out = handle(&text_incident(&c.input), &Context::offline())
            .await
            .unwrap();
        let first = out
            .diagnoses
            .first()
            .map(|d| d.class.as_str().to_owned())
            .unwrap_or_else(|| "none".into());
        if c.accept.contains(&first) {
            hits += 1;
        } else {
            misses.push(format!("{} -> {first} (accept {:?})", c.id, c.accept));
        }
    }
    println!(
        "image cases: {hits}/{} first diagnosis accepted; misses: {misses:#?}",
        image_cases.len()
    );
    assert!(!image_cases.is_empty());
    assert!(
        hits * 10 >= image_cases.len() * 9,
        "hit rate below 90%: {misses:#?}"
    );
}

#[tokio::test]
async fn real_failure_reports_of_other_families_are_not_claimed_confidently() {
    let mut claimed = Vec::new();
    for c in cases()
        .into_iter()
        .filter(|c| !c.accept.iter().any(|a| a.starts_with("image.")))
    {
        let out = handle(&text_incident(&c.input), &Context::offline())
            .await
            .unwrap();
        if let Some(d) = out
            .diagnoses
            .first()
            .filter(|d| d.confidence >= 0.5 && d.class.as_str() != "unknown")
        {
            claimed.push(format!("{} -> {} {:.2}", c.id, d.class, d.confidence));
        }
    }
    println!("other-family cases claimed: {claimed:#?}");
    assert!(claimed.is_empty(), "{claimed:#?}");
}

/// A pod on an EKS node pulling from the account's ECR, refused with 403 (the node role lacks
/// ECR read): no pull secret is expected there.
fn ecr_incident(provider_id: Option<&str>) -> Incident {
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.2";
    let message = format!(
        "Back-off pulling image \"{image}\": ErrImagePull: failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": unexpected status from HEAD request to https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/team/api/manifests/1.4.2: 403 Forbidden"
    );
    let pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-5c8d-q1", "namespace": "ci", "uid": "u-2"},
        "spec": {"nodeName": "ip-10-0-1-23.eu-west-1.compute.internal",
                 "containers": [{"name": "api", "image": image}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "image": image, "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": message}}}]}
    }))
    .unwrap();
    let mut spec = serde_json::json!({});
    if let Some(p) = provider_id {
        spec = serde_json::json!({"providerID": p});
    }
    let mut labels =
        serde_json::json!({"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"});
    if provider_id.is_some() {
        labels["eks.amazonaws.com/nodegroup"] = "ci-runners".into();
    }
    let node = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "ip-10-0-1-23.eu-west-1.compute.internal", "labels": labels},
        "spec": spec,
        "status": {"nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.31.2",
            "osImage": "Amazon Linux 2023", "containerRuntimeVersion": "containerd://1.7.22", "kernelVersion": "6.1.0",
            "machineID": "m", "systemUUID": "s", "bootID": "b", "kubeProxyVersion": ""}}
    }))
    .unwrap();
    let mut i = Incident::new(
        IncidentFamily::ImagePull,
        pod_ref("api-5c8d-q1"),
        None,
        now(),
    );
    i.pod = Some(pod);
    std::sync::Arc::make_mut(&mut i.snapshot).nodes.push(node);
    i
}

#[tokio::test]
async fn an_eks_node_pulling_ecr_is_about_the_node_role_not_a_pull_secret() {
    let out = handle(
        &ecr_incident(Some("aws:///eu-west-1a/i-0abc123")),
        &Context::fixed(now()),
    )
    .await
    .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.auth", "{d:?}");
    let evidence = d.evidence.join("\n");
    assert!(evidence.contains("runs on EKS"), "{evidence}");
    assert!(evidence.contains("IAM role"), "{evidence}");
    assert!(
        !evidence.contains("reference no imagePullSecrets"),
        "{evidence}"
    );
    let commands: Vec<&str> = d
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.contains("AmazonEC2ContainerRegistryReadOnly")),
        "{commands:?}"
    );
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("create secret docker-registry")),
        "a pull secret is not how EKS nodes pull ECR: {commands:?}"
    );
}

#[tokio::test]
async fn the_same_pull_on_a_node_of_no_known_cloud_still_asks_for_a_pull_secret() {
    let out = handle(&ecr_incident(None), &Context::fixed(now()))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.auth");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("reference no imagePullSecrets")),
        "{:?}",
        d.evidence
    );
    assert!(
        d.remediation
            .iter()
            .filter_map(|r| r.command.as_deref())
            .any(|c| c.contains("create secret docker-registry")),
        "{:?}",
        d.remediation
    );
}

/// A cause only described in words (no registry message, no probe) is a reading: it keeps
/// its class but is not definitive, so a CI gate waits instead of failing on a guess.
#[tokio::test]
async fn a_cause_described_in_words_is_not_definitive() {
    let mut i = backoff_incident();
    i.pod = None;
    i.events.clear();
    i.text = Some(
        "Pods report ImagePullBackOff; the tokens stored in the pull secret `acr-pull` are expired."
            .into(),
    );
    let out = handle(&i, &Context::fixed(now())).await.unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.auth", "{d:?}");
    assert!(!d.definitive, "{d:?}");
}
