//! The guards: a rule's match is left alone when its secret is visibly a placeholder, or
//! when the rule's guard says the match is prose, not a credential.

use super::Hit;
use super::base64_runs::decode_base64;
use crate::REDACTED;

/// Values that are visibly not secrets: empty, already redacted, placeholders
/// (`<password>`, `<set to the key 'password' in secret 'db'>`, `$TOKEN`, `${X}`, `$(cat f)`,
/// `***`, `xxxx`) and booleans/null.
pub(crate) fn is_placeholder(secret: &[u8]) -> bool {
    let s = secret.trim_ascii();
    let s = s
        .strip_prefix(b"\"")
        .and_then(|x| x.strip_suffix(b"\""))
        .unwrap_or(s);
    if s.is_empty() || s.starts_with(REDACTED.as_bytes()) || s.starts_with(b"\\[REDACTED") {
        return true;
    }
    if s.starts_with(b"<") && s.contains(&b'>') {
        return true;
    }
    if s.starts_with(b"${") || s.starts_with(b"$(") || s.starts_with(b"{{") {
        return true;
    }
    if let Some(var) = s.strip_prefix(b"$")
        && !var.is_empty()
        && var
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
    {
        return true;
    }
    if s == "…".as_bytes()
        || (s.len() >= 3 && s.iter().all(|b| matches!(b, b'*' | b'x' | b'X' | b'.')))
    {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    matches!(
        lower.as_slice(),
        b"true" | b"false" | b"null" | b"nil" | b"none" | b"~" | b"redacted" | b"<redacted>"
    )
}

/// Words that follow "Bearer" in prose and in challenges, never credentials.
const BEARER_PROSE: &[&str] = &[
    "token",
    "tokens",
    "auth",
    "authentication",
    "authorization",
    "realm",
    "scheme",
    "error",
    "required",
    "header",
    "challenge",
    "is",
    "was",
    "the",
    "a",
    "an",
    "and",
    "or",
    "not",
    "with",
    "for",
    "to",
    "in",
    "of",
    "missing",
    "invalid",
    "expired",
    "must",
    "should",
    "type",
];

/// `Bearer <credential>`, not `Bearer realm="…"` (an auth parameter) nor prose.
pub(super) fn bearer_credential(hit: &Hit<'_>) -> bool {
    !is_auth_param(hit)
        && !BEARER_PROSE
            .iter()
            .any(|w| w.as_bytes().eq_ignore_ascii_case(hit.secret))
}

/// `Basic <base64 of user:password>`; "basic checks" and `Basic realm=` stay.
pub(super) fn basic_credential(hit: &Hit<'_>) -> bool {
    if is_auth_param(hit) {
        return false;
    }
    decode_base64(hit.secret)
        .and_then(|d| String::from_utf8(d).ok())
        .is_some_and(|d| d.contains(':'))
}

/// `realm="…"`, `error=invalid_token`: the token ends in `=` and a value follows.
fn is_auth_param(hit: &Hit<'_>) -> bool {
    hit.secret.ends_with(b"=")
        && hit
            .after
            .first()
            .is_some_and(|b| *b == b'"' || b.is_ascii_alphanumeric())
}

/// `KEY=value`: not a comparison (`password == x`), not the shell's `PWD` / `OLDPWD`.
pub(super) fn secret_key(hit: &Hit<'_>) -> bool {
    if hit.secret.starts_with(b"=") {
        return false;
    }
    let key = key_of(hit.whole, b'=');
    !(key.eq_ignore_ascii_case(b"pwd") || key.eq_ignore_ascii_case(b"oldpwd"))
}

/// `KEY: value` mid-line: only keys that are visibly names: UPPER_CASE, snake/kebab/dotted
/// compounds, or camelCase. A single prose word (`token:`, `Password:`) is a message.
pub(super) fn named_key(hit: &Hit<'_>) -> bool {
    let key = key_of(hit.whole, b':');
    let letters = key.iter().filter(|b| b.is_ascii_alphabetic());
    let upper = key.iter().any(u8::is_ascii_alphabetic)
        && letters.clone().all(u8::is_ascii_uppercase)
        && key.len() >= 3;
    let compound = key.iter().any(|b| matches!(b, b'_' | b'-' | b'.'));
    let camel = key
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    upper || compound || camel
}

/// The key of a `KEY<sep>value` match: what precedes `sep`, without spaces and quotes.
fn key_of(whole: &[u8], sep: u8) -> &[u8] {
    let end = whole.iter().position(|b| *b == sep).unwrap_or(whole.len());
    let key = whole[..end].trim_ascii();
    let start = key
        .iter()
        .position(|b| !matches!(b, b'"' | b'\\' | b'\''))
        .unwrap_or(key.len());
    let key = &key[start..];
    let end = key
        .iter()
        .rposition(|b| !matches!(b, b'"' | b'\\' | b'\''))
        .map_or(0, |i| i + 1);
    &key[..end]
}
