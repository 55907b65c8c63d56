//! What to set up, from the standard `OTEL_*` environment (see the module docs of
//! [`super`]).

use super::TelemetryError;

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (tonic), default port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies, default port 4318.
    HttpProtobuf,
}

impl std::str::FromStr for OtlpProtocol {
    type Err = TelemetryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "grpc" => Ok(Self::Grpc),
            "http/protobuf" => Ok(Self::HttpProtobuf),
            other => Err(TelemetryError::Config(format!(
                "OTLP protocol {other:?} is not supported (use grpc or http/protobuf)"
            ))),
        }
    }
}

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// Transport.
    pub protocol: OtlpProtocol,
    /// Explicit endpoint (gRPC: `http://host:4317`; HTTP: the full `…/v1/traces` URL).
    /// `None` lets the SDK read `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`.
    pub endpoint: Option<String>,
}

/// What [`init`](super::init) sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name` used when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES`
    /// names the service.
    pub service_name: String,
    /// Span export; `None` keeps spans in-process (trace context still propagates).
    pub otlp: Option<OtlpConfig>,
    /// Log filter directives (`EnvFilter` syntax).
    pub log_filter: String,
    /// JSON log lines instead of human-readable ones.
    pub json_logs: bool,
}

impl TelemetryConfig {
    /// Reads the process environment (see the module docs).
    pub fn from_env(service_name: &str) -> Result<Self, TelemetryError> {
        Self::from_lookup(service_name, |k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`] with an explicit variable lookup (tests, embedding).
    pub fn from_lookup(
        service_name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let otlp = otlp_from_lookup(Signal::Traces, &var)?;
        let log_filter = set("LASTMILE_LOG")
            .or_else(|| set("RUST_LOG"))
            .unwrap_or_else(|| "info".to_owned());
        let json_logs = set("LASTMILE_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Ok(Self {
            service_name: service_name.to_owned(),
            otlp,
            log_filter,
            json_logs,
        })
    }
}

/// An OTLP signal: each has its own `OTEL_<SIGNAL>_EXPORTER` and
/// `OTEL_EXPORTER_OTLP_<SIGNAL>_{ENDPOINT,PROTOCOL}` overrides of the shared variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
}

impl Signal {
    fn env_name(self) -> &'static str {
        match self {
            Self::Traces => "TRACES",
            Self::Metrics => "METRICS",
        }
    }
}

/// Whether and how `signal` is exported, from the standard `OTEL_*` variables: on when
/// `OTEL_<SIGNAL>_EXPORTER=otlp` or an endpoint (shared or signal-specific) is set, off with
/// `OTEL_<SIGNAL>_EXPORTER=none`; protocol from the signal-specific variable, else the shared
/// one, else `http/protobuf` (the spec's default).
pub(crate) fn otlp_from_lookup(
    signal: Signal,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpConfig>, TelemetryError> {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let name = signal.env_name();
    let exporter_var = format!("OTEL_{name}_EXPORTER");
    let exporter = set(&exporter_var).map(|v| v.trim().to_ascii_lowercase());
    let enabled = match exporter.as_deref() {
        Some("none") => false,
        Some("otlp") => true,
        Some(other) => {
            return Err(TelemetryError::Config(format!(
                "{exporter_var}={other:?} is not supported (use otlp or none)"
            )));
        }
        None => {
            set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
                || set(&format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT")).is_some()
        }
    };
    if !enabled {
        return Ok(None);
    }
    let protocol = set(&format!("OTEL_EXPORTER_OTLP_{name}_PROTOCOL"))
        .or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(OtlpProtocol::HttpProtobuf);
    Ok(Some(OtlpConfig {
        protocol,
        endpoint: None,
    }))
}
