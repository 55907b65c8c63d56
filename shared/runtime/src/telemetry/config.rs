//! What to set up, from the standard `OTEL_*` environment (see the module docs of
//! [`super`]).

use super::TelemetryError;
use crate::error::Detail;

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
            other => Err(TelemetryError::Config(
                format!("OTLP protocol {other:?} is not supported (use grpc or http/protobuf)")
                    .into(),
            )),
        }
    }
}

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// gRPC or HTTP/protobuf (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`).
    pub protocol: OtlpProtocol,
    /// Explicit endpoint (gRPC: `http://host:4317`; HTTP: the full `…/v1/traces` URL).
    /// `None` lets the SDK read `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`.
    pub endpoint: Option<String>,
    /// TLS beyond the system roots: a private CA, a client certificate (gRPC).
    pub tls: OtlpTls,
}

/// TLS for an OTLP/gRPC exporter (`https://` endpoints), from the standard variables
/// `OTEL_EXPORTER_OTLP_[<SIGNAL>_]CERTIFICATE`, `…_CLIENT_CERTIFICATE` and `…_CLIENT_KEY`
/// (PEM files). Without them an `https://` endpoint is verified against the system roots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtlpTls {
    /// The endpoint the SDK will read from the environment is `https://`.
    pub https: bool,
    /// PEM file of the CA that signed the collector's certificate.
    pub ca: Option<std::path::PathBuf>,
    /// PEM client certificate for mutual TLS (with `client_key`).
    pub client_cert: Option<std::path::PathBuf>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<std::path::PathBuf>,
}

impl OtlpTls {
    /// True when nothing beyond the defaults is configured.
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// True when the exporter must speak TLS with this configuration: an `https://`
    /// endpoint (given or from the environment) or any certificate file.
    pub fn applies_to(&self, endpoint: Option<&str>) -> bool {
        !self.is_default() || endpoint.is_some_and(|e| e.starts_with("https://"))
    }

    /// The tonic client configuration: system roots plus the CA, and the client identity.
    pub(crate) fn client_config(
        &self,
    ) -> Result<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig, TelemetryError> {
        use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
        let read = |what: &str, path: &std::path::Path| {
            std::fs::read(path).map_err(|e| {
                TelemetryError::Config(Detail::caused_by(
                    format!("cannot read the OTLP {what} {}: {e}", path.display()),
                    e,
                ))
            })
        };
        crate::tls::install_crypto_provider();
        let mut config = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &self.ca {
            config = config.ca_certificate(Certificate::from_pem(read("CA certificate", ca)?));
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                config = config.identity(Identity::from_pem(
                    read("client certificate", cert)?,
                    read("client key", key)?,
                ));
            }
            (None, None) => {}
            _ => {
                return Err(TelemetryError::Config(
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY go together"
                        .into(),
                ));
            }
        }
        Ok(config)
    }
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
    /// Spans (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_TRACES_*`).
    Traces,
    /// Metrics (`OTEL_METRICS_EXPORTER`, `OTEL_EXPORTER_OTLP_METRICS_*`).
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
            return Err(TelemetryError::Config(
                format!("{exporter_var}={other:?} is not supported (use otlp or none)").into(),
            ));
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
    let file = |suffix: &str| {
        set(&format!("OTEL_EXPORTER_OTLP_{name}_{suffix}"))
            .or_else(|| set(&format!("OTEL_EXPORTER_OTLP_{suffix}")))
            .map(std::path::PathBuf::from)
    };
    let https = set(&format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT"))
        .or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .is_some_and(|e| e.trim().starts_with("https://"));
    let tls = OtlpTls {
        https,
        ca: file("CERTIFICATE"),
        client_cert: file("CLIENT_CERTIFICATE"),
        client_key: file("CLIENT_KEY"),
    };
    if (tls.ca.is_some() || tls.client_cert.is_some() || tls.client_key.is_some())
        && protocol != OtlpProtocol::Grpc
    {
        return Err(TelemetryError::Config(
            "OTEL_EXPORTER_OTLP_*CERTIFICATE/CLIENT_KEY are supported with OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
                .into(),
        ));
    }
    Ok(Some(OtlpConfig {
        protocol,
        endpoint: None,
        tls,
    }))
}
