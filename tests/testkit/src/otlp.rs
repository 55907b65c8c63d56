//! A real OTLP receiver on the official protobuf definitions (opentelemetry-proto),
//! recording every span and every metric data point it receives.
//!
//! It serves, each on its own free loopback port, as a collector does:
//! - OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export` and
//!   `opentelemetry.proto.collector.metrics.v1.MetricsService/Export` (tonic);
//! - OTLP/HTTP: `POST /v1/traces` and `POST /v1/metrics` with an `application/x-protobuf`
//!   body (axum + prost).
//!
//! Tests wait for spans by trace id and name with [`OtlpReceiver::wait_for_trace`], and for
//! metrics with [`OtlpReceiver::wait_for_metrics`]. Both servers stop on `Drop`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod export;
mod received;

use export::{export_metrics_http, export_traces_http};
use received::{Collector, Recorded};
pub use received::{PointKind, ReceivedPoint, ReceivedSpan};

/// A running OTLP/gRPC receiver.
#[derive(Debug)]
pub struct OtlpReceiver {
    scheme: &'static str,
    addr: SocketAddr,
    http_addr: SocketAddr,
    recorded: Arc<Recorded>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    http_task: JoinHandle<()>,
}

impl OtlpReceiver {
    /// Starts the receiver on free loopback ports (bound before this returns, so exporters
    /// can connect at once).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(None).await
    }

    /// Like [`OtlpReceiver::start`], but the gRPC receiver serves TLS with `cert_pem` /
    /// `key_pem` (the certificate must name 127.0.0.1); with `client_ca_pem`, exporters must
    /// present a certificate signed by it. Its endpoint is `https://…` ([`Self::endpoint`]).
    pub async fn start_tls(
        cert_pem: &str,
        key_pem: &str,
        client_ca_pem: Option<&str>,
    ) -> anyhow::Result<Self> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem));
        if let Some(ca) = client_ca_pem {
            tls = tls.client_ca_root(Certificate::from_pem(ca));
        }
        Self::start_with(Some(tls)).await
    }

    async fn start_with(tls: Option<tonic::transport::ServerTlsConfig>) -> anyhow::Result<Self> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the OTLP receiver")?;
        let addr = listener.local_addr()?;
        let recorded = Arc::new(Recorded::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let service = TraceServiceServer::new(Collector(recorded.clone()));
        let metrics_service = MetricsServiceServer::new(Collector(recorded.clone()));
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let task = tokio::spawn(async move {
            let mut builder = tonic::transport::Server::builder();
            if let Some(tls) = tls {
                builder = match builder.tls_config(tls) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("otlp receiver: bad TLS configuration: {e}");
                        return;
                    }
                };
            }
            let served = builder
                .add_service(service)
                .add_service(metrics_service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("otlp receiver stopped: {e}");
            }
        });
        let http = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the OTLP/HTTP receiver")?;
        let http_addr = http.local_addr()?;
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(export_traces_http))
            .route("/v1/metrics", axum::routing::post(export_metrics_http))
            .with_state(Collector(recorded.clone()));
        let http_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(http, app).await {
                eprintln!("otlp/http receiver stopped: {e}");
            }
        });
        Ok(Self {
            scheme,
            addr,
            http_addr,
            recorded,
            stop: Some(stop),
            task,
            http_task,
        })
    }

    /// The endpoint to give an OTLP/gRPC exporter: `http://127.0.0.1:<port>` (`https://`
    /// when started with TLS).
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The base endpoint of the OTLP/HTTP receiver (`OTEL_EXPORTER_OTLP_ENDPOINT` form:
    /// exporters append `/v1/traces`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The full OTLP/HTTP traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` form).
    pub fn http_traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.http_addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.recorded
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many export requests arrived.
    pub fn requests(&self) -> usize {
        *self
            .recorded
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Every metric data point received so far, in arrival order.
    pub fn metrics(&self) -> Vec<ReceivedPoint> {
        self.recorded
            .points
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many metric export requests arrived.
    pub fn metric_requests(&self) -> usize {
        *self
            .recorded
            .metric_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the spans received satisfy `done`, then returns them all.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> anyhow::Result<Vec<ReceivedSpan>> {
        self.wait(
            timeout,
            what,
            || self.spans(),
            done,
            |s| format!("{} ({})", s.name, s.trace_id),
        )
        .await
    }

    /// Waits until the metric data points received satisfy `done`, then returns them all.
    pub async fn wait_for_metrics(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[ReceivedPoint]) -> bool,
    ) -> anyhow::Result<Vec<ReceivedPoint>> {
        self.wait(
            timeout,
            what,
            || self.metrics(),
            done,
            |p| format!("{} {:?}", p.name, p.attributes),
        )
        .await
    }

    async fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        received: impl Fn() -> Vec<T>,
        done: impl Fn(&[T]) -> bool,
        describe: impl Fn(&T) -> String,
    ) -> anyhow::Result<Vec<T>> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.recorded.changed.notified();
            let items = received();
            if done(&items) {
                return Ok(items);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let seen: Vec<String> = items.iter().map(describe).collect();
                bail!("waited {timeout:?} for {what}; received: {seen:?}");
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    /// Waits until spans named each of `names` arrived in trace `trace_id`, and returns
    /// that trace's spans.
    pub async fn wait_for_trace(
        &self,
        trace_id: &str,
        names: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<Vec<ReceivedSpan>> {
        let what = format!("spans {names:?} in trace {trace_id}");
        let spans = self
            .wait_until(timeout, &what, |spans| {
                names
                    .iter()
                    .all(|n| spans.iter().any(|s| s.trace_id == trace_id && s.name == *n))
            })
            .await?;
        Ok(spans
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect())
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
        self.http_task.abort();
    }
}
