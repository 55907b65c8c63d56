//! Init containers told about in words rather than shown by Kubernetes' own status: named
//! by their conventional names (`wait-for-db`, `vault-agent-init`, `init-config`), said to
//! keep restarting or waiting, or failing a kernel-setting step (`sysctl -w`) that needs
//! privileges.

use std::sync::LazyLock;

use regex::Regex;

use super::re;

/// A container named as init containers conventionally are
/// ([`lastmile_events::told::INIT_CONTAINER_NAME`]), where the text calls it a
/// container (`-c NAME`, `container NAME`, `NAME container`), says what it does (`NAME
/// failed`, `NAME keeps restarting`) or what is held on it (`stuck at restore-wait`, `hangs
/// on wait-for-db`). Group 1..5 the name.
static NAMED_INIT: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("({})", lastmile_events::told::INIT_CONTAINER_NAME);
    let name = name.as_str();
    re(&format!(
        r#"(?i)(?:\s-c\s+|--container[= ])[`'"]*{name}\b|\bcontainers?\W{{0,4}}{name}\b|\b{name}[`'"]*\s+(?:init\s+)?(?:containers?|stage|phase)\b|\b{name}[`'"]*\s+(?:failed|fails|keeps|kept|continues|continued|exited|exits|is (?:looping|restarting|crashing|failing|stuck|waiting)|crash\w*|restarts)\b|\b(?:stuck|hangs?|hung|hanging|blocked|waits?|waiting)\s+(?:by|on|at|in)\s+(?:the\s+)?[`'"]*{name}\b"#
    ))
});
/// A crash of the init container told in one phrase: `Init CrashLoopBackOff`, `Init Crash
/// Loop Back-off`, `init container crashloop`, the pod's init phase said to fail ("pod init
/// error", "the pod's init will fail", "pod initialization failed").
static INIT_CRASH_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\binit(?:[- :]\s*|\s+containers?\s+(?:in\s+|is\s+)?)crash[- ]?loop|\bcrash[- ]?loop\w*(?:[- ]?back[- ]?off)?\s+(?:in|on|of|for)\s+(?:the\s+|an?\s+|my\s+)?init\b|\bpods?(?:'s)?\s+init(?:iali[sz]ation)?\s+(?:will\s+|would\s+|keeps?\s+)?(?:error(?:s|ed)?|fail(?:s|ed|ing|ure)?)\b",
    )
});
/// A file step of an installer failing, as coreutils words it at a line's start: `cp:
/// cannot create regular file '/host/opt/cni/bin/multus-shim': Text file busy`, `mv: cannot
/// move`, `ln: failed to create symbolic link`, `install: cannot create`.
static FILE_STEP_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?m)^\s*(?:cp|mv|ln|install|mkdir|rm): (?:cannot|can't|failed to)\b[^\n]*")
});
/// What a container is said to do when it exits again and again: `keeps restarting`,
/// `continues to restart`, `is crash looping`, `crashes`, `failed with`, `exits with an
/// error`, `exited on chown with exit code 123`, `this chmod command failing`, `keeps
/// throwing errors`, `could not run successfully`.
static CRASH_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bcrash[- ]?loop\w*|\bcrash(?:es|ed)\b|\bexit(?:s|ed)?\b[^.\n]{0,40}?\bexit (?:code|status) [1-9]\d*|\bcommand (?:is |was )?fail(?:s|ed|ing)\b|\b(?:keeps?|kept|continues?|continued)\s+(?:to\s+|on\s+)?(?:restart\w*|crash\w*|fail\w*|exit\w*|dying|die|erroring|throwing)\b|\b(?:is|are|was|were)\s+(?:restarting|crashing|dying)\b|\brestart(?:s|ed|ing)?\s+(?:over and over|repeatedly|constantly|endlessly|continuously|in a loop|again and again)\b|\bfail(?:s|ed)? with\b|\bfail(?:s|ed)?\s*:|\b(?:and|then)\s+(?:fails|failed|exits|exited|crashes|crashed|dies|died)\b|\bexit(?:s|ed)? with (?:an? )?error\b|\berror(?:s|ed)? out\b|\b(?:fail(?:s|ed)?|unable|could not|couldn't|cannot|can't|did not|didn't|does not|doesn't|never)\s+(?:to\s+)?(?:clone|fetch|checkout|download|sync|copy|cp|write|extract|render|unpack)\b|\b(?:prints?|printed|shows?|showed|shown|outputs?|output|logs?|dumps?)\b[^.\n]{0,20}?\busage\b|\b(?:could not|couldn't|cannot|can't|did not|didn't|does not|doesn't|never|unable to|fails? to|failed to)\s+(?:run|complete|finish|exit|execute)\s+successfully\b",
    )
});
/// A failure said to leave the pod in status Error: "if either of these fail the pod status
/// results in Error", "when it fails the pod goes to Error", "it failed and the pods ended up
/// in `Error`". Beside init containers, that Error is the init step's exit (`Init:Error`).
static FAILED_INTO_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\bfail(?:s|ed|ing)?\b[^.\n]{0,40}?\bpods?\b[^.\n]{0,20}?\b(?:results? in|resulted in|goes (?:in)?to|go (?:in)?to|went (?:in)?to|ends? up (?:in|as)|ended up (?:in|as)|is (?:in|now)|becomes?|became|turns?(?: to| into)?|turned(?: to| into)?|shows?|showed|stays? in|stayed in)\s+(?:an?\s+|the\s+)?(?:status\s+|state\s+)?[`'"]?(?-i:Error)\b"#,
    )
});
/// Where a sentence turns to another subject (`…, but the app container keeps crashing`).
static TURN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:but|while|whereas|although|then|after)\b|;|\b(?:main|app|application|other|proxy|sidecar) containers?\b",
    )
});
/// A clause that starts on a new subject: "…, and the grafana pods keep crashing", "and our
/// api deployment restarts". Group 1 the subject's first word.
static AND_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\band\s+(?:the|a|an|my|our|their|all|some|other|every)\s+([\w-]+)"));
/// A wait told in words: "keeps waiting to connect to a database", "stuck waiting for
/// redis", "waits forever for the migrations".
static WAIT_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:keeps?|kept|still|forever|stuck|endlessly|hangs?|hung|just|always)\b[^.\n]{0,15}?\bwait\w*\b[^.\n]{0,40}?\b(?:databases?|db|postgres\w*|mysql|maria-?db|mongo\w*|redis|cassandra|elastic\w*|kafka|rabbitmq|zookeeper|vault|consul|etcd|services?|servers?|api|migrations?|dns|brokers?|backend|cluster)\b|\bwait\w*\b[^.\n]{0,40}?\b(?:forever|indefinitely|endlessly|never (?:finish|complete|end|succeed)s?)\b",
    )
});
/// A kernel-setting step without the privilege it needs: `sysctl: error setting key
/// 'vm.max_map_count': Read-only file system`, `sysctl: permission denied on key`, `sh:
/// can't create /proc/sys/net/core/somaxconn: Read-only file system`, `ulimit: error setting
/// limit (Operation not permitted)`, `swapoff`/`modprobe` denied.
static KERNEL_STEP_DENIED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:sysctl|ulimit|modprobe|swapoff|setcap)\b[^\n]{0,100}?(?:Read-only file system|Permission denied|Operation not permitted|permission denied on key)|/proc/sys/\S+:? (?:Read-only file system|Permission denied|Operation not permitted)",
    )
});

