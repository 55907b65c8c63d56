//! `--attestation` (of `image check` and `gate`): the Go binaries read out of the image in
//! its registry, compared with what CI attested (`lastmile ci collect`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use lastmile_fn_image_pull::DockerConfig;
use lastmile_fn_image_pull::reference::ImageRef;

use super::read_pull_secret;

/// The docker configs holding registry logins: the `--pull-secret` files given, else the
/// one `docker login` wrote in this CI job (`$DOCKER_CONFIG/config.json`, then
/// `~/.docker/config.json`) when it exists.
pub fn docker_configs(explicit: &[PathBuf]) -> anyhow::Result<Vec<DockerConfig>> {
    if !explicit.is_empty() {
        return explicit.iter().map(|p| read_pull_secret(p)).collect();
    }
    let default = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
        .map(|d| d.join("config.json"));
    match default {
        Some(p) if p.is_file() => Ok(vec![read_pull_secret(&p)?]),
        _ => Ok(Vec::new()),
    }
}

/// What `--attestation` checks against.
#[derive(Debug, Clone)]
pub struct AttestationOptions {
    /// The attestation file.
    pub attestation: PathBuf,
    /// The public key verifying it, when given.
    pub public_key: Option<PathBuf>,
    /// Registries reached over plain HTTP.
    pub plain_http: Vec<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Docker configs (`--pull-secret`, else the CI job's own docker login) holding the
    /// login for the image's registry.
    pub docker_configs: Vec<DockerConfig>,
}

/// Reads the Go binaries out of `image` in its registry and compares them with the
/// attestation: `(passed, lines to print)`. Unreadable attestation or key, or a signature
/// that does not verify, is an error of its own (exit 2), never a pass.
pub async fn check_attestation(
    http: &dyn lastmile_contract::RegistryHttp,
    image: &str,
    o: &AttestationOptions,
) -> anyhow::Result<(bool, String)> {
    use lastmile_fn_build::attest::{check, dsse};
    use lastmile_fn_build::buildinfo::registry::{RegistryOptions, read_image};
    let bytes = std::fs::read(&o.attestation)
        .with_context(|| format!("reading attestation {}", o.attestation.display()))?;
    let key = match &o.public_key {
        Some(p) => Some(
            dsse::verifying_key(
                &std::fs::read_to_string(p)
                    .with_context(|| format!("reading public key {}", p.display()))?,
            )
            .with_context(|| p.display().to_string())?,
        ),
        None => None,
    };
    let (statement, verified) = check::read(&bytes, key.as_ref())
        .with_context(|| format!("attestation {}", o.attestation.display()))?;
    let credential = ImageRef::parse(image).ok().and_then(|r| {
        o.docker_configs
            .iter()
            .find_map(|cfg| cfg.lookup(&r).into_iter().next())
    });
    let found = read_image(
        http,
        image,
        &RegistryOptions {
            timeout: o.timeout,
            plain_http: o.plain_http.clone(),
            max_bytes: 1 << 30,
            credential,
        },
    )
    .await
    .with_context(|| format!("reading the Go binaries of {image}"))?;
    let (ok, bad) = check::check(&statement, &found.binaries);
    let mut out = String::new();
    let trust = if verified { "signed" } else { "UNSIGNED" };
    if bad.is_empty() {
        out.push_str(&format!(
            "ok    {image}  matches the {trust} attestation ({})\n",
            ok.join(", ")
        ));
        return Ok((true, out));
    }
    let subject = lastmile_events::Subject {
        kind: "Image".into(),
        namespace: None,
        name: image.to_owned(),
        container: None,
    };
    for m in &bad {
        out.push_str(&format!(
            "FAIL  {image}  build.attestation_mismatch  {}\n",
            crate::output::field(&m.summary())
        ));
        for d in m.diagnoses(&subject) {
            out.push_str(&format!(
                "      {}: {}\n",
                d.class,
                crate::output::field(&d.summary)
            ));
            for e in &d.evidence {
                out.push_str(&format!("        - {}\n", crate::output::field(e)));
            }
        }
    }
    Ok((false, out))
}
