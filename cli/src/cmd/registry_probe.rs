//! `lastmile registry probe`: is a registry healthy as a node sees it? `GET /v2/` (API
//! version, auth challenge), a known manifest through the full pull path when given, and the
//! catalog where the registry allows it; each with status and latency. Exits non-zero when the
//! registry is unreachable or the known manifest would not pull.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lastmile_contract::{HttpRequest, RegistryHttp, SystemClock};
use lastmile_fn_image_pull::probe::{self, ProbeOptions, Verdict, transport_cause};
use serde::Serialize;

use super::image::{Format, http_client, read_pull_secret};

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Probe a registry: /v2/, a known manifest, the catalog.
    Probe(ProbeArgs),
}

/// `registry probe` arguments.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Registry host (`registry.example.com`, `localhost:5000`).
    pub registry: String,
    /// A manifest that must exist, `repository:tag` (e.g. `library/busybox:latest`).
    #[arg(long)]
    pub manifest: Option<String>,
    /// Pull secret for the manifest check (Secret manifest or docker config.json).
    #[arg(long = "pull-secret")]
    pub pull_secret: Option<PathBuf>,
    /// Use plain HTTP.
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// Extra CA certificate (PEM) to trust.
    #[arg(long = "ca-cert")]
    pub ca_cert: Vec<PathBuf>,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Output format (`github` prints annotations for failed checks).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// One check's result.
#[derive(Debug, Serialize)]
struct Check {
    endpoint: String,
    operation: &'static str,
    healthy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    latency_ms: u128,
    detail: String,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Sub::Probe(a) = args.command;
    let http = http_client(&a.ca_cert)?;
    let scheme = if a.plain_http { "http" } else { "https" };
    let timeout = Duration::from_secs(a.timeout.max(1));
    let mut checks = Vec::new();

    let base = format!("{scheme}://{}/v2/", a.registry);
    let (status, headers, latency, detail) = get(&http, &base, timeout).await;
    let api_ok = matches!(status, Some(200 | 401));
    let version = headers
        .get("docker-distribution-api-version")
        .cloned()
        .unwrap_or_default();
    let challenge = headers.get("www-authenticate").cloned().unwrap_or_default();
    checks.push(Check {
        endpoint: base.clone(),
        operation: "ping",
        healthy: api_ok,
        status,
        latency_ms: latency,
        detail: if detail.is_empty() {
            format!("{version} {challenge}").trim().to_owned()
        } else {
            detail
        },
    });

    if let Some(m) = &a.manifest {
        let creds: Vec<_> = match &a.pull_secret {
            Some(p) => {
                let cfg = read_pull_secret(p)?;
                let image = lastmile_fn_image_pull::reference::ImageRef::parse(&format!(
                    "{}/{m}",
                    a.registry
                ))?;
                cfg.lookup(&image)
            }
            None => Vec::new(),
        };
        let opts = ProbeOptions {
            timeout,
            plain_http: if a.plain_http {
                vec![a.registry.clone()]
            } else {
                Vec::new()
            },
            platforms: Vec::new(),
            list_tags: false,
            require_signature: false,
        };
        let started = Instant::now();
        let report = probe::probe(
            &http,
            &SystemClock,
            &format!("{}/{m}", a.registry),
            &creds,
            &opts,
        )
        .await;
        let (healthy, detail) = match &report.verdict {
            Verdict::Pullable { digest, .. } => (
                true,
                format!("resolves to {}", digest.as_deref().unwrap_or("?")),
            ),
            Verdict::Fails { cause, detail } => (false, format!("{}: {detail}", cause.class())),
        };
        checks.push(Check {
            endpoint: format!("{}/{m}", a.registry),
            operation: "manifest",
            healthy,
            status: report
                .transcript
                .entries
                .iter()
                .rev()
                .find_map(|e| e.status),
            latency_ms: started.elapsed().as_millis(),
            detail,
        });
    }

    let catalog = format!("{base}_catalog?n=100");
    let (status, _, latency, detail) = get(&http, &catalog, timeout).await;
    checks.push(Check {
        endpoint: catalog,
        operation: "catalog",
        // A registry may refuse the catalog (401/403/404): that is policy, not ill health.
        healthy: status.is_some(),
        status,
        latency_ms: latency,
        detail: match status {
            Some(200) => "catalog readable".into(),
            Some(s) => format!("catalog not allowed ({s})"),
            None => detail,
        },
    });

    let healthy = checks.iter().all(|c| c.healthy);
    match a.format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"registry": a.registry, "healthy": healthy, "checks": checks})
                )?
            )
        }
        Format::Human => {
            for c in &checks {
                let st = c.status.map_or_else(|| "-".to_owned(), |s| s.to_string());
                println!(
                    "{:<5} {:<8} {:>4} {:>6}ms  {}  {}",
                    if c.healthy { "ok" } else { "FAIL" },
                    c.operation,
                    st,
                    c.latency_ms,
                    c.endpoint,
                    c.detail
                );
            }
        }
        Format::Github => {
            for c in checks.iter().filter(|c| !c.healthy) {
                println!(
                    "::error title=lastmile registry {}::{} {}",
                    c.operation, c.endpoint, c.detail
                );
            }
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn get(
    http: &dyn RegistryHttp,
    url: &str,
    timeout: Duration,
) -> (Option<u16>, BTreeMap<String, String>, u128, String) {
    let started = Instant::now();
    let req = HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: BTreeMap::new(),
        body: Vec::new(),
        timeout,
    };
    match http.send(req).await {
        Ok(resp) => (
            Some(resp.status),
            resp.headers,
            started.elapsed().as_millis(),
            String::new(),
        ),
        Err(e) => {
            let cause = transport_cause(e.kind, &e.detail);
            (
                None,
                BTreeMap::new(),
                started.elapsed().as_millis(),
                format!("{}: {}", cause.class(), e.detail),
            )
        }
    }
}
