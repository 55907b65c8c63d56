//! A real OTLP trace receiver on the official protobuf definitions (opentelemetry-proto),
//! recording every span it receives.
//!
//! It serves, each on its own free loopback port, as a collector does:
//! - OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export` (tonic);
//! - OTLP/HTTP: `POST /v1/traces` with an `application/x-protobuf` body (axum + prost).
//!
//! Tests wait for spans by trace id and name with [`OtlpReceiver::wait_for_trace`]. Both
//! servers stop on `Drop`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
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

#[derive(Debug, Default)]
struct Recorded {
    spans: Mutex<Vec<ReceivedSpan>>,
    requests: Mutex<usize>,
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
async fn export_http(
    axum::extract::State(collector): axum::extract::State<Collector>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use prost::Message as _;
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
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            collector.record(request);
            let response = ExportTraceServiceResponse {
                partial_success: None,
            }
            .encode_to_vec();
            (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/x-protobuf")],
                response,
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("not an ExportTraceServiceRequest: {e}"),
        )
            .into_response(),
    }
}

/// A running OTLP/gRPC receiver.
#[derive(Debug)]
pub struct OtlpReceiver {
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
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the OTLP receiver")?;
        let addr = listener.local_addr()?;
        let recorded = Arc::new(Recorded::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let service = TraceServiceServer::new(Collector(recorded.clone()));
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let task = tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(service)
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
            .route("/v1/traces", axum::routing::post(export_http))
            .with_state(Collector(recorded.clone()));
        let http_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(http, app).await {
                eprintln!("otlp/http receiver stopped: {e}");
            }
        });
        Ok(Self {
            addr,
            http_addr,
            recorded,
            stop: Some(stop),
            task,
            http_task,
        })
    }

    /// The endpoint to give an OTLP/gRPC exporter: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Waits until the spans received satisfy `done`, then returns them all.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> anyhow::Result<Vec<ReceivedSpan>> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.recorded.changed.notified();
            let spans = self.spans();
            if done(&spans) {
                return Ok(spans);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let names: Vec<String> = spans
                    .iter()
                    .map(|s| format!("{} ({})", s.name, s.trace_id))
                    .collect();
                bail!("waited {timeout:?} for {what}; received: {names:?}");
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
