//! ARCHITECTURE.md is the law: the workspace's real dependency graph may only contain the
//! edges its layer table allows, every shipped crate's licence must be on its list, and a
//! crate may appear at two major versions only when the document says why.
//!
//! The rules are read from the document itself, so the document and the check cannot drift.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn architecture_md() -> String {
    std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace());
    cmd
}

// ---- the layer table ------------------------------------------------------------------

/// One row of the layer table: a crate name or a `prefix-*` pattern, what it may depend on,
/// and what its tests may also use.
#[derive(Debug)]
struct Rule {
    pattern: String,
    normal: Allowed,
    dev: Allowed,
}

#[derive(Debug)]
enum Allowed {
    /// Only these crates (patterns allowed).
    Only(Vec<String>),
    /// Every workspace crate of an earlier row ("every crate above").
    Above,
    /// Every workspace crate.
    Every,
}

fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn allowed(cell: &str) -> Allowed {
    let cell = cell.trim();
    if cell.starts_with("every crate above") {
        Allowed::Above
    } else if cell.starts_with("every crate") {
        Allowed::Every
    } else {
        Allowed::Only(backticked(cell))
    }
}

/// The rows of the "Layers and allowed dependencies" table, in document order.
fn layer_rules(doc: &str) -> Vec<Rule> {
    let section = doc
        .split("## Layers and allowed dependencies")
        .nth(1)
        .expect("ARCHITECTURE.md has a layer table");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `lastmile"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 4, "a layer row has four cells: {line}");
            Rule {
                pattern: backticked(cells[0]).remove(0),
                normal: allowed(cells[2]),
                dev: allowed(cells[3]),
            }
        })
        .collect()
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The workspace crates and their declared dependencies on other workspace crates:
/// (crate, dependency, is a dev-dependency).
type Edge = (String, String, bool);

fn workspace_edges() -> (BTreeSet<String>, Vec<Edge>) {
    let out = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let mut edges = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            if members.contains(dep) {
                let dev = d["kind"].as_str() == Some("dev");
                edges.push((name.to_owned(), dep.to_owned(), dev));
            }
        }
    }
    (members, edges)
}

/// Every violation of the rules by the given crates and edges, as readable lines.
fn violations(rules: &[Rule], members: &BTreeSet<String>, edges: &[Edge]) -> Vec<String> {
    let mut found = Vec::new();
    let row_of = |name: &str| rules.iter().position(|r| matches(&r.pattern, name));
    for m in members {
        if row_of(m).is_none() {
            found.push(format!(
                "crate {m} is not in ARCHITECTURE.md's layer table: add its row"
            ));
        }
    }
    for (from, to, dev) in edges {
        let Some(row) = row_of(from) else { continue };
        let rule = &rules[row];
        let permitted = |allowed: &Allowed| match allowed {
            Allowed::Only(list) => list.iter().any(|p| matches(p, to)),
            Allowed::Above => row_of(to).is_some_and(|r| r < row),
            Allowed::Every => true,
        };
        let ok = permitted(&rule.normal) || (*dev && permitted(&rule.dev));
        if !ok {
            let kind = if *dev { "dev-dependency" } else { "dependency" };
            found.push(format!(
                "{from} -> {to} ({kind}) is not allowed by ARCHITECTURE.md"
            ));
        }
    }
    found
}

#[test]
fn every_dependency_edge_is_allowed_by_architecture_md() {
    let rules = layer_rules(&architecture_md());
    assert!(rules.len() >= 10, "the layer table was not read: {rules:?}");
    let (members, edges) = workspace_edges();
    assert!(
        edges
            .iter()
            .any(|(f, t, _)| f == "lastmile" && t == "lastmile-runtime"),
        "the dependency graph was not read: {edges:?}"
    );
    let bad = violations(&rules, &members, &edges);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_edge_check_catches_a_function_that_depends_on_the_runtime() {
    let rules = layer_rules(&architecture_md());
    let members: BTreeSet<String> = ["lastmile-fn-pending", "lastmile-runtime", "lastmile-gate"]
        .map(String::from)
        .into();
    let edges = vec![
        // forbidden: transport under a function
        (
            "lastmile-fn-pending".into(),
            "lastmile-runtime".into(),
            false,
        ),
        // allowed: the runtime in a function's tests
        (
            "lastmile-fn-pending".into(),
            "lastmile-runtime".into(),
            true,
        ),
        // forbidden: a consumer depending on a source
        ("lastmile-gate".into(), "lastmile-watcher".into(), false),
    ];
    let bad = violations(&rules, &members, &edges);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].contains("lastmile-fn-pending -> lastmile-runtime (dependency)"));
    assert!(bad[1].contains("lastmile-gate -> lastmile-watcher"));
    let unknown: BTreeSet<String> = ["lastmile-newthing".to_owned()].into();
    assert_eq!(violations(&rules, &unknown, &[]).len(), 1);
}

// ---- licences and duplicate majors -----------------------------------------------------

/// The text between `<!-- tag -->` and `<!-- /tag -->`.
fn marked<'a>(doc: &'a str, tag: &str) -> &'a str {
    let open = format!("<!-- {tag} -->");
    let close = format!("<!-- /{tag} -->");
    let start = doc.find(&open).expect("marker") + open.len();
    let end = doc[start..].find(&close).expect("closing marker") + start;
    &doc[start..end]
}

/// Whether an SPDX expression can be satisfied with the allowed licences.
/// Grammar: `or := and ("OR" and)*`, `and := atom ("AND" atom)*`,
/// `atom := "(" or ")" | ID ["WITH" ID]`; the legacy `A/B` is read as `A OR B`.
fn licence_ok(expr: &str, allowed: &BTreeSet<String>) -> bool {
    let spaced = expr
        .replace('/', " OR ")
        .replace('(', " ( ")
        .replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let ok = or_expr(&tokens, &mut pos, allowed);
    ok && pos == tokens.len() && !tokens.is_empty()
}

fn or_expr(t: &[&str], pos: &mut usize, allowed: &BTreeSet<String>) -> bool {
    let mut ok = and_expr(t, pos, allowed);
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        ok |= and_expr(t, pos, allowed);
    }
    ok
}

fn and_expr(t: &[&str], pos: &mut usize, allowed: &BTreeSet<String>) -> bool {
    let mut ok = atom(t, pos, allowed);
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        ok &= atom(t, pos, allowed);
    }
    ok
}

fn atom(t: &[&str], pos: &mut usize, allowed: &BTreeSet<String>) -> bool {
    match t.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            let ok = or_expr(t, pos, allowed);
            if t.get(*pos) == Some(&")") {
                *pos += 1;
                ok
            } else {
                false
            }
        }
        Some(id) => {
            *pos += 1;
            let mut licence = (*id).to_owned();
            if t.get(*pos) == Some(&"WITH") {
                licence = format!("{licence} WITH {}", t.get(*pos + 1).unwrap_or(&""));
                *pos += 2;
            }
            allowed.contains(&licence)
        }
        None => false,
    }
}

/// (name, version, licence) of every crate that ships, host platform, from `cargo tree`.
fn shipped_crates() -> BTreeSet<(String, String, String)> {
    let out = cargo()
        .args([
            "tree",
            "--offline",
            "--workspace",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}|{l}",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let line = line.trim_end_matches(" (*)");
            let (package, licence) = line.split_once('|')?;
            let mut words = package.split_whitespace();
            let name = words.next()?.to_owned();
            let version = words.next()?.trim_start_matches('v').to_owned();
            Some((name, version, licence.trim().to_owned()))
        })
        .collect()
}

/// The semver-compatibility class of a version: `1.2.3` → `1`, `0.22.1` → `0.22`.
fn major(version: &str) -> String {
    let mut parts = version.split('.');
    match parts.next() {
        Some("0") => format!("0.{}", parts.next().unwrap_or("0")),
        Some(m) => m.to_owned(),
        None => String::new(),
    }
}

#[test]
fn every_shipped_crate_has_an_allowed_licence() {
    let doc = architecture_md();
    let allowed: BTreeSet<String> = backticked(marked(&doc, "allowed-licences"))
        .into_iter()
        .collect();
    let crates = shipped_crates();
    assert!(crates.len() > 100, "cargo tree was not read: {crates:?}");
    let bad: Vec<String> = crates
        .iter()
        .filter(|(_, _, licence)| !licence_ok(licence, &allowed))
        .map(|(n, v, l)| format!("{n} {v}: licence {l:?} is not allowed by ARCHITECTURE.md"))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_licence_check_reads_spdx_expressions() {
    let allowed: BTreeSet<String> = ["MIT", "Apache-2.0", "ISC", "Apache-2.0 WITH LLVM-exception"]
        .map(String::from)
        .into();
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "MIT/Apache-2.0",
        "GPL-3.0 OR MIT",
        "ISC AND (Apache-2.0 OR ISC)",
        "Apache-2.0 WITH LLVM-exception OR GPL-2.0",
    ] {
        assert!(licence_ok(ok, &allowed), "{ok}");
    }
    for bad in [
        "GPL-3.0",
        "MIT AND GPL-3.0",
        "",
        "(MIT",
        "Apache-2.0 WITH Classpath-exception-2.0",
    ] {
        assert!(!licence_ok(bad, &allowed), "{bad}");
    }
}

#[test]
fn no_crate_ships_at_two_major_versions_unless_architecture_md_says_why() {
    let doc = architecture_md();
    let tolerated: BTreeSet<String> = marked(&doc, "tolerated-duplicates")
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| backticked(l.split('|').nth(1).unwrap_or("")))
        .collect();
    let mut majors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, version, _) in shipped_crates() {
        majors.entry(name).or_default().insert(major(&version));
    }
    let duplicated: BTreeSet<String> = majors
        .iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(n, _)| n.clone())
        .collect();
    let unexplained: Vec<String> = duplicated
        .difference(&tolerated)
        .map(|n| {
            format!(
                "{n} ships at {:?}: remove one or say why in ARCHITECTURE.md",
                majors[n]
            )
        })
        .collect();
    let stale: Vec<String> = tolerated
        .difference(&duplicated)
        .map(|n| format!("{n} is listed as a tolerated duplicate but ships once: remove its entry"))
        .collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "{}",
        [unexplained, stale].concat().join("\n")
    );
}

#[test]
fn major_versions_follow_semver_compatibility() {
    assert_eq!(major("0.22.1"), "0.22");
    assert_eq!(major("1.54.0"), "1");
    assert_eq!(major("0.3.0-rc.1"), "0.3");
}
