//! NATS over TLS, as production runs it: a private CA, mutual TLS, and a wrong CA. The real
//! `lastmile` binary (one rustls crypto provider, installed at start-up) against a real
//! `nats-server --tls`; before the fix the first TLS connection panicked (exit 101).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Message, Publisher};
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::{NatsServer, ServerTls};
use lastmile_tests::registry::TestCa;

/// The PEM files of one test PKI in a temp dir.
struct Pki {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    other_ca: PathBuf,
    server: ServerTls,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {name}"))?;
    Ok(path)
}

fn pki(mutual: bool) -> anyhow::Result<Pki> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("lastmile test NATS CA")?;
    let other = TestCa::new("someone else's CA")?;
    let (cert, key) = ca.issue(&["127.0.0.1", "localhost"])?;
    let (client_cert, client_key) = ca.issue(&["lastmile-gate"])?;
    let ca_path = write(dir.path(), "ca.pem", &ca.pem())?;
    Ok(Pki {
        other_ca: write(dir.path(), "other-ca.pem", &other.pem())?,
        server: ServerTls {
            cert: write(dir.path(), "server.pem", &cert)?,
            key: write(dir.path(), "server-key.pem", &key)?,
            client_ca: mutual.then(|| ca_path.clone()),
        },
        client_cert: write(dir.path(), "client.pem", &client_cert)?,
        client_key: write(dir.path(), "client-key.pem", &client_key)?,
        ca: ca_path,
        _dir: dir,
    })
}

fn tls_config(nats: &NatsServer, ca: &Path, client: Option<(&Path, &Path)>) -> NatsConfig {
    let mut config = NatsConfig::with_url(nats.tls_url());
    config.tls_ca = Some(ca.to_owned());
    if let Some((cert, key)) = client {
        config.tls_cert = Some(cert.to_owned());
        config.tls_key = Some(key.to_owned());
    }
    config
}

/// Runs `lastmile gate` for a workload nobody deploys, with a short timeout: exit 3 (timed
/// out) proves it connected, read the streams and waited; 2 is a connection failure.
async fn gate(nats: &NatsServer, tls_args: &[(&str, &Path)]) -> anyhow::Result<(i32, String)> {
    let mut command = tokio::process::Command::new(lastmile_bin()?);
    command
        .args([
            "gate",
            "--workload",
            "job/ci/never-deployed",
            "--timeout",
            "2s",
        ])
        .args(["--nats-url", &nats.tls_url(), "--progress", "1s"])
        .env_remove("NATS_URL")
        .env_remove("NATS_TLS_CA")
        .env_remove("NATS_TLS_CERT")
        .env_remove("NATS_TLS_KEY")
        .kill_on_drop(true);
    for (flag, path) in tls_args {
        command.arg(flag).arg(path);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .context("the gate did not exit")??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code().unwrap_or(-1), text))
}

#[tokio::test]
async fn gate_connects_over_tls_with_a_private_ca() -> anyhow::Result<()> {
    let pki = pki(false)?;
    let nats = NatsServer::start_tls(&pki.server).await?;
    let bus = NatsBus::connect(&tls_config(&nats, &pki.ca, None)).await?;
    bus.ensure_streams().await?;

    let (code, text) = gate(&nats, &[("--nats-tls-ca", &pki.ca)]).await?;
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(
        code, 3,
        "the gate should connect and time out waiting:\n{text}"
    );
    Ok(())
}

#[tokio::test]
async fn the_env_variable_names_the_ca_too() -> anyhow::Result<()> {
    let pki = pki(false)?;
    let nats = NatsServer::start_tls(&pki.server).await?;
    let bus = NatsBus::connect(&tls_config(&nats, &pki.ca, None)).await?;
    bus.ensure_streams().await?;
    let out = tokio::process::Command::new(lastmile_bin()?)
        .args([
            "gate",
            "--workload",
            "job/ci/never-deployed",
            "--timeout",
            "1s",
        ])
        .env("NATS_URL", nats.tls_url())
        .env("NATS_TLS_CA", &pki.ca)
        .output()
        .await?;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn mutual_tls_publishes_and_consumes_and_refuses_a_client_without_a_certificate()
-> anyhow::Result<()> {
    let pki = pki(true)?;
    let nats = NatsServer::start_tls(&pki.server).await?;
    let config = tls_config(&nats, &pki.ca, Some((&pki.client_cert, &pki.client_key)));
    let bus = NatsBus::connect(&config).await?;
    bus.ensure_streams().await?;

    // A JetStream publish (acknowledged by the server) over the mutually authenticated
    // connection lands in the stream.
    bus.publish(Message {
        subject: "lastmile.ci.tls-check".into(),
        payload: b"{}".to_vec().into(),
        ..Default::default()
    })
    .await?;
    let mut stream = bus.jetstream().get_stream("LASTMILE_CI").await?;
    assert_eq!(stream.info().await?.state.messages, 1);

    // The real binary with the client certificate connects; without it, it is refused.
    let (code, text) = gate(
        &nats,
        &[
            ("--nats-tls-ca", &pki.ca),
            ("--nats-tls-cert", &pki.client_cert),
            ("--nats-tls-key", &pki.client_key),
        ],
    )
    .await?;
    assert_eq!(code, 3, "mTLS gate should connect:\n{text}");
    let (code, text) = gate(&nats, &[("--nats-tls-ca", &pki.ca)]).await?;
    assert_eq!(code, 2, "no client certificate must fail:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_ca_is_exit_2_with_one_clear_line() -> anyhow::Result<()> {
    let pki = pki(false)?;
    let nats = NatsServer::start_tls(&pki.server).await?;
    let (code, text) = gate(&nats, &[("--nats-tls-ca", &pki.other_ca)]).await?;
    assert_eq!(code, 2, "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let error: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("lastmile:"))
        .collect();
    assert_eq!(error.len(), 1, "one error line expected:\n{text}");
    assert!(error[0].contains("--nats-tls-ca"), "{text}");
    assert!(!text.contains("panicked"), "{text}");

    // Bad flags are refused before any connection.
    let (code, text) = gate(&nats, &[("--nats-tls-cert", &pki.client_cert)]).await?;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--nats-tls-key"), "{text}");
    Ok(())
}
