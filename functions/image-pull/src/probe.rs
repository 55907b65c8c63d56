//! Asks the registry what the node would ask, through the injected [`RegistryHttp`] only:
//! `HEAD` the manifest with containerd's `Accept` header, answer a `401` challenge (Basic, or
//! Bearer through the token realm with `repository:<name>:pull` scope), `GET` the manifest,
//! check the index (or the image config) against the node's platform, and on a `404` tell a
//! missing repository from a missing tag with `tags/list`, suggesting the nearest tag.
//!
//! Beyond "would it pull", [`Checks`] adds a cosign signature check of the resolved digest
//! (`signature`) and the image's base OS read from its layers (`base_os`).
//!
//! The probe is pure logic over the HTTP trait, so it runs the same against a real registry in
//! the end-to-end tests, in the CLI, and inside the function.

use std::collections::BTreeMap;
use std::time::Duration;

use lastmile_contract::{
    Clock, HttpExchange, HttpRequest, HttpResponse, RegistryHttp, TransportErrorKind,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::base_os::{BaseOs, BaseOsOptions};
use crate::challenge;
use crate::cosign::SignatureCheck;
use crate::credentials::Credential;
use crate::message::{self, Cause};
use crate::platform::{self, CONTAINERD_ACCEPT, ManifestDoc, Platform};
use crate::policy::SignaturePolicy;
use crate::reference::{ImageRef, is_loopback};
use crate::transcript::Transcript;

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Registries (`host[:port]`) reached over plain HTTP, like a runtime's insecure registries.
    pub plain_http: Vec<String>,
    /// Platforms the image must serve (the node's, or `--platform`); empty skips the check.
    pub platforms: Vec<Platform>,
    /// List tags on a missing tag, to suggest the nearest one.
    pub list_tags: bool,
    /// Every image must carry a cosign signature verified by a key of the signature policy
    /// ([`Checks::signature`]): images the policy names no key for then fail as
    /// `image.signature` too. Without it, only images the policy covers are checked.
    pub require_signature: bool,
}

/// Checks beyond "would it pull", configured per host (see [`crate::config`]).
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Which images need a cosign signature, and by which keys.
    pub signature: SignaturePolicy,
    /// Reading the base OS from the image's layers (off by default).
    pub base_os: BaseOsOptions,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            plain_http: Vec::new(),
            platforms: Vec::new(),
            list_tags: true,
            require_signature: false,
        }
    }
}

/// Rate-limit headers the registry sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// `ratelimit-limit` (e.g. `100;w=21600`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// `ratelimit-remaining`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<String>,
    /// `retry-after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// `docker-ratelimit-source` (the address the registry counts against).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What the registry says about one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The node could pull it now.
    Pullable {
        /// Manifest digest.
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<String>,
        /// Manifest media type.
        media_type: String,
    },
    /// It would fail.
    Fails {
        /// Why.
        cause: Cause,
        /// One line of detail from the answer.
        detail: String,
    },
}

/// The probe's result with its transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The reference as given.
    pub image: String,
    /// Normalised reference, when it parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Which login was used (source only, never the value), or `anonymous`. Serialised as
    /// `login`: the shared redaction hides any field named `auth` (docker config's secret).
    #[serde(rename = "login")]
    pub auth: String,
    /// Platforms the image publishes (index entries, or the single image's config).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published_platforms: Vec<Platform>,
    /// Platforms asked for that it does not serve.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_platforms: Vec<Platform>,
    /// Existing tags nearest to the missing one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nearest_tags: Vec<String>,
    /// Rate-limit headers, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The signature check, when the policy asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureCheck>,
    /// The base OS, when looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_os: Option<BaseOs>,
    /// Every request and answer, redacted.
    pub transcript: Transcript,
}

impl ProbeReport {
    /// The failing cause, if any.
    pub fn cause(&self) -> Option<Cause> {
        match &self.verdict {
            Verdict::Fails { cause, .. } => Some(*cause),
            Verdict::Pullable { .. } => None,
        }
    }
}

/// How requests are authorised once the challenge is answered.
pub(crate) enum Auth {
    None,
    Basic(Credential),
    Bearer(String),
}

/// One probe in progress: the HTTP door, its options, and the transcript being written.
pub(crate) struct Prober<'a> {
    pub(crate) http: &'a dyn RegistryHttp,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) opts: &'a ProbeOptions,
    pub(crate) checks: &'a Checks,
    transcript: Transcript,
    scheme: &'static str,
}

