//! Jobs left active told in words: a sidecar (mesh proxy, log shipper, database proxy) that
//! keeps the pod running after the main work finished, a deployer (a sync tool, a release's
//! hooks) waiting on a hook Job that never completes, and a deadline only asked for while the
//! Job runs on (no deadline fired).

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote, re};

/// The main work said done: "my model container has completed", "the main container exited
/// 0", "the script finished", "the work is done".
static WORK_DONE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:completed|finished|succeeded|exited(?: with (?:code |status )?0)?|terminated|is done|are done|was done|done)\b",
    )
});
/// A sidecar by kind or conventional name (a mesh proxy, a log shipper, a database or auth
/// proxy, a secrets agent, anything called a sidecar), said to be up: "is running", "is still
/// up", "stays alive", "keeps the pod alive", "continues to run".
static SIDECAR_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:istio[- ]proxy|envoy|linkerd(?:[- ]proxy)?|cloud[-_ ]?sql[-_ ]proxy|oauth2?[-_ ]proxy|fluentd|fluent[- ]?bit|filebeat|promtail|vector|logstash|vault[- ]agent|(?:log(?:ging)?|metrics) (?:shipper|agent|forwarder|collector)|prox(?:y|ies)|sidecars?)\b[^.\n]{0,25}?\b(?:(?:is|are)\s+(?:still\s+)?(?:running|up|alive|active)\b|stays?\s+(?:up|alive|running)\b|keeps?\s+(?:the\s+pod\s+|it\s+)?(?:alive|up|running)\b|continues?\s+(?:to\s+run|running)\b)",
    )
});
/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&WORK_DONE, &SIDECAR_UP]
}

/// A sidecar said to be up beside the main work said done, quoted.
pub(super) fn sidecar_outlives_work(text: &str) -> Option<String> {
    WORK_DONE.find(text)?;
    quote(text, &SIDECAR_UP)
}
