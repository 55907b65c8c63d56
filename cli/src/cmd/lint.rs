//! `lastmile lint PATH...`: Kubernetes manifests checked before deploy (`lastmile-lint`):
//! the init-container wait-for graph and its cycles, unbounded waits, privileged init
//! containers, registries outside an allowlist, Job deadlines and TTLs.
//!
//! Exit codes, as `lastmile gate`: 0 no error findings; 1 error findings (or any finding with
//! `--strict`), printed; 2 bad arguments or a manifest that cannot be read (each named on one
//! line on stderr; the readable ones are still linted). 3 (timeout) does not occur.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lastmile_lint::{Config, LoadError, MAX_INPUT_BYTES, Manifest, Severity, render};

use crate::output::error_line;

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// `file:line: severity rule: message`, the cycle's edges and the fix.
    Human,
    /// `{"findings": [...], "errors": N, "warnings": N}`.
    Json,
    /// GitHub Actions annotations (`::error file=…,line=…::…`).
    Github,
    /// SARIF 2.1.0, for code scanning uploads.
    Sarif,
}

/// Check Kubernetes manifests before deploy.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no errors, 1 error findings (or any with --strict), \
2 bad arguments or unreadable/invalid manifests.\nPATH: a YAML or JSON file (multi-document, \
`kind: List`), a directory (its *.yaml, *.yml, *.json, recursively) or `-` for stdin \
(`helm template … | lastmile lint -`)."
)]
pub struct Args {
    /// Manifest files, directories, or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format (default: github under GitHub Actions, else human).
    #[arg(long, value_enum)]
    pub format: Option<LintFormat>,
    /// Namespace of objects that name none.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Registry init containers may pull from (host, or host/path prefix); repeatable.
    #[arg(
        long = "allowed-registry",
        env = "LASTMILE_ALLOWED_REGISTRIES",
        value_delimiter = ','
    )]
    pub allowed_registries: Vec<String>,
    /// Helm installs without --wait: post-install hooks do not wait for the release.
    #[arg(long)]
    pub helm_no_wait: bool,
    /// What already runs in the cluster, as `kubectl get services,jobs -A -o json` prints
    /// it: waits on its Services and Jobs are not findings, and a wait on a name neither the
    /// manifests nor the cluster has is "not in the manifests or the cluster".
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// Warnings fail too (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// The file name findings in stdin's manifests carry (`file=` of annotations, SARIF
    /// `uri`), e.g. the path `helm template` output is saved to; default `-`.
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut bad = 0usize;
    for file in inputs(&args.paths, &mut bad) {
        match read(&file, args.stdin_name.as_deref())
            .and_then(|(name, text)| lastmile_lint::parse(&name, &text).map_err(|e| e.to_string()))
        {
            Ok(mut found) => manifests.append(&mut found),
            Err(e) => {
                bad += 1;
                eprintln!("lastmile lint: {}", error_line(&e));
            }
        }
    }
    let cluster = args.cluster.as_deref().and_then(|path| {
        let read = std::fs::read(path).map_err(|e| e.to_string());
        match read.and_then(|b| lastmile_lint::Cluster::from_json(&b).map_err(|e| e.to_string())) {
            Ok(cluster) => Some(cluster),
            Err(e) => {
                bad += 1;
                eprintln!(
                    "lastmile lint: {}",
                    error_line(&format!("--cluster {}: {e}", path.display()))
                );
                None
            }
        }
    });
    let config = Config {
        default_namespace: args.namespace,
        allowed_registries: args.allowed_registries,
        helm_wait: !args.helm_no_wait,
        cluster,
    };
    let findings = lastmile_lint::lint(&manifests, &config);
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let format = args.format.unwrap_or(if github {
        LintFormat::Github
    } else {
        LintFormat::Human
    });
    let text = match format {
        LintFormat::Human => render::human(&findings),
        LintFormat::Json => render::json(&findings),
        LintFormat::Github => render::github(&findings),
        LintFormat::Sarif => render::sarif(&findings),
    };
    crate::out!("{text}");
    if format == LintFormat::Github {
        eprintln!("lastmile lint: {}", render::summary(&findings));
    }
    let failing = findings
        .iter()
        .any(|f| f.severity == Severity::Error || args.strict);
    Ok(ExitCode::from(if bad > 0 {
        2
    } else if failing {
        1
    } else {
        0
    }))
}

/// The files named by `paths`: files as given, directories walked for manifests (sorted).
fn inputs(paths: &[PathBuf], bad: &mut usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, bad);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, bad: &mut usize) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            *bad += 1;
            eprintln!(
                "lastmile lint: {}",
                error_line(&format!("{}: {e}", dir.display()))
            );
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let is_link = p
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        if p.is_dir() && !is_link {
            walk(&p, out, bad);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

/// The text of one input (`-`: stdin), refusing more than [`MAX_INPUT_BYTES`] before
/// reading it all.
fn read(path: &Path, stdin_name: Option<&str>) -> Result<(String, String), String> {
    let stdin = path.as_os_str() == "-";
    let name = match stdin_name {
        Some(n) if stdin => n.to_owned(),
        _ => path.display().to_string(),
    };
    let too_large = |size: u64| {
        LoadError::TooLarge {
            file: name.clone(),
            size,
            limit: MAX_INPUT_BYTES,
        }
        .to_string()
    };
    let io = |e: std::io::Error| format!("{name}: {e}");
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size >= limit {
            return Err(too_large(size));
        }
        file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    }
    if bytes.len() as u64 >= limit {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| LoadError::NotText { file: name.clone() }.to_string())?;
    Ok((name, text))
}
