//! Job rules: deadlines, backoff limits, pod failure policies, and Jobs stuck active (a
//! sidecar outliving the main container, a Helm hook Job in progress), as pasted text
//! tells them.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Incident, Subject, told};
use regex::Regex;

use super::{quote, re};
use crate::{diagnosis, remedy};

mod finished;
mod hanging;
mod helm;
mod replicas;
mod retries;
mod suspended;
mod terminating;
mod timeouts;
mod unstarted;
mod waits;

static JOB_DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(code\s*=\s*|context\s+)?\bDeadlineExceeded\b|active longer than (?:the )?specified deadline|activeDeadlineSeconds",
    )
});
static JOB_POLICY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bPodFailurePolicy\b|matching FailJob rule|exceeded the specified maximal number of failed indexes|Job has failed indexes",
    )
});
/// A Job shown or said to have ended Failed: a `kubectl get jobs` row with its STATUS column
/// (`job.batch/x   Failed   0/1   35m   35m`), or "the Job … is in (a) Failed state/status".
/// Without a deadline named, a Job's Failed condition is its retries running out.
static JOB_SHOWN_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\s*(?:job(?:\.batch)?/)?[a-z0-9][-a-z0-9.]*\s+(?-i:Failed)\s+\d+/\d+\s|\bjobs?\b[^.\n]{0,60}?\b(?:is|was|are|were|ended|ends|went|goes|got|gets|marked|stays?|remains?)\s+(?:up\s+)?(?:in|into|as|with)?\s*(?:an?\s+|the\s+)?[`'\x22]?Failed[`'\x22]?\s+(?:state|status|condition|phase)\b",
    )
});
/// A `kubectl get jobs` row still at 0 completions: name, `0/N`, then durations/ages such
/// as `22h`, `84m`, `10d`.
static JOB_ROW: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s*([a-z0-9][-a-z0-9.]*)\s+0/\d+\s+(\d+)([smhd])\b"));
/// A Job said to stay active: stuck, hanging, never completing, running forever, or not
/// getting marked complete / successful; its name or id may stand between (`job
/// 89bff558adf34ef485c571f77ad2c70a has been stuck …`).
static JOB_STUCK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:cron)?jobs?\b(?:\s+[`'\x22]?[\w.-]{1,64}[`'\x22]?)?[^\n]{0,40}\b(?:stuck|hangs?|hung|never (?:complete|completes|finish|finishes|end|ends|terminate)|still running|(?:don't|do not|doesn't|does not|won't|will not) (?:complete|finish|terminate)|fail(?:s|ed|ing)? to (?:complete|finish)|(?:remains?|remained|stays?|stayed|is left)\s+(?:in\s+)?(?:an?\s+|the\s+)?(?:running|active|incomplete)\b|(?:don't|do not|doesn't|does not|never|won't|will not) (?:transition|get|move|go|turn|reach)\w*(?: to| into)?\W{0,3}(?:complete|completed|succeeded|finished)\b|(?:never|not|aren't|isn't|wasn't|weren't|don't|doesn't|didn't|won't)\s+(?:(?:got|gets?|getting|been|being|be|is|are)\s+)?marked (?:as )?[`'\x22]?(?:complete|completed|succeeded|successful|success|finished|done|failed)\b|(?:going on|active|running|runs?)\W{0,3}(?:\(\w+\)\s*)?(?:forever|indefinitely)\b)",
    )
});
/// kube-prometheus' alert on a Job active too long, by name (`KubeJobNotCompleted`, before
/// it `KubeJobCompletion`) or by its annotations ("Job ns/x is taking more than 12h 0m 0s to
/// complete", "Job did not complete in time").
static NOT_COMPLETED_ALERT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bKubeJob(?:NotCompleted|Completion)\b|(?i:\bjob\s+\S+\s+is taking more than\s+[^.
]{1,40}?\s+to complete\b|\bjob did not complete in time\b)",
    )
});
/// A run said to have gone on for hours or days: "for several hours now", "for 3 days",
/// "over 20 hours", "since yesterday", "overnight".
static RAN_FOR_LONG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:for|over|after|more than|than)\s+(?:(?:several|many|a few|\d+\+?|two|three|four|five|six|twelve|24|48)\s+)?(?:hours|days|weeks)\b|\bfor (?:an? )?(?:hour|day|week)s?\b|\bsince yesterday\b|\bovernight\b|\ball night\b",
    )
});
/// The backoff limit said to be too low for the work: "backoffLimit may be too low when …",
/// "the backoffLimit needs to be adjusted up", "raise the backoff limit", "the low (default)
/// backoff limit".
static BACKOFF_TOO_LOW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bback[- ]?off[_ ]?limit\b[^.\n]{0,60}?\b(?:too (?:low|small|short)|needs? to be (?:adjusted|raised|increased|higher)|not (?:enough|high enough|sufficient))\b|\b(?:raise|increase|bump|adjust)\w*\s+(?:up\s+)?(?:the\s+|its\s+|our\s+)?back[- ]?off[_ ]?limit\b|\b(?:too\s+)?(?:low|small|short)\s+(?:\(default\)\s+|default\s+)?back[- ]?off[_ ]?limits?\b",
    )
});
/// A Job said to have no deadline (`no activeDeadlineSeconds`, `there is no way to set
/// activeDeadlineSeconds`, `activeDeadlineSeconds is not set`): it cannot have exceeded one.
static NO_DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:no|without|missing|lacks?|lacking)\b[^.\n]{0,30}?\bactiveDeadlineSeconds\b|\bactiveDeadlineSeconds\b[^.\n]{0,20}?\b(?:is|was|are)\s+(?:not set|unset|missing|absent|not specified)\b",
    )
});
/// A deadline said not to have fired: "activeDeadlineSeconds did not take effect", "… is
/// not respected", "… doesn't work". The Job stayed active past it.
static DEADLINE_NOT_FIRED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bactive_?Deadline_?Seconds\b[^.\n]{0,40}?\b(?:did not|didn't|does not|doesn't|do not|don't|never|is not|isn't|was not|wasn't|not)\s+(?:being\s+|been\s+)?(?:take effect|taking effect|work|works|working|respected|honou?red|enforced|applied|fired?|triggered|triggers?|kill\w*|stop\w*|terminat\w*)\b",
    )
});
/// A sidecar that outlives the Job's main container: a mesh proxy (istio-proxy, envoy,
/// linkerd-proxy), a database proxy (cloud-sql-proxy) or any container called a sidecar,
/// said to keep running.
static SIDECAR_RUNNING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:istio[- ]proxy|envoy|linkerd(?:[- ]proxy)?|cloud[-_ ]sql[-_ ]proxy|(?:mesh |sidecar )?prox(?:y|ies)|sidecars?)\b[^.\n]{0,60}?\b(?:(?:is |are )?still running|keeps? (?:on )?running|continues? to run|continued to run|(?:remains?|remained|stays?|stayed) (?:up|alive|running)|(?:does not|doesn't|do not|don't|never|will not|won't|not) (?:exit|stop|terminate|quit|shut down)|(?:isn't|is not|aren't|are not) (?:exiting|terminating|stopping))",
    )
});
/// A Job said to create pods without end: "the job creates an infinite number of pods",
/// "it spawned thousands of pods", "the Job keeps creating new pods". Each pod failed and
/// was replaced, with no backoff limit or deadline stopping the retries.
static ENDLESS_PODS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:creat|spawn|start|launch|spin)\w*\b[^.\n]{0,20}?\b(?:an? )?(?:infinite|endless|unlimited|unbounded|countless|thousands of|hundreds of|\d+k)\b[^.\n]{0,20}?\bpods\b|\bkeeps? (?:on )?(?:creating|spawning|starting|launching) (?:new |more )?pods?\b|\b(?:new\s+)?pods\s+keep\s+(?:on\s+)?(?:being\s+)?(?:created|spawned|started|launched)\b",
    )
});
/// Several of a Job's pods shown or said to have failed: "5 empty pods in status `Error`",
/// "all 6 pods ended up Failed", "every pod ends up in Error", "retried 6 times and gave up", `kubectl describe job`'s `Pods Statuses: 0 Active / 0
/// Succeeded / 6 Failed`. Each failure was retried with a new pod (restartPolicy Never)
/// until the backoff limit.
static FAILED_PODS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:[2-9]|\d{2,}|several|many|multiple|lots of|dozens of|hundreds of|all(?: \d+)?)\s+(?:[\w-]+\s+){0,2}?pods\b[^.\n]{0,30}?\b(?:Error|Failed)\b|\b(?:every|each)\s+(?:single\s+)?pod\b[^.\n]{0,40}?\b(?:Error|Failed)\b|\b(?:many|multiple|several|lots of|dozens of|hundreds of)\s+[`'\x22]?(?:Error|Failed)[`'\x22]?\s+pods?\b|\b(?:retried|retries|attempts?|tries|tried)\b[^.\n]{0,20}?\b(?:\d+|two|three|four|five|six|seven|several|many)\b[^.\n]{0,30}?\b(?:gave up|giving up|gives up|stopped retrying|exhausted|and failed|then failed)\b|\bPods Statuses:\s*0 (?:Active|Running)[^/\n]*/\s*0 Succeeded\s*/\s*[1-9]\d* Failed\b",
    )
});
/// A `kubectl get pods` row of a pod that ended in Error: `curl-27781-x7k2p   0/1   Error   0   5m`.
static ERROR_ROW: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s*[a-z0-9][-a-z0-9.]*\s+0/\d+\s+(?:Error|Failed)\s+\d+\b"));
/// A pod a Job created, by its name ([`told::JOB_POD_NAME`]), or the Job itself
/// (`…-setup-job`), or a log told to be a Job's: "the logs from the job", "the job's logs",
/// `kubectl logs job/…`.
static JOB_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b[a-z0-9][-a-z0-9]*-job\b|(?i:\blogs? (?:from|of) (?:the |this |that )?job\b|\bjob'?s logs?\b|\blogs\s+(?:-\S+\s+)*job/)",
    )
});
/// A program's fatal end in its log: `"level":"fatal"`, `level=fatal`, `FATAL`, `panic:`,
/// `fatal error:`, or a line of its own output that starts with `Error` or `error` (kubectl's
/// `Error from server (Forbidden): …` and `error: …`, a CLI's `Error: …`): what a
/// program prints as it gives up, unindented (after the pod name `stern` or `kubectl logs
/// --prefix` puts before each line, if any), not a table's `Error` column; or a
/// supervisor's `Command exited with error: exit status 1` (dockerize).
static FATAL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    // What `kubectl logs --prefix` (`[pod/NAME/CONTAINER] `) or stern (`NAME CONTAINER `)
    // puts before each line of a pod's log.
    const LOG_PREFIX: &str =
        r"(?:\[pod/[^\]\s]+\]\s+|[a-z0-9][-a-z0-9]*-[a-z0-9]{5}\s+(?:[a-z0-9][-a-z0-9]*\s+)?)?";
    re(&format!(
        r#"(?i)"level"\s*:\s*"fatal"|\blevel=fatal\b|\bFATAL\b|(?m:^{LOG_PREFIX}panic:)|\bfatal error:|(?m-i:^{LOG_PREFIX}[`'"]?(?:Error|error)(?: from server \([A-Za-z]+\))?:? \S)|\bexited with error: exit status [1-9]"#
    ))
});

