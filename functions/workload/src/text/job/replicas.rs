//! A distributed job (TFJob, PyTorchJob, MPIJob, a Ray or Spark job, a Volcano job) whose
//! replicas finish unevenly: some roles (workers, the chief or master, the launcher) are done
//! while others (parameter servers, the chief, workers, executors) keep running, so the
//! operator never marks the job complete.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote, re};

/// A distributed job of a training or batch operator, by its kind or by its words.
static DISTRIBUTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:TF|PyTorch|MPI|XGBoost|Paddle|MX|Ray|Jax)Jobs?\b|\bSparkApplication\b|\bvcjob\b|\b(?:tf|pytorch|mpi|training)[- ]operator\b|\bdistributed (?:training|job|run|tensorflow|pytorch)\b|\bparameter[- ]servers?\b|\bhorovod\b|\btorchrun\b|\bkubeflow\b",
    )
});
/// A replica role named, in words or as a pod name's segment (`job-ps-0`, `-worker-1`).
static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:ps|parameter[- ]servers?|chief|master|workers?|evaluator|launcher|driver|executors?|head|rank ?\d+)\b",
    )
});
/// Replicas said to stay up: "never stop running", "stay active indefinitely", "still
/// running", "keep running", "hang", "never exit", or a role's pod row still Running.
static STILL_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:ps|parameter[- ]servers?|chief|master|workers?|evaluator|launcher|driver|executors?|head|pods?|replicas?|processes)\b[^.\n]{0,40}?\b(?:never (?:stop|exit|terminat|finish|shut)\w*|(?:stays?|stayed|remains?|remained|still|keeps?|kept)\b[^.\n]{0,12}?\b(?:running|active|alive|up)\b|hang(?:s|ing)?\b|(?:do|does|did)(?:n't| not) (?:exit|stop|terminate|finish|shut ?down))|(?m:^\S*-(?:ps|chief|master|worker|evaluator|launcher|driver|exec|head)-\S*\s+\d+/\d+\s+Running\b)",
    )
});
/// The work said done, or another replica finished: "reached the max number of steps",
/// "ran successfully", "workers reach success", a role's pod row Completed, or the job said
/// never to reach completion.
static DONE_OR_NEVER_ENDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:succeed\w*|success\w*|completed?|finished|done|exited (?:with (?:code|status) )?0)\b|\breached? the (?:max|last|final)\b|\b(?:does not|doesn't|never|not) (?:go|get|move|transition|reach|become|turn)\w*\b[^.\n]{0,30}?\b(?:succe\w+|complet\w+|finish\w*)|\bstatus\b[^.\n]{0,20}?\b(?:still|remains?|stuck)\b[^.\n]{0,12}?\bRunning\b",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&DISTRIBUTED, &ROLE, &STILL_UP, &DONE_OR_NEVER_ENDS]
}

/// The quoted line telling replicas of a distributed job to stay up after the work (or other
/// replicas) finished, if the text tells that.
pub(super) fn lingering(text: &str) -> Option<String> {
    if !DISTRIBUTED.is_match(text) || !ROLE.is_match(text) || !DONE_OR_NEVER_ENDS.is_match(text) {
        return None;
    }
    // A replica shown still in Init (`launcher   0/1   Init:0/1`) has not started its work:
    // the others wait on it, they did not outlive it.
    if lastmile_events::told::pod_rows(text).any(|row| row.status.starts_with("Init:")) {
        return None;
    }
    quote(text, &STILL_UP)
}
