//! Learning the model: one-vs-rest linear SVMs (L2-regularised, squared hinge loss) over
//! tf-idf vectors, solved by dual coordinate descent (Hsieh et al., ICML 2008 — the
//! method of liblinear's default solver). Deterministic: the same reports in the same
//! order always give the same bytes.

use std::collections::HashMap;

use crate::features;
use crate::model::Model;

/// A word must occur in this many training reports to be learned: rarer ones are names.
pub const MIN_REPORTS: usize = 3;
/// The same for a character n-gram: short pieces of names recur more often.
pub const MIN_REPORTS_NGRAM: usize = 10;
/// Regularisation: the cost of a training report on the wrong side of the margin.
const COST: f64 = 1.0;
/// Stop when the projected gradient's spread falls below this...
const TOLERANCE: f64 = 0.01;
/// ...or after this many passes.
const MAX_PASSES: usize = 300;

/// Learns a model from `(text, class)` pairs.
pub fn learn(reports: &[(String, String)]) -> Model {
    let counts: Vec<HashMap<String, u32>> = reports
        .iter()
        .map(|(text, _)| features::term_counts(text))
        .collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for c in &counts {
        for term in c.keys() {
            *df.entry(term).or_default() += 1;
        }
    }
    let mut terms: Vec<String> = df
        .iter()
        .filter(|&(t, &n)| {
            n >= if features::is_ngram(t) {
                MIN_REPORTS_NGRAM
            } else {
                MIN_REPORTS
            }
        })
        .map(|(t, _)| (*t).to_owned())
        .collect();
    terms.sort_unstable();
    let idf: Vec<f32> = terms
        .iter()
        .map(|t| features::idf(reports.len(), df[t.as_str()]))
        .collect();
    let index: HashMap<&str, u32> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    let vectors: Vec<Vec<(u32, f32)>> = counts
        .iter()
        .map(|c| {
            features::vector(c, |t| index.get(t).map(|&i| (i, idf[i as usize])))
                .into_iter()
                .map(|(i, x, _)| (i, x))
                .collect()
        })
        .collect();
    let mut classes: Vec<String> = reports.iter().map(|(_, c)| c.clone()).collect();
    classes.sort_unstable();
    classes.dedup();
    let labels: Vec<usize> = reports
        .iter()
        .map(|(_, c)| classes.binary_search(c).unwrap_or_default())
        .collect();
    let width = classes.len();
    let mut weights = vec![0.0f32; terms.len() * width];
    let mut bias = Vec::with_capacity(width);
    let mut per_class = vec![0u32; width];
    for &l in &labels {
        per_class[l] += 1;
    }
    for k in 0..width {
        let y: Vec<f64> = labels
            .iter()
            .map(|&l| if l == k { 1.0 } else { -1.0 })
            .collect();
        // Balanced: a class's own reports cost more the rarer the class, so a class with
        // twelve reports is not drowned by one with two hundred.
        let positive = COST * reports.len() as f64 / (width as f64 * f64::from(per_class[k]));
        let cost: Vec<f64> = labels
            .iter()
            .map(|&l| if l == k { positive } else { COST })
            .collect();
        let (w, b) = svm(&vectors, &y, &cost, terms.len());
        for (i, wi) in w.iter().enumerate() {
            weights[i * width + k] = *wi as f32;
        }
        bias.push(b as f32);
    }
    Model {
        classes,
        reports: per_class,
        bias,
        terms,
        idf,
        weights,
    }
}

/// One binary SVM, each report with its own cost; the bias is a constant feature of value
/// 1 (regularised like the rest).
fn svm(x: &[Vec<(u32, f32)>], y: &[f64], cost: &[f64], dims: usize) -> (Vec<f64>, f64) {
    let diag: Vec<f64> = cost.iter().map(|c| 0.5 / c).collect();
    let q: Vec<f64> = x
        .iter()
        .zip(&diag)
        .map(|(v, d)| v.iter().map(|&(_, a)| f64::from(a).powi(2)).sum::<f64>() + 1.0 + d)
        .collect();
    let mut w = vec![0.0f64; dims];
    let mut b = 0.0f64;
    let mut alpha = vec![0.0f64; x.len()];
    let mut order: Vec<usize> = (0..x.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..MAX_PASSES {
        shuffle(&mut order, &mut seed);
        let (mut high, mut low) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let margin = x[i]
                .iter()
                .map(|&(j, a)| w[j as usize] * f64::from(a))
                .sum::<f64>()
                + b;
            let g = y[i] * margin - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            high = high.max(pg);
            low = low.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / q[i]).max(0.0);
                let step = (alpha[i] - old) * y[i];
                for &(j, a) in &x[i] {
                    w[j as usize] += step * f64::from(a);
                }
                b += step;
            }
        }
        if high - low <= TOLERANCE {
            break;
        }
    }
    (w, b)
}

/// Fisher-Yates with xorshift64: deterministic, no dependency.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        order.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}
