//! Flushing and shutting down: the one owner of an SDK provider (spans or metrics), bounded
//! by [`FLUSH_TIMEOUT`] and run off the runtime's threads.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::{FLUSH_TIMEOUT, TelemetryError};

/// Flushes buffered spans; shuts the exporter down on drop.
#[derive(Debug)]
pub struct TelemetryGuard(pub(super) Exporting<SdkTracerProvider>);

impl TelemetryGuard {
    /// A guard with nothing to flush (hosts in tests, telemetry set up elsewhere).
    pub fn disabled() -> Self {
        Self(Exporting::new(None, false))
    }

    /// True when spans are exported over OTLP.
    pub fn is_exporting(&self) -> bool {
        self.0.is_exporting()
    }

    /// Exports every finished span now. Lambda calls this after each invocation.
    pub async fn flush(&self) -> Result<(), TelemetryError> {
        self.0.flush().await
    }

    /// Flushes and stops the exporter.
    pub async fn shutdown(self) -> Result<(), TelemetryError> {
        self.0.shutdown().await
    }
}

/// An SDK provider (spans or metrics) whose exporter is flushed and shut down by
/// [`Exporting`].
pub(crate) trait SdkProvider: Clone + Send + std::fmt::Debug + 'static {
    /// Exports everything buffered now (blocking).
    fn flush_now(&self) -> OTelSdkResult;
    /// Exports what is left and stops the exporter (blocking, bounded by `timeout`).
    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult;
}

impl SdkProvider for SdkTracerProvider {
    fn flush_now(&self) -> OTelSdkResult {
        self.force_flush()
    }

    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}

impl SdkProvider for opentelemetry_sdk::metrics::SdkMeterProvider {
    fn flush_now(&self) -> OTelSdkResult {
        self.force_flush()
    }

    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}

/// Owns a provider: flushes it on demand and shuts it down once, explicitly or on drop
/// (exporting what is left). The one implementation behind [`TelemetryGuard`] and
/// [`super::metrics::Metrics`].
#[derive(Debug)]
pub(crate) struct Exporting<P: SdkProvider> {
    provider: Option<P>,
    exporting: bool,
}

impl<P: SdkProvider> Exporting<P> {
    /// `exporting`: whether the provider has an OTLP exporter (else flushes are no-ops).
    pub(crate) fn new(provider: Option<P>, exporting: bool) -> Self {
        Self {
            provider,
            exporting,
        }
    }

    /// The provider, until shut down.
    pub(crate) fn provider(&self) -> Option<&P> {
        self.provider.as_ref()
    }

    /// True when the provider exports over OTLP.
    pub(crate) fn is_exporting(&self) -> bool {
        self.exporting
    }

    pub(crate) async fn flush(&self) -> Result<(), TelemetryError> {
        let Some(provider) = self.provider.clone().filter(|_| self.exporting) else {
            return Ok(());
        };
        off_runtime(move || provider.flush_now()).await
    }

    pub(crate) async fn shutdown(mut self) -> Result<(), TelemetryError> {
        let Some(provider) = self.provider.take() else {
            return Ok(());
        };
        off_runtime(move || provider.shutdown_within(FLUSH_TIMEOUT)).await
    }
}

impl<P: SdkProvider> Drop for Exporting<P> {
    fn drop(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        if self.exporting {
            shutdown_on_drop(move || {
                let _ = provider.shutdown_within(FLUSH_TIMEOUT);
            });
        }
    }
}

/// Runs a blocking SDK flush or shutdown on a blocking thread, bounded by [`FLUSH_TIMEOUT`]:
/// the exporters are tokio tasks, so the runtime's own threads must stay free to drive them.
async fn off_runtime(
    work: impl FnOnce() -> OTelSdkResult + Send + 'static,
) -> Result<(), TelemetryError> {
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(FLUSH_TIMEOUT, task).await {
        Err(_) => Err(TelemetryError::FlushTimedOut),
        Ok(Err(join)) => Err(TelemetryError::FlushTask(join)),
        Ok(Ok(result)) => result.map_err(TelemetryError::Flush),
    }
}

/// Shuts an exporting provider down from `Drop` without blocking the only thread that may
/// drive its exporter task.
fn shutdown_on_drop(shutdown: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(shutdown),
        Ok(_) => {
            std::thread::spawn(shutdown);
        }
        Err(_) => shutdown(),
    }
}
