//! Two builds compared from what they record (binaries, `go version -m` or `go list -m
//! -json` output): the differences an expert would look for, each with its likely cause and
//! the flag or step that removes it, turned into the function's diagnoses
//! (`build.dependency_drift`, `build.checksum_mismatch`, `build.not_reproducible`).

use std::collections::BTreeMap;

use lastmile_events::{Class, Diagnosis, Remediation, Subject};
use serde::Serialize;

use crate::buildinfo::input::Loaded;
use crate::buildinfo::{BuildInfo, Module};
use crate::{diagnosis, step};

/// One difference between build A and build B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// One module at two versions (or replaced by two different things), or present on one
    /// side only (`a` or `b` is then `None`).
    Drift {
        /// Module path.
        module: String,
        /// What A built (`v1.0.0`, `v1.0.0 => ../greet`).
        a: Option<String>,
        /// What B built.
        b: Option<String>,
        /// The likely cause.
        cause: String,
    },
    /// One module version with two content hashes.
    Checksum {
        /// Module path.
        module: String,
        /// The version both record.
        version: String,
        /// A's `h1:` sum.
        a: String,
        /// B's `h1:` sum.
        b: String,
    },
    /// A build setting, the toolchain or the main module's version differs.
    Setting {
        /// The key (`-trimpath`, `go`, `vcs.revision`).
        key: String,
        /// A's value (`None`: not recorded).
        a: Option<String>,
        /// B's value.
        b: Option<String>,
        /// What removes the difference.
        fix: String,
    },
    /// A build was made from a work tree with uncommitted changes.
    Modified {
        /// `A` or `B`.
        side: String,
    },
    /// The files differ although everything recorded is equal.
    Digest {
        /// A's SHA-256.
        a: String,
        /// B's SHA-256.
        b: String,
    },
}

/// Compares two builds' records.
pub fn compare(a: &Loaded, b: &Loaded) -> Vec<Finding> {
    let mut out = Vec::new();
    let (ia, ib) = (&a.info, &b.info);
    // Toolchain first: it explains much of what follows.
    if let (Some(va), Some(vb)) = (&ia.go_version, &ib.go_version)
        && va != vb
    {
        out.push(Finding::Setting {
            key: "go".into(),
            a: Some(va.clone()),
            b: Some(vb.clone()),
            fix: "pin the toolchain: a `toolchain` line in go.mod with GOTOOLCHAIN=<that version> (Go ≥ 1.21), or the same builder image for every build".into(),
        });
    }
    out.extend(modules(ia, ib));
    if let (Some(ma), Some(mb)) = (&ia.main, &ib.main)
        && ma.version != mb.version
    {
        out.push(Finding::Setting {
            key: "main module version".into(),
            a: Some(ma.version.clone()),
            b: Some(mb.version.clone()),
            fix: "build from the same tag and commit (the main module's version is stamped from VCS); -buildvcs=false stops the stamping".into(),
        });
    }
    out.extend(settings(ia, ib));
    for (side, info) in [("A", ia), ("B", ib)] {
        if info.setting("vcs.modified") == Some("true") {
            out.push(Finding::Modified { side: side.into() });
        }
    }
    if out.is_empty()
        && let (Some(da), Some(db)) = (&a.sha256, &b.sha256)
        && da != db
    {
        out.push(Finding::Digest {
            a: da.clone(),
            b: db.clone(),
        });
    }
    out
}