/// The text puts the trouble elsewhere: the init container said to have finished, or the
/// main / app container named.
static INIT_DONE_OR_MAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\binit[- ]containers?\b[^.\n]{0,30}?\b(?:finished|completed|completes|finishes|succeeded|succeeds|ran fine|runs fine|is done|are done|worked|works)\b|\b(?:app|main|application) containers?\b",
    )
});

/// A Job others wait on (migrations, schema, database setup, a hook) said not to have run:
/// "the migration job isn't running", "a db-migrations job is never actually started", "no
/// schema job was created", "the pre-install hook job never ran".
static JOB_NOT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:migrat\w*|schema|db|database|setup|bootstrap|init\w*|seed\w*|create-?user|provision\w*)(?:[-_ ][\w-]+)?[-_ ]jobs?\b[^.\n]{0,30}?\b(?:isn't|is not|wasn't|was not|aren't|are not|weren't|were not|never|didn't|did not|doesn't|does not|hasn't|has not|haven't|have not|not)\s+(?:(?:actually|even|being|been|yet|ever|get|got|gets)\s+)*(?:run\b|runs\b|running\b|ran\b|start\w*|creat\w*|launch\w*|trigger\w*|execut\w*|exist\w*|deploy\w*|schedul\w*|fired|spawn\w*)|\bno\s+(?:migrat\w*|schema|db|database|setup|hook)[-\w]*\s+jobs?\s+(?:was|is|were|are|gets?|got|has been|have been)?\s*(?:run|ran|started|created|launched|triggered|executed)\b|\b(?:there(?:'s| is| was) no|(?:don't|do not|didn't|did not|can't|cannot|couldn't|could not) (?:see|find)(?: any| an?| the)?)\s+(?:[\w-]+[-_ ])?(?:migrat\w*|schema|db|database|setup|bootstrap|seed\w*|hook)[-\w]*\s+jobs?\b|\bjobs?\s+(?:that|which|to)\s+(?:runs?|applies|apply|performs?|does|do)\s+(?:the\s+)?(?:db\s+|database\s+|schema\s+)?(?:migrations?|schema|setup)\b[^.\n]{0,30}?\b(?:never|isn't|is not|wasn't|was not|didn't|did not|doesn't|does not|not)\s+(?:(?:actually|even|been|get|got)\s+)*(?:run|ran|start\w*|creat\w*|trigger\w*|exist\w*)",
    )
});
/// Something said to wait for that Job's work: a `wait-for-…` container, "unapplied
/// migrations", "waiting for migrations", a schema not ready, a `TimeoutError`.
static AWAITS_MIGRATIONS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bwait[-_]for[-_][\w-]+|\bwait\w*\b[^.\n]{0,30}?\b(?:migrat\w*|schema|database|db|jobs?)\b|\b(?:unapplied|pending|outstanding|missing)\s+migrations\b|\bschema\b[^.\n]{0,20}?\b(?:not (?:yet )?(?:ready|created|migrated|up to date)|out of date)\b|\bTimeoutError\b",
    )
});
/// A login or secret fetch the server keeps refusing while the client retries: "kept getting
/// 403 permission denied from /v1/auth/kubernetes/login", "keeps receiving 401
/// Unauthorized", or an agent's own line `error authenticating … Code: 403 … backoff=2s`.
static AUTH_REFUSED_AGAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:keeps?|kept|still|repeatedly|continuously|constantly|endlessly)\b[^.\n]{0,20}?\b(?:getting|receiv\w*|returning|hitting|throwing|logging|gets?|got)\b[^.\n]{0,30}?\b(?:40[13]|unauthori[sz]ed|forbidden|permission denied|access denied|authentication failed|login failed)\b|(?m:^[^\n]*\b(?:auth\w*|login|token)\b[^\n]*\b(?:40[13]|unauthori[sz]ed|forbidden|permission denied)\b[^\n]*\b(?:backoff|retry\w*|retrying|will retry)\b[^\n]*$)",
    )
});

