//! Pull credentials as the kubelet picks them: the pod's `imagePullSecrets` (then the service
//! account's), `kubernetes.io/dockerconfigjson` and legacy `kubernetes.io/dockercfg`, matched
//! to the image with the kubelet keyring's rules (host glob per label, port must match, path
//! prefix, most specific entry first, Docker Hub's many spellings as one).
//!
//! Secrets are an input built by the caller ([`ProbeCredentials`]): incidents do not carry
//! Secret objects, and a function must never fetch them itself. Secret values never leave this
//! module except as the [`Credential`] used for one request; `Debug` redacts them.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use serde::Deserialize;

use crate::reference::ImageRef;

/// Secrets and service accounts of the pod's namespace, supplied by whoever builds the probe.
#[derive(Clone, Default)]
pub struct ProbeCredentials {
    /// Secrets visible to the caller (any namespace; the namespace is checked).
    pub secrets: Vec<Secret>,
    /// Service accounts (for their `imagePullSecrets`).
    pub service_accounts: Vec<ServiceAccount>,
    /// True when `secrets` is the complete list of the pod's namespace, so a named secret
    /// that is absent is really missing (otherwise its absence proves nothing).
    pub complete: bool,
    /// Docker config files given directly (`lastmile image check --pull-secret FILE`),
    /// tried after the pod's secrets.
    pub docker_configs: Vec<DockerConfig>,
}

impl std::fmt::Debug for ProbeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeCredentials")
            .field("secrets", &self.secrets.len())
            .field("service_accounts", &self.service_accounts.len())
            .field("complete", &self.complete)
            .field("docker_configs", &self.docker_configs.len())
            .finish()
    }
}

/// One registry login.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
    /// Where it came from, for evidence (`secret ci/regcred, entry "registry.example.com"`).
    pub source: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &"[REDACTED]")
            .field("source", &self.source)
            .finish()
    }
}

/// A parsed docker config: registry key → login.
#[derive(Clone, Default)]
pub struct DockerConfig {
    /// Entries as (key as written, login).
    pub entries: Vec<(String, Credential)>,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerConfig")
            .field("registries", &self.registries())
            .finish()
    }
}

/// What went wrong with a pull secret; each maps to an `image.auth` sub-cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SecretProblem {
    /// Named in the pod but absent from its namespace.
    Missing {
        /// Secret name.
        name: String,
    },
    /// Named in the pod, absent from its namespace, present in another.
    OtherNamespace {
        /// Secret name.
        name: String,
        /// Where it exists.
        found_in: String,
    },
    /// Present but unusable (wrong type, bad JSON/base64, no auth).
    Malformed {
        /// Secret name.
        name: String,
        /// What is wrong (never the value).
        reason: String,
    },
    /// Well-formed, but no entry matches the image's registry.
    NoMatchingEntry {
        /// Secret name.
        name: String,
        /// The registries it has entries for.
        registries: Vec<String>,
    },
}

/// The outcome of picking credentials for one image.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Candidate logins in the kubelet's order (it tries each until one works).
    pub candidates: Vec<Credential>,
    /// Secret names the pod (or its service account) refers to.
    pub referenced: Vec<String>,
    /// Problems found on the way.
    pub problems: Vec<SecretProblem>,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Why a docker config (a pull secret's `.dockerconfigjson`/`.dockercfg`, or a
/// `config.json`) cannot be read. Bad input; the message never quotes a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DockerConfigError {
    /// The bytes are not JSON.
    #[error("not JSON (line {line}, column {column})")]
    NotJson {
        /// Line of the first syntax error.
        line: usize,
        /// Column of the first syntax error.
        column: usize,
    },
    /// `auths` is there but does not hold `{registry: login}` objects.
    #[error("\"auths\" is not a map of logins")]
    AuthsNotAMap,
    /// A legacy `.dockercfg` that is not `{registry: login}`.
    #[error("not a map of registry logins")]
    NotAMapOfLogins,
    /// An entry's `auth` does not decode as base64.
    #[error("entry {entry:?}: \"auth\" is not base64")]
    AuthNotBase64 {
        /// The registry key of the entry.
        entry: String,
    },
    /// An entry's `auth` decodes to bytes that are not UTF-8.
    #[error("entry {entry:?}: \"auth\" is not UTF-8")]
    AuthNotUtf8 {
        /// The registry key of the entry.
        entry: String,
    },
    /// An entry's `auth` decodes to text without the `user:password` colon.
    #[error("entry {entry:?}: \"auth\" is not user:password")]
    AuthNotUserPassword {
        /// The registry key of the entry.
        entry: String,
    },
    /// An entry with neither `auth` nor `username`/`password`.
    #[error("entry {entry:?} has neither auth nor username/password")]
    NoLogin {
        /// The registry key of the entry.
        entry: String,
    },
    /// A Secret whose type is not one the kubelet reads pull credentials from.
    #[error(
        "type is {secret_type:?}, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg"
    )]
    WrongSecretType {
        /// The Secret's `type`.
        secret_type: String,
    },
    /// A pull Secret of the right type without its data key.
    #[error("has no {key} key")]
    MissingKey {
        /// `.dockerconfigjson` or `.dockercfg`.
        key: &'static str,
    },
}

