//! The outcome of a signature check for one image, judged from every signature found in
//! every place cosign stores them (referrers API, referrers tag, legacy `.sig` tag).

use serde::Serialize;

use super::{Format, LayerVerdict};

/// Where a signature was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A referrer listed by the registry's OCI 1.1 referrers API (cosign v3).
    Referrers,
    /// A referrer listed in the referrers tag schema's `sha256-<hex>` index (cosign v3 against
    /// a registry without the referrers API).
    ReferrersTag,
    /// The legacy `sha256-<hex>.sig` tag (cosign v1/v2 simple signing).
    LegacyTag,
}

/// One place a signature was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Which storage scheme.
    pub source: Source,
    /// The manifest read: the referrer's digest, or the `.sig` tag.
    pub manifest: String,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            Source::Referrers => write!(
                f,
                "referrer {} (listed by the OCI referrers API)",
                self.manifest
            ),
            Source::ReferrersTag => write!(
                f,
                "referrer {} (listed in the referrers tag schema index)",
                self.manifest
            ),
            Source::LegacyTag => write!(f, "legacy tag {}", self.manifest),
        }
    }
}

/// The outcome of a signature check for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// A trusted key signed this digest.
    Verified {
        /// The key's name.
        key: String,
        /// What was signed.
        format: Format,
        /// Where the signature was read.
        found: Found,
    },
    /// No signature anywhere cosign stores them.
    Missing {
        /// Each place looked at, and what it answered.
        looked: Vec<String>,
    },
    /// Signatures exist, none by a trusted key (another key, or altered signed bytes).
    Untrusted {
        /// Signatures examined that no trusted key made.
        signatures: usize,
        /// The first of them.
        found: Found,
    },
    /// A trusted key signed another digest: copied or re-tagged onto this image.
    WrongDigest {
        /// The key's name.
        key: String,
        /// The digest the signed content names.
        signed_digest: String,
        /// Where the signature was read.
        found: Found,
    },
    /// Signed keyless (Fulcio certificate), which the configured keys cannot verify;
    /// lastmile does not check the certificate chain or the Rekor entry.
    Keyless {
        /// The certificate's subject alternative name, when it has one.
        identity: Option<String>,
        /// The OIDC issuer recorded in the certificate, when present.
        issuer: Option<String>,
        /// Where the signature was read.
        found: Found,
    },
    /// The signature data is not a usable cosign signature.
    Malformed {
        /// Why, and where.
        reason: String,
    },
    /// The policy requires a signature but names no key for this image.
    NoTrustedKey,
    /// The registry did not let the signature be read (status, network).
    Unreadable {
        /// What failed: the status code or transport error of the read.
        reason: String,
    },
}

impl SignatureCheck {
    /// Judges every signature found: one verified signature suffices; otherwise a
    /// wrong-digest signature says most, then untrusted, keyless, malformed; then a place
    /// that could not be read; else nothing was found (`looked` says where).
    pub fn judge(
        verdicts: &[(Found, LayerVerdict)],
        looked: Vec<String>,
        unreadable: Option<String>,
    ) -> Self {
        let first = |want: fn(&LayerVerdict) -> bool| verdicts.iter().find(|(_, v)| want(v));
        if let Some((found, LayerVerdict::Verified { key, format })) =
            first(|v| matches!(v, LayerVerdict::Verified { .. }))
        {
            return Self::Verified {
                key: key.clone(),
                format: *format,
                found: found.clone(),
            };
        }
        if let Some((found, LayerVerdict::WrongDigest { key, signed_digest })) =
            first(|v| matches!(v, LayerVerdict::WrongDigest { .. }))
        {
            return Self::WrongDigest {
                key: key.clone(),
                signed_digest: signed_digest.clone(),
                found: found.clone(),
            };
        }
        let untrusted = verdicts
            .iter()
            .filter(|(_, v)| matches!(v, LayerVerdict::Untrusted))
            .count();
        if let Some((found, _)) = first(|v| matches!(v, LayerVerdict::Untrusted)) {
            return Self::Untrusted {
                signatures: untrusted,
                found: found.clone(),
            };
        }
        if let Some((found, LayerVerdict::Keyless { identity, issuer })) =
            first(|v| matches!(v, LayerVerdict::Keyless { .. }))
        {
            return Self::Keyless {
                identity: identity.clone(),
                issuer: issuer.clone(),
                found: found.clone(),
            };
        }
        if let Some((found, LayerVerdict::Malformed(reason))) =
            first(|v| matches!(v, LayerVerdict::Malformed(_)))
        {
            return Self::Malformed {
                reason: format!("{found}: {reason}"),
            };
        }
        match unreadable {
            Some(reason) => Self::Unreadable { reason },
            None => Self::Missing { looked },
        }
    }

    /// True when the image passes the policy.
    pub fn passed(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }

    /// One line saying why `image` (at `digest`) fails the policy; `None` when it passes.
    pub fn failure(&self, image: &str, digest: &str) -> Option<String> {
        Some(match self {
            Self::Verified { .. } => return None,
            Self::Missing { looked } => format!(
                "{image} ({digest}) has no cosign signature: {}",
                looked.join("; ")
            ),
            Self::Untrusted { signatures, found } => format!(
                "{image} ({digest}) is signed ({signatures} signature(s), the first in {found}), but by no trusted key, or the signed content was altered"
            ),
            Self::WrongDigest {
                key,
                signed_digest,
                found,
            } => format!(
                "the signature in {found} (valid, key {key}) is for {signed_digest}, not {digest}: a signature copied or re-tagged from another image"
            ),
            Self::Keyless {
                identity,
                issuer,
                found,
            } => format!(
                "{image} ({digest}) is signed keyless by {} (issuer {}) in {found}: a Fulcio certificate, not verifiable with the configured key (lastmile does not verify keyless signatures: certificate chain, Rekor entry)",
                identity.as_deref().unwrap_or("an unnamed identity"),
                issuer.as_deref().unwrap_or("not recorded"),
            ),
            Self::Malformed { reason } => {
                format!("{image} ({digest}) has an unusable cosign signature: {reason}")
            }
            Self::NoTrustedKey => {
                format!("{image} must be signed, but the signature policy names no key for it")
            }
            Self::Unreadable { reason } => {
                format!("the cosign signature of {image} ({digest}) could not be read: {reason}")
            }
        })
    }

    /// One line saying what verified, for the evidence; `None` unless verified.
    pub fn verified_line(&self) -> Option<String> {
        match self {
            Self::Verified { key, format, found } => {
                let tlog = match format {
                    Format::SimpleSigning => "",
                    _ => " (transparency-log entry not checked)",
                };
                Some(format!(
                    "cosign signature verified with key {key}: {format} in {found}{tlog}"
                ))
            }
            _ => None,
        }
    }
}