/// A volume's ownership or mode said in words not to be changeable: "cannot change ownership
/// of the mounted folder", "fails to chown the data directory", "the chown is refused",
/// "unable to set permissions on the volume".
static OWNERSHIP_REFUSED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:cannot|can't|could not|couldn't|unable to|fails? to|failed to|not (?:allowed|permitted|able) to)\s+(?:\w+\s+)?(?:change|set|fix|update)\s+(?:the\s+)?(?:ownership|owners?|permissions?|file modes?|modes?)\b|\b(?:cannot|can't|could not|couldn't|unable to|fails? to|failed to)\s+(?:chown|chmod|chgrp)\b|\b(?:chown|chmod|chgrp)(?:ing)?\b[^.\n]{0,40}?\b(?:is|was|gets?|got)\s+(?:refused|denied|rejected|not permitted)\b",
    )
});
/// A container said to exit on the error it printed ("exits with:", "dies with the error",
/// "crashes on", "aborts with"), or its crash loop shown: it does not retry and wait.
static EXITS_ON_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:exit(?:s|ed)?|quits?|dies|died|crash(?:es|ed)?|terminat(?:es|ed)|aborts?|aborted|bails? out)\s+(?:right away\s+|immediately\s+)?(?:with|on)\b|\bCrashLoopBackOff\b|\bInit:(?:Error|CrashLoopBackOff)\b",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![
        &NAMED_INIT,
        &INIT_CRASH_WORDS,
        &CRASH_TOLD,
        &FAILED_INTO_ERROR,
        &TURN,
        &AND_SUBJECT,
        &WAIT_TOLD,
        &KERNEL_STEP_DENIED,
        &INIT_DONE_OR_MAIN,
        &JOB_NOT_RUN,
        &AWAITS_MIGRATIONS,
        &AUTH_REFUSED_AGAIN,
        &OWNERSHIP_REFUSED,
        &EXITS_ON_ERROR,
        &FILE_STEP_FAILED,
    ]
}

