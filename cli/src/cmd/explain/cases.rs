//! The real failure reports in `tests/fixtures/real-failures-dev.jsonl` (a copy of
//! `shared/cases`), run through intake and every registered function: the first diagnosis should be one the report accepts.
//!
//! Hit rates are asserted as floors, not exact numbers: the functions keep improving, and a
//! few reports are misleading by design (their surface text points elsewhere than the
//! cause). Misses are printed per case (`cargo test -p lastmile cases -- --nocapture`).

#![allow(clippy::unwrap_used)]

use serde::Deserialize;

use super::explain;

#[derive(Debug, Deserialize)]
struct Case {
    id: String,
    accept: Vec<String>,
    input: String,
}

/// Where the reports live: `LASTMILE_CASES`, else the copy in `tests/fixtures/`.
fn cases_path() -> std::path::PathBuf {
    std::env::var_os("LASTMILE_CASES")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/real-failures-dev.jsonl")
        })
}

/// Overall floor across every case (all functions).
const MIN_HIT_RATE: f64 = 0.85;
/// Floor for the init / job / build cases, which the workload and build functions own.
const MIN_WORKLOAD_BUILD_HIT_RATE: f64 = 1.0;

#[tokio::test]
async fn real_failure_reports_get_an_accepted_first_class() {
    let path = cases_path();
    let Ok(raw) = std::fs::read_to_string(&path) else {
        panic!(
            "{} is missing: set LASTMILE_CASES to the real-failures-dev.jsonl file",
            path.display()
        );
    };
    let cases: Vec<Case> = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(cases.len() >= 10, "too few cases in {}", path.display());
    let (mut hits, mut own_hits, mut own_total) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for case in &cases {
        let explained = explain(case.input.as_bytes(), None).await.unwrap();
        let first = explained[0].diagnoses[0].class.as_str().to_owned();
        let ok = case.accept.contains(&first);
        let own = case
            .accept
            .iter()
            .any(|a| a.starts_with("init.") || a.starts_with("job.") || a.starts_with("build."));
        hits += usize::from(ok);
        if own {
            own_total += 1;
            own_hits += usize::from(ok);
        }
        if !ok {
            misses.push(format!(
                "  {:<48} got {:<36} want {}",
                case.id,
                first,
                case.accept.join("|")
            ));
        }
    }
    let rate = hits as f64 / cases.len() as f64;
    let own_rate = if own_total == 0 {
        1.0
    } else {
        own_hits as f64 / own_total as f64
    };
    crate::outln!(
        "cases: {hits}/{} first-class hits ({:.0}%); init/job/build {own_hits}/{own_total}",
        cases.len(),
        rate * 100.0
    );
    if !misses.is_empty() {
        crate::outln!("misses:\n{}", misses.join("\n"));
    }
    assert!(
        own_rate >= MIN_WORKLOAD_BUILD_HIT_RATE,
        "init/job/build hit rate {own_rate:.2} < {MIN_WORKLOAD_BUILD_HIT_RATE}\n{}",
        misses.join("\n")
    );
    assert!(
        rate >= MIN_HIT_RATE,
        "hit rate {rate:.2} < {MIN_HIT_RATE}\n{}",
        misses.join("\n")
    );
}
