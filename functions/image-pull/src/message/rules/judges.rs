//! The judgements the rule table shares: whether a text hints at refused access, which
//! cause an access denial or a TLS failure is, and causes told in words (expired
//! credentials, a private registry, a missing image).

use std::sync::LazyLock;

use regex::Regex;

use lastmile_events::told;

use super::{Text, Verdict, decided, told as told_verdict};
use crate::message::Cause::*;

/// Credentials said to have expired or to expire (`the tokens stored in the pull secret are
/// expired`, `our ECR login expired`, `CI_JOB_TOKEN expires when the job ends`, an
/// "authentication expired" or "authorization has expired" error, a registry session that
/// expired), or a
/// short-lived token said to fail (`pulls with the temporary deploy token are denied`);
/// not a certificate.
pub(super) static EXPIRED_SAID: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"(?:\b|_)(?:tokens?|credentials?|passwords?|pull ?secrets?|secrets?|logins?|auth(?:entication|orization)?|sessions?)\b[^.]{0,60}?\b(?:(?:are|is|was|were|has|have|had|got|gets?|went)?\s*(?:been\s+)?expired|expires?|expiring)\b|\bexpired (?:tokens?|credentials?|passwords?|pull ?secrets?|logins?)\b|\b(?:short-lived|temporary|ephemeral|one-time) (?:registry |access |job |ci |auth )?(?:tokens?|credentials?|passwords?)\b[^.]{0,80}?\b(?:fail(?:s|ed|ing)?|denied|unauthori[sz]ed|rejected)\b",
    )
});
/// A private registry or image named in words (`a private AWS ECR image`, `our private
/// registry`).
pub(super) static PRIVATE_SAID: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\bprivate\b[^.]{0,30}?\b(?:registry|registries|repo|repos|repository|repositories|image|images|ecr|acr|gcr|artifact registry|harbor|quay)\b",
    )
});
/// A pull secret said not to reach the pods that pull: "the imagePullSecret is passed to
/// the driver pod but not to the executor pods", "pull secrets are not propagated to the
/// job's pods", "the pullSecret isn't copied into the namespace". Those pods pull without
/// credentials.
pub(super) static SECRET_NOT_PASSED: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:image ?)?pull ?secrets?\b[^.]{0,80}?(?:\b(?:not|never|isn't|aren't|wasn't|weren't|doesn't|don't|didn't)\s+(?:be(?:ing|en)?\s+|get(?:ting)?\s+)?(?:passed|propagated|copied|set|added|applied|attached|used|injected|inherited|forwarded)\b|\b(?:passed|propagated|copied|set|added|applied|injected)\b[^.]{0,60}?\bbut not\b)",
    )
});
/// Registry credentials named (`a GitLab deploy token`, `a Harbor robot account`, `added
/// registry credentials in Portainer`, `a personal access token for ghcr.io`): the pulls
/// go to a registry that needs them.
pub(super) static CREDENTIAL_SAID: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:deploy|access|registry|robot|personal access|pull) tokens?\b|\brobot accounts?\b|\bregistry (?:credentials?|logins?|passwords?)\b|\bservice account (?:key|json key)s?\b",
    )
});

/// An image or tag said not to exist (`references a docker image that does not exist`,
/// `a non-existent tag`, `the tag was never pushed`).
pub(super) static MISSING_SAID: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:image|tag)s?\b[^.]{0,40}?\b(?:that|which)?\s*(?:does not|doesn't|did not|didn't|do not|don't) exist\b|\bnon-?existent (?:docker |container )?(?:image|tag)s?\b|\b(?:image|tag) (?:is |was )?(?:missing from the registry|not published|never (?:pushed|published))\b",
    )
});

/// A registry or engine saying a named image does not exist: Docker's v1-era `Error: image
/// library/app not found`, `image "quay.io/acme/app:2" not found` from other clients. The
/// name must look like a reference (a `/` or `:` in it), so "image digest not found" or
/// "image pull secret not found" do not count.
pub(super) static IMAGE_REF_NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(r#"\bimage ["'`]?[a-z0-9][\w.-]*[/:][\w./:@-]*["'`]? (?:was )?not found\b"#)
});

