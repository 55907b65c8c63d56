//! go.mod / go.sum failures the Go toolchain reports itself: checksum verification,
//! missing go.sum entries, and module files that need updating under `-mod=readonly`.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Remediation, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

static VERIFYING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"verifying (?:module: |go\.mod: )?([^\s@:]+)@([^\s:/]+)(/go\.mod)?: checksum mismatch",
    )
    .ok()
});
static MISMATCH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)checksum mismatch|SECURITY ERROR|checksum database|verifying go\.mod").ok()
});
static SUMDB: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"verifying (?:module: )?([^\s@:]+)@([^\s:]+): (?:reading|Get) \S*sum\.golang\.org/lookup/\S+:? (\d{3}[^\n]*)").ok()
});
static HASHES: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?m)(?:^|\s)(downloaded|go\.sum):\s+(h1:\S+)").ok());
static MISSING_SUM: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"missing go\.sum entry(?: for module providing package ([^\s;]+)(?: \(imported by ([^)\s]+)\))?| for go\.mod file| for module ([^\s;]+))?").ok()
});
static TO_ADD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"to add(?: it)?:\s*\n?\s*(go (?:get|mod download) [^\n]+)").ok());
static DIRTY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)updates to go\.(?:mod|sum) needed|disabled by -mod=readonly|-mod=readonly|go: inconsistent vendoring|go\.mod file (?:is not tidy|needs to be updated)|go mod tidy(?: -diff)? (?:produced|found) (?:changes|a diff)|please run .?go mod tidy|diff --git a/go\.(?:mod|sum) b/go\.(?:mod|sum)").ok()
});

/// Every go.mod/go.sum finding in `text`.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    out.extend(checksum(text, subject));
    out.extend(missing_sum(text, subject));
    out.extend(dirty(text, subject));
    out
}

fn checksum(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let verifying = VERIFYING.as_ref()?.captures(text);
    let sumdb = SUMDB.as_ref()?.captures(text);
    let generic = MISMATCH.as_ref()?.find(text);
    let go_context =
        text.contains("go.sum") || text.contains("go: ") || verifying.is_some() || sumdb.is_some();
    if verifying.is_none() && sumdb.is_none() && !(generic.is_some() && go_context) {
        return None;
    }
    let mut evidence = Vec::new();
    let (module, version) = match (&verifying, &sumdb) {
        (Some(c), _) => {
            let m = c.get(0)?;
            evidence.push(line_at(text, m.start(), m.end()));
            (
                c.get(1).map(|m| m.as_str().to_owned()),
                c.get(2).map(|m| m.as_str().to_owned()),
            )
        }
        (None, Some(c)) => {
            let m = c.get(0)?;
            evidence.push(line_at(text, m.start(), m.end()));
            (
                c.get(1).map(|m| m.as_str().to_owned()),
                c.get(2).map(|m| m.as_str().to_owned()),
            )
        }
        _ => {
            let m = generic?;
            evidence.push(line_at(text, m.start(), m.end()));
            (None, None)
        }
    };
    for caps in HASHES.as_ref()?.captures_iter(text) {
        evidence.push(format!(
            "{}: {}",
            caps.get(1)?.as_str(),
            caps.get(2)?.as_str()
        ));
    }
    if text.contains("SECURITY ERROR") {
        evidence.push("\"SECURITY ERROR: This download does NOT match an earlier download recorded in go.sum.\"".into());
    }
    let target = match (&module, &version) {
        (Some(m), Some(v)) => format!("{m}@{v}"),
        _ => "a module".into(),
    };
    let sumdb_failure = verifying.is_none() && sumdb.is_some();
    let summary = if sumdb_failure {
        format!(
            "Go could not verify {target} against the checksum database, so it refused to use it; the version is unknown to sum.golang.org (a moved or deleted tag) or a private module is not listed in GONOSUMDB/GOPRIVATE."
        )
    } else {
        format!(
            "Go refused {target}: the downloaded content does not match the hash in go.sum, so the tag was moved upstream, a proxy or cache served other bytes, or the module cache is corrupt. Do not just rewrite go.sum."
        )
    };
    let mut remediation: Vec<Remediation> = Vec::new();
    if let (Some(m), Some(v)) = (&module, &version) {
        remediation.push(step(
            "Ask the public checksum database which hash it recorded for this version, and compare it with go.sum and with what was downloaded.",
            format!("curl -s https://sum.golang.org/lookup/{m}@{v}"),
        ));
    }
    remediation.push(step(
        "See where modules come from: GOPROXY=direct, GONOSUMDB/GOPRIVATE or GOFLAGS=-insecure bypass the proxy or the checksum database.",
        "go env GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GOFLAGS",
    ));
    remediation.push(step(
        "If only one machine or cache is affected, clear its module cache and download again.",
        "go clean -modcache && go mod download -x",
    ));
    Some(diagnosis(
        Class::BuildChecksumMismatch,
        if sumdb_failure { 0.85 } else { 0.95 },
        summary,
        subject,
        evidence,
        remediation,
        true,
    ))
}

