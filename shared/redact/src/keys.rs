//! Which names (JSON keys, header names, attribute keys) hold secrets.

/// Key names that hold secrets, compared lowercase with `-`, `_`, `.` and spaces removed.
/// Sorted, for a binary search (a test keeps it sorted).
pub(crate) const SENSITIVE_KEYS: &[&str] = &[
    "accesstoken",
    "accountkey",
    "apikey",
    "auth",
    "authorization",
    "bearertoken",
    "clientsecret",
    "connectionstring",
    "cookie",
    "credentials",
    "dockercfg",
    "dockerconfigjson",
    "identitytoken",
    "idtoken",
    "passphrase",
    "passwd",
    "password",
    "privatekey",
    "privatekeyid",
    "privatetoken",
    "proxyauthorization",
    "pwd",
    "refreshtoken",
    "registrytoken",
    "secret",
    "secretaccesskey",
    "sessiontoken",
    "setcookie",
    "sharedaccesskey",
    "sharedaccesssignature",
    "token",
    "xapikey",
    "xgitlabtoken",
    "xhubsignature",
    "xhubsignature256",
];

/// Suffixes that make a compound key sensitive (`githubToken`, `db_password`).
const SENSITIVE_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "accountkey",
];

/// True when a JSON key, header name or attribute key names a secret.
///
/// Called for every key of every evidence object, so the common case (an ASCII key of at
/// most 64 bytes) is normalised on the stack without allocating, and compared as bytes.
pub fn is_sensitive_key(key: &str) -> bool {
    let mut buf = [0u8; 64];
    let mut len = 0;
    if key.is_ascii() && key.len() <= buf.len() {
        for b in key
            .bytes()
            .filter(|b| !matches!(b, b'-' | b'_' | b'.' | b' '))
        {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        return normalised_is_sensitive(&buf[..len]);
    }
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    normalised_is_sensitive(norm.as_bytes())
}

/// [`is_sensitive_key`] on a key already lowercased with the separators removed. A suffix
/// is compared only when the key ends in the suffix's last byte (most keys end in none).
fn normalised_is_sensitive(norm: &[u8]) -> bool {
    SENSITIVE_KEYS
        .binary_search_by(|k| k.as_bytes().cmp(norm))
        .is_ok()
        || norm.starts_with(b"xhubsignature")
        || SENSITIVE_SUFFIXES
            .iter()
            .any(|s| norm.last() == s.as_bytes().last() && norm.ends_with(s.as_bytes()))
}
