//! `WWW-Authenticate` challenges (RFC 7235) as registries send them:
//! `Bearer realm="…",service="…",scope="…",error="insufficient_scope"` or `Basic realm="…"`.

use std::collections::BTreeMap;

/// One parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// Scheme, lower-case (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters, lower-case names.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// The token request for pulling `repository` from a Bearer challenge's `realm` and
/// `service` (distribution's token protocol: `GET realm?service=…&scope=repository:R:pull`).
pub fn pull_token_url(realm: &str, service: Option<&str>, repository: &str) -> String {
    let mut url = realm.to_owned();
    url.push(if url.contains('?') { '&' } else { '?' });
    if let Some(service) = service {
        url.push_str(&format!("service={}&", query_escape(service)));
    }
    url.push_str(&format!(
        "scope={}",
        query_escape(&format!("repository:{repository}:pull"))
    ));
    url
}

/// The `Authorization` value of HTTP Basic auth (the value is a secret: never log it).
pub fn basic_authorization(username: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// Percent-encodes a query value (unreserved characters, `/` and `:` kept).
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parses a header value that may hold several challenges; never fails (garbage gives none).
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ']);
        // A token followed by '=' is a parameter of the current challenge; otherwise a scheme.
        let word_end = rest.find([' ', ',', '=']).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if word.is_empty() {
            break;
        }
        let after = &rest[word_end..];
        if let Some(value_text) = after.strip_prefix('=') {
            let (value, remaining) = read_value(value_text);
            if let Some(c) = out.last_mut() {
                c.params.insert(word.to_ascii_lowercase(), value);
            }
            rest = remaining;
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            rest = after;
        }
    }
    out
}

fn read_value(s: &str) -> (String, &str) {
    let s = s.trim_start();
    if let Some(quoted) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = s.find(',').unwrap_or(s.len());
        (s[..end].trim().to_owned(), &s[end..])
    }
}

#[cfg(test)]
mod tests;
