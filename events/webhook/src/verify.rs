//! Authenticity checks: HMAC-SHA256 signatures (GitHub, generic) and shared tokens (GitLab).
//!
//! Both comparisons are constant-time: the HMAC through `hmac`'s `verify_slice` (built on
//! `subtle`), the token by comparing SHA-256 digests with `subtle::ConstantTimeEq`, so
//! neither the content nor the length of the secret leaks through timing.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::reject::Reject;

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body.
pub fn hmac_sha256(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
    header_name: &str,
) -> Result<(), Reject> {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(Reject::unsigned(format!(
            "missing {header_name} header; the delivery is not signed"
        )));
    };
    let Some(hex_sig) = value.strip_prefix("sha256=") else {
        return Err(Reject::forged(format!(
            "{header_name} must be `sha256=<hex>`"
        )));
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return Err(Reject::forged(format!("{header_name} is not hex")));
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|_| Reject::forged("invalid secret".into()))?;
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| {
        Reject::forged(format!(
            "{header_name} does not match the body; wrong secret or tampered payload"
        ))
    })
}

/// The `sha256=<hex>` signature of `body`, as GitHub computes it (for senders and tests).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// Checks a shared token header (`X-Gitlab-Token`).
pub fn token(expected: &[u8], header: Option<&str>, header_name: &str) -> Result<(), Reject> {
    let Some(got) = header.filter(|v| !v.is_empty()) else {
        return Err(Reject::unsigned(format!("missing {header_name} header")));
    };
    let a = Sha256::digest(expected);
    let b = Sha256::digest(got.as_bytes());
    if bool::from(a.ct_eq(&b)) {
        Ok(())
    } else {
        Err(Reject::forged(format!(
            "{header_name} does not match the configured token"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
