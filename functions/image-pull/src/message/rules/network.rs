//! The rules about reaching a registry at all (name resolution, refused or unreachable
//! connections, timeouts, a registry that answers 5xx), and the rule that lets a transport
//! failure speak when a hedged or token-fetch auth message wraps it.

use std::sync::LazyLock;

use regex::Regex;

use super::judges::LOOKUP_TRY_AGAIN;
use super::{Text, Verdict, decided};
use crate::message::Cause::*;

/// Go's resolver error for any failure to resolve a name, whatever the tail says:
/// `lookup HOST on RESOLVER:53: …` or `lookup host.domain: …`, and a dial to a resolver on
/// port 53 (`dial udp 10.96.0.10:53: …`). The tail may be a local socket failure (`socket:
/// permission denied`, `operation not permitted`, `too many open files`) that names no
/// network word; the resolution still failed, so the registry could not be reached.
static RESOLVER_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\blookup (?:[a-z0-9][-a-z0-9]*(?:\.[-a-z0-9]+)+(?::\d+)?(?: on [^\s:]+(?::\d+)?)?|[a-z0-9][-a-z0-9]* on [^\s:]+(?::\d+)?): \S|\bdial (?:udp|tcp)[46]? [^\s]+:53: \S",
    )
});

/// Auth words that do not say the registry refused anything: docker's hedge (`this may be
/// because there are no credentials on this request`, `may require 'docker login'`) and a
/// token or credential fetch that itself failed (containerd's `failed to authorize: failed
/// to fetch anonymous token: Get …`, a credential helper that could not reach its cloud).
const HEDGED_AUTH: &[&str] = &[
    "no credentials on this request",
    "may require 'docker login'",
    "may require \"docker login\"",
    "may require docker login",
    "failed to fetch anonymous token",
    "failed to fetch oauth token",
    "failed to authorize",
    "unable to retrieve auth token",
    "error getting credentials",
    "failed to get credential",
    "docker-credential-",
    "error fetching auth token",
];

/// The registry (or its token service) answered and refused: then the auth rules decide.
const REGISTRY_REFUSED: &[&str] = &[
    "unauthorized:",
    "401 unauthorized",
    "403 forbidden",
    "denied:",
    "access denied",
    "authentication required",
    "invalid username",
    "incorrect username",
    "no basic auth credentials",
    "not authorized to perform",
];

/// A transport failure under an auth message that does not say the registry refused: an
/// i/o timeout while fetching the anonymous token, or docker's "may be because there are no
/// credentials" hedge around a `dial tcp … i/o timeout`, is the node failing to reach the
/// registry, not a credential problem. Runs before the auth rules; answers only with the
/// network cause the later rules would give.
pub(super) fn network_behind_auth(t: &Text<'_>) -> Option<Verdict> {
    if !t.has_any(HEDGED_AUTH) || t.has_any(REGISTRY_REFUSED) || matches!(t.status, Some(401 | 403))
    {
        return None;
    }
    [dns, refused, unreachable, timeout]
        .into_iter()
        .find_map(|rule| rule(t))
}

/// The registry host name does not resolve.
pub(super) fn dns(t: &Text<'_>) -> Option<Verdict> {
    let k = t.which(&[
        "no such host",
        "server misbehaving",
        "temporary failure in name resolution",
        "name or service not known",
        "could not resolve host",
    ]);
    if let Some(k) = k {
        return decided(Dns, 0.92, None, k);
    }
    if LOOKUP_TRY_AGAIN.is_match(t.spaced) {
        return decided(Dns, 0.9, None, ": try again");
    }
    // A lookup that failed some other way: unless a later network rule names the failure
    // (refused, unreachable, timed out), the name did not resolve.
    let named = [refused, unreachable, timeout]
        .into_iter()
        .any(|rule| rule(t).is_some());
    if !named && RESOLVER_FAILED.is_match(t.spaced) {
        return decided(Dns, 0.85, None, "lookup ");
    }
    None
}

/// The connection is refused or reset.
pub(super) fn refused(t: &Text<'_>) -> Option<Verdict> {
    if !t.has_any(&[
        "connection refused",
        "connection reset",
        "registryunavailable: pinging",
    ]) {
        return None;
    }
    let k = if t.has("connection refused") {
        "connection refused"
    } else {
        "connection reset"
    };
    decided(Refused, 0.9, None, k)
}

/// No route to the registry (or its proxy).
pub(super) fn unreachable(t: &Text<'_>) -> Option<Verdict> {
    let k = t.which(&["network is unreachable", "no route to host", "proxyconnect"])?;
    decided(Unreachable, 0.88, None, k)
}

/// client-go's wait giving up (`kubectl wait`, `helm --wait`, a Helm hook): a deployer's
/// timeout around whatever it waited on, never a registry's.
const WAIT_GAVE_UP: &str = "timed out waiting for the condition";

/// The connection or the request timed out.
pub(super) fn timeout(t: &Text<'_>) -> Option<Verdict> {
    let k = t
        .which(&[
            "tls handshake timeout",
            "i/o timeout",
            "client.timeout exceeded",
            "timeout awaiting",
            "while awaiting headers",
            "request canceled while waiting for connection",
            "deadlineexceeded",
            "context deadline exceeded",
        ])
        .or_else(|| {
            t.spaced
                .match_indices("timed out")
                .any(|(at, _)| !t.spaced[at..].starts_with(WAIT_GAVE_UP))
                .then_some("timed out")
        })?;
    decided(Timeout, 0.75, None, k)
}

/// The registry answers 5xx or says it is unavailable.
pub(super) fn registry_unavailable(t: &Text<'_>) -> Option<Verdict> {
    let unavailable = t.status.is_some_and(|s| s >= 500)
        || t.has_any(&[
            "registryunavailable",
            "registry is unavailable",
            "service unavailable",
            "bad gateway",
        ]);
    if !unavailable {
        return None;
    }
    decided(RegistryUnavailable, 0.7, None, "unavailable")
}

#[cfg(test)]
mod tests;
