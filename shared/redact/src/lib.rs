//! The one secret-detection policy of lastmile, and the small text helpers every output
//! path shares.
//!
//! Everything that leaves a lastmile process — human and JSON output, published diagnoses
//! and remediations, evidence, log lines, span attributes, error messages — passes through
//! this crate first. It has no lastmile dependency (only `regex`, `base64`, `serde_json`),
//! so functions, hosts, the CLI and the gate can all call the same rules.
//!
//! Two views of the same policy:
//! - [`json`] walks a JSON document: values under keys that name secrets, every value of a
//!   Kubernetes Secret's `data`/`stringData`, every container `env[].value` (env values are
//!   secrets by policy), `{"name": "Authorization", "value": …}` pairs and JSON embedded in
//!   strings; every other string gets the text rules. Names (`imagePullSecrets`,
//!   `secretKeyRef.name`) stay: they are the evidence of what is missing.
//! - [`text`] rewrites free text with an ordered table of rules ([`RULE_NAMES`]): private
//!   key blocks, `Authorization` values, bearer and basic credentials anywhere in a line,
//!   `user:pass@` in any URL, JWTs, cloud keys (AWS, GCP service-account JSON, Azure
//!   connection strings and SAS), GitHub/GitLab/Slack/… token formats, password flags
//!   (`--password`, `docker login -p`, `mysql -p…`, `curl -u user:pass`), `KEY=value` and
//!   `KEY: value` where the key names a secret, and base64 blobs hiding a docker config.
//!
//! Why rules rather than a scanner's entropy heuristics: evidence must stay readable
//! (digests, image names, go.sum hashes and UIDs are high-entropy and are the proof), and a
//! false negative is a leak, so the rules aim at where secrets *are* by construction (keys,
//! headers, flags, env, known token formats) rather than at what they look like. Values that
//! are visibly placeholders (`<password>`, `$TOKEN`, `${X}`, `true`) are left alone, so
//! remediation commands stay copyable. Redaction fails closed: bytes that do not parse as
//! their declared type still get the text rules.
//!
//! [`escape_control`] makes untrusted text safe for a terminal; [`truncate_at_char_boundary`]
//! is the one way to cut a string to a byte budget.

mod escape;
mod json;
mod keys;
mod known;
mod rules;
pub mod samples;

use std::borrow::Cow;

pub use escape::{escape_control, truncate_at_char_boundary};
pub use json::json;
pub use keys::is_sensitive_key;
pub use known::Known;
pub use rules::{RULE_NAMES, rule_names};

/// What replaces every secret.
pub const REDACTED: &str = "[REDACTED]";

/// Redacts `bytes` of media type `media_type` (JSON-aware for `application/json`,
/// `*+json` and NDJSON; text rules for everything else). Returns the input unchanged when
/// nothing needed redacting, so content hashes of clean evidence are the hashes of its bytes.
pub fn bytes(input: &[u8], media_type: &str) -> Vec<u8> {
    if is_json_media_type(media_type)
        && let Some(out) = json::json_bytes(input)
    {
        return out;
    }
    rules::text_bytes(input).into_owned()
}

/// Redacts free text (a log line, an event message, an HTTP transcript, an error message).
pub fn text(input: &str) -> Cow<'_, str> {
    match rules::text_bytes(input.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(input),
        // The rules replace ASCII spans with ASCII, so valid UTF-8 stays valid; be lossy
        // rather than panic should that ever change.
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Redacts a string in place; returns true when anything was replaced.
pub fn text_in_place(s: &mut String) -> bool {
    match text(s) {
        Cow::Borrowed(_) => false,
        Cow::Owned(clean) => {
            *s = clean;
            true
        }
    }
}

/// A named value (an HTTP header, a span attribute, a config entry): the whole value goes
/// when the name — or its last dotted segment, as in `http.request.header.authorization` —
/// names a secret; otherwise the text rules apply.
pub fn named_value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    let last = name.rsplit('.').next().unwrap_or_default();
    if !value.is_empty() && (is_sensitive_key(name) || is_sensitive_key(last)) {
        return Cow::Borrowed(REDACTED);
    }
    text(value)
}

/// An HTTP `Authorization`-style value with its scheme kept: `Basic [REDACTED]`.
pub fn credential_with_scheme(value: &str) -> String {
    match value.trim().split_once(' ') {
        Some((scheme, _))
            if scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{scheme} {REDACTED}")
        }
        _ => REDACTED.to_owned(),
    }
}

/// True for media types whose bytes are JSON documents (or JSON lines).
pub fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/x-ndjson"
        || essence == "application/jsonl"
        || essence == "application/json-seq"
}

#[cfg(test)]
mod tests;
