//! Getting the manifest `HEAD` authorised: the `401` challenge answered with Basic
//! credentials or a Bearer token from the challenge's realm, as containerd does.

use lastmile_contract::{HttpResponse, TransportErrorKind};

use super::status::{rate_limit, status_cause, transport_cause};
use super::{Auth, ProbeReport, Prober};
use crate::challenge;
use crate::credentials::Credential;
use crate::message::Cause;
use crate::platform::CONTAINERD_ACCEPT;
use crate::reference::{ImageRef, is_loopback};

impl Prober<'_> {
    /// HEADs the manifest, answering challenges. Ok when 2xx; Err(cause) otherwise.
    pub(super) async fn authorised_head(
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

    /// Fetches a pull token from the Bearer challenge's realm, with `login` if there is one.
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
}
