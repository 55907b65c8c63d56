//! Deploy tools' own words when they give up waiting: Helm's `--wait` / `--atomic` timeouts
//! and hook failures, `argocd app wait` timeouts. They say *that* a release did not become
//! ready, never *why*: the answer is in its pods, Jobs and events, so the `unknown` answer
//! names the commands that fetch exactly those for the release the output names.

use std::sync::LazyLock;

use regex::Regex;

/// Which tool gave up, and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GaveUp {
    /// `helm install|upgrade --wait` ran out of time, or a hook failed or timed out.
    Helm {
        /// The release, when the output names it.
        release: Option<String>,
        /// `-n`/`--namespace`, when given.
        namespace: Option<String>,
        /// A hook phase (`pre-install`, `post-upgrade`, …) when it was a hook that failed.
        hook: Option<String>,
    },
    /// `argocd app wait` / a sync that timed out or ended Degraded.
    ArgoCd {
        /// The application, when the output names it.
        app: Option<String>,
    },
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the deploy-tool patterns are valid regexes")
}

/// Helm giving up: a wait timeout of the release or of a hook.
static HELM_TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)Error: (?:INSTALLATION|UPGRADE) FAILED: (?:.*?)(?:timed out waiting for the condition|context deadline exceeded|resource not ready)|Error: (?:failed (?:pre|post)-(?:install|upgrade)|(?:pre|post)-(?:install|upgrade) hooks failed)\b",
    )
});
/// The failed hook's phase.
static HELM_HOOK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bfailed ((?:pre|post)-(?:install|upgrade|delete|rollback))\b|\b((?:pre|post)-(?:install|upgrade|delete|rollback)) hooks? failed",
    )
});
/// The release: `helm upgrade --install NAME`, `helm install NAME`, `Release "NAME"`.
static HELM_RELEASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?:\bhelm\s+(?:upgrade\s+--install|upgrade\s+-i|install|upgrade)\s+(?:--?[\w-]+(?:[= ][^\s-]\S*)?\s+)*([a-z0-9][a-z0-9.-]*)|\bRelease "([a-z0-9][a-z0-9.-]*)")"#,
    )
});
/// `-n NS` / `--namespace NS` / `--namespace=NS` on the helm or argocd command line.
static NAMESPACE_FLAG: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\s-n\s+|\s--namespace[= ])([a-z0-9][a-z0-9-]*)"));
/// Argo CD waiting in vain.
static ARGO_TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bargocd app (?:wait|sync)\b|timed out \(\d+s\) waiting for app|health status (?:Degraded|Progressing)",
    )
});
/// `argocd app wait NAME` / `application 'NAME'`.
static ARGO_APP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bargocd app (?:wait|sync)\s+([a-z0-9][a-z0-9.-]*)|\bapp(?:lication)? '([a-z0-9][a-z0-9.-]*)'",
    )
});

/// Every pattern, for the test that builds them all.
#[cfg(test)]
fn patterns() -> [&'static LazyLock<Regex>; 6] {
    [
        &HELM_TIMEOUT,
        &HELM_HOOK,
        &HELM_RELEASE,
        &NAMESPACE_FLAG,
        &ARGO_TIMEOUT,
        &ARGO_APP,
    ]
}

fn first_group(re: &Regex, text: &str) -> Option<String> {
    let caps = re.captures(text)?;
    caps.iter()
        .skip(1)
        .flatten()
        .next()
        .map(|m| m.as_str().to_owned())
}

/// The tool that gave up in `text`, if one did.
pub(super) fn gave_up(text: &str) -> Option<GaveUp> {
    if HELM_TIMEOUT.is_match(text) {
        return Some(GaveUp::Helm {
            release: first_group(&HELM_RELEASE, text),
            namespace: first_group(&NAMESPACE_FLAG, text),
            hook: first_group(&HELM_HOOK, text),
        });
    }
    if ARGO_TIMEOUT.is_match(text) {
        return Some(GaveUp::ArgoCd {
            app: first_group(&ARGO_APP, text),
        });
    }
    None
}

impl GaveUp {
    /// What the tool said, as an input fact.
    pub(super) fn fact(&self) -> String {
        match self {
            Self::Helm { hook: Some(h), .. } => format!("Helm output: the {h} hook failed"),
            Self::Helm { .. } => "Helm output: the release did not become ready in time".into(),
            Self::ArgoCd { .. } => "Argo CD output: the application did not become healthy".into(),
        }
    }

    /// The commands that fetch what the tool did not say, for the release it named.
    pub(super) fn settle(&self) -> String {
        match self {
            Self::Helm {
                release,
                namespace,
                hook,
            } => {
                let ns = namespace.as_deref().unwrap_or("NAMESPACE");
                let rel = release.as_deref().unwrap_or("RELEASE");
                let what = if hook.is_some() {
                    format!(
                        "paste the hook Job's state: `kubectl describe jobs -n {ns} -l app.kubernetes.io/instance={rel}` and its pod's logs"
                    )
                } else {
                    format!(
                        "paste what is not ready: `kubectl describe pods -n {ns} -l app.kubernetes.io/instance={rel}` (or `helm status {rel} -n {ns} --show-resources`)"
                    )
                };
                format!("Helm only says the release {rel} did not become ready, never why; {what}")
            }
            Self::ArgoCd { app } => {
                let app = app.as_deref().unwrap_or("APP");
                format!(
                    "Argo CD only says {app} is not healthy; paste `argocd app get {app} --show-operation` and `kubectl describe` of the resources it lists as Progressing or Degraded"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
