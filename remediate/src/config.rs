//! `lastmile remediate`'s configuration: flags and environment, plus an optional YAML file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lastmile_events::subjects;
use lastmile_runtime::bus::ConsumerSpec;
use lastmile_runtime::bus::nats::parse_duration;
use lastmile_runtime::host::nats::HostOptions;
use serde::Deserialize;

use crate::allow::{AllowError, Allowlist};

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An allowlist entry does not parse.
    #[error(transparent)]
    Allow(#[from] AllowError),
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// What `lastmile remediate` reads from flags and the environment.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct RemediateConfig {
    /// Allowed changes, `NAMESPACE=CHANGE[,CHANGE...]`, repeated (or `;`-separated in the
    /// variable). Changes: job.ttl-seconds-after-finished, job.suspend,
    /// job.active-deadline-seconds:MAX. Nothing allowed by default: every structured
    /// remediation is then audited as refused.
    #[arg(
        long = "allow",
        env = "LASTMILE_REMEDIATE_ALLOW",
        value_delimiter = ';'
    )]
    pub allow: Vec<String>,
    /// A YAML file with more allowlist entries (`allow: [..]`) and the identity.
    #[arg(long = "config", env = "LASTMILE_REMEDIATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Who the audit entries name (the executor's service account).
    #[arg(
        long,
        env = "LASTMILE_REMEDIATE_IDENTITY",
        default_value = "lastmile-remediate"
    )]
    pub identity: String,
    /// Bound on every Kubernetes API call (connect, read and the whole call).
    #[arg(long = "kube-timeout", env = "LASTMILE_KUBE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub kube_timeout: Duration,
    /// Kubeconfig file; without it, in-cluster config, then KUBECONFIG / ~/.kube/config.
    #[arg(long, env = "LASTMILE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long = "kube-context", env = "LASTMILE_KUBE_CONTEXT")]
    pub kube_context: Option<String>,
    /// Durable consumer name on `lastmile.remediation.>`.
    #[arg(long, env = "LASTMILE_REMEDIATE_DURABLE", default_value = "remediate")]
    pub durable: String,
}

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Allowlist entries, as `--allow`.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Who the audit entries name; overrides the default, not an explicit flag.
    #[serde(default)]
    pub identity: Option<String>,
}

impl FileConfig {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let file_error = |reason: String| ConfigError::File {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        serde_saphyr::from_str(&text).map_err(|e| file_error(e.to_string()))
    }
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What may be changed where.
    pub allow: Allowlist,
    /// Who the audit entries name.
    pub identity: String,
}

impl RemediateConfig {
    /// The allowlist (flags and file together) and identity, checked.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        if self.kube_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "--kube-timeout must be positive".into(),
            ));
        }
        if self.identity.trim().is_empty() {
            return Err(ConfigError::Invalid("--identity must not be empty".into()));
        }
        let file = match &self.config {
            Some(path) => FileConfig::read(path)?,
            None => FileConfig::default(),
        };
        let mut entries = self.allow.clone();
        entries.extend(file.allow);
        let identity = match file.identity {
            Some(id) if self.identity == "lastmile-remediate" => id,
            _ => self.identity.clone(),
        };
        Ok(Settings {
            allow: Allowlist::parse(&entries)?,
            identity,
        })
    }

    /// The durable consumer on every remediation subject.
    pub fn consumer_spec(&self, opts: &HostOptions) -> ConsumerSpec {
        ConsumerSpec {
            durable: subjects::token(&self.durable),
            subjects: vec![format!("{}.remediation.>", subjects::ROOT)],
            max_deliver: opts.max_deliver,
            ack_wait: opts.ack_wait,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
