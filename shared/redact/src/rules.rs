//! The text rules: an ordered table of patterns, each naming where the secret sits.
//!
//! Every pattern either has a group named `s` (or `q`, the inside of quotes): the secret,
//! replaced by [`REDACTED`] while the rest of the match (the key, the scheme, the `@`) stays
//! readable; or no such group, and the whole match goes. A match is left alone when its
//! secret is visibly a placeholder ([`is_placeholder`]) or when the rule's guard says the
//! match is prose, not a credential.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::bytes::{Captures, Regex};

use crate::REDACTED;

/// The words that make a `KEY=value` / `KEY: value` key secret (as the key's last word).
const WORDS: &str = r"(?:password|passwd|pwd|passphrase|secret|token|api[_\-]?key|access[_\-]?key|account[_\-]?key|private[_\-]?key(?:[_\-]?id)?|secret[_\-]?key|signing[_\-]?key|encryption[_\-]?key|master[_\-]?key|auth|signature|sig)";
/// Where a header name may start: line start, right after a quote, after curl's `-H`.
const HEADER_AT: &str = r#"(?:^[ \t]*|["']|(?:-H|--header)[ \t=]+)"#;
/// An unquoted value: not starting with a bracket or `<`, so `[REDACTED]` is never re-matched.
const BARE: &str = r#"[^\s"'&,;\[\]{}<>][^\s"'&,;\]}]*"#;
/// A quoted value's inside (escapes allowed).
const QUOTED: &str = r#""(?P<q>(?:[^"\\\r\n]|\\[^\r\n])*)""#;
/// A flag's value: quoted, or one word not starting with `-`.
const FLAG_VALUE: &str = r#"(?:"(?P<q>[^"\r\n]*)"|'(?P<s>[^'\r\n]*)'|(?P<w>[^\s"'\-][^\s"']*))"#;
/// Schemes of an `Authorization` value.
const SCHEMES: &str =
    r"(?:bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256|sso-key|apikey)";
/// Tools whose `login -p` takes a password.
const LOGIN_TOOLS: &str =
    r"(?:docker|podman|nerdctl|buildah|skopeo|helm|oras|crane|regctl|cosign|finch)";

/// What a guard sees of one match.
struct Hit<'h> {
    /// The whole match.
    whole: &'h [u8],
    /// The secret part.
    secret: &'h [u8],
    /// The bytes after the match.
    after: &'h [u8],
}

