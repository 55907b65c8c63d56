//! Secrets known from an input, scrubbed wherever they are quoted later.
//!
//! The text rules find a secret by its context (`password=`, `-----BEGIN … PRIVATE KEY`,
//! `Bearer `). A function that quotes its input line by line, or cuts a long line, can
//! separate a secret from that context: the second line of a PEM block, quoted alone, is
//! just base64. So the output boundary also runs the policy over the *input* once, keeps
//! every secret it found (split into lines), and removes those strings from everything the
//! function returned, whatever their context there.

use crate::REDACTED;
use crate::rules::redact_collecting;

/// Pieces shorter than this are not scrubbed by value (they would hit ordinary words); the
/// context rules still catch them where they keep their context.
const MIN_PIECE: usize = 8;

/// The secrets the policy found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pieces: Vec<String>,
}

impl Known {
    /// Runs the policy over `input` and keeps what it would redact, line by line.
    pub fn find(input: &str) -> Self {
        let mut found = Vec::new();
        let _ = redact_collecting(input.as_bytes(), &mut Some(&mut found));
        let mut pieces: Vec<String> = Vec::new();
        for span in &found {
            let span = String::from_utf8_lossy(span);
            for part in span.split(REDACTED) {
                for line in part.split(['\n', '\r']).flat_map(|l| l.split("\\n")) {
                    let line =
                        line.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
                    if line.len() >= MIN_PIECE && !pieces.iter().any(|p| p == line) {
                        pieces.push(line.to_owned());
                    }
                }
            }
        }
        // Longest first, so a piece that contains another is removed whole.
        pieces.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Self { pieces }
    }

    /// True when the input held no secret worth scrubbing by value.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Replaces every known secret in `s`; returns true when anything was replaced.
    pub fn scrub(&self, s: &mut String) -> bool {
        let mut changed = false;
        for p in &self.pieces {
            if s.contains(p.as_str()) {
                *s = s.replace(p.as_str(), REDACTED);
                changed = true;
            }
        }
        changed
    }

    /// Replaces every known secret in `bytes`; returns true when anything was replaced.
    pub fn scrub_bytes(&self, bytes: &mut Vec<u8>) -> bool {
        let mut changed = false;
        for p in &self.pieces {
            let needle = p.as_bytes();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                let mut out = Vec::with_capacity(bytes.len());
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i..].starts_with(needle) {
                        out.extend_from_slice(REDACTED.as_bytes());
                        i += needle.len();
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                *bytes = out;
                changed = true;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests;
