//! DSSE envelopes (the format `cosign attest` writes): the payload signed over its
//! pre-authentication encoding `PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body)
//! SP body`, with an ECDSA P-256 / SHA-256 key (cosign's default), DER signatures, base64.
//!
//! Keys: unencrypted PKCS#8 `PRIVATE KEY` PEM and SEC1 `EC PRIVATE KEY` PEM (what
//! `openssl ecparam -genkey` writes), and cosign's own `ENCRYPTED SIGSTORE PRIVATE KEY`
//! (`cosign generate-key-pair`; scrypt + NaCl secretbox, see [`super::cosign_key`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cosign_key;

/// The in-toto payload type.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// What the payload is.
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// Signatures over `PAE(payloadType, payload)`.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Key id (the public key's SHA-256 fingerprint here; may be empty).
    #[serde(default)]
    pub keyid: String,
    /// DER ECDSA signature, base64.
    pub sig: String,
}

/// Signing and verification failures.
#[derive(Debug, thiserror::Error)]
pub enum DsseError {
    /// The key is not one this reads.
    #[error("{0}")]
    Key(String),
    /// The envelope is malformed.
    #[error("malformed DSSE envelope: {0}")]
    Malformed(String),
    /// No signature verifies with the key.
    #[error("the attestation's signature does not verify with the public key ({0})")]
    BadSignature(String),
}

/// The pre-authentication encoding.
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

/// Reads a private key PEM: PKCS#8 or SEC1 unencrypted, or cosign's encrypted format
/// (opened with `password`, which the CLI takes from `COSIGN_PASSWORD` as cosign does).
pub fn signing_key(pem: &str, password: Option<&str>) -> Result<SigningKey, DsseError> {
    let pem = pem.trim();
    if cosign_key::is_cosign_encrypted(pem) {
        let der = cosign_key::decrypt(pem, password).map_err(|e| DsseError::Key(e.to_string()))?;
        return SigningKey::from_pkcs8_der(&der)
            .map_err(|e| DsseError::Key(format!("the cosign key is not an ECDSA P-256 key: {e}")));
    }
    if pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err(DsseError::Key(
            "encrypted PKCS#8 keys are not read: give an unencrypted PKCS#8 P-256 key or a cosign key".into(),
        ));
    }
    if pem.contains("BEGIN EC PRIVATE KEY") {
        let sk = p256::SecretKey::from_sec1_pem(pem)
            .map_err(|e| DsseError::Key(format!("not a P-256 SEC1 key: {e}")))?;
        return Ok(SigningKey::from(sk));
    }
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|e| DsseError::Key(format!("not an ECDSA P-256 PKCS#8 private key: {e}")))
}

/// Reads a `PUBLIC KEY` PEM (SPKI, P-256), as `cosign.pub`.
pub fn verifying_key(pem: &str) -> Result<VerifyingKey, DsseError> {
    VerifyingKey::from_public_key_pem(pem.trim())
        .map_err(|e| DsseError::Key(format!("not an ECDSA P-256 public key: {e}")))
}

/// `sha256:` + the first 16 hex digits of the key's SPKI DER.
pub fn key_id(key: &VerifyingKey) -> String {
    key.to_public_key_der()
        .map(|der| {
            let h = hex::encode(Sha256::digest(der.as_bytes()));
            format!("sha256:{}", &h[..16])
        })
        .unwrap_or_default()
}

/// Signs `payload` into an envelope.
pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Envelope {
    let sig: DerSignature = key.sign(&pae(payload_type, payload));
    Envelope {
        payload_type: payload_type.to_owned(),
        payload: STANDARD.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: key_id(key.verifying_key()),
            sig: STANDARD.encode(sig.as_bytes()),
        }],
    }
}

impl Envelope {
    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, DsseError> {
        STANDARD
            .decode(self.payload.trim())
            .map_err(|e| DsseError::Malformed(format!("payload is not base64: {e}")))
    }

    /// The payload, when a signature verifies with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Vec<u8>, DsseError> {
        let body = self.payload_bytes()?;
        let message = pae(&self.payload_type, &body);
        if self.signatures.is_empty() {
            return Err(DsseError::BadSignature(
                "the envelope has no signature".into(),
            ));
        }
        for s in &self.signatures {
            let Ok(raw) = STANDARD.decode(s.sig.trim()) else {
                continue;
            };
            let sig = Signature::from_der(&raw).or_else(|_| Signature::from_slice(&raw));
            if let Ok(sig) = sig
                && key.verify(&message, &sig).is_ok()
            {
                return Ok(body);
            }
        }
        Err(DsseError::BadSignature(format!("key {}", key_id(key))))
    }
}

#[cfg(test)]
mod tests;
