//! Learns the wording model from the tune split of the real-failure corpus, at build time.
//!
//! Only `tests/fixtures/corpus/tune.jsonl` is read: the held-out split stays unseen, so its
//! score measures the model on reports it was not learned from. Each report's class is the
//! first class it accepts (the one its thread's cause belongs to).

#[path = "src/features.rs"]
#[allow(dead_code)]
mod features;
#[path = "src/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "src/train.rs"]
mod train;

use std::path::Path;

fn main() {
    let tune = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/tune.jsonl");
    println!("cargo::rerun-if-changed={}", tune.display());
    println!("cargo::rerun-if-changed=src/features.rs");
    println!("cargo::rerun-if-changed=src/model.rs");
    println!("cargo::rerun-if-changed=src/train.rs");
    let raw = std::fs::read_to_string(&tune)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", tune.display()));
    let reports: Vec<(String, String)> = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let case: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", tune.display()));
            let text = case["input"].as_str().unwrap_or_default().to_owned();
            let class = case["accept"][0].as_str().unwrap_or_default().to_owned();
            (text, class)
        })
        .collect();
    let model = train::learn(&reports);
    let out = Path::new(&std::env::var_os("OUT_DIR").unwrap_or_default()).join("wording.model");
    std::fs::write(&out, model.encode())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
