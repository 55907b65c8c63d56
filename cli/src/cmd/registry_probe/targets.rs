//! Which registries to probe and which known manifests belong to each: validated from the
//! arguments before anything connects (pure).

use lastmile_fn_image_pull::reference::ImageRef;

/// One registry and the manifests to check on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host[:port]`.
    pub registry: String,
    /// `repository:tag` (or `repository@digest`), without the registry.
    pub manifests: Vec<String>,
}

/// Pairs each `--manifest` with its registry. A manifest may name its registry
/// (`HOST/REPOSITORY:TAG`); with a single registry it may leave it out. Duplicates are
/// probed once.
pub fn plan(registries: &[String], manifests: &[String]) -> Result<Vec<Target>, String> {
    if registries.is_empty() {
        return Err("name at least one registry host (e.g. registry.example.com:5000)".into());
    }
    let mut targets: Vec<Target> = Vec::new();
    for r in registries {
        let registry = host(r)?;
        if !targets.iter().any(|t| t.registry == registry) {
            targets.push(Target {
                registry,
                manifests: Vec::new(),
            });
        }
    }
    let single = targets.len() == 1;
    for m in manifests {
        let m = m.trim();
        let named = targets.iter().position(|t| {
            m.strip_prefix(&t.registry)
                .is_some_and(|rest| rest.starts_with('/'))
        });
        let (index, repo) = match named {
            Some(i) => (i, &m[targets[i].registry.len() + 1..]),
            None if single => (0, m),
            None => {
                return Err(format!(
                    "--manifest {m:?}: with several registries, name its registry (HOST/REPOSITORY:TAG)"
                ));
            }
        };
        let target = &mut targets[index];
        let full = format!("{}/{repo}", target.registry);
        match ImageRef::parse(&full) {
            Ok(image) if image.registry == target.registry => {}
            Ok(image) => {
                return Err(format!(
                    "--manifest {m:?} on {} resolves to registry {}, as a node would read it",
                    target.registry, image.registry
                ));
            }
            Err(e) => return Err(format!("--manifest {m:?}: {e}")),
        }
        if !target.manifests.iter().any(|x| x == repo) {
            target.manifests.push(repo.to_owned());
        }
    }
    Ok(targets)
}

/// A registry host as given on the command line: `host[:port]`, nothing more (no scheme,
/// path or credentials, which would otherwise end up in output and metrics).
fn host(raw: &str) -> Result<String, String> {
    let h = raw.trim();
    if h.is_empty() {
        return Err("an empty registry host".into());
    }
    // Error messages show the host redacted: it may carry `user:password@`.
    let shown = lastmile_runtime::redact::text(h);
    if h.contains("://") {
        return Err(format!(
            "registry {shown:?}: give the host only (use --plain-http for http)"
        ));
    }
    if h.contains('@') {
        return Err("a registry host must not carry credentials (use --pull-secret)".into());
    }
    if h.contains(['/', '?', '#']) || h.chars().any(char::is_whitespace) {
        return Err(format!("registry {shown:?} is not a host[:port]"));
    }
    Ok(h.to_ascii_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