fn modules(ia: &BuildInfo, ib: &BuildInfo) -> Vec<Finding> {
    let index = |i: &BuildInfo| -> BTreeMap<String, Module> {
        i.deps.iter().map(|m| (m.path.clone(), m.clone())).collect()
    };
    let (ma, mb) = (index(ia), index(ib));
    let mut out = Vec::new();
    let mut paths: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        match (ma.get(path), mb.get(path)) {
            (Some(x), Some(y)) => {
                let (ex, ey) = (x.effective(), y.effective());
                if ex.path == ey.path && ex.version == ey.version && x.version == y.version {
                    if let (Some(sx), Some(sy)) = (&ex.sum, &ey.sum)
                        && sx != sy
                    {
                        out.push(Finding::Checksum {
                            module: ex.path.clone(),
                            version: ex.version.clone(),
                            a: sx.clone(),
                            b: sy.clone(),
                        });
                    }
                    continue;
                }
                out.push(Finding::Drift {
                    module: path.clone(),
                    a: Some(shown(x)),
                    b: Some(shown(y)),
                    cause: drift_cause(ia, ib, x, y),
                });
            }
            (x, y) => out.push(Finding::Drift {
                module: path.clone(),
                a: x.map(shown),
                b: y.map(shown),
                cause: "the builds link different module sets: an import added or removed, build tags that pull in other packages, or go.mod changed between the builds".into(),
            }),
        }
    }
    out
}

/// `v1.0.0`, or `v1.0.0 => ../greet` when replaced.
fn shown(m: &Module) -> String {
    m.display()
        .strip_prefix(&format!("{}@", m.path))
        .map_or_else(|| m.display(), str::to_owned)
}

fn drift_cause(ia: &BuildInfo, ib: &BuildInfo, x: &Module, y: &Module) -> String {
    if x.replace.is_some() || y.replace.is_some() {
        let r = |m: &Module| {
            m.replace.as_ref().map_or_else(
                || "no replace".to_owned(),
                |r| format!("`=> {}`", shown_replace(r)),
            )
        };
        return format!(
            "a `replace` directive: A has {}, B has {} (a local path or fork in go.mod, or a go.work file, decides what is built)",
            r(x),
            r(y)
        );
    }
    if ia.go_version.is_some() && ia.go_version != ib.go_version {
        return format!(
            "an unpinned toolchain: A was built by {}, B by {}; another Go version can select other module versions (its `go` line upgrades, and it may run with GOFLAGS=-mod=mod or `go get`)",
            ia.go_version.as_deref().unwrap_or("?"),
            ib.go_version.as_deref().unwrap_or("?")
        );
    }
    let rev = |i: &BuildInfo| i.setting("vcs.revision").map(str::to_owned);
    match (rev(ia), rev(ib)) {
        (Some(ra), Some(rb)) if ra == rb => format!(
            "the same commit ({}) resolved two versions, so a build chose versions itself: GOFLAGS=-mod=mod or a `go get` in the build, or a GOPROXY serving another version list",
            short(&ra)
        ),
        (Some(ra), Some(rb)) => format!(
            "go.mod changed between the commits ({} vs {}), or a build ran with GOFLAGS=-mod=mod / `go get` against a proxy",
            short(&ra),
            short(&rb)
        ),
        _ => "a build resolved versions itself (GOFLAGS=-mod=mod or `go get` in the build, or a proxy serving another version list), or go.mod differs between the builds".into(),
    }
}

fn shown_replace(r: &Module) -> String {
    if r.version.is_empty() || r.version == "(devel)" {
        r.path.clone()
    } else {
        format!("{} {}", r.path, r.version)
    }
}

fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

/// The flag or step that removes a difference in build setting `key`.
fn setting_fix(key: &str) -> String {
    match key {
        "-trimpath" => "build both with -trimpath (without it the build machine's file paths are embedded)".into(),
        "-ldflags" => "pass the same -ldflags to both builds (-X values, -s -w); -ldflags=-buildid= removes the build ID".into(),
        "-gcflags" | "-asmflags" => format!("pass the same {key} to both builds (a debugging flag left in one?)"),
        "-tags" => "pass the same -tags: build tags select other files and can pull in other packages".into(),
        "-race" | "-msan" | "-asan" | "-cover" | "-buildmode" | "-compiler" => {
            format!("build both with the same {key}")
        }
        "CGO_ENABLED" => "set CGO_ENABLED explicitly (it defaults to 1 when a C compiler is on PATH, 0 otherwise)".into(),
        "vcs.revision" => "the builds are of different commits: build the same commit (or -buildvcs=false to stop stamping it)".into(),
        "vcs.time" => "the commit time is stamped: build the same commit, or -buildvcs=false".into(),
        "vcs.modified" => "commit or discard local changes (git status), or -buildvcs=false to stop stamping the work tree state".into(),
        "vcs" => "-buildvcs=false in both builds (or build both from a VCS checkout)".into(),
        "DefaultGODEBUG" => "the go line of go.mod or the toolchain differ: pin both".into(),
        k if k.starts_with("CGO_") => format!("set {k} the same in both builds (C flags from the environment)"),
        k if k.starts_with("GO") => format!("set {k} explicitly in both builds (it comes from the environment otherwise)"),
        k => format!("build both with the same {k}"),
    }
}