/// A Job that allows no retry: `backoffLimit: 0`, `"backoffLimit": 0`, `--backoff-limit=0`,
/// "backoffLimit is set to 0", "a backoff limit of 0".
static BACKOFF_ZERO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\bbackoff_?limit"?\s*[:=]\s*0\b|--backoff-limit[= ]0\b|\bbackoff[_ ]?limit[`'"]?\s+(?:is\s+|was\s+|of\s+|(?:is\s+)?set\s+to\s+)[`'"]?0\b"#,
    )
});
/// A pod that does not go away: shown `Terminating`, or told to stay, hang or not be
/// removed (read beside the Job controller's tracking finalizer).
static POD_KEPT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bTerminating\b|\b(?:not|never|n't) (?:be(?:ing)? )?(?:terminated|deleted|removed)\b|\bkeeps? [\w\s-]{0,30}?from being (?:terminated|deleted|removed)\b|\bstuck\b|\bhang\w*",
    )
});
/// One pod said to have ended in Error or Failed.
static ONE_POD_FAILED: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?i:pod)\b[^.\n]{0,30}?\b(?:Error|Failed)\b"));

/// A Job's single failure told in words, which with `backoffLimit: 0` is final: the Job (or
/// its pod, container, migration) exits non-zero, fails, dies or is killed, or nothing
/// retries it ("no
/// automatic retry", "is never retried").
static FAILED_ONCE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:job|pod|container|migration|task|run|script|command)\b[^.\n]{0,30}?\b(?:exit(?:s|ed)?\s+(?:with\s+)?(?:(?:exit\s+)?(?:code|status)\s+)?[1-9]\d*\b|exit(?:s|ed)?\s+non-?\s*zero\b|fail(?:s|ed)\b|died\b|dies\b|crash(?:ed|es)\b|(?:was|got|gets|is)\s+(?:OOM[- ]?)?killed\b|OOMKilled\b)|\bno\s+(?:automatic\s+|auto[- ]?)?retr(?:y|ies)\b|\b(?:is|was|are|were|gets?|got)\s+(?:never|not)\s+retried\b",
    )
});
/// A pod with some containers ready and not all, beside a Job: a `kubectl get pods` row
/// `1/2  NotReady` or `1/2  Completed`, or "1/2 in the READY column", "shows 1/2 ready",
/// "1 of 2 containers ready". Groups 1 and 2 (or 3 and 4, or 5 and 6) the ready and total
/// counts.
static PARTIAL_READY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b([1-9])/([2-9])\s+(?:NotReady|Completed|Running)\b|\b([1-9])/([2-9])\b[^.\n]{0,20}?\bready\b|\b([1-9]) (?:of|out of) ([2-9]) containers?\b[^.\n]{0,10}?\b(?:ready|running)\b",
    )
});
/// The pods of such a Job said to stay or pile up: "keep piling up", "accumulate", "never
/// get removed", "stay in Completed / NotReady", "never finish".
static PODS_LINGER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\bpil(?:e|es|ed|ing)\s+up\b|\baccumulat\w*|\bnever (?:get |gets |got )?(?:removed|cleaned|deleted|terminated|finish\w*|complete\w*|end\w*)\b|\b(?:stays?|stayed|remains?|remained|stuck)\b[^.\n]{0,20}?["'`]?(?:NotReady|Completed|completed|not ready)\b|\bNotReady\b"#,
    )
});

