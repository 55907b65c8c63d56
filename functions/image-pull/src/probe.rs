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
//!
//! The steps live in submodules: `auth` (the challenge and token flow), `inspect` (the
//! manifest, its platforms and the signature policy), `tags` (a missing repository or tag,
//! and the nearest tags), `status` (what a status code or transport error means).

mod auth;
mod inspect;
mod status;
mod tags;

use std::collections::BTreeMap;
use std::time::Duration;

use lastmile_contract::{Clock, HttpExchange, HttpRequest, RegistryHttp};
use serde::Serialize;

use crate::base_os::{BaseOs, BaseOsOptions};
use crate::challenge;
use crate::cosign::SignatureCheck;
use crate::credentials::Credential;
use crate::message::Cause;
use crate::platform::Platform;
use crate::policy::SignaturePolicy;
use crate::reference::ImageRef;
use crate::transcript::Transcript;

pub use status::transport_cause;
pub use tags::nearest;

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
        /// The failure class and its cause, as the node would meet it.
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

    /// Tries each login in turn until one gets the manifest `HEAD` through, then inspects it.
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
}

#[cfg(test)]
mod tests;
