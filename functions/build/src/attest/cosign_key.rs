//! cosign's encrypted private keys (`cosign generate-key-pair`): the PKCS#8 DER of the key,
//! sealed with NaCl secretbox (XSalsa20-Poly1305) under a key derived by scrypt from the
//! password, stored as JSON (go-securesystemslib's `encrypted` format) in an
//! `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) PEM block:
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<base64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},"ciphertext":"<base64>"}
//! ```
//!
//! The password comes from `COSIGN_PASSWORD`, as with cosign itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde::Deserialize;

/// The PEM labels cosign writes for an encrypted key (current, then before cosign 1.x).
pub const PEM_LABELS: [&str; 2] = [
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

/// The largest scrypt cost accepted (`log2(N)`): cosign writes 15; 20 costs 1 GiB of memory.
const MAX_LOG_N: u8 = 20;

/// Why an encrypted cosign key could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CosignKeyError {
    /// The PEM block or its JSON is not cosign's format.
    #[error("not a cosign encrypted key: {0}")]
    Format(String),
    /// A KDF or cipher this does not implement.
    #[error("cosign key uses {0}, only scrypt + nacl/secretbox are read")]
    Unsupported(String),
    /// The scrypt parameters are out of range.
    #[error("cosign key has unusable scrypt parameters (N={n}, r={r}, p={p})")]
    Params {
        /// CPU/memory cost `N` (a power of two).
        n: u64,
        /// Block size.
        r: u32,
        /// Parallelisation `p`.
        p: u32,
    },
    /// No password was given.
    #[error("the cosign key is encrypted: set COSIGN_PASSWORD to its password")]
    NoPassword,
    /// The secretbox did not open: wrong password (or a damaged key).
    #[error("cannot decrypt the cosign key: wrong COSIGN_PASSWORD, or the key is damaged")]
    WrongPassword,
}

#[derive(Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// True when `pem` holds a cosign encrypted key.
pub fn is_cosign_encrypted(pem: &str) -> bool {
    PEM_LABELS
        .iter()
        .any(|l| pem.contains(&format!("-----BEGIN {l}-----")))
}

/// The PKCS#8 DER inside a cosign encrypted key PEM.
pub fn decrypt(pem: &str, password: Option<&str>) -> Result<Vec<u8>, CosignKeyError> {
    let body = pem_body(pem)?;
    let sealed: Sealed = serde_json::from_slice(&body)
        .map_err(|e| CosignKeyError::Format(format!("the PEM body is not its JSON: {e}")))?;
    if sealed.kdf.name != "scrypt" {
        return Err(CosignKeyError::Unsupported(format!(
            "kdf {:?}",
            sealed.kdf.name
        )));
    }
    if sealed.cipher.name != "nacl/secretbox" {
        return Err(CosignKeyError::Unsupported(format!(
            "cipher {:?}",
            sealed.cipher.name
        )));
    }
    let password = password.ok_or(CosignKeyError::NoPassword)?;
    let b64 = |what: &str, s: &str| {
        STANDARD
            .decode(s.trim())
            .map_err(|e| CosignKeyError::Format(format!("{what} is not base64: {e}")))
    };
    let salt = b64("salt", &sealed.kdf.salt)?;
    let nonce = b64("nonce", &sealed.cipher.nonce)?;
    let ciphertext = b64("ciphertext", &sealed.ciphertext)?;
    if nonce.len() != 24 {
        return Err(CosignKeyError::Format(format!(
            "the nonce has {} bytes, secretbox needs 24",
            nonce.len()
        )));
    }
    let key = derive_key(password, &salt, &sealed.kdf.params)?;
    let cipher = XSalsa20Poly1305::new((&key).into());
    cipher
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| CosignKeyError::WrongPassword)
}

/// scrypt(password, salt, N, r, p) → the 32-byte secretbox key.
fn derive_key(
    password: &str,
    salt: &[u8],
    params: &ScryptParams,
) -> Result<[u8; 32], CosignKeyError> {
    let bad = || CosignKeyError::Params {
        n: params.n,
        r: params.r,
        p: params.p,
    };
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(bad());
    }
    let log_n = u8::try_from(params.n.trailing_zeros()).map_err(|_| bad())?;
    if log_n > MAX_LOG_N {
        return Err(bad());
    }
    let p = scrypt::Params::new(log_n, params.r, params.p, 32).map_err(|_| bad())?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), salt, &p, &mut key).map_err(|_| bad())?;
    Ok(key)
}

/// The base64-decoded body of the first cosign-labelled PEM block. Lenient like Go's
/// `encoding/pem`, which cosign uses: any line length (a key pasted into a CI secret often
/// loses its line breaks), where the strict RFC 7468 decoder in `der::pem` refuses it.
fn pem_body(pem: &str) -> Result<Vec<u8>, CosignKeyError> {
    let label = PEM_LABELS
        .iter()
        .find(|l| pem.contains(&format!("-----BEGIN {l}-----")))
        .ok_or_else(|| CosignKeyError::Format("no cosign PEM block".into()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).map(|i| i + begin.len()).unwrap_or(0);
    let stop = pem[start..]
        .find(&end)
        .map(|i| start + i)
        .ok_or_else(|| CosignKeyError::Format(format!("no `{end}` line")))?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|e| CosignKeyError::Format(format!("the PEM body is not base64: {e}")))
}

#[cfg(test)]
mod tests;
