//! `lastmile build` against real Go binaries built here with Debian's `golang-go` from a
//! local file proxy (no network): one dependency at two versions, the same version with
//! poisoned content, with and without -trimpath, other -ldflags, a dirty work tree; plus
//! the real `nats-server` release binary the test set-up installs, checked against Go's own
//! `go version -m`.

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

/// The builds every test here compares, made once per test that needs them.
struct Builds {
    go: GoWork,
    /// greet v1.0.0, -trimpath.
    v1: PathBuf,
    /// The same commit and flags again.
    v1_again: PathBuf,
    /// greet v1.1.0 (a later commit), -trimpath.
    v11: PathBuf,
    /// greet v1.1.0 from the poisoned proxy, same commit and flags as `v11`.
    poisoned: PathBuf,
    /// As `v11` without -trimpath.
    no_trimpath: PathBuf,
    /// As `v11` with another -X value.
    ldflags: PathBuf,
    /// As `v11` from a work tree with an uncommitted change.
    dirty: PathBuf,
}

fn builds() -> Builds {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hello from v1.0.0").unwrap();
    go.publish("proxy", "v1.1.0", "hello from v1.1.0").unwrap();
    go.publish("proxy-poisoned", "v1.1.0", "hello from a poisoned v1.1.0")
        .unwrap();
    let bin = |n: &str| go.path(&format!("bin/{n}"));
    go.app("v1.0.0").unwrap();
    go.build(&bin("v1"), &["-trimpath"], "proxy", "a").unwrap();
    go.build(&bin("v1-again"), &["-trimpath"], "proxy", "a")
        .unwrap();
    go.app("v1.1.0").unwrap();
    go.build(&bin("v11"), &["-trimpath"], "proxy", "a").unwrap();
    go.build(
        &bin("poisoned"),
        &["-trimpath"],
        "proxy-poisoned",
        "poisoned",
    )
    .unwrap();
    go.build(&bin("no-trimpath"), &[], "proxy", "a").unwrap();
    go.build(
        &bin("ldflags"),
        &["-trimpath", "-ldflags=-X main.version=2.0.0"],
        "proxy",
        "a",
    )
    .unwrap();
    go.dirty().unwrap();
    go.build(&bin("dirty"), &["-trimpath"], "proxy", "a")
        .unwrap();
    Builds {
        v1: bin("v1"),
        v1_again: bin("v1-again"),
        v11: bin("v11"),
        poisoned: bin("poisoned"),
        no_trimpath: bin("no-trimpath"),
        ldflags: bin("ldflags"),
        dirty: bin("dirty"),
        go,
    }
}

