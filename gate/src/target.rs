//! What the gate waits for: a CI run or one workload, parsed from the command line.

/// What the gate waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every workload a CI run deploys; `provider` is checked when given (`github/123`).
    CiRun {
        /// Provider token, when given.
        provider: Option<String>,
        /// Run id.
        run_id: String,
    },
    /// One workload.
    Workload {
        /// Kind, lower case (`job`, `deployment`, `statefulset`, `daemonset`).
        kind: String,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
}

/// A `--ci-run` or `--workload` value the gate cannot read. Bad input: the message quotes
/// the flag and what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// `--ci-run` without a run id (`""`, `github/`).
    #[error("--ci-run {raw:?}: empty run id")]
    EmptyRunId {
        /// The value as given (trimmed).
        raw: String,
    },
    /// `--workload` not of the form `KIND/NAMESPACE/NAME`.
    #[error("--workload {raw:?}: expected KIND/NAMESPACE/NAME, e.g. job/ci/migrate")]
    BadWorkload {
        /// The value as given.
        raw: String,
    },
}

impl Target {
    /// `--ci-run 123` or `--ci-run github/123`.
    pub fn ci_run(raw: &str) -> Result<Self, TargetError> {
        let raw = raw.trim();
        let (provider, run_id) = match raw.split_once('/') {
            Some((p, id)) => (Some(p.to_ascii_lowercase()), id),
            None => (None, raw),
        };
        if run_id.is_empty() {
            return Err(TargetError::EmptyRunId {
                raw: raw.to_owned(),
            });
        }
        Ok(Self::CiRun {
            provider,
            run_id: run_id.to_owned(),
        })
    }

    /// `--workload job/NAMESPACE/NAME`.
    pub fn workload(raw: &str) -> Result<Self, TargetError> {
        match raw.trim().split('/').collect::<Vec<_>>().as_slice() {
            [kind, ns, name] if !kind.is_empty() && !ns.is_empty() && !name.is_empty() => {
                Ok(Self::Workload {
                    kind: kind.to_ascii_lowercase(),
                    namespace: (*ns).to_owned(),
                    name: (*name).to_owned(),
                })
            }
            _ => Err(TargetError::BadWorkload {
                raw: raw.to_owned(),
            }),
        }
    }

    pub(crate) fn run_matches(&self, run: &lastmile_events::CiRunRef) -> bool {
        match self {
            Self::CiRun { provider, run_id } => {
                &run.run_id == run_id
                    && provider
                        .as_deref()
                        .is_none_or(|p| p == run.provider.as_str())
            }
            Self::Workload { .. } => false,
        }
    }

    pub(crate) fn is(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        match self {
            Self::Workload {
                kind: k,
                namespace: n,
                name: m,
            } => k.eq_ignore_ascii_case(kind) && Some(n.as_str()) == namespace && m == name,
            Self::CiRun { .. } => false,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CiRun {
                provider: Some(p),
                run_id,
            } => write!(f, "CI run {p}/{run_id}"),
            Self::CiRun {
                provider: None,
                run_id,
            } => write!(f, "CI run {run_id}"),
            Self::Workload {
                kind,
                namespace,
                name,
            } => write!(f, "{kind}/{namespace}/{name}"),
        }
    }
}