/// The first container named as an init container conventionally is; `cloud-init` (a VM's
/// provisioning) is not one, nor is a Job so named (`the db-init job`, `job/db-init`: a
/// Helm hook Job's failure is the Job's).
pub(super) fn named_init(text: &str) -> Option<String> {
    // Quotes around a name (`job `db-init``, `job "db-init"`) do not make it another name.
    let lower = text.to_ascii_lowercase().replace(['`', '"', '\''], "");
    NAMED_INIT.captures_iter(text).find_map(|c| {
        let name = (1..=5)
            .find_map(|i| c.get(i))?
            .as_str()
            .to_ascii_lowercase();
        let a_job = [
            format!("{name} job"),
            format!("job {name}"),
            format!("job/{name}"),
            format!("job.batch/{name}"),
            format!("jobs.batch \"{name}"),
        ]
        .iter()
        .any(|p| lower.contains(p.as_str()));
        (name != "cloud-init" && !a_job).then_some(name)
    })
}

/// A crash of an init container told in words: a phrase that says so, or a sentence that
/// names the init container (by `marker` or by `name`) and then says it keeps restarting or
/// failed, before it turns to another subject. Returns the sentence.
pub(super) fn crash_told(text: &str, marker: &Regex, name: Option<&str>) -> Option<String> {
    if let Some(m) = INIT_CRASH_WORDS.find(text) {
        return Some(sentence_at(text, m.start(), m.end()));
    }
    for sentence in sentences(text) {
        let lower = sentence.to_ascii_lowercase();
        let at = marker.find(sentence).map(|m| m.end()).or_else(|| {
            let n = name?.to_ascii_lowercase();
            lower.find(&n).map(|i| i + n.len())
        });
        let Some(at) = at else { continue };
        let rest = &sentence[at..];
        let rest = &rest[..TURN.find(rest).map_or(rest.len(), |m| m.start())];
        let rest = &rest[..other_subject(rest, name).unwrap_or(rest.len())];
        if CRASH_TOLD.is_match(rest) {
            return Some(format!("\"{}\"", sentence.trim()));
        }
    }
    None
}

/// A failure said to leave the pod in Error, in a text about init containers (`marker`):
/// returns the sentence.
pub(super) fn failed_into_error(text: &str, marker: bool) -> Option<String> {
    if !marker {
        return None;
    }
    let m = FAILED_INTO_ERROR.find(text)?;
    Some(sentence_at(text, m.start(), m.end()))
}

