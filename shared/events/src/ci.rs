//! CI events: runs and jobs starting and finishing, and deploys with what they deploy.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::EventType;

/// The CI system that sent the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiProvider {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
    /// Anything else, through the documented generic JSON format.
    Generic,
}

impl CiProvider {
    /// Subject token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Generic => "generic",
        }
    }
}

/// Which CI run a workload belongs to (OTel `cicd.pipeline.*` semantics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CiRunRef {
    /// The CI system.
    pub provider: CiProvider,
    /// Run id (`cicd.pipeline.run.id`).
    pub run_id: String,
    /// Pipeline name (`cicd.pipeline.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// Link to the run (`cicd.pipeline.run.url.full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Commit SHA (`vcs.ref.head.revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// W3C trace context of the run's root span, when the pipeline sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// What happened in CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CiEventKind {
    /// A run (workflow run, pipeline) started.
    RunStarted,
    /// A run finished successfully.
    RunFinished,
    /// A run failed.
    RunFailed,
    /// A job of a run started.
    JobStarted,
    /// A job finished successfully.
    JobFinished,
    /// A job failed.
    JobFailed,
    /// A deploy was requested; `workloads` says what it deploys.
    DeployRequested,
}

impl CiEventKind {
    /// Subject token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunStarted => "run_started",
            Self::RunFinished => "run_finished",
            Self::RunFailed => "run_failed",
            Self::JobStarted => "job_started",
            Self::JobFinished => "job_finished",
            Self::JobFailed => "job_failed",
            Self::DeployRequested => "deploy_requested",
        }
    }
}

/// A workload a deploy creates or updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeployedWorkload {
    /// Kind, e.g. `Job`, `Deployment`.
    pub kind: String,
    /// The namespace the deploy applies it to.
    pub namespace: String,
    /// The workload's name as in its manifest.
    pub name: String,
    /// Images it runs (references as written in the manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

/// A CI event, published on `lastmile.ci.<provider>.<event>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CiEvent {
    /// What happened.
    pub kind: CiEventKind,
    /// The run it belongs to.
    pub run: CiRunRef,
    /// Job name, for job events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Workloads deployed, for deploy events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<DeployedWorkload>,
    /// When it happened, per the CI system.
    pub at: DateTime<Utc>,
}

impl EventType for CiEvent {
    const TYPE: &'static str = "dev.lastmile.ci.v1";
}
