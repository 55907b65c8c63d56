//! `runtime.exec_failed`: the runtime cannot start the container's process (the command is
//! not in the image, not executable, or its interpreter is missing). `exec format error`
//! is the binary's architecture, `image.platform_mismatch`; when the host gives registry
//! access, [`platforms`] then reads which platforms the image was published for.

pub(crate) mod platforms;

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis};
use regex::Regex;

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote, re};

/// A path that could not be executed, in the words of whatever tried: runc 1.1+ in the
/// container's log (`exec /entrypoint.sh: no such file or directory`), an init wrapper or a
/// user switcher (`[FATAL tini (7)] exec /run.sh failed: No such file or directory`,
/// `[dumb-init] /start.sh: Permission denied`, `su-exec: /app: not found`, `unable to exec
/// /init`), or `execve("/x")` failing.
static EXEC_PATH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:\bexec(?:ve|vp)?|\b(?:unable|failed|could not|couldn't|cannot|can't)\s+(?:to\s+)?exec(?:ute)?)\s*\(?\s*[`'"]?/[^\s`'"():]+[`'"]?\)?(?:\s+failed)?\s*:\s*(?:no such file or directory|not found|permission denied)|\[(?:[a-z]+\s+)?(?:tini|dumb-init|catatonit|docker-init|su-exec|gosu)\b[^\]\n]*\]\s*[`'"]?/[^\s`'":]+[`'"]?:\s*(?:no such file or directory|not found|permission denied)"#,
    )
});

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    LazyLock::force(&EXEC_PATH);
}

/// What the runtime said about the process it could not start.
#[derive(Debug, PartialEq)]
enum Failure {
    /// `runAsNonRoot` with an image whose user is root (or not numeric).
    NonRoot,
    NotFound,
    PermissionDenied,
    FormatError,
}

const STARTING: &[&str] = &[
    "starting container process",
    "exec user process caused",
    "unable to start container process",
    "oci runtime create failed",
    "runcontainererror",
    "createcontainererror",
    "failed to create containerd task",
];

fn classify(line: &str) -> Option<Failure> {
    let l = line.to_lowercase();
    if l.contains("exec format error") {
        return Some(Failure::FormatError);
    }
    if l.contains("runasnonroot")
        && (l.contains("will run as root") || l.contains("non-numeric user"))
    {
        return Some(Failure::NonRoot);
    }
    let starting = STARTING.iter().any(|s| l.contains(s))
        || l.contains("exec: \"")
        || EXEC_PATH.is_match(line);
    if starting
        && (l.contains("executable file not found")
            || l.contains("no such file or directory")
            || l.contains("not found in $path"))
    {
        return Some(Failure::NotFound);
    }
    if starting && l.contains("permission denied") {
        return Some(Failure::PermissionDenied);
    }
    // `/bin/sh: 1: /entrypoint.sh: Permission denied`: the shell found the script but may not
    // execute it (no execute bit).
    let tail = l.trim_end_matches(|c: char| c == '`' || c == '_' || c.is_whitespace());
    if l.contains("/bin/sh: ") && tail.ends_with(": permission denied") {
        return Some(Failure::PermissionDenied);
    }
    None
}

