//! Remediation steps per cause, with commands ready to run (lastmile never runs them).

use lastmile_events::Remediation;

use crate::credentials::SecretProblem;
use crate::message::Cause;
use crate::platform::Platform;
use crate::reference::ImageRef;

/// What the steps are about.
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    /// The pod's namespace (`-n` in the commands).
    pub namespace: &'a str,
    /// The workload to change: `deployment/api`, `job/migrate`, or `pod/x`.
    pub workload: String,
    /// Container name.
    pub container: Option<&'a str>,
    /// Init container?
    pub init: bool,
    /// Index of the container in its list.
    pub index: Option<usize>,
    /// The parsed image, when it parses.
    pub image: Option<&'a ImageRef>,
    /// Service account of the pod.
    pub service_account: &'a str,
    /// Existing tags nearest to the missing one.
    pub nearest_tags: &'a [String],
    /// Platforms the image publishes.
    pub published: &'a [Platform],
    /// The node's platform.
    pub node: Option<&'a Platform>,
    /// Pull-secret problems found.
    pub secret_problems: &'a [SecretProblem],
    /// The node pulls this image's registry with its cloud identity (EKS/GKE/AKS).
    pub node_identity: Option<&'a crate::cloud::CloudNode>,
}

fn step(description: impl Into<String>, command: Option<String>) -> Remediation {
    Remediation {
        description: description.into(),
        command,
    }
}

/// The steps that would fix `cause` for `t`.
pub fn steps(cause: Cause, t: &Target<'_>) -> Vec<Remediation> {
    let ns = t.namespace;
    let container = t.container.unwrap_or("<container>");
    let server = t.image.map_or("<registry>".to_owned(), |i| {
        if i.is_docker_hub() {
            "https://index.docker.io/v1/".into()
        } else {
            i.registry.clone()
        }
    });
    let list = if t.init {
        "initContainers"
    } else {
        "containers"
    };
    let index = t.index.unwrap_or(0);
    match cause {
        Cause::TagNotFound | Cause::NotFound | Cause::RepositoryNotFound => {
            let mut v = Vec::new();
            if let (Some(img), Some(tag)) = (t.image, t.nearest_tags.first()) {
                v.push(step(
                    format!(
                        "Use a tag that exists; nearest to the requested one: {}",
                        t.nearest_tags.join(", ")
                    ),
                    Some(format!(
                        "kubectl set image --namespace {ns} {} {container}={}",
                        t.workload,
                        img.with_tag(tag)
                    )),
                ));
            }
            v.push(step(
                "Push the missing image (or fix the tag in the manifest or CI variable that produced it), then delete the pod to retry",
                t.image.map(|i| format!("docker push {i}")),
            ));
            v
        }
        Cause::AccessDenied
        | Cause::NoCredentials
        | Cause::BadCredentials
        | Cause::ExpiredCredentials
        | Cause::InsufficientScope => {
            if let (Some(node), true) = (t.node_identity, t.secret_problems.is_empty()) {
                return node_identity_steps(node, t);
            }
            let mut v = Vec::new();
            for p in t.secret_problems {
                if let SecretProblem::OtherNamespace { name, found_in } = p {
                    v.push(step(
                        format!("Copy pull secret {name} from namespace {found_in} into {ns} (Secrets are namespaced)"),
                        Some(format!(
                            "kubectl get secret {name} --namespace {found_in} -o json | jq 'del(.metadata.namespace,.metadata.uid,.metadata.resourceVersion,.metadata.creationTimestamp,.metadata.ownerReferences)' | kubectl apply --namespace {ns} -f -"
                        )),
                    ));
                }
            }
            v.push(step(
                format!("Create (or re-create, if expired or wrong) a pull secret for {server} with credentials allowed to pull the repository"),
                Some(format!(
                    "kubectl create secret docker-registry regcred --namespace {ns} --docker-server={server} --docker-username=<user> --docker-password=<password-or-token> --dry-run=client -o yaml | kubectl apply -f -"
                )),
            ));
            v.push(step(
                format!("Attach it to the pod's service account {} so every pod using it pulls with it", t.service_account),
                Some(format!(
                    "kubectl patch serviceaccount {} --namespace {ns} -p '{{\"imagePullSecrets\":[{{\"name\":\"regcred\"}}]}}'",
                    t.service_account
                )),
            ));
            v
        }
        Cause::PlatformNoMatch | Cause::ExecFormat => {
            let published: Vec<String> = t.published.iter().map(ToString::to_string).collect();
            let node = t
                .node
                .map_or("the node's platform".to_owned(), ToString::to_string);
            let mut v = vec![step(
                format!(
                    "Publish the image for {node} as well (published: {})",
                    if published.is_empty() {
                        "unknown".to_owned()
                    } else {
                        published.join(", ")
                    }
                ),
                t.image.map(|i| {
                    format!(
                        "docker buildx build --platform linux/amd64,linux/arm64 -t {i} --push ."
                    )
                }),
            )];
            if let Some(p) = t.published.first() {
                v.push(step(
                    format!("Or run the workload only on {} nodes", p.architecture),
                    Some(format!(
                        "kubectl patch --namespace {ns} {} --type=merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"nodeSelector\":{{\"kubernetes.io/arch\":\"{}\"}}}}}}}}}}'",
                        t.workload, p.architecture
                    )),
                ));
            }
            v
        }
        Cause::TlsUnknownAuthority => vec![step(
            format!(
                "Trust the registry's CA on the nodes: put it in /etc/containerd/certs.d/{}/ca.crt (containerd hosts.toml) and restart nothing else",
                t.image.map_or("<registry>", |i| i.registry.as_str())
            ),
            Some(format!(
                "openssl s_client -connect {} -showcerts </dev/null",
                t.image.map_or("<registry>:443".to_owned(), |i| {
                    if i.registry.contains(':') {
                        i.registry.clone()
                    } else {
                        format!("{}:443", i.registry)
                    }
                })
            )),
        )],
        Cause::TlsExpired => vec![step(
            "Renew the registry's certificate; if it is valid, the node's clock is wrong: check NTP on the node",
            Some("timedatectl status".into()),
        )],
        Cause::TlsHostname | Cause::TlsOther => vec![step(
            "Reissue the registry certificate with the host name the image reference uses in its SANs, or reference the registry by a name the certificate covers",
            None,
        )],
        Cause::HttpOnlyRegistry => vec![step(
            "Serve the registry over HTTPS, or declare it as a plain-HTTP registry on the nodes (containerd hosts.toml: server = \"http://…\")",
            None,
        )],
        Cause::Dns | Cause::Refused | Cause::Timeout | Cause::Unreachable => vec![step(
            "Check the registry address from the node itself (localhost on a node is the node, not your workstation); fix DNS, the port, firewall or proxy settings",
            Some(format!(
                "kubectl run regcheck --namespace {ns} --rm -it --restart=Never --image=busybox -- wget -S -O- http{}://{}/v2/",
                if t.image
                    .is_some_and(|i| crate::reference::is_loopback(&i.registry))
                {
                    ""
                } else {
                    "s"
                },
                t.image.map_or("<registry>", |i| i.api_host())
            )),
        )],
        Cause::RegistryUnavailable => vec![step(
            "The registry is failing (5xx); retry later or check its status page",
            None,
        )],
        Cause::RateLimited => vec![
            step(
                "Pull with authenticated credentials (higher limits) or through a registry mirror/cache",
                Some(format!(
                    "kubectl create secret docker-registry dockerhub --namespace {ns} --docker-server={server} --docker-username=<user> --docker-password=<token>"
                )),
            ),
            step(
                "Pin tags and use imagePullPolicy: IfNotPresent so nodes do not re-pull",
                None,
            ),
        ],
        Cause::InvalidReference => vec![step(
            "Fix the image reference: lower-case repository, one tag after ':' and/or one digest after '@'",
            t.image.map(|i| {
                format!(
                    "kubectl set image --namespace {ns} {} {container}={i}",
                    t.workload
                )
            }),
        )],
        Cause::NeverPull => vec![step(
            "Load the image onto the node (kind load / minikube image load), or allow pulling",
            Some(format!(
                "kubectl patch --namespace {ns} {} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/template/spec/{list}/{index}/imagePullPolicy\",\"value\":\"IfNotPresent\"}}]'",
                t.workload
            )),
        )],
        Cause::Signature => vec![step(
            "Sign the image digest with the key the node's policy trusts, or fix the policy",
            t.image.map(|i| format!("cosign sign --key <key> {i}")),
        )],
        Cause::Unspecified => vec![step(
            "Read the full pull error on the node or in the pod's events",
            Some(format!("kubectl describe {} --namespace {ns}", t.workload)),
        )],
    }
}

