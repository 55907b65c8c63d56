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
/// … except", "different binaries depending on the checkout path", a build ID that differs,
/// an output's hash that changes between builds (or after a commit: the VCS stamp).
static WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bnot reproducib\w*|\bnon-?reproducib\w*|\bunreproducib\w*|reproducibility check failed|(?:binaries|checksums|hashes|digests) (?:differ|are different|do not match|don't match)|\b(?:bit|byte)[- ]for[- ](?:bit|byte) identical|\b(?:bit|byte)[- ]identical\b|different binar(?:y|ies)\b|build ?id\b[^.\n]{0,40}\b(?:differ|depend|change)|\b(?:hash|checksum|digest|sha-?(?:1|256|512))\b(?:[^.\n]|\.\S){0,80}?\bchang(?:es|ed|ing)\b[^.\n]{0,20}?\b(?:between|across|from one|on every|with every|after (?:a|every|each)) (?:\w+ )?(?:builds?|runs?|commits?)\b|\bproduc(?:es|ing|ed|e) (?:a )?different (?:hash|checksum|digest|sha)|\b(?:no longer|isn't|aren't|wasn't|weren't|stopped being|never)\s+(?:\w+\s+)?(?:reproducib\w*|deterministic)\b|\bnot (?:\w+\s+)?deterministic\b|\bnon-?deterministic (?:builds?|binar\w+|outputs?|artifacts?|releases?)\b|\b(?:hash|checksum|digest|sha-?\d*)\b[^.\n]{0,60}?\bchang\w*\b[^.\n]{0,30}?\b(?:each|every) time\b|\b(?:hash|checksum|digest|sha-?\d*)\b[^.\n]{0,60}?\bchang\w*\b[^.\n]{0,30}?\beven though\b[^.\n]{0,40}?\bsame\b|\bdifferent (?:hash|checksum|digest|sha-?\d*)\w*\b[^.\n]{0,30}?\b(?:each|every) (?:time|build|run)\b|\breproducib\w* (?:builds? )?(?:check|test|verification|job)\b[^.\n]{0,20}?\bfail\w*")
.expect("the build patterns are valid regexes")
});