/// The pod said to stay Running after its (main) container finished.
static POD_RUNNING_AFTER_EXIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)\b(?:container|process|main|command|script)\b[^.\n]{0,80}?\b(?:exited|exits|completed|finished|terminated)\b.{0,200}?\bpod\b[^.\n]{0,40}?\b(?:stuck (?:at|in)|stays?|stayed|remains?|remained|still|kept|keeps)\b\W{0,3}Running\b",
    )
});
/// Helm waiting on a hook Job that never completes: `resource not ready, name: x, kind:
/// Job, status: InProgress`.
static HOOK_JOB_IN_PROGRESS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)kind:\s*Job,\s*status:\s*InProgress|\bJob\b[^\n]{0,80}?\bstatus:?\s*InProgress\b")
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![
        &JOB_DEADLINE,
        &JOB_POLICY,
        &JOB_SHOWN_FAILED,
        &JOB_STUCK,
        &NOT_COMPLETED_ALERT,
        &EXIT_NONZERO,
        &NO_DEADLINE,
        &DEADLINE_NOT_FIRED,
        &JOB_ROW,
        &SIDECAR_RUNNING,
        &ENDLESS_PODS,
        &POD_RUNNING_AFTER_EXIT,
        &HOOK_JOB_IN_PROGRESS,
        &FAILED_PODS,
        &ERROR_ROW,
        &RAN_FOR_LONG,
        &BACKOFF_TOO_LOW,
        &JOB_NAMED,
        &FATAL_LINE,
        &POD_KEPT,
        &BACKOFF_ZERO,
        &ONE_POD_FAILED,
        &FAILED_ONCE,
        &PARTIAL_READY,
        &PODS_LINGER,
    ]
    .into_iter()
    .chain(finished::patterns())
    .chain(helm::patterns())
    .chain(hanging::patterns())
    .chain(replicas::patterns())
    .chain(retries::patterns())
    .chain(terminating::patterns())
    .chain(timeouts::patterns())
    .chain(suspended::patterns())
    .chain(unstarted::patterns())
    .chain(waits::patterns())
    .collect()
}

