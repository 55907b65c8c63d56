//! Dependency drift told by how the build resolves versions rather than by two listings:
//! a tool or module installed at `@latest` (or with `go get -u`, or unpinned in a GOPATH
//! build) that began resolving a newer release, so a build whose source did not change
//! breaks.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

/// Go's own report that `@latest` resolved a release needing a newer toolchain: `go:
/// github.com/x/y/cmd/z@latest: github.com/x/y@v1.66.0 requires go >= 1.25.6 (running go
/// 1.24.12; GOTOOLCHAIN=local)`. Group 1 the path asked for, 2 the module, 3 its version.
static LATEST_NEEDS_NEWER_GO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\S+)@latest: (\S+)@(v\S+) requires go >= \S+")
        .expect("the build patterns are valid regexes")
});
/// An install or fetch that takes whatever is newest: `go install x@latest` (or `@master`),
/// `npx y@latest`, an upgrade-everything step (`go get -u`, `npm update`, `yarn upgrade`,
/// `cargo update`, `bundle update`, `pip install -U`), a CI action's `version: latest`, a
/// tool installed "without pinning", a fetch said to lack a version specification (GOPATH
/// `go get`), or a stable version of a dependency asked for instead.
static UNPINNED_RESOLVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:go (?:install|get|run)|npx|pip3? install|npm (?:install|i)|cargo install|gem install|yarn (?:add|dlx)|pnpm (?:add|dlx))\b[^\n]{0,120}?@(?:latest|master|main|HEAD)\b|@latest\b[^.\n]{0,60}\b(?:go install|go get|go run)\b|\bgo get -u\b|\b(?:npm|yarn|pnpm) (?:update|upgrade|up)\b|\b(?:cargo|bundle|composer|poetry) update\b|\bpip3? install (?:-U|--upgrade)\b|\b(?:go-)?version:\s*['"`]?latest\b|\bwithout (?:pinning|a pinned version|version pins?|a version pin|locking)\b|\b(?:lacks?|lacking|without|no|missing)\s+(?:a\s+|any\s+)?version (?:specification|specifier|pin(?:ning)?|constraints?|spec|locking)\b|\b(?:use|uses|using|pin|pins|pinning|clone|install|fetch|check ?out)\s+(?:a\s+|the\s+)?(?:stable|fixed|specific|tagged|released|known[- ]good) (?:version|release|tag)s? of\b"#)
        .expect("the build patterns are valid regexes")
});
/// A dependency said to have changed under the build, or to be unpinned: "breaking changes
/// in a dependency", "dependencies were not pinned", "a new release of x broke the build",
/// "upstream changed its API".
static DEP_CHANGED_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bbreaking (?:api )?changes? (?:in|to|from|of) (?:an? |the |one of (?:the|our) |some )?(?:upstream |third[- ]party |external |transitive )?(?:dependenc(?:y|ies)|librar(?:y|ies)|modules?|packages?|deps?)\b|\b(?:dependenc(?:y|ies)|deps|versions?|modules?|packages?|tools?|requirements?)\b[^.\n]{0,20}?\b(?:(?:are|were|is|was)n't|(?:are|were|is|was) not|not|never(?: been)?)\s+(?:pinned|locked|fixed)\b|\bunpinned\b|\b(?:new|latest|recent) (?:release|version|tag) of\b[^.\n]{0,40}?\b(?:broke|breaks|broken|breaking)\b|\b(?:upstream|dependency|library|module)\b[^.\n]{0,30}?\bchanged (?:its|their) (?:api|interface|signature)s?\b")
        .expect("the build patterns are valid regexes")
});
/// Two builds said to have resolved different versions: "two CI runs of the same commit
/// picked up different versions of x", "the release build got a newer aws-sdk than my
/// local build".
static DIFFERENT_VERSIONS_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:picked up|pulled|pulls|resolved|resolves|got|gets|fetched|fetches|used|uses|downloaded|downloads|ended up with)\b[^.\n]{0,20}?\b(?:a )?(?:different|newer|another) (?:versions?|releases?|tags?)\b(?: of\b)?")
        .expect("the build patterns are valid regexes")
});
/// Two builds compared: "two CI runs", "the same commit", "my local build".
static TWO_BUILDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:two|both|every|each|consecutive|successive) (?:\w+ )?(?:builds?|runs?|pipelines?)\b|\bsame (?:commit|source|revision|tag|sha)\b|\b(?:local|my) build\b")
        .expect("the build patterns are valid regexes")
});
/// The build failing: a compiler position (`x.go:699:`) or a test failure's stack frame
/// (`x_test.go:551 (0x511125)`), make's `***`, a failure word.
static FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\.go:\d+(?::\d+)?(?:: | \(0x[0-9a-f]+\))|make: \*\*\*|\b(?:fail(?:s|ed|ing|ure)?|broke|broken|breaking|error)\b|requires go >=")
        .expect("the build patterns are valid regexes")
});
/// Docker's layer cache named (`--no-cache`, "docker builds using cache", "cached layers"):
/// a cached fetch step keeps the dependencies it resolved once.
static LAYER_CACHE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)--no-cache\b|\b(?:docker|layer|image)\s+(?:build\s+)?cach(?:e|ed|ing)\b|\bbuilds?\s+(?:using|with|from)\s+(?:the\s+)?cache\b|\bcached\s+(?:layers?|images?|builds?|steps?)\b")
        .expect("the build patterns are valid regexes")
});
/// A cached build said to differ from a fresh one: "unable to reproduce", "done fresh",
/// "from scratch", "stale".
static FRESH_DIFFERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\breproduc\w*|\bfresh(?:ly)?\b|\bfrom scratch\b|\bclean build\b|\bstale\b|\boutdated\b")
        .expect("the build patterns are valid regexes")
});
/// Updates said to come in unvetted or incompatible, the risk of resolving the newest on
/// every build: "untested dependency updates", "unreviewed crate upgrades", "bumps nobody
/// tested", "pulls in backwards-incompatible changes", "a breaking major release".
static UPDATES_UNVETTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:untested|unreviewed|unvetted|unexpected|unintended|uncontrolled|surprise|random)\s+(?:[\w-]+\s+)?(?:updates?|upgrades?|bumps?)\b|\b(?:updates?|upgrades?|bumps?|versions?)\b[^.\n]{0,20}?\b(?:nobody|no one|never)\s+(?:tested|reviewed|checked|vetted)\b|\bbackwards?[- ]incompatible\b|\b(?:incompatible|breaking)\s+(?:api\s+)?(?:changes?|versions?|releases?|major(?: versions?)?|v\d+)\b")
        .expect("the build patterns are valid regexes")
});
/// The source said not to have changed: the failure came from outside it.
static SOURCE_UNCHANGED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bwithout (?:any )?(?:changes?|modifications?|commits?)\b|\b(?:nothing|no code|no source)\b[^.\n]{0,20}?\bchanged\b|\bwith no (?:code |source )?changes\b|\bsuddenly\b|\brecently\b|\bovernight\b")
        .expect("the build patterns are valid regexes")
});