impl DockerConfig {
    /// Parses `.dockerconfigjson` (`{"auths": {...}}`) or legacy `.dockercfg` (`{host: {...}}`).
    /// The error never contains the input.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self, DockerConfigError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| DockerConfigError::NotJson {
                line: e.line(),
                column: e.column(),
            })?;
        let map: BTreeMap<String, AuthEntry> = if value.get("auths").is_some() {
            serde_json::from_value::<ConfigJson>(value)
                .map_err(|_| DockerConfigError::AuthsNotAMap)?
                .auths
        } else {
            serde_json::from_value(value).map_err(|_| DockerConfigError::NotAMapOfLogins)?
        };
        let mut entries = Vec::new();
        for (key, entry) in map {
            let (username, password) = match (&entry.username, &entry.password, &entry.auth) {
                (Some(u), Some(p), _) if !u.is_empty() => (u.clone(), p.clone()),
                (_, _, Some(a)) if !a.is_empty() => {
                    let decoded = STANDARD
                        .decode(a.trim())
                        .map_err(|_| DockerConfigError::AuthNotBase64 { entry: key.clone() })?;
                    let text = String::from_utf8(decoded)
                        .map_err(|_| DockerConfigError::AuthNotUtf8 { entry: key.clone() })?;
                    let (u, p) = text.split_once(':').ok_or_else(|| {
                        DockerConfigError::AuthNotUserPassword { entry: key.clone() }
                    })?;
                    (u.to_owned(), p.to_owned())
                }
                _ => {
                    return Err(DockerConfigError::NoLogin { entry: key });
                }
            };
            entries.push((
                key.clone(),
                Credential {
                    username,
                    password,
                    source: format!("{source}, entry {key:?}"),
                },
            ));
        }
        Ok(Self { entries })
    }

    /// The logins whose key matches `image`, most specific key first.
    pub fn lookup(&self, image: &ImageRef) -> Vec<Credential> {
        let mut hits: Vec<(&String, &Credential)> = self
            .entries
            .iter()
            .filter(|(k, _)| key_matches(k, image))
            .map(|(k, c)| (k, c))
            .collect();
        hits.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| b.0.cmp(a.0)));
        hits.into_iter().map(|(_, c)| c.clone()).collect()
    }

    /// The registries it holds logins for (keys as written).
    pub fn registries(&self) -> Vec<String> {
        self.entries.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// Docker Hub's spellings, all meaning the same registry.
fn canonical_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" | "docker.io" => {
            "docker.io"
        }
        h => h,
    }
}

