//! The model judged on tune reports it did not learn from: five folds, each learned from
//! the other four. The held-out split is not read here (its score is the corpus test's).

use std::path::Path;

use crate::classify::{self, Scorer};
use crate::train;

struct Case {
    text: String,
    accept: Vec<String>,
}

fn tune() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus/tune.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Case {
                text: v["input"].as_str().unwrap().to_owned(),
                accept: v["accept"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn the_built_in_model_learned_from_every_tune_report_and_nothing_else() {
    let learned: u32 = classify::learned_reports().iter().map(|(_, n)| n).sum();
    assert_eq!(learned as usize, tune().len());
}

/// Floor: five-fold accuracy was 0.88 when the model was introduced (words only, tune
/// 1,077 reports) and 0.908 with balanced class costs and character n-grams (1,137). It
/// falls as harder reports join tune with the model unchanged: 0.897 on 1,831, 0.893 on
/// 1,899, 0.891 on 1,951, 0.888 on 1,984 (batches 34-36, 2026-12-07; a sweep of the
/// learning settings found nothing better than noise), so the floor followed to 0.88; 0.889
/// on 2,049 (batch 37, 2026-12-08), 0.895 on 2,114 (batch 38), 0.890 on 2,176 (batch 39), 0.896
/// on 2,427 (batches 40-43).
const MIN_FOLD_ACCURACY: f64 = 0.88;

/// Lower edges of the bands the cross-validation prints.
const BANDS: [f32; 8] = [0.25, 0.0, -0.2, -0.4, -0.6, -0.8, -1.0, -1.2];

#[test]
fn five_fold_accuracy_on_tune_reports_stays_above_its_floor() {
    let cases = tune();
    let (mut hits, mut read) = (0usize, 0usize);
    // Per confidence band (`confidence.rs` documents these figures): reports, right.
    let mut bands = [(0usize, 0usize); BANDS.len() + 1];
    for fold in 0..5 {
        let learn: Vec<(String, String)> = cases
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 != fold)
            .map(|(_, c)| (c.text.clone(), c.accept[0].clone()))
            .collect();
        let scorer = Scorer::new(train::learn(&learn));
        for case in cases.iter().skip(fold).step_by(5) {
            read += 1;
            if let Some(r) = scorer.read(&case.text) {
                let right = case.accept.contains(&r.class);
                hits += usize::from(right);
                let band = BANDS
                    .iter()
                    .position(|&b| r.score >= b)
                    .unwrap_or(BANDS.len());
                bands[band].0 += 1;
                bands[band].1 += usize::from(right);
            }
        }
    }
    let accuracy = hits as f64 / read as f64;
    println!("wording five-fold accuracy on tune: {hits}/{read} ({accuracy:.3})");
    for (i, (n, right)) in bands.iter().enumerate() {
        match BANDS.get(i) {
            Some(edge) => println!("  top score >= {edge:>5}: {n:>4} reports, {right:>4} right"),
            None => println!("  top score below the last: {n:>4} reports, {right:>4} right"),
        }
    }
    assert!(
        accuracy >= MIN_FOLD_ACCURACY,
        "{accuracy:.3} < {MIN_FOLD_ACCURACY}"
    );
}
