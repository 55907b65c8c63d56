//! Base64 runs that hide a secret: a docker config, a secret-keyed document, or text the
//! rules would redact once decoded.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::bytes::Regex;

use super::text_bytes;
use crate::REDACTED;

/// Base64 runs long enough to hide a docker config.
pub(super) static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(&format!("[A-Za-z0-9+/]{{{MIN_RUN},}}={{0,2}}"))
        .expect("the base64 pattern compiles")
});

/// Standard base64, padded or not.
pub(super) fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    let engine = base64::engine::general_purpose::STANDARD;
    engine
        .decode(run)
        .or_else(|_| {
            let bare = run.strip_suffix(b"==").or_else(|| run.strip_suffix(b"="));
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(bare.unwrap_or(run))
        })
        .ok()
}

/// Base64 runs that decode to a docker config, a secret-keyed document or a secret.
pub(super) fn redact_base64(
    input: &[u8],
    found: &mut Option<&mut Vec<Vec<u8>>>,
) -> Option<Vec<u8>> {
    if !has_run(input) {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut last = 0;
    for m in BASE64_RUN.find_iter(input) {
        if !base64_hides_secret(m.as_bytes()) {
            continue;
        }
        let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
        buf.extend_from_slice(&input[last..m.start()]);
        buf.extend_from_slice(REDACTED.as_bytes());
        last = m.end();
        if let Some(found) = found.as_deref_mut() {
            found.push(m.as_bytes().to_vec());
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&input[last..]);
    Some(buf)
}

/// Whether `input` holds a run as long as [`BASE64_RUN`] needs, so the common text (event
/// messages, summaries, names, every string of an evidence document) skips the regex
/// search. Each window of [`MIN_RUN`] bytes is read from its end: the last byte that cannot
/// be in a run rules out every run starting at or before it, so the next window starts
/// right after it. Text with a space or punctuation every few bytes is read a byte in
/// every few windows, not byte by byte.
fn has_run(input: &[u8]) -> bool {
    let mut start = 0;
    while let Some(window) = input.get(start..start + MIN_RUN) {
        match window.iter().rposition(|&b| !in_run(b)) {
            None => return true,
            Some(last_break) => start += last_break + 1,
        }
    }
    false
}

/// A byte [`BASE64_RUN`]'s run is made of.
fn in_run(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// The shortest run [`BASE64_RUN`] matches.
const MIN_RUN: usize = 24;

/// True when the decoded run is a docker config, a secret-keyed document or a secret.
fn base64_hides_secret(run: &[u8]) -> bool {
    let Some(decoded) = decode_base64(run) else {
        return false;
    };
    let Ok(decoded) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let lower = decoded.to_ascii_lowercase();
    lower.contains("\"auths\"")
        || lower.contains("\"auth\"")
        || lower.contains("\"password\"")
        || lower.contains("private key-----")
        || !matches!(text_bytes(decoded.as_bytes()), Cow::Borrowed(_))
}

#[cfg(test)]
mod tests;
