//! Comparisons between builds: one module resolved at two versions (drift), or one
//! artifact with two hashes (not reproducible).
//!
//! People paste two `go version -m` listings, two `go list -m all` outputs, two sets of
//! `go: downloading` lines or two `sha256sum` lines; the finding is the difference.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::{diagnosis, step};

/// Module/version listings: `\tdep\tmod\tv1.2.3\th1:…` (go version -m),
/// `go: downloading mod v1.2.3`, and `mod v1.2.3` alone on a line (go list -m all). go.sum
/// lines (`mod v1.2.3 h1:…`) are deliberately not matched: go.sum lists many versions.
static MODULE_VERSION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?m)^\s*dep\s+(\S+)\s+(v\d+\.\d+\.\d+\S*)",
        r"go: downloading (\S+) (v\d+\.\d+\.\d+\S*)",
        r"(?m)^([a-z0-9][-a-z0-9.]*\.[a-z]{2,}/\S+) (v\d+\.\d+\.\d+\S*)[ \t]*\r?$",
    ]
    .into_iter()
    .map(|p| Regex::new(p).expect("the build patterns are valid regexes"))
    .collect()
});
/// `<sha256>  <file>` as sha256sum prints it.
static SHA_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:\S+:\s+)?([0-9a-f]{64})\s+\*?(\S+)\s*$")
        .expect("the build patterns are valid regexes")
});
/// `build\t<key>=<value>` lines of go version -m.
static BUILD_SETTING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*build\s+(-?[A-Za-z.]+)=(\S*)")
        .expect("the build patterns are valid regexes")
});
/// A reproducibility failure told in words: "non-reproducibility", "byte-for-byte identical
/// … except", "different binaries depending on the checkout path", a build ID that differs.
static WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bnot reproducib\w*|\bnon-?reproducib\w*|\bunreproducib\w*|reproducibility check failed|(?:binaries|checksums|hashes|digests) (?:differ|are different|do not match|don't match)|byte-for-byte identical|different binar(?:y|ies)\b|build ?id\b[^.\n]{0,40}\b(?:differ|depend|change)")
.expect("the build patterns are valid regexes")
});

/// Go's own drift report after a `go` directive change: `loaded from mod@v1, but go 1.16
/// would select v2` (two toolchains resolve different versions of the same module).
static WOULD_SELECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"loaded from ([^\s@]+)@(\S+?),?\s+but go (\d+\.\d+) would select (\S+)")
        .expect("the build patterns are valid regexes")
});

/// Drift and reproducibility findings.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    out.extend(drift(text, subject).or_else(|| would_select(text, subject)));
    out.extend(not_reproducible(text, subject));
    out
}

