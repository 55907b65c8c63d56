//! `imagePullPolicy: Never` with the image absent from the node. The kubelet says it
//! (`ErrImageNeverPull`, "… is not present with pull policy of Never"); people tell it:
//! pulling turned off (the pull policy set to Never, a chart value or deploy flag that
//! disables pulls) beside an image that is not on the node (never built there, not loaded
//! into the local cluster, not present).

use std::sync::LazyLock;

use regex::Regex;

use super::{Text, Verdict, decided, told};
use crate::message::Cause::NeverPull;

/// Pulling turned off (lowercase text): "imagePullPolicy: Never", "pull policy set to
/// never", "turns off image pulling", "image pulls are disabled".
pub(super) static PULL_OFF: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:image ?)?pull ?policy\b[^.]{0,20}?\bnever\b|\b(?:turn(?:s|ed|ing)? off|disabl(?:e|es|ed|ing)|switch(?:es|ed|ing)? off)\b[^.]{0,20}?\b(?:image )?pull(?:ing|s)?\b|\b(?:image )?pull(?:ing|s)? (?:is |was |are |were )?(?:turned off|disabled|switched off)\b",
    )
});

/// The image told not to be on the node (lowercase text): "the image isn't present", "we
/// never loaded the image into kind", "the image was not built on the node".
pub(super) static IMAGE_ABSENT: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\bimages?\b[^.]{0,40}?\b(?:isn't|is not|wasn't|was not|aren't|are not|weren't|were not|not|never) (?:been |yet )?(?:present|there|available locally|on the (?:node|host|machine)|loaded|built|imported)\b|\b(?:not|never|wasn't|isn't|weren't|hadn't|had not|has not|hasn't|didn't|did not) (?:been |yet )?(?:build|built|load|loaded|import|imported|side-?loaded?)\b[^.]{0,30}?\b(?:on|into|onto|in) (?:the )?(?:nodes?|cluster|kind|minikube|k3d|k3s|local)\b",
    )
});

/// The kubelet's never-pull message, or pulling told to be off beside an image told not to
/// be on the node.
pub(super) fn never_pull(t: &Text<'_>) -> Option<Verdict> {
    if let Some(k) = t.which(&["errimageneverpull", "with pull policy of never"]) {
        return decided(NeverPull, 0.97, None, k);
    }
    (PULL_OFF.is_match(t.spaced) && IMAGE_ABSENT.is_match(t.spaced)).then_some(())?;
    told(NeverPull, 0.6, None, "pull")
}

#[cfg(test)]
mod tests;
