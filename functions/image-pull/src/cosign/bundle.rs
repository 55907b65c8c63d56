//! Sigstore bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`, and the v0.1/v0.2
//! JSON of the same shape), as cosign v3 attaches them to an image: verified with a
//! configured public key, pure logic over bytes.
//!
//! - `messageSignature`: `messageDigest` (SHA2_256, base64) must be the image manifest's
//!   digest, and `signature` (base64 DER ECDSA P-256) is over that manifest, so it is checked
//!   against the digest (pre-hashed).
//! - `dsseEnvelope`: `signatures[].sig` over the DSSE pre-authentication encoding of
//!   (`payloadType`, payload); the payload is an in-toto statement whose `subject[].digest.sha256`
//!   must be the image's. Statements with another `predicateType` than cosign's image
//!   signature ([`SIGN_PREDICATE`]) are attestations (SBOM, provenance), not signatures.
//! - Keyless bundles (`verificationMaterial.certificate` / `x509CertificateChain`) that no
//!   configured key verifies are reported with the certificate's identity; the Fulcio chain
//!   and the Rekor entry are not checked, and no key-verified bundle's tlog entry either.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::Deserialize;

use super::{Format, LayerVerdict, TrustedKey, cert, parse_signature};

/// Media type prefix of every Sigstore bundle version.
pub const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The bundle media type cosign v3 writes (and the referrer's `artifactType`).
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// `predicateType` of the in-toto statement `cosign sign` (v3) signs for an image.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The DSSE payload type of in-toto statements.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// A bundle larger than this is not a signature (keyless ones are a few KiB).
pub const MAX_BUNDLE: usize = 256 * 1024;
/// DSSE signatures examined per envelope, at most.
const MAX_DSSE_SIGNATURES: usize = 8;

/// What one bundle is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleVerdict {
    /// A signature (or not a usable one): judged like any other.
    Signature(LayerVerdict),
    /// An attestation with this predicate type: not an image signature, ignored.
    Attestation(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    verification_material: Material,
    message_signature: Option<MessageSignature>,
    dsse_envelope: Option<Envelope>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    certificate: Option<RawCert>,
    x509_certificate_chain: Option<Chain>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    #[serde(default)]
    raw_bytes: String,
}

#[derive(Deserialize)]
struct Chain {
    #[serde(default)]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    message_digest: Option<MessageDigest>,
    #[serde(default)]
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    payload: String,
    #[serde(default)]
    payload_type: String,
    #[serde(default)]
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    #[serde(default)]
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(default)]
    predicate_type: String,
    #[serde(default)]
    subject: Vec<Subject>,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

/// DSSE's pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`.
/// (The build function has its own for signing; image-pull must not depend on it.)
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    STANDARD.decode(s).ok().or_else(|| URL_SAFE.decode(s).ok())
}

fn malformed(reason: impl Into<String>) -> BundleVerdict {
    BundleVerdict::Signature(LayerVerdict::Malformed(reason.into()))
}

/// Verifies one bundle's bytes against `keys` for the image `digest` (`sha256:<hex>`).
pub fn verify(bytes: &[u8], keys: &[&TrustedKey], digest: &str) -> BundleVerdict {
    if bytes.len() > MAX_BUNDLE {
        return malformed(format!(
            "the bundle is {} bytes, over the {MAX_BUNDLE}-byte limit",
            bytes.len()
        ));
    }
    let bundle: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => return malformed(format!("the bundle is not Sigstore bundle JSON: {e}")),
    };
    if !bundle.media_type.starts_with(BUNDLE_PREFIX) {
        return malformed(format!(
            "the bundle's mediaType is {:?}, not a Sigstore bundle",
            bundle.media_type.chars().take(100).collect::<String>()
        ));
    }
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return malformed(format!("{digest:?} is not a sha256 digest"));
    };
    let verdict = match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(m), None) => message_signature(m, keys, hex),
        (None, Some(e)) => match dsse(e, keys, hex) {
            Ok(v) => v,
            Err(attestation) => return attestation,
        },
        _ => LayerVerdict::Malformed(
            "the bundle holds neither exactly one messageSignature nor one dsseEnvelope".into(),
        ),
    };
    match verdict {
        LayerVerdict::Untrusted => BundleVerdict::Signature(keyless(&bundle.verification_material)),
        v => BundleVerdict::Signature(v),
    }
}

