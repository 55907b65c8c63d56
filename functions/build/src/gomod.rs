//! go.mod / go.sum failures the Go toolchain reports itself: checksum verification,
//! missing go.sum entries, and module files that need updating under `-mod=readonly`.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Remediation, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

static VERIFYING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"verifying (?:module: |go\.mod: )?([^\s@:]+)@([^\s:/]+)(/go\.mod)?: checksum mismatch",
    )
    .expect("the build patterns are valid regexes")
});
/// The newer wording (Go 1.13+): `m@v: verifying module: checksum mismatch`, the module
/// first, often behind an importing file's `path.go:7:2: ` prefix.
static VERIFYING_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([^\s@:]+)@([^\s:/]+)(/go\.mod)?: verifying (?:module|go\.mod): (?:[^\s@:]+@[^\s:]+: )?checksum mismatch")
        .expect("the build patterns are valid regexes")
});
static MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)checksum mismatch|SECURITY ERROR|checksum database|verifying go\.mod")
        .expect("the build patterns are valid regexes")
});
static SUMDB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"verifying (?:module: )?([^\s@:]+)@([^\s:]+): (?:reading|Get) \S*sum\.golang\.org/lookup/\S+:? (\d{3}[^\n]*)")
.expect("the build patterns are valid regexes")
});
static HASHES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|\s)(downloaded|go\.sum|sum\.golang\.[\w.]+):\s+(h1:\S+)")
        .expect("the build patterns are valid regexes")
});
/// `SECURITY ERROR` and the sentence after it, which says what the download was compared with.
static SECURITY_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"SECURITY ERROR(?:\s+(?:\d{4}-\d\d-\d\dT\S+\s+)?(This download does NOT match [^\n]*))?",
    )
    .expect("the build patterns are valid regexes")
});
/// The comparison was with the checksum database (not go.sum): its hash line or its sentence.
static AGAINST_SUMDB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|\s)sum\.golang\.[\w.]+:\s+h1:|reported by the checksum server")
        .expect("the build patterns are valid regexes")
});
static MISSING_SUM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"missing go\.sum entry(?: for module providing package ([^\s;]+)(?: \(imported by ([^)\s]+)\))?| for go\.mod file| for module ([^\s;]+))?")
.expect("the build patterns are valid regexes")
});
static TO_ADD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"to add(?: it)?:\s*\n?\s*(go (?:get|mod download) [^\n]+)")
        .expect("the build patterns are valid regexes")
});
static DIRTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)updates to go\.(?:mod|sum) needed|disabled by -mod=readonly|-mod=readonly|go: inconsistent vendoring|go\.mod file (?:is not tidy|needs to be updated)|go mod tidy(?: -diff)? (?:produced|found) (?:changes|a diff)|please run .?go mod tidy|diff --git a/go\.(?:mod|sum) b/go\.(?:mod|sum)")
.expect("the build patterns are valid regexes")
});
/// A tidy check's comparison of the module files before and after `go mod tidy` finding
/// them different, as `diff -q` / `cmp` print it: `Files go.sum and /tmp/go.sum.before
/// differ`, `go.mod /tmp/go.mod.orig differ: char 12, line 3`.
static TIDY_CHECK_DIFFERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)\bFiles \S*go\.(?:mod|sum)\S* and \S*go\.(?:mod|sum)\S* differ\b|^\S*go\.(?:mod|sum)\S* \S*go\.(?:mod|sum)\S* differ: (?:char|byte)\b")
        .expect("the build patterns are valid regexes")
});
/// The module files said not to be tidy, in words: "go.sum is not tidied", "an untidy
/// go.mod", "go.mod wasn't tidy".
static UNTIDY_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgo\.(?:mod|sum)\b[^.\n]{0,30}?\s(?:(?:is|was|are|were)\s+(?:not|never)|isn't|wasn't|aren't|weren't)\s+tid(?:y|ied)\b|\bgo\.(?:mod|sum)`?\s+(?:is|was|are|were)\s+untidy\b|\buntid(?:y|ied)\s+`?go\.(?:mod|sum)\b|\bgo\.(?:mod|sum)`?\s+(?:(?:is|are|was|were|files? (?:is|are|was|were))\s+)?(?:out of date|out of sync|outdated)\b")
        .expect("the build patterns are valid regexes")
});
/// A CI tidy check said to fail because `go mod tidy` changed the module files: "`go mod
/// tidy` producing diff", "running go mod tidy results in changes to go.sum", "the diff
/// after go mod tidy is not empty", "the go mod tidy check failed", "tidy modifies go.mod".
static TIDY_CHANGED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgo mod tidy\b`?[^.\n]{0,40}?\b(?:produc\w*|result\w* in|yield\w*|generat\w*|creat\w*|leav\w*|caus\w*|introduc\w*|modif\w*|chang\w*|updat\w*|touch\w*|rewrit\w*|add(?:s|ed|ing)?|remov\w*|shows?|showed|showing)\b[^.\n]{0,20}?\b(?:diffs?|changes|modifications|go\.(?:mod|sum)|uncommitted|dirty)\b|\b(?:diffs?|changes)\b[^.\n]{0,30}?\bafter (?:running )?`?go mod tidy\b|\b(?:go )?mod[- ]tidy (?:check|verification|step|job)\b[^.\n]{0,20}?\bfail\w*")
        .expect("the build patterns are valid regexes")
});
/// A vendored build missing a package: `cannot find module providing package p: import
/// lookup disabled by -mod=vendor` (and the older `cannot find package "p" in vendor`).
static VENDOR_MISSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"cannot find module providing package \S+: import lookup disabled by -mod=vendor|cannot find package \S+ in vendor|package \S+ is not in vendor/modules\.txt")
        .expect("the build patterns are valid regexes")
});
/// go.mod and vendor/modules.txt said to disagree, in the toolchain's per-module lines that
/// follow `go: inconsistent vendoring` (`m@v: is explicitly required in go.mod, but not
/// marked as explicit in vendor/modules.txt`, `… is replaced in go.mod, but not marked as
/// replaced in vendor/modules.txt`, `… requires go 1.x, but vendor/modules.txt indicates go
/// 1.y`) or in its closing advice (`run 'go mod vendor' to sync`).
static VENDOR_DISAGREES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:go\.mod|vendor/modules\.txt)\b[^\n]{0,60}?\bbut\b[^\n]{0,60}?\b(?:vendor/modules\.txt|go\.mod)\b|\brun .?go mod vendor.? to sync\b")
        .expect("the build patterns are valid regexes")
});
/// A build told to have rewritten go.mod: `go build` (or test/run/list/vet) near go.mod being
/// (or not meant to be) changed, in either order.
static BUILD_REWROTE_GO_MOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)\bgo (?:build|test|run|list|vet|install)\b.{0,400}?\bgo\.mod (?:should(?: not|n't) be|is|was|gets?|got|has been|keeps being) (?:changed|modified|rewritten|updated|touched|edited)\b|\bgo (?:build|test|run|list|vet|install)\b[^\n]{0,60}?\b(?:changes|modifies|rewrites|updates|edits|touches)\b[^\n]{0,20}?\bgo\.mod\b")
        .expect("the build patterns are valid regexes")
});