/// The first `kubectl get jobs` row at 0 completions that has run for an hour or more.
fn long_active_job(text: &str) -> Option<String> {
    JOB_ROW.captures_iter(text).find_map(|c| {
        let n: u64 = c.get(2)?.as_str().parse().ok()?;
        let minutes = match c.get(3)?.as_str() {
            "d" => n * 24 * 60,
            "h" => n * 60,
            "m" => n,
            _ => 0,
        };
        (minutes >= 60).then(|| format!("\"{}\"", c[0].trim()))
    })
}

fn deadline_mentioned(text: &str) -> Option<String> {
    // A gRPC `code = DeadlineExceeded` or a `context deadline` is a timeout, not a Job; the
    // API server's refusal of a pod update lists `spec.activeDeadlineSeconds` among the
    // fields that may change, which says nothing of a deadline.
    JOB_DEADLINE
        .captures_iter(text)
        .filter(|c| c.get(1).is_none())
        .filter_map(|c| c.get(0))
        .map(|m| crate::text::quote_range(text, m.start(), m.end()))
        .find(|line| !line.contains("may not change fields other than"))
}

/// The Job controller's verdict: the pods failed past the limit.
const FAILED: &str = "The Job failed: its pods failed more times than backoffLimit allows (or a podFailurePolicy rule failed it); with backoffLimit 0 the first failure is final.";
/// Several of the Job's pods failed: each retry was a new pod, until the backoff limit.
const PODS_FAILED: &str = "The Job's pods fail one after another (each retry is a new pod, left in Error) until the Job stops at its backoffLimit (6 by default): the command itself fails, so fix it (the logs of any Error pod say why: a wrong host or port, a missing file, bad credentials); a CronJob repeats it every run.";
/// A Job that allows no retry (backoffLimit 0) failed once: that failure is final.
const NO_RETRY: &str = "The Job allows no retry (backoffLimit: 0), so its first failure ended it: one failed pod (a transient error, a lock or network timeout) fails the Job and whatever waits on it. Fix the failure, or allow retries (`spec.backoffLimit` above 0, with a podFailurePolicy to stop on non-retriable exit codes) when the work is safe to repeat.";
/// Pods said to be created without end: every pod fails and the Job replaces it.
const RETRIED_WITHOUT_END: &str = "The Job's pods keep failing and the Job keeps replacing them (reports tell of hundreds or thousands of pods): fix the failing command or configuration, and bound the retries with `spec.backoffLimit` and `spec.activeDeadlineSeconds` (a Helm hook also wants a hook-delete-policy).";

