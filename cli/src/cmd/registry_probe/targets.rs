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
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn one_registry_takes_bare_and_prefixed_manifests_once() {
        let t = plan(
            &s(&["localhost:5000"]),
            &s(&[
                "team/app:1.0",
                "localhost:5000/team/app:1.0",
                "base@sha256:abc",
            ]),
        );
        // A digest must be a full sha256: the bad one is refused before any probe.
        assert!(t.unwrap_err().contains("base@sha256:abc"));
        let t = plan(
            &s(&["localhost:5000"]),
            &s(&[
                "team/app:1.0",
                "localhost:5000/team/app:1.0",
                "library/busybox",
            ]),
        )
        .unwrap();
        assert_eq!(
            t,
            vec![Target {
                registry: "localhost:5000".into(),
                manifests: s(&["team/app:1.0", "library/busybox"]),
            }]
        );
    }

    #[test]
    fn several_registries_need_manifests_that_name_theirs() {
        let regs = s(&["a.example.com", "b.example.com:5000"]);
        let t = plan(
            &regs,
            &s(&["b.example.com:5000/x/y:1", "a.example.com/z:2"]),
        )
        .unwrap();
        assert_eq!(t[0].manifests, s(&["z:2"]));
        assert_eq!(t[1].manifests, s(&["x/y:1"]));
        let e = plan(&regs, &s(&["x/y:1"])).unwrap_err();
        assert!(e.contains("name its registry"), "{e}");
        let e = plan(&regs, &s(&["c.example.com/x/y:1"])).unwrap_err();
        assert!(e.contains("name its registry"), "{e}");
    }

    #[test]
    fn hosts_with_schemes_paths_or_credentials_are_refused_without_echoing_secrets() {
        for bad in [
            "https://r.example.com",
            "r.example.com/v2/",
            "",
            "r example",
        ] {
            assert!(plan(&s(&[bad]), &[]).is_err(), "{bad}");
        }
        let e = plan(&s(&["robot:hunter2@r.example.com"]), &[]).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        for url in [
            "http://user:pw-s3cret@r.example.com",
            "https://ci:pw-s3cret@r.example.com/v2/",
        ] {
            let e = plan(&s(&[url]), &[]).unwrap_err();
            assert!(!e.contains("pw-s3cret") && e.contains("[REDACTED]"), "{e}");
        }
        assert!(plan(&[], &[]).is_err());
    }

    #[test]
    fn a_registry_no_image_reference_can_name_is_refused() {
        // `docker.io/library/x` under `localhost:5000` is a repository of that name there.
        let t = plan(&s(&["LOCALHOST:5000"]), &s(&["docker.io/library/x:1"])).unwrap();
        assert_eq!(t[0].registry, "localhost:5000");
        assert_eq!(t[0].manifests, s(&["docker.io/library/x:1"]));
        // A single-label host without a port reads as a Docker Hub repository on a node.
        let e = plan(&s(&["mirror"]), &s(&["team/app:1"])).unwrap_err();
        assert!(e.contains("resolves to registry docker.io"), "{e}");
    }
}
