//! A real S3-compatible server (`s3s-fs`) on a free loopback port, serving a temp dir.
//!
//! The binary comes from `LASTMILE_S3S_FS`, else from the cache `scripts/install-test-deps`
//! fills (`$LASTMILE_TOOLS` or `~/.cache/lastmile/tools`, `bin/s3s-fs`). s3s-fs serves each
//! top-level directory of its root as a bucket and checks SigV4 signatures against the one
//! access key / secret key pair it is started with, so tests can prove that bad
//! credentials are refused. The server is killed when the [`S3Server`] is dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::tools::{find_binary, free_port, tools_dir};
use tempfile::TempDir;

/// Env var naming the s3s-fs binary.
pub const BINARY_ENV: &str = "LASTMILE_S3S_FS";

/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running s3s-fs.
#[derive(Debug)]
pub struct S3Server {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// Finds the s3s-fs binary (see the module docs).
    pub fn binary() -> anyhow::Result<PathBuf> {
        find_binary(BINARY_ENV, &tools_dir()?.join("bin/s3s-fs"), "s3s-fs")
    }

    /// Starts a server on a free loopback port with its own data directory and a fresh
    /// access key / secret key pair, and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = Self::binary()?;
        let dir = tempfile::Builder::new()
            .prefix("lastmile-s3-")
            .tempdir()
            .context("creating the S3 data dir")?;
        std::fs::create_dir(dir.path().join("data")).context("creating the S3 root")?;
        let port = free_port()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let nonce = format!("{:x}{nanos:x}", std::process::id());
        let access_key = format!("LMTEST{port}");
        let secret_key = format!("lastmile-test-secret-{nonce}");
        let log =
            std::fs::File::create(dir.path().join("s3s-fs.log")).context("creating the S3 log")?;
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("cloning the log handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Self {
            dir,
            port,
            child: Some(child),
            access_key,
            secret_key,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The access key the server accepts.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key the server accepts.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The directory the server serves (one sub-directory per bucket).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Creates a bucket (a directory under the root, as s3s-fs stores them).
    pub fn create_bucket(&self, name: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(self.root().join(name))
            .with_context(|| format!("creating bucket {name}"))
    }

    /// Every regular file under the root, with its bytes: what the server really stored.
    pub fn stored_files(&self) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut stack = vec![self.root()];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
            {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    out.push((path, bytes));
                }
            }
        }
        Ok(out)
    }

    /// An AWS SDK configuration with this server's credentials (static, region us-east-1),
    /// so clients in tests never consult the ambient AWS credential chain.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        Self::sdk_config_with(self.access_key(), self.secret_key())
    }

    /// An AWS SDK configuration with the given static credentials (region us-east-1), e.g.
    /// wrong ones to prove they are refused.
    pub fn sdk_config_with(access_key: &str, secret_key: &str) -> aws_config::SdkConfig {
        let credentials = aws_sdk_s3::config::Credentials::new(
            access_key,
            secret_key,
            None,
            None,
            "lastmile-test",
        );
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .build()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("s3s-fs.log")).unwrap_or_default()
    }

    /// Stops the server now (clients then see connection refused).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().context("polling s3s-fs")?
            {
                bail!(
                    "s3s-fs exited with {status} before it was ready; log:\n{}",
                    self.log()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = self.log();
                self.kill();
                bail!(
                    "s3s-fs did not accept connections on {addr} within {READY_TIMEOUT:?}; log:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