fn drift(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for caps in MODULE_VERSION.iter().flat_map(|r| r.captures_iter(text)) {
        let (Some(m), Some(v)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let seen = versions.entry(m.as_str()).or_default();
        let v = v.as_str().split("/go.mod").next().unwrap_or(v.as_str());
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    let drifted: Vec<(&str, &Vec<&str>)> = versions
        .iter()
        .filter(|(_, vs)| vs.len() > 1)
        .map(|(m, vs)| (*m, vs))
        .collect();
    let (first, vs) = drifted.first()?;
    let evidence: Vec<String> = drifted
        .iter()
        .take(10)
        .map(|(m, vs)| format!("{m}: {}", vs.join(" vs ")))
        .collect();
    let summary = format!(
        "The builds resolved different versions of {} module(s), e.g. {first} {}: something in the build resolves versions instead of using the committed go.mod/go.sum (go get -u, @latest, -mod=mod, or an uncommitted go.mod).",
        drifted.len(),
        vs.join(" vs ")
    );
    let remediation = vec![
        step(
            "Pin the versions in the committed go.mod/go.sum and make CI fail when a build would change them.",
            "go mod tidy && git diff --exit-code go.mod go.sum",
        ),
        step(
            "Build with the module files read-only so the build cannot resolve newer versions.",
            "GOFLAGS=-mod=readonly go build ./...",
        ),
        step(
            "Check which version a built binary actually contains.",
            format!("go version -m <binary> | grep {first}"),
        ),
    ];
    Some(diagnosis(
        Class::BuildDependencyDrift,
        0.85,
        summary,
        subject,
        evidence,
        remediation,
        true,
    ))
}

/// `… loaded from m@v1, but go 1.16 would select v2`: the module graph differs between the
/// toolchain the go directive names and the older one.
fn would_select(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let found: Vec<String> = WOULD_SELECT
        .captures_iter(text)
        .take(5)
        .map(|c| format!("{} {} (go {} would select {})", &c[1], &c[2], &c[3], &c[4]))
        .collect();
    let first = found.first()?;
    Some(diagnosis(
        Class::BuildDependencyDrift,
        0.8,
        format!(
            "Builds with different Go toolchains resolve different module versions: {first}; the module graph recorded in go.mod is not what the older toolchain selects."
        ),
        subject,
        found.clone(),
        vec![step(
            "Record a graph both toolchains agree on (or drop compatibility with the older one), then commit go.mod and go.sum.",
            "go mod tidy -go=1.16 && go mod tidy -go=1.17   # or: go mod tidy -compat=1.17",
        )],
        true,
    ))
}

fn not_reproducible(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let mut by_file: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for caps in SHA_LINE.captures_iter(text) {
        let (Some(hash), Some(file)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let name = file
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or(file.as_str())
            .to_owned();
        let seen = by_file.entry(name).or_default();
        if !seen.contains(&hash.as_str()) {
            seen.push(hash.as_str());
        }
    }
    let differing: Vec<(&String, &Vec<&str>)> =
        by_file.iter().filter(|(_, hs)| hs.len() > 1).collect();
    let mut settings: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for caps in BUILD_SETTING.captures_iter(text) {
        let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let seen = settings.entry(k.as_str()).or_default();
        if !seen.contains(&v.as_str()) {
            seen.push(v.as_str());
        }
    }
    let setting_diffs: Vec<String> = settings
        .iter()
        .filter(|(_, vs)| vs.len() > 1)
        .map(|(k, vs)| format!("build setting {k} differs: {}", vs.join(" vs ")))
        .collect();
    let words = WORDS.find(text);
    if differing.is_empty() && setting_diffs.is_empty() && words.is_none() {
        return None;
    }
    let mut evidence: Vec<String> = differing
        .iter()
        .take(5)
        .map(|(f, hs)| format!("{f}: sha256 {}", hs.join(" vs ")))
        .collect();
    evidence.extend(setting_diffs.iter().take(8).cloned());
    if let Some(m) = words {
        evidence.push(crate::line_at(text, m.start(), m.end()));
    }
    let confidence = match (!differing.is_empty(), !setting_diffs.is_empty()) {
        (true, _) | (_, true) => 0.85,
        _ => 0.6,
    };
    let summary = if setting_diffs.is_empty() {
        "Two builds of the same commit produced different binaries; the build embeds something that varies (paths, VCS stamp, build ID, time, toolchain).".to_owned()
    } else {
        format!(
            "Two builds of the same commit produced different binaries because their build settings differ ({}).",
            setting_diffs
                .iter()
                .take(3)
                .map(|s| s
                    .trim_start_matches("build setting ")
                    .split(' ')
                    .next()
                    .unwrap_or(""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let remediation = vec![
        step(
            "Compare what each binary records about how it was built.",
            "diff <(go version -m build-a/app) <(go version -m build-b/app)",
        ),
        step(
            "Build without machine-specific inputs: strip paths and the VCS stamp, pin the toolchain in go.mod.",
            "CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-buildid=' ./...",
        ),
    ];
    Some(diagnosis(
        Class::BuildNotReproducible,
        confidence,
        summary,
        subject,
        evidence,
        remediation,
        false,
    ))
}

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    LazyLock::force(&MODULE_VERSION);
    for p in [&SHA_LINE, &BUILD_SETTING, &WORDS, &WOULD_SELECT] {
        LazyLock::force(p);
    }
}