/// Decides whether a match is a credential after all.
type Guard = fn(&Hit<'_>) -> bool;

struct Rule {
    name: &'static str,
    re: Regex,
    guard: Option<Guard>,
}

fn rule(name: &'static str, pattern: &str, guard: Option<Guard>) -> Rule {
    // The patterns are constants; `every_rule_compiles` builds them all in the tests.
    #[allow(clippy::expect_used)]
    let re = Regex::new(pattern).expect("a built-in redaction pattern compiles");
    Rule { name, re, guard }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            "private-key-block",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            None,
        ),
        // Where a header is written (line start, quoted key, curl -H) its whole value goes.
        rule(
            "authorization-header",
            &format!(
                r#"(?im){HEADER_AT}(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:{SCHEMES}[ \t]+)?(?P<s>[^\s"'\\][^"'\r\n\\]*)"#
            ),
            None,
        ),
        // Anywhere else it needs a scheme: "may require authorization: server message" is
        // the evidence, not a secret.
        rule(
            "authorization-anywhere",
            &format!(
                r#"(?i)\b(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?{SCHEMES}[ \t]+(?P<s>[^\s"'\\,;]+)"#
            ),
            None,
        ),
        rule(
            "secret-header",
            &format!(
                r#"(?im){HEADER_AT}(?:set-cookie|cookie|x-hub-signature(?:-256)?|x-gitlab-token|x-api-key|api-key|private-token|x-amz-security-token)\\?"?[ \t]*:[ \t]*\\?"?(?P<s>[^\s"'\\][^"'\r\n\\]*)"#
            ),
            None,
        ),
        rule(
            "bearer",
            r"(?i)\bbearer[ \t]+(?P<s>[A-Za-z0-9\-._~+/]+=*)",
            Some(bearer_credential),
        ),
        rule(
            "basic",
            r"(?i)\bbasic[ \t]+(?P<s>[A-Za-z0-9+/]{4,}={0,2})",
            Some(basic_credential),
        ),
        rule(
            "url-userinfo",
            r#"(?i)\b[a-z][a-z0-9+.\-]*://(?P<s>[^/\s:@"'<>]*:[^/\s"'<>]*)@"#,
            None,
        ),
        rule(
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
            None,
        ),
        // An access key id, and the secret key when it follows (credentials CSV, `id:secret`).
        rule(
            "aws-access-key",
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|APKA)[A-Z0-9]{16}\b(?:[ \t]*[,:;|][ \t]*[A-Za-z0-9/+]{40})?",
            None,
        ),
        rule(
            "token-format",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|gl(?:pat|dt|ptt|rt|cbt|soat|imt|oas|ft|agent)-[A-Za-z0-9_\-]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-[0-9]+-[A-Za-z0-9\-]{10,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{30,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_\-]{35}|ya29\.[0-9A-Za-z_\-]{20,})",
            None,
        ),
        rule(
            "slack-webhook",
            r"hooks\.slack\.com/services/(?P<s>[A-Za-z0-9/_\-]+)",
            None,
        ),
        rule(
            "password-flag",
            &format!(
                r#"(?im)(?:^|[\s"'=])--?(?:password|passwd|pass|token|secret|api-?key|auth-token|access-token|client-secret|docker-password|registry-password|db-password)(?:[ \t]+|=){FLAG_VALUE}"#
            ),
            None,
        ),
        rule(
            "login-p-flag",
            &format!(
                r#"(?i:\b{LOGIN_TOOLS}\b)[^\r\n|;&]*?(?i:\blogin\b)[^\r\n|;&]*?[ \t]-p(?:[ \t]+|=)?{FLAG_VALUE}"#
            ),
            None,
        ),
        rule(
            "mysql-p-flag",
            r#"(?i:\bmysql(?:dump|admin|sh|import|check|slap)?\b)[^\r\n|;&]*?[ \t]-p(?P<s>[^\s"'\-][^\s"']*)"#,
            None,
        ),
        rule(
            "http-client-user",
            r#"(?i:\b(?:curl|wget|http|https|httpie)\b)[^\r\n|;&]*?[ \t](?:-u|--user|--http-user)(?:[ \t]+|=)["']?[^\s:"'@]+:(?P<s>[^\s"']+)"#,
            None,
        ),
        rule(
            "key-value-quoted",
            &format!(r#"(?i)\b[a-z0-9_.\-]*{WORDS}[ \t]*=[ \t]*(?:{QUOTED}|'(?P<s>[^'\r\n]*)')"#),
            Some(secret_key),
        ),
        rule(
            "key-value",
            &format!(r#"(?i)\b[a-z0-9_.\-]*{WORDS}[ \t]*=[ \t]*(?P<s>{BARE})"#),
            Some(secret_key),
        ),
        rule(
            "json-key-quoted",
            &format!(
                r#"(?i)\\?"[a-z0-9_.\-]*{WORDS}\\?"[ \t]*:[ \t]*\\?"(?P<q>(?:[^"\\\r\n]|\\[^"\r\n])*)"#
            ),
            None,
        ),
        rule(
            "json-key-bare",
            &format!(r#"(?i)"[a-z0-9_.\-]*{WORDS}"[ \t]*:[ \t]*(?P<s>{BARE})"#),
            None,
        ),
        // `key: value` at the start of a line (YAML, env listings, `kubectl describe`).
        rule(
            "line-key",
            &format!(
                r#"(?im)^[ \t]*(?:-[ \t]+)?[a-z0-9_.\-]*{WORDS}[ \t]*:[ \t]+(?:{QUOTED}|(?P<s>[^\s"'\[\]{{}}|>][^\r\n]*))"#
            ),
            None,
        ),
        // `KEY: value` mid-line only for keys that are visibly names (`DB_PASSWORD`,
        // `client-secret`, `apiKey`): "failed to fetch anonymous token: unexpected status"
        // and "invalid username/password: unauthorized" are messages, not secrets.
        rule(
            "inline-key",
            &format!(r#"(?i)\b[a-z0-9_.\-]*{WORDS}[ \t]*:[ \t]+(?:{QUOTED}|(?P<s>{BARE}))"#),
            Some(named_key),
        ),
    ]
});

/// The names of the text rules, in the order they apply.
pub fn rule_names() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .map(|r| r.name)
        .chain(std::iter::once("base64-docker-config"))
}

/// Re-exported as the crate's list of rule names (for documentation and tests).
pub const RULE_NAMES: &[&str] = &[
    "private-key-block",
    "authorization-header",
    "authorization-anywhere",
    "secret-header",
    "bearer",
    "basic",
    "url-userinfo",
    "jwt",
    "aws-access-key",
    "token-format",
    "slack-webhook",
    "password-flag",
    "login-p-flag",
    "mysql-p-flag",
    "http-client-user",
    "key-value-quoted",
    "key-value",
    "json-key-quoted",
    "json-key-bare",
    "line-key",
    "inline-key",
    "base64-docker-config",
];

/// Base64 runs long enough to hide a docker config.
static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"[A-Za-z0-9+/]{24,}={0,2}").expect("the base64 pattern compiles")
});

