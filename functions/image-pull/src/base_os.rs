//! The probe's base-OS step: which distribution the image is built on, read from
//! `os-release` in its layers, with no container runtime and bounded cost.
//!
//! After the manifest resolves for the node's platform, the layers are read top-down (an
//! upper layer may replace or delete the file; see [`crate::layer_scan`]). Each blob is
//! fetched in `Range` requests of at most [`CHUNK`] bytes, so the `RegistryHttp` body cap
//! never truncates silently, and streamed through a gzip decoder into the push-mode tar
//! reader: memory stays constant and reading stops at the first answer. Total bytes
//! downloaded per image are capped ([`BaseOsOptions::max_bytes`]) and so is the time spent
//! ([`BaseOsOptions::time_budget`], per the context clock, plus each request's own timeout).
//! Nothing here can fail the diagnosis: every problem becomes a status in the report.
//!
//! Layers: gzip (`tar+gzip`, Docker `tar.gzip`) and uncompressed tar. zstd layers are reported
//! as unsupported (a pure-Rust zstd decoder is not worth its weight for one evidence line).
//! Blob redirects (CDNs, S3) are followed without the registry's `Authorization`.

use std::io::Write;
use std::time::Duration;

use flate2::write::MultiGzDecoder;
use serde::Serialize;

use crate::layer_scan::{Answer, Search, TarScan};
use crate::os_release::OsRelease;
use crate::platform::{self, DOCKER_MANIFEST, Descriptor, ManifestDoc, OCI_MANIFEST, Platform};
use crate::probe::{Auth, Prober};
use crate::reference::ImageRef;

/// Bytes asked per `Range` request (below the HTTP client's body cap).
pub const CHUNK: u64 = 1 << 20;
/// Default cap on bytes downloaded per image.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
/// Default time budget per image.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(10);
/// Redirects followed per blob request.
const MAX_REDIRECTS: usize = 3;

/// How much reading the base OS may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseOsOptions {
    /// Bytes downloaded per image at most; `0` turns the lookup off.
    pub max_bytes: u64,
    /// Time per image at most (requests in flight also have their own timeout).
    pub time_budget: Duration,
}

impl Default for BaseOsOptions {
    /// The lookup off (`max_bytes` 0), with the default time budget ready if it is turned on.
    fn default() -> Self {
        Self {
            max_bytes: 0,
            time_budget: DEFAULT_TIME_BUDGET,
        }
    }
}

impl BaseOsOptions {
    /// On, with the default caps.
    pub fn enabled() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            time_budget: DEFAULT_TIME_BUDGET,
        }
    }
}

/// How the lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseOsStatus {
    /// `os-release` was found and parsed.
    Found,
    /// Every layer was read; none has an `os-release` (distroless, scratch).
    NotFound,
    /// The byte cap was reached first.
    BudgetExhausted,
    /// The time budget was spent first.
    TimedOut,
    /// A layer's format is not read here (zstd, encrypted, foreign, Windows).
    Unsupported,
    /// The registry did not serve the manifest or a layer, or a layer is corrupt.
    Unreadable,
}

/// The image's base OS, or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseOs {
    /// How the lookup ended.
    pub status: BaseOsStatus,
    /// The parsed `os-release`, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    /// The file read (after links), e.g. `usr/lib/os-release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The layer holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Why it is not known, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The platform whose manifest was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Layers the image has.
    pub layers_total: usize,
    /// Layers read (fully or up to the answer).
    pub layers_read: usize,
    /// Compressed bytes downloaded.
    pub bytes_read: u64,
}

impl BaseOs {
    fn new() -> Self {
        Self {
            status: BaseOsStatus::Unreadable,
            os: None,
            path: None,
            layer: None,
            detail: None,
            platform: None,
            layers_total: 0,
            layers_read: 0,
            bytes_read: 0,
        }
    }

    fn stop(mut self, status: BaseOsStatus, detail: impl Into<String>) -> Self {
        self.status = status;
        self.detail = Some(detail.into());
        self
    }

    /// One line for evidence and the CLI.
    pub fn summary(&self) -> String {
        match (&self.status, &self.os) {
            (BaseOsStatus::Found, Some(os)) => format!(
                "{} (ID={} VERSION_ID={}, from /{} in layer {})",
                os.display_name(),
                os.id.as_deref().unwrap_or("-"),
                os.version_id.as_deref().unwrap_or("-"),
                self.path.as_deref().unwrap_or("?"),
                self.layer.as_deref().unwrap_or("?")
            ),
            _ => format!(
                "unknown ({}; {} of {} layer(s), {} bytes read)",
                self.detail.as_deref().unwrap_or("not determined"),
                self.layers_read,
                self.layers_total,
                self.bytes_read
            ),
        }
    }
}

