//! The ordered rule table that decides a pull message's [`Cause`](super::Cause).
//!
//! [`RULES`] is evaluated top to bottom and the first rule that answers wins, because a
//! message often carries several keywords (`pull access denied … not found`) and the most
//! specific cause must win: reasons that settle it alone → platform → (only text about a
//! registry from here on) not found → auth → rate limit → HTTP status → TLS → protocol →
//! DNS → connectivity → a bare pull failure. To add a cause, add a rule at the place its
//! specificity puts it, and a sample to `tests.rs` that hits exactly that rule. The
//! judgements several rules share (access denied, TLS, causes told in words) are in
//! `rules/judges.rs`; what a rule reads and answers (`Text`, `Verdict`, `Rule`) is in
//! `rules/verdict.rs`.

#[cfg(test)]
use std::sync::LazyLock;

use lastmile_events::told;

use super::Cause::*;

mod judges;
mod network;
mod never_pull;
mod node_access;
mod unpublished;
mod verdict;

pub(super) use judges::ran_in_a_failed_job;
use judges::{
    EXPIRED_SAID, IMAGE_REF_NOT_FOUND, access_denied, auth_hint, missing_image_said,
    other_cli_reference, private_registry_said, pull_secret_missing, tls,
};
pub(super) use verdict::{Rule, Text, Verdict};
use verdict::{decided, told};

