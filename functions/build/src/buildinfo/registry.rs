//! Go binaries read out of an image in a registry, as `image check --attestation` needs
//! them: the manifest (an index picks `linux/amd64`, else its first real platform), then
//! every layer fetched in `Range` requests of 1 MiB and streamed through the same
//! [`LayerReader`] `build inspect` uses for layer files (image-pull's `TarScan` tap), so
//! memory stays bounded whatever the image. All HTTP goes through the injected
//! [`RegistryHttp`] (each request with its timeout). A `401` is answered as containerd
//! does: Basic auth with the login given for the registry, or a Bearer token from the
//! challenge's realm (with that login, else anonymous). Logins never reach an error text.

use std::collections::BTreeMap;
use std::time::Duration;

use lastmile_contract::{HttpRequest, HttpResponse, RegistryHttp};
use lastmile_fn_image_pull::challenge;
use lastmile_fn_image_pull::credentials::Credential;
use lastmile_fn_image_pull::platform::{CONTAINERD_ACCEPT, ManifestDoc, is_index};
use lastmile_fn_image_pull::reference::ImageRef;

use super::input::Loaded;
use super::layers::LayerReader;
use super::stream::Streamed;

/// Bytes asked per request.
const CHUNK: u64 = 1 << 20;

/// How to reach the registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Registries (`host:port`) spoken to over plain HTTP.
    pub plain_http: Vec<String>,
    /// Compressed layer bytes read per image at most.
    pub max_bytes: u64,
    /// The login for the image's registry (from a docker config), when there is one.
    pub credential: Option<Credential>,
}

/// The image's manifest digest and every Go binary in its layers.
#[derive(Debug)]
pub struct ImageBinaries {
    /// Digest of the manifest read (the platform's manifest under an index).
    pub manifest_digest: Option<String>,
    /// Go binaries found, `LAYER-DIGEST:path`.
    pub binaries: Vec<Loaded>,
}

/// Why the image could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistryError(pub String);

struct Client<'a> {
    http: &'a dyn RegistryHttp,
    opts: &'a RegistryOptions,
    base: String,
    repository: String,
    /// The `Authorization` value once a challenge was answered.
    authorization: Option<String>,
}

