//! A Job said in words to have used up its retries: "reached the max retries", "hit the
//! retry limit", "ran out of attempts", "its retries are exhausted", "it will not create more
//! pods". The Job controller stops at `backoffLimit`, whatever the report calls it; a
//! controller said to ignore that limit retries the failing pods past it.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote_range, re};

/// Retries said to be spent, or the Job said to stop making pods.
static RETRIES_SPENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:reach\w*|hit(?:s|ting)?|exceed\w*|exhaust\w*|ran out of|runs? out of|running out of|used up|uses up|use up|spent)\s+(?:(?:its|the|all|of|their|our|his|her)\s+){0,3}(?:max(?:imum)?\s+(?:number\s+of\s+)?|retry\s+)?(?:retries|retry\s+(?:limit|count)|attempts|tries|back-?off\s*limit)\b|\b(?:max(?:imum)?\s+)?(?:retries|retry\s+(?:limit|count)|attempts)\s+(?:(?:are|were|is|was|got|gets|have been|has been)\s+)?(?:exhausted|used up|spent|reached|exceeded)\b|\b(?:will not|won't|doesn't|does not|didn't|did not|no longer|stops?|stopped)\s+(?:to\s+)?(?:create|creating|spawn\w*|start\w*|launch\w*)\s+(?:any\s+)?(?:more|new|further)\s+pods\b",
    )
});
/// The backoff limit said to be ignored or overrun while failed pods are retried: "it
/// ignores the backoffLimit", "backoffLimit is not respected", "retries past the backoff
/// limit", "doesn't honour backoff_limit", "backoffLimit: 3 is not respected".
static LIMIT_OVERRUN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:ignor(?:es|ed|ing|e)|disregard\w*|bypass\w*|(?:doesn't|does not|don't|do not|didn't|did not|never)\s+(?:respect|honou?r|obey|enforce|apply|count towards?)|past|beyond|despite|regardless of|(?:more|longer) than)\s+(?:the\s+|its\s+|their\s+|a\s+)?(?:configured\s+|specified\s+)?[`'\x22]?back-?off[_ ]?limit\b|\bback-?off[_ ]?limit[`'\x22]?(?:\s*[:=]\s*\d+|\s+of\s+\d+)?\s+(?:(?:is|was|are|were|gets?|got)\s+)?(?:not|never)\s+(?:being\s+)?(?:respected|honou?red|enforced|applied|obeyed)\b|\bback-?off[_ ]?limit[`'\x22]?\s+(?:is|was|gets?|got)\s+ignored\b",
    )
});
/// The retries are a Job's (or its pods'), not an HTTP client's (`Max retries exceeded with
/// url`) or a controller's reconcile loop.
static JOB_WORD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:cron)?jobs?\b"));
static CLIENT_RETRIES: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bwith url\b"));

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&RETRIES_SPENT, &LIMIT_OVERRUN, &JOB_WORD, &CLIENT_RETRIES]
}

/// The line telling that the Job spent its retries, when its sentence names a Job, else
/// the line telling that its backoff limit was ignored (a field only Jobs and job operators
/// have).
pub(super) fn spent(text: &str) -> Option<String> {
    let told = RETRIES_SPENT.find_iter(text).find_map(|m| {
        let from = text[..m.start()].rfind(['.', '\n']).map_or(0, |i| i + 1);
        let to = text[m.end()..]
            .find(['.', '\n'])
            .map_or(text.len(), |i| m.end() + i);
        let sentence = &text[from..to];
        (JOB_WORD.is_match(sentence) && !CLIENT_RETRIES.is_match(sentence))
            .then(|| quote_range(text, m.start(), m.end()))
    });
    told.or_else(|| {
        let m = LIMIT_OVERRUN.find(text)?;
        Some(quote_range(text, m.start(), m.end()))
    })
}