/// A resolver that answered "try again" (EAI_AGAIN, musl's and Go's wording of glibc's
/// `Temporary failure in name resolution`) for a lookup: `dial tcp: lookup
/// registry-1.docker.io: Try again`, `lookup quay.io on 10.0.0.2:53: try again`. No DNS
/// server answered, as in an air-gapped node or one whose resolver is down.
pub(super) static LOOKUP_TRY_AGAIN: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\blookup [a-z0-9][-a-z0-9.]*(?::\d+)?(?: on [^\s:]+(?::\d+)?)?: try again\b",
    )
});

/// The phrases registries use to refuse access (or hide a missing repository). A bare
/// `denied:` counts where a registry put it (`denied: requested access …`, `403 Forbidden:
/// denied:`), not in the operating system's `Permission denied: '/.aws'`, a file's refusal.
pub(super) fn auth_hint(t: &Text<'_>) -> bool {
    t.has_any(&[
        "pull access denied",
        "no pull access",
        "may require 'docker login'",
        "may require authorization",
        "insufficient_scope",
        "requested access to the resource is denied",
    ]) || t
        .spaced
        .match_indices("denied:")
        .any(|(at, _)| !t.spaced[..at].ends_with("permission "))
}

/// The registry refused access: expired or missing credentials when the text says so, else
/// access denied (with "the repository does not exist" as the second reading).
pub(super) fn access_denied(t: &Text<'_>) -> Option<Verdict> {
    if !auth_hint(t) {
        return None;
    }
    let k = if t.has("pull access denied") {
        "pull access denied"
    } else {
        "denied"
    };
    if t.has_any(&[
        "security token included in the request is invalid",
        "token has expired",
        "expired token",
        "token is expired",
        "has expired",
    ]) && !t.has("x509")
    {
        return decided(ExpiredCredentials, 0.85, None, "expired");
    }
    if t.has("no basic auth credentials") {
        return decided(
            NoCredentials,
            0.85,
            Some(AccessDenied),
            "no basic auth credentials",
        );
    }
    if official_image_denied(t) {
        // Docker Hub's official images exist, and a missing tag of one answers "manifest
        // unknown", not a denial: the refusal is about the credentials sent (stale ones in
        // the docker config, a token the registry would not grant), not a misspelt name.
        return decided(AccessDenied, 0.85, None, k);
    }
    if docker_hub_missing(t) {
        // The docker CLI / compose asking Docker Hub, with no word from the registry about
        // credentials: public Hub names are pulled anonymously, so a refusal there is most
        // often a name that was never published (a typo, a local-only tag).
        return decided(
            RepositoryNotFound,
            0.7,
            Some(AccessDenied),
            "does not exist",
        );
    }
    if t.has("no pull access") || t.has("does not exist") || t.has("repository does not exist") {
        // Docker Hub and most registries answer a private and a missing repository alike.
        return decided(AccessDenied, 0.7, Some(RepositoryNotFound), k);
    }
    if t.has("insufficient_scope") {
        return decided(
            AccessDenied,
            0.75,
            Some(InsufficientScope),
            "insufficient_scope",
        );
    }
    decided(AccessDenied, 0.8, Some(RepositoryNotFound), k)
}

/// `secret "regcred" not found` beside a failing pull (and no CreateContainerConfigError,
/// which is the env/volume reading): the pod names an image pull secret that does not exist
/// in its namespace (created under another name or elsewhere), so the pull goes without
/// credentials.
pub(super) fn pull_secret_missing(t: &Text<'_>) -> Option<Verdict> {
    let pulling = t.has_any(&[
        "imagepullbackoff",
        "errimagepull",
        "back-off pulling image",
        "failed to pull image",
    ]);
    if !pulling || t.has("createcontainerconfigerror") {
        return None;
    }
    let at = t.spaced.find("secret \"")?;
    let rest = &t.spaced[at..t.spaced.floor_char_boundary(at + 200)];
    if !rest.contains("not found") {
        return None;
    }
    decided(NoCredentials, 0.85, Some(AccessDenied), "not found")
}