/// Probes `image` with the candidate logins (tried in order, then anonymously if none).
pub async fn probe(
    http: &dyn RegistryHttp,
    clock: &dyn Clock,
    image: &str,
    candidates: &[Credential],
    opts: &ProbeOptions,
) -> ProbeReport {
    probe_checked(http, clock, image, candidates, opts, &Checks::default()).await
}

/// [`probe`], plus the signature and base-OS [`Checks`].
pub async fn probe_checked(
    http: &dyn RegistryHttp,
    clock: &dyn Clock,
    image: &str,
    candidates: &[Credential],
    opts: &ProbeOptions,
    checks: &Checks,
) -> ProbeReport {
    let mut report = ProbeReport {
        image: image.to_owned(),
        resolved: None,
        verdict: Verdict::Fails {
            cause: Cause::Unspecified,
            detail: String::new(),
        },
        auth: "anonymous".into(),
        published_platforms: Vec::new(),
        missing_platforms: Vec::new(),
        nearest_tags: Vec::new(),
        rate_limit: None,
        signature: None,
        base_os: None,
        transcript: Transcript::default(),
    };
    let r = match ImageRef::parse(image) {
        Ok(r) => r,
        Err(e) => {
            report.verdict = Verdict::Fails {
                cause: Cause::InvalidReference,
                detail: e.to_string(),
            };
            return report;
        }
    };
    report.resolved = Some(r.to_string());
    let plain = opts
        .plain_http
        .iter()
        .any(|h| h == &r.registry || h == r.api_host());
    let mut p = Prober {
        http,
        clock,
        opts,
        checks,
        transcript: Transcript::default(),
        scheme: if plain { "http" } else { "https" },
    };
    p.run(&r, candidates, &mut report).await;
    report.transcript = p.transcript;
    report
}

