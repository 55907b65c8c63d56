//! `image check` throughput: 200 references against a local docker-registry, sequential
//! versus concurrent, printed as references per second. Two runs: straight to the loopback
//! registry (CPU-bound on a small machine: client and registry share the cores), and through a
//! TCP proxy that delays every chunk by 10 ms each way, i.e. ~20 ms RTT like a registry across
//! a network, where concurrency pays. Run with
//! `cargo bench -p lastmile-fn-image-pull --bench image_check`.

use std::time::{Duration, Instant};

use lastmile_contract::SystemClock;
use lastmile_fn_image_pull::platform::Platform;
use lastmile_fn_image_pull::{Checks, ProbeCredentials, ProbeOptions, check};
use lastmile_runtime::http::{HttpConfig, ReqwestRegistryHttp};
use lastmile_tests::registry::{Plat, Pusher, Registry, RegistryAuth, linux};

const REFS: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let reg = Registry::start(RegistryAuth::None, None).await?;
    let push = Pusher::new(&reg.base_url(), None, None)?;
    // 150 references that exist (single-arch and multi-arch, Docker and OCI) and 50 missing tags.
    let (_, mt, _) = push
        .image("bench/single", Some("base"), linux("amd64"), false)
        .await?;
    let body = reqwest_get_manifest(&reg.base_url(), "bench/single", "base", mt).await?;
    push.index(
        "bench/multi",
        "base",
        &[
            linux("amd64"),
            Plat {
                os: "linux",
                arch: "arm64",
                variant: Some("v8"),
            },
        ],
        true,
    )
    .await?;
    let index = reqwest_get_manifest(
        &reg.base_url(),
        "bench/multi",
        "base",
        "application/vnd.oci.image.index.v1+json",
    )
    .await?;
    let mut images = Vec::new();
    for i in 0..75 {
        push.manifest("bench/single", &format!("1.{i}"), mt, &body)
            .await?;
        push.manifest(
            "bench/multi",
            &format!("2.{i}"),
            "application/vnd.oci.image.index.v1+json",
            &index,
        )
        .await?;
        images.push(format!("{}/bench/single:1.{i}", reg.host()));
        images.push(format!("{}/bench/multi:2.{i}", reg.host()));
    }
    for i in 0..(REFS - images.len()) {
        images.push(format!("{}/bench/single:9.{i}", reg.host()));
    }
    run("loopback, no added latency", &reg.host(), &images).await?;
    let proxy = delay_proxy(reg.host(), Duration::from_millis(10)).await?;
    let proxied: Vec<String> = images
        .iter()
        .map(|i| i.replace(&reg.host(), &proxy))
        .collect();
    run(
        "through a 10 ms-each-way proxy (~20 ms RTT)",
        &proxy,
        &proxied,
    )
    .await?;
    Ok(())
}

async fn run(label: &str, host: &str, images: &[String]) -> anyhow::Result<()> {
    let http = ReqwestRegistryHttp::new(&HttpConfig::default())?;
    let opts = ProbeOptions {
        timeout: Duration::from_secs(10),
        plain_http: vec![host.to_owned()],
        platforms: vec![Platform::new("linux", "amd64", None)],
        list_tags: true,
        require_signature: false,
    };
    let creds = ProbeCredentials::default();
    let checks = Checks::default();
    // Warm-up (connection pool, registry caches).
    let _ = check::check_many(
        &http,
        &SystemClock,
        &images[..20],
        &creds,
        &opts,
        &checks,
        8,
    )
    .await;
    println!("image check of {} references, {label}:", images.len());
    let mut sequential = 0.0;
    for concurrency in [1usize, 4, 16, 32] {
        let started = Instant::now();
        let reports = check::check_many(
            &http,
            &SystemClock,
            images,
            &creds,
            &opts,
            &checks,
            concurrency,
        )
        .await;
        let secs = started.elapsed().as_secs_f64();
        let failed = reports.iter().filter(|r| r.cause().is_some()).count();
        anyhow::ensure!(
            failed == REFS - 150,
            "expected {} failures, got {failed}",
            REFS - 150
        );
        let rate = images.len() as f64 / secs;
        if concurrency == 1 {
            sequential = rate;
        }
        println!(
            "concurrency {concurrency:>2}: {secs:>6.3} s  {rate:>8.1} refs/s  speed-up {:>5.2}x",
            rate / sequential
        );
    }
    Ok(())
}

/// A TCP proxy to `upstream` that sleeps `delay` before forwarding every chunk, both ways.
async fn delay_proxy(upstream: String, delay: Duration) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, delay));
                pump(sr, cw, delay).await;
            });
        }
    });
    Ok(addr)
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        tokio::time::sleep(delay).await;
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

async fn reqwest_get_manifest(
    base: &str,
    repo: &str,
    tag: &str,
    accept: &str,
) -> anyhow::Result<Vec<u8>> {
    let resp = reqwest::Client::new()
        .get(format!("{base}/v2/{repo}/manifests/{tag}"))
        .header("accept", accept)
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    Ok(resp.bytes().await?.to_vec())
}