/// The exec diagnosis, when a line says the process could not be started.
pub(crate) fn diagnose(f: &Facts, t: &Target) -> Option<Found> {
    let (line, failure) = f
        .waiting
        .iter()
        .map(|(_, m)| m.as_str())
        .chain(f.termination_message.as_deref())
        .chain(f.lines.iter().map(String::as_str))
        .find_map(|l| classify(l).map(|k| (l, k)))?;
    let c = f.container.as_deref();
    let who = who(c);
    let image = f.image.as_deref().unwrap_or("<image>");
    let path = executable(line);
    let mut evidence = vec![format!("the runtime said: {}", quote(line))];
    if let Some(cmd) = &f.command {
        evidence.push(format!("the container's command: {cmd}"));
    }
    let d = match failure {
        Failure::FormatError => {
            let mut d = Diagnosis::new(
                Class::IMAGE_PLATFORM_MISMATCH,
                0.9,
                format!(
                    "{who} cannot start: `exec format error` means its binary was built for another CPU architecture than the node's."
                ),
                Default::default(),
            );
            d.remediation = vec![
                remedy::step(
                    "Compare the image's platforms with the node's architecture.",
                    format!(
                        "docker manifest inspect {image} | grep -A2 platform; kubectl get nodes -L kubernetes.io/arch"
                    ),
                ),
                remedy::advice(
                    "Publish the image for the node's architecture (docker buildx build --platform linux/amd64,linux/arm64) or schedule the workload on matching nodes (nodeSelector kubernetes.io/arch).",
                ),
            ];
            // What the registry check needs besides the pod: the binary the runtime named.
            d.details = serde_json::json!({ "executable": path });
            d
        }
        Failure::NonRoot => {
            let mut d = Diagnosis::new(
                Class::RUNTIME_EXEC_FAILED,
                0.9,
                format!(
                    "{who} cannot start: the pod requires a non-root user (runAsNonRoot) and the image runs as root (or names its user by name, which the kubelet cannot check)."
                ),
                Default::default(),
            );
            d.remediation = vec![
                remedy::step(
                    "Run it as a numeric non-root user the image can work with (or build the image with a numeric USER, e.g. USER 65532).",
                    format!(
                        "kubectl patch{} {} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"name\":\"{}\",\"securityContext\":{{\"runAsUser\":65532}}}}]}}}}}}}}'",
                        t.ns(),
                        t.workload(),
                        c.unwrap_or("<container>")
                    ),
                ),
                remedy::step(
                    "See which user the image declares.",
                    format!("docker image inspect {image} --format '{{{{.Config.User}}}}'"),
                ),
            ];
            d
        }
        Failure::NotFound => {
            let what = path
                .as_deref()
                .map(|p| format!("`{p}`"))
                .unwrap_or_else(|| "its command".into());
            let mut d = Diagnosis::new(
                Class::RUNTIME_EXEC_FAILED,
                0.88,
                format!(
                    "{who} cannot start: {what} is not in the image (wrong command or path, a file not copied into the image, or a script whose interpreter is missing or whose first line ends in a CRLF)."
                ),
                Default::default(),
            );
            d.remediation = vec![
                remedy::step(
                    "Check that the path exists in the image and what the image's entrypoint is.",
                    format!(
                        "docker run --rm --entrypoint sh {image} -c 'ls -l {} ; echo $PATH'",
                        path.as_deref().unwrap_or("/")
                    ),
                ),
                remedy::step(
                    "Fix the command/args in the pod template (or drop them to use the image's entrypoint).",
                    format!("kubectl edit{} {}", t.ns(), t.workload()),
                ),
            ];
            d
        }
        Failure::PermissionDenied => {
            let mut d = Diagnosis::new(
                Class::RUNTIME_EXEC_FAILED,
                0.85,
                format!(
                    "{who} cannot start: {} is not executable (no execute bit for the user the container runs as, or a noexec mount).",
                    path.as_deref()
                        .map(|p| format!("`{p}`"))
                        .unwrap_or_else(|| "its entrypoint".into())
                ),
                Default::default(),
            );
            d.remediation = vec![
                remedy::step(
                    "See the file's mode and owner in the image.",
                    format!(
                        "docker run --rm --entrypoint sh {image} -c 'ls -l {}'",
                        path.as_deref().unwrap_or("<entrypoint>")
                    ),
                ),
                remedy::advice(
                    "Make it executable in the image (RUN chmod 0755 <file>, or COPY --chmod=0755) and rebuild; for a script, running it as `sh <file>` also works.",
                ),
            ];
            d
        }
    };
    Some(Found::new(d, c, evidence))
}

/// `Container `api``, or `The container` when its name is unknown: how summaries start.
pub(crate) fn who(container: Option<&str>) -> String {
    container
        .map(|c| format!("Container `{c}`"))
        .unwrap_or_else(|| "The container".into())
}

/// The executable named in `exec: "/app"`, `exec: \"/app\"`, `exec /app: exec format
/// error` (runc 1.1+, in the container's log), `/bin/sh: 1: /x.sh:` or `[dumb-init] /x.sh:`.
fn executable(line: &str) -> Option<String> {
    let cleaned = line.replace("\\\"", "\"").replace("\\\\", "");
    if let Some(rest) = cleaned.split("exec: \"").nth(1) {
        return rest.split('"').next().map(str::to_owned);
    }
    if let Some(rest) = cleaned.split("exec /").nth(1) {
        let path: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | '"' | '\'' | '`'))
            .collect();
        if !path.is_empty() {
            return Some(format!("/{path}"));
        }
    }
    // A segment's last word: `[dumb-init] /start.sh: …` names its path after a prefix.
    cleaned
        .split(": ")
        .filter_map(|p| p.split_whitespace().last())
        .find(|p| p.starts_with('/') && !p.starts_with("/bin/sh"))
        .map(|p| p.trim_matches(|c: char| c == '`' || c == '_').to_owned())
}

#[cfg(test)]
mod tests;
