//! Facts told in pasted text that more than one function reads, decided once.
//!
//! Functions read reports people paste (logs, `kubectl describe`, prose); where two of them
//! must agree on what a line means, the pattern lives here so they cannot drift apart.

use std::sync::LazyLock;

use regex::Regex;

/// The main program refusing to start because a kernel or host limit is below what it
/// needs: `bootstrap check failure`, `max virtual memory areas vm.max_map_count [65530] is
/// too low`, `max file descriptors [4096] … is too low`, `memory locking requested … but
/// memory is not locked`, `net.core.somaxconn must be at least …`.
static HOST_LIMIT_REFUSED: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i)\bbootstrap checks?\b[^\n]{0,30}?\bfail|\b(?:max virtual memory areas|max file descriptors|max number of threads|max size virtual memory)\b[^\n]{0,80}?\btoo low\b|\bmemory locking requested\b[^\n]{0,80}?\bnot locked\b|\b(?:vm|fs|net|kernel)\.[a-z_.]+\b[^\n]{0,30}?\b(?:(?:is )?too low|must be at least|(?:should|needs to) be at least|below the (?:minimum|required))\b",
    )
    .expect("the host-limit pattern compiles")
});

/// True when `text` shows a program refusing to start on a kernel or host limit (a
/// bootstrap check). That failure is the main container's, even in a report about init
/// containers: an init container's denied `sysctl` step says `ignoring` and lets the pod go
/// on.
pub fn host_limit_refused(text: &str) -> bool {
    HOST_LIMIT_REFUSED.is_match(text)
}

/// Admission webhooks and services that exist only to verify image signatures, by the
/// names their denials carry: sigstore's policy-controller (`admission webhook
/// "policy.sigstore.dev" denied the request: validation failed: …`, often with nothing
/// after it) and its predecessor cosigned, Connaisseur, GKE's Binary Authorization (its
/// attestations are signatures). Not IBM's Portieris: its image policies also allow or deny
/// repositories, so its denial may say nothing about a signature.
const SIGNATURE_VERIFIERS: &[&str] = &[
    "policy.sigstore.dev",
    "cosigned.sigstore.dev",
    "connaisseur",
    "binary authorization",
];

/// True when `text` names a signature verifier (policy-controller, cosigned, Connaisseur,
/// Binary Authorization): whatever its message says, a denial by one is about the image's
/// signature.
pub fn signature_verifier_named(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SIGNATURE_VERIFIERS.iter().any(|v| lower.contains(v))
}

/// The Job's retries spent: the controller's `BackoffLimitExceeded`, "Job has reached the
/// specified backoff limit", or told: "the backoff limit exceeds / was hit", "exceeded its
/// backoffLimit".
pub static JOB_BACKOFF: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i)BackoffLimitExceeded|\bback[- ]?off[_ ]?limit\W{0,3}(?:exceed(?:s|ed|ing)?|(?:was |is |got |gets )?(?:reached|hit))\b|\b(?:exceed(?:s|ed|ing)?|reach(?:es|ed|ing)?|hit(?:s|ting)?)\s+(?:the\s+|its\s+|their\s+)?(?:specified\s+|default\s+)?back[- ]?off[_ ]?limit\b",
    )
    .expect("the backoff pattern compiles")
});
/// A Job said to have failed: "job x has failed", "the hook job fails with error …", "the
/// install job crashed with error log", "failed hook job", "the submitter Job may fail
/// because …", "one Job fails among 25", its retries said to run out ("the launcher
/// exhausts all retry attempts" beside a job), a CronJob said to fail ("the descheduler
/// CronJob on prod fails every run"), or kube-state-metrics counting failed pods
/// (`kube_job_status_failed=1`) and kube-prometheus' alert on it (`KubeJobFailed`) ("the
/// job fails to start" is no failure of its pods).
pub static JOB_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i)\b(?:hook\s+|cron)?job\s+(?:(?:on|in)\s+\S+\s+)?(?:\S+\s+)?(?:has\s+|may\s+|might\s+|can\s+|could\s+|will\s+|would\s+)?(?:failed\b|crash(?:ed|es)\b|errored\b|fails?(?:\s+(?:with|because|due|every|each|again|always|among|after|when|whenever|if|on|in|randomly|intermittently|sometimes|occasionally|repeatedly)\b|[.:,;)]|\s*$))|\bfailed\s+(?:hook\s+)?job\b|\bjob\b[^.\n]{0,120}?\b(?:exhaust(?:s|ed|ing)?|r[au]ns? out of|used up)\s+(?:all\s+)?(?:of\s+)?(?:its\s+|their\s+|the\s+)?(?:\d+\s+)?(?:retr(?:y|ies)|retry attempts|attempts)\b|\bkube_job_status_failed\b(?:\{[^}\n]*\})?\s*=?\s*[1-9]|\bKubeJobFailed\b",
    )
    .expect("the job-failed pattern compiles")
});
/// A container named as init containers conventionally are: `wait-for-db`, `wait-postgres`,
/// `db-wait`, `init-config`, `install-plugins`, `vault-agent-init`, `istio-init`, the
/// ownership fixers `chown-data-dir` and `volume-permissions` (Bitnami's), a CNI's
/// `install-cni` or `multus-installer`, a model server's `storage-initializer` or
/// `simple-model-initializer`, the mesh validators `istio-validation` and
/// `linkerd-network-validator`. A pattern fragment (no flags, no capture group); the
/// functions' init markers splice it where the text names a container.
pub const INIT_CONTAINER_NAME: &str = r"(?:(?:wait[-_]for|wait|init|install|chown)[-_][a-z0-9][-a-z0-9_]*|[a-z0-9][-a-z0-9_]*[-_](?:init|wait|installer|initiali[sz]er|permissions?|perms)|istio-validation|linkerd-network-validator)";