/// The wall-clock time stamped into the binary: `-ldflags "-X main.BuildDate=$(date -u …)"`,
/// `-X pkg.buildTime=${BUILD_DATE}`, GoReleaser's `{{.Date}}` (its `{{.CommitDate}}` is
/// reproducible and not matched). Every build of one commit then differs.
static TIME_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)-X[= ]?\s*['"]?[\w./-]+=['"]?(?:\$\(\s*date\b|\$\{?(?:BUILD_?(?:DATE|TIME|TIMESTAMP)|DATE|NOW|TIMESTAMP)\b|\{\{\s*\.(?:Date|Now|Timestamp)\b)"#)
        .expect("the build patterns are valid regexes")
});
/// An artefact's hash said not to match another build's, in words: "the binaries' hashes
/// match and they didn't", "release checksums do not match", "the hash was different than
/// the binary built by CI", "the sha256 of my bin file doesn't match the released one".
static HASH_DIFFERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:binar(?:y|ies)|releases?|artifacts?|artefacts?|executables?|tarballs?|archives?|builds?)(?:'s?|')?\s+(?:sha-?\d+\s+)?(?:hash(?:es)?|checksums?|digests?|sha-?\d+s?)\b[^.\n]{0,40}?\b(?:(?:didn't|did not|don't|do not|doesn't|does not|no longer|never|not)\s+(?:\w+\s+)?match\w*|match\w*\b[^.\n]{0,20}?\b(?:didn't|did not|don't|do not|doesn't|does not|weren't|wasn't)\b)|\b(?:hash(?:es)?|checksums?|digests?)\b[^.\n]{0,30}?\b(?:was|were|is|are)\s+different\s+(?:than|from)\b|\b(?:hash(?:es)?|checksums?|digests?|sha-?\d+(?:sums?)?)\s+(?:of|for)\s+(?:\S+\s+){0,4}?(?:binar(?:y|ies)|files?|builds?|artifacts?|artefacts?|executables?|firmware|images?|packages?|apks?|jars?|[\w-]+(?:\.[\w-]+)*\.(?:bin|exe|apk|aab|jar|img|iso|deb|rpm|zip|tgz|gz|whl|dmg|msi|hex|elf))\b[^.\n]{0,20}?\b(?:(?:didn't|did not|don't|do not|doesn't|does not|never|not)\s+match\w*|differs?|(?:is|are|was|were)\s+different)\b")
        .expect("the build patterns are valid regexes")
});
/// Per-build paths inside the binary: a diff of two builds' contents showing Go's temporary
/// work directories (`/tmp/go-build4092077316/b179`, kept by cgo's debug info), or build /
/// checkout paths said to be embedded.
static PATHS_EMBEDDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*[-+<>!].*?/tmp/go-build\d+|(?i)\b(?:build|checkout|source|absolute|workspace|temp(?:orary)?|work(?:ing)?) (?:paths?|dir(?:ector(?:y|ies)|s)?)\b[^.\n]{0,40}?\b(?:embedded|baked|leak\w*|end(?:s|ed)? up|included|stored|recorded|compiled)\b|\bwithout -trimpath\b|\b(?:embed|bake|record|store|keep|leak|include|compile)(?:s|d|ed)?(?: in)?\s+(?:the\s+)?(?:full|absolute|local|home|checkout|module|source|file ?system)\s+(?:\w+\s+)?paths?\b|\b(?:full|absolute|local|home|checkout|module|source) paths?\b[^.\n]{0,60}?\b(?:in|into|inside) (?:the |every |each |our |a )?(?:binar(?:y|ies)|executables?|artifacts?|artefacts?)\b")
        .expect("the build patterns are valid regexes")
});
/// A line of a diff of two builds (plain, or behind diffoscope's `│` margins) naming an
/// absolute path (`│ -  2  0 0 0 /snap/go/5759/src/internal/cpu/cpu.go`): group 1 the side,
/// group 2 the path's directories.
static DIFF_ABS_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[\s│|]*([-+<>])[^\n]*?\s(/(?:[\w.@+~-]+/){2,})")
        .expect("the build patterns are valid regexes")
});

/// Version-control information stamped into the artefact: Go's `vcs.revision` /
/// `-buildvcs`, Android's `META-INF/version-control-info.textproto`, a commit hash said to
/// be embedded. It differs whenever the build is made from another checkout than the tag.
static VCS_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bversion[-_ ]control[-_ ]info\b|\bvcs[-_.](?:info|revision|time|modified)\b|\bbuildvcs\b|\b(?:git |commit |vcs )?(?:commit|revision|sha|hash)\b[^.\n]{0,20}?\b(?:embedded|baked|stamped)\b")
        .expect("the build patterns are valid regexes")
});
/// A rebuild asked to start from the released source: "make sure the apk is built from the
/// tag", "build the release from the tag", "rebuilt from the same tag".
static FROM_THE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:built|build|builds|rebuilt|rebuild|compiled)\s+(?:\S+\s+){0,3}?from\s+(?:the\s+|its\s+|a\s+)?(?:same\s+|release\s+|released\s+|git\s+|right\s+|correct\s+|tagged\s+)?(?:tag|commit|revision|release tag)\b")
        .expect("the build patterns are valid regexes")
});
/// A build input that varies between builds, named beside a reproducibility complaint:
/// linker flags, build IDs, the Go version, cgo, paths, time.
static VARYING_INPUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)-ldflags|-trimpath|-buildid|\bbuild ?id\b|\b(?:go|golang) (?:version|toolchain)\b|\btoolchain\b|\bCGO_ENABLED\b|SOURCE_DATE_EPOCH|/tmp/go-build|\bbuild ?paths?\b|\btime ?stamps?\b|\bbuildvcs\b")
        .expect("the build patterns are valid regexes")
});
/// Two builds being compared: "two builds", "both builds", "every build of the same
/// commit", "the hashes differ".
static COMPARED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:two|both|every|each|repeated|consecutive|successive) (?:\w+ )?builds?\b|\bsame (?:commit|source|revision|tag|sha)\b|\bdiffer(?:s|ed|ent)?\b")
        .expect("the build patterns are valid regexes")
});

