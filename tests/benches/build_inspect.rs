//! `lastmile build inspect` on a 50 MB Go binary: wall time and the child's peak resident
//! memory (max RSS as the kernel reports it to the parent's `wait4`, read through GNU
//! `/usr/bin/time -f '%e %M'`).
//!
//! The binary is built here with Debian's `golang-go`: the test app (one dependency from a
//! local file proxy) plus 48 MiB of incompressible data embedded with `//go:embed`, so the
//! file is ~50 MB of real Go executable whose every byte the reader hashes (SHA-256 is
//! streamed over the whole file) while the build info is found through the section headers.
//!
//! Run: `cargo bench -p lastmile-tests --bench build_inspect` (uses the debug `lastmile`
//! unless `LASTMILE_BIN` names another, e.g. `target/release/lastmile`).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::process::Command;

use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::gobuild::GoWork;
use lastmile_tests::registry::incompressible;

const RUNS: usize = 5;

fn main() {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hello").unwrap();
    go.app("v1.0.0").unwrap();
    let app = go.path("app");
    std::fs::write(app.join("blob.bin"), incompressible(48 << 20, 42)).unwrap();
    std::fs::write(
        app.join("blob.go"),
        "package main\n\nimport (\n\t_ \"embed\"\n\t\"os\"\n)\n\n//go:embed blob.bin\nvar blob []byte\n\nfunc init() {\n\tif os.Getenv(\"APP_BLOB\") != \"\" {\n\t\tprintln(len(blob))\n\t}\n}\n",
    )
    .unwrap();
    let bin = go.path("big-app");
    go.build(&bin, &["-trimpath"], "proxy", "bench").unwrap();
    let size = std::fs::metadata(&bin).unwrap().len();

    let lastmile = std::env::var_os("LASTMILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| lastmile_bin().unwrap());
    let mut runs: Vec<(f64, u64)> = Vec::new();
    for _ in 0..RUNS {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(&lastmile)
            .args(["build", "inspect", "--format", "json"])
            .arg(&bin)
            .output()
            .expect("GNU time at /usr/bin/time (apt-get install time)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["results"][0]["go"], true);
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default().to_owned();
        let mut it = last.split_whitespace();
        let secs: f64 = it.next().and_then(|s| s.parse().ok()).unwrap();
        let kib: u64 = it.next().and_then(|s| s.parse().ok()).unwrap();
        runs.push((secs, kib));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = runs[RUNS / 2].0;
    let peak = runs.iter().map(|r| r.1).max().unwrap_or(0);
    println!(
        "build inspect on a {:.1} MB Go binary ({size} bytes), {RUNS} runs, {}:",
        size as f64 / 1e6,
        lastmile.display()
    );
    println!(
        "  wall time: median {median:.2} s, min {:.2} s, max {:.2} s",
        runs[0].0,
        runs[RUNS - 1].0
    );
    println!(
        "  peak resident memory (max RSS via wait4): {:.1} MiB",
        peak as f64 / 1024.0
    );
    println!(
        "  throughput: {:.0} MB/s",
        size as f64 / 1e6 / median.max(1e-3)
    );
}