/// How a layer's bytes become tar bytes.
enum Decoder {
    Gzip(Box<MultiGzDecoder<TarScan>>),
    Plain(Box<TarScan>),
}

impl Decoder {
    fn new(media_type: &str, scan: TarScan) -> Result<Self, String> {
        let mt = media_type.to_ascii_lowercase();
        if mt.contains("zstd") {
            return Err(format!("zstd layers are not read ({media_type})"));
        }
        if mt.contains("encrypted") || mt.contains("foreign") || mt.contains("nondistributable") {
            return Err(format!("{media_type} layers are not read"));
        }
        if mt.ends_with("gzip") {
            Ok(Self::Gzip(Box::new(MultiGzDecoder::new(scan))))
        } else if mt.ends_with("tar") {
            Ok(Self::Plain(Box::new(scan)))
        } else {
            Err(format!("unknown layer media type {media_type:?}"))
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            // `flush` hands everything decompressed so far to the tar reader.
            Self::Gzip(d) => d
                .write_all(bytes)
                .and_then(|()| d.flush())
                .map_err(|e| format!("not a gzip stream: {e}")),
            Self::Plain(s) => {
                s.feed(bytes);
                Ok(())
            }
        }
    }

    fn scan(&self) -> &TarScan {
        match self {
            Self::Gzip(d) => d.get_ref(),
            Self::Plain(s) => s,
        }
    }
}

/// What one chunk request brought.
enum Chunk {
    /// Bytes from the asked offset (`ranged`: the server honoured `Range`).
    Bytes { body: Vec<u8>, ranged: bool },
    /// The offset is past the end (416).
    End,
}

impl Prober<'_> {
    /// Reads the base OS of the image whose manifest (or index) is `doc` / `media_type`.
    pub(crate) async fn base_os(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        media_type: &str,
        doc: &ManifestDoc,
    ) -> BaseOs {
        let started = self.clock.now();
        let mut out = BaseOs::new();
        let opts = &self.checks.base_os;
        let (max_bytes, budget) = (opts.max_bytes, opts.time_budget);
        let manifest = if platform::is_index(media_type) || !doc.manifests.is_empty() {
            let Some(entry) = pick(doc, &self.opts.platforms) else {
                return out.stop(
                    BaseOsStatus::Unreadable,
                    "the index has no image for the platform",
                );
            };
            out.platform = entry.platform.as_ref().map(platform::RawPlatform::platform);
            let accept = format!("{OCI_MANIFEST}, {DOCKER_MANIFEST}");
            let req = self.request(
                "GET",
                self.url(r, &format!("manifests/{}", entry.digest)),
                auth,
                Some(&accept),
            );
            match self.send("base-os-manifest", req, true).await {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    serde_json::from_slice::<ManifestDoc>(&resp.body).unwrap_or_default()
                }
                Ok(resp) => {
                    return out.stop(
                        BaseOsStatus::Unreadable,
                        format!("the platform manifest answered {}", resp.status),
                    );
                }
                Err(e) => return out.stop(BaseOsStatus::Unreadable, e.detail),
            }
        } else {
            doc.clone()
        };
        if out.platform.as_ref().is_some_and(|p| p.os != "linux") {
            return out.stop(BaseOsStatus::Unsupported, "not a Linux image");
        }
        out.layers_total = manifest.layers.len();
        if manifest.layers.is_empty() {
            return out.stop(BaseOsStatus::Unreadable, "the manifest lists no layers");
        }
        let mut search = Search::new();
        for (index, layer) in manifest.layers.iter().rev().enumerate() {
            let mut decoder = match Decoder::new(&layer.media_type, search.scanner()) {
                Ok(d) => d,
                Err(why) => return out.stop(BaseOsStatus::Unsupported, why),
            };
            out.layers_read += 1;
            let mut offset = 0u64;
            let mut first = true;
            loop {
                if let Answer::Found { .. } = search.answer_with(Some((decoder.scan(), index))) {
                    break;
                }
                if decoder.scan().ended() || (layer.size > 0 && offset >= layer.size) {
                    break;
                }
                let elapsed = (self.clock.now() - started).to_std().unwrap_or_default();
                if elapsed > budget {
                    return out.stop(
                        BaseOsStatus::TimedOut,
                        format!("time budget of {budget:?} spent"),
                    );
                }
                let room = max_bytes.saturating_sub(out.bytes_read);
                if room == 0 {
                    return out.stop(
                        BaseOsStatus::BudgetExhausted,
                        format!("byte cap of {max_bytes} reached in layer {}", layer.digest),
                    );
                }
                let want = CHUNK.min(room);
                let body = match self
                    .chunk(r, auth, &layer.digest, offset, want, first)
                    .await
                {
                    Ok(Chunk::Bytes { body, ranged }) => {
                        if !ranged && offset > 0 {
                            return out.stop(
                                BaseOsStatus::Unreadable,
                                "the registry ignores Range requests for blobs",
                            );
                        }
                        body
                    }
                    Ok(Chunk::End) => break,
                    Err(why) => return out.stop(BaseOsStatus::Unreadable, why),
                };
                first = false;
                if body.is_empty() {
                    break;
                }
                // Never count or decode more than the cap, even from a server ignoring Range.
                let usable = usize::try_from(room).unwrap_or(usize::MAX).min(body.len());
                out.bytes_read += usable as u64;
                offset += usable as u64;
                if let Err(why) = decoder.feed(&body[..usable]) {
                    return out.stop(
                        BaseOsStatus::Unreadable,
                        format!("layer {}: {why}", layer.digest),
                    );
                }
                if let Some(why) = &decoder.scan().error {
                    return out.stop(
                        BaseOsStatus::Unreadable,
                        format!("layer {}: {why}", layer.digest),
                    );
                }
                if usable < body.len() {
                    // A whole blob sent despite Range, beyond the cap: stop here.
                    continue;
                }
            }
            match search.answer_with(Some((decoder.scan(), index))) {
                Answer::Found { path, bytes, layer } => {
                    return found(out, &manifest.layers, layer, path, &bytes);
                }
                _ => search.merge(decoder.scan(), index),
            }
        }
        match search.finish() {
            Answer::Found { path, bytes, layer } => {
                found(out, &manifest.layers, layer, path, &bytes)
            }
            _ => out.stop(BaseOsStatus::NotFound, "no os-release in any layer"),
        }
    }

    /// `GET` one range of a blob, following redirects (without `Authorization` off-host).
    async fn chunk(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        offset: u64,
        len: u64,
        record: bool,
    ) -> Result<Chunk, String> {
        let mut req = self.request("GET", self.url(r, &format!("blobs/{digest}")), auth, None);
        req.headers.insert(
            "range".into(),
            format!("bytes={offset}-{}", offset + len.max(1) - 1),
        );
        let registry_host = host_of(&req.url).to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let answer = if record {
                self.send("layer", req.clone(), true).await
            } else {
                self.http.send(req.clone()).await
            };
            let resp = answer.map_err(|e| format!("layer {digest}: {:?}: {}", e.kind, e.detail))?;
            match resp.status {
                206 => {
                    return Ok(Chunk::Bytes {
                        body: resp.body,
                        ranged: true,
                    });
                }
                200 => {
                    return Ok(Chunk::Bytes {
                        body: resp.body,
                        ranged: false,
                    });
                }
                416 => return Ok(Chunk::End),
                301 | 302 | 303 | 307 | 308 => {
                    let Some(location) = resp.headers.get("location") else {
                        return Err(format!("layer {digest}: redirect without Location"));
                    };
                    req.url = absolute(&req.url, location);
                    if host_of(&req.url) != registry_host {
                        req.headers.remove("authorization");
                    }
                }
                s => return Err(format!("layer {digest} answered {s}")),
            }
        }
        Err(format!("layer {digest}: too many redirects"))
    }
}

