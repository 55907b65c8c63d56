//! Image references as the runtime resolves them: default registry `docker.io`, the
//! `library/` prefix for official images, tag versus digest, registry ports.
//!
//! The grammar is distribution/reference's (`reference.go`, `normalize.go`), because that is
//! the parser containerd, CRI-O and the kubelet all use; an invalid reference here is an
//! `InvalidImageName` on the node.

use std::sync::LazyLock;

use regex::Regex;

/// The registry a reference without a domain resolves to.
pub const DOCKER_HUB: &str = "docker.io";
/// The host Docker Hub's registry API is served from.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, with port when given (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/nginx`).
    pub repository: String,
    /// Tag, when given or defaulted (`latest` when neither tag nor digest is given).
    pub tag: Option<String>,
    /// Digest (`sha256:…`), when given.
    pub digest: Option<String>,
}

/// Why a reference does not parse. Always bad input: the pod spec must change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Empty string.
    #[error("invalid reference format: empty image reference")]
    Empty,
    /// Upper-case letters in the repository.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// Anything else the grammar rejects.
    #[error("invalid reference format: {0}")]
    Format(String),
}

/// Compiles one of the grammar's patterns; they are constants, so a failure is a bug that
/// the test building every pattern catches.
fn grammar(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the reference grammar's patterns are valid regexes")
}

static COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| grammar(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"));
static TAG: LazyLock<Regex> = LazyLock::new(|| grammar(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"));
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| grammar(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$"));
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    grammar(
        r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$",
    )
});

fn matches(re: &LazyLock<Regex>, s: &str) -> bool {
    re.is_match(s)
}

impl ImageRef {
    /// Parses and normalises `raw` the way the container runtime does.
    pub fn parse(raw: &str) -> Result<Self, ReferenceError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if s.len() > 4096 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ReferenceError::Format(format!(
                "{s:?} contains whitespace or is too long"
            )));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((name, d)) => {
                if !matches(&DIGEST, d) {
                    return Err(ReferenceError::Format(format!("invalid digest {d:?}")));
                }
                (name, Some(d.to_owned()))
            }
            None => (s, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !matches(&TAG, t)
        {
            return Err(ReferenceError::Format(format!("invalid tag {t:?}")));
        }
        let (registry, path) = split_domain(name);
        if registry != DOCKER_HUB && !matches(&DOMAIN, &registry) {
            return Err(ReferenceError::Format(format!(
                "invalid registry host {registry:?}"
            )));
        }
        if path.is_empty() {
            return Err(ReferenceError::Format("empty repository name".into()));
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(path));
        }
        if !path.split('/').all(|c| matches(&COMPONENT, c)) {
            return Err(ReferenceError::Format(format!(
                "invalid repository name {path:?}"
            )));
        }
        if name.len() > 255 {
            return Err(ReferenceError::Format(
                "repository name must not be more than 255 characters".into(),
            ));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_owned()),
        };
        Ok(Self {
            registry,
            repository: path,
            tag,
            digest,
        })
    }

    /// What the manifest is fetched by: the digest when given, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The host the registry API is served from (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// True for Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// The host without the port (for loopback checks and DNS).
    pub fn host_name(&self) -> &str {
        host_without_port(self.api_host())
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository with another tag.
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name())
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `host[:port]` → `host` (brackets of IPv6 literals kept).
pub fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    host.split_once(':').map_or(host, |(h, _)| h)
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]` (runtimes fall back to plain HTTP there).
pub fn is_loopback(host: &str) -> bool {
    let h = host_without_port(host);
    h == "localhost" || h == "[::1]" || h.starts_with("127.")
}

fn split_domain(name: &str) -> (String, String) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.starts_with('[') =>
        {
            let registry = if first == "index.docker.io" {
                DOCKER_HUB.to_owned()
            } else {
                first.to_owned()
            };
            let path = if registry == DOCKER_HUB && !rest.contains('/') {
                format!("library/{rest}")
            } else {
                rest.to_owned()
            };
            (registry, path)
        }
        Some(_) => (DOCKER_HUB.to_owned(), name.to_owned()),
        None => (DOCKER_HUB.to_owned(), format!("library/{name}")),
    }
}

#[cfg(test)]
mod tests;
