//! The registry probe's instruments: `registry_health_status` (gauge, 1 healthy / 0 not) and
//! `registry_latency_seconds` (histogram), by registry `endpoint` and `operation`.
//!
//! Attributes are chosen so the gauge's series are stable: `endpoint`, `operation` and, for
//! manifest checks, `manifest` (`repository:tag`). The status code and the failure class vary
//! from one round to the next, so they go on the histogram only (a gauge series keyed by a
//! status would keep reporting its last value after the status changed). Hosts are the
//! registry's `host[:port]`, never a URL with credentials; every value still goes through
//! [`crate::redact`] on its way out.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Gauge, Histogram, Meter};

use super::redact_attributes;

/// Gauge name: 1 when the check passed, 0 when it failed.
pub const HEALTH_STATUS: &str = "registry_health_status";
/// Histogram name: how long each check took, in seconds.
pub const LATENCY_SECONDS: &str = "registry_latency_seconds";
/// Instrumentation scope of both instruments.
pub const SCOPE: &str = "lastmile.registry";

/// Latency bucket boundaries, seconds: registry round trips range from a few milliseconds
/// (same zone) to the request timeout (10 s by default, 30 s at most in practice).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What a check asked the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `GET /v2/`: the API version check (and the auth challenge).
    ApiVersion,
    /// A known manifest, through the full pull path (auth flow, HEAD/GET).
    Manifest,
    /// `GET /v2/_catalog`, where the registry allows it.
    Catalog,
}

impl Operation {
    /// The `operation` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiVersion => "api_version",
            Self::Manifest => "manifest",
            Self::Catalog => "catalog",
        }
    }
}

/// One check's outcome, as measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation<'a> {
    /// Registry `host[:port]`.
    pub endpoint: &'a str,
    /// What was checked.
    pub operation: Operation,
    /// For manifest checks: `repository:tag` (or `repository@digest`).
    pub manifest: Option<&'a str>,
    /// Whether the check passed.
    pub healthy: bool,
    /// HTTP status of the (last) answer, when there was one.
    pub status: Option<u16>,
    /// Failure class when the check failed (`image.network`, `image.not_found`, …).
    pub error: Option<&'a str>,
    /// How long the check took.
    pub latency: Duration,
}

/// The two instruments, created once per process.
#[derive(Debug, Clone)]
pub struct RegistryHealthMetrics {
    status: Gauge<u64>,
    latency: Histogram<f64>,
}

impl RegistryHealthMetrics {
    /// Creates the instruments on `meter`.
    pub fn new(meter: &Meter) -> Self {
        Self {
            status: meter
                .u64_gauge(HEALTH_STATUS)
                .with_description("1 when the registry check passed, 0 when it failed")
                .with_unit("1")
                .build(),
            latency: meter
                .f64_histogram(LATENCY_SECONDS)
                .with_description("How long a registry check took")
                .with_unit("s")
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build(),
        }
    }

    /// Records one check.
    pub fn record(&self, o: &Observation<'_>) {
        self.status
            .record(u64::from(o.healthy), &status_attributes(o));
        self.latency
            .record(o.latency.as_secs_f64(), &latency_attributes(o));
    }
}

/// The gauge's attributes: stable per check (see the module docs).
pub fn status_attributes(o: &Observation<'_>) -> Vec<KeyValue> {
    let mut kvs = series(o);
    redact_attributes(&mut kvs);
    kvs
}

/// The histogram's attributes: the gauge's plus the HTTP status or the failure class.
pub fn latency_attributes(o: &Observation<'_>) -> Vec<KeyValue> {
    let mut kvs = series(o);
    if let Some(s) = o.status {
        kvs.push(KeyValue::new("http.response.status_code", i64::from(s)));
    }
    if let Some(e) = o.error.filter(|_| !o.healthy) {
        kvs.push(KeyValue::new("error.type", e.to_owned()));
    }
    redact_attributes(&mut kvs);
    kvs
}

/// What identifies one check's series, before redaction.
fn series(o: &Observation<'_>) -> Vec<KeyValue> {
    let mut kvs = vec![
        KeyValue::new("endpoint", o.endpoint.to_owned()),
        KeyValue::new("operation", o.operation.as_str()),
    ];
    if let Some(m) = o.manifest {
        kvs.push(KeyValue::new("manifest", m.to_owned()));
    }
    kvs
}

#[cfg(test)]
mod tests;