/// What a deployer installs (a Helm chart, an operator, a GitOps sync): left unpinned, the
/// deploy changes, not a build.
static DEPLOYED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:charts?|helm(?:file)?|argo ?cd|flux|kustomiz\w*|operators?|manifests?)\b")
        .expect("the build patterns are valid regexes")
});
/// A build or its toolchain named anywhere in the text.
static BUILT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgo (?:build|install|get|mod|run|test)\b|\bgo\.(?:mod|sum)\b|\bdocker build\b|\b(?:npm|npx|yarn|pnpm|pip3?|cargo|gem|bundle|composer|poetry|gradle|maven|mvn|make)\b|\bcompil\w*|\bbuilds?\b|\bdockerfile\b")
        .expect("the build patterns are valid regexes")
});

/// The unpinned thing at `start..end` is something a deployer installs (a chart used
/// "without pinning version"), in a text that names no build: the deploy drifted.
fn deployed_not_built(text: &str, start: usize, end: usize) -> bool {
    let line = line_at(text, start, end);
    DEPLOYED.is_match(&line) && !BUILT.is_match(text)
}

/// A dependency-drift finding from how the build resolves versions, told in its output or
/// in words.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let (m, confidence) = if let Some(m) = LATEST_NEEDS_NEWER_GO.find(text) {
        (m, 0.8)
    } else if let Some(m) = UNPINNED_RESOLVE
        .find(text)
        .filter(|m| !deployed_not_built(text, m.start(), m.end()))
    {
        let failed = FAILED.is_match(text) || UPDATES_UNVETTED.is_match(text);
        let unchanged = SOURCE_UNCHANGED.is_match(text);
        if !failed && !unchanged {
            return None;
        }
        (m, if failed && unchanged { 0.7 } else { 0.65 })
    } else if let Some(m) = DIFFERENT_VERSIONS_TOLD
        .find(text)
        .filter(|_| TWO_BUILDS.is_match(text))
    {
        (m, 0.65)
    } else if let Some(m) = LAYER_CACHE
        .find(text)
        .filter(|_| FRESH_DIFFERS.is_match(text))
    {
        // A cached image build and a fresh one behave differently: the cached layer holds
        // the dependencies an unpinned fetch resolved back then.
        (m, 0.5)
    } else {
        let m = DEP_CHANGED_TOLD.find(text)?;
        if !FAILED.is_match(text) {
            return None;
        }
        (m, 0.65)
    };
    let mut evidence = vec![line_at(text, m.start(), m.end())];
    if let Some(u) = SOURCE_UNCHANGED.find(text) {
        evidence.push(line_at(text, u.start(), u.end()));
    }
    Some(diagnosis(
        Class::BuildDependencyDrift,
        confidence,
        "The build resolves a dependency or tool at whatever version is newest (`@latest`, `go get -u`, an unpinned fetch), and a new release changed under it: the same source now builds against something else and breaks. Pin the version (go.mod / a tools.go, `go install x@vX.Y.Z`, a lockfile) so the build only changes when a commit changes it.".to_owned(),
        subject,
        evidence,
        vec![
            step(
                "Install tools at a fixed version instead of @latest (or track them in go.mod with a `tool` directive / tools.go).",
                "grep -rn '@latest\\|go get -u' .github/ Makefile scripts/ 2>/dev/null",
            ),
            step(
                "Pin module dependencies in the committed go.mod/go.sum and build read-only.",
                "go mod tidy && git diff --exit-code go.mod go.sum && GOFLAGS=-mod=readonly go build ./...",
            ),
        ],
        false,
    ))
}

#[cfg(test)]
mod tests;

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [
        &LATEST_NEEDS_NEWER_GO,
        &UNPINNED_RESOLVE,
        &DEP_CHANGED_TOLD,
        &FAILED,
        &SOURCE_UNCHANGED,
        &UPDATES_UNVETTED,
        &DIFFERENT_VERSIONS_TOLD,
        &TWO_BUILDS,
        &LAYER_CACHE,
        &FRESH_DIFFERS,
        &DEPLOYED,
        &BUILT,
    ] {
        LazyLock::force(p);
    }
}
