//! Lambda cold start of the lean per-function packages: package size, cold init (process
//! start -> its first Runtime API request, NATS connected with its streams and the S3 client
//! ready) and the first invocation (a recorded incident: diagnose, evidence to S3, diagnosis
//! published on NATS), each binary run as Lambda runs it under the test kit's Runtime API
//! emulator, with a real nats-server and S3 server.
//!
//! ```text
//! just lambda-package pending                                            # target/lambda/pending.zip
//! cargo bench -p lastmile-tests --bench lambda_cold --profile dev         # 20 cold starts each
//! cargo bench -p lastmile-tests --bench lambda_cold --profile dev -- 50   # 50
//! ```
//!
//! Every package under `target/lambda/` (`FUNCTION/bootstrap`, `FUNCTION.zip`) is measured.
//! Without any, the bench builds the lean `pending` binary in the dev profile and measures
//! that instead (said in the output: unoptimised, so slower and larger than a package).
//! Registry probing is off (`LASTMILE_PROBE=false`): the bench talks to loopback only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{TimeZone, Utc};
use lastmile_events::CloudEvent;
use lastmile_tests::lambda_api::{InvocationResult, LambdaApi, lean_lambda_bin};
use lastmile_tests::nats::NatsServer;
use lastmile_tests::s3::S3Server;

/// Bound on any wait.
const PATIENCE: Duration = Duration::from_secs(60);
const BUCKET: &str = "evidence";

/// One binary to measure.
struct Package {
    function: String,
    bootstrap: PathBuf,
    zip: Option<PathBuf>,
    what: &'static str,
}

/// The process under test; killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()
        .context("the argument is the number of cold starts per package")?
        .unwrap_or(20)
        .max(1);
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let mut packages = packages(&target.join("lambda"))?;
    if packages.is_empty() {
        println!(
            "no packages under {} (just lambda-package pending): measuring the dev-profile lean binary",
            target.join("lambda").display()
        );
        packages.push(Package {
            function: "pending".into(),
            bootstrap: lean_lambda_bin("pending")?,
            zip: None,
            what: "dev build, not a package",
        });
    }

    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket(BUCKET)?;
    for package in &packages {
        let payload = payload(&workspace, &package.function)?;
        let mut inits = Vec::with_capacity(runs);
        let mut firsts = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (init, first) = cold_start(package, &nats, &s3, payload.as_deref()).await?;
            inits.push(init);
            firsts.extend(first);
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let zip = package
            .zip
            .as_deref()
            .map(|z| format!(", zip {}", mib(size(z))))
            .unwrap_or_default();
        println!(
            "lambda {} ({}): bootstrap {}{zip}",
            package.function,
            package.what,
            mib(size(&package.bootstrap)),
        );
        println!(
            "  cold init (process start -> first Runtime API request, NATS + S3 ready), {runs} runs: {}",
            summary(&mut inits)
        );
        if !firsts.is_empty() {
            println!(
                "  first invocation (invoke -> response: diagnose, S3 evidence, NATS publish): {}",
                summary(&mut firsts)
            );
        }
    }
    Ok(())
}

/// Every `FUNCTION/bootstrap` under `dir`, with `FUNCTION.zip` when it is there.
fn packages(dir: &Path) -> anyhow::Result<Vec<Package>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let bootstrap = entry.path().join("bootstrap");
        if !bootstrap.is_file() {
            continue;
        }
        let function = entry.file_name().to_string_lossy().into_owned();
        let zip = dir.join(format!("{function}.zip"));
        found.push(Package {
            function,
            bootstrap,
            zip: zip.is_file().then_some(zip),
            what: "package",
        });
    }
    found.sort_by(|a, b| a.function.cmp(&b.function));
    Ok(found)
}

/// The invocation payload for `function`: the first incident of a recorded example, as the
/// watcher would publish it. `None` when no recording fits (cold init only).
fn payload(workspace: &Path, function: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let example = match function {
        "pending" => "pending-job-insufficient-cpu.json",
        "image-pull" => "imagepull-auth-401.json",
        "workload" => "init-waiting-for-postgres.json",
        _ => return Ok(None),
    };
    let path = workspace.join("events/examples").join(example);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let incident = lastmile_intake::incidents_from_json(&bytes)?
        .into_iter()
        .next()
        .with_context(|| format!("no incident in {}", path.display()))?;
    let time = Utc
        .with_ymd_and_hms(2026, 3, 3, 10, 2, 11)
        .single()
        .unwrap_or_default();
    let key = incident.key.clone();
    let event = CloudEvent::new(
        format!("bench-{function}"),
        "/lastmile/watcher",
        Some(key),
        time,
        incident,
    );
    Ok(Some(event.to_vec()?))
}

/// One cold start of `package`: its init time, and its first invocation's when there is a
/// payload.
async fn cold_start(
    package: &Package,
    nats: &NatsServer,
    s3: &S3Server,
    payload: Option<&[u8]>,
) -> anyhow::Result<(Duration, Option<Duration>)> {
    let api = LambdaApi::start().await?;
    let scratch = tempfile::tempdir()?;
    let mut command = Command::new(&package.bootstrap);
    command
        .current_dir(scratch.path())
        .env_clear()
        .envs(api.runtime_env())
        .env("LASTMILE_FUNCTION", &package.function)
        .env("NATS_URL", nats.url())
        .env("LASTMILE_S3_BUCKET", BUCKET)
        .env("LASTMILE_S3_ENDPOINT", s3.endpoint())
        .env("LASTMILE_S3_FORCE_PATH_STYLE", "true")
        .env("LASTMILE_S3_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", s3.access_key())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_key())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("LASTMILE_PROBE", "false")
        .env("LASTMILE_EVIDENCE_DIR", scratch.path())
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let _running = Running(command.spawn().context("starting the package")?);
    let first_poll = api.wait_first_poll(PATIENCE).await?;
    if let Some(report) = api.init_error() {
        bail!("{} failed its init: {report:?}", package.function);
    }
    let init = first_poll.saturating_duration_since(started);
    let Some(payload) = payload else {
        return Ok((init, None));
    };
    let invoked = Instant::now();
    let id = api.invoke(payload.to_vec());
    match api.wait_result(&id, PATIENCE).await? {
        InvocationResult::Response(_) => Ok((init, Some(invoked.elapsed()))),
        InvocationResult::Error(report) => {
            bail!("{} answered an error: {report:?}", package.function)
        }
    }
}

/// `min p50 p90 max` of `times`.
fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    format!(
        "min {}  p50 {}  p90 {}  max {}",
        ms(at(0.0)),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(1.0))
    )
}

fn mib(bytes: u64) -> String {
    format!(
        "{bytes} bytes ({:.2} MiB)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}
