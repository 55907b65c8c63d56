//! `lastmile admission`: a ValidatingAdmissionWebhook applying `lastmile-lint`'s per-object
//! rules to Pods and workload templates as they are created or updated.
//!
//! HTTPS only (the API server calls webhooks over TLS): rustls on the process's one provider,
//! the certificate and key re-read when their files change (cert-manager rotates them in
//! place). TLS handshakes run in their own tasks, bounded, so a slow client holds no one else
//! up, and a connection silent for a minute is closed. `POST /validate` decides with `--mode` and the per-namespace overrides;
//! `/validate/warn` and `/validate/deny` force a mode (one webhook entry per namespace
//! selector, see `infra/admission/`). The check runs under `--handler-timeout`; past it the
//! request is admitted with a warning saying it was not checked (fail open at the handler;
//! the API server's `failurePolicy` decides when the webhook cannot be reached at all).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lastmile_lint::Config;
use lastmile_lint::admission::{self, Mode};
use lastmile_runtime::bus::nats::parse_duration;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Largest AdmissionReview accepted (an object and its old version, each up to etcd's limit).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that sends nothing for this long is closed (a client trickling a request,
/// or an idle keep-alive the API server will reopen).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Mode of the webhook (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Admit everything; findings become admission warnings.
    Warn,
    /// Refuse objects with error findings.
    Deny,
}

/// Serve the admission webhook.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "LASTMILE_ADMISSION_LISTEN",
        default_value = "0.0.0.0:8443"
    )]
    pub listen: SocketAddr,
    /// Server certificate chain (PEM).
    #[arg(
        long,
        env = "LASTMILE_ADMISSION_TLS_CERT",
        default_value = "/tls/tls.crt"
    )]
    pub tls_cert: PathBuf,
    /// Server private key (PEM).
    #[arg(
        long,
        env = "LASTMILE_ADMISSION_TLS_KEY",
        default_value = "/tls/tls.key"
    )]
    pub tls_key: PathBuf,
    /// Mode for namespaces not listed below.
    #[arg(
        long,
        value_enum,
        env = "LASTMILE_ADMISSION_MODE",
        default_value = "warn"
    )]
    pub mode: ModeArg,
    /// Namespaces in deny mode; repeatable or comma-separated.
    #[arg(
        long = "deny-namespace",
        env = "LASTMILE_ADMISSION_DENY_NAMESPACES",
        value_delimiter = ','
    )]
    pub deny_namespaces: Vec<String>,
    /// Namespaces in warn mode (with `--mode deny`); repeatable or comma-separated.
    #[arg(
        long = "warn-namespace",
        env = "LASTMILE_ADMISSION_WARN_NAMESPACES",
        value_delimiter = ','
    )]
    pub warn_namespaces: Vec<String>,
    /// Registries init containers may pull from; empty: not checked.
    #[arg(
        long = "allowed-registry",
        env = "LASTMILE_ALLOWED_REGISTRIES",
        value_delimiter = ','
    )]
    pub allowed_registries: Vec<String>,
    /// Longest one check may take before the request is admitted unchecked (keep it below
    /// the webhook's `timeoutSeconds`).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub handler_timeout: Duration,
}

struct Shared {
    args: Args,
    config: Config,
}

impl Shared {
    fn mode_for(&self, namespace: &str) -> Mode {
        let listed = |l: &[String]| l.iter().any(|n| n == namespace);
        match self.args.mode {
            ModeArg::Warn if listed(&self.args.deny_namespaces) => Mode::Deny,
            ModeArg::Deny if listed(&self.args.warn_namespaces) => Mode::Warn,
            ModeArg::Warn => Mode::Warn,
            ModeArg::Deny => Mode::Deny,
        }
    }
}

