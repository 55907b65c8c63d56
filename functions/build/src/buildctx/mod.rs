//! `lastmile build context DIR`: what an image build would copy out of its context that
//! should never be in an image (`.git`, `.env*`, private keys, kubeconfigs, cloud
//! credentials, `go.work` overrides), by evaluating the Dockerfile's `COPY`/`ADD` sources
//! against `.dockerignore` with Docker's own pattern rules ([`ignore`]).
//!
//! Only paths and sizes are read and reported, never file contents: the files found are
//! secrets by definition. The walk does not follow symbolic links and stops at
//! [`MAX_FILES`] files.

pub mod dockerfile;
pub mod ignore;

use std::path::Path;

use lastmile_events::{Class, Diagnosis, Subject};
use serde::Serialize;

use crate::{diagnosis, step};
use ignore::IgnoreFile;

/// Files walked at most.
pub const MAX_FILES: usize = 500_000;

/// Why a context could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Reading the directory or a file failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `read`, `list`, `stat`.
        action: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
    /// A `.dockerignore` pattern Docker would refuse too.
    #[error(transparent)]
    Pattern(#[from] ignore::PatternError),
}

/// What kind of file should not enter an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakKind {
    /// A `.git` directory: history, remotes (often with tokens), unpushed work.
    Git,
    /// A `.env` file.
    DotEnv,
    /// A private key or certificate key file.
    PrivateKey,
    /// A kubeconfig.
    Kubeconfig,
    /// Cloud credentials (AWS, gcloud, Azure).
    CloudCredentials,
    /// Registry or package-manager credentials (`.docker/config.json`, `.npmrc`, `.netrc`).
    ToolCredentials,
    /// A `go.work` file: local module overrides change what the image build compiles.
    GoWork,
}

impl LeakKind {
    /// Why it must not enter the image.
    pub fn why(self) -> &'static str {
        match self {
            Self::Git => "git history and remotes (tokens in URLs, unpushed work)",
            Self::DotEnv => "environment file (secrets)",
            Self::PrivateKey => "private key",
            Self::Kubeconfig => "kubeconfig (cluster credentials)",
            Self::CloudCredentials => "cloud credentials",
            Self::ToolCredentials => "registry or package-manager credentials",
            Self::GoWork => {
                "go.work override: the image build compiles local modules instead of go.mod's"
            }
        }
    }
}

/// One thing that would enter the image and should not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    /// Path relative to the context (a directory ends with `/`).
    pub path: String,
    /// What it is.
    pub kind: LeakKind,
    /// Bytes (a directory: the files under it that enter).
    pub size: u64,
    /// Files (1 for a file).
    pub files: u64,
    /// The `.dockerignore` line that leaves it out.
    pub ignore_line: String,
}

/// The evaluation of one build context.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContextReport {
    /// The `COPY`/`ADD` sources read from the context (stage copies left out).
    pub sources: Vec<String>,
    /// Files that would be sent and copied.
    pub files_entering: u64,
    /// Their bytes.
    pub bytes_entering: u64,
    /// Whether a `.dockerignore` was found.
    pub dockerignore: bool,
    /// What should not enter, sorted by path.
    pub leaks: Vec<Leak>,
    /// True when the walk stopped at [`MAX_FILES`].
    pub truncated: bool,
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> ContextError {
    ContextError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Evaluates the context `dir` for the Dockerfile at `dockerfile` (default `dir/Dockerfile`).
pub fn evaluate(dir: &Path, dockerfile: Option<&Path>) -> Result<ContextReport, ContextError> {
    let df_path = dockerfile.map_or_else(|| dir.join("Dockerfile"), Path::to_path_buf);
    let df_text = std::fs::read_to_string(&df_path).map_err(|e| io_error("read", &df_path, e))?;
    let sources = dockerfile::context_sources(&df_text);
    let ignore_path = dir.join(".dockerignore");
    let (ignore, has_ignore) = match std::fs::read_to_string(&ignore_path) {
        Ok(t) => (IgnoreFile::parse(&t)?, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (IgnoreFile::default(), false),
        Err(e) => {
            return Err(io_error("read", &ignore_path, e));
        }
    };
    evaluate_with(dir, &sources, &ignore, has_ignore)
}

/// Evaluates `dir` for these `COPY`/`ADD` sources and ignore rules.
pub fn evaluate_with(
    dir: &Path,
    sources: &[String],
    ignore: &IgnoreFile,
    has_ignore: bool,
) -> Result<ContextReport, ContextError> {
    let selector = IgnoreFile::parse(&sources.join("\n"))?;
    let whole = sources.iter().any(|s| ignore::clean(s).is_empty());
    let mut report = ContextReport {
        sources: sources.to_vec(),
        dockerignore: has_ignore,
        ..Default::default()
    };
    let mut files: Vec<(String, u64)> = Vec::new();
    walk(dir, "", ignore, &mut files, &mut report.truncated)?;
    let mut leaks: Vec<Leak> = Vec::new();
    for (path, size) in files {
        if !(whole || selector.excludes(&path)) {
            continue;
        }
        report.files_entering += 1;
        report.bytes_entering += size;
        let Some((kind, at, line)) = classify(&path) else {
            continue;
        };
        match leaks.iter_mut().find(|l| l.path == at) {
            Some(l) => {
                l.size += size;
                l.files += 1;
            }
            None => leaks.push(Leak {
                path: at,
                kind,
                size,
                files: 1,
                ignore_line: line,
            }),
        }
    }
    leaks.sort_by(|a, b| a.path.cmp(&b.path));
    report.leaks = leaks;
    Ok(report)
}

fn walk(
    root: &Path,
    rel: &str,
    ignore: &IgnoreFile,
    out: &mut Vec<(String, u64)>,
    truncated: &mut bool,
) -> Result<(), ContextError> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| io_error("list", &dir, e))?;
    let mut names: Vec<(String, std::fs::FileType, u64)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("list", &dir, e))?;
        let meta = entry.metadata().map_err(|e| io_error("stat", &dir, e))?;
        names.push((
            entry.file_name().to_string_lossy().into_owned(),
            meta.file_type(),
            meta.len(),
        ));
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, ty, len) in names {
        if out.len() >= MAX_FILES {
            *truncated = true;
            return Ok(());
        }
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let excluded = ignore.excludes(&path);
        if ty.is_dir() {
            // Docker skips an excluded directory unless an exception may re-include inside.
            if !excluded || ignore.may_reinclude_under(&path) {
                walk(root, &path, ignore, out, truncated)?;
            }
        } else if !excluded {
            out.push((path, if ty.is_symlink() { 0 } else { len }));
        }
    }
    Ok(())
}