/// The kubelet keyring's match: `[scheme://]host[:port][/path]` with `*` globs per host label.
pub fn key_matches(key: &str, image: &ImageRef) -> bool {
    let key = key.trim();
    let without_scheme = key.split_once("://").map_or(key, |(_, r)| r);
    let (key_host_port, key_path) = match without_scheme.split_once('/') {
        Some((h, p)) => (h, p.trim_end_matches('/')),
        None => (without_scheme, ""),
    };
    let key_path = if key_path == "v1" || key_path == "v2" {
        ""
    } else {
        key_path
    };
    let (key_host, key_port) = split_port(key_host_port);
    let (img_host, img_port) = split_port(&image.registry);
    if key_port != img_port {
        return false;
    }
    let (kh, ih) = (
        canonical_host(&key_host.to_lowercase()).to_owned(),
        canonical_host(img_host).to_owned(),
    );
    let kl: Vec<&str> = kh.split('.').collect();
    let il: Vec<&str> = ih.split('.').collect();
    if kl.len() != il.len() || !kl.iter().zip(&il).all(|(k, i)| glob_label(k, i)) {
        return false;
    }
    key_path.is_empty()
        || image.repository == key_path
        || image.repository.starts_with(&format!("{key_path}/"))
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (host, None),
    }
}

fn glob_label(pattern: &str, label: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == label,
        Some((pre, post)) => {
            label.len() >= pre.len() + post.len() && label.starts_with(pre) && label.ends_with(post)
        }
    }
}

/// Reads a Secret's docker config, checking its type and key like the kubelet.
pub fn secret_config(secret: &Secret) -> Result<DockerConfig, DockerConfigError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let ns = secret.metadata.namespace.clone().unwrap_or_default();
    let source = format!("secret {ns}/{name}");
    let ty = secret.type_.as_deref().unwrap_or("Opaque");
    let key = match ty {
        "kubernetes.io/dockerconfigjson" => ".dockerconfigjson",
        "kubernetes.io/dockercfg" => ".dockercfg",
        other => {
            return Err(DockerConfigError::WrongSecretType {
                secret_type: other.to_owned(),
            });
        }
    };
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.clone().into_bytes())
        })
        .ok_or(DockerConfigError::MissingKey { key })?;
    DockerConfig::parse(&bytes, &source)
}

/// Picks credentials for `image` the way the kubelet would for `pod`.
pub fn select(pod: Option<&Pod>, image: &ImageRef, creds: &ProbeCredentials) -> Selection {
    let mut sel = Selection::default();
    let ns = pod
        .and_then(|p| p.metadata.namespace.clone())
        .unwrap_or_default();
    let spec = pod.and_then(|p| p.spec.as_ref());
    let mut names: Vec<String> = spec
        .and_then(|s| s.image_pull_secrets.as_ref())
        .into_iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();
    let sa_name = spec
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    if let Some(sa) = creds.service_accounts.iter().find(|sa| {
        sa.metadata.name.as_deref() == Some(&sa_name)
            && sa.metadata.namespace.as_deref().unwrap_or(&ns) == ns
    }) {
        names.extend(
            sa.image_pull_secrets
                .iter()
                .flatten()
                .map(|r| r.name.clone()),
        );
    }
    // The pod's and its service account's lists often overlap, not necessarily adjacently.
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.clone()));
    for name in &names {
        let local = creds.secrets.iter().find(|s| {
            s.metadata.name.as_deref() == Some(name)
                && s.metadata.namespace.as_deref().unwrap_or(&ns) == ns
        });
        match local {
            Some(secret) => match secret_config(secret) {
                Ok(cfg) => {
                    let hits = cfg.lookup(image);
                    if hits.is_empty() {
                        sel.problems.push(SecretProblem::NoMatchingEntry {
                            name: name.clone(),
                            registries: cfg.registries(),
                        });
                    }
                    sel.candidates.extend(hits);
                }
                Err(e) => sel.problems.push(SecretProblem::Malformed {
                    name: name.clone(),
                    reason: e.to_string(),
                }),
            },
            None => {
                let elsewhere = creds
                    .secrets
                    .iter()
                    .find(|s| s.metadata.name.as_deref() == Some(name));
                match elsewhere.and_then(|s| s.metadata.namespace.clone()) {
                    Some(other) => sel.problems.push(SecretProblem::OtherNamespace {
                        name: name.clone(),
                        found_in: other,
                    }),
                    None if creds.complete => sel
                        .problems
                        .push(SecretProblem::Missing { name: name.clone() }),
                    None => {}
                }
            }
        }
    }
    sel.referenced = names;
    for cfg in &creds.docker_configs {
        sel.candidates.extend(cfg.lookup(image));
    }
    sel
}

#[cfg(test)]
mod tests;