pub(super) fn job_rules(incident: &Incident, text: &str) -> Vec<Diagnosis> {
    let subject = crate::job::job_subject(incident, None);
    let mut out = Vec::new();
    let long_active = long_active_job(text);
    if let Some(quoted) = deadline_mentioned(text) {
        let exact = text.contains("active longer than specified deadline")
            || text.contains("DeadlineExceeded");
        // A deadline only mentioned, beside a Job shown active for hours, did not fire; one
        // said to be absent cannot have.
        if !exact
            && (long_active.is_some()
                || NO_DEADLINE.is_match(text)
                || DEADLINE_NOT_FIRED.is_match(text)
                || waits::deadline_only_wished(text))
        {
            return stuck(out, &subject, text, long_active);
        }
        out.push(diagnosis(
            Class::JobDeadlineExceeded,
            if exact { 0.85 } else { 0.7 },
            "The Job ran past its activeDeadlineSeconds and was stopped (DeadlineExceeded); the deadline is too short for the work, or the pods spent it waiting.".into(),
            subject.clone(),
            vec![quoted],
            vec![
                remedy::inspect_job(&subject),
                remedy::recreate_job(&subject, "Raise `spec.activeDeadlineSeconds` to cover the real run time"),
            ],
            true,
        ));
    } else if let Some((quoted, confidence)) = timeouts::run_timed_out(text) {
        out.push(diagnosis(
            Class::JobDeadlineExceeded,
            confidence,
            "The run was stopped by its own time limit (a pipeline or task run's timeout, the Job's activeDeadlineSeconds): the clock runs from the start, so time its pods spent Pending or pulling counts too. Raise the limit to cover the real run time, or make the pods start sooner.".into(),
            subject.clone(),
            vec![quoted],
            vec![remedy::inspect_job(&subject)],
            true,
        ));
    }
    let (backoff_quote, confidence) = if let Some(q) = quote(text, &told::JOB_BACKOFF) {
        (Some(q), 0.88)
    } else if let Some(q) = quote(text, &JOB_POLICY) {
        (Some(q), 0.85)
    } else if let Some(q) = quote(text, &JOB_SHOWN_FAILED) {
        (Some(q), 0.7)
    } else if let Some(q) = quote(text, &told::JOB_FAILED) {
        (Some(q), 0.5)
    } else {
        (None, 0.0)
    };
    if let Some(q) = backoff_quote {
        push_backoff(&mut out, &subject, FAILED, q, confidence);
    } else if (job_context(text) || text.contains("Pods Statuses:"))
        && let Some((q, summary)) = failed_pods(text)
    {
        push_backoff(&mut out, &subject, summary, q, 0.65);
    } else if job_context(text)
        && let Some(q) = quote(text, &BACKOFF_TOO_LOW)
    {
        // Told, not quoted: the Job's retries ran out before the work could succeed.
        push_backoff(&mut out, &subject, FAILED, q, 0.6);
    } else if let Some(q) = job_pod_fatal(text).or_else(|| job_pod_exited(incident, text)) {
        push_backoff(&mut out, &subject, PODS_FAILED, q, 0.6);
    } else if let Some(q) = replaced_pods(text) {
        push_backoff(&mut out, &subject, PODS_FAILED, q, 0.6);
    } else if job_context(text)
        && let Some(q) = quote(text, &ENDLESS_PODS)
    {
        // Told, not quoted: weaker than the Job controller's own reasons.
        push_backoff(&mut out, &subject, RETRIED_WITHOUT_END, q, 0.45);
    }
    stuck(out, &subject, text, long_active)
}

/// A Job's pod (named as one) whose program ends fatally in the log: the pod fails, and the
/// Job retries it into its backoff limit.
fn job_pod_fatal(text: &str) -> Option<String> {
    let pod = told::JOB_POD_NAME
        .find(text)
        .or_else(|| JOB_NAMED.find(text))?;
    let fatal = FATAL_LINE.find(text)?;
    Some(format!(
        "pod {} of a Job ends fatally: {}",
        pod.as_str(),
        crate::text::quote_range(text, fatal.start(), fatal.end())
    ))
}

