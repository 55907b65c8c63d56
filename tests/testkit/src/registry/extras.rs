//! A 429-answering server, cosign keys, and test layer contents.

use super::*;

/// A server that answers every request like Docker Hub over its pull limit: HTTP 429 with
/// `TOOMANYREQUESTS` and the `ratelimit-*` headers.
pub struct RateLimitedRegistry {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RateLimitedRegistry {
    /// Starts it on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().fallback(|| async {
            (
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                [
                    ("content-type", "application/json"),
                    ("ratelimit-limit", "100;w=21600"),
                    ("ratelimit-remaining", "0;w=21600"),
                    ("docker-ratelimit-source", "127.0.0.1"),
                    ("retry-after", "3600"),
                    ("docker-distribution-api-version", "registry/2.0"),
                ],
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}"#,
            )
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, task })
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for RateLimitedRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A cosign key pair the test generates (ECDSA P-256, as `cosign generate-key-pair` makes).
pub struct CosignKey {
    key: KeyPair,
}

impl CosignKey {
    /// A fresh key.
    pub fn generate() -> anyhow::Result<Self> {
        Ok(Self {
            key: KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        })
    }

    /// The public key, PEM `PUBLIC KEY` (SPKI), as `cosign.pub` holds it.
    pub fn public_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// Base64 of the ASN.1 DER ECDSA/SHA-256 signature over `payload`.
    pub fn sign(&self, payload: &[u8]) -> anyhow::Result<String> {
        Ok(STANDARD.encode(self.key.sign(payload)?))
    }

    /// The ASN.1 DER ECDSA/SHA-256 signature over `payload`.
    pub fn sign_der(&self, payload: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self.key.sign(payload)?)
    }
}

/// One entry of a test layer.
pub enum TarEntry<'a> {
    /// A regular file.
    File(&'a str, &'a [u8]),
    /// A symbolic link (path, target).
    Symlink(&'a str, &'a str),
}

/// A gzip-compressed tar layer holding `entries` (GNU headers, long names as needed).
pub fn tar_gz(entries: &[TarEntry<'_>]) -> anyhow::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match e {
            TarEntry::File(path, bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(bytes.len() as u64);
                b.append_data(&mut h, path, *bytes)?;
            }
            TarEntry::Symlink(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, path, target)?;
            }
        }
    }
    Ok(b.into_inner()?.finish()?)
}

/// `n` bytes that do not compress (xorshift), to make layers of a known compressed size.
pub fn incompressible(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