fn found(
    mut out: BaseOs,
    layers: &[Descriptor],
    index: usize,
    path: String,
    bytes: &[u8],
) -> BaseOs {
    let os = OsRelease::parse(&String::from_utf8_lossy(bytes));
    // `index` counts from the top; the manifest lists layers bottom-up.
    out.layer = layers
        .len()
        .checked_sub(index + 1)
        .and_then(|i| layers.get(i))
        .map(|l| l.digest.clone());
    out.path = Some(path);
    if os.is_empty() {
        out.status = BaseOsStatus::NotFound;
        out.detail = Some("os-release names no ID, VERSION_ID or PRETTY_NAME".into());
    } else {
        out.status = BaseOsStatus::Found;
        out.os = Some(os);
    }
    out
}

/// The index entry for the first wanted platform, else the first real (non-attestation) one.
fn pick<'a>(doc: &'a ManifestDoc, wanted: &[Platform]) -> Option<&'a Descriptor> {
    let real = |d: &&Descriptor| {
        d.platform
            .as_ref()
            .is_some_and(|p| !p.platform().is_unknown())
    };
    wanted
        .first()
        .and_then(|w| {
            doc.manifests
                .iter()
                .filter(real)
                .find(|d| d.platform.as_ref().is_some_and(|p| p.platform().serves(w)))
        })
        .or_else(|| doc.manifests.iter().find(real))
}

/// `scheme://host[:port]` of a URL.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// `location` made absolute against `base`.
fn absolute(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let scheme = base.split_once("://").map_or("https", |(s, _)| s);
    if location.starts_with('/') {
        format!("{scheme}://{}{location}", host_of(base))
    } else {
        let dir = base.rsplit_once('/').map_or(base, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

#[cfg(test)]
mod tests;
