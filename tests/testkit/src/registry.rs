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

pub mod sigstore;

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

/// One platform of a pushed image.
#[derive(Debug, Clone, Copy)]
pub struct Plat<'a> {
    /// OS.
    pub os: &'a str,
    /// Architecture.
    pub arch: &'a str,
    /// Variant.
    pub variant: Option<&'a str>,
}

/// `linux/<arch>`.
pub fn linux(arch: &str) -> Plat<'_> {
    Plat {
        os: "linux",
        arch,
        variant: None,
    }
}

/// Pushes images through the registry HTTP API.
pub struct Pusher {
    client: reqwest::Client,
    base: String,
    authorization: Option<String>,
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Pusher {
    /// A pusher for `base_url`, sending `authorization` (a full header value) when given and
    /// trusting `ca_pem` in addition to the system roots.
    pub fn new(
        base_url: &str,
        authorization: Option<String>,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut b = reqwest::Client::builder().timeout(Duration::from_secs(20));
        if let Some(pem) = ca_pem {
            b = b.tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem.as_bytes())?);
        }
        Ok(Self {
            client: b.build()?,
            base: base_url.trim_end_matches('/').to_owned(),
            authorization,
        })
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(a) => rb.header("authorization", a),
            None => rb,
        }
    }

    /// Uploads a blob (POST then PUT), returning its digest.
    pub async fn blob(&self, repo: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let digest = digest_of(bytes);
        let resp = self
            .auth(
                self.client
                    .post(format!("{}/v2/{repo}/blobs/uploads/", self.base)),
            )
            .send()
            .await?;
        if resp.status().as_u16() != 202 {
            bail!(
                "blob upload start for {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .context("upload without Location")?
            .to_owned();
        let url = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let resp = self
            .auth(self.client.put(format!("{url}{sep}digest={digest}")))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "blob upload for {repo}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(digest)
    }

    /// PUTs a manifest under `reference` (tag or digest), returning its digest.
    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> anyhow::Result<String> {
        let resp = self
            .auth(
                self.client
                    .put(format!("{}/v2/{repo}/manifests/{reference}", self.base)),
            )
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "manifest PUT {repo}:{reference}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(digest_of(body))
    }

    /// Pushes a single-platform image (config + one layer + manifest) as `repo:tag`
    /// (or by digest only when `tag` is `None`). Returns (manifest digest, media type, size).
    pub async fn image(
        &self,
        repo: &str,
        tag: Option<&str>,
        p: Plat<'_>,
        oci: bool,
    ) -> anyhow::Result<(String, &'static str, usize)> {
        let layer = format!("layer of {repo} for {}/{}", p.os, p.arch).into_bytes();
        let layer_mt = if oci {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        } else {
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        };
        self.image_with_layers(repo, tag, p, oci, &[(layer_mt, layer)])
            .await
    }

    /// Pushes a single-platform image with these (media type, bytes) layers, bottom first.
    /// Returns (manifest digest, media type, size).
    pub async fn image_with_layers(
        &self,
        repo: &str,
        tag: Option<&str>,
        p: Plat<'_>,
        oci: bool,
        layers: &[(&str, Vec<u8>)],
    ) -> anyhow::Result<(String, &'static str, usize)> {
        let mut config = serde_json::json!({"architecture": p.arch, "os": p.os, "rootfs": {"type": "layers", "diff_ids": []}, "config": {}});
        if let Some(v) = p.variant {
            config["variant"] = v.into();
        }
        let config = serde_json::to_vec(&config)?;
        let config_digest = self.blob(repo, &config).await?;
        let mut descriptors = Vec::new();
        for (mt, bytes) in layers {
            let digest = self.blob(repo, bytes).await?;
            descriptors
                .push(serde_json::json!({"mediaType": mt, "digest": digest, "size": bytes.len()}));
        }
        let (mt, cfg_mt) = if oci {
            (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
        } else {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
            )
        };
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": cfg_mt, "digest": config_digest, "size": config.len()},
            "layers": descriptors
        }))?;
        let digest = digest_of(&manifest);
        self.manifest(repo, tag.unwrap_or(&digest), mt, &manifest)
            .await?;
        Ok((digest, mt, manifest.len()))
    }

    /// Pushes an index (OCI) or manifest list (Docker) of images already pushed:
    /// (digest, media type, size, platform) each.
    pub async fn index_of(
        &self,
        repo: &str,
        tag: &str,
        images: &[(String, &str, usize, Plat<'_>)],
        oci: bool,
    ) -> anyhow::Result<String> {
        let entries: Vec<serde_json::Value> = images
            .iter()
            .map(|(digest, mt, size, p)| {
                let mut platform = serde_json::json!({"os": p.os, "architecture": p.arch});
                if let Some(v) = p.variant {
                    platform["variant"] = v.into();
                }
                serde_json::json!({"mediaType": mt, "digest": digest, "size": size, "platform": platform})
            })
            .collect();
        let mt = if oci { OCI_INDEX } else { DOCKER_LIST };
        let body = serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": mt, "manifests": entries}),
        )?;
        self.manifest(repo, tag, mt, &body).await
    }

    /// Pushes a cosign signature for `digest` (tag `sha256-<hex>.sig`): a simple-signing
    /// payload naming `signed_digest` (normally `digest` itself), signed by `key`.
    pub async fn cosign_signature(
        &self,
        repo: &str,
        digest: &str,
        signed_digest: &str,
        key: &CosignKey,
    ) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(&serde_json::json!({
            "critical": {"identity": {"docker-reference": format!("{}/{repo}", self.base.split_once("://").map_or("", |(_, h)| h))},
                         "image": {"docker-manifest-digest": signed_digest},
                         "type": "cosign container image signature"},
            "optional": null
        }))?;
        let signature = key.sign(&payload)?;
        self.signature_manifest(repo, digest, &payload, Some(&signature))
            .await
    }

    /// Pushes a signature manifest for `digest` with one simple-signing layer holding
    /// `payload` and, when given, the `dev.cosignproject.cosign/signature` annotation.
    pub async fn signature_manifest(
        &self,
        repo: &str,
        digest: &str,
        payload: &[u8],
        signature_b64: Option<&str>,
    ) -> anyhow::Result<()> {
        let payload_digest = self.blob(repo, payload).await?;
        let config = b"{}".to_vec();
        let config_digest = self.blob(repo, &config).await?;
        let mut layer = serde_json::json!({"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": payload_digest, "size": payload.len()});
        if let Some(sig) = signature_b64 {
            layer["annotations"] = serde_json::json!({"dev.cosignproject.cosign/signature": sig});
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [layer]
        }))?;
        let tag = format!("{}.sig", digest.replacen(':', "-", 1));
        self.manifest(repo, &tag, OCI_MANIFEST, &manifest).await?;
        Ok(())
    }

    /// Pushes one image per platform and an index (OCI) or manifest list (Docker) as `repo:tag`.
    pub async fn index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[Plat<'_>],
        oci: bool,
    ) -> anyhow::Result<String> {
        let mut images = Vec::new();
        for p in platforms {
            let (digest, mt, size) = self.image(repo, None, *p, oci).await?;
            images.push((digest, mt, size, *p));
        }
        self.index_of(repo, tag, &images, oci).await
    }
}