/// The docker CLI's `pull access denied for <name>, repository does not exist or may
/// require 'docker login'` for a Docker Hub name (no registry host), without any sign that
/// credentials were involved (a scope or auth error from the registry, a pull secret).
pub(super) fn docker_hub_missing(t: &Text<'_>) -> bool {
    if !t.has("may require 'docker login'") || !t.has("does not exist") {
        return false;
    }
    if t.has_any(&[
        "insufficient_scope",
        "authorization failed",
        "unauthorized",
        "authentication required",
        "no basic auth",
        "imagepullsecret",
        "pull secret",
        "private",
    ]) {
        return false;
    }
    let Some((_, rest)) = t.spaced.split_once("pull access denied for ") else {
        return false;
    };
    let name = rest.split([',', ' ', '"', '\'']).next().unwrap_or_default();
    let first = name.split('/').next().unwrap_or_default();
    !name.is_empty()
        && (first == "docker.io"
            || first == "index.docker.io"
            || !(first.contains('.') || first.contains(':') || first == "localhost"))
}

/// Docker Official Images pulled most: a denial naming one (`docker.io/library/busybox`,
/// `pull access denied for nginx`) cannot be a name that was never published.
const OFFICIAL_IMAGES: &[&str] = &[
    "alpine",
    "busybox",
    "nginx",
    "ubuntu",
    "debian",
    "redis",
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "node",
    "python",
    "golang",
    "httpd",
    "memcached",
    "rabbitmq",
    "traefik",
    "centos",
    "fedora",
    "registry",
    "hello-world",
    "amazonlinux",
    "openjdk",
    "eclipse-temurin",
    "ruby",
    "php",
    "wordpress",
    "haproxy",
];

/// A registry's denial naming one of [`OFFICIAL_IMAGES`] on Docker Hub: by its full name
/// (`docker.io/library/busybox:latest`, `library/nginx`) or the docker CLI's bare name
/// (`pull access denied for nginx,`).
pub(super) fn official_image_denied(t: &Text<'_>) -> bool {
    OFFICIAL_NAMED.captures_iter(t.spaced).any(|c| {
        c.get(1)
            .or_else(|| c.get(2))
            .is_some_and(|m| OFFICIAL_IMAGES.contains(&m.as_str()))
    })
}

/// A Docker Hub name in a denial: `docker.io/library/NAME`, `library/NAME`, or the docker
/// CLI's bare `pull access denied for NAME,` (lower-cased text).
pub(super) static OFFICIAL_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r#"(?:^|[\s"'(])(?:(?:index\.)?docker\.io/)?library/([a-z0-9][a-z0-9._-]*)|pull access denied for ([a-z0-9][a-z0-9._-]*)(?:[,\s"':]|$)"#,
    )
});

/// Words that put a certificate error on the way to a registry: a pull or push, an image,
/// a registry or its API, a container engine or registry client.
const REGISTRY_SIDE: &[&str] = &[
    "pull",
    "push",
    "image",
    "registry",
    "manifest",
    "/v2/",
    "docker",
    "containerd",
    "crictl",
    "podman",
    "skopeo",
    "crane",
    "buildah",
    "kaniko",
];

/// A TLS failure, by what the certificate error says. Every client speaks x509: with no
/// word putting it on the way to a registry (a controller calling its cloud's API, kubectl
/// calling the API server), it is only a reading, below what the rest of the report shows.
pub(super) fn tls(t: &Text<'_>) -> Option<Verdict> {
    if !(t.has("x509") || t.has("tls: failed to verify") || t.has("certificate") && t.has("tls")) {
        return None;
    }
    let cause = if t.has_any(&[
        "unknown authority",
        "unknown ca",
        "self signed certificate",
        "self-signed certificate",
        "unable to get local issuer",
    ]) {
        TlsUnknownAuthority
    } else if t.has_any(&["has expired", "not yet valid", "certificate expired"]) {
        TlsExpired
    } else if t.has_any(&[
        "is valid for",
        "not valid for any names",
        "legacy common name",
        "doesn't match",
        "does not match",
    ]) {
        TlsHostname
    } else {
        TlsOther
    };
    if !t.has_any(REGISTRY_SIDE) {
        return told_verdict(cause, TLS_OF_ANY_CLIENT, None, "x509");
    }
    decided(
        cause,
        if cause == TlsOther { 0.85 } else { 0.95 },
        None,
        "x509",
    )
}