/// Fixes for a registry that refuses the node's own cloud identity: grant it read access
/// (a pull secret is not how these nodes authenticate).
fn node_identity_steps(node: &crate::cloud::CloudNode, t: &Target<'_>) -> Vec<Remediation> {
    use crate::cloud::Cloud;
    let repo = t
        .image
        .map(|i| i.repository.as_str())
        .unwrap_or("<repository>");
    let registry = t.image.map(|i| i.registry.as_str()).unwrap_or("<registry>");
    let pool = node.pool.as_deref().unwrap_or("<node-group>");
    match node.cloud {
        Cloud::Aws => vec![
            step(
                format!(
                    "Let the IAM role of node group {pool} read ECR (the kubelet pulls with it; a cross-account repository also needs a repository policy allowing that role)"
                ),
                Some(
                    "aws iam attach-role-policy --role-name <node-instance-role> --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
                        .to_owned(),
                ),
            ),
            step(
                format!("Check that repository {repo} exists in that account and region and whose policy admits the role"),
                Some(format!("aws ecr get-repository-policy --repository-name {repo}")),
            ),
        ],
        Cloud::Gcp => vec![step(
            format!(
                "Grant the service account of node pool {pool} read access to the repository (roles/artifactregistry.reader), or use Workload Identity for the pod"
            ),
            Some(format!(
                "gcloud artifacts repositories add-iam-policy-binding <repository> --location=<location> --member=serviceAccount:<node-service-account> --role=roles/artifactregistry.reader  # registry {registry}"
            )),
        )],
        Cloud::Azure => vec![step(
            format!("Attach the registry {registry} to the AKS cluster, which grants AcrPull to the kubelet identity"),
            Some(format!(
                "az aks update --name <cluster> --resource-group <resource-group> --attach-acr {}",
                registry.split('.').next().unwrap_or(registry)
            )),
        )],
    }
}