/// What `path` is, where to report it (a `.git` directory as one entry) and the
/// `.dockerignore` line that leaves it out.
pub fn classify(path: &str) -> Option<(LeakKind, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(i) = parts.iter().position(|p| *p == ".git") {
        let dir = parts[..=i].join("/");
        let line = if i == 0 {
            ".git".to_owned()
        } else {
            dir.clone()
        };
        return Some((LeakKind::Git, format!("{dir}/"), line));
    }
    let name = *parts.last()?;
    let lower = name.to_ascii_lowercase();
    let parent = parts.len().checked_sub(2).map(|i| parts[i]);
    let file = |kind: LeakKind, line: String| Some((kind, path.to_owned(), line));
    if lower == ".env" || lower.starts_with(".env.") {
        return file(LeakKind::DotEnv, "**/.env*".into());
    }
    if lower.ends_with(".pem") {
        return file(LeakKind::PrivateKey, "**/*.pem".into());
    }
    if lower.ends_with(".key") || lower.ends_with(".p12") || lower.ends_with(".pfx") {
        let ext = &lower[lower.rfind('.').unwrap_or(0)..];
        return file(LeakKind::PrivateKey, format!("**/*{ext}"));
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].contains(&lower.as_str()) {
        return file(LeakKind::PrivateKey, format!("**/{name}"));
    }
    if lower == "kubeconfig" || lower.ends_with(".kubeconfig") {
        return file(LeakKind::Kubeconfig, format!("**/{name}"));
    }
    if parent == Some(".kube") && lower == "config" {
        return file(LeakKind::Kubeconfig, "**/.kube".into());
    }
    if parent == Some(".aws") && (lower == "credentials" || lower == "config") {
        return file(LeakKind::CloudCredentials, "**/.aws".into());
    }
    if parts.windows(2).any(|w| w == [".config", "gcloud"]) || parent == Some(".azure") {
        return file(LeakKind::CloudCredentials, path.to_owned());
    }
    if lower == "application_default_credentials.json"
        || (lower.ends_with(".json")
            && (lower.contains("service-account")
                || lower.contains("service_account")
                || lower.contains("credentials")
                || lower.contains("gcp-key")))
    {
        return file(LeakKind::CloudCredentials, path.to_owned());
    }
    if (parent == Some(".docker") && lower == "config.json")
        || lower == ".npmrc"
        || lower == ".netrc"
        || lower == ".pypirc"
        || lower == ".git-credentials"
    {
        return file(LeakKind::ToolCredentials, format!("**/{name}"));
    }
    if lower == "go.work" || lower == "go.work.sum" {
        return file(LeakKind::GoWork, path.to_owned());
    }
    None
}

/// The `.dockerignore` lines that leave every leak out, deduplicated, in report order.
pub fn ignore_lines(report: &ContextReport) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for l in &report.leaks {
        if !lines.contains(&l.ignore_line) {
            lines.push(l.ignore_line.clone());
        }
    }
    lines
}

/// The `build.context_leak` diagnosis, when something leaks. Paths and sizes only.
pub fn diagnose(report: &ContextReport, subject: &Subject) -> Option<Diagnosis> {
    if report.leaks.is_empty() {
        return None;
    }
    let evidence: Vec<String> = report
        .leaks
        .iter()
        .map(|l| {
            let files = if l.files > 1 {
                format!(", {} files", l.files)
            } else {
                String::new()
            };
            format!("{} ({} bytes{files}): {}", l.path, l.size, l.kind.why())
        })
        .chain(std::iter::once(format!(
            "COPY/ADD sources {:?} take {} file(s), {} bytes, from the context{}",
            report.sources,
            report.files_entering,
            report.bytes_entering,
            if report.dockerignore {
                ""
            } else {
                "; there is no .dockerignore"
            }
        )))
        .collect();
    let lines = ignore_lines(report);
    let printf = lines.join("\\n");
    let summary = format!(
        "The image build copies {} path(s) that must not be in an image ({}): add them to .dockerignore.",
        report.leaks.len(),
        report
            .leaks
            .iter()
            .take(5)
            .map(|l| l.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let remediation = vec![
        step(
            format!(
                "Leave them out of the build context (lines for .dockerignore: {}).",
                lines.join(", ")
            ),
            format!("printf '{printf}\\n' >> .dockerignore"),
        ),
        step(
            "Copy only what the build needs instead of the whole context.",
            "grep -n 'COPY \\. ' Dockerfile  # COPY go.mod go.sum ./ && COPY cmd/ cmd/ && COPY internal/ internal/",
        ),
    ];
    Some(diagnosis(
        Class::BuildContextLeak,
        0.95,
        summary,
        subject,
        evidence,
        remediation,
        true,
    ))
}

#[cfg(test)]
mod tests;