/// A release or CI step finding the git tree dirty: goreleaser's `git is currently in a
/// dirty state`, "working tree is dirty", `uncommitted changes`, git status's `Changes not
/// staged for commit`, a version stamped `v1.5.10-dirty` by `git describe --dirty`, a
/// `git diff --exit-code` / `--quiet` check, a tree with local modifications, files said
/// dirty (goreleaser's "files dirty", "dirty files").
static TREE_DIRTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgit (?:is|tree is|repo\w* is)\s+(?:currently\s+)?(?:in\s+a\s+)?dirty\b|\b(?:work(?:ing)?[- ]?(?:tree|dir(?:ectory)?|copy)|repo\w*|checkout|tree|workspace)\b[^.\n]{0,20}?\b(?:is|was|are|got|became|left)\s+(?:\w+\s+)?(?:dirty|not clean|unclean)\b|\bdirty (?:git |working |work )?(?:state|tree|worktree|directory|repo\w*|checkout|workspace|copy)\b|\buncommitted (?:changes|modifications)\b|\bChanges not staged for commit\b|\bfiles? (?:(?:is|are|was|were|got|became|left) )?dirty\b|\bdirty files?\b|\blocal modifications\b|\bv?\d+\.\d+\.\d+[-+\w.]*-dirty\b|\bgit diff (?:[^\n|;&]*\s)?--(?:exit-code|quiet)\b|\bgit status --porcelain\b")
        .expect("the build patterns are valid regexes")
});
/// go.mod or go.sum listed or told as changed in the work tree: `git status --porcelain`'s
/// ` M go.sum` (behind a log's timestamp or a box-drawing margin), `git diff --name-only`'s
/// bare `go.sum`, git status's `modified:
/// go.sum`, `git diff --name-status`'s `M\tgo.mod`, or in words ("a modified file `go.sum`",
/// "go.sum was changed").
static MODFILE_CHANGED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^(?:\[[^\]\n]*\])?[\s│|>*-]*(?:(?:M|MM|AM|A|D|\?\?)\s+)?\S*\bgo\.(?:mod|sum)\s*$|\bmodified:\s+\S*\bgo\.(?:mod|sum)\b|\b(?:modified|changed|updated|rewritten|dirty|touched)\s+(?:files?\s+)?[`'\x22]?go\.(?:mod|sum)\b|\bgo\.(?:mod|sum)[`'\x22]?\s+(?:(?:is|was|were|are|gets?|got|has been|have been)\s+)?(?:modified|changed|updated|rewritten|touched)\b|\bchanges to\s+[`'\x22]?go\.(?:mod|sum)\b")
        .expect("the build patterns are valid regexes")
});