/// A bundle no configured key verified: keyless when it carries a certificate.
fn keyless(m: &Material) -> LayerVerdict {
    let leaf = m.certificate.as_ref().or_else(|| {
        m.x509_certificate_chain
            .as_ref()
            .and_then(|c| c.certificates.first())
    });
    let Some(leaf) = leaf else {
        return LayerVerdict::Untrusted;
    };
    let id = b64(&leaf.raw_bytes)
        .and_then(|der| cert::identity(&der))
        .unwrap_or_default();
    LayerVerdict::Keyless {
        identity: id.san,
        issuer: id.issuer,
    }
}

fn message_signature(m: &MessageSignature, keys: &[&TrustedKey], hex: &str) -> LayerVerdict {
    let Some(md) = &m.message_digest else {
        return LayerVerdict::Malformed("the messageSignature has no messageDigest".into());
    };
    if md.algorithm != "SHA2_256" {
        return LayerVerdict::Malformed(format!(
            "the messageDigest algorithm is {:?}, not SHA2_256",
            md.algorithm.chars().take(40).collect::<String>()
        ));
    }
    let Some(signed) = b64(&md.digest).filter(|d| d.len() == 32) else {
        return LayerVerdict::Malformed("the messageDigest is not 32 base64 bytes".into());
    };
    let Some(sig) = b64(&m.signature).and_then(|raw| parse_signature(&raw)) else {
        return LayerVerdict::Malformed(
            "the messageSignature is not a base64 ECDSA signature".into(),
        );
    };
    let Some(key) = keys.iter().find(|k| k.verifies_prehash(&signed, &sig)) else {
        return LayerVerdict::Untrusted;
    };
    let signed_hex = ::hex::encode(&signed);
    if signed_hex == hex.to_ascii_lowercase() {
        LayerVerdict::Verified {
            key: key.name.clone(),
            format: Format::MessageSignature,
        }
    } else {
        LayerVerdict::WrongDigest {
            key: key.name.clone(),
            signed_digest: format!("sha256:{signed_hex}"),
        }
    }
}

/// `Err` carries an attestation verdict (not a signature).
fn dsse(e: &Envelope, keys: &[&TrustedKey], hex: &str) -> Result<LayerVerdict, BundleVerdict> {
    if e.payload_type != IN_TOTO {
        return Ok(LayerVerdict::Malformed(format!(
            "the DSSE payloadType is {:?}, not {IN_TOTO}",
            e.payload_type.chars().take(100).collect::<String>()
        )));
    }
    let Some(payload) = b64(&e.payload) else {
        return Ok(LayerVerdict::Malformed(
            "the DSSE payload is not base64".into(),
        ));
    };
    if e.signatures.is_empty() {
        return Ok(LayerVerdict::Malformed(
            "the DSSE envelope has no signature".into(),
        ));
    }
    let signed = pae(&e.payload_type, &payload);
    let key = e
        .signatures
        .iter()
        .take(MAX_DSSE_SIGNATURES)
        .filter_map(|s| b64(&s.sig).and_then(|raw| parse_signature(&raw)))
        .find_map(|sig| keys.iter().find(|k| k.verifies(&signed, &sig)));
    let Ok(statement) = serde_json::from_slice::<Statement>(&payload) else {
        return Ok(match key {
            Some(_) => {
                LayerVerdict::Malformed("the signed payload is not an in-toto statement".into())
            }
            None => LayerVerdict::Untrusted,
        });
    };
    if statement.predicate_type != SIGN_PREDICATE {
        return Err(BundleVerdict::Attestation(
            statement.predicate_type.chars().take(200).collect(),
        ));
    }
    let Some(key) = key else {
        return Ok(LayerVerdict::Untrusted);
    };
    let subjects: Vec<&String> = statement
        .subject
        .iter()
        .filter_map(|s| s.digest.get("sha256"))
        .collect();
    if subjects.iter().any(|s| s.eq_ignore_ascii_case(hex)) {
        return Ok(LayerVerdict::Verified {
            key: key.name.clone(),
            format: Format::Dsse,
        });
    }
    Ok(match subjects.first() {
        Some(s) => LayerVerdict::WrongDigest {
            key: key.name.clone(),
            signed_digest: format!("sha256:{}", s.chars().take(64).collect::<String>()),
        },
        None => LayerVerdict::Malformed("the signed statement has no sha256 subject".into()),
    })
}

#[cfg(test)]
mod tests;