/// A user of the token issuer.
#[derive(Debug, Clone)]
pub struct TokenUser {
    /// Name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Repositories (exact names, or `*`) and the actions granted on them.
    pub grants: Vec<(String, Vec<String>)>,
}

/// A registry behind a [`TokenIssuer`] for `users` (anonymous requests get `anonymous`
/// grants), and a pusher whose token may push and pull every repository in `push_to`.
pub async fn token_registry(
    users: Vec<TokenUser>,
    anonymous: Vec<(String, Vec<String>)>,
    push_to: &[&str],
) -> anyhow::Result<(Arc<TokenIssuer>, Registry, Pusher)> {
    let issuer = Arc::new(TokenIssuer::start(users, anonymous).await?);
    let reg = Registry::start(RegistryAuth::Token(issuer.clone()), None).await?;
    let both: &[&str] = &["pull", "push"];
    let access: Vec<(&str, &[&str])> = push_to.iter().map(|r| (*r, both)).collect();
    let token = issuer.mint("ci", &access)?;
    let push = Pusher::new(&reg.base_url(), Some(format!("Bearer {token}")), None)?;
    Ok((issuer, reg, push))
}

/// A token server the registry trusts (distribution's `auth.token`), signing ES256 JWTs with
/// the signing certificate in the `x5c` header. Served with axum on a free loopback port.
pub struct TokenIssuer {
    /// `service` the registry and tokens name.
    pub service: String,
    /// `iss` of the tokens.
    pub issuer: String,
    addr: SocketAddr,
    state: Arc<IssuerState>,
    task: tokio::task::JoinHandle<()>,
}

