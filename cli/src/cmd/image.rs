//! `lastmile image check`: would these images pull? Probes each reference the way a node
//! would (credentials, auth flow, manifest, platforms), concurrently with a bound, and exits
//! non-zero when any would fail — a CI gate before the deploy rather than an ImagePullBackOff
//! after it. Optionally verifies cosign signatures (`--signature-key`) and reads each image's
//! base OS from its layers (`--base-os`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use lastmile_contract::SystemClock;
use lastmile_fn_image_pull::base_os::{BaseOsOptions, DEFAULT_MAX_BYTES};
use lastmile_fn_image_pull::cosign::SignatureCheck;
use lastmile_fn_image_pull::credentials::{DockerConfig, secret_config};
use lastmile_fn_image_pull::platform::Platform;
use lastmile_fn_image_pull::policy::{EntrySpec, SignaturePolicy};
use lastmile_fn_image_pull::probe::{Checks, ProbeOptions, ProbeReport, Verdict};
use lastmile_fn_image_pull::{ProbeCredentials, check};
use lastmile_runtime::http::{HttpConfig, ReqwestRegistryHttp};

mod attestation;
pub use attestation::{AttestationOptions, check_attestation, docker_configs};

/// `lastmile image`: one subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Check that image references would pull: exists, credentials work, platforms published.
    Check(CheckArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per image.
    Human,
    /// One JSON document.
    Json,
    /// GitHub Actions `::error` annotations.
    Github,
}

/// `image check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Image references (`nginx:1.27`, `registry.example.com:5000/team/app@sha256:…`).
    pub images: Vec<String>,
    /// Platforms every image must publish, comma-separated (`linux/amd64,linux/arm64`).
    #[arg(long, value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Pull secret: a Secret manifest (dockerconfigjson / dockercfg, YAML or JSON) or a docker config.json.
    #[arg(long = "pull-secret")]
    pub pull_secret: Vec<PathBuf>,
    /// Read image references from the Kubernetes manifests (YAML/JSON) under this directory.
    #[arg(long)]
    pub manifests: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Images checked at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Extra CA certificate (PEM) to trust, like a node's certs.d.
    #[arg(long = "ca-cert")]
    pub ca_cert: Vec<PathBuf>,
    /// Registry (`host:port`) reached over plain HTTP, like a runtime's insecure registries.
    #[arg(long = "plain-http")]
    pub plain_http: Vec<String>,
    /// Verify cosign signatures with this public key (PEM, ECDSA P-256): `KEY.pem` for every
    /// image, or `PATTERN=KEY.pem` for images whose `registry/repository` matches the glob
    /// (`*` within a segment, `**` across). Repeatable; any matching key may have signed.
    #[arg(long = "signature-key", value_name = "[PATTERN=]PEM")]
    pub signature_key: Vec<String>,
    /// Also fail images no `--signature-key` pattern covers (needs `--signature-key`).
    #[arg(long = "require-signature", requires = "signature_key")]
    pub require_signature: bool,
    /// Read each image's base OS from /etc/os-release in its layers (no runtime needed).
    #[arg(long = "base-os")]
    pub base_os: bool,
    /// Fail when the Go binaries in the image differ from this CI attestation (`lastmile ci
    /// collect` output: a DSSE envelope or an in-toto statement): build info or sha256.
    #[arg(long)]
    pub attestation: Option<PathBuf>,
    /// Verify the attestation's DSSE signature with this public key (PEM, ECDSA P-256).
    #[arg(long = "public-key", requires = "attestation")]
    pub public_key: Option<PathBuf>,
    /// With `--base-os`: layer bytes downloaded per image at most.
    #[arg(long = "base-os-max-bytes", default_value_t = DEFAULT_MAX_BYTES)]
    pub base_os_max_bytes: u64,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Check(a) => check_cmd(a).await,
    }
}

