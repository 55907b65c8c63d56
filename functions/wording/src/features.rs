//! Words to features, the same way at build time (training) and at run time (reading).
//!
//! Two kinds of term. **Words**: a token is a run of ASCII letters, digits and `_` that
//! starts with a letter, two characters or more, lower-cased; every token and every pair of
//! neighbouring tokens is a term. **Character n-grams**: every run of 3 to 5 characters of
//! each whitespace-separated piece, padded with a space at both ends (so `exit 137` and
//! `OOMKilled` give `" 13"`, `"oomk"`, `"led "`…), which carry the numbers, paths and
//! half-words that words miss. A document's vector is the sublinear term frequency
//! (`1 + ln tf`) times the term's inverse document frequency, each kind scaled to unit
//! length on its own so the many n-grams do not drown the words.

use std::collections::HashMap;

/// Longest token kept: longer runs are hashes, base64 or minified blobs, never words.
pub const MAX_TOKEN: usize = 40;

/// Marks a character n-gram term (words never hold it).
pub const NGRAM: char = '\u{1}';
/// Character n-gram lengths.
const NGRAMS: std::ops::RangeInclusive<usize> = 3..=5;

/// The terms of `text` with how often each occurs: tokens, neighbouring pairs, and
/// character n-grams (marked with [`NGRAM`]).
pub fn term_counts(text: &str) -> HashMap<String, u32> {
    let tokens = tokens(text);
    let mut counts: HashMap<String, u32> = HashMap::with_capacity(tokens.len() * 8);
    for (i, token) in tokens.iter().enumerate() {
        *counts.entry(token.clone()).or_default() += 1;
        if let Some(next) = tokens.get(i + 1) {
            *counts.entry(format!("{token} {next}")).or_default() += 1;
        }
    }
    let mut padded: Vec<char> = Vec::with_capacity(MAX_TOKEN + 2);
    let mut gram = String::with_capacity(24);
    for piece in text.split_whitespace() {
        if piece.len() > MAX_TOKEN {
            continue;
        }
        padded.clear();
        padded.push(' ');
        padded.extend(piece.chars().flat_map(char::to_lowercase));
        padded.push(' ');
        for n in NGRAMS {
            for window in padded.windows(n) {
                gram.clear();
                gram.push(NGRAM);
                gram.extend(window);
                match counts.get_mut(gram.as_str()) {
                    Some(c) => *c += 1,
                    None => {
                        counts.insert(gram.clone(), 1);
                    }
                }
            }
        }
    }
    counts
}

/// True for a character n-gram term.
pub fn is_ngram(term: &str) -> bool {
    term.starts_with(NGRAM)
}

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.len() >= 2 && t.len() <= MAX_TOKEN)
        .filter(|t| t.as_bytes()[0].is_ascii_alphabetic())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Inverse document frequency, smoothed as if one more document held every term.
pub fn idf(documents: usize, with_term: usize) -> f32 {
    (((1 + documents) as f64 / (1 + with_term) as f64).ln() + 1.0) as f32
}

/// Sublinear term frequency times idf, each kind scaled to unit length; `weight` returns a known
/// term's idf and index, `None` for a term outside the vocabulary.
pub fn vector(
    counts: &HashMap<String, u32>,
    weight: impl Fn(&str) -> Option<(u32, f32)>,
) -> Vec<(u32, f32, &str)> {
    let mut v: Vec<(u32, f32, &str)> = counts
        .iter()
        .filter_map(|(term, &tf)| {
            let (index, idf) = weight(term)?;
            Some((index, (1.0 + (tf as f32).ln()) * idf, term.as_str()))
        })
        .collect();
    // Sorted by index first: the same text always sums in the same order.
    v.sort_unstable_by_key(|(i, _, _)| *i);
    for ngrams in [false, true] {
        let norm = v
            .iter()
            .filter(|(_, _, t)| is_ngram(t) == ngrams)
            .map(|(_, x, _)| x * x)
            .sum::<f32>()
            .sqrt();
        if norm > 0.0 {
            for (_, x, t) in &mut v {
                if is_ngram(t) == ngrams {
                    *x /= norm;
                }
            }
        }
    }
    v
}