struct IssuerState {
    key: KeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
    users: Vec<TokenUser>,
    anonymous: Vec<(String, Vec<String>)>,
    service: String,
    issuer: String,
}

impl TokenIssuer {
    /// Starts an issuer for `users`; anonymous requests get `anonymous` grants.
    pub async fn start(
        users: Vec<TokenUser>,
        anonymous: Vec<(String, Vec<String>)>,
    ) -> anyhow::Result<Self> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "lastmile test token signer");
        let cert = params.self_signed(&key)?;
        let (service, issuer) = (
            "lastmile-test-registry".to_owned(),
            "lastmile-test-issuer".to_owned(),
        );
        let state = Arc::new(IssuerState {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            users,
            anonymous,
            service: service.clone(),
            issuer: issuer.clone(),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let s = state.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::get(
                move |headers: axum::http::HeaderMap,
                      q: axum::extract::Query<BTreeMap<String, String>>| {
                    let s = s.clone();
                    async move { token_endpoint(&s, &headers, &q.0) }
                },
            ),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            service,
            issuer,
            addr,
            state,
            task,
        })
    }

    /// The realm URL.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The signing certificate, PEM (the registry's `rootcertbundle`).
    pub fn cert_pem(&self) -> String {
        self.state.cert_pem.clone()
    }

    /// A token for `sub` with `access` = [(repository, actions)], minted directly (for pushes).
    pub fn mint(&self, sub: &str, access: &[(&str, &[&str])]) -> anyhow::Result<String> {
        let access: Vec<(String, Vec<String>)> = access
            .iter()
            .map(|(r, a)| (r.to_string(), a.iter().map(|s| s.to_string()).collect()))
            .collect();
        mint(&self.state, sub, &access)
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn token_endpoint(
    s: &IssuerState,
    headers: &axum::http::HeaderMap,
    q: &BTreeMap<String, String>,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let grants = match basic {
        Some(pair) => {
            let (u, p) = pair.split_once(':').unwrap_or((&pair, ""));
            match s.users.iter().find(|x| x.name == u && x.password == p) {
                Some(user) => user.grants.clone(),
                None => {
                    return (
                        StatusCode::UNAUTHORIZED,
                        r#"{"details":"invalid username or password"}"#.into(),
                    );
                }
            }
        }
        None => s.anonymous.clone(),
    };
    let sub = q.get("account").cloned().unwrap_or_default();
    let mut access = Vec::new();
    if let Some(scope) = q.get("scope") {
        // repository:<name>:<actions>
        let mut parts = scope.splitn(3, ':');
        if let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        {
            let granted: Vec<String> = actions
                .split(',')
                .filter(|a| {
                    grants
                        .iter()
                        .any(|(r, acts)| (r == name || r == "*") && acts.iter().any(|g| g == a))
                })
                .map(str::to_owned)
                .collect();
            access.push((name.to_owned(), granted));
        }
    }
    match mint(s, &sub, &access) {
        Ok(t) => (
            StatusCode::OK,
            serde_json::json!({"token": t, "access_token": t, "expires_in": 300}).to_string(),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn mint(s: &IssuerState, sub: &str, access: &[(String, Vec<String>)]) -> anyhow::Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let header =
        serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&s.cert_der)]});
    let claims = serde_json::json!({
        "iss": s.issuer, "sub": sub, "aud": s.service,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand_suffix()),
        "access": access.iter().map(|(n, a)| serde_json::json!({"type": "repository", "name": n, "actions": a})).collect::<Vec<_>>(),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
    );
    let der = s.key.sign(signing_input.as_bytes())?;
    let raw = ecdsa_der_to_raw(&der).context("unexpected ECDSA signature encoding")?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw)))
}

fn rand_suffix() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` → JWS's 64-byte `r || s`.
fn ecdsa_der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let mut i = 2;
    if *der.first()? != 0x30 {
        return None;
    }
    if der.get(1)? & 0x80 != 0 {
        i += usize::from(der.get(1)? & 0x7f);
    }
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        if *der.get(i)? != 0x02 {
            return None;
        }
        let len = usize::from(*der.get(i + 1)?);
        let int = der.get(i + 2..i + 2 + len)?;
        let int = if int.len() > 32 {
            &int[int.len() - 32..]
        } else {
            int
        };
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    Some(out)
}

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
