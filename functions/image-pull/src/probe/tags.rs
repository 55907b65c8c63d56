//! A `404` on the manifest: a missing repository told from a missing tag (the registry's
//! error code, then `tags/list`), and the existing tags nearest to the one asked for.

use super::status::error_code;
use super::{Auth, ProbeReport, Prober};
use crate::message::Cause;
use crate::platform::CONTAINERD_ACCEPT;
use crate::reference::ImageRef;

impl Prober<'_> {
    /// Why the manifest is missing: the repository or only the tag (suggesting the nearest).
    pub(super) async fn not_found(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        report: &mut ProbeReport,
    ) -> (Cause, String) {
        // HEAD has no body: GET it to read the registry's error code.
        let req = self.request(
            "GET",
            self.url(r, &format!("manifests/{}", r.reference())),
            auth,
            Some(CONTAINERD_ACCEPT),
        );
        let code = match self.send("manifest", req, true).await {
            Ok(resp) => error_code(&resp.body),
            Err(_) => None,
        };
        if code.as_deref() == Some("NAME_UNKNOWN") {
            return (
                Cause::RepositoryNotFound,
                format!("repository {} does not exist (NAME_UNKNOWN)", r.name()),
            );
        }
        if !self.opts.list_tags {
            return (
                Cause::TagNotFound,
                format!("{} not found ({})", r, code.unwrap_or_else(|| "404".into())),
            );
        }
        let req = self.request(
            "GET",
            self.url(r, "tags/list"),
            auth,
            Some("application/json"),
        );
        match self.send("tags", req, true).await {
            Ok(resp) if resp.status == 404 => (
                Cause::RepositoryNotFound,
                format!(
                    "repository {} does not exist ({})",
                    r.name(),
                    error_code(&resp.body).unwrap_or_else(|| "404".into())
                ),
            ),
            Ok(resp) if resp.status == 200 => {
                let tags: Vec<String> = serde_json::from_slice::<serde_json::Value>(&resp.body)
                    .ok()
                    .and_then(|v| v.get("tags").cloned())
                    .and_then(|t| serde_json::from_value(t).ok())
                    .unwrap_or_default();
                if tags.is_empty() {
                    return (
                        Cause::RepositoryNotFound,
                        format!("repository {} has no tags", r.name()),
                    );
                }
                report.nearest_tags = nearest(r.reference(), &tags, 3);
                (
                    Cause::TagNotFound,
                    format!("{} not found; the repository has {} tag(s)", r, tags.len()),
                )
            }
            _ => (
                Cause::TagNotFound,
                format!("{} not found ({})", r, code.unwrap_or_else(|| "404".into())),
            ),
        }
    }
}

/// The `n` tags nearest to `wanted` (edit distance, then shared prefix).
pub fn nearest(wanted: &str, tags: &[String], n: usize) -> Vec<String> {
    let mut scored: Vec<(usize, usize, &String)> = tags
        .iter()
        .map(|t| {
            let prefix = wanted
                .chars()
                .zip(t.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (levenshtein(wanted, t), usize::MAX - prefix, t)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, t)| t.clone())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
