//! Image build contexts that carry more than the build needs (`COPY . .` without a fitting
//! `.dockerignore`): secrets, `.git`, local `vendor/` or `go.work` end up in the image or
//! change the build.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

static COPY_ALL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?im)^(?:\s*#?\d*\s*(?:\[[^\]]*\]\s*)?)(?:COPY|ADD)\s+(?:--\S+\s+)*\.\s+\S+").ok()
});
static NO_IGNORE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:no|missing|without(?: a)?) \.dockerignore|\.dockerignore(?: file)? (?:is )?(?:missing|not found|does not exist)").ok()
});
static SECRETS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|[\s/])(\.env(?:\.\w+)?|\.git/|\.npmrc|\.netrc|id_rsa|id_ed25519|[\w.-]+\.pem|[\w.-]+\.key|\.aws/credentials|kubeconfig|\.docker/config\.json)(?:\s|$|:)").ok()
});
static CONTEXT_SIZE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"transferring context: (\d+(?:\.\d+)?)\s*([KMG]i?B)").ok());
static LEAKED_GO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"go: inconsistent vendoring|go\.work|cannot load module .* listed in go\.work").ok()
});

/// A context-leak finding, when a copy-everything instruction meets a sign of a leak.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let copy = COPY_ALL.as_ref()?.find(text)?;
    let mut evidence = vec![line_at(text, copy.start(), copy.end())];
    let mut score: f64 = 0.0;
    if let Some(m) = NO_IGNORE.as_ref()?.find(text) {
        evidence.push(line_at(text, m.start(), m.end()));
        score = score.max(0.55);
    }
    let secrets: Vec<&str> = SECRETS
        .as_ref()?
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    if !secrets.is_empty() {
        let mut uniq: Vec<&str> = Vec::new();
        for s in secrets {
            if !uniq.contains(&s) {
                uniq.push(s);
            }
        }
        evidence.push(format!(
            "files that should not be in an image are in the context: {}",
            uniq.iter().take(6).copied().collect::<Vec<_>>().join(", ")
        ));
        score = score.max(0.75);
    }
    if let Some(c) = CONTEXT_SIZE.as_ref()?.captures(text) {
        let n: f64 = c
            .get(1)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0.0);
        let unit = c.get(2).map_or("", |m| m.as_str());
        let mb = match unit.chars().next() {
            Some('G') => n * 1024.0,
            Some('M') => n,
            _ => n / 1024.0,
        };
        if mb >= 100.0 {
            evidence.push(format!("the build context is {n}{unit}"));
            score = score.max(0.6);
        }
    }
    if let Some(m) = LEAKED_GO.as_ref()?.find(text) {
        evidence.push(line_at(text, m.start(), m.end()));
        score = score.max(0.6);
    }
    if score == 0.0 {
        return None;
    }
    let summary = "The image build copies the whole context (`COPY . .`) and the context holds files the build should not see (secrets, .git, local vendor/ or go.work, large artefacts): add a .dockerignore and copy only what is needed.".to_owned();
    let remediation = vec![
        step(
            "Exclude what must never reach the image or the build.",
            "printf '.git\\n.env*\\n*.pem\\n*.key\\ngo.work*\\nvendor/\\nbin/\\n' >> .dockerignore",
        ),
        step(
            "Copy the module files first and then only the source directories the build needs.",
            "grep -n 'COPY \\. ' Dockerfile  # replace with: COPY go.mod go.sum ./ && RUN go mod download && COPY cmd/ cmd/ && COPY internal/ internal/",
        ),
    ];
    Some(diagnosis(
        Class::BuildContextLeak,
        score,
        summary,
        subject,
        evidence,
        remediation,
        false,
    ))
}
