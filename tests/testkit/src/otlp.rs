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

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// One received span, flattened for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// Trace id, 32 hex digits.
    pub trace_id: String,
    /// Span id, 16 hex digits.
    pub span_id: String,
    /// Parent span id, 16 hex digits; empty for a root span.
    pub parent_span_id: String,
    /// Span name.
    pub name: String,
    /// Span kind (OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Span attributes, values rendered as strings.
    pub attributes: BTreeMap<String, String>,
    /// Resource attributes of the exporting process (`service.name`, …).
    pub resource: BTreeMap<String, String>,
    /// Names of the span's events.
    pub events: Vec<String>,
}

impl ReceivedSpan {
    /// An attribute value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// What kind of metric a data point belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointKind {
    /// Last value.
    Gauge,
    /// Counter or up-down counter.
    Sum,
    /// Explicit-bucket histogram.
    Histogram,
    /// Exponential histogram or summary (not flattened further).
    Other,
}

/// One received metric data point, flattened for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPoint {
    /// Metric name.
    pub name: String,
    /// Metric unit (`s`, `1`, …).
    pub unit: String,
    /// Instrumentation scope name.
    pub scope: String,
    /// Kind of metric.
    pub kind: PointKind,
    /// Data point attributes, values rendered as strings.
    pub attributes: BTreeMap<String, String>,
    /// Resource attributes of the exporting process.
    pub resource: BTreeMap<String, String>,
    /// Gauge or sum value.
    pub value: Option<f64>,
    /// Histogram: number of measurements.
    pub count: u64,
    /// Histogram: sum of measurements.
    pub sum: Option<f64>,
    /// Histogram: explicit bucket boundaries.
    pub bounds: Vec<f64>,
    /// Histogram: count per bucket (one more than `bounds`).
    pub bucket_counts: Vec<u64>,
    /// Time of the point, Unix nanoseconds.
    pub time_unix_nano: u64,
}

impl ReceivedPoint {
    /// An attribute value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct Recorded {
    spans: Mutex<Vec<ReceivedSpan>>,
    requests: Mutex<usize>,
    points: Mutex<Vec<ReceivedPoint>>,
    metric_requests: Mutex<usize>,
    changed: Notify,
}

#[derive(Debug, Clone)]
struct Collector(Arc<Recorded>);

impl Collector {
    fn record(&self, request: ExportTraceServiceRequest) {
        let mut flat = Vec::new();
        for rs in request.resource_spans {
            let resource = rs
                .resource
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    flat.push(ReceivedSpan {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        name: span.name,
                        kind: span.kind,
                        attributes: attributes(&span.attributes),
                        resource: resource.clone(),
                        events: span.events.into_iter().map(|e| e.name).collect(),
                    });
                }
            }
        }
        self.0
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(flat);
        *self
            .0
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.changed.notify_waiters();
    }

    fn record_metrics(&self, request: ExportMetricsServiceRequest) {
        let mut flat = Vec::new();
        for rm in request.resource_metrics {
            let resource = rm
                .resource
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            for sm in rm.scope_metrics {
                let scope = sm.scope.map(|s| s.name).unwrap_or_default();
                for m in sm.metrics {
                    let point = |kind, attrs: &[KeyValue], time| ReceivedPoint {
                        name: m.name.clone(),
                        unit: m.unit.clone(),
                        scope: scope.clone(),
                        kind,
                        attributes: attributes(attrs),
                        resource: resource.clone(),
                        value: None,
                        count: 0,
                        sum: None,
                        bounds: Vec::new(),
                        bucket_counts: Vec::new(),
                        time_unix_nano: time,
                    };
                    let number =
                        |kind, dp: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint| {
                            ReceivedPoint {
                                value: dp.value.map(|v| match v {
                                    number_data_point::Value::AsDouble(d) => d,
                                    number_data_point::Value::AsInt(i) => i as f64,
                                }),
                                ..point(kind, &dp.attributes, dp.time_unix_nano)
                            }
                        };
                    match &m.data {
                        Some(metric::Data::Gauge(g)) => {
                            flat.extend(g.data_points.iter().map(|dp| number(PointKind::Gauge, dp)))
                        }
                        Some(metric::Data::Sum(g)) => {
                            flat.extend(g.data_points.iter().map(|dp| number(PointKind::Sum, dp)))
                        }
                        Some(metric::Data::Histogram(h)) => {
                            flat.extend(h.data_points.iter().map(|dp| ReceivedPoint {
                                count: dp.count,
                                sum: dp.sum,
                                bounds: dp.explicit_bounds.clone(),
                                bucket_counts: dp.bucket_counts.clone(),
                                ..point(PointKind::Histogram, &dp.attributes, dp.time_unix_nano)
                            }))
                        }
                        _ => flat.push(point(PointKind::Other, &[], 0)),
                    }
                }
            }
        }
        self.0
            .points
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(flat);
        *self
            .0
            .metric_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.changed.notify_waiters();
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.record_metrics(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.record(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// `POST /v1/traces`: a protobuf `ExportTraceServiceRequest` in, a protobuf response out.
async fn export_traces_http(
    axum::extract::State(collector): axum::extract::State<Collector>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    export_http(
        &headers,
        body,
        |r| collector.record(r),
        ExportTraceServiceResponse {
            partial_success: None,
        },
    )
}

/// `POST /v1/metrics`: a protobuf `ExportMetricsServiceRequest` in, a protobuf response out.
async fn export_metrics_http(
    axum::extract::State(collector): axum::extract::State<Collector>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    export_http(
        &headers,
        body,
        |r| collector.record_metrics(r),
        ExportMetricsServiceResponse {
            partial_success: None,
        },
    )
}

/// An OTLP/HTTP export: checks the content type, decodes the request, records it, answers
/// with the protobuf response.
fn export_http<Req: prost::Message + Default, Resp: prost::Message>(
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
    record: impl FnOnce(Req),
    response: Resp,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let protobuf = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-protobuf"));
    if !protobuf {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "only application/x-protobuf",
        )
            .into_response();
    }
    match Req::decode(body) {
        Ok(request) => {
            record(request);
            (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/x-protobuf")],
                response.encode_to_vec(),
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("not an OTLP export request: {e}"),
        )
            .into_response(),
    }
}

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(render).unwrap_or_default(),
            )
        })
        .collect()
}

fn render(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex(b),
        Some(any_value::Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(render).collect();
            format!("[{}]", items.join(","))
        }
        Some(any_value::Value::KvlistValue(kv)) => format!("{:?}", attributes(&kv.values)),
        _ => String::new(),
    }
}