/// Where `rest` turns, with "and the …", to a subject other than the pod, its containers or
/// the init container `name`: the offset of that "and".
fn other_subject(rest: &str, name: Option<&str>) -> Option<usize> {
    AND_SUBJECT.captures_iter(rest).find_map(|c| {
        let word = c.get(1)?.as_str().to_ascii_lowercase();
        let same = [
            "pod",
            "pods",
            "container",
            "containers",
            "init",
            "initcontainer",
        ]
        .contains(&word.as_str())
            || name.is_some_and(|n| n.eq_ignore_ascii_case(&word));
        if same { None } else { Some(c.get(0)?.start()) }
    })
}

/// The text says the init container finished, or names the main container: an error line
/// may then be the main container's.
pub(super) fn trouble_elsewhere(text: &str) -> bool {
    INIT_DONE_OR_MAIN.is_match(text) || main_kernel_check_failed(text)
}

/// The main program told to refuse to start on a kernel or host limit (a bootstrap check).
pub(super) fn main_kernel_check_failed(text: &str) -> bool {
    lastmile_events::told::host_limit_refused(text)
}

/// A dependency wait told in words ("keeps waiting to connect to a database").
pub(super) fn wait_told(text: &str) -> Option<String> {
    let m = WAIT_TOLD.find(text)?;
    Some(sentence_at(text, m.start(), m.end()))
}

/// The kernel-setting step denied (`sysctl … Read-only file system`), quoted.
pub(super) fn kernel_step_denied(text: &str) -> Option<String> {
    let m = KERNEL_STEP_DENIED.find(text)?;
    let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    Some(format!("\"{}\"", text[start..end].trim()))
}

/// A Job that others wait on said not to have run, beside a wait for its work (told, or an
/// init container marked in the text): returns the sentence about the Job.
pub(super) fn awaited_job_never_ran(text: &str, marker: bool) -> Option<String> {
    let m = JOB_NOT_RUN.find(text)?;
    if !marker && !AWAITS_MIGRATIONS.is_match(text) {
        return None;
    }
    Some(sentence_at(text, m.start(), m.end()))
}

/// A login or secret fetch refused again and again (403/401) while the client retries.
pub(super) fn auth_refused_again(text: &str) -> Option<String> {
    let m = AUTH_REFUSED_AGAIN.find(text)?;
    Some(super::quote_range(text, m.start(), m.end()))
}

/// A volume's ownership or mode said not to be changeable, as its sentence.
pub(super) fn ownership_refused(text: &str) -> Option<String> {
    let m = OWNERSHIP_REFUSED.find(text)?;
    Some(sentence_at(text, m.start(), m.end()))
}

/// A container said to exit on its error (or shown crash-looping) rather than to retry.
/// An init container's file step failing (copying a binary onto the host, linking a
/// config), in a text about init containers (`marker`): the line. The step exits non-zero
/// and the container is restarted, whatever else the text says waits.
pub(super) fn file_step_failed(text: &str, marker: bool) -> Option<String> {
    if !marker {
        return None;
    }
    let m = FILE_STEP_FAILED.find(text)?;
    Some(format!("\"{}\"", m.as_str().trim()))
}

pub(super) fn exits_on_error(text: &str) -> bool {
    EXITS_ON_ERROR.is_match(text)
}

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '!', '?'])
        .flat_map(|l| l.split(". "))
        .filter(|s| !s.trim().is_empty())
}

fn sentence_at(text: &str, start: usize, end: usize) -> String {
    let from = text[..start].rfind(['\n', '.']).map_or(0, |i| i + 1);
    let to = text[end..]
        .find(['\n', '.'])
        .map_or(text.len(), |i| end + i);
    format!("\"{}\"", text[from..to].trim())
}

#[cfg(test)]
mod tests;