#[test]
fn every_build_class_comes_from_real_go_builds() {
    let b = builds();

    // What a binary records, as JSON.
    let o = lastmile(&["build", "inspect", p(&b.v11), "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let bin = &v["results"][0]["binary"];
    assert_eq!(
        bin["info"]["go_version"].as_str().unwrap()[..4].to_owned(),
        "go1."
    );
    assert_eq!(bin["info"]["path"], "example.com/app");
    let dep = bin["info"]["deps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == GREET)
        .unwrap();
    assert_eq!(dep["version"], "v1.1.0");
    assert!(dep["sum"].as_str().unwrap().starts_with("h1:"));
    let settings = bin["info"]["settings"].as_array().unwrap();
    let setting = |k: &str| {
        settings
            .iter()
            .find(|s| s["key"] == k)
            .map(|s| s["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(setting("-trimpath").as_deref(), Some("true"));
    assert_eq!(setting("vcs.revision").unwrap().len(), 40);
    assert_eq!(setting("vcs.modified").as_deref(), Some("false"));
    let digest = bin["sha256"].as_str().unwrap();
    assert_eq!(digest, sha256sum(&b.v11), "the digest is the file's sha256");

    // The same commit and flags rebuilt: the same build, exit 0.
    let (code, ds) = diff(&b.v1, &b.v1_again);
    assert_eq!((code, ds.len()), (0, 0), "{ds:#?}");

    // Another commit requiring another version: drift, naming the module and both versions.
    let (code, ds) = diff(&b.v1, &b.v11);
    assert_eq!(code, 1);
    let d = class_of(&ds, "build.dependency_drift");
    let ev = evidence(d);
    assert!(ev.contains("example.com/greet: A v1.0.0, B v1.1.0"), "{ev}");
    assert!(ev.contains("go.mod changed between the commits"), "{ev}");
    // The two commits also stamp two revisions.
    assert!(evidence(class_of(&ds, "build.not_reproducible")).contains("vcs.revision"));

    // The same version from a poisoned proxy: two sums for one version.
    let (code, ds) = diff(&b.v11, &b.poisoned);
    assert_eq!(code, 1);
    let d = class_of(&ds, "build.checksum_mismatch");
    let ev = evidence(d);
    assert!(
        ev.starts_with("example.com/greet@v1.1.0: A has h1:"),
        "{ev}"
    );
    assert!(d["summary"].as_str().unwrap().contains("proxy"));
    assert!(ds.iter().all(|d| d["class"] != "build.dependency_drift"));

    // Without -trimpath: not reproducible, naming the setting and the flag.
    let (_, ds) = diff(&b.v11, &b.no_trimpath);
    let d = class_of(&ds, "build.not_reproducible");
    assert!(
        evidence(d).contains("-trimpath: A true, B (not recorded)"),
        "{d:#}"
    );
    assert!(d.to_string().contains("go build -trimpath"), "{d:#}");

    // Other -ldflags.
    let (_, ds) = diff(&b.v11, &b.ldflags);
    let d = class_of(&ds, "build.not_reproducible");
    // With -trimpath the go command does not record -ldflags (they may hold paths), so
    // the only recorded difference is the files' digest, and the fix names both flags.
    assert!(
        evidence(d).contains("though all recorded build information is equal"),
        "{d:#}"
    );
    assert!(d.to_string().contains("-ldflags=-buildid="));

    // A dirty work tree.
    let (_, ds) = diff(&b.v11, &b.dirty);
    let d = class_of(&ds, "build.not_reproducible");
    let ev = evidence(d);
    assert!(ev.contains("vcs.modified: A false, B true"), "{ev}");
    assert!(
        ev.contains("B was built from a work tree with uncommitted changes"),
        "{ev}"
    );
    assert!(d.to_string().contains("-buildvcs=false"));

    // The same comparisons from `go version -m` texts and `go list -m -json all` outputs.
    let listing = |bin: &Path, name: &str| {
        let out = Command::new("go")
            .args(["version", "-m", p(bin)])
            .output()
            .unwrap();
        let f = b.go.path(name);
        std::fs::write(&f, out.stdout).unwrap();
        f
    };
    let (code, ds) = diff(&listing(&b.v1, "v1.txt"), &listing(&b.v11, "v11.txt"));
    assert_eq!(code, 1);
    assert!(evidence(class_of(&ds, "build.dependency_drift")).contains("A v1.0.0, B v1.1.0"));
    let (_, ds) = diff(&listing(&b.v11, "v11.txt"), &listing(&b.poisoned, "p.txt"));
    class_of(&ds, "build.checksum_mismatch");
    let list_now = b.go.path("list-v11.json");
    std::fs::write(
        &list_now,
        b.go.go(&["list", "-m", "-json", "all"], "proxy", "a")
            .unwrap(),
    )
    .unwrap();
    let (code, ds) = diff(&b.v1, &list_now);
    assert_eq!(code, 1);
    assert!(
        evidence(class_of(&ds, "build.dependency_drift")).contains("A v1.0.0, B v1.1.0"),
        "{ds:#?}"
    );

    // Human output names the class and the module.
    let o = lastmile(&["build", "diff", p(&b.v1), p(&b.v11)]);
    let t = text(&o);
    assert!(
        t.contains("build.dependency_drift") && t.contains("example.com/greet"),
        "{t}"
    );
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

#[test]
fn stripped_binaries_and_binaries_in_layers_are_read() {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hi").unwrap();
    go.app("v1.0.0").unwrap();
    let bin = go.path("app.bin");
    go.build(&bin, &["-trimpath", "-ldflags=-s -w"], "proxy", "a")
        .unwrap();
    let reference = lastmile(&["build", "inspect", p(&bin), "--format", "json"]);
    assert!(reference.status.success(), "{}", text(&reference));
    let info = |o: &Output| {
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["results"][0]["binary"]["info"].clone()
    };

    // binutils' strip, then no section headers at all (as sstrip leaves a file): the
    // reader falls back to the first writable segment.
    let stripped = go.path("stripped");
    std::fs::copy(&bin, &stripped).unwrap();
    assert!(
        Command::new("strip")
            .arg(&stripped)
            .status()
            .unwrap()
            .success()
    );
    let mut bytes = std::fs::read(&stripped).unwrap();
    bytes[0x28..0x30].fill(0); // e_shoff
    bytes[0x3c..0x40].fill(0); // e_shnum, e_shstrndx
    let headless = go.path("headless");
    std::fs::write(&headless, &bytes).unwrap();
    for f in [&stripped, &headless] {
        let o = lastmile(&["build", "inspect", p(f), "--format", "json"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(info(&o), info(&reference), "{}", f.display());
    }

    // In a gzip tar layer, next to other files.
    let layer = go.path("layer.tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&layer).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        tar.append_data(&mut h, path, data).unwrap();
    };
    add("etc/os-release", b"ID=debian\n");
    add("usr/bin/ls", &std::fs::read("/bin/ls").unwrap());
    add("app/server", &std::fs::read(&bin).unwrap());
    tar.into_inner().unwrap().finish().unwrap();
    let o = lastmile(&["build", "inspect", p(&layer), "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{v:#}");
    assert_eq!(results[0]["go"], false, "/bin/ls is not Go");
    assert!(
        results[1]["file"]
            .as_str()
            .unwrap()
            .ends_with(":app/server")
    );
    assert_eq!(results[1]["binary"]["info"], info(&reference));
    assert_eq!(results[1]["binary"]["sha256"], sha256sum(&bin));
}

/// Mach-O and PE read from real binaries: the same program cross-compiled by Go for
/// darwin/arm64 and windows/amd64 reads with the Linux build's modules, and each with its
/// own target in the settings and its container format named.
#[test]
fn mach_o_and_pe_binaries_cross_compiled_by_go_are_read() {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hi").unwrap();
    go.app("v1.0.0").unwrap();
    let inspect = |goos: &str, goarch: &str| {
        let bin = go.path(&format!("app-{goos}-{goarch}"));
        go.build_for(
            &bin,
            &["-trimpath"],
            "proxy",
            "a",
            &[("GOOS", goos), ("GOARCH", goarch)],
        )
        .unwrap();
        let o = lastmile(&["build", "inspect", p(&bin), "--format", "json"]);
        assert!(o.status.success(), "{goos}/{goarch}: {}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["results"][0]["binary"].clone()
    };
    let setting = |b: &Value, key: &str| {
        b["info"]["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .map(|s| s["value"].clone())
    };
    let linux = inspect("linux", "amd64");
    for (goos, goarch, format) in [
        ("darwin", "arm64", "Mach-O 64-bit arm64"),
        ("windows", "amd64", "PE32+ x86-64"),
    ] {
        let b = inspect(goos, goarch);
        assert_eq!(b["source"], format, "{b:#}");
        assert_eq!(b["info"]["deps"], linux["info"]["deps"], "{goos}");
        assert_eq!(b["info"]["main"], linux["info"]["main"], "{goos}");
        assert_eq!(setting(&b, "GOOS"), Some(goos.into()), "{b:#}");
        assert_eq!(setting(&b, "GOARCH"), Some(goarch.into()), "{b:#}");
    }
}

#[test]
fn the_nats_server_release_binary_reads_as_go_version_m_reads_it() {
    let Some(nats) = std::env::var_os("LASTMILE_NATS_SERVER") else {
        panic!("LASTMILE_NATS_SERVER is not set: eval \"$(scripts/install-test-deps)\"");
    };
    let nats = PathBuf::from(nats);
    let o = lastmile(&["build", "inspect", p(&nats), "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let info = &v["results"][0]["binary"]["info"];
    assert_eq!(info["path"], "github.com/nats-io/nats-server/v2");
    assert!(
        info["deps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == "github.com/nats-io/nkeys"
                && d["sum"].as_str().unwrap().starts_with("h1:"))
    );
    // Go's own reader, as text, compared with ours: the same build.
    let dir = tempfile::tempdir().unwrap();
    let listing = dir.path().join("nats.txt");
    let out = Command::new("go")
        .args(["version", "-m", p(&nats)])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&listing, &out.stdout).unwrap();
    let o = lastmile(&["build", "diff", p(&nats), p(&listing)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the same build"), "{}", text(&o));
}

#[test]
fn bad_input_gets_a_clear_one_line_answer() {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hi").unwrap();
    go.app("v1.0.0").unwrap();
    let bin = go.path("app.bin");
    go.build(&bin, &["-trimpath"], "proxy", "a").unwrap();
    let bytes = std::fs::read(&bin).unwrap();
    let truncated = go.path("truncated");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    // A 1 GiB sparse file: nothing but zeros.
    let sparse = go.path("sparse");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let notes = go.path("notes.txt");
    std::fs::write(&notes, "just some notes\n").unwrap();
    for (file, expected) in [
        (truncated.as_path(), "truncated"),
        (
            Path::new("/bin/ls"),
            "ELF 64-bit LSB x86-64 executable with no Go build information",
        ),
        (
            sparse.as_path(),
            "not an executable (ELF, Mach-O or PE): all zero bytes",
        ),
        (
            notes.as_path(),
            "neither `go version -m` nor `go list -m -json` output",
        ),
    ] {
        let o = lastmile(&["build", "inspect", p(file)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert_eq!(t.lines().count(), 1, "{t}");
        assert!(t.contains("not a Go binary") && t.contains(expected), "{t}");
    }
    // diff of a non-Go file is a usage error with the cause.
    let o = lastmile(&["build", "diff", "/bin/ls", p(&bin)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no Go build information"), "{}", text(&o));
}

#[test]
fn build_context_lists_what_would_leak_into_the_image_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let put = |rel: &str, bytes: &[u8]| {
        let f = r.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, bytes).unwrap();
    };
    put(
        "Dockerfile",
        b"FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app ./cmd/app\nFROM gcr.io/distroless/static\nCOPY --from=build /app /app\n",
    );
    put("cmd/app/main.go", b"package main\nfunc main() {}\n");
    put(
        ".git/config",
        b"url = https://user:ghp_TopSecretToken123@github.com/a/b\n",
    );
    put(".env.local", b"DB_PASSWORD=TopSecretPassword\n");
    put("deploy/.kube/config", b"token: TopSecretKube\n");
    put("docs/tls.pem", b"-----BEGIN PRIVATE KEY-----TopSecretKey");
    put(
        ".dockerignore",
        b"# keep docs out, except the TLS note\ndocs\n!docs/*.pem\n",
    );

    let o = lastmile(&["build", "context", p(r), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(!out.contains("TopSecret"), "contents never printed: {out}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = class_of(v["diagnoses"].as_array().unwrap(), "build.context_leak");
    let ev = evidence(d);
    for path in [
        ".env.local (",
        ".git/ (",
        "deploy/.kube/config (",
        "docs/tls.pem (",
    ] {
        assert!(ev.contains(path), "{path} in {ev}");
    }
    // The fix it prints, applied, leaves nothing behind.
    let cmd = d["remediation"][0]["command"].as_str().unwrap();
    let st = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(r)
        .status()
        .unwrap();
    assert!(st.success());
    let o = lastmile(&["build", "context", p(r)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("nothing that must stay out of an image enters it"));
}
