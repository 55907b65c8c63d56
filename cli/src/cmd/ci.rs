//! `lastmile ci`: steps for the CI job itself.
//!
//! - `collect` (after the build): an in-toto Statement v1 with a SLSA Provenance v1
//!   predicate for the Go binaries built (and the image digest, when given), written to a
//!   file, signed as a DSSE envelope with `--key` (ECDSA P-256: unencrypted PKCS#8 or SEC1
//!   PEM, or a cosign key opened with `COSIGN_PASSWORD`), stored as evidence (local directory or S3), and published on the bus as
//!   `dev.lastmile.attestation.v1` on `lastmile.ci.<provider>.build_attested` (`--nats`).
//! - `report --log FILE` (on a failed step): the end of the log, bounded and redacted, as a
//!   Build incident naming this CI run, so the `build` function diagnoses it live and
//!   `lastmile gate --ci-run` prints the cause in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use lastmile_contract::{Clock, EvidenceItem, SystemClock};
use lastmile_events::envelope::stable_id;
use lastmile_events::{CloudEvent, Incident, IncidentFamily, ObjectRef, subjects};
use lastmile_fn_build::attest::AttestationEvent;
use lastmile_fn_build::attest::ci_env::{self, CiRun};
use lastmile_fn_build::attest::dsse;
use lastmile_fn_build::attest::statement::{CollectInput, CollectedBinary, GO_ENV, Statement};
use lastmile_fn_build::buildinfo;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::evidence::s3::{S3Config, S3Store};
use lastmile_runtime::evidence::{EvidenceStore, store_bundle};
use lastmile_runtime::redact;

/// Log bytes a report carries at most (its end: where the failure is).
const MAX_LOG: usize = 64 * 1024;

/// `lastmile ci`: one subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// After the build: attest the Go binaries (and image) CI built.
    Collect(Box<CollectArgs>),
    /// On a failed step: publish the log's end as a Build incident of this CI run.
    Report(ReportArgs),
}

/// `ci collect` arguments.
#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The Go binaries built.
    #[arg(required = true)]
    pub binaries: Vec<PathBuf>,
    /// The image built from them, by digest: `REPO@sha256:HEX`.
    #[arg(long)]
    pub image: Option<String>,
    /// The module's go.sum (default: ./go.sum when present).
    #[arg(long = "go-sum")]
    pub go_sum: Option<PathBuf>,
    /// Where to write the attestation (a DSSE envelope with --key, else the statement).
    #[arg(long, default_value = "lastmile-attestation.json")]
    pub out: PathBuf,
    /// Sign with this ECDSA P-256 private key: unencrypted PKCS#8 or SEC1 PEM, or a
    /// `cosign generate-key-pair` key (its password from `COSIGN_PASSWORD`).
    #[arg(long, env = "LASTMILE_SIGNING_KEY")]
    pub key: Option<PathBuf>,
    /// Evidence directory, used when no S3 bucket is configured.
    #[arg(
        long,
        env = "LASTMILE_EVIDENCE_DIR",
        default_value = "lastmile-evidence"
    )]
    pub evidence_dir: PathBuf,
    #[command(flatten)]
    pub s3: S3Config,
    /// Publish the attestation event to this NATS server.
    #[arg(long, env = "LASTMILE_NATS")]
    pub nats: Option<String>,
}

/// `ci report` arguments.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The failed step's log.
    #[arg(long)]
    pub log: PathBuf,
    /// The step's name.
    #[arg(long, default_value = "build")]
    pub step: String,
    /// The NATS server.
    #[arg(long, env = "LASTMILE_NATS")]
    pub nats: String,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Collect(a) => collect(*a).await,
        Sub::Report(a) => report(a).await,
    }
}

fn env_map() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

