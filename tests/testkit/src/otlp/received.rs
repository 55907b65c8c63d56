//! What the receiver records: spans and metric data points flattened for assertions, and
//! the collector that flattens export requests into them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use tokio::sync::Notify;

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
    /// Start time, nanoseconds since the Unix epoch.
    pub start_unix_nano: u64,
    /// End time, nanoseconds since the Unix epoch.
    pub end_unix_nano: u64,
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

/// Everything received, and a notification on every change.
#[derive(Debug, Default)]
pub(super) struct Recorded {
    pub(super) spans: Mutex<Vec<ReceivedSpan>>,
    pub(super) requests: Mutex<usize>,
    pub(super) points: Mutex<Vec<ReceivedPoint>>,
    pub(super) metric_requests: Mutex<usize>,
    pub(super) changed: Notify,
}

/// Flattens export requests into a [`Recorded`].
#[derive(Debug, Clone)]
pub(super) struct Collector(pub(super) Arc<Recorded>);

impl Collector {
    pub(super) fn record(&self, request: ExportTraceServiceRequest) {
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
                        start_unix_nano: span.start_time_unix_nano,
                        end_unix_nano: span.end_time_unix_nano,
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

    pub(super) fn record_metrics(&self, request: ExportMetricsServiceRequest) {
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
