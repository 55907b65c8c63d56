//! Which names (JSON keys, header names, attribute keys) hold secrets.

/// Key names that hold secrets, compared lowercase with `-`, `_`, `.` and spaces removed.
const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "bearertoken",
    "sessiontoken",
    "secret",
    "clientsecret",
    "secretaccesskey",
    "authorization",
    "proxyauthorization",
    "auth",
    "dockerconfigjson",
    "dockercfg",
    "apikey",
    "privatekey",
    "privatekeyid",
    "accountkey",
    "sharedaccesskey",
    "sharedaccesssignature",
    "connectionstring",
    "cookie",
    "setcookie",
    "xhubsignature",
    "xhubsignature256",
    "xgitlabtoken",
    "xapikey",
    "privatetoken",
    "identitytoken",
    "registrytoken",
    "credentials",
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
/// most 64 bytes) is normalised on the stack without allocating.
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
        // ASCII in, ASCII out.
        return std::str::from_utf8(&buf[..len]).is_ok_and(normalised_is_sensitive);
    }
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    normalised_is_sensitive(&norm)
}

/// [`is_sensitive_key`] on a key already lowercased with the separators removed.
fn normalised_is_sensitive(norm: &str) -> bool {
    SENSITIVE_KEYS.contains(&norm)
        || norm.starts_with("xhubsignature")
        || SENSITIVE_SUFFIXES.iter().any(|s| norm.ends_with(s))
}
