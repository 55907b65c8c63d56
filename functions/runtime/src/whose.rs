//! Whose output a pasted report shows. The crash-loop reading is about a main container; a
//! report whose failing output is an init container's (named as such, by an `Init:` status
//! or a `-c …-init` log command) or a build/release tool's log (a CI job, an image build, a
//! release tool) is another function's question, and the reading only gives way to it: it
//! stays as a weak answer when nothing else explains the text.

use std::sync::LazyLock;

use lastmile_events::Incident;
use regex::Regex;

use crate::re;

/// An init container named as the subject: `init container`, `initContainers`, an `Init:`
/// pod status, the kubelet's `spec.initContainers{x}`, `kubectl logs … -c x-init`, or a
/// container named as init containers conventionally are
/// ([`lastmile_events::told::INIT_CONTAINER_NAME`]: `vault-agent-init`, `init-db`,
/// `wait-for-db`, `install-plugins`) called a container or stage, or said to fail or restart, or a mesh's
/// traffic-redirection chains (`PROXY_INIT_REDIRECT`, `ISTIO_INBOUND`), which only its
/// injected init container programs.
static INIT_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    const NAME: &str = lastmile_events::told::INIT_CONTAINER_NAME;
    re(&format!(
        r#"(?i)\binit(?:ialization)?[- ]?containers?\b|\binitContainers?\b|\bInit:(?:CrashLoopBackOff|Error|RunContainerError|ExitCode:\d+|\d+/\d+)|spec\.initContainers\{{|(?:\s-c\s+|--container[= ])[`'"]?(?:{NAME})\b|\b(?:{NAME})[`'"]?\s+(?:(?:init\s+)?(?:containers?|stage|phase|step)\b|failed|fails|keeps|kept|continues|continued|exited|exits|restarts|is (?:restarting|crashing|failing|looping))|\bcontainers?\s+[`'"]?(?:{NAME})\b|\bPROXY_INIT_\w+|\b(?:ISTIO|CONSUL_PROXY|KUMA_MESH)_(?:INBOUND|OUTPUT|REDIRECT)\w*|\bistio-iptables\b|{}"#,
        lastmile_events::told::INIT_CONTAINER_OTHERWISE
    ))
});
/// A main container named as failing, or the init container said to have finished: the
/// failing output is then the main container's.
static MAIN_FAILING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:main|app|application|workload|server) containers?\b[^.\n]{0,40}?\b(?:crash\w*|restart\w*|exit\w*|fail\w*|CrashLoopBackOff|Error|OOMKilled|dies|died)\b|\binit[- ]?containers?\b[^.\n]{0,30}?\b(?:finished|completed?|completes|succeeded|succeeds|ran fine|runs fine|worked|works|is done|are done|passe[sd])\b",
    )
});
/// A `kubectl describe` main-containers section showing a container that exited.
static MAIN_SECTION_CRASH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^Containers:\s*$(?s:.*?)(?:CrashLoopBackOff|Last State:\s+Terminated|Reason:\s+(?:Error|OOMKilled))",
    )
});
/// A build or release tool's log: a release tool, an image build's steps, a CI runner's
/// annotations, make, npm.
static TOOL_LOG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)\bgoreleaser\b|\bko (?:build|publish|apply)\b|\bdocker\s+(?:buildx?\s|build\b)|\bDockerfile\b|\bbuild context\b|^\s*(?:FROM|COPY|ADD|RUN) \S|-ldflags\b|\bgo (?:build|install|mod \w+)\b|\bkaniko\b|\bbuildkit\b|^#\d+ \[[^\]\n]*\]|^Step \d+/\d+ :|^\s*##\[error\]|^::error\b|\bnpm ERR!|\bmake(?:\[\d+\])?: \*\*\*|\b(?:github actions|gitlab[- ]ci|jenkins|circle(?:ci)?|buildkite|tekton|drone)\b",
    )
});
/// A container's state told: the report is about a running workload after all.
static CONTAINER_STATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)CrashLoopBackOff|Back-off restarting|Restart Count|Last State:|\bExit Code:|\bkubectl\b|\bpods?\b",
    )
});

/// True when the incident is pasted text whose failing output is an init container's or a
/// build/release tool's, not a main container's. An incident with the Pod object is read
/// from the object instead.
pub(crate) fn not_a_main_container(incident: &Incident) -> bool {
    if incident.pod.is_some() {
        return false;
    }
    let Some(text) = incident.text.as_deref() else {
        return false;
    };
    if MAIN_FAILING.is_match(text)
        || MAIN_SECTION_CRASH.is_match(text)
        || lastmile_events::told::host_limit_refused(text)
    {
        return false;
    }
    // `cloud-init` is a VM's provisioning, not an init container.
    let init = INIT_NAMED
        .find_iter(text)
        .any(|m| !m.as_str().to_ascii_lowercase().contains("cloud-init"));
    init || (TOOL_LOG.is_match(text) && !CONTAINER_STATE.is_match(text))
}

/// True when pasted text (no Pod object) shows the main program refusing to start on a
/// kernel or host limit: a main container's crash, even in a report about init containers.
pub(crate) fn main_refuses_kernel_limit(incident: &Incident) -> bool {
    incident.pod.is_none()
        && incident
            .text
            .as_deref()
            .is_some_and(lastmile_events::told::host_limit_refused)
}

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [
        &INIT_NAMED,
        &MAIN_FAILING,
        &MAIN_SECTION_CRASH,
        &TOOL_LOG,
        &CONTAINER_STATE,
    ] {
        LazyLock::force(p);
    }
}

#[cfg(test)]
mod tests;