/// Builds the HTTP client from `--ca-cert` files.
pub fn http_client(ca_certs: &[PathBuf]) -> anyhow::Result<ReqwestRegistryHttp> {
    let mut pems = Vec::new();
    for p in ca_certs {
        pems.push(
            std::fs::read(p).with_context(|| format!("reading CA certificate {}", p.display()))?,
        );
    }
    Ok(ReqwestRegistryHttp::new(&HttpConfig {
        extra_ca_pems: pems,
        ..Default::default()
    })?)
}

async fn check_cmd(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut images = a.images.clone();
    if let Some(dir) = &a.manifests {
        images.extend(images_in_manifests(dir)?);
    }
    let mut seen = std::collections::BTreeSet::new();
    images.retain(|i| seen.insert(i.clone()));
    if images.is_empty() {
        anyhow::bail!("no image references: pass REF... or --manifests DIR");
    }
    let platforms = a
        .platform
        .iter()
        .map(|p| {
            Platform::parse(p).with_context(|| format!("--platform {p:?} is not os/arch[/variant]"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut creds = ProbeCredentials::default();
    for p in &a.pull_secret {
        creds.docker_configs.push(read_pull_secret(p)?);
    }
    let http = http_client(&a.ca_cert)?;
    let specs = a
        .signature_key
        .iter()
        .map(|k| EntrySpec::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .context("--signature-key")?;
    let checks = Checks {
        signature: SignaturePolicy::load(&specs).context("--signature-key")?,
        base_os: if a.base_os {
            BaseOsOptions {
                max_bytes: a.base_os_max_bytes,
                ..BaseOsOptions::enabled()
            }
        } else {
            BaseOsOptions::default()
        },
    };
    let opts = ProbeOptions {
        timeout: Duration::from_secs(a.timeout.max(1)),
        plain_http: a.plain_http.clone(),
        platforms,
        list_tags: true,
        require_signature: a.require_signature,
    };
    let reports = check::check_many(
        &http,
        &SystemClock,
        &images,
        &creds,
        &opts,
        &checks,
        a.concurrency,
    )
    .await;
    let mut failed = reports.iter().filter(|r| r.cause().is_some()).count();
    crate::out!("{}", render(&reports, a.format));
    if let Some(att) = &a.attestation {
        let opts = AttestationOptions {
            attestation: att.clone(),
            public_key: a.public_key.clone(),
            plain_http: a.plain_http.clone(),
            timeout: Duration::from_secs(a.timeout.max(1)),
            docker_configs: docker_configs(&a.pull_secret)?,
        };
        for image in &images {
            let (ok, text) = check_attestation(&http, image, &opts).await?;
            crate::out!("{text}");
            if !ok {
                failed += 1;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Renders the reports.
pub fn render(reports: &[ProbeReport], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            let items: Vec<serde_json::Value> = reports.iter().map(report_json).collect();
            let failed = reports.iter().filter(|r| r.cause().is_some()).count();
            let doc =
                serde_json::json!({"images": items, "checked": reports.len(), "failed": failed});
            out.push_str(&serde_json::to_string_pretty(&doc).unwrap_or_default());
            out.push('\n');
        }
        Format::Human => {
            for r in reports {
                match &r.verdict {
                    Verdict::Pullable { digest, .. } => {
                        out.push_str(&format!(
                            "ok    {}  {}{}\n",
                            r.image,
                            digest.as_deref().unwrap_or(""),
                            hints(r)
                        ));
                    }
                    Verdict::Fails { cause, detail } => {
                        out.push_str(&format!(
                            "FAIL  {}  {}  {}{}\n",
                            r.image,
                            cause.class(),
                            detail,
                            hints(r)
                        ));
                    }
                }
            }
            let failed = reports.iter().filter(|r| r.cause().is_some()).count();
            out.push_str(&format!("{} checked, {failed} would fail\n", reports.len()));
        }
        Format::Github => {
            for r in reports {
                if let Verdict::Fails { cause, detail } = &r.verdict {
                    let msg = format!("{}: {}{}", r.image, detail, hints(r))
                        .replace('%', "%25")
                        .replace('\n', "%0A");
                    out.push_str(&format!(
                        "::error title=lastmile {}::{msg}\n",
                        cause.class()
                    ));
                }
            }
        }
    }
    out
}

fn hints(r: &ProbeReport) -> String {
    let mut h = String::new();
    if !r.nearest_tags.is_empty() {
        h.push_str(&format!(" (nearest tags: {})", r.nearest_tags.join(", ")));
    }
    if !r.published_platforms.is_empty() && !r.missing_platforms.is_empty() {
        let p: Vec<String> = r
            .published_platforms
            .iter()
            .map(ToString::to_string)
            .collect();
        h.push_str(&format!(" (published: {})", p.join(", ")));
    }
    if let Some(rl) = &r.rate_limit {
        h.push_str(&format!(
            " (ratelimit-remaining: {})",
            rl.remaining.as_deref().unwrap_or("?")
        ));
    }
    if let Some(SignatureCheck::Verified { key, .. }) = &r.signature {
        h.push_str(&format!(" (signed: {key})"));
    }
    if let Some(os) = &r.base_os {
        h.push_str(&format!(" (base OS: {})", os.summary()));
    }
    h
}

fn report_json(r: &ProbeReport) -> serde_json::Value {
    let (ok, class, cause, detail, digest) = match &r.verdict {
        Verdict::Pullable { digest, .. } => (true, None, None, None, digest.clone()),
        Verdict::Fails { cause, detail } => (
            false,
            Some(cause.class()),
            Some(*cause),
            Some(detail.clone()),
            None,
        ),
    };
    serde_json::json!({
        "image": r.image, "resolved": r.resolved, "ok": ok, "class": class, "cause": cause, "detail": detail,
        "digest": digest, "login": r.auth, "published_platforms": r.published_platforms, "missing_platforms": r.missing_platforms,
        "nearest_tags": r.nearest_tags, "rate_limit": r.rate_limit,
        "signature": r.signature, "base_os": r.base_os,
    })
}

/// Reads `--pull-secret`: a Secret (YAML/JSON) or a docker config.json. Errors never quote
/// the file's content.
pub fn read_pull_secret(path: &Path) -> anyhow::Result<DockerConfig> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading pull secret {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let value: serde_json::Value = serde_saphyr::from_str(&text)
        .map_err(|_| anyhow::anyhow!("pull secret {} is neither YAML nor JSON", path.display()))?;
    if value.get("kind").and_then(|k| k.as_str()) == Some("Secret") {
        let secret: Secret = serde_json::from_value(value)
            .map_err(|_| anyhow::anyhow!("pull secret {} is not a valid Secret", path.display()))?;
        return secret_config(&secret)
            .map_err(|e| anyhow::anyhow!("pull secret {}: {e}", path.display()));
    }
    DockerConfig::parse(&bytes, &format!("file {}", path.display()))
        .map_err(|e| anyhow::anyhow!("pull secret {}: {e}", path.display()))
}

/// Every container image named in the manifests under `dir` (recursively; YAML multi-docs
/// and JSON, including `List`s and pod templates of any workload kind).
pub fn images_in_manifests(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut images = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
            .with_context(|| format!("{} is not valid YAML/JSON", f.display()))?;
        for value in &docs {
            walk(value, &mut images);
        }
    }
    Ok(images)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if meta.is_file() {
        out.push(dir.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for key in ["initContainers", "containers", "ephemeralContainers"] {
                if let Some(list) = map.get(key).and_then(|l| l.as_array()) {
                    out.extend(
                        list.iter()
                            .filter_map(|c| c.get("image")?.as_str())
                            .map(str::to_owned),
                    );
                }
            }
            for (k, child) in map {
                if !matches!(
                    k.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) {
                    walk(child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
