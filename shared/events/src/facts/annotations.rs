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
mod tests {
    use super::*;

    fn meta(ann: &[(&str, &str)], labels: &[(&str, &str)]) -> ObjectMeta {
        let m = |kv: &[(&str, &str)]| {
            Some(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        ObjectMeta {
            annotations: m(ann),
            labels: m(labels),
            ..Default::default()
        }
    }

    #[test]
    fn provider_prefix_in_the_run_annotation_is_split() {
        let r = ci_run_of(&meta(
            &[(CI_RUN, "github/9876543210"), (COMMIT, "abc123")],
            &[],
        ))
        .unwrap();
        assert_eq!(r.provider, CiProvider::Github);
        assert_eq!(r.run_id, "9876543210");
        assert_eq!(r.commit.as_deref(), Some("abc123"));
    }

    #[test]
    fn label_is_used_when_no_annotation_and_provider_from_its_own_key() {
        let r = ci_run_of(&meta(&[(CI_PROVIDER, "gitlab")], &[(CI_RUN, "1187")])).unwrap();
        assert_eq!(
            (r.provider, r.run_id.as_str()),
            (CiProvider::Gitlab, "1187")
        );
        assert!(ci_run_of(&meta(&[(CI_RUN, "  ")], &[])).is_none());
    }
}