fn missing_sum(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let caps = MISSING_SUM.as_ref()?.captures(text)?;
    let m = caps.get(0)?;
    let mut evidence = vec![line_at(text, m.start(), m.end())];
    let package = caps
        .get(1)
        .or_else(|| caps.get(3))
        .map(|m| m.as_str().to_owned());
    let importer = caps.get(2).map(|m| m.as_str().to_owned());
    if let Some(p) = &package {
        evidence.push(format!("no go.sum hash for the module providing `{p}`"));
    }
    if let Some(i) = &importer {
        evidence.push(format!("imported by `{i}`"));
    }
    let mut remediation = vec![step(
        "Record the missing hashes in the repository and fail CI when the module files are not tidy.",
        "go mod tidy && git diff --exit-code go.mod go.sum",
    )];
    if let Some(suggested) = TO_ADD
        .as_ref()
        .and_then(|r| r.captures(text))
        .and_then(|c| c.get(1))
    {
        remediation.push(step(
            "Or run the command Go suggested, then commit go.sum.",
            suggested.as_str().trim(),
        ));
    }
    let summary = match &package {
        Some(p) => format!("go.sum has no entry for the module providing `{p}`; since Go 1.16 builds do not add it themselves, so go.sum must be updated and committed."),
        None => "go.sum lacks an entry the build needs; since Go 1.16 builds do not add it themselves, so go.sum must be updated and committed.".into(),
    };
    Some(diagnosis(
        Class::BuildMissingGoSum,
        0.95,
        summary,
        subject,
        evidence,
        remediation,
        true,
    ))
}

fn dirty(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let m = DIRTY.as_ref()?.find(text)?;
    let vendoring = m.as_str().contains("vendoring");
    let evidence = vec![line_at(text, m.start(), m.end())];
    let mut remediation = vec![step(
        "Tidy the module files, commit them, and keep CI failing when they drift (`go mod tidy -diff` on Go 1.23+).",
        "go mod tidy && git diff --exit-code go.mod go.sum",
    )];
    if vendoring {
        remediation.push(step(
            "Re-create vendor/ from go.mod and commit it.",
            "go mod vendor && git diff --exit-code vendor/ go.mod",
        ));
    }
    let summary = if vendoring {
        "vendor/modules.txt does not match go.mod: the vendored copy is stale, so the build refuses it.".to_owned()
    } else {
        "The build needed to change go.mod/go.sum, which -mod=readonly (the default for go build since 1.16) forbids: the committed module files are not tidy, or a CI step rewrote them.".to_owned()
    };
    Some(diagnosis(
        Class::BuildGoModDirty,
        0.9,
        summary,
        subject,
        evidence,
        remediation,
        true,
    ))
}
