//! `lastmile image check`: many references probed concurrently (bounded), in input order.

use futures::StreamExt;
use lastmile_contract::{Clock, RegistryHttp};

use crate::credentials::ProbeCredentials;
use crate::probe::{self, Checks, ProbeOptions, ProbeReport};
use crate::reference::ImageRef;

/// Probes every image (with `checks`) with at most `concurrency` probes in flight; results
/// keep input order.
pub async fn check_many(
    http: &dyn RegistryHttp,
    clock: &dyn Clock,
    images: &[String],
    creds: &ProbeCredentials,
    opts: &ProbeOptions,
    checks: &Checks,
    concurrency: usize,
) -> Vec<ProbeReport> {
    futures::stream::iter(images.iter())
        .map(|image| async move {
            let candidates = match ImageRef::parse(image) {
                Ok(r) => creds
                    .docker_configs
                    .iter()
                    .flat_map(|c| c.lookup(&r))
                    .collect(),
                Err(_) => Vec::new(),
            };
            probe::probe_checked(http, clock, image, &candidates, opts, checks).await
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
