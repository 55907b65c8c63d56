//! Reading the manifest the `HEAD` found: schema 1 refused, the platforms an index (or a
//! single image's config) serves against the ones asked for, the digest the node resolves,
//! then the signature policy and the base OS of a pullable image.

use lastmile_contract::HttpResponse;
use sha2::{Digest, Sha256};

use super::{Auth, ProbeReport, Prober, Verdict};
use crate::cosign::SignatureCheck;
use crate::message::Cause;
use crate::platform::{self, CONTAINERD_ACCEPT, ManifestDoc};
use crate::reference::ImageRef;

impl Prober<'_> {
    /// Sets the verdict of an image whose manifest `HEAD` answered 2xx.
    pub(super) async fn inspect(
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
