//! cosign "simple signing" signatures, verified without cosign: pure logic over bytes.
//!
//! `cosign sign --key` stores, for an image digest `sha256:<hex>`, a manifest tagged
//! `sha256-<hex>.sig` in the image's repository. Each of its layers with media type
//! [`SIMPLE_SIGNING`] is a JSON payload naming the signed digest
//! (`critical.image.docker-manifest-digest`, `critical.type` = [`SIGNATURE_TYPE`]), and carries
//! the annotation [`SIGNATURE_ANNOTATION`]: a base64 ASN.1 DER ECDSA P-256 / SHA-256 signature
//! over the payload bytes. Trusted keys are PEM `PUBLIC KEY` (SPKI) documents, as written by
//! `cosign generate-key-pair`.
//!
//! cosign v3 stores a Sigstore bundle instead, as an OCI 1.1 referrer of the image
//! ([`referrers`] finds them, [`bundle`] verifies them, [`cert`] reads who signed keyless).
//!
//! The verdicts tell apart what an operator must fix differently: no signature at all, a
//! signature no trusted key made (another key, or altered bytes), a valid signature for
//! another digest (a `.sig` copied or re-tagged onto this image), a keyless signature the
//! configured key cannot verify, and malformed data ([`SignatureCheck`]).

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub mod bundle;
pub mod cert;
mod check;
pub mod referrers;

pub use check::{Found, SignatureCheck, Source};

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature over the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// `critical.type` of a container image signature payload.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// Signature layers examined per image, at most.
pub const MAX_SIGNATURES: usize = 16;

/// A public key signatures must verify with.
#[derive(Clone)]
pub struct TrustedKey {
    /// Where it came from (a file path, or a label in tests); shown in reports.
    pub name: String,
    /// `sha256:` + the first 16 hex digits of the SHA-256 of its SPKI DER.
    pub fingerprint: String,
    key: VerifyingKey,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKey")
            .field("name", &self.name)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// A key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} is not a PEM ECDSA P-256 public key (PUBLIC KEY / SPKI): {reason}")]
pub struct KeyError {
    /// The key's name.
    pub name: String,
    /// The parser's reason.
    pub reason: String,
}

impl TrustedKey {
    /// Parses a PEM `PUBLIC KEY` holding an ECDSA P-256 key.
    pub fn from_pem(name: &str, pem: &str) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError {
            name: name.to_owned(),
            reason,
        };
        let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| err(e.to_string()))?;
        let der = key.to_public_key_der().map_err(|e| err(e.to_string()))?;
        let hash = hex::encode(Sha256::digest(der.as_bytes()));
        Ok(Self {
            name: name.to_owned(),
            fingerprint: format!("sha256:{}", &hash[..16]),
            key,
        })
    }

    fn verifies(&self, payload: &[u8], signature: &Signature) -> bool {
        self.key.verify(payload, signature).is_ok()
    }

    /// True when `signature` is this key's over a message whose SHA-256 is `digest`.
    fn verifies_prehash(&self, digest: &[u8], signature: &Signature) -> bool {
        self.key.verify_prehash(digest, signature).is_ok()
    }
}

/// An ECDSA signature as cosign and DSSE write it (ASN.1 DER), or as 64 raw `r || s` bytes.
pub(crate) fn parse_signature(raw: &[u8]) -> Option<Signature> {
    Signature::from_der(raw)
        .ok()
        .or_else(|| Signature::from_slice(raw).ok())
}

/// What kind of signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// cosign's simple-signing payload (the legacy `.sig` tag).
    SimpleSigning,
    /// A Sigstore bundle's `messageSignature` over the image manifest digest.
    MessageSignature,
    /// A Sigstore bundle's `dsseEnvelope`: an in-toto statement whose subject is the image.
    Dsse,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::SimpleSigning => "cosign simple-signing payload",
            Self::MessageSignature => "Sigstore bundle message signature",
            Self::Dsse => "Sigstore bundle DSSE in-toto statement",
        })
    }
}

/// The tag cosign stores the signature of `digest` under: `sha256:<hex>` → `sha256-<hex>.sig`.
/// `None` for anything that is not `<algorithm>:<hex>`.
pub fn signature_tag(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let ok = !alg.is_empty()
        && alg.chars().all(|c| c.is_ascii_alphanumeric())
        && !hex.is_empty()
        && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| format!("{alg}-{hex}.sig"))
}

/// What one signature layer proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerVerdict {
    /// A trusted key signed a payload for the expected digest.
    Verified {
        /// The key's name.
        key: String,
        /// What was signed.
        format: Format,
    },
    /// A trusted key signed a payload for another digest.
    WrongDigest {
        /// The key's name.
        key: String,
        /// The digest the payload names.
        signed_digest: String,
    },
    /// No trusted key verifies this signature over these bytes.
    Untrusted,
    /// Signed keyless (a Fulcio certificate in the bundle), not with a configured key.
    Keyless {
        /// The certificate's subject alternative name (e-mail, URI), when it has one.
        identity: Option<String>,
        /// The OIDC issuer recorded in the certificate (Fulcio extension), when present.
        issuer: Option<String>,
    },
    /// Not a usable cosign signature.
    Malformed(String),
}

/// Verifies one payload (`payload` bytes, base64 `signature`) against `keys` for `digest`.
pub fn verify_layer(
    payload: &[u8],
    signature_b64: &str,
    keys: &[&TrustedKey],
    digest: &str,
) -> LayerVerdict {
    use base64::Engine;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return LayerVerdict::Malformed("the signature annotation is not base64".into());
    };
    let Ok(signature) = Signature::from_der(&raw) else {
        return LayerVerdict::Malformed("the signature is not an ASN.1 DER ECDSA signature".into());
    };
    let Some(key) = keys.iter().find(|k| k.verifies(payload, &signature)) else {
        return LayerVerdict::Untrusted;
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return LayerVerdict::Malformed("the signed payload is not JSON".into());
    };
    let critical = &doc["critical"];
    let kind = critical["type"].as_str().unwrap_or_default();
    if kind != SIGNATURE_TYPE {
        return LayerVerdict::Malformed(format!(
            "the signed payload's critical.type is {kind:?}, not {SIGNATURE_TYPE:?}"
        ));
    }
    match critical["image"]["docker-manifest-digest"].as_str() {
        Some(d) if d == digest => LayerVerdict::Verified {
            key: key.name.clone(),
            format: Format::SimpleSigning,
        },
        Some(d) => LayerVerdict::WrongDigest {
            key: key.name.clone(),
            signed_digest: d.chars().take(100).collect(),
        },
        None => LayerVerdict::Malformed(
            "the signed payload has no critical.image.docker-manifest-digest".into(),
        ),
    }
}

#[cfg(test)]
mod tests;