/// Applies every rule, in order. Borrowed when nothing changed.
pub(crate) fn text_bytes(input: &[u8]) -> Cow<'_, [u8]> {
    redact_collecting(input, &mut None)
}

/// A literal every rule's match contains (case-insensitively): text without any of them
/// skips the rule table in one scan. Most event messages ("0/3 nodes are available: …")
/// take this path. `every_sample_trips_the_trigger` keeps it honest.
static TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i-u)key|auth|sig|token|cookie|bearer|basic|pass|pwd|secret|login|mysql|curl|wget|http|://|eyj|akia|asia|abia|acca|agpa|aida|aroa|anpa|anva|aipa|apka|gh[pousr]_|github_pat_|gl[a-z]{1,6}-|xox|xapp-|npm_|pypi-|k_live_|k_test_|aiza|ya29\.|hooks\.slack",
    )
    .expect("the trigger pattern compiles")
});

/// Applies every rule, in order, and (when `found` is given) records each replaced span.
pub(crate) fn redact_collecting<'a>(
    input: &'a [u8],
    found: &mut Option<&mut Vec<Vec<u8>>>,
) -> Cow<'a, [u8]> {
    let mut current: Cow<'_, [u8]> = Cow::Borrowed(input);
    if TRIGGER.is_match(input) {
        for rule in RULES.iter() {
            if let Some(out) = apply(rule, &current, found) {
                current = Cow::Owned(out);
            }
        }
    }
    if let Some(out) = redact_base64(&current, found) {
        current = Cow::Owned(out);
    }
    current
}

/// One rule over `input`; `None` when it replaced nothing.
fn apply(rule: &Rule, input: &[u8], found: &mut Option<&mut Vec<Vec<u8>>>) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut last = 0;
    for caps in rule.re.captures_iter(input) {
        let Some(whole) = caps.get(0) else { continue };
        let secret = secret_of(&caps).unwrap_or(whole);
        if secret.start() < last || is_placeholder(secret.as_bytes()) {
            continue;
        }
        let hit = Hit {
            whole: whole.as_bytes(),
            secret: secret.as_bytes(),
            after: &input[whole.end()..],
        };
        if rule.guard.is_some_and(|keep| !keep(&hit)) {
            continue;
        }
        let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
        buf.extend_from_slice(&input[last..secret.start()]);
        buf.extend_from_slice(REDACTED.as_bytes());
        last = secret.end();
        if let Some(found) = found.as_deref_mut() {
            found.push(secret.as_bytes().to_vec());
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&input[last..]);
    Some(buf)
}

/// The secret group of a match: `s`, `q` (inside quotes) or `w` (a bare word).
fn secret_of<'h>(caps: &Captures<'h>) -> Option<regex::bytes::Match<'h>> {
    caps.name("s")
        .or_else(|| caps.name("q"))
        .or_else(|| caps.name("w"))
}

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
fn bearer_credential(hit: &Hit<'_>) -> bool {
    !is_auth_param(hit)
        && !BEARER_PROSE
            .iter()
            .any(|w| w.as_bytes().eq_ignore_ascii_case(hit.secret))
}

/// `Basic <base64 of user:password>`; "basic checks" and `Basic realm=` stay.
fn basic_credential(hit: &Hit<'_>) -> bool {
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
fn secret_key(hit: &Hit<'_>) -> bool {
    if hit.secret.starts_with(b"=") {
        return false;
    }
    let key = key_of(hit.whole, b'=');
    !(key.eq_ignore_ascii_case(b"pwd") || key.eq_ignore_ascii_case(b"oldpwd"))
}

/// `KEY: value` mid-line: only keys that are visibly names: UPPER_CASE, snake/kebab/dotted
/// compounds, or camelCase. A single prose word (`token:`, `Password:`) is a message.
fn named_key(hit: &Hit<'_>) -> bool {
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

fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
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
fn redact_base64(input: &[u8], found: &mut Option<&mut Vec<Vec<u8>>>) -> Option<Vec<u8>> {
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
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_is_listed() {
        let names: Vec<&str> = super::rule_names().collect();
        assert_eq!(names, super::RULE_NAMES);
        assert!(
            TRIGGER.is_match(b"Bearer x")
                && BASE64_RUN.is_match(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
        );
    }

    /// Whatever any rule matches in any sample also trips the trigger (else the rule
    /// table would be skipped for it).
    #[test]
    fn every_sample_trips_the_trigger() {
        for seed in 0..256 {
            for sample in crate::samples::all(seed) {
                for rule in RULES.iter() {
                    for m in rule.re.find_iter(sample.text.as_bytes()) {
                        assert!(
                            TRIGGER.is_match(m.as_bytes()),
                            "{}: {:?}",
                            rule.name,
                            String::from_utf8_lossy(m.as_bytes())
                        );
                    }
                }
            }
        }
    }
}