impl Prober<'_> {
    /// Sends `req` and records it in the transcript.
    pub(crate) async fn send(
        &mut self,
        step: &str,
        req: HttpRequest,
        keep_body: bool,
    ) -> HttpExchange {
        let started = self.clock.now();
        let answer = self.http.send(req.clone()).await;
        let elapsed = (self.clock.now() - started).num_milliseconds();
        self.transcript
            .record(step, &req, &answer, elapsed, keep_body);
        answer
    }

    /// A request with `auth` and `accept`, under the probe's timeout.
    pub(crate) fn request(
        &self,
        method: &str,
        url: String,
        auth: &Auth,
        accept: Option<&str>,
    ) -> HttpRequest {
        let mut headers = BTreeMap::new();
        if let Some(a) = accept {
            headers.insert("accept".to_owned(), a.to_owned());
        }
        match auth {
            Auth::None => {}
            Auth::Basic(c) => {
                headers.insert(
                    "authorization".into(),
                    challenge::basic_authorization(&c.username, &c.password),
                );
            }
            Auth::Bearer(t) => {
                headers.insert("authorization".into(), format!("Bearer {t}"));
            }
        }
        HttpRequest {
            method: method.into(),
            url,
            headers,
            body: Vec::new(),
            timeout: self.opts.timeout,
        }
    }

    /// `<scheme>://<api host>/v2/<repository>/<path>`.
    pub(crate) fn url(&self, r: &ImageRef, path: &str) -> String {
        format!(
            "{}://{}/v2/{}/{}",
            self.scheme,
            r.api_host(),
            r.repository,
            path
        )
    }

    async fn run(&mut self, r: &ImageRef, candidates: &[Credential], report: &mut ProbeReport) {
        let manifest_path = format!("manifests/{}", r.reference());
        let mut logins: Vec<Option<&Credential>> = candidates.iter().map(Some).collect();
        if logins.is_empty() {
            logins.push(None);
        }
        let mut last: Option<(Cause, String)> = None;
        for login in logins {
            report.auth = login.map_or_else(|| "anonymous".to_owned(), |c| c.source.clone());
            match self.authorised_head(r, &manifest_path, login, report).await {
                Ok((resp, auth)) => {
                    self.inspect(r, resp, &auth, report).await;
                    return;
                }
                Err((cause, detail)) => {
                    let auth_failure = cause.class() == lastmile_events::Class::IMAGE_AUTH;
                    last = Some((cause, detail));
                    if !auth_failure {
                        break;
                    }
                }
            }
        }
        if let Some((cause, detail)) = last {
            report.verdict = Verdict::Fails { cause, detail };
        }
    }

    /// HEADs the manifest, answering challenges. Ok when 2xx; Err(cause) otherwise.
    async fn authorised_head(
        &mut self,
        r: &ImageRef,
        path: &str,
        login: Option<&Credential>,
        report: &mut ProbeReport,
    ) -> Result<(HttpResponse, Auth), (Cause, String)> {
        let mut auth = Auth::None;
        let mut answered_challenge = false;
        for _ in 0..3 {
            let req = self.request("HEAD", self.url(r, path), &auth, Some(CONTAINERD_ACCEPT));
            let resp = match self.send("manifest", req.clone(), true).await {
                Ok(resp) => resp,
                Err(e)
                    if e.kind == TransportErrorKind::NotTls
                        && self.scheme == "https"
                        && is_loopback(&r.registry) =>
                {
                    // containerd falls back to plain HTTP for loopback registries.
                    self.scheme = "http";
                    continue;
                }
                Err(e) => return Err((transport_cause(e.kind, &e.detail), e.detail)),
            };
            match resp.status {
                200..=299 => return Ok((resp, auth)),
                401 if !answered_challenge => {
                    answered_challenge = true;
                    let challenges = challenge::parse(
                        resp.headers
                            .get("www-authenticate")
                            .map_or("", String::as_str),
                    );
                    if let Some(b) = challenges.iter().find(|c| c.scheme == "bearer") {
                        auth = self.token(r, b, login).await?;
                    } else if challenges.iter().any(|c| c.scheme == "basic") {
                        match login {
                            Some(c) => auth = Auth::Basic(c.clone()),
                            None => return Err((
                                Cause::NoCredentials,
                                "the registry asks for Basic credentials and none are configured"
                                    .into(),
                            )),
                        }
                    } else {
                        return Err(status_cause(&resp, login.is_some(), true));
                    }
                }
                404 => return Err(self.not_found(r, &auth, report).await),
                _ => {
                    if resp.status == 429 {
                        report.rate_limit = Some(rate_limit(&resp));
                    }
                    return Err(status_cause(&resp, login.is_some(), answered_challenge));
                }
            }
        }
        Err((
            Cause::Unspecified,
            "too many redirects or challenges".into(),
        ))
    }

    async fn token(
        &mut self,
        r: &ImageRef,
        c: &challenge::Challenge,
        login: Option<&Credential>,
    ) -> Result<Auth, (Cause, String)> {
        let realm = c.param("realm").unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err((
                Cause::Unspecified,
                format!("bearer challenge without a usable realm: {realm:?}"),
            ));
        }
        let url = challenge::pull_token_url(realm, c.param("service"), &r.repository);
        let auth = login.map_or(Auth::None, |l| Auth::Basic(l.clone()));
        let req = self.request("GET", url, &auth, None);
        let resp = match self.send("token", req, false).await {
            Ok(resp) => resp,
            Err(e) => {
                return Err((
                    transport_cause(e.kind, &e.detail),
                    format!("token endpoint: {}", e.detail),
                ));
            }
        };
        if resp.status == 401 || resp.status == 403 {
            let cause = if login.is_some() {
                Cause::BadCredentials
            } else {
                Cause::NoCredentials
            };
            return Err((
                cause,
                format!("the token endpoint {realm} answered {}", resp.status),
            ));
        }
        if resp.status == 429 {
            return Err((
                Cause::RateLimited,
                format!("the token endpoint {realm} answered 429"),
            ));
        }
        if !(200..300).contains(&resp.status) {
            return Err((
                Cause::RegistryUnavailable,
                format!("the token endpoint {realm} answered {}", resp.status),
            ));
        }
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        let token = body
            .get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        if token.is_empty() {
            return Err((
                Cause::RegistryUnavailable,
                format!("the token endpoint {realm} returned no token"),
            ));
        }
        Ok(Auth::Bearer(token.to_owned()))
    }

    async fn not_found(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        report: &mut ProbeReport,
    ) -> (Cause, String) {
        // HEAD has no body: GET it to read the registry's error code.
        let req = self.request(
            "GET",
            self.url(r, &format!("manifests/{}", r.reference())),
            auth,
            Some(CONTAINERD_ACCEPT),
        );
        let code = match self.send("manifest", req, true).await {
            Ok(resp) => error_code(&resp.body),
            Err(_) => None,
        };
        if code.as_deref() == Some("NAME_UNKNOWN") {
            return (
                Cause::RepositoryNotFound,
                format!("repository {} does not exist (NAME_UNKNOWN)", r.name()),
            );
        }
        if !self.opts.list_tags {
            return (
                Cause::TagNotFound,
                format!("{} not found ({})", r, code.unwrap_or_else(|| "404".into())),
            );
        }
        let req = self.request(
            "GET",
            self.url(r, "tags/list"),
            auth,
            Some("application/json"),
        );
        match self.send("tags", req, true).await {
            Ok(resp) if resp.status == 404 => (
                Cause::RepositoryNotFound,
                format!(
                    "repository {} does not exist ({})",
                    r.name(),
                    error_code(&resp.body).unwrap_or_else(|| "404".into())
                ),
            ),
            Ok(resp) if resp.status == 200 => {
                let tags: Vec<String> = serde_json::from_slice::<serde_json::Value>(&resp.body)
                    .ok()
                    .and_then(|v| v.get("tags").cloned())
                    .and_then(|t| serde_json::from_value(t).ok())
                    .unwrap_or_default();
                if tags.is_empty() {
                    return (
                        Cause::RepositoryNotFound,
                        format!("repository {} has no tags", r.name()),
                    );
                }
                report.nearest_tags = nearest(r.reference(), &tags, 3);
                (
                    Cause::TagNotFound,
                    format!("{} not found; the repository has {} tag(s)", r, tags.len()),
                )
            }
            _ => (
                Cause::TagNotFound,
                format!("{} not found ({})", r, code.unwrap_or_else(|| "404".into())),
            ),
        }
    }

    async fn inspect(
        &mut self,
        r: &ImageRef,
        head: HttpResponse,
        auth: &Auth,
        report: &mut ProbeReport,
    ) {
        let head_digest = head.headers.get("docker-content-digest").cloned();
        let req = self.request(
            "GET",
            self.url(r, &format!("manifests/{}", r.reference())),
            auth,
            Some(CONTAINERD_ACCEPT),
        );
        let mut body_digest = None;
        let (media_type, doc) = match self.send("manifest", req, true).await {
            Ok(resp) if (200..300).contains(&resp.status) => {
                body_digest = Some(format!(
                    "sha256:{}",
                    hex::encode(Sha256::digest(&resp.body))
                ));
                let doc: ManifestDoc = serde_json::from_slice(&resp.body).unwrap_or_default();
                let mt = resp
                    .headers
                    .get("content-type")
                    .cloned()
                    .or_else(|| doc.media_type.clone())
                    .or_else(|| head.headers.get("content-type").cloned())
                    .unwrap_or_default();
                (mt, doc)
            }
            _ => (
                head.headers
                    .get("content-type")
                    .cloned()
                    .unwrap_or_default(),
                ManifestDoc::default(),
            ),
        };
        if media_type.contains("manifest.v1+prettyjws")
            || media_type.contains("manifest.v1+json") && !media_type.contains("oci")
        {
            report.verdict = Verdict::Fails {
                cause: Cause::NotFound,
                detail: format!(
                    "{r} is a Docker schema 1 manifest, which containerd 2.x no longer pulls"
                ),
            };
            return;
        }
        if platform::is_index(&media_type) || !doc.manifests.is_empty() {
            report.published_platforms = doc.platforms();
        } else if !self.opts.platforms.is_empty()
            && let Some(cfg) = doc.config.as_ref()
        {
            let req = self.request(
                "GET",
                self.url(r, &format!("blobs/{}", cfg.digest)),
                auth,
                None,
            );
            if let Ok(resp) = self.send("config", req, true).await
                && (200..300).contains(&resp.status)
            {
                let raw: platform::RawPlatform =
                    serde_json::from_slice(&resp.body).unwrap_or_default();
                if !raw.os.is_empty() {
                    report.published_platforms = vec![raw.platform()];
                }
            }
        }
        if !report.published_platforms.is_empty() {
            report.missing_platforms = self
                .opts
                .platforms
                .iter()
                .filter(|want| {
                    !report
                        .published_platforms
                        .iter()
                        .any(|have| have.serves(want))
                })
                .cloned()
                .collect();
        }
        // The digest the node resolves: the registry's header, else the bytes' own.
        let digest = head_digest.or(body_digest);
        report.verdict = if report.missing_platforms.is_empty() {
            Verdict::Pullable {
                digest: digest.clone(),
                media_type: media_type.clone(),
            }
        } else {
            let published: Vec<String> = report
                .published_platforms
                .iter()
                .map(ToString::to_string)
                .collect();
            let missing: Vec<String> = report
                .missing_platforms
                .iter()
                .map(ToString::to_string)
                .collect();
            Verdict::Fails {
                cause: Cause::PlatformNoMatch,
                detail: format!(
                    "{r} publishes [{}] but not {}",
                    published.join(", "),
                    missing.join(", ")
                ),
            }
        };
        if matches!(report.verdict, Verdict::Pullable { .. }) {
            self.signature_policy(r, auth, digest.as_deref(), report)
                .await;
            if self.checks.base_os.max_bytes > 0 {
                report.base_os = Some(self.base_os(r, auth, &media_type, &doc).await);
            }
        }
    }

    /// Applies the signature policy to a pullable image.
    async fn signature_policy(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: Option<&str>,
        report: &mut ProbeReport,
    ) {
        let checks = self.checks;
        let keys = checks.signature.keys_for(&r.name());
        if keys.is_none() && !self.opts.require_signature {
            return;
        }
        let Some(digest) = digest else {
            report.verdict = Verdict::Fails {
                cause: Cause::Signature,
                detail: format!("{r}: the registry gave no digest to check a signature for"),
            };
            return;
        };
        let check = match keys {
            Some(keys) => self.check_signature(r, auth, digest, &keys).await,
            None => SignatureCheck::NoTrustedKey,
        };
        if let Some(detail) = check.failure(&r.to_string(), digest) {
            report.verdict = Verdict::Fails {
                cause: Cause::Signature,
                detail,
            };
        }
        report.signature = Some(check);
    }
}

fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("errors")?
        .get(0)?
        .get("code")?
        .as_str()
        .map(str::to_owned)
}

fn rate_limit(resp: &HttpResponse) -> RateLimit {
    let h = |k: &str| resp.headers.get(k).cloned();
    RateLimit {
        limit: h("ratelimit-limit").or_else(|| h("x-ratelimit-limit")),
        remaining: h("ratelimit-remaining").or_else(|| h("x-ratelimit-remaining")),
        retry_after: h("retry-after"),
        source: h("docker-ratelimit-source"),
    }
}

/// The cause a non-2xx manifest answer means.
fn status_cause(resp: &HttpResponse, had_login: bool, after_challenge: bool) -> (Cause, String) {
    let code = error_code(&resp.body);
    let www = resp
        .headers
        .get("www-authenticate")
        .map(String::as_str)
        .unwrap_or_default();
    let scope_error = challenge::parse(www)
        .iter()
        .any(|c| c.param("error") == Some("insufficient_scope"));
    let detail = format!(
        "the registry answered {}{}",
        resp.status,
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
    );
    let cause = match resp.status {
        401 if scope_error && had_login => Cause::InsufficientScope,
        401 if scope_error => Cause::AccessDenied,
        401 if had_login && after_challenge => Cause::BadCredentials,
        401 => Cause::NoCredentials,
        403 if had_login => Cause::InsufficientScope,
        403 => Cause::AccessDenied,
        404 => Cause::NotFound,
        429 => Cause::RateLimited,
        s if s >= 500 => Cause::RegistryUnavailable,
        300..=399 => Cause::Unspecified,
        _ => Cause::Unspecified,
    };
    (cause, detail)
}

