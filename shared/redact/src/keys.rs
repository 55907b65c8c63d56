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
pub fn is_sensitive_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE_KEYS.contains(&norm.as_str())
        || norm.starts_with("xhubsignature")
        || SENSITIVE_SUFFIXES.iter().any(|s| norm.ends_with(s))
}