/// An init container named in ways beside `init container` / `initContainers`: a chart's
/// camel-case values key for one (`the initChownData container`), the Chinese docs' name
/// for init containers (初始化容器, `Init 容器`), or the script KServe's injected
/// `storage-initializer` init container runs (`initializer-entrypoint`, which a traceback
/// of its download names). A pattern fragment (no flags of its own), spliced into the
/// functions' init markers.
pub const INIT_CONTAINER_OTHERWISE: &str = r"\b(?-i:init[A-Z][A-Za-z]+)\s+containers?\b|初始化容器|(?-i:Init) ?容器|/initializer-entrypoint\b";

/// A pod a Job created, by its name: a webhook certificate hook (kube-webhook-certgen's
/// `…-admission-create-x7k2p` / `…-admission-patch-x7k2p`), a chart's hook (`…-hook-x7k2p`,
/// or named for its Helm hook: `…-post-install-x7k2p`, `…-pre-upgrade-1.2.0-x7k2p`),
/// any `…-job-x7k2p`, or a CronJob's run (`…-28306992-x7k2p`: the CronJob controller names
/// each Job after its scheduled time, in minutes since the epoch, or seconds before
/// Kubernetes 1.21).
pub static JOB_POD_NAME: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"\b[a-z0-9][-a-z0-9]*-(?:admission-(?:create|patch)|job|hook|\d{8,10})-[a-z0-9]{5}\b|\b[a-z0-9][-a-z0-9]*-(?:pre|post)-(?:install|upgrade|delete|rollback)(?:-[-a-z0-9.]*)?-[a-z0-9]{5}\b",
    )
    .expect("the job pod name pattern compiles")
});

/// True when `text` tells a Job failed: its retries spent ([`JOB_BACKOFF`]) or said to have
/// failed ([`JOB_FAILED`]). Its pods then ran and failed, each once (a Job's pods are
/// replaced, not restarted in place, unless restartPolicy is OnFailure), so the workload
/// function reads the Job's failure while the others read why its pods failed.
pub fn job_failed(text: &str) -> bool {
    JOB_BACKOFF.is_match(text) || JOB_FAILED.is_match(text)
}

/// One row of a pasted `kubectl get pods` table (with or without the namespace column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodRow<'a> {
    /// The pod's name.
    pub name: &'a str,
    /// Containers ready, and containers in all (`1/2`).
    pub ready: u32,
    /// Containers in all.
    pub containers: u32,
    /// The STATUS column as kubectl prints it (`Running`, `NotReady`, `Error`, `Init:0/1`).
    pub status: &'a str,
    /// The RESTARTS column (kubectl's `(5m ago)` after it is not part of it).
    pub restarts: u32,
    /// The whole row, trimmed.
    pub line: &'a str,
}

impl<'a> PodRow<'a> {
    /// The name without kubectl's generated five-character suffix (`migrate-x7k2p` →
    /// `migrate`), when it has one: the pod's controller created it.
    pub fn generated_prefix(&self) -> Option<&'a str> {
        let (prefix, suffix) = self.name.rsplit_once('-')?;
        (suffix.len() == 5 && suffix.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(prefix)
    }
}

static POD_ROW: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?m)^[ \t]*(?:[a-z0-9][a-z0-9-]*[ \t]+)?(?:pod/)?([a-z0-9][a-z0-9.-]*)[ \t]+(\d+)/(\d+)[ \t]+(\S+)[ \t]+(\d+)(?:[ \t]+\([^)\n]*\))?(?:[ \t]|$)",
    )
    .expect("the pod-row pattern compiles")
});

/// The rows of every `kubectl get pods` table in `text`, in order. The runtime and workload
/// functions both read them (restarts, pods a Job replaced, pods left NotReady).
pub fn pod_rows(text: &str) -> impl Iterator<Item = PodRow<'_>> {
    POD_ROW.captures_iter(text).filter_map(move |c| {
        let whole = c.get(0)?;
        let end = text[whole.start()..]
            .find('\n')
            .map_or(text.len(), |i| whole.start() + i);
        Some(PodRow {
            name: c.get(1)?.as_str(),
            ready: c.get(2)?.as_str().parse().ok()?,
            containers: c.get(3)?.as_str().parse().ok()?,
            status: c.get(4)?.as_str(),
            restarts: c.get(5)?.as_str().parse().ok()?,
            line: text[whole.start()..end].trim(),
        })
    })
}

#[cfg(test)]
mod tests;
