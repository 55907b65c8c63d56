//! Jobs left active told in words: a sidecar (mesh proxy, log shipper, database proxy) that
//! keeps the pod running after the main work finished, a deployer (a sync tool, a release's
//! hooks) waiting on a hook Job that never completes, and a deadline only asked for while the
//! Job runs on (no deadline fired).

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote, re};

/// The main work said done: "my model container has completed", "the main container exited
/// 0", "the script finishes", "the work is done", "on task completion".
static WORK_DONE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:complet(?:ed|es|ion)|finish(?:ed|es)|succeed(?:ed|s)|exit(?:ed|s)(?: with (?:code |status )?0)?|terminated|is done|are done|was done|done)\b",
    )
});
/// A sidecar by kind or conventional name: a mesh proxy, a log shipper, a database or auth
/// proxy, a secrets agent, anything called a sidecar (`linkerd-proxy`, "the log shipper").
pub(super) const SIDECAR_NAME: &str = r"(?:istio[- ]proxy|envoy|linkerd(?:[- ]proxy)?|cloud[-_ ]?sql[-_ ]proxy|oauth2?[-_ ]proxy|fluentd|fluent[- ]?bit|filebeat|promtail|vector|logstash|vault[- ]agent|(?:vault[- ])?injectors?(?:\s+container)?|(?:log(?:ging)?|metrics) (?:shipper|agent|forwarder|collector)|prox(?:y|ies)|side[- ]?cars?)";
/// A sidecar said to be up: "is running", "is still up", "is stuck running", "stays alive",
/// "keeps the pod alive", "continues to run".
static SIDECAR_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b{SIDECAR_NAME}\b[^.\n]{{0,25}}?\b(?:(?:is|are)\s+(?:still\s+|stuck\s+|left\s+)?(?:in\s+(?:an?\s+|the\s+)?)?(?:running|up|alive|active)\b|stays?\s+(?:up|alive|running)\b|keeps?\s+(?:the\s+pod\s+|it\s+)?(?:alive|up|running)\b|continues?\s+(?:to\s+run|running)\b|(?:runs?|running|lives?)\s+(?:forever|indefinitely)\b)",
    ))
});
/// A sidecar said to hold the pod (or its Job) open by itself, whatever the main work did:
/// it "is not terminating", "never exits", "won't shut down", "prevents the pod from
/// stopping", "keeps the job from completing", "blocks the pod from finishing".
static SIDECAR_HOLDS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b{SIDECAR_NAME}\b[^.\n]{{0,30}}?\b(?:(?:(?:is|are|was|were)\s+not|isn't|aren't|wasn't|weren't|(?:does|do|did)\s+not|doesn't|don't|didn't|never|won't|will not)\s+(?:exit|stop|terminat|quit|shut\s*down|end|complet)\w*|(?:prevents?|prevented|keeps?|kept|stops?|stopped|blocks?|blocked)\s+(?:the\s+|my\s+|our\s+)?(?:pods?|jobs?|cron\s?jobs?)\s+from\s+(?:stopping|completing|terminating|finishing|exiting|ending|succeeding))\b",
    ))
});
/// The pod itself said to outlive the work: "the pod stays alive forever even after the job
/// is done", "the pod keeps running once the migration completes", "the pod never terminates
/// when the backup has finished" (a sidecar added to it keeps it up).
static POD_UP_AFTER_DONE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bpods?\b[^.\n]{0,40}?\b(?:(?:stays?|stayed|remains?|remained|keeps?|kept|is still|are still)\s+(?:alive|up|running|active|around)|(?:never|doesn't|does not|don't|do not|won't|will not|is not|are not|isn't|aren't)\s+(?:terminat|exit|stop|finish|complet|go(?:ing)? away)\w*|lives? on|hangs? around)\b[^.\n]{0,30}?\b(?:after|once|when|even though|although|though)\b[^.\n]{0,40}?\b(?:done|finished|finishes|completed|completes|complete|exited|exits|succeeded|succeeds|ended)\b",
    )
});
/// A deployer waiting on a hook Job: "waiting for PreSync jobs to complete", Argo CD's
/// "waiting for completion of hook batch/Job/x" or "waiting for deletion of
/// /ServiceAccount/x and 5 more hooks" (hooks deleted only once the hook Job succeeded),
/// "waits on the pre-upgrade hook job", or a hook Job said never to finish ("the
/// post-install hook job never completes", "PostSync hook hangs").
static HOOK_WAIT: LazyLock<Regex> = LazyLock::new(|| {
    const HOOK: &str =
        r"(?:(?:pre|post)[- ]?(?:sync|install|upgrade|rollback|delete)|sync[- ]?fail|sync|hook)";
    re(&format!(
        r"(?i)\bwaiting\s+for\s+deletion\s+of\s+(?:hooks?\s+\S+|\S+\s+and\s+\d+\s+more\s+hooks?\b)|\bwait\w*\s+(?:for|on)\s+(?:the\s+)?(?:completion\s+of\s+)?(?:the\s+)?{HOOK}\b[^.\n]{{0,20}}?\b(?:hooks?|jobs?|batch/Job)\b|\b{HOOK}[- ]?(?:hook[- ]?)?jobs?\b[^.\n]{{0,40}}?\b(?:never|doesn't|does not|don't|do not|won't|will not|not)\s+(?:complete|finish|end|terminate|succeed)\w*|\b{HOOK}[- ]hooks?\b[^.\n]{{0,40}}?\b(?:hangs?|hung|stuck|forever|indefinitely|never (?:complete|finish|end)\w*)"
    ))
});
/// A deadline asked for, not fired: "allow passing activeDeadlineSeconds", "add support for
/// activeDeadlineSeconds", "there should be an option to set activeDeadlineSeconds", "a
/// feature request for activeDeadlineSeconds".
static DEADLINE_WISHED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:allow\w*|add|adding|support\w*|introduc\w*|expos\w*|passing|option|ability|way|should|could|would like|wish|want|feature|propos\w*|request\w*)\b[^.\n]{0,30}?\bactive_?Deadline_?Seconds\b",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![
        &WORK_DONE,
        &SIDECAR_UP,
        &SIDECAR_HOLDS,
        &POD_UP_AFTER_DONE,
        &HOOK_WAIT,
        &DEADLINE_WISHED,
    ]
}

/// A sidecar said to hold the pod open, or to be up beside the main work said done, quoted.
pub(super) fn sidecar_outlives_work(text: &str) -> Option<String> {
    quote(text, &SIDECAR_HOLDS).or_else(|| {
        WORK_DONE.find(text)?;
        quote(text, &SIDECAR_UP)
    })
}

/// The pod said to stay up after the work is done, quoted.
pub(super) fn pod_outlives_work(text: &str) -> Option<String> {
    quote(text, &POD_UP_AFTER_DONE)
}

/// A deployer said to wait on a hook Job that does not complete, quoted.
pub(super) fn hook_job_awaited(text: &str) -> Option<String> {
    quote(text, &HOOK_WAIT)
}

/// A deadline only asked for, beside a Job said to run on: no deadline has fired.
pub(super) fn deadline_only_wished(text: &str) -> bool {
    DEADLINE_WISHED.is_match(text) && super::JOB_STUCK.is_match(text)
}
