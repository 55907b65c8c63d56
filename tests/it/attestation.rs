//! The attestation round trip against real servers: Go programs built here with Debian's
//! `golang-go` from a local file proxy, `lastmile ci collect` signing a DSSE attestation,
//! images pushed to a real `docker-registry` with the binary in a layer, and
//! `lastmile image check --attestation` / `gate --attestation` reading the binary back out
//! of the registry. Then `lastmile ci report` → NATS → the `build` function hosted on its
//! JetStream consumer → `lastmile gate` failing the same CI run with the cause.

mod ci_gate;
mod signatures;
mod token_auth;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::gobuild::GoWork;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::registry::{
    Pusher, Registry, RegistryAuth, TarEntry, TokenUser, linux, tar_gz, token_registry,
};

const GITHUB_ENV: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "true"),
    ("GITHUB_SERVER_URL", "https://github.com"),
    ("GITHUB_REPOSITORY", "acme/app"),
    ("GITHUB_RUN_ID", "4242"),
    ("GITHUB_RUN_ATTEMPT", "1"),
    ("GITHUB_WORKFLOW", "ci"),
    (
        "GITHUB_WORKFLOW_REF",
        "acme/app/.github/workflows/ci.yml@refs/heads/main",
    ),
    ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
];

fn lastmile(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(lastmile_bin().unwrap());
    c.args(args).env_remove("LASTMILE_CI_RUN");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn push_binary(push: &Pusher, tag: &str, bin: &Path) -> String {
    let bytes = std::fs::read(bin).unwrap();
    let layer = tar_gz(&[
        TarEntry::File("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        TarEntry::File("usr/local/bin/app", &bytes),
    ])
    .unwrap();
    let (digest, _, _) = push
        .image_with_layers(
            "team/app",
            Some(tag),
            linux("amd64"),
            true,
            &[("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
        )
        .await
        .unwrap();
    digest
}
