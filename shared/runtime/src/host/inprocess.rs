//! The in-process host: the embedded default behind `lastmile replay`.
//!
//! It is the NATS host's loop ([`super::nats::run`]) over a [`MemoryBus`], stopped as soon
//! as the function's consumer has nothing left to do, so replay settles, retries and
//! dead-letters exactly like production. Publish the incidents on the bus first, then call
//! [`run_until_idle`]; read the results back with [`MemoryBus::published`]
//! (`lastmile.diagnosis.>`, `lastmile.dlq.>`).

use std::sync::Arc;

use crate::bus::memory::MemoryBus;
use crate::executor::Executor;
use crate::host::nats::{self, HostError, HostOptions, HostReport};

/// Processes every message on the function's incident subjects, including retries, and
/// returns once none is left. Use short `retry_backoff` values for a quick replay.
pub async fn run_until_idle(
    executor: Executor,
    bus: &MemoryBus,
    opts: HostOptions,
) -> Result<HostReport, HostError> {
    let durable = opts.consumer_spec(executor.function().spec).durable;
    let idle_bus = bus.clone();
    let idle = async move { idle_bus.wait_idle(&durable).await };
    nats::run(executor, Arc::new(bus.clone()), opts, idle).await
}