/// The module files named, or what rewrites them, for a dirty tree told beside it: go.mod
/// or go.sum (`go.sum`, `` `go.mod` ``), tidying (`go mod tidy`, a `check_gotidy.sh` or
/// go-mod-tidy script, "the tidy check"), or a dependency said to be updated, bumped or
/// upgraded ("if a dependency is updated", "after bumping deps").
static MODFILE_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgo\.(?:mod|sum)\b|(?:\b|_)go[ _-]?(?:mod[ _-]?)?tidy|\bmod[ _-]tidy\b|\btidy[ _-](?:check|step|job|script|hook)s?\b|\b(?:dependenc(?:y|ies)|deps?|modules?)\b[^.\n]{0,20}?\b(?:is|are|was|were|gets?|got|been)\s+(?:updated|bumped|upgraded)\b|\b(?:updat|bump|upgrad)(?:e|es|ed|ing) (?:a |the |our |any )?(?:go )?(?:dependenc(?:y|ies)|deps|modules?)\b")
        .expect("the build patterns are valid regexes")
});
/// The module file said to be untouched right after its name ("go.mod is unchanged", "go.sum
/// stays clean"): it is not what dirtied the tree.
static MODFILE_UNTOUCHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[`'\x22]?\s+(?:(?:is|was|are|were|stays?|stayed|remains?|remained)\s+)?(?:unchanged|untouched|clean|not (?:changed|modified|touched))\b")
        .expect("the build patterns are valid regexes")
});
/// How far from a dirty-tree phrase a module file's name still tells what dirtied it.
const DIRT_WINDOW: usize = 200;

/// A release or CI step's dirty tree told with go.mod/go.sum named close by as its cause,
/// in words rather than a file listing ("failed due to a dirty git state; we fixed this for
/// go.mod but not go.sum", "uncommitted changes again, this time in go.sum"): the module
/// file's name.
fn modfile_beside_dirt(text: &str) -> Option<regex::Match<'_>> {
    TREE_DIRTY.find_iter(text).find_map(|t| {
        let mut lo = t.start().saturating_sub(DIRT_WINDOW);
        while !text.is_char_boundary(lo) {
            lo -= 1;
        }
        let mut hi = (t.end() + DIRT_WINDOW).min(text.len());
        while !text.is_char_boundary(hi) {
            hi += 1;
        }
        MODFILE_NAMED
            .find_iter(&text[..hi])
            .filter(|m| m.start() >= lo)
            .find(|m| !MODFILE_UNTOUCHED.is_match(&text[m.end()..]))
    })
}

/// Every go.mod/go.sum finding in `text`.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    out.extend(checksum(text, subject));
    out.extend(missing_sum(text, subject));
    out.extend(dirty(text, subject));
    out
}

fn checksum(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let verifying = VERIFYING
        .captures(text)
        .or_else(|| VERIFYING_AFTER.captures(text));
    let sumdb = SUMDB.captures(text);
    let generic = MISMATCH.find(text);
    let go_context = text.contains("go.sum")
        || text.contains("go: ")
        || HASHES.is_match(text)
        || verifying.is_some()
        || sumdb.is_some();
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
    for caps in HASHES.captures_iter(text) {
        evidence.push(format!(
            "{}: {}",
            caps.get(1)?.as_str(),
            caps.get(2)?.as_str()
        ));
    }
    // What the download was compared with: go.sum, or the checksum database itself.
    let against_sumdb = AGAINST_SUMDB.is_match(text);
    if let Some(c) = SECURITY_ERROR.captures(text) {
        evidence.push(match c.get(1) {
            Some(sentence) => format!("\"SECURITY ERROR: {}\"", sentence.as_str()),
            None => "\"SECURITY ERROR\"".to_owned(),
        });
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
    } else if against_sumdb {
        format!(
            "Go refused {target}: the downloaded content does not match the hash the checksum database recorded, so the tag was moved upstream after publication or a proxy or cache served other bytes. Do not bypass the checksum database (GONOSUMDB/GOFLAGS=-insecure)."
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
    let caps = MISSING_SUM.captures(text)?;
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
    if let Some(suggested) = TO_ADD.captures(text).and_then(|c| c.get(1)) {
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

/// How the module files are out of step with the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dirt {
    /// The build needed to change go.mod/go.sum (`-mod=readonly`, untidy files).
    Untidy,
    /// vendor/modules.txt disagrees with go.mod.
    StaleVendor,
    /// A package go.mod needs is absent from vendor/ (`import lookup disabled by -mod=vendor`).
    IncompleteVendor,
    /// The reporter says a build rewrote go.mod, without the toolchain's line.
    Rewritten,
    /// `go mod tidy` run by CI changed the committed files.
    TidyCheck,
    /// A release or CI step found the git tree dirty, go.mod/go.sum among the changed files.
    DirtyTree,
}

fn dirty(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let (m, dirt, confidence) = if let Some(m) = VENDOR_MISSING.find(text) {
        (m, Dirt::IncompleteVendor, 0.9)
    } else if let Some(m) = VENDOR_DISAGREES.find(text) {
        (m, Dirt::StaleVendor, 0.9)
    } else if let Some(m) = DIRTY.find(text) {
        let dirt = if m.as_str().contains("vendoring") {
            Dirt::StaleVendor
        } else {
            Dirt::Untidy
        };
        (m, dirt, 0.9)
    } else if let Some(m) = TIDY_CHECK_DIFFERS.find(text) {
        (m, Dirt::Untidy, 0.85)
    } else if let (Some(_), Some(m)) = (TREE_DIRTY.find(text), MODFILE_CHANGED.find(text)) {
        (m, Dirt::DirtyTree, 0.85)
    } else if let Some(m) = TIDY_CHANGED.find(text) {
        (m, Dirt::TidyCheck, 0.8)
    } else if let Some(m) = modfile_beside_dirt(text) {
        (m, Dirt::DirtyTree, 0.75)
    } else if let Some(m) = BUILD_REWROTE_GO_MOD.find(text) {
        (m, Dirt::Rewritten, 0.6)
    } else {
        (UNTIDY_SAID.find(text)?, Dirt::Untidy, 0.55)
    };
    let mut evidence = vec![line_at(text, m.start(), m.end())];
    if dirt == Dirt::DirtyTree
        && let Some(t) = TREE_DIRTY.find(text)
    {
        evidence.insert(0, line_at(text, t.start(), t.end()));
    }
    let mut remediation = vec![step(
        "Tidy the module files, commit them, and keep CI failing when they drift (`go mod tidy -diff` on Go 1.23+).",
        "go mod tidy && git diff --exit-code go.mod go.sum",
    )];
    if dirt == Dirt::DirtyTree {
        remediation.push(step(
            "Find the pipeline step that rewrites them (a before-hook's `go mod download`, a `go mod tidy` in a prepare step, another Go version): check the tree after each step, and run download/tidy before the release tool checks it.",
            "git status --porcelain go.mod go.sum && git diff go.mod go.sum",
        ));
    }
    if matches!(dirt, Dirt::StaleVendor | Dirt::IncompleteVendor) {
        remediation.push(step(
            "Re-create vendor/ from go.mod and commit it (check that .gitignore does not drop any of it).",
            "go mod vendor && git status --ignored vendor/ && git diff --exit-code vendor/ go.mod",
        ));
    }
    let summary = match dirt {
        Dirt::StaleVendor => "vendor/modules.txt does not match go.mod: the vendored copy is stale, so the build refuses it.".to_owned(),
        Dirt::IncompleteVendor => "The build uses vendor/ (-mod=vendor) and a package go.mod needs is not in it: the committed vendor tree is incomplete (not re-vendored, or a .gitignore pattern kept part of it out of the repository).".to_owned(),
        Dirt::Untidy => "The build needed to change go.mod/go.sum, which -mod=readonly (the default for go build since 1.16) forbids: the committed module files are not tidy, or a CI step rewrote them.".to_owned(),
        Dirt::TidyCheck => "CI's tidy check failed: `go mod tidy` changes the committed go.mod/go.sum, so they were not tidy (a dependency change merged without re-running it, or a different Go version tidying differently).".to_owned(),
        Dirt::DirtyTree => "A release or CI step found the git tree dirty because go.mod/go.sum changed during the pipeline: a step (`go mod download`, `go mod tidy`, another Go version) rewrote the committed module files, so they were not tidy; the release tool refuses the tree or stamps the version `-dirty`.".to_owned(),
        Dirt::Rewritten => "A Go build changed go.mod: the committed module files are not what the toolchain resolves (an untidy go.mod, or a requirement naming a branch or non-canonical version that the build rewrites to a pseudo-version).".to_owned(),
    };
    Some(diagnosis(
        Class::BuildGoModDirty,
        confidence,
        summary,
        subject,
        evidence,
        remediation,
        dirt != Dirt::Rewritten,
    ))
}

#[cfg(test)]
mod tests;

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [
        &VERIFYING,
        &VERIFYING_AFTER,
        &MISMATCH,
        &SECURITY_ERROR,
        &AGAINST_SUMDB,
        &SUMDB,
        &HASHES,
        &MISSING_SUM,
        &TO_ADD,
        &DIRTY,
        &VENDOR_MISSING,
        &VENDOR_DISAGREES,
        &BUILD_REWROTE_GO_MOD,
        &TIDY_CHECK_DIFFERS,
        &UNTIDY_SAID,
        &TIDY_CHANGED,
        &TREE_DIRTY,
        &MODFILE_CHANGED,
        &MODFILE_NAMED,
        &MODFILE_UNTOUCHED,
    ] {
        LazyLock::force(p);
    }
}
