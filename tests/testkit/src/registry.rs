//! A real Debian `docker-registry` (the distribution reference implementation, 2.8) in each
//! configuration the image-pull tests need, plus what it trusts: a test CA for TLS
//! ([`TestCa`]), a token issuer signing ES256 JWTs ([`TokenIssuer`]), htpasswd users, and a
//! tiny server that answers every request with Docker Hub's 429 ([`RateLimitedRegistry`]).
//!
//! The binary comes from `LASTMILE_REGISTRY`, else `/usr/bin/docker-registry` (installed by
//! `scripts/install-test-deps`). Each registry gets its own temp dir and free loopback port and
//! is killed on `Drop`. Tests push their own images through the registry HTTP API
//! ([`Pusher`]): single-platform manifests and multi-platform indexes, OCI or Docker types,
//! images with real gzip tar layers ([`tar_gz`]), and cosign signatures made with a key the
//! test generates ([`CosignKey`], the simple-signing format `cosign sign --key` writes), and
//! cosign v3's Sigstore bundles as OCI referrers ([`sigstore`]).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use crate::tools::{find_binary, free_port};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose,
    SigningKey,
};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

mod extras;
mod push;
pub mod sigstore;
mod token;

pub use extras::{CosignKey, RateLimitedRegistry, TarEntry, incompressible, tar_gz};
use push::{OCI_INDEX, OCI_MANIFEST, digest_of};
pub use push::{Plat, Pusher, linux};
pub use token::{TokenIssuer, TokenUser, token_registry};

/// Env var naming the docker-registry binary.
pub const BINARY_ENV: &str = "LASTMILE_REGISTRY";
/// Where Debian installs it.
pub const DEFAULT_BINARY: &str = "/usr/bin/docker-registry";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A certificate authority the tests create; registries get leaf certificates from it.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, key)?,
        })
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses): (cert PEM, key PEM).
    pub fn issue(&self, names: &[&str]) -> anyhow::Result<(String, String)> {
        self.issue_with(names, false)
    }

    /// Like [`TestCa::issue`], but the certificate expired in 2021.
    pub fn issue_expired(&self, names: &[&str]) -> anyhow::Result<(String, String)> {
        self.issue_with(names, true)
    }

    fn issue_with(&self, names: &[&str], expired: bool) -> anyhow::Result<(String, String)> {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// How the registry authenticates.
pub enum RegistryAuth {
    /// Anyone may pull and push.
    None,
    /// htpasswd Basic auth with these (user, password) pairs (bcrypt-hashed here).
    Htpasswd(Vec<(String, String)>),
    /// Bearer tokens from this issuer.
    Token(Arc<TokenIssuer>),
}

/// A running docker-registry.
pub struct Registry {
    _dir: TempDir,
    port: u16,
    tls: bool,
    child: Option<Child>,
    log: PathBuf,
}

impl Registry {
    /// Finds the binary (see the module docs).
    pub fn binary() -> anyhow::Result<PathBuf> {
        find_binary(BINARY_ENV, Path::new(DEFAULT_BINARY), "docker-registry")
    }

    /// Starts a registry with `auth`, serving TLS with `tls` = (cert PEM, key PEM) when given.
    pub async fn start(auth: RegistryAuth, tls: Option<(String, String)>) -> anyhow::Result<Self> {
        let binary = Self::binary()?;
        let dir = tempfile::Builder::new()
            .prefix("lastmile-registry-")
            .tempdir()?;
        let port = free_port()?;
        let root = dir.path().join("data");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: lastmile-test-secret\n",
            root.display()
        );
        if let Some((cert, key)) = &tls {
            let (c, k) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
            std::fs::write(&c, cert)?;
            std::fs::write(&k, key)?;
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                c.display(),
                k.display()
            ));
        }
        match &auth {
            RegistryAuth::None => {}
            RegistryAuth::Htpasswd(users) => {
                let mut lines = String::new();
                for (u, p) in users {
                    lines.push_str(&format!("{u}:{}\n", bcrypt::hash(p, 5)?));
                }
                let path = dir.path().join("htpasswd");
                std::fs::write(&path, lines)?;
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: lastmile-test\n    path: {}\n",
                    path.display()
                ));
            }
            RegistryAuth::Token(issuer) => {
                let bundle = dir.path().join("token-ca.pem");
                std::fs::write(&bundle, issuer.cert_pem())?;
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    issuer.realm(),
                    issuer.service,
                    issuer.issuer,
                    bundle.display()
                ));
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let log = dir.path().join("registry.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(&binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut reg = Self {
            _dir: dir,
            port,
            tls: tls.is_some(),
            child: Some(child),
            log,
        };
        reg.wait_ready().await?;
        Ok(reg)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("docker-registry exited with {status}: {}", self.log());
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "docker-registry did not listen on {addr} within {READY_TIMEOUT:?}: {}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `127.0.0.1:<port>`, the registry part of image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http(s)://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.host()
        )
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
