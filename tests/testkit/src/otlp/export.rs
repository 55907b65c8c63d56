//! The two ways in: OTLP/gRPC services (tonic) and OTLP/HTTP handlers (axum + prost), both
//! recording into the same [`Collector`].

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsService;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use super::received::Collector;

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
pub(super) async fn export_traces_http(
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
pub(super) async fn export_metrics_http(
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
