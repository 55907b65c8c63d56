//! lastmile's annotations: how a pipeline tells lastmile which CI run deployed an object.
//!
//! `lastmile.dev/ci-run` (annotation, or label) names the run, optionally with the provider
//! as `github/1234`; `lastmile.dev/ci-provider`, `ci-url`, `commit`, `pipeline` and
//! `traceparent` add what the pipeline knows.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::ci::{CiProvider, CiRunRef};

/// Annotation (or label) naming the CI run that deployed an object.
pub const CI_RUN: &str = "lastmile.dev/ci-run";
/// Annotation naming the CI provider (`github`, `gitlab`, `generic`).
pub const CI_PROVIDER: &str = "lastmile.dev/ci-provider";
/// Annotation holding the run URL.
pub const CI_URL: &str = "lastmile.dev/ci-url";
/// Annotation holding the commit SHA.
pub const COMMIT: &str = "lastmile.dev/commit";
/// Annotation holding the pipeline name.
pub const PIPELINE: &str = "lastmile.dev/pipeline";
/// Annotation holding the run's W3C `traceparent`.
pub const TRACEPARENT: &str = "lastmile.dev/traceparent";

fn provider(raw: &str) -> CiProvider {
    match raw.to_ascii_lowercase().as_str() {
        "github" | "github-actions" | "gha" => CiProvider::Github,
        "gitlab" | "gitlab-ci" => CiProvider::Gitlab,
        _ => CiProvider::Generic,
    }
}

/// The CI run named by an object's annotations (preferred) or labels; `None` without a
/// non-blank `lastmile.dev/ci-run`.
pub fn ci_run_of(meta: &ObjectMeta) -> Option<CiRunRef> {
    let empty = BTreeMap::new();
    let ann = meta.annotations.as_ref().unwrap_or(&empty);
    let labels = meta.labels.as_ref().unwrap_or(&empty);
    let get = |k: &str| {
        ann.get(k)
            .or_else(|| labels.get(k))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let raw = get(CI_RUN)?;
    let (prov, run_id) = match raw.split_once('/') {
        Some((p, id)) if !id.is_empty() => (provider(p), id),
        _ => (
            get(CI_PROVIDER)
                .map(provider)
                .unwrap_or(CiProvider::Generic),
            raw,
        ),
    };
    Some(CiRunRef {
        provider: prov,
        run_id: run_id.to_owned(),
        pipeline: get(PIPELINE).map(str::to_owned),
        url: get(CI_URL).map(str::to_owned),
        commit: get(COMMIT).map(str::to_owned),
        traceparent: get(TRACEPARENT).map(str::to_owned),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