/// The rules, in priority order.
pub(super) static RULES: &[Rule] = &[
    Rule {
        name: "never-pull",
        causes: &[NeverPull],
        decide: never_pull::never_pull,
    },
    Rule {
        name: "invalid-reference",
        causes: &[InvalidReference],
        decide: |t| {
            let k = t
                .which(&[
                    "invalidimagename",
                    "invalid reference format",
                    "failed to apply default image tag",
                    "couldn't parse image",
                    // The API server's validation of a container's image field (a pod
                    // or a controller's FailedCreate): `spec.initContainers[0].image:
                    // Invalid value: "…:8 ": must not have leading or trailing whitespace`.
                    ".image: invalid value",
                    ".image: required value",
                ])
                .or_else(|| other_cli_reference(t))?;
            decided(InvalidReference, 0.97, None, k)
        },
    },
    Rule {
        name: "signature",
        causes: &[Signature],
        decide: |t| {
            let k = t
                .which(&[
                    "signaturevalidationfailed",
                    "signature validation failed",
                    "a signature was required",
                    "source image rejected",
                    "signature verification failed",
                    "no matching signatures",
                    // Policy engines verifying images (Kyverno verifyImages and its policy
                    // reports, cosign's own wording).
                    "image verification failed",
                    "failed to verify image",
                    "unverified image",
                    "no signatures found",
                    // Ratify behind Gatekeeper: `[ratify-constraint] Subject failed
                    // verification`, its report's `no verifier report`.
                    "subject failed verification",
                    "no verifier report",
                    // Connaisseur ("unable to find signed digest"), Docker Content Trust /
                    // Notary v1 and Harbor's content trust ("does not have trust data", "the
                    // image is not signed").
                    "signed digest",
                    "trust data for",
                    "image is not signed",
                ])
                // A webhook that exists only to verify signatures, named whatever its
                // message says (`lastmile_events::told`, shared with the admission rules).
                .or_else(|| told::signature_verifier_named(t.spaced).then_some("verifier"))?;
            decided(Signature, 0.9, None, k)
        },
    },
    Rule {
        name: "platform",
        causes: &[PlatformNoMatch],
        decide: |t| {
            if !t.has_any(&[
                "no match for platform in manifest",
                "no matching manifest for",
                "no image found in manifest list for architecture",
                "does not match the detected host platform",
                "does not match the specified platform",
                "in the manifest list entries",
            ]) {
                return None;
            }
            let k = if t.has("no match for platform") {
                "no match for platform"
            } else {
                "manifest"
            };
            decided(PlatformNoMatch, 0.95, None, k)
        },
    },
    Rule {
        name: "exec-format",
        causes: &[ExecFormat],
        decide: |t| {
            let k = t.which(&["exec format error"])?;
            decided(ExecFormat, 0.85, None, k)
        },
    },
    // From here on, only text about reaching a registry counts (a Job's DeadlineExceeded, a
    // webhook's x509 error or a Deployment that "timed out progressing" is no pull failure).
    Rule {
        name: "not-about-a-pull",
        causes: &[],
        decide: |t| {
            let about_pull = t.has_any(&[
                "pull",
                "image",
                "registry",
                "manifest",
                "/v2/",
                "not found in repository",
                "failed to do request",
                "x509",
                "tls:",
                "auth token",
                "oauth",
            ]);
            (!about_pull || t.has("webhook")).then_some(Verdict::NotAPull)
        },
    },
    // Registry answered: the statuses and codes first.
    Rule {
        name: "tag-not-found",
        causes: &[TagNotFound],
        decide: |t| {
            let tag_missing = t.has_any(&["manifest unknown", "not found in repository"])
                || t.has("manifest for ") && t.has("not found")
                || t.has(": not found") && !auth_hint(t);
            if !tag_missing || t.has("pull access denied") {
                return None;
            }
            let k = if t.has("manifest unknown") {
                "manifest unknown"
            } else {
                "not found"
            };
            decided(TagNotFound, 0.92, None, k)
        },
    },
    Rule {
        name: "repository-not-found",
        causes: &[RepositoryNotFound, NotFound],
        decide: |t| {
            if let Some(k) = t.which(&["name unknown", "repository name not known"]) {
                return decided(RepositoryNotFound, 0.9, None, k);
            }
            // Old registries answered a private repository alike: the access words decide.
            (IMAGE_REF_NOT_FOUND.is_match(t.spaced) && !auth_hint(t)).then_some(())?;
            decided(NotFound, 0.85, None, "not found")
        },
    },
    // A transport failure wrapped in hedged auth words is the network's, not the auth's.
    Rule {
        name: "network-behind-auth",
        causes: &[Dns, Refused, Unreachable, Timeout],
        decide: network::network_behind_auth,
    },
    Rule {
        name: "pull-secret-missing",
        causes: &[NoCredentials],
        decide: pull_secret_missing,
    },
    Rule {
        name: "access-denied",
        causes: &[
            ExpiredCredentials,
            NoCredentials,
            AccessDenied,
            RepositoryNotFound,
        ],
        decide: access_denied,
    },
    Rule {
        name: "bad-credentials",
        causes: &[BadCredentials],
        decide: |t| {
            let k = t.which(&[
                "invalid username/password",
                "incorrect username or password",
                "username or password",
                "bad credentials",
                "invalid credentials",
            ])?;
            decided(BadCredentials, 0.9, None, k)
        },
    },
    Rule {
        name: "token-fetch",
        causes: &[NoCredentials, BadCredentials],
        decide: |t| {
            if !t.has_any(&[
                "failed to fetch oauth token",
                "failed to fetch anonymous token",
                "unable to retrieve auth token",
                "failed to authorize",
            ]) {
                return None;
            }
            let cause = if t.has("anonymous") {
                NoCredentials
            } else {
                BadCredentials
            };
            decided(cause, 0.85, None, "token")
        },
    },
    Rule {
        name: "expired-credentials",
        causes: &[ExpiredCredentials],
        decide: |t| {
            let k = t.which(&[
                "security token included in the request is invalid",
                "token has expired",
                "expired token",
                "token is expired",
                "credentials have expired",
            ]);
            match k {
                Some(k) => decided(ExpiredCredentials, 0.85, None, k),
                // A certificate that expired is TLS, whatever auth words are near it.
                None if EXPIRED_SAID.is_match(t.spaced) && !t.has_any(&["x509", "certificate"]) => {
                    told(ExpiredCredentials, 0.7, None, "expired")
                }
                None => None,
            }
        },
    },
    Rule {
        name: "no-basic-auth",
        causes: &[NoCredentials],
        decide: |t| {
            let k = t.which(&["no basic auth credentials"])?;
            decided(NoCredentials, 0.88, None, k)
        },
    },
    Rule {
        name: "authentication-required",
        causes: &[NoCredentials],
        decide: |t| {
            let k = t.which(&[
                "unauthorized: authentication required",
                "authentication required",
                "authentication is required",
                "requires authentication",
                "no credentials on this request",
                "unauthorized:",
                "unauthorized",
            ])?;
            decided(NoCredentials, 0.8, Some(BadCredentials), k)
        },
    },
    Rule {
        name: "rate-limited",
        causes: &[RateLimited],
        decide: |t| {
            let said = t.has_any(&[
                "toomanyrequests",
                "too many requests",
                "pull rate limit",
                "rate limit exceeded",
                "rate exceeded",
            ]);
            if !said && t.status != Some(429) {
                return None;
            }
            let k = if t.has("toomanyrequests") {
                "toomanyrequests"
            } else {
                "429"
            };
            decided(RateLimited, 0.95, None, k)
        },
    },
    Rule {
        name: "http-status",
        causes: &[NoCredentials, AccessDenied, NotFound],
        decide: |t| match t.status {
            Some(401) => decided(NoCredentials, 0.75, Some(BadCredentials), "401"),
            Some(403) => decided(AccessDenied, 0.8, None, "403"),
            Some(404) => decided(NotFound, 0.8, None, "404"),
            _ => None,
        },
    },
    Rule {
        name: "manifest-unreadable",
        causes: &[NotFound],
        decide: |t| {
            let k = t.which(&[
                "manifest unknown",
                "not found: manifest",
                "error reading manifest",
                "reading manifest",
            ])?;
            decided(NotFound, 0.6, None, k)
        },
    },
    Rule {
        name: "tls",
        causes: &[TlsUnknownAuthority, TlsExpired, TlsHostname, TlsOther],
        decide: tls,
    },
    Rule {
        name: "http-only-registry",
        causes: &[HttpOnlyRegistry],
        decide: |t| {
            let k = t.which(&[
                "server gave http response to https client",
                "first record does not look like a tls handshake",
                "wrong version number",
            ])?;
            decided(HttpOnlyRegistry, 0.92, None, k)
        },
    },
    Rule {
        name: "dns",
        causes: &[Dns],
        decide: network::dns,
    },
    Rule {
        name: "refused",
        causes: &[Refused],
        decide: network::refused,
    },
    Rule {
        name: "unreachable",
        causes: &[Unreachable],
        decide: network::unreachable,
    },
    Rule {
        name: "timeout",
        causes: &[Timeout],
        decide: network::timeout,
    },
    Rule {
        name: "registry-unavailable",
        causes: &[RegistryUnavailable],
        decide: network::registry_unavailable,
    },
    // Told in words rather than quoted from the registry: the nodes' identity or route
    // out, a private registry the node cannot pull from, an image said not to exist, tagged
    // with a build's version or only side-loaded onto the node.
    Rule {
        name: "node-identity-said",
        causes: &[AccessDenied],
        decide: node_access::node_identity_said,
    },
    Rule {
        name: "no-route-said",
        causes: &[Unreachable],
        decide: node_access::no_route_said,
    },
    Rule {
        name: "private-registry-said",
        causes: &[NoCredentials],
        decide: private_registry_said,
    },
    Rule {
        name: "missing-image-said",
        causes: &[NotFound],
        decide: missing_image_said,
    },
    Rule {
        name: "build-version-tag",
        causes: &[NotFound],
        decide: unpublished::build_version_tag,
    },
    Rule {
        name: "side-loaded-image",
        causes: &[NotFound],
        decide: unpublished::side_loaded_image,
    },
    Rule {
        name: "pull-failed",
        causes: &[Unspecified],
        decide: |t| {
            let k = t.which(&[
                "errimagepull",
                "imagepullbackoff",
                "back-off pulling image",
                "failed to pull image",
                "failed to pull and unpack",
            ])?;
            decided(Unspecified, 0.3, None, k)
        },
    },
];

/// Forces every pattern of the table (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &EXPIRED_SAID,
        &judges::PRIVATE_SAID,
        &judges::SECRET_NOT_PASSED,
        &judges::OFFICIAL_NAMED,
        &judges::MISSING_SAID,
        &judges::CREDENTIAL_SAID,
        &IMAGE_REF_NOT_FOUND,
        &judges::LOOKUP_TRY_AGAIN,
        &node_access::NODE_IDENTITY,
        &node_access::CLOUD_REGISTRY,
        &node_access::NO_ROUTE,
        &never_pull::PULL_OFF,
        &never_pull::IMAGE_ABSENT,
        &unpublished::SIDE_LOADED,
        &unpublished::BUILD_VERSION_TAG,
    ] {
        LazyLock::force(pattern);
    }
}

/// The first rule that answers for `text`, and its answer.
pub(super) fn first_match(text: &Text<'_>) -> Option<(&'static Rule, Verdict)> {
    RULES
        .iter()
        .find_map(|rule| (rule.decide)(text).map(|v| (rule, v)))
}

#[cfg(test)]
mod tests;