async fn collect(a: CollectArgs) -> anyhow::Result<ExitCode> {
    let mut binaries = Vec::new();
    for path in &a.binaries {
        let b = buildinfo::read_file(path).with_context(|| path.display().to_string())?;
        binaries.push(CollectedBinary {
            name: path
                .file_name()
                .map_or_else(|| b.file.clone(), |n| n.to_string_lossy().into_owned()),
            sha256: b.sha256,
            info: b.info,
        });
    }
    let image = a.image.as_deref().map(parse_image).transpose()?;
    let go_sum = match &a.go_sum {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("go.sum")).filter(|p| p.is_file()),
    };
    let go_sum_sha256 = go_sum
        .as_deref()
        .map(|p| buildinfo::sha256_file(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let env = env_map();
    let go_env: BTreeMap<String, String> = GO_ENV
        .iter()
        .filter_map(|k| env.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    let ci = ci_env::from_env(&env);
    let input = CollectInput {
        binaries,
        image,
        go_sum_sha256,
        go_env,
        ci: ci.clone(),
        finished_on: SystemClock.now().to_rfc3339(),
    };
    let statement = Statement::build(&input);
    let payload = serde_json::to_vec(&statement)?;
    let (bytes, signed) = match &a.key {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading key {}", path.display()))?;
            let password = std::env::var("COSIGN_PASSWORD").ok();
            let key = dsse::signing_key(&pem, password.as_deref())
                .with_context(|| path.display().to_string())?;
            let env = dsse::sign(dsse::IN_TOTO_PAYLOAD_TYPE, &payload, &key);
            (serde_json::to_vec_pretty(&env)?, true)
        }
        None => (serde_json::to_vec_pretty(&statement)?, false),
    };
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    let digest = hex_sha256(&bytes);

    let store: Arc<dyn EvidenceStore> = match &a.s3.bucket {
        Some(_) => {
            a.s3.validate().context("invalid S3 configuration")?;
            Arc::new(
                S3Store::connect(&a.s3)
                    .await
                    .context("cannot reach the S3 evidence store")?,
            )
        }
        None => Arc::new(
            LocalStore::new(&a.evidence_dir).context("cannot open the evidence directory")?,
        ),
    };
    let name = if signed {
        "attestation.dsse.json"
    } else {
        "attestation.intoto.json"
    };
    let item = EvidenceItem::new(name, "application/json", bytes.clone());
    let manifest_key = format!("manifests/ci/attestation-{}.json", &digest[..16]);
    let evidence = store_bundle(store.as_ref(), &manifest_key, &[item])
        .await
        .context("cannot store the attestation as evidence")?;

    if let Some(url) = &a.nats {
        let event = AttestationEvent {
            run: ci.run.clone(),
            builder_id: ci.builder_id.clone(),
            subjects: statement.subject.clone(),
            signed,
            sha256: digest.clone(),
            evidence: Some(evidence.clone()),
        };
        let provider = ci.run.as_ref().map_or("generic", |r| r.provider.as_str());
        let ce = CloudEvent::new(
            stable_id(&["attestation", &digest]),
            "/lastmile/ci",
            ci.run.as_ref().map(|r| format!("ci/{}", r.run_id)),
            SystemClock.now(),
            event,
        );
        publish(
            url,
            &subjects::ci(provider, "build_attested"),
            &ce.id,
            ce.to_vec()?,
        )
        .await?;
    }
    crate::outln!(
        "{}: {} binar{} attested{}, sha256 {digest}; evidence {}{}",
        a.out.display(),
        input.binaries.len(),
        if input.binaries.len() == 1 {
            "y"
        } else {
            "ies"
        },
        if signed {
            ", signed (DSSE)"
        } else {
            ", unsigned"
        },
        evidence.store,
        if a.nats.is_some() { "; published" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_image(raw: &str) -> anyhow::Result<(String, String)> {
    match raw.rsplit_once("@sha256:") {
        Some((name, hex)) if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok((name.to_owned(), hex.to_ascii_lowercase()))
        }
        _ => bail!("--image {raw:?}: expected REPO@sha256:<64 hex digits>"),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(bytes);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn publish(url: &str, subject: &str, id: &str, payload: Vec<u8>) -> anyhow::Result<()> {
    let cfg = NatsConfig::with_url(url);
    cfg.validate().context("invalid NATS configuration")?;
    let bus = NatsBus::connect(&cfg)
        .await
        .context("cannot connect to NATS")?;
    bus.ensure_streams()
        .await
        .context("cannot create the JetStream streams")?;
    bus.publish(Message {
        subject: subject.to_owned(),
        headers: BTreeMap::from([(MSG_ID_HEADER.to_owned(), id.to_owned())]),
        payload: Bytes::from(payload),
    })
    .await
    .with_context(|| format!("cannot publish on {subject}"))?;
    Ok(())
}

/// The end of the log (where the failure is), at most [`MAX_LOG`] bytes, redacted.
fn excerpt(path: &Path) -> anyhow::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let len = f.metadata()?.len();
    let from = len.saturating_sub(MAX_LOG as u64);
    f.seek(SeekFrom::Start(from))?;
    let mut buf = Vec::with_capacity(MAX_LOG);
    f.take(MAX_LOG as u64).read_to_end(&mut buf)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if from > 0 {
        // Start at a whole line.
        if let Some(i) = text.find('\n') {
            text.drain(..=i);
        }
    }
    Ok(redact::text(&text).into_owned())
}

async fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let text = excerpt(&a.log)?;
    let CiRun { run, .. } = ci_env::from_env(&env_map());
    let Some(run) = run else {
        bail!(
            "no CI run found in the environment (GITHUB_RUN_ID, CI_PIPELINE_ID or LASTMILE_CI_RUN): the gate could not match the incident"
        );
    };
    let now = SystemClock.now();
    let subject = ObjectRef {
        kind: "CiRun".into(),
        namespace: run.pipeline.clone(),
        name: format!("{}/{}", run.run_id, a.step),
        ..Default::default()
    };
    let mut incident = Incident::new(IncidentFamily::Build, subject, None, now);
    incident.ci = Some(run.clone());
    incident.text = Some(text.clone());
    let id = stable_id(&[
        "ci-report",
        &run.run_id,
        &a.step,
        &hex_sha256(text.as_bytes()),
    ]);
    let mut ce = CloudEvent::new(
        id.clone(),
        "/lastmile/ci",
        Some(format!("ci/{}/{}", run.run_id, a.step)),
        now,
        incident,
    );
    ce.traceparent.clone_from(&run.traceparent);
    publish(
        &a.nats,
        &subjects::incident(IncidentFamily::Build),
        &id,
        ce.to_vec()?,
    )
    .await?;
    crate::outln!(
        "reported step {} of CI run {} ({} log bytes, redacted) as a build incident",
        a.step,
        run.run_id,
        text.len()
    );
    Ok(ExitCode::SUCCESS)
}
