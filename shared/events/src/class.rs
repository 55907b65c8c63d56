//! The taxonomy's classes: what a diagnosis says went wrong.
//!
//! [`Class`] is an enum, so a function names its class at compile time; on the wire it is the
//! class ID string (`scheduling.insufficient_resources`), exactly as before. A class ID this
//! build does not know (a newer producer's) is kept verbatim as [`Class::Unrecognized`], so a
//! gate or a replay never drops a diagnosis it cannot name.
//!
//! The list below is the one source of the public class list: `docs/classes.md` is generated
//! from it ([`markdown_table`]) and a test fails when the checked-in copy drifts.

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! classes {
    ($($variant:ident = $konst:ident = $id:literal, $doc:literal;)*) => {
        /// A taxonomy class. Serialised as its ID; IDs never change meaning.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Class {
            $(
                #[doc = concat!("`", $id, "`: ", $doc)]
                $variant,
            )*
            /// A class ID this build does not know, e.g. from a newer function; kept verbatim.
            Unrecognized(String),
        }

        impl Class {
            $(
                #[doc = concat!("The ID `", $id, "`.")]
                pub const $konst: &'static str = $id;
            )*

            /// Every class the taxonomy defines, in the taxonomy's order.
            pub const KNOWN: &'static [Class] = &[$(Class::$variant),*];

            /// Every class ID the taxonomy defines.
            pub const ALL: &'static [&'static str] = &[$($id),*];

            /// The ID, e.g. `image.auth`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Class::$variant => $id,)*
                    Class::Unrecognized(id) => id,
                }
            }

            /// What the class means, as the taxonomy defines it (empty for unrecognised IDs).
            pub fn description(&self) -> &'static str {
                match self {
                    $(Class::$variant => $doc,)*
                    Class::Unrecognized(_) => "",
                }
            }

            /// The class for an ID; unknown IDs become [`Class::Unrecognized`].
            pub fn new(id: &str) -> Self {
                match id {
                    $($id => Class::$variant,)*
                    other => Class::Unrecognized(other.to_owned()),
                }
            }
        }
    };
}

