//! The audited remediation executor (`lastmile remediate`), off by default: it consumes the
//! structured remediations functions publish on `lastmile.remediation.>` and applies only
//! what a per-namespace allowlist permits, after a server-side dry run, with a
//! `resourceVersion` precondition, recording an audit entry for every decision.
//!
//! The design choice: **the executor trusts nothing in the message but the target's name.**
//! It reads the patch body itself ([`plan`]) and allows it only when every field it touches
//! is on the allowlist ([`allow`]) within its bound; it re-reads the object and sends the
//! version it read as the precondition, so a patch computed against an older object is
//! refused by the API server (409) instead of applied to a state nobody checked; and a
//! conflict is reported, never retried. Everything else — refusals included — becomes an
//! [`audit::AuditEntry`] in the evidence store, a Kubernetes Event on the target and a span.
//!
//! Transport is the runtime's: a durable JetStream consumer settled by
//! [`lastmile_runtime::host::nats::run_consumer`], so redelivery, nak and dead-lettering
//! work as for every other consumer.

pub mod allow;
pub mod audit;
pub mod config;
pub mod executor;
pub mod kube;
pub mod plan;

use std::future::Future;
use std::sync::Arc;

use lastmile_runtime::bus::Bus;
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_runtime::host::nats::{HostError, HostOptions, HostReport, run_consumer};

pub use allow::{Allowlist, Change};
pub use config::{RemediateConfig, Settings};
pub use executor::Remediator;

/// Consumes `lastmile.remediation.>` on the durable consumer of `config` until `shutdown`
/// completes, deciding (and, where allowed, applying) each structured remediation.
pub async fn run(
    config: &RemediateConfig,
    settings: Settings,
    kube: kube::Kube,
    evidence: Arc<dyn EvidenceStore>,
    bus: Arc<dyn Bus>,
    opts: HostOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<HostReport, HostError> {
    tracing::info!(
        allow = %settings.allow.describe(),
        identity = %settings.identity,
        "Remediation executor starting."
    );
    let spec = config.consumer_spec(&opts);
    let remediator = Remediator::new(settings.allow, settings.identity, kube, evidence);
    run_consumer(Arc::new(remediator), spec, bus, opts, shutdown).await
}