fn settings(ia: &BuildInfo, ib: &BuildInfo) -> Vec<Finding> {
    let mut keys: Vec<&str> = ia
        .settings
        .iter()
        .chain(&ib.settings)
        .map(|s| s.key.as_str())
        .collect();
    keys.dedup();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for key in keys {
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let (a, b) = (ia.setting(key), ib.setting(key));
        if a != b {
            out.push(Finding::Setting {
                key: key.to_owned(),
                a: a.map(str::to_owned),
                b: b.map(str::to_owned),
                fix: setting_fix(key),
            });
        }
    }
    out
}

/// One line for a finding.
pub fn describe(f: &Finding) -> String {
    let or_none = |v: &Option<String>| match v.as_deref() {
        None => "(not recorded)".to_owned(),
        Some("") => "\"\"".to_owned(),
        Some(v) => v.to_owned(),
    };
    match f {
        Finding::Drift {
            module,
            a,
            b,
            cause,
        } => match (a, b) {
            (Some(a), Some(b)) => format!("{module}: A {a}, B {b} — likely {cause}"),
            (Some(a), None) => format!("{module}: only A links it ({a})"),
            (None, Some(b)) => format!("{module}: only B links it ({b})"),
            (None, None) => module.clone(),
        },
        Finding::Checksum {
            module,
            version,
            a,
            b,
        } => {
            format!("{module}@{version}: A has {a}, B has {b}")
        }
        Finding::Setting { key, a, b, fix } => {
            format!("{key}: A {}, B {} — fix: {fix}", or_none(a), or_none(b))
        }
        Finding::Modified { side } => format!(
            "{side} was built from a work tree with uncommitted changes (vcs.modified=true) — fix: commit or discard them; -buildvcs=false stops the stamp"
        ),
        Finding::Digest { a, b } => format!(
            "the files differ (sha256 {} vs {}) though all recorded build information is equal — fix: -trimpath and -ldflags=-buildid=",
            short(a),
            short(b)
        ),
    }
}

