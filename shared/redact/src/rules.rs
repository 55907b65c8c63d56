//! The text rules: an ordered table of patterns, each naming where the secret sits.
//!
//! Every pattern either has a group named `s` (or `q`, the inside of quotes): the secret,
//! replaced by [`REDACTED`] while the rest of the match (the key, the scheme, the `@`) stays
//! readable; or no such group, and the whole match goes. A match is left alone when its
//! secret is visibly a placeholder ([`is_placeholder`]) or when the rule's guard says the
//! match is prose, not a credential.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::{Captures, Regex, RegexSet};

use crate::REDACTED;

mod base64_runs;
mod guards;

use base64_runs::redact_base64;
use guards::{basic_credential, bearer_credential, is_placeholder, named_key, secret_key};

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

/// Every rule's pattern in one set, index for index with [`RULES`].
static RULE_SET: LazyLock<RegexSet> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    RegexSet::new(RULES.iter().map(|r| r.re.as_str())).expect("the rule patterns compile as a set")
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
        // One pass says which rules match anywhere; only those run (most text that trips
        // the trigger, "pull secret", "taint key", a URL, matches none). A replacement only
        // turns a secret into `[REDACTED]`, which no rule's value pattern accepts, so a rule
        // that did not match the input has nothing to match after it either.
        let matching = RULE_SET.matches(input);
        for i in matching.iter() {
            if let Some(out) = apply(&RULES[i], &current, found) {
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

#[cfg(test)]
mod tests;