/// go.mod said to declare a module at one version (`go.mod declares github.com/x/y v1.4.0`,
/// `` `go.mod` correctly required … v0.0.65 ``). Group 1 the module, 2 the version.
static DECLARED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bgo\.mod\W{0,3}\s+(?:\w+\s+){0,2}?(?:declares?|declared|requires?|required|pins?|pinned|specifies|specified|lists?|listed|says|has|had)\s+\W{0,3}((?:[\w.-]+/)+[\w.-]+)\s+(v\d+\.\d+\.\d+[\w.+-]*)")
        .expect("the build patterns are valid regexes")
});
/// A line about what was built (`the binary was built with x/net@v0.15.0`, `ended up with
/// lantern-box@v0.0.58 compiled in`).
static BUILT_WITH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:binary|binaries|build|built|compiled|release|image|resolved|resolves|ended up|shipped|linked)\b")
        .expect("the build patterns are valid regexes")
});
/// `module@version`; group 1 the module (or its last path elements), 2 the version.
static AT_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:[\w.-]+/)*[\w.-]+)@(v\d+\.\d+\.\d+[\w.+-]*)")
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
    out.extend(
        drift(text, subject)
            .or_else(|| would_select(text, subject))
            .or_else(|| declared_vs_built(text, subject))
            .or_else(|| crate::unpinned::diagnose(text, subject)),
    );
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