/// The cause a transport failure means; TLS details are read like the runtime's text.
pub fn transport_cause(kind: TransportErrorKind, detail: &str) -> Cause {
    match kind {
        TransportErrorKind::Dns => Cause::Dns,
        TransportErrorKind::Refused => Cause::Refused,
        TransportErrorKind::Timeout => Cause::Timeout,
        TransportErrorKind::NotTls => Cause::HttpOnlyRegistry,
        TransportErrorKind::Tls => match message::classify(detail).map(|m| m.cause) {
            Some(c @ (Cause::TlsUnknownAuthority | Cause::TlsExpired | Cause::TlsHostname)) => c,
            _ => tls_detail(detail),
        },
        TransportErrorKind::Other => match message::classify(detail).map(|m| m.cause) {
            Some(c)
                if c.class() == lastmile_events::Class::IMAGE_NETWORK
                    || c.class() == lastmile_events::Class::IMAGE_TLS =>
            {
                c
            }
            _ => Cause::Unreachable,
        },
    }
}

/// rustls words its certificate errors differently from Go.
fn tls_detail(detail: &str) -> Cause {
    let d = detail.to_lowercase();
    if d.contains("unknownissuer") || d.contains("unknown issuer") || d.contains("unknown ca") {
        Cause::TlsUnknownAuthority
    } else if d.contains("expired") || d.contains("notvalidyet") || d.contains("not valid yet") {
        Cause::TlsExpired
    } else if d.contains("notvalidforname")
        || d.contains("not valid for name")
        || d.contains("name mismatch")
    {
        Cause::TlsHostname
    } else {
        Cause::TlsOther
    }
}

/// The `n` tags nearest to `wanted` (edit distance, then shared prefix).
pub fn nearest(wanted: &str, tags: &[String], n: usize) -> Vec<String> {
    let mut scored: Vec<(usize, usize, &String)> = tags
        .iter()
        .map(|t| {
            let prefix = wanted
                .chars()
                .zip(t.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (levenshtein(wanted, t), usize::MAX - prefix, t)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, t)| t.clone())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
