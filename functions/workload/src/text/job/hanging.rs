//! A Job's pods said to hang on for hours or days: the work inside them stalls (a download
//! or call with no timeout, a lock never released), nothing bounds the run, so the Job stays
//! active and, under a CronJob, its runs pile up or block the next ones.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::text::{quote_range, re};
use crate::{diagnosis, remedy};

/// A long time: "for days", "for 3 hours", "for several days at a time", "for weeks", "for
/// 20h".
const LONG: &str = r"for\s+(?:(?:\d+|several|many|multiple|a\s+few|two|three|some|whole)\s+)?(?:hours|days|weeks|\d+\s*[hd]\b)";
/// Pods (or the Job, the run) said to hang, stay or keep running that long (prose wrapped
/// across lines included): "leaves pods hanging around for days", "the pod has been running for 3 days", "runs linger for
/// weeks", "the job is stuck for hours".
static HANGS_LONG: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:pods?|(?:cron)?jobs?|runs?|containers?)\b[^.\n]{{0,30}}?\b(?:hang\w*|hung|stuck|linger\w*|sitting|sits?|stay\w*|remain\w*|(?:been\s+)?running|alive|around|active)\b[^.]{{0,20}}?\b{LONG}",
    ))
});
/// A state that is no run at all: waiting to be scheduled, pulled or initialised.
static NOT_STARTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:Pending|ContainerCreating|Init\b|Initializing|ImagePull\w*|ErrImagePull|Terminating|unschedul\w*)",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&HANGS_LONG, &NOT_STARTED]
}

/// The Job's pods said to hang on for hours or days while running.
pub(super) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let m = HANGS_LONG
        .find_iter(text)
        .find(|m| !NOT_STARTED.is_match(m.as_str()))?;
    Some(diagnosis(
        Class::JobStuckActive,
        0.55,
        "The Job's pods are said to run on for hours or days without finishing: the work inside hangs (a download or call without a timeout, a lock never released), and nothing bounds the run, so the Job stays active (under a CronJob its runs pile up, or block the next ones with concurrencyPolicy Forbid). Give the work timeouts, bound the Job with `spec.activeDeadlineSeconds`, and let a CronJob replace a hung run (`concurrencyPolicy: Replace`).".into(),
        subject.clone(),
        vec![quote_range(text, m.start(), m.end())],
        vec![remedy::job_logs(subject), remedy::inspect_job(subject)],
        false,
    ))
}

#[cfg(test)]
mod tests {
    use lastmile_events::Class;

    use crate::text::tests::{assert_absent, assert_first};

    /// A Job's pods said to hang on for hours or days keep the Job active; pods that wait
    /// that long to be scheduled, or a Job that merely ran fine for weeks, are not it.
    #[test]
    fn job_pods_said_to_hang_on_for_days_keep_the_job_active() {
        assert_first(
            Class::JobStuckActive,
            &[
                "Our backup CronJob: some of its pods have been running for 3 days, the rsync to the NAS never returns.",
                "Every few runs the report job's pod just sits there
for hours after the S3 upload stalls.",
            ],
        );
        assert_absent(
            Class::JobStuckActive,
            &[
                "The nightly job's pods stay Pending for hours until the autoscaler adds a node.",
                "This cron job ran for weeks without trouble before the upgrade.",
            ],
        );
    }
}