/// go.mod said to declare a module at one version while a line about the built artefact
/// names it at another (`go.mod declares github.com/x/y v1.4.0` … `the binary contains
/// y@v1.2.0`): the build resolved something other than the committed module graph.
fn declared_vs_built(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let last = |m: &str| m.rsplit('/').next().unwrap_or(m).to_owned();
    let declared: Vec<(String, String)> = DECLARED
        .captures_iter(text)
        .take(20)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    if declared.is_empty() {
        return None;
    }
    let (module, want, got, line) = text
        .lines()
        .filter(|l| BUILT_WITH.is_match(l))
        .flat_map(|l| AT_VERSION.captures_iter(l).map(move |c| (l, c)))
        .find_map(|(l, c)| {
            let (m, v) = (c.get(1)?.as_str(), c.get(2)?.as_str());
            declared
                .iter()
                .find(|(dm, dv)| last(dm) == last(m) && dv != v)
                .map(|(dm, dv)| (dm.clone(), dv.clone(), v.to_owned(), l.trim().to_owned()))
        })?;
    Some(diagnosis(
        Class::BuildDependencyDrift,
        0.7,
        format!(
            "go.mod declares {module} {want}, but the build used {got}: the build resolved the module graph itself instead of using the committed go.mod/go.sum (stale go.sum entries, a replace or workspace, -mod=mod, or a tool such as gomobile that resolves on its own)."
        ),
        subject,
        vec![
            format!("go.mod declares {module} {want}"),
            format!("\"{line}\""),
        ],
        vec![
            step(
                "Tidy the module files, commit them, and make CI fail when a build would change them.",
                "go mod tidy && git diff --exit-code go.mod go.sum",
            ),
            step(
                "Check which version the built binary actually contains.",
                format!("go version -m <binary> | grep {}", last(&module)),
            ),
        ],
        false,
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
    // A module's hash differing from go.sum is a checksum mismatch, not two builds.
    let module_sums = text.contains("go.sum") || text.contains("verifying");
    let words = WORDS
        .find(text)
        .or_else(|| HASH_DIFFERS.find(text).filter(|_| !module_sums))
        .or_else(|| VCS_STAMP.find(text).filter(|_| FROM_THE_TAG.is_match(text)));
    let stamp = TIME_STAMP.find(text);
    // Go's temporary work directory on a line of a diff counts only in a diff (both a
    // removed and an added line), not in a shell trace's `+ cd /tmp/go-build…`.
    let paths = PATHS_EMBEDDED
        .find(text)
        .filter(|m| !m.as_str().contains("/tmp/go-build") || is_diff(text))
        .or_else(|| paths_differ(text));
    if differing.is_empty()
        && setting_diffs.is_empty()
        && words.is_none()
        && stamp.is_none()
        && paths.is_none()
    {
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
    if let Some(m) = stamp {
        evidence.push(format!(
            "the build stamps the wall-clock time into the binary: {}",
            crate::line_at(text, m.start(), m.end())
        ));
    }
    if let Some(m) = paths {
        evidence.push(format!(
            "per-build paths end up in the binary: {}",
            crate::line_at(text, m.start(), m.end())
        ));
    }
    let told = words.is_some() || paths.is_some();
    let confidence = match (!differing.is_empty(), !setting_diffs.is_empty()) {
        (true, _) | (_, true) => 0.85,
        // Told in words, with the varying input named: the complaint and its cause.
        _ if told && VARYING_INPUT.is_match(text) => 0.8,
        // A time stamp makes every build differ; with two builds compared it is the cause.
        _ if stamp.is_some() && COMPARED.is_match(text) => 0.7,
        _ if words.is_some() || paths.is_some() => 0.6,
        _ => 0.5,
    };
    let summary = if paths.is_some() && setting_diffs.is_empty() && differing.is_empty() {
        "Two builds of the same source produce different binaries because per-build paths end up in them (Go's temporary /tmp/go-build… work directories kept in cgo debug info, or the checkout path): build with -trimpath, and for cgo also pass -ffile-prefix-map / strip the debug info.".to_owned()
    } else if stamp.is_some() && setting_diffs.is_empty() {
        "Two builds of the same commit produce different binaries because the build stamps the time it ran into them (-ldflags -X …=$(date …)); take the stamp from the commit instead (git log -1 --format=%cI, SOURCE_DATE_EPOCH, GoReleaser's {{.CommitDate}}).".to_owned()
    } else if setting_diffs.is_empty() {
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

/// Two builds' binaries diffed with the same source directory under another root on each
/// side (`/snap/go/5759/src/internal/cpu/` against `/usr/lib/golang/src/internal/cpu/`):
/// each build recorded its own GOROOT, module cache or checkout. The first removed line.
fn paths_differ(text: &str) -> Option<regex::Match<'_>> {
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for c in DIFF_ABS_PATH.captures_iter(text) {
        let (Some(side), Some(dir), Some(line)) = (c.get(1), c.get(2), c.get(0)) else {
            continue;
        };
        if matches!(side.as_str(), "-" | "<") {
            removed.push((line, dir.as_str()));
        } else {
            added.push(dir.as_str());
        }
    }
    removed
        .into_iter()
        .find(|(_, a)| added.iter().any(|b| same_tail_other_root(a, b)))
        .map(|(line, _)| line)
}

/// Two directories that end in the same two or more segments under different roots.
fn same_tail_other_root(a: &str, b: &str) -> bool {
    let sa: Vec<&str> = a.split('/').filter(|s| !s.is_empty()).collect();
    let sb: Vec<&str> = b.split('/').filter(|s| !s.is_empty()).collect();
    let common = sa
        .iter()
        .rev()
        .zip(sb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    common >= 2 && common < sa.len().max(sb.len()) && sa != sb
}

/// The text holds a diff: a removed and an added line (`-`/`+` or `<`/`>`), beyond the
/// `---`/`+++` file headers.
fn is_diff(text: &str) -> bool {
    let starts = |c: char| {
        text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(c) && !l.starts_with(&format!("{c}{c}{c}")[..])
        })
    };
    (starts('-') && starts('+')) || (starts('<') && starts('>'))
}

#[cfg(test)]
mod tests;

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    LazyLock::force(&MODULE_VERSION);
    for p in [
        &SHA_LINE,
        &BUILD_SETTING,
        &WORDS,
        &WOULD_SELECT,
        &TIME_STAMP,
        &COMPARED,
        &DECLARED,
        &BUILT_WITH,
        &AT_VERSION,
        &HASH_DIFFERS,
        &VCS_STAMP,
        &FROM_THE_TAG,
        &PATHS_EMBEDDED,
        &DIFF_ABS_PATH,
        &VARYING_INPUT,
    ] {
        LazyLock::force(p);
    }
}
