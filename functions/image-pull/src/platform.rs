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
        let variant = if architecture == "amd64" && variant.as_deref() == Some("v1") {
            None
        } else {
            variant
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

    /// True when an image built for `self` runs on a node of platform `node`.
    pub fn serves(&self, node: &Platform) -> bool {
        self.os == node.os
            && self.architecture == node.architecture
            && (node.variant.is_none() || self.variant.is_none() || self.variant == node.variant)
    }

    /// True for attestation/unknown entries that buildx adds to indexes.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" || self.architecture == "unknown"
    }
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
    /// Digest.
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
    /// OS.
    #[serde(default)]
    pub os: String,
    /// Architecture.
    #[serde(default)]
    pub architecture: String,
    /// Variant.
    #[serde(default)]
    pub variant: Option<String>,
}

impl RawPlatform {
    /// Normalised.
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
