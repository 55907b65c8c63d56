//! One TLS crypto provider for the whole process.
//!
//! rustls needs a process-wide [`rustls::crypto::CryptoProvider`]. lastmile builds exactly one
//! (aws-lc-rs: NATS, kube, reqwest and the AWS SDK all use it), and every binary installs it
//! at start-up with [`install_crypto_provider`], so the first TLS connection never has to
//! guess (rustls panics when it cannot determine the provider). [`crate::bus::nats::NatsBus`]
//! calls it too, so library users get the same provider.

/// Installs aws-lc-rs as the process's rustls provider. Idempotent: when a provider is already
/// installed (by an earlier call or by the embedding program), that one stays.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // A concurrent caller may have won the race; either way one provider is installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// True when `err` (or anything it wraps, including inside `io::Error`s) is a TLS failure:
/// an unknown issuer, a name mismatch, a refused client certificate.
pub fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    crate::http::links(err)
        .iter()
        .any(|e| e.downcast_ref::<rustls::Error>().is_some())
}

#[cfg(test)]
mod tests;