classes! {
    InsufficientResources = INSUFFICIENT_RESOURCES = "scheduling.insufficient_resources",
        "no node has enough allocatable cpu, memory, ephemeral-storage, extended resources or pod slots for the pod's effective requests";
    UntoleratedTaint = UNTOLERATED_TAINT = "scheduling.untolerated_taint",
        "the nodes that could fit carry taints the pod does not tolerate";
    NodeAffinity = NODE_AFFINITY = "scheduling.node_affinity",
        "nodeSelector or required node affinity matches no (fitting) node";
    PodAffinity = POD_AFFINITY = "scheduling.pod_affinity",
        "inter-pod affinity / anti-affinity or topology spread constraints cannot be met";
    UnschedulableNodes = UNSCHEDULABLE_NODES = "scheduling.unschedulable_nodes",
        "the candidate nodes are cordoned (`spec.unschedulable`)";
    HostPorts = HOST_PORTS = "scheduling.host_ports",
        "requested host ports are taken on every candidate node";
    VolumeBinding = VOLUME_BINDING = "scheduling.volume_binding",
        "unbound immediate PVC, no matching PV, missing StorageClass, volume node-affinity conflict, attach limits";
    NoNodes = NO_NODES = "scheduling.no_nodes",
        "the cluster has no schedulable nodes at all";
    Gated = GATED = "scheduling.gated",
        "the pod is held by `schedulingGates`";
    QuotaExceeded = QUOTA_EXCEEDED = "admission.quota_exceeded",
        "a ResourceQuota rejects the pod (exceeded, or \"must specify\" requests/limits)";
    LimitRange = LIMIT_RANGE = "admission.limit_range",
        "a LimitRange min/max/ratio rejects the pod or container";
    PolicyDenied = POLICY_DENIED = "admission.policy_denied",
        "another admission controller or webhook denies the pod (Pod Security, policy engines)";
    NoScaleUp = NO_SCALE_UP = "scaling.no_scale_up",
        "the autoscaler (cluster-autoscaler, Karpenter) will not add a node that would fit";
    ImageNotFound = IMAGE_NOT_FOUND = "image.not_found",
        "the repository or tag/digest does not exist at the registry the node talks to";
    ImageAuth = IMAGE_AUTH = "image.auth",
        "no, wrong, expired or insufficient credentials; pull secret missing, malformed, or in another namespace";
    ImagePlatformMismatch = IMAGE_PLATFORM_MISMATCH = "image.platform_mismatch",
        "the image (index) has no entry for the node's os/arch/variant, or the binary is for another arch";
    ImageTls = IMAGE_TLS = "image.tls",
        "certificate problems: unknown CA, expired, hostname mismatch, or an HTTP-only registry contacted over HTTPS";
    ImageNetwork = IMAGE_NETWORK = "image.network",
        "DNS failure, connection refused/reset, timeout, proxy problems between node and registry";
    ImageRateLimited = IMAGE_RATE_LIMITED = "image.rate_limited",
        "the registry throttles pulls (HTTP 429, `toomanyrequests`)";
    ImageInvalidReference = IMAGE_INVALID_REFERENCE = "image.invalid_reference",
        "the image reference cannot be parsed (`InvalidImageName`)";
    ImageNeverPull = IMAGE_NEVER_PULL = "image.never_pull",
        "`imagePullPolicy: Never` and the image is not on the node";
    ImageSignature = IMAGE_SIGNATURE = "image.signature",
        "signature missing or invalid under the configured verification policy";
    InitBlocked = INIT_BLOCKED = "init.blocked",
        "an init container waits on a dependency (service, DB, file, another workload) that never becomes available";
    InitDeadlock = INIT_DEADLOCK = "init.deadlock",
        "init containers of two or more pods wait on each other in a cycle";
    InitCrashloop = INIT_CRASHLOOP = "init.crashloop",
        "an init container fails repeatedly";
    JobDeadlineExceeded = JOB_DEADLINE_EXCEEDED = "job.deadline_exceeded",
        "the Job ran past `activeDeadlineSeconds`";
    JobBackoffLimit = JOB_BACKOFF_LIMIT = "job.backoff_limit",
        "the Job's pods failed more than `backoffLimit` (or per-index limits / pod failure policy)";
    JobStuckActive = JOB_STUCK_ACTIVE = "job.stuck_active",
        "the Job is active far past its expected duration with no progress";
    BuildChecksumMismatch = BUILD_CHECKSUM_MISMATCH = "build.checksum_mismatch",
        "go.sum / checksum-database verification failed, corrupted module cache, poisoned proxy";
    BuildGoModDirty = BUILD_GO_MOD_DIRTY = "build.go_mod_dirty",
        "the build needed to change go.mod/go.sum, or something in CI rewrote them";
    BuildMissingGoSum = BUILD_MISSING_GO_SUM = "build.missing_go_sum",
        "`missing go.sum entry`";
    BuildDependencyDrift = BUILD_DEPENDENCY_DRIFT = "build.dependency_drift",
        "two builds of the same commit resolved different module versions";
    BuildNotReproducible = BUILD_NOT_REPRODUCIBLE = "build.not_reproducible",
        "two builds of the same commit produced different binaries (flags, paths, toolchain, VCS stamping)";
    BuildContextLeak = BUILD_CONTEXT_LEAK = "build.context_leak",
        "the image build context copies files it should not (`COPY . .` without a fitting `.dockerignore`)";
    RuntimeCrashloop = RUNTIME_CRASHLOOP = "runtime.crashloop",
        "a main container keeps exiting (CrashLoopBackOff): bad config or env, wrong command/args, failed migration, permission denied, panic";
    RuntimeOomKilled = RUNTIME_OOM_KILLED = "runtime.oom_killed",
        "a container is killed for exceeding its memory limit (OOMKilled, exit 137)";
    RuntimeConfigMissing = RUNTIME_CONFIG_MISSING = "runtime.config_missing",
        "CreateContainerConfigError: a referenced Secret, ConfigMap or key does not exist";
    RuntimeMountFailed = RUNTIME_MOUNT_FAILED = "runtime.mount_failed",
        "a volume cannot be attached or mounted (FailedMount, FailedAttachVolume, Multi-Attach, CSI errors)";
    RuntimeProbeFailing = RUNTIME_PROBE_FAILING = "runtime.probe_failing",
        "readiness, liveness or startup probes keep failing, so the pod never becomes Ready or is restarted";
    RuntimeExecFailed = RUNTIME_EXEC_FAILED = "runtime.exec_failed",
        "the container cannot start its process (executable not found, permission denied); `exec format error` is `image.platform_mismatch`";
    Unknown = UNKNOWN = "unknown",
        "nothing definitive; the diagnosis still carries the evidence gathered";
}

impl Class {
    /// The family: the first dotted segment (`scheduling`, `image`, …).
    pub fn family(&self) -> &str {
        let id = self.as_str();
        id.split('.').next().unwrap_or(id)
    }

    /// True when the ID is one the taxonomy defines.
    pub fn is_known(&self) -> bool {
        !matches!(self, Class::Unrecognized(_))
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Class {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl PartialEq<str> for Class {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Class {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Class {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Class {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::new(&id))
    }
}

impl JsonSchema for Class {
    fn schema_name() -> Cow<'static, str> {
        "Class".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A string: the taxonomy's IDs, but newer producers may send IDs this build lacks.
        let mut schema = String::json_schema(generator);
        schema.insert(
            "description".into(),
            "A taxonomy class ID (see docs/classes.md); consumers keep IDs they do not know."
                .into(),
        );
        schema.insert("examples".into(), serde_json::json!(Class::ALL));
        schema
    }
}

/// The public class list as a Markdown table (`docs/classes.md` is this, checked by a test).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "# Diagnosis classes\n\n\
         Generated from `shared/events/src/class.rs` (`Class`); a test fails when this file \
         drifts. Regenerate with `LASTMILE_BLESS=1 cargo test -p lastmile-events`.\n\n\
         The `class` field of every diagnosis (`--format json`, the bus, evidence) is one of \
         these IDs. IDs never change meaning; new IDs may be added, so consumers must keep IDs \
         they do not know.\n\n\
         | class | family | meaning |\n|---|---|---|\n",
    );
    for class in Class::KNOWN {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            class.as_str(),
            class.family(),
            class.description().replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests;
