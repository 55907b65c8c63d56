//! The kinds the Kubernetes API serves, per built-in API group: a kind a built-in group does
//! not serve is a typo (`Deploymnet`) or a removed version, and is refused before linting.
//! Custom resources (any other group) are accepted and ignored.

/// (group, kinds). The core group is `""`.
const BUILT_IN: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Pod",
            "Service",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "Namespace",
            "PersistentVolumeClaim",
            "PersistentVolume",
            "Endpoints",
            "LimitRange",
            "ResourceQuota",
            "ReplicationController",
            "Event",
            "Node",
            "PodTemplate",
            "Binding",
            "ComponentStatus",
        ],
    ),
    (
        "apps",
        &[
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "ControllerRevision",
        ],
    ),
    ("batch", &["Job", "CronJob"]),
    ("autoscaling", &["HorizontalPodAutoscaler", "Scale"]),
    ("policy", &["PodDisruptionBudget", "Eviction"]),
    (
        "networking.k8s.io",
        &[
            "Ingress",
            "IngressClass",
            "NetworkPolicy",
            "IPAddress",
            "ServiceCIDR",
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        &["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
    ),
    (
        "storage.k8s.io",
        &[
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    (
        "admissionregistration.k8s.io",
        &[
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
        ],
    ),
    ("apiregistration.k8s.io", &["APIService"]),
    ("scheduling.k8s.io", &["PriorityClass"]),
    ("coordination.k8s.io", &["Lease", "LeaseCandidate"]),
    ("discovery.k8s.io", &["EndpointSlice"]),
    ("node.k8s.io", &["RuntimeClass"]),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    (
        "resource.k8s.io",
        &[
            "DeviceClass",
            "ResourceClaim",
            "ResourceClaimTemplate",
            "ResourceSlice",
        ],
    ),
    (
        "authorization.k8s.io",
        &[
            "SubjectAccessReview",
            "SelfSubjectAccessReview",
            "LocalSubjectAccessReview",
            "SelfSubjectRulesReview",
        ],
    ),
    (
        "authentication.k8s.io",
        &["TokenReview", "SelfSubjectReview"],
    ),
    ("events.k8s.io", &["Event"]),
];

/// True unless `api_version` names a built-in group that does not serve `kind`.
pub(crate) fn is_known(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match BUILT_IN.iter().find(|(g, _)| *g == group) {
        Some((_, kinds)) => kinds.contains(&kind),
        // `*.k8s.io` groups not listed above are still Kubernetes' own: only listed ones are
        // checked, so a new built-in group is never refused.
        None => true,
    }
}
