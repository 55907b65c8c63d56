//! The command line's edges: bad input answered in one clear line, and `build context`
//! listing what would leak into the image without reading it.

use super::*;

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