/// The confidence of a certificate error nothing ties to a registry.
const TLS_OF_ANY_CLIENT: f64 = 0.5;

/// A reference rejected by a client other than the kubelet and docker, in its own words:
/// containerd's reference parser (`invalid reference`, behind `ctr`, nerdctl, pouch),
/// go-containerregistry (`could not parse reference`, behind crane, ko, skaffold), or
/// `invalid image reference`. Only beside a pull or image, since a bare "invalid reference"
/// is also a JSON-schema or YAML error.
pub(super) fn other_cli_reference(t: &Text<'_>) -> Option<&'static str> {
    let k = t.which(&[
        "error: invalid reference",
        "invalid reference:",
        "could not parse reference",
        "failed to parse reference",
        "invalid image reference",
    ])?;
    t.has_any(&[
        "pull", "push", "image", "docker", "ctr ", "nerdctl", "podman", "crictl", "crane", "skopeo",
    ])
    .then_some(k)
}

/// A pull failing, in the kubelet's reasons or in a person's words ("cannot pull", "image
/// pullback off").
pub(super) fn pull_failing(t: &Text<'_>) -> bool {
    t.has_any(&[
        "imagepullbackoff",
        "errimagepull",
        "back-off pulling",
        "failed to pull",
        "can't be pulled",
        "cannot be pulled",
        "could not be pulled",
        "can't pull",
        "cannot pull",
        "couldn't pull",
        "could not pull",
        "unable to pull",
        "won't pull",
        "fails to pull",
        "fail to pull",
        "failing to pull",
        "not able to pull",
        "pullback off",
        "pull back off",
        "pull backoff",
        "pull back-off",
        "pull error",
        "pulling error",
        "error pulling",
    ])
}

/// A Job told to have failed (its backoff limit spent, or said to fail:
/// `lastmile_events::told::job_failed`) in a text that never speaks of pulling (nor of a
/// pull's own reasons, which all name it): the Job's pods ran and failed, since a pull
/// failure leaves a pod waiting and never counts against the limit, so a registry error
/// beside it is a call the program in the pod made (a scanner reading a manifest, a deploy
/// tool asking for a token), not the node's pull.
pub fn ran_in_a_failed_job(t: &Text<'_>) -> bool {
    told::job_failed(t.spaced) && !t.has("pull")
}

/// A pull said to fail from a registry or image told to be private, for pods a pull secret
/// is said not to reach, or from one set up with registry credentials (a deploy token, a robot account) while the image is not said
/// to be missing.
pub(super) fn private_registry_said(t: &Text<'_>) -> Option<Verdict> {
    if !pull_failing(t) {
        return None;
    }
    if SECRET_NOT_PASSED.is_match(t.spaced) {
        return told_verdict(NoCredentials, 0.6, Some(AccessDenied), "secret");
    }
    if PRIVATE_SAID.is_match(t.spaced) {
        return told_verdict(NoCredentials, 0.55, Some(AccessDenied), "private");
    }
    (CREDENTIAL_SAID.is_match(t.spaced) && !MISSING_SAID.is_match(t.spaced)).then_some(())?;
    told_verdict(NoCredentials, 0.5, Some(BadCredentials), "token")
}

/// An image or tag told not to exist.
pub(super) fn missing_image_said(t: &Text<'_>) -> Option<Verdict> {
    let m = MISSING_SAID.find(t.spaced)?;
    let k = ["exist", "missing", "never", "not published"]
        .into_iter()
        .find(|k| m.as_str().contains(k))
        .unwrap_or("image");
    told_verdict(NotFound, 0.55, None, k)
}

#[cfg(test)]
mod tests;