/// Two or more pods of one controller (one generated name prefix) ended in Error or Failed
/// without a restart, or one such pod beside a sibling that Completed, in a `kubectl get
/// pods` table: the controller replaced each failed pod
/// instead of restarting it in place (restartPolicy Never), which is how a Job retries,
/// whatever runs it (Katib, Argo, a CI runner) and whether or not the report says "job". A
/// Deployment's pods restart in place (CrashLoopBackOff, restarts counting).
fn replaced_pods(text: &str) -> Option<String> {
    // Per generated prefix: the rows in Error (quoted), and whether a sibling completed.
    let mut per_prefix: std::collections::HashMap<&str, (Vec<&str>, bool)> = Default::default();
    for row in told::pod_rows(text).filter(|r| r.ready == 0 && r.restarts == 0) {
        let failed = matches!(row.status, "Error" | "Failed");
        if !failed && row.status != "Completed" {
            continue;
        }
        if let Some(prefix) = row.generated_prefix() {
            let entry = per_prefix.entry(prefix).or_default();
            if failed {
                entry.0.push(row.line);
            } else {
                entry.1 = true;
            }
        }
    }
    // Two failed, or one failed and a sibling that completed: a pod the controller
    // replaced rather than restarted (the retry that succeeded is still a retry).
    let (_, (rows, _)) = per_prefix
        .into_iter()
        .filter(|(_, (rows, completed))| rows.len() >= 2 || (rows.len() == 1 && *completed))
        .max_by_key(|(_, (rows, _))| rows.len())?;
    let first = rows.first()?;
    Some(if rows.len() == 1 {
        format!(
            "a pod of one controller in Error without a restart, and a sibling that completed after it: \"{first}\""
        )
    } else {
        format!(
            "{} pods of one controller in Error without a restart: \"{first}\"",
            rows.len()
        )
    })
}

/// Several failed pods of a Job, told or listed (two or more `kubectl get pods` rows in
/// Error), quoted.
fn failed_pods(text: &str) -> Option<(String, &'static str)> {
    // "3 pods failed to schedule / to pull" is no pod status.
    if let Some(m) = FAILED_PODS
        .find_iter(text)
        .find(|m| !text[m.end()..].trim_start().starts_with("to "))
    {
        return Some((
            crate::text::quote_range(text, m.start(), m.end()),
            PODS_FAILED,
        ));
    }
    // With backoffLimit 0 one failed pod is the Job's end.
    if BACKOFF_ZERO.is_match(text)
        && let Some(m) = ERROR_ROW
            .find(text)
            .or_else(|| ONE_POD_FAILED.find(text))
            .or_else(|| FAILED_ONCE.find(text))
    {
        return Some((crate::text::quote_range(text, m.start(), m.end()), NO_RETRY));
    }
    if let Some(q) = retries::spent(text).or_else(|| helm::watch_failing(text)) {
        return Some((q, PODS_FAILED));
    }
    let rows: Vec<&str> = ERROR_ROW
        .find_iter(text)
        .map(|m| m.as_str().trim())
        .collect();
    (rows.len() >= 2).then(|| {
        (
            format!("{} pods in Error: \"{}\"", rows.len(), rows[0]),
            PODS_FAILED,
        )
    })
}

/// The Job failed (or keeps failing) its pods: backoffLimit / podFailurePolicy.
fn push_backoff(
    out: &mut Vec<Diagnosis>,
    subject: &Subject,
    summary: &str,
    q: String,
    confidence: f64,
) {
    out.push(diagnosis(
        Class::JobBackoffLimit,
        confidence,
        summary.into(),
        subject.clone(),
        vec![q],
        vec![
            remedy::job_logs(subject),
            remedy::inspect_job(subject),
            remedy::recreate_job(
                subject,
                "Fix the failing command (or raise `spec.backoffLimit` for flaky work)",
            ),
        ],
        true,
    ));
}

/// A Job shown failed (a pod row in Error, a Job row Failed, a Job's pod by name ending
/// fatally) or told to have failed.
pub(super) fn job_failed_shown_or_told(text: &str) -> bool {
    (job_context(text)
        && (ERROR_ROW.is_match(text) || JOB_SHOWN_FAILED.is_match(text) || told::job_failed(text)))
        || job_pod_fatal(text).is_some()
}

/// The text is about a Job or CronJob (by kind, word or status).
fn job_context(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["job", "cron"].iter().any(|w| lower.contains(w))
}

/// A container's non-zero exit in `kubectl describe` (`Exit Code:    1`).
static EXIT_NONZERO: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s*Exit Code:\s*[1-9]\d*\s*$"));

