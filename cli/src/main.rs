//! `lastmile`: finds out why a deploy is stuck in its last mile, with proof and a fix.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only parses arguments
//! and maps errors to a one-line cause and a non-zero exit code.

mod cmd;
mod functions;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Why is my deploy stuck? lastmile reads the cluster, the registry and CI, and says why.
#[derive(Debug, Parser)]
#[command(name = "lastmile", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay recorded incidents through the functions on the embedded default
    /// (in-process bus, local evidence directory; no cluster, no servers).
    Replay(cmd::replay::Args),
    /// Host one function: on NATS JetStream, or on AWS Lambda when AWS_LAMBDA_RUNTIME_API is set.
    Function(cmd::function::Args),
    /// Check that images would pull (exists, credentials, platforms) before deploying.
    Image(cmd::image::Args),
    /// Probe a registry's health as a node sees it: /v2/, a known manifest, the catalog.
    Registry(cmd::registry_probe::Args),
    /// Explain why a workload is stuck, from kubectl JSON, describe output, events or a log.
    Explain(cmd::explain::Args),
    /// Watch the cluster and publish incidents worth diagnosing.
    Watch(cmd::watch::Args),
    /// Receive CI webhooks (GitHub, GitLab, generic) and publish CI events.
    Webhook(cmd::webhook::Args),
    /// CI step: wait for a deploy; exit non-zero with the cause as soon as it is known.
    Gate(cmd::gate::Args),
    /// Read Go binaries' build information; compare two builds.
    Build(cmd::build::Args),
    /// Send incidents to the diagnosis functions on AWS Lambda (durable consumer, Invoke).
    Dispatch(cmd::dispatch::Args),
    /// CI steps: attest what the build produced; report a failed step's log.
    Ci(cmd::ci::Args),
    /// Check Kubernetes manifests before deploy: init-container wait cycles, unbounded waits, Job hygiene.
    Lint(cmd::lint::Args),
    /// Admission webhook (HTTPS): the lint rules on Pods and workloads as they are created.
    Admission(cmd::admission::Args),
    /// Apply allowlisted structured remediations (off by default): dry run first, audited.
    Remediate(cmd::remediate::Args),
    // -- more subcommands: add one variant per line above this marker --
}

/// mimalloc instead of glibc malloc: the runtime allocates per event (envelopes, JSON
/// values, evidence) and glibc's trimming and consolidation cost ~10% of the pipeline's CPU;
/// `cargo bench -p lastmile-tests --bench pipeline` uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // One rustls crypto provider for the process, before any TLS connection (NATS, S3, kube).
    lastmile_runtime::tls::install_crypto_provider();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::argument_error(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lastmile: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Replay(args) => cmd::replay::run(args).await,
            Command::Function(args) => cmd::function::run(args).await,
            Command::Image(args) => cmd::image::run(args).await,
            Command::Registry(args) => cmd::registry_probe::run(args).await,
            Command::Explain(args) => cmd::explain::run(args).await,
            Command::Watch(args) => cmd::watch::run(args).await,
            Command::Webhook(args) => cmd::webhook::run(args).await,
            Command::Gate(args) => cmd::gate::run(args).await,
            Command::Build(args) => cmd::build::run(args).await,
            Command::Dispatch(args) => cmd::dispatch::run(args).await,
            Command::Ci(args) => cmd::ci::run(args).await,
            Command::Lint(args) => cmd::lint::run(args).await,
            Command::Admission(args) => cmd::admission::run(args).await,
            Command::Remediate(args) => cmd::remediate::run(args).await,
            // -- more dispatch arms: add one per line above this marker --
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the cause chain, outermost first.
            eprintln!("lastmile: {}", output::error_chain(err.as_ref()));
            ExitCode::from(2)
        }
    }
}
