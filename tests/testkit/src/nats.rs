//! A real `nats-server` with JetStream, started on a free loopback port in a temp dir.
//!
//! The binary comes from `LASTMILE_NATS_SERVER`, else from the cache
//! `scripts/install-test-deps` fills (`$LASTMILE_TOOLS` or `~/.cache/lastmile/tools`,
//! `venv/bin/nats-server`). Debian's `/usr/sbin/nats-server` (2.9.10) is deliberately not
//! used: async-nats enables server features it does not have.
//!
//! The server is killed when the [`NatsServer`] is dropped. [`NatsServer::restart`] kills it
//! and starts it again on the same port with the same store directory, so tests can prove
//! that clients reconnect and that acknowledged work survives.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::tools::{find_binary, free_port, tools_dir};
use tempfile::TempDir;

/// Env var naming the nats-server binary.
pub const BINARY_ENV: &str = "LASTMILE_NATS_SERVER";

/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running nats-server with JetStream enabled.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    starts: u32,
    /// Extra server flags (TLS), kept across restarts.
    extra_args: Vec<String>,
}

/// TLS for a test server: PEM files the server reads.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The server certificate (must name 127.0.0.1).
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// When given, clients must present a certificate signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

impl NatsServer {
    /// Finds the nats-server binary (see the module docs).
    pub fn binary() -> anyhow::Result<PathBuf> {
        find_binary(
            BINARY_ENV,
            &tools_dir()?.join("venv/bin/nats-server"),
            "nats-server 2.15",
        )
    }

    /// Starts a server on a free loopback port with JetStream storing under a new temp dir,
    /// and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Vec::new()).await
    }

    /// Like [`NatsServer::start`], but clients must speak TLS (and, with `client_ca`, present
    /// a certificate). Connect with `tls://127.0.0.1:<port>` ([`NatsServer::tls_url`]).
    pub async fn start_tls(tls: &ServerTls) -> anyhow::Result<Self> {
        let mut args = vec![
            "--tls".to_owned(),
            "--tlscert".to_owned(),
            tls.cert.display().to_string(),
            "--tlskey".to_owned(),
            tls.key.display().to_string(),
        ];
        if let Some(ca) = &tls.client_ca {
            args.extend([
                "--tlsverify".to_owned(),
                "--tlscacert".to_owned(),
                ca.display().to_string(),
            ]);
        }
        Self::start_with(args).await
    }

    /// The TLS client URL, `tls://127.0.0.1:<port>`.
    pub fn tls_url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    async fn start_with(extra_args: Vec<String>) -> anyhow::Result<Self> {
        Self::start_on(free_port()?, extra_args).await
    }

    async fn start_on(port: u16, extra_args: Vec<String>) -> anyhow::Result<Self> {
        let binary = Self::binary()?;
        let dir = tempfile::Builder::new()
            .prefix("lastmile-nats-")
            .tempdir()
            .context("creating the NATS store dir")?;
        let mut server = Self {
            binary,
            dir,
            port,
            child: None,
            starts: 0,
            extra_args,
        };
        server.spawn().await?;
        Ok(server)
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on (stable across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server process's id while it runs (for reading its CPU time in benches).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The JetStream store directory (stable across restarts).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("jetstream")
    }

    /// Kills the server (SIGKILL: no graceful shutdown, like a crashed pod) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port with the same store dir.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn().await
    }

    /// Starts a killed server again on the same port with the same store dir (no-op when it
    /// is running). With [`NatsServer::kill`] it simulates an outage of any length.
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        self.spawn().await
    }

    /// Stops the process (SIGSTOP) without closing its sockets: to its peers and clients it
    /// looks like a network partition. [`NatsServer::unpause`] ends it.
    pub fn pause(&self) -> anyhow::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn unpause(&self) -> anyhow::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let child = self.child.as_ref().context("the server is not running")?;
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .context("running kill")?;
        anyhow::ensure!(status.success(), "kill {signal} failed: {status}");
        Ok(())
    }

    /// The server's log of its latest start, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path(self.starts)).unwrap_or_default()
    }

    fn log_path(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("nats-server.{start}.log"))
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let log = self.log_path(self.starts);
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store_dir())
            .arg("-l")
            .arg(&log)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        self.wait_ready(&log).await
    }

    async fn wait_ready(&mut self, log: &Path) -> anyhow::Result<()> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait().context("polling nats-server")?,
                None => None,
            };
            if let Some(status) = exited {
                bail!(
                    "nats-server exited with {status} before it was ready; log:\n{}",
                    self.log()
                );
            }
            let ready = std::fs::read_to_string(log).is_ok_and(|l| l.contains("Server is ready"));
            if ready && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = self.log();
                self.kill();
                bail!(
                    "nats-server did not accept connections on {addr} within {READY_TIMEOUT:?}; log:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Three `nats-server`s on loopback forming one JetStream cluster (routes between all of
/// them), as production runs NATS. Each member keeps its ports and store across restarts.
#[derive(Debug)]
pub struct NatsCluster {
    /// The members, `n0`, `n1`, `n2`.
    pub servers: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts three members and waits until each accepts clients. JetStream's meta leader
    /// is elected a moment later (lastmile's bus retries its first stream creation).
    ///
    /// The six ports are picked before any member starts, so another process can take one
    /// in between (an outgoing connection's ephemeral port): then the cluster is started
    /// again on fresh ports, a few times.
    pub async fn start() -> anyhow::Result<Self> {
        let mut attempt = 1;
        loop {
            match Self::start_once().await {
                Err(e) if attempt < 4 && format!("{e:#}").contains("address already in use") => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once() -> anyhow::Result<Self> {
        const MEMBERS: usize = 3;
        let client_ports: Vec<u16> = (0..MEMBERS)
            .map(|_| free_port())
            .collect::<Result<_, _>>()?;
        let route_ports: Vec<u16> = (0..MEMBERS)
            .map(|_| free_port())
            .collect::<Result<_, _>>()?;
        let routes = route_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut servers = Vec::new();
        for (i, (client, route)) in client_ports.iter().zip(&route_ports).enumerate() {
            let args = vec![
                "--name".to_owned(),
                format!("n{i}"),
                "--cluster_name".to_owned(),
                "lastmile".to_owned(),
                "--cluster".to_owned(),
                format!("nats://127.0.0.1:{route}"),
                "--routes".to_owned(),
                routes.clone(),
            ];
            servers.push(NatsServer::start_on(*client, args).await?);
        }
        Ok(Self { servers })
    }

    /// Every member's client URL, for a client that fails over between them.
    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().map(NatsServer::url).collect()
    }

    /// The member whose server name (`n0`…) is `name`.
    pub fn member(&mut self, name: &str) -> Option<&mut NatsServer> {
        let index: usize = name.strip_prefix('n')?.parse().ok()?;
        self.servers.get_mut(index)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