impl Client<'_> {
    async fn get(
        &mut self,
        path: &str,
        headers: &[(&str, String)],
    ) -> Result<HttpResponse, RegistryError> {
        let mut retried = false;
        loop {
            let mut h: BTreeMap<String, String> = headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            if let Some(a) = &self.authorization {
                h.insert("authorization".into(), a.clone());
            }
            let req = HttpRequest {
                method: "GET".into(),
                url: format!("{}/{path}", self.base),
                headers: h,
                body: Vec::new(),
                timeout: self.opts.timeout,
            };
            let resp = self
                .http
                .send(req)
                .await
                .map_err(|e| RegistryError(format!("{path}: {e}")))?;
            if resp.status == 401 && !retried {
                retried = true;
                self.authorization = Some(self.answer(&resp).await?);
                continue;
            }
            return Ok(resp);
        }
    }

    /// Who asked: for error texts (the login's source, never its value).
    fn who(&self) -> String {
        match &self.opts.credential {
            Some(c) => format!("the login from {}", c.source),
            None => "anonymous access (no login for this registry: pass --pull-secret with a docker config.json that can pull it)".into(),
        }
    }

    /// The `Authorization` value answering a `401`'s challenge.
    async fn answer(&self, resp: &HttpResponse) -> Result<String, RegistryError> {
        let header = resp
            .headers
            .get("www-authenticate")
            .cloned()
            .unwrap_or_default();
        let challenges = challenge::parse(&header);
        let login = self
            .opts
            .credential
            .as_ref()
            .map(|c| challenge::basic_authorization(&c.username, &c.password));
        let Some(ch) = challenges
            .iter()
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        else {
            return login.ok_or_else(|| {
                RegistryError(format!("the registry requires credentials: {}", self.who()))
            });
        };
        let realm = ch
            .param("realm")
            .ok_or_else(|| RegistryError("Bearer challenge without realm".into()))?;
        let mut headers = BTreeMap::new();
        if let Some(l) = login {
            headers.insert("authorization".to_owned(), l);
        }
        let resp = self
            .http
            .send(HttpRequest {
                method: "GET".into(),
                url: challenge::pull_token_url(realm, ch.param("service"), &self.repository),
                headers,
                body: Vec::new(),
                timeout: self.opts.timeout,
            })
            .await
            .map_err(|e| RegistryError(format!("token: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        v["token"]
            .as_str()
            .or_else(|| v["access_token"].as_str())
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| {
                RegistryError(format!(
                    "the token service refused {} ({})",
                    self.who(),
                    resp.status
                ))
            })
    }

    async fn manifest(
        &mut self,
        reference: &str,
    ) -> Result<(ManifestDoc, String, Option<String>), RegistryError> {
        let resp = self
            .get(
                &format!("manifests/{reference}"),
                &[("accept", CONTAINERD_ACCEPT.to_owned())],
            )
            .await?;
        if matches!(resp.status, 401 | 403) {
            return Err(RegistryError(format!(
                "{}: the registry refused {} ({}) for manifest {reference}",
                self.repository,
                self.who(),
                resp.status
            )));
        }
        if resp.status != 200 {
            return Err(RegistryError(format!(
                "manifest {reference} answered {}",
                resp.status
            )));
        }
        let doc: ManifestDoc = serde_json::from_slice(&resp.body)
            .map_err(|e| RegistryError(format!("manifest {reference}: {e}")))?;
        let mt = resp
            .headers
            .get("content-type")
            .cloned()
            .or_else(|| doc.media_type.clone())
            .unwrap_or_default();
        Ok((doc, mt, resp.headers.get("docker-content-digest").cloned()))
    }
}

/// Reads every Go binary from `image`'s layers.
pub async fn read_image(
    http: &dyn RegistryHttp,
    image: &str,
    opts: &RegistryOptions,
) -> Result<ImageBinaries, RegistryError> {
    let r = ImageRef::parse(image).map_err(|e| RegistryError(format!("{image}: {e}")))?;
    let scheme = if opts.plain_http.contains(&r.registry) {
        "http"
    } else {
        "https"
    };
    let mut c = Client {
        http,
        opts,
        base: format!("{scheme}://{}/v2/{}", r.api_host(), r.repository),
        repository: r.repository.clone(),
        authorization: None,
    };
    let (mut doc, mt, mut digest) = c.manifest(r.reference()).await?;
    if is_index(&mt) || !doc.manifests.is_empty() {
        let entry = doc
            .manifests
            .iter()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
            })
            .or_else(|| doc.manifests.iter().find(|d| d.platform.is_some()))
            .ok_or_else(|| RegistryError("the index lists no image".into()))?
            .digest
            .clone();
        let (d, _, _) = c.manifest(&entry).await?;
        doc = d;
        digest = Some(entry);
    }
    let mut binaries = Vec::new();
    let mut budget = opts.max_bytes;
    for layer in &doc.layers {
        let mt = layer.media_type.to_ascii_lowercase();
        if mt.contains("zstd") || mt.contains("encrypted") {
            return Err(RegistryError(format!(
                "layer {}: {} layers are not read",
                layer.digest, layer.media_type
            )));
        }
        let mut reader: Option<LayerReader> = None;
        let mut offset = 0u64;
        loop {
            if layer.size > 0 && offset >= layer.size {
                break;
            }
            if budget == 0 {
                return Err(RegistryError(format!(
                    "byte cap of {} reached in layer {}",
                    opts.max_bytes, layer.digest
                )));
            }
            let want = CHUNK.min(budget);
            let resp = c
                .get(
                    &format!("blobs/{}", layer.digest),
                    &[("range", format!("bytes={offset}-{}", offset + want - 1))],
                )
                .await?;
            let body = match resp.status {
                206 => resp.body,
                200 if offset == 0 => resp.body,
                416 => break,
                s => {
                    return Err(RegistryError(format!(
                        "layer {} answered {s}",
                        layer.digest
                    )));
                }
            };
            if body.is_empty() {
                break;
            }
            let whole = resp.status == 200;
            let usable = usize::try_from(budget)
                .unwrap_or(usize::MAX)
                .min(body.len());
            budget -= usable as u64;
            offset += usable as u64;
            let rd = reader.get_or_insert_with(|| LayerReader::for_head(&body));
            rd.feed(&body[..usable])
                .map_err(|e| RegistryError(format!("layer {}: {e}", layer.digest)))?;
            if whole {
                break;
            }
        }
        if let Some(rd) = reader {
            let found = rd
                .finish()
                .map_err(|e| RegistryError(format!("layer {}: {e}", layer.digest)))?;
            for (path, s) in found {
                if let Streamed::Go(mut b) = s {
                    b.file = format!("{}:{path}", layer.digest);
                    binaries.push(Loaded::from(*b));
                }
            }
        }
    }
    Ok(ImageBinaries {
        manifest_digest: digest,
        binaries,
    })
}
