//! Every build class from real Go builds: one dependency at two versions, poisoned content,
//! with and without -trimpath, other -ldflags, a dirty work tree.

use super::*;

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
