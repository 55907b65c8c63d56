//! `lastmile build` against real Go binaries built here with Debian's `golang-go` from a
//! local file proxy (no network): one dependency at two versions, the same version with
//! poisoned content, with and without -trimpath, other -ldflags, a dirty work tree; plus
//! the real `nats-server` release binary the test set-up installs, checked against Go's own
//! `go version -m`.

mod classes;
mod cli;
mod formats;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::gobuild::{GREET, GoWork};
use serde_json::Value;

fn lastmile(args: &[&str]) -> Output {
    Command::new(lastmile_bin().unwrap())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `build diff --format json`: the exit code and the diagnoses.
fn diff(a: &Path, b: &Path) -> (i32, Vec<Value>) {
    let o = lastmile(&["build", "diff", p(a), p(b), "--format", "json"]);
    let code = o.status.code().unwrap();
    if code == 0 && o.stdout.is_empty() {
        return (0, Vec::new());
    }
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (code, v["diagnoses"].as_array().unwrap().clone())
}

fn class_of<'a>(ds: &'a [Value], class: &str) -> &'a Value {
    ds.iter()
        .find(|d| d["class"] == class)
        .unwrap_or_else(|| panic!("no {class} in {ds:#?}"))
}

/// Every evidence line of a diagnosis, joined.
fn evidence(d: &Value) -> String {
    d["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// sha256 of a file, by `sha256sum` (an independent implementation).
fn sha256sum(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
