//! Pushing images, indexes and signatures through the registry HTTP API ([`Pusher`]).

use super::*;

/// One platform of a pushed image.
#[derive(Debug, Clone, Copy)]
pub struct Plat<'a> {
    /// Operating system (`linux`, `windows`).
    pub os: &'a str,
    /// CPU architecture, as OCI spells it (`amd64`, `arm64`).
    pub arch: &'a str,
    /// CPU variant (`v7` for `linux/arm/v7`), if any.
    pub variant: Option<&'a str>,
}

/// `linux/<arch>`.
pub fn linux(arch: &str) -> Plat<'_> {
    Plat {
        os: "linux",
        arch,
        variant: None,
    }
}

/// Pushes images through the registry HTTP API.
pub struct Pusher {
    pub(super) client: reqwest::Client,
    pub(super) base: String,
    pub(super) authorization: Option<String>,
}

pub(super) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(super) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(super) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(super) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

pub(super) fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Pusher {
    /// A pusher for `base_url`, sending `authorization` (a full header value) when given and
    /// trusting `ca_pem` in addition to the system roots.
    pub fn new(
        base_url: &str,
        authorization: Option<String>,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(20));
        if let Some(pem) = ca_pem {
            b = b.tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem.as_bytes())?);
        }
        Ok(Self {
            client: b.build()?,
            base: base_url.trim_end_matches('/').to_owned(),
            authorization,
        })
    }

    pub(super) fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(a) => rb.header("authorization", a),
            None => rb,
        }
    }

    /// Uploads a blob (POST then PUT), returning its digest.
    pub async fn blob(&self, repo: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let digest = digest_of(bytes);
        let resp = self
            .auth(
                self.client
                    .post(format!("{}/v2/{repo}/blobs/uploads/", self.base)),
            )
            .send()
            .await?;
        if resp.status().as_u16() != 202 {
            bail!(
                "blob upload start for {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .context("upload without Location")?
            .to_owned();
        let url = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let resp = self
            .auth(self.client.put(format!("{url}{sep}digest={digest}")))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "blob upload for {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(digest)
    }

    /// PUTs a manifest under `reference` (tag or digest), returning its digest.
    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> anyhow::Result<String> {
        let resp = self
            .auth(
                self.client
                    .put(format!("{}/v2/{repo}/manifests/{reference}", self.base)),
            )
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "manifest PUT {repo}:{reference}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(digest_of(body))
    }

    /// Pushes a single-platform image (config + one layer + manifest) as `repo:tag`
    /// (or by digest only when `tag` is `None`). Returns (manifest digest, media type, size).
    pub async fn image(
        &self,
        repo: &str,
        tag: Option<&str>,
        p: Plat<'_>,
        oci: bool,
    ) -> anyhow::Result<(String, &'static str, usize)> {
        let layer = format!("layer of {repo} for {}/{}", p.os, p.arch).into_bytes();
        let layer_mt = if oci {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        } else {
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        };
        self.image_with_layers(repo, tag, p, oci, &[(layer_mt, layer)])
            .await
    }

    /// Pushes a single-platform image with these (media type, bytes) layers, bottom first.
    /// Returns (manifest digest, media type, size).
    pub async fn image_with_layers(
        &self,
        repo: &str,
        tag: Option<&str>,
        p: Plat<'_>,
        oci: bool,
        layers: &[(&str, Vec<u8>)],
    ) -> anyhow::Result<(String, &'static str, usize)> {
        let mut config = serde_json::json!({"architecture": p.arch, "os": p.os, "rootfs": {"type": "layers", "diff_ids": []}, "config": {}});
        if let Some(v) = p.variant {
            config["variant"] = v.into();
        }
        let config = serde_json::to_vec(&config)?;
        let config_digest = self.blob(repo, &config).await?;
        let mut descriptors = Vec::new();
        for (mt, bytes) in layers {
            let digest = self.blob(repo, bytes).await?;
            descriptors
                .push(serde_json::json!({"mediaType": mt, "digest": digest, "size": bytes.len()}));
        }
        let (mt, cfg_mt) = if oci {
            (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
        } else {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
            )
        };
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": cfg_mt, "digest": config_digest, "size": config.len()},
            "layers": descriptors
        }))?;
        let digest = digest_of(&manifest);
        self.manifest(repo, tag.unwrap_or(&digest), mt, &manifest)
            .await?;
        Ok((digest, mt, manifest.len()))
    }

    /// Pushes an index (OCI) or manifest list (Docker) of images already pushed:
    /// (digest, media type, size, platform) each.
    pub async fn index_of(
        &self,
        repo: &str,
        tag: &str,
        images: &[(String, &str, usize, Plat<'_>)],
        oci: bool,
    ) -> anyhow::Result<String> {
        let entries: Vec<serde_json::Value> = images
            .iter()
            .map(|(digest, mt, size, p)| {
                let mut platform = serde_json::json!({"os": p.os, "architecture": p.arch});
                if let Some(v) = p.variant {
                    platform["variant"] = v.into();
                }
                serde_json::json!({"mediaType": mt, "digest": digest, "size": size, "platform": platform})
            })
            .collect();
        let mt = if oci { OCI_INDEX } else { DOCKER_LIST };
        let body = serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": mt, "manifests": entries}),
        )?;
        self.manifest(repo, tag, mt, &body).await
    }

    /// Pushes a cosign signature for `digest` (tag `sha256-<hex>.sig`): a simple-signing
    /// payload naming `signed_digest` (normally `digest` itself), signed by `key`.
    pub async fn cosign_signature(
        &self,
        repo: &str,
        digest: &str,
        signed_digest: &str,
        key: &CosignKey,
    ) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(&serde_json::json!({
            "critical": {"identity": {"docker-reference": format!("{}/{repo}", self.base.split_once("://").map_or("", |(_, h)| h))},
                         "image": {"docker-manifest-digest": signed_digest},
                         "type": "cosign container image signature"},
            "optional": null
        }))?;
        let signature = key.sign(&payload)?;
        self.signature_manifest(repo, digest, &payload, Some(&signature))
            .await
    }

    /// Pushes a signature manifest for `digest` with one simple-signing layer holding
    /// `payload` and, when given, the `dev.cosignproject.cosign/signature` annotation.
    pub async fn signature_manifest(
        &self,
        repo: &str,
        digest: &str,
        payload: &[u8],
        signature_b64: Option<&str>,
    ) -> anyhow::Result<()> {
        let payload_digest = self.blob(repo, payload).await?;
        let config = b"{}".to_vec();
        let config_digest = self.blob(repo, &config).await?;
        let mut layer = serde_json::json!({"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": payload_digest, "size": payload.len()});
        if let Some(sig) = signature_b64 {
            layer["annotations"] = serde_json::json!({"dev.cosignproject.cosign/signature": sig});
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [layer]
        }))?;
        let tag = format!("{}.sig", digest.replacen(':', "-", 1));
        self.manifest(repo, &tag, OCI_MANIFEST, &manifest).await?;
        Ok(())
    }

    /// Pushes one image per platform and an index (OCI) or manifest list (Docker) as `repo:tag`.
    pub async fn index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[Plat<'_>],
        oci: bool,
    ) -> anyhow::Result<String> {
        let mut images = Vec::new();
        for p in platforms {
            let (digest, mt, size) = self.image(repo, None, *p, oci).await?;
            images.push((digest, mt, size, *p));
        }
        self.index_of(repo, tag, &images, oci).await
    }
}
