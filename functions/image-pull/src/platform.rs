//! Platforms (os/arch/variant) and the manifest documents that declare them: Docker schema 2
//! manifests and manifest lists, OCI manifests and indexes.

use serde::{Deserialize, Serialize};

/// Docker schema 2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The `Accept` header containerd's resolver sends.
pub const CONTAINERD_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*";

/// An OS/architecture/variant triple, normalised like containerd's `platforms.Normalize`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`, …
    pub architecture: String,
    /// `v7`, `v8`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Builds a normalised platform.
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Self {
        let os = os.trim().to_lowercase();
        let (architecture, default_variant) = match arch.trim().to_lowercase().as_str() {
            "x86_64" | "x86-64" | "amd64" => ("amd64".to_owned(), None),
            "aarch64" | "arm64" => ("arm64".to_owned(), Some("v8")),
            "armhf" | "arm" => ("arm".to_owned(), Some("v7")),
            "armel" => ("arm".to_owned(), Some("v6")),
            "i386" | "386" => ("386".to_owned(), None),
            other => (other.to_owned(), None),
        };
        let variant = variant
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_lowercase)
            .or(default_variant.map(str::to_owned));
        let variant = match (architecture.as_str(), variant.as_deref()) {
            ("amd64", Some("v1")) => None,
            // containerd writes arm64 v8.0 / v9.0 as v8 / v9.
            ("arm64", Some("8" | "v8.0")) => Some("v8".to_owned()),
            ("arm64", Some("9" | "9.0" | "v9.0")) => Some("v9".to_owned()),
            ("arm", Some(n)) if n.len() == 1 && n.chars().all(|c| c.is_ascii_digit()) => {
                Some(format!("v{n}"))
            }
            _ => variant,
        };
        Self {
            os,
            architecture,
            variant,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.trim().split('/');
        let os = it.next().filter(|x| !x.is_empty())?;
        let arch = it.next().filter(|x| !x.is_empty())?;
        let variant = it.next();
        if it.next().is_some() {
            return None;
        }
        Some(Self::new(os, arch, variant))
    }

    /// True when an image built for `self` runs on a node of platform `node`, by containerd's
    /// default matcher (`platforms.Only`): the node's platform or any it is compatible with
    /// ([`Platform::compatible`]).
    pub fn serves(&self, node: &Platform) -> bool {
        node.compatible().iter().any(|p| p == self)
    }

    /// The platforms whose images a node of this platform runs, most preferred first, as
    /// containerd's `platforms.Only` orders them:
    /// - `amd64/vN` also runs `amd64/vN-1` … `amd64` (v1) and `386`;
    /// - `arm/vN` also runs `arm/vN-1` … `arm/v5`;
    /// - `arm64/v8.x` also runs `arm64/v8.x-1` … `arm64/v8`; `arm64/v9.x` runs `v9.x-1` …
    ///   `v9` and then `v8.min(x+5, 9)` … `v8`; every `arm64` also runs `arm/v8` … `arm/v5`.
    ///
    /// A node's amd64 micro-architecture level is not in its labels; when it is unknown (no
    /// variant), every level is accepted, so lastmile never calls a pullable image a mismatch.
    pub fn compatible(&self) -> Vec<Platform> {
        let with = |arch: &str, variant: Option<String>| Platform {
            os: self.os.clone(),
            architecture: arch.to_owned(),
            variant,
        };
        let level = |v: &str| v.strip_prefix('v').and_then(|n| n.parse::<u32>().ok());
        let mut out = vec![self.clone()];
        match self.architecture.as_str() {
            "amd64" => {
                let top = match self.variant.as_deref() {
                    Some(v) => level(v).unwrap_or(1),
                    None => {
                        // Unknown level: accept every level an image may declare.
                        out.extend((2..=4).rev().map(|n| with("amd64", Some(format!("v{n}")))));
                        1
                    }
                };
                out.extend(
                    (1..top)
                        .rev()
                        .map(|n| with("amd64", (n > 1).then(|| format!("v{n}")))),
                );
                out.push(with("386", None));
            }
            "arm" => {
                if let Some(top) = self.variant.as_deref().and_then(level) {
                    out.extend((5..top).rev().map(|n| with("arm", Some(format!("v{n}")))));
                }
            }
            "arm64" => {
                let variant = self.variant.as_deref().unwrap_or("v8");
                let (major, minor) = arm64_version(variant).unwrap_or((8, 0));
                let name = |major: u32, minor: u32| {
                    Some(if minor == 0 {
                        format!("v{major}")
                    } else {
                        format!("v{major}.{minor}")
                    })
                };
                let mut v8_top = minor;
                if major == 9 {
                    out.extend((0..minor).rev().map(|m| with("arm64", name(9, m))));
                    // v9.0 diverged from v8.5: v9.x runs v8.(x+5) and below, up to v8.9.
                    v8_top = (minor + 5).min(9);
                    out.push(with("arm64", name(8, v8_top)));
                }
                if major >= 8 {
                    out.extend((0..v8_top).rev().map(|m| with("arm64", name(8, m))));
                }
                out.extend(with("arm", Some("v8".to_owned())).compatible());
            }
            _ => {}
        }
        out.dedup();
        out
    }

    /// True for attestation/unknown entries that buildx adds to indexes.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" || self.architecture == "unknown"
    }
}

/// `v8.2` → (8, 2), `v9` → (9, 0).
fn arm64_version(variant: &str) -> Option<(u32, u32)> {
    let rest = variant.strip_prefix('v')?;
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The parts of a manifest or index the probe reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestDoc {
    /// Media type declared in the body (may be absent in OCI documents).
    #[serde(default)]
    pub media_type: Option<String>,
    /// Index entries.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Image config descriptor.
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// Layer descriptors, bottom layer first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// A content descriptor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    #[serde(default)]
    pub digest: String,
    /// Size in bytes (`0` when absent or not a size).
    #[serde(default, deserialize_with = "lenient_size")]
    pub size: u64,
    /// Platform, for index entries.
    #[serde(default)]
    pub platform: Option<RawPlatform>,
}

/// A size that is not a non-negative integer reads as `0` rather than failing the document.
fn lenient_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(serde_json::Value::deserialize(d)?.as_u64().unwrap_or(0))
}

/// A platform as written in a document.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawPlatform {
    /// Operating system (`linux`, `windows`).
    #[serde(default)]
    pub os: String,
    /// CPU architecture (`amd64`, `arm64`), as the config spells it.
    #[serde(default)]
    pub architecture: String,
    /// CPU variant (`v7`, `v8`), when the image sets one.
    #[serde(default)]
    pub variant: Option<String>,
}

impl RawPlatform {
    /// As a [`Platform`], normalised (`aarch64` → `arm64`, `arm64` → `arm64/v8`).
    pub fn platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// True for index / manifest-list media types.
pub fn is_index(media_type: &str) -> bool {
    media_type.starts_with(DOCKER_LIST) || media_type.starts_with(OCI_INDEX)
}

impl ManifestDoc {
    /// The platforms an index publishes (attestation entries left out), sorted.
    pub fn platforms(&self) -> Vec<Platform> {
        let mut v: Vec<Platform> = self
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(RawPlatform::platform)
            .filter(|p| !p.is_unknown())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests;