/// A `kubectl describe` of a Job's pod (the incident's owner is a Job: `Controlled By:
/// Job/…`) whose container exited non-zero: the Job's pod failed, quoted.
fn job_pod_exited(incident: &Incident, text: &str) -> Option<String> {
    if incident.owner.as_ref().is_none_or(|o| o.kind != "Job") {
        return None;
    }
    quote(text, &EXIT_NONZERO)
}

/// The Job shown active for an hour or more, else a Job said to be stuck in words.
fn stuck(
    mut out: Vec<Diagnosis>,
    subject: &Subject,
    text: &str,
    long_active: Option<String>,
) -> Vec<Diagnosis> {
    if let Some(row) = long_active {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.75,
            "A Job has been active for an hour or more with no completion; nothing has stopped it (a deadline set in the pod template instead of the Job does not), so it keeps its pods, or waits for pods that are gone, and with concurrencyPolicy Forbid it blocks the next runs.".into(),
            subject.clone(),
            vec![row],
            vec![remedy::job_logs(subject), remedy::inspect_job(subject)],
            false,
        ));
    }
    // kube-prometheus' verdict: kube-state-metrics saw the Job active past the alert's
    // threshold (12h by default) without completing.
    if out.is_empty()
        && let Some(q) = quote(text, &NOT_COMPLETED_ALERT)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.75,
            "kube-prometheus alerts that the Job has been active past its threshold (12 hours by default) without completing: kube-state-metrics counts it active and neither succeeded nor failed, so it runs on or waits (a pod that never finishes, a sidecar that never exits, pods that cannot start). A CronJob's run stuck so blocks the next ones under concurrencyPolicy Forbid; an `activeDeadlineSeconds` would have ended it.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject), remedy::job_logs(subject)],
            true,
        ));
    }
    // The Job controller's tracking finalizer on a pod that stays: the controller could not
    // remove it (an admission webhook that also handles pod UPDATEs and rejects the patch, a
    // controller that lost track), so the pod stays Terminating and the Job never finishes
    // counting it.
    const TRACKING: &str = "batch.kubernetes.io/job-tracking";
    if out.is_empty()
        && let Some(at) = text.find(TRACKING)
        && POD_KEPT.is_match(text)
    {
        let q = crate::text::quote_range(text, at, at + TRACKING.len());
        out.push(diagnosis(
            Class::JobStuckActive,
            0.7,
            "A Job's pod keeps the Job controller's `batch.kubernetes.io/job-tracking` finalizer and stays Terminating: the controller's patch that removes it is failing (most often a mutating webhook that also handles pod UPDATEs and rejects or rewrites the patch), so the Job cannot finish counting the pod. Find the webhook that intercepts pod updates (`kubectl get mutatingwebhookconfigurations`) and restrict it to CREATE.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject)],
            false,
        ));
    }
    // A deadline said not to have fired: the Job is still active past it (its controller
    // did not act on it, or it sits where no controller reads it, as in the pod template).
    if out.is_empty()
        && let Some(q) = quote(text, &DEADLINE_NOT_FIRED)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.6,
            "The run stays active past its activeDeadlineSeconds: the deadline did not fire, so nothing stops its pods. Check where the deadline is set (the Job's spec, not the pod template) and the controller's logs; until it is fixed, delete the run by hand.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject)],
            false,
        ));
    }
    if out.is_empty()
        && let Some(d) = suspended::diagnose(text, subject)
    {
        out.push(d);
    }
    if out.is_empty()
        && let Some(d) = unstarted::diagnose(text, subject)
    {
        out.push(d);
    }
    // The pod outlives its work: a sidecar keeps running after the main container exits
    // (or the pod is said to stay Running after it), so the Job never counts a success.
    if out.is_empty()
        && job_context(text)
        && let Some(q) = quote(text, &SIDECAR_RUNNING)
            .or_else(|| quote(text, &POD_RUNNING_AFTER_EXIT))
            .or_else(|| waits::sidecar_outlives_work(text))
            .or_else(|| waits::pod_outlives_work(text))
            .or_else(|| partly_ready_lingering(text))
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.7,
            "The Job's pod keeps running after its main container finished (a sidecar such as istio-proxy or cloud-sql-proxy does not exit), so the Job never records a completion and stays active (a CronJob with concurrencyPolicy Forbid starts no new run).".into(),
            subject.clone(),
            vec![q],
            vec![
                remedy::inspect_job(subject),
                remedy::end_sidecar(),
            ],
            false,
        ));
    }
    // Shown in a pod table: a Job's or hook's pod NotReady (one container done, another
    // still running), whether or not the report says "job".
    if out.is_empty()
        && let Some(q) = not_ready_after_work(text)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.62,
            "A Job's pod shows NotReady with no restart: one container finished while another (a sidecar such as istio-proxy, linkerd-proxy or cloud-sql-proxy) keeps running, so the pod never completes and the Job stays active until something ends that container.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject), remedy::end_sidecar()],
            false,
        ));
    }
    // Shown, not told: describe's containers with the work Completed and a sidecar Running.
    if out.is_empty()
        && let Some(d) = finished::diagnose(text, subject)
    {
        out.push(d);
    }
    // A distributed job's replicas finishing unevenly: some roles stay up after the work.
    if out.is_empty()
        && let Some(q) = replicas::lingering(text)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.7,
            "Replicas of a distributed job stay up after the work (or the other replicas) finished: parameter servers, a chief or workers that never exit keep the operator from marking the job complete, so it stays Running and holds its resources.".into(),
            subject.clone(),
            vec![q],
            vec![
                remedy::inspect_job(subject),
                lastmile_events::Remediation {
                    description: "Make the lingering roles exit when training ends (parameter servers wait forever by design: end them from the chief, or use the operator's success policy / cleanPodPolicy), and check their logs for a hang.".into(),
                    command: None,
                },
            ],
            false,
        ));
    }
    if out.is_empty()
        && let Some(q) = quote(text, &HOOK_JOB_IN_PROGRESS)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.65,
            "A hook Job was still in progress when the release's wait timed out: its pods never completed (or were never admitted / scheduled); the Job's events and pods say which.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject), remedy::job_logs(subject)],
            false,
        ));
    }
    // Helm waiting on a hook Job: its watch ends on the Job still active, or the hook phase
    // failed because the wait timed out.
    if out.is_empty()
        && let Some(q) = helm::hook_wait_ran_out(text).or_else(|| waits::hook_job_awaited(text))
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.6,
            "A deployer (Helm, a GitOps sync's PreSync/PostSync hooks) waits on a hook Job that stays active without completing until its timeout, or forever; its pods are running but never finish, or never start. The Job's pods, logs and events say which.".into(),
            subject.clone(),
            vec![q],
            vec![remedy::inspect_job(subject), remedy::job_logs(subject)],
            false,
        ));
    }
    if out.is_empty()
        && let Some(d) = terminating::diagnose(text, subject)
    {
        out.push(d);
    }
    if out.is_empty()
        && job_context(text)
        && let Some(d) = hanging::diagnose(text, subject)
    {
        out.push(d);
    }
    if out.is_empty()
        && let Some(q) = quote(text, &JOB_STUCK)
    {
        // How long it has run, told ("for several hours now", "for 3 days"): far past any
        // expected duration, which is what makes an active Job stuck.
        let (confidence, evidence) = match quote(text, &RAN_FOR_LONG) {
            Some(long) if long != q => (0.62, vec![q, long]),
            Some(_) => (0.62, vec![q]),
            None => (0.45, vec![q]),
        };
        out.push(diagnosis(
            Class::JobStuckActive,
            confidence,
            "The Job stays active without finishing; its pods are running but not completing."
                .into(),
            subject.clone(),
            evidence,
            vec![remedy::job_logs(subject), remedy::inspect_job(subject)],
            false,
        ));
    }
    out
}

