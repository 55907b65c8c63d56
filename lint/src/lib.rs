//! Static checks of Kubernetes manifests before they are deployed (issue 11): the
//! init-container wait-for graph across workloads, waits without a timeout, privileged init
//! containers, registries outside an allowlist, and Job hygiene. Shared by `lastmile lint`
//! (files, `helm template` or Kustomize output) and `lastmile admission` (one object at a
//! time, as the API server sends it).
//!
//! The main design choice: **read waits the way the live diagnosis reads them.** What an init
//! container waits for comes from `lastmile_events::facts::waits` and which Service a name
//! reaches from `lastmile_events::facts::ServiceIndex`, the same code the workload function
//! runs on stuck pods, so a cycle found here is the deadlock `init.deadlock` would name after
//! deploy. Everything is pure: manifests in, findings out; the binary does the I/O.
//!
//! ```
//! let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\n\
//!             spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: m}]}}}\n";
//! let manifests = lastmile_lint::parse("job.yaml", yaml).unwrap();
//! let findings = lastmile_lint::lint(&manifests, &lastmile_lint::Config::default());
//! assert!(findings.iter().any(|f| f.rule == "job.no_deadline"));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admission;
mod cluster;
mod graph;
mod kinds;
mod load;
pub mod render;
mod rules;
mod workload;

pub use cluster::{Cluster, ClusterError};

use serde::Serialize;

pub use load::{LoadError, MAX_INPUT_BYTES, Manifest, parse};
pub use workload::Workload;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; does not fail `lint` (unless `--strict`) and is an admission warning.
    Warning,
    /// Will break the deploy or breaks policy: fails `lint`, denied in `deny` mode.
    Error,
}

/// One rule: its id (the `init.deadlock` class of the taxonomy, or a lint rule), its
/// severity and what it checks.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The id findings carry.
    pub id: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// What it checks, one sentence.
    pub summary: &'static str,
}

/// Every rule, for `--help`, SARIF's rule table and the docs.
pub const RULES: &[Rule] = &[
    Rule {
        id: "init.deadlock",
        severity: Severity::Error,
        summary: "Init containers (or Helm hook ordering) wait on each other in a cycle: none can ever start.",
    },
    Rule {
        id: "init.blocked",
        severity: Severity::Warning,
        summary: "An init container waits on a Service or Job that is not in the manifests (or that selects nothing, or lacks the port).",
    },
    Rule {
        id: "init.unbounded_wait",
        severity: Severity::Warning,
        summary: "An init container waits in a loop with no deadline: if the dependency never answers, the pod stays in Init forever and says nothing.",
    },
    Rule {
        id: "init.privileged",
        severity: Severity::Error,
        summary: "An init container runs privileged.",
    },
    Rule {
        id: "init.registry",
        severity: Severity::Error,
        summary: "An init container pulls from a registry outside the allowlist.",
    },
    Rule {
        id: "job.no_deadline",
        severity: Severity::Warning,
        summary: "A Job has no activeDeadlineSeconds: a hung run holds its slot (and a Helm hook or CI gate) forever.",
    },
    Rule {
        id: "job.no_ttl",
        severity: Severity::Warning,
        summary: "A Job has no ttlSecondsAfterFinished (nor a Helm hook-delete-policy): finished Jobs and their pods pile up.",
    },
];

/// The rule with `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One edge of a wait cycle: `from` cannot become ready until `to` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleEdge {
    /// The waiting workload (`deployment/shop/api`).
    pub from: String,
    /// What it waits for.
    pub to: String,
    /// Why: the init container and its probe, the Service and its selector, or Helm's order.
    pub why: String,
    /// Where the wait is written.
    pub file: String,
    /// Its line.
    pub line: usize,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id ([`RULES`]).
    pub rule: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The manifest file (`-` for stdin).
    pub file: String,
    /// The line in it.
    pub line: usize,
    /// The object (`deployment/shop/api`).
    pub object: String,
    /// The container, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What is wrong, one or two sentences (redacted: command lines may carry secrets).
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// For `init.deadlock`: every edge of the cycle, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<CycleEdge>,
}

impl Finding {
    /// A finding of `rule` (its default severity) about `w`, text redacted.
    pub(crate) fn about(
        rule: &'static str,
        w: &Workload<'_>,
        container: Option<&str>,
        message: String,
        fix: Option<String>,
    ) -> Self {
        let line = container.map_or(w.manifest.line, |c| w.line_of(c));
        Self {
            rule,
            severity: crate::rule(rule).map_or(Severity::Warning, |r| r.severity),
            file: w.manifest.file.to_string(),
            line,
            object: w.key(),
            container: container.map(str::to_owned),
            message: redacted(&message),
            fix: fix.map(|f| redacted(&f)),
            edges: Vec::new(),
        }
    }
}

/// `s` through the one secret policy.
pub(crate) fn redacted(s: &str) -> String {
    lastmile_redact::text(s).into_owned()
}

/// What the rules are told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Namespace of objects that name none (`kubectl apply -n`); `default` by default.
    pub default_namespace: String,
    /// Registries init containers may pull from (`registry.example.com`, or a prefix such as
    /// `ghcr.io/acme`); empty: not checked.
    pub allowed_registries: Vec<String>,
    /// Helm installs with `--wait` (or `--atomic`): post-install hooks run only after every
    /// main-phase workload is ready, so a main workload waiting on one never starts.
    pub helm_wait: bool,
    /// What already runs in the cluster (`--cluster`): waits on its Services and Jobs are
    /// not findings. `None`: only the manifests are known.
    pub cluster: Option<Cluster>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_namespace: "default".to_owned(),
            allowed_registries: Vec::new(),
            helm_wait: true,
            cluster: None,
        }
    }
}

/// Every finding in a manifest set: the per-workload rules, then the wait-for graph
/// (waits on missing Services or Jobs, cycles). Sorted by file and line.
pub fn lint(manifests: &[Manifest], config: &Config) -> Vec<Finding> {
    let workloads: Vec<Workload<'_>> = manifests
        .iter()
        .filter_map(|m| Workload::of(m, &config.default_namespace))
        .collect();
    let mut findings: Vec<Finding> = workloads
        .iter()
        .flat_map(|w| rules::check(w, config))
        .collect();
    findings.extend(graph::check(manifests, &workloads, config));
    findings.sort_by(|a, b| (&a.file, a.line, a.rule).cmp(&(&b.file, b.line, b.rule)));
    findings
}

/// The per-object rules for one object (admission: no graph, the other objects are not
/// known). Objects that run no pods have no findings.
pub fn check_object(manifest: &Manifest, config: &Config) -> Vec<Finding> {
    Workload::of(manifest, &config.default_namespace)
        .map(|w| rules::check(&w, config))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
