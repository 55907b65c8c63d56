//! The CI run and builder, read from the CI system's environment variables (GitHub
//! Actions, GitLab CI; `LASTMILE_CI_RUN` for anything else). Pure: takes the variables.

use std::collections::BTreeMap;

use lastmile_events::{CiProvider, CiRunRef};

/// Who built, in which run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CiRun {
    /// The run, as gate and incidents name it.
    pub run: Option<CiRunRef>,
    /// SLSA `builder.id`.
    pub builder_id: String,
    /// SLSA `metadata.invocationId`.
    pub invocation_id: Option<String>,
    /// The source repository URI (`git+https://…`).
    pub repository: Option<String>,
    /// The git ref built.
    pub git_ref: Option<String>,
    /// The workflow or pipeline definition.
    pub workflow: Option<String>,
}

/// Reads the run from `env`.
pub fn from_env(env: &BTreeMap<String, String>) -> CiRun {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
    if get("GITHUB_ACTIONS").as_deref() == Some("true") {
        let server = get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        let repo = get("GITHUB_REPOSITORY");
        let run_id = get("GITHUB_RUN_ID");
        let attempt = get("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into());
        let run_url = match (&repo, &run_id) {
            (Some(r), Some(id)) => Some(format!("{server}/{r}/actions/runs/{id}")),
            _ => None,
        };
        return CiRun {
            run: run_id.map(|id| CiRunRef {
                provider: CiProvider::Github,
                run_id: id,
                pipeline: get("GITHUB_WORKFLOW"),
                url: run_url.clone(),
                commit: get("GITHUB_SHA"),
                traceparent: get("TRACEPARENT"),
            }),
            builder_id: get("GITHUB_WORKFLOW_REF")
                .map(|w| format!("{server}/{w}"))
                .unwrap_or_else(|| format!("{server}/actions")),
            invocation_id: run_url.map(|u| format!("{u}/attempts/{attempt}")),
            repository: repo.map(|r| format!("git+{server}/{r}")),
            git_ref: get("GITHUB_REF"),
            workflow: get("GITHUB_WORKFLOW_REF"),
        };
    }
    if get("GITLAB_CI").as_deref() == Some("true") {
        let server = get("CI_SERVER_URL").unwrap_or_else(|| "https://gitlab.com".into());
        return CiRun {
            run: get("CI_PIPELINE_ID").map(|id| CiRunRef {
                provider: CiProvider::Gitlab,
                run_id: id,
                pipeline: get("CI_PROJECT_PATH"),
                url: get("CI_PIPELINE_URL"),
                commit: get("CI_COMMIT_SHA"),
                traceparent: get("TRACEPARENT"),
            }),
            builder_id: match (get("CI_PROJECT_PATH"), get("CI_RUNNER_ID")) {
                (Some(p), Some(r)) => format!("{server}/{p}/-/runners/{r}"),
                _ => format!("{server}/runner"),
            },
            invocation_id: get("CI_JOB_URL"),
            repository: get("CI_PROJECT_URL").map(|u| format!("git+{u}")),
            git_ref: get("CI_COMMIT_REF_NAME"),
            workflow: get("CI_CONFIG_PATH"),
        };
    }
    let run = get("LASTMILE_CI_RUN").map(|raw| {
        let (provider, id) = match raw.split_once('/') {
            Some(("github", id)) => (CiProvider::Github, id.to_owned()),
            Some(("gitlab", id)) => (CiProvider::Gitlab, id.to_owned()),
            _ => (CiProvider::Generic, raw.clone()),
        };
        CiRunRef {
            provider,
            run_id: id,
            pipeline: None,
            url: None,
            commit: get("LASTMILE_COMMIT"),
            traceparent: get("TRACEPARENT"),
        }
    });
    CiRun {
        invocation_id: run.as_ref().map(|r| r.run_id.clone()),
        run,
        builder_id: "https://lastmile.dev/builder/local".into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
