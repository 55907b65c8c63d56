//! One probe round: for each registry (concurrently), `GET /v2/`, each known manifest through
//! the full pull path, and the catalog; each check with its status, latency and verdict.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lastmile_contract::{HttpRequest, RegistryHttp, SystemClock};
use lastmile_fn_image_pull::credentials::DockerConfig;
use lastmile_fn_image_pull::probe::{self, ProbeOptions, Verdict, transport_cause};
use lastmile_fn_image_pull::reference::ImageRef;
use lastmile_runtime::telemetry::registry_health::{Observation, Operation};
use serde::Serialize;

use super::targets::Target;

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Registry `host[:port]`.
    pub endpoint: String,
    /// What was checked.
    pub operation: Operation,
    /// For manifest checks: `repository:tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// For API and catalog checks: the URL asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether the check passed.
    pub healthy: bool,
    /// HTTP status of the (last) answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Latency, milliseconds.
    pub latency_ms: u128,
    /// What the answer said, or why there was none.
    pub detail: String,
    /// Failure class (`image.network`, `image.not_found`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    latency: Duration,
}

impl Check {
    /// The check as the metrics see it.
    pub fn observation(&self) -> Observation<'_> {
        Observation {
            endpoint: &self.endpoint,
            operation: self.operation,
            manifest: self.manifest.as_deref(),
            healthy: self.healthy,
            status: self.status,
            error: self.error.as_deref(),
            latency: self.latency,
        }
    }
}

/// What a round needs; built once.
pub struct Prober<H> {
    /// The registry client.
    pub http: H,
    /// Use `http://`.
    pub plain_http: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Credentials for manifest checks.
    pub credentials: Option<DockerConfig>,
}

impl<H: RegistryHttp> Prober<H> {
    /// Probes every target, registries concurrently; checks in target order.
    pub async fn round(&self, targets: &[Target]) -> Vec<Check> {
        futures::future::join_all(targets.iter().map(|t| self.registry(t)))
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn registry(&self, t: &Target) -> Vec<Check> {
        let scheme = if self.plain_http { "http" } else { "https" };
        let base = format!("{scheme}://{}/v2/", t.registry);
        let mut checks = vec![self.api_version(&t.registry, &base).await];
        for m in &t.manifests {
            checks.push(self.manifest(&t.registry, m).await);
        }
        checks.push(self.catalog(&t.registry, &base).await);
        checks
    }

    async fn api_version(&self, registry: &str, base: &str) -> Check {
        let answer = get(&self.http, base, self.timeout).await;
        let header = |name: &str| answer.headers.get(name).cloned().unwrap_or_default();
        let detail = match &answer.failure {
            Some(why) => why.clone(),
            None => format!(
                "{} {}",
                header("docker-distribution-api-version"),
                header("www-authenticate")
            )
            .trim()
            .to_owned(),
        };
        // 401 is a healthy registry asking for credentials.
        let healthy = matches!(answer.status, Some(200 | 401));
        Check {
            endpoint: registry.to_owned(),
            operation: Operation::ApiVersion,
            manifest: None,
            url: Some(base.to_owned()),
            healthy,
            status: answer.status,
            latency_ms: answer.latency.as_millis(),
            detail,
            error: answer.error_type(healthy),
            latency: answer.latency,
        }
    }

    async fn manifest(&self, registry: &str, manifest: &str) -> Check {
        let image = format!("{registry}/{manifest}");
        let creds = match (&self.credentials, ImageRef::parse(&image)) {
            (Some(cfg), Ok(parsed)) => cfg.lookup(&parsed),
            _ => Vec::new(),
        };
        let opts = ProbeOptions {
            timeout: self.timeout,
            plain_http: if self.plain_http {
                vec![registry.to_owned()]
            } else {
                Vec::new()
            },
            list_tags: false,
            ..ProbeOptions::default()
        };
        let started = Instant::now();
        let report = probe::probe(&self.http, &SystemClock, &image, &creds, &opts).await;
        let latency = started.elapsed();
        let (healthy, error, detail) = match &report.verdict {
            Verdict::Pullable { digest, .. } => (
                true,
                None,
                format!("resolves to {}", digest.as_deref().unwrap_or("?")),
            ),
            Verdict::Fails { cause, detail } => (
                false,
                Some(cause.class().to_owned()),
                format!("{}: {detail}", cause.class()),
            ),
        };
        Check {
            endpoint: registry.to_owned(),
            operation: Operation::Manifest,
            manifest: Some(manifest.to_owned()),
            url: None,
            healthy,
            status: report
                .transcript
                .entries
                .iter()
                .rev()
                .find_map(|e| e.status),
            latency_ms: latency.as_millis(),
            detail,
            error,
            latency,
        }
    }

    async fn catalog(&self, registry: &str, base: &str) -> Check {
        let url = format!("{base}_catalog?n=100");
        let answer = get(&self.http, &url, self.timeout).await;
        // A registry may refuse the catalog (401/403/404): that is policy, not ill health;
        // a 5xx is.
        let healthy = answer.status.is_some_and(|s| s < 500);
        Check {
            endpoint: registry.to_owned(),
            operation: Operation::Catalog,
            manifest: None,
            healthy,
            status: answer.status,
            latency_ms: answer.latency.as_millis(),
            detail: match (answer.status, &answer.failure) {
                (Some(200), _) => "catalog readable".into(),
                (Some(s), _) if s >= 500 => format!("catalog failed ({s})"),
                (Some(s), _) => format!("catalog not allowed ({s})"),
                (None, Some(why)) => why.clone(),
                (None, None) => String::new(),
            },
            error: answer.error_type(healthy),
            url: Some(url),
            latency: answer.latency,
        }
    }
}

/// One plain GET's outcome.
struct Answer {
    status: Option<u16>,
    headers: BTreeMap<String, String>,
    latency: Duration,
    /// Why there was no answer.
    failure: Option<String>,
    /// The failure's class.
    class: Option<&'static str>,
}

impl Answer {
    /// OTel's `error.type` for a failed check: the transport failure's class, else the
    /// HTTP status code.
    fn error_type(&self, healthy: bool) -> Option<String> {
        if healthy {
            return None;
        }
        self.class
            .map(str::to_owned)
            .or_else(|| self.status.map(|s| s.to_string()))
    }
}

async fn get(http: &dyn RegistryHttp, url: &str, timeout: Duration) -> Answer {
    let started = Instant::now();
    let req = HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: BTreeMap::new(),
        body: Vec::new(),
        timeout,
    };
    match http.send(req).await {
        Ok(resp) => Answer {
            status: Some(resp.status),
            headers: resp.headers,
            latency: started.elapsed(),
            failure: None,
            class: None,
        },
        Err(e) => {
            let cause = transport_cause(e.kind, &e.detail);
            Answer {
                status: None,
                headers: BTreeMap::new(),
                latency: started.elapsed(),
                failure: Some(format!("{}: {}", cause.class(), e.detail)),
                class: Some(cause.class()),
            }
        }
    }
}
