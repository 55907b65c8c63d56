//! Reading a text with the learned model: which class its words weigh toward, by how much,
//! and which words weighed most.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::features;
use crate::model::Model;

/// The model `build.rs` learned from the corpus's tune split.
static MODEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wording.model"));

/// Longest text read: the head and the tail of a longer one (a CI log's failure is usually
/// near its end, a paste's error near its start), so the cost per incident is bounded.
pub const MAX_TEXT: usize = 256 * 1024;
const HEAD: usize = 64 * 1024;
/// Fewest vocabulary words (or word pairs) a text must share with the model to be read at
/// all: character n-grams alone match almost any text.
pub const MIN_TERMS: usize = 2;
/// How many of the heaviest words a reading names.
const SHOWN_TERMS: usize = 6;

/// A model with its vocabulary index, ready to read texts.
pub(crate) struct Scorer {
    model: Model,
    index: HashMap<String, u32>,
}

impl Scorer {
    pub(crate) fn new(model: Model) -> Self {
        let index = model.index();
        Self { model, index }
    }
}

/// The scorer of the learned model, decoded once.
fn learned() -> &'static Scorer {
    static LEARNED: OnceLock<Scorer> = OnceLock::new();
    // The bytes are this crate's own build output: a failure is a build bug, and an empty
    // model reads nothing rather than taking the process down.
    LEARNED.get_or_init(|| Scorer::new(Model::decode(MODEL_BYTES).unwrap_or_default()))
}

/// How many tune reports of each class the built-in model learned from.
pub fn learned_reports() -> Vec<(String, u32)> {
    let m = &learned().model;
    m.classes
        .iter()
        .cloned()
        .zip(m.reports.iter().copied())
        .collect()
}

/// What the model read in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The class the words weigh toward most.
    pub class: String,
    /// Its score: above 0 the text sits on the class's side of its learned margin.
    pub score: f32,
    /// The next class and its score.
    pub runner_up: Option<(String, f32)>,
    /// The words (or word pairs) that added most to the score, heaviest first.
    pub terms: Vec<String>,
    /// How many of the text's words and word pairs the model knows (character n-grams
    /// are not counted: they match almost anything).
    pub known_terms: usize,
    /// How many tune reports of the class the model learned from.
    pub learned_from: u32,
}

/// Reads `text`; `None` when it shares fewer than [`MIN_TERMS`] words with the model.
pub fn read(text: &str) -> Option<Reading> {
    learned().read(text)
}

impl Scorer {
    /// What this model reads in `text` (see [`read`]).
    pub(crate) fn read(&self, text: &str) -> Option<Reading> {
        let Scorer { model, index } = self;
        let counts = features::term_counts(&bounded(text));
        let vector = features::vector(&counts, |t| {
            index.get(t).map(|&i| (i, model.idf[i as usize]))
        });
        let known_words = vector
            .iter()
            .filter(|(_, _, t)| !features::is_ngram(t))
            .count();
        if known_words < MIN_TERMS || model.classes.is_empty() {
            return None;
        }
        let width = model.classes.len();
        let mut scores = model.bias.clone();
        for &(i, x, _) in &vector {
            let row = &model.weights[i as usize * width..(i as usize + 1) * width];
            for (s, w) in scores.iter_mut().zip(row) {
                *s += w * x;
            }
        }
        let mut ranked: Vec<usize> = (0..width).collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let best = ranked[0];
        let mut weighed: Vec<(f32, &str)> = vector
            .iter()
            .map(|&(i, x, term)| (model.weights[i as usize * width + best] * x, term))
            .filter(|(c, _)| *c > 0.0)
            .collect();
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        Some(Reading {
            class: model.classes[best].clone(),
            score: scores[best],
            runner_up: ranked
                .get(1)
                .map(|&k| (model.classes[k].clone(), scores[k])),
            terms: weighed
                .into_iter()
                .take(SHOWN_TERMS)
                .map(|(_, t)| t.to_owned())
                .collect(),
            known_terms: known_words,
            learned_from: model.reports[best],
        })
    }
}

/// `text` cut to [`MAX_TEXT`]: its first 64 KiB and its last 192 KiB.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_TEXT {
        return text.into();
    }
    let head_end = floor_char_boundary(text, HEAD);
    let tail_start = floor_char_boundary(text, text.len() - (MAX_TEXT - HEAD));
    format!("{}\n{}", &text[..head_end], &text[tail_start..]).into()
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
