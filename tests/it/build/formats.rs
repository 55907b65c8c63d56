//! Binaries in every shape `lastmile build` reads: stripped, inside image layers, Mach-O and
//! PE cross-compiled by Go, and the real `nats-server` release checked against
//! `go version -m`.

use super::*;

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