/// The diagnoses for `findings` between builds named `a` and `b`.
pub fn diagnoses(findings: &[Finding], a: &str, b: &str, subject: &Subject) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let drift: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f, Finding::Drift { .. }))
        .collect();
    if let Some(Finding::Drift {
        module,
        a: va,
        b: vb,
        cause,
    }) = drift.first()
    {
        let summary = format!(
            "{a} and {b} link different versions of {} module(s): {module} is {} in {a} and {} in {b}; likely cause: {cause}.",
            drift.len(),
            va.as_deref().unwrap_or("absent"),
            vb.as_deref().unwrap_or("absent"),
        );
        let mut remediation = vec![
            step(
                "Build with the committed module files only, so a build cannot pick versions itself.",
                "GOFLAGS=-mod=readonly go build ./...",
            ),
            step(
                "Fail CI when go.mod/go.sum are not what the build uses.",
                "go mod tidy && git diff --exit-code go.mod go.sum",
            ),
        ];
        if drift
            .iter()
            .any(|f| matches!(f, Finding::Drift { cause, .. } if cause.contains("replace")))
        {
            remediation.insert(
                0,
                step(
                    "See which replacements each build applies (go.mod and any go.work).",
                    format!("grep -n replace go.mod; go env GOWORK; go mod why -m {module}"),
                ),
            );
        }
        out.push(diagnosis(
            Class::BuildDependencyDrift,
            0.95,
            summary,
            subject,
            drift.iter().take(20).map(|f| describe(f)).collect(),
            remediation,
            true,
        ));
    }
    let sums: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f, Finding::Checksum { .. }))
        .collect();
    if let Some(Finding::Checksum {
        module, version, ..
    }) = sums.first()
    {
        let summary = format!(
            "{a} and {b} built {module}@{version} from different content ({} module(s) with two h1: sums): a poisoned or misconfigured proxy, a corrupt module cache, or a re-tagged version; one of the two is not the code go.sum vouches for.",
            sums.len()
        );
        let remediation: Vec<Remediation> = vec![
            step(
                "Ask the checksum database which hash it recorded, and compare both.",
                format!("curl -s https://sum.golang.org/lookup/{module}@{version}"),
            ),
            step(
                "See where each build fetched modules and whether verification was off.",
                "go env GOPROXY GOSUMDB GONOSUMDB GONOSUMCHECK GOFLAGS GOPRIVATE",
            ),
            step(
                "Clear the module cache of the suspect builder and verify what is downloaded.",
                "go clean -modcache && go mod download && go mod verify",
            ),
        ];
        out.push(diagnosis(
            Class::BuildChecksumMismatch,
            0.95,
            summary,
            subject,
            sums.iter().take(20).map(|f| describe(f)).collect(),
            remediation,
            true,
        ));
    }
    let rest: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            matches!(
                f,
                Finding::Setting { .. } | Finding::Modified { .. } | Finding::Digest { .. }
            )
        })
        .collect();
    if !rest.is_empty() {
        let what: Vec<String> = rest
            .iter()
            .map(|f| match f {
                Finding::Setting { key, .. } => key.clone(),
                Finding::Modified { .. } => "vcs.modified=true".into(),
                _ => "the file digest".into(),
            })
            .collect();
        let mut what_dedup = what.clone();
        what_dedup.dedup();
        let summary = format!(
            "{a} and {b} are not the same build: {} differ{}.",
            what_dedup.join(", "),
            if what_dedup.len() == 1 { "s" } else { "" }
        );
        let mut flags = Vec::new();
        for f in &rest {
            let add: &[&str] = match f {
                Finding::Setting { key, .. } if key == "-trimpath" => &["-trimpath"],
                Finding::Setting { key, .. } if key == "-ldflags" => &["-ldflags=-buildid="],
                Finding::Setting { key, .. } if key.starts_with("vcs") => &["-buildvcs=false"],
                Finding::Modified { .. } => &["-buildvcs=false"],
                Finding::Digest { .. } => &["-trimpath", "-ldflags=-buildid="],
                _ => &[],
            };
            for a in add {
                if !flags.contains(a) {
                    flags.push(*a);
                }
            }
        }
        let mut remediation = Vec::new();
        if !flags.is_empty() {
            remediation.push(step(
                "Build without machine- and checkout-specific inputs.",
                format!("GOFLAGS=-mod=readonly go build {} ./...", flags.join(" ")),
            ));
        }
        if rest
            .iter()
            .any(|f| matches!(f, Finding::Setting { key, .. } if key == "go"))
        {
            remediation.push(step(
                "Pin the toolchain for every build (Go ≥ 1.21).",
                "go mod edit -toolchain=go1.x.y && export GOTOOLCHAIN=go1.x.y",
            ));
        }
        remediation.push(step(
            "Compare what the two binaries record.",
            format!("lastmile build diff {a} {b}"),
        ));
        out.push(diagnosis(
            Class::BuildNotReproducible,
            0.9,
            summary,
            subject,
            rest.iter().take(20).map(|f| describe(f)).collect(),
            remediation,
            true,
        ));
    }
    out
}