/// A `kubectl get pods` row whose STATUS is `NotReady` with part of its containers ready and
/// no restart, for a pod kubectl named `<name>-<5 characters>` after a word (a Job's or
/// hook's pod; a Deployment's pods carry a ReplicaSet hash, digits and consonants, before
/// the suffix): kubectl prints NotReady when a container completed while another still runs,
/// which for a Job is a sidecar that never exits. The row, quoted.
fn not_ready_after_work(text: &str) -> Option<String> {
    told::pod_rows(text)
        .find(|r| {
            r.status == "NotReady"
                && r.restarts == 0
                && r.ready > 0
                && r.ready < r.containers
                && r.generated_prefix().is_some_and(ends_in_a_word)
        })
        .map(|r| format!("\"{}\"", r.line))
}

/// The last dash-separated part of `prefix` is a word (letters with a vowel), not a hash.
fn ends_in_a_word(prefix: &str) -> bool {
    let last = prefix.rsplit('-').next().unwrap_or(prefix);
    !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_lowercase())
        && last.bytes().any(|b| b"aeiouy".contains(&b))
}

/// A Job's pod shown or said with some containers ready and not all (`1/2`), beside pods
/// said to stay or pile up: the main container finished and another (a sidecar) still runs.
fn partly_ready_lingering(text: &str) -> Option<String> {
    PODS_LINGER.find(text)?;
    let c = PARTIAL_READY.captures_iter(text).find(|c| {
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        matches!((n(1).or(n(3)).or(n(5)), n(2).or(n(4)).or(n(6))), (Some(r), Some(t)) if r < t)
    })?;
    let m = c.get(0)?;
    Some(crate::text::quote_range(text, m.start(), m.end()))
}

#[cfg(test)]
mod tests;