/// Runs the webhook until SIGTERM or Ctrl-C.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let certs = CertFiles::new(args.tls_cert.clone(), args.tls_key.clone());
    certs
        .acceptor()
        .context("cannot load the TLS certificate")?;
    let tcp = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = tcp.local_addr()?;
    let config = Config {
        allowed_registries: args.allowed_registries.clone(),
        ..Config::default()
    };
    let shared = Arc::new(Shared { args, config });
    let app = Router::new()
        .route("/validate", post(validate_default))
        .route("/validate/{mode}", post(validate_forced))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared);
    eprintln!("lastmile admission: listening on https://{local}");
    axum::serve(TlsListener::start(tcp, certs), app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("the HTTPS server stopped")?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn validate_default(State(s): State<Arc<Shared>>, body: Json<Value>) -> Response {
    let mode = s.mode_for(admission::namespace_of(&body));
    decide(s, mode, body.0).await
}

async fn validate_forced(
    State(s): State<Arc<Shared>>,
    Path(mode): Path<String>,
    body: Json<Value>,
) -> Response {
    let mode = match mode.as_str() {
        "warn" => Mode::Warn,
        "deny" => Mode::Deny,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                "unknown mode: use /validate/warn or /validate/deny",
            )
                .into_response();
        }
    };
    decide(s, mode, body.0).await
}

/// Decides on a blocking thread under the handler deadline.
async fn decide(s: Arc<Shared>, mode: Mode, review: Value) -> Response {
    let uid = review["request"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deadline = s.args.handler_timeout;
    let check = tokio::task::spawn_blocking(move || admission::review(&review, mode, &s.config));
    match tokio::time::timeout(deadline, check).await {
        Ok(Ok(Ok(response))) => Json(response).into_response(),
        Ok(Ok(Err(bad))) => (StatusCode::BAD_REQUEST, bad.to_string()).into_response(),
        Ok(Err(_panicked)) => {
            Json(admission::admit_unchecked(&uid, "the check failed")).into_response()
        }
        Err(_) => Json(admission::admit_unchecked(
            &uid,
            &format!("the check took longer than {deadline:?}"),
        ))
        .into_response(),
    }
}

/// The certificate and key files, re-read when either changes.
#[derive(Clone)]
struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl CertFiles {
    fn new(cert: PathBuf, key: PathBuf) -> Self {
        Self { cert, key }
    }

    fn stamp(&self) -> Option<(SystemTime, SystemTime)> {
        let m = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Some((m(&self.cert)?, m(&self.key)?))
    }

    fn acceptor(&self) -> anyhow::Result<TlsAcceptor> {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|c| c.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("{}: no PEM certificate", self.cert.display()))?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .with_context(|| format!("{}: no PEM private key", self.key.display()))?;
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .context("the certificate and key do not form a usable pair")?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Accepts TCP connections and hands finished TLS handshakes to axum.
struct TlsListener {
    ready: mpsc::Receiver<(Idle<TlsStream<TcpStream>>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn start(tcp: TcpListener, certs: CertFiles) -> Self {
        let local = tcp
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut stamp = certs.stamp();
            let mut acceptor = certs.acceptor().ok();
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let now = certs.stamp();
                if now != stamp {
                    match certs.acceptor() {
                        Ok(a) => {
                            acceptor = Some(a);
                            stamp = now;
                            eprintln!("lastmile admission: TLS certificate reloaded");
                        }
                        Err(e) => {
                            eprintln!("lastmile admission: keeping the old certificate: {e:#}")
                        }
                    }
                }
                let (Some(acceptor), tx) = (acceptor.clone(), tx.clone()) else {
                    continue;
                };
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        let _ = tx.send((Idle::new(tls), peer)).await;
                    }
                });
            }
        });
        Self { ready, local }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Idle<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task ended (cannot happen while the listener lives): serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// A stream whose reads fail with `TimedOut` after [`IDLE_TIMEOUT`] without data, so hyper
/// (which has no request-header timeout of its own here) lets go of silent clients.
struct Idle<S> {
    inner: S,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<S> Idle<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            timer: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Idle<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::future::Future as _;
        use std::task::Poll;
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.timer
                    .as_mut()
                    .reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                Poll::Ready(r)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no data from the client",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Idle<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
