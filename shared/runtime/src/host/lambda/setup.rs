//! Start-up shared by every binary that hosts one function: `lastmile function NAME` (NATS
//! consumer or Lambda) and the lean per-function Lambda binaries (`lastmile-lambda`).
//!
//! Both read the same flags and environment ([`FunctionHostConfig`]), validate them before
//! anything connects, and build the same clients once ([`HostClients`]): the function's
//! [`Context`] (clock, registry HTTP client when probing, `LASTMILE_*` settings), the evidence
//! store (S3 when a bucket is configured, else a local directory) and the NATS bus with its
//! streams. What differs stays with the binary: the CLI may add a Kubernetes cluster view and
//! chooses between the NATS and the Lambda host; the lean binary has no Kubernetes client.

use std::path::PathBuf;
use std::sync::Arc;

use lastmile_contract::{Context, NoCluster, RegistryHttp, Settings, SystemClock};

use crate::bus::BusError;
use crate::bus::nats::{ConfigError, NatsBus, NatsConfig};
use crate::evidence::local::LocalStore;
use crate::evidence::s3::{S3Config, S3Store};
use crate::evidence::{EvidenceError, EvidenceStore};
use crate::http::{HttpConfig, HttpConfigError, ReqwestRegistryHttp};
use crate::telemetry::{self, TelemetryConfig, TelemetryError, TelemetryGuard};

/// What a function host reads from flags and the environment besides the function's own
/// `LASTMILE_*` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct FunctionHostConfig {
    /// Evidence directory, used when no S3 bucket is configured.
    #[arg(
        long,
        env = "LASTMILE_EVIDENCE_DIR",
        default_value = "lastmile-evidence"
    )]
    pub evidence_dir: PathBuf,
    /// Let functions ask registries over the network (the image-pull probe).
    #[arg(long, env = "LASTMILE_PROBE", default_value_t = true, action = clap::ArgAction::Set)]
    pub probe: bool,
    /// Extra CA certificate (PEM) to trust when probing registries; repeatable.
    #[arg(
        long = "registry-ca",
        env = "LASTMILE_REGISTRY_CA",
        value_delimiter = ','
    )]
    pub registry_ca: Vec<PathBuf>,
    /// NATS, where diagnoses, remediation commands and dead letters are published.
    #[command(flatten)]
    pub nats: NatsConfig,
    /// S3, where evidence bundles go when a bucket is set.
    #[command(flatten)]
    pub s3: S3Config,
}

/// The clients a function host builds once at start-up and hands to its executor.
pub struct HostClients {
    /// What every invocation gets: clock, registry HTTP (when probing), settings. The
    /// cluster view is [`NoCluster`]; a host with a Kubernetes client replaces it.
    pub context: Context,
    /// S3 when a bucket is configured, else the local evidence directory.
    pub evidence: Arc<dyn EvidenceStore>,
    /// Connected, with lastmile's streams ensured.
    pub bus: Arc<NatsBus>,
}

impl std::fmt::Debug for HostClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostClients")
            .field("probe", &self.context.http.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a function host cannot start. Every variant is fatal at start-up: a binary exits 2
/// (and a Lambda binary reports it as its init error first). The message is the step; the
/// source says why.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The NATS flags or environment are invalid.
    #[error("invalid NATS configuration")]
    NatsConfig(#[source] ConfigError),
    /// The S3 flags or environment are invalid.
    #[error("invalid S3 configuration")]
    S3Config(#[source] EvidenceError),
    /// The `OTEL_*` / `LASTMILE_LOG` environment is invalid, or the exporter cannot start.
    #[error("cannot start telemetry")]
    Telemetry(#[source] TelemetryError),
    /// A `--registry-ca` file cannot be read.
    #[error("cannot read --registry-ca {}", path.display())]
    RegistryCa {
        /// The file named.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The registry HTTP client cannot be built (a CA file is not PEM).
    #[error("cannot build the registry HTTP client")]
    Http(#[source] HttpConfigError),
    /// The S3 evidence store cannot be set up.
    #[error("cannot reach the S3 evidence store")]
    S3(#[source] EvidenceError),
    /// The local evidence directory cannot be created or opened.
    #[error("cannot open the evidence directory")]
    EvidenceDir(#[source] EvidenceError),
    /// The first NATS connection failed.
    #[error("cannot connect to NATS")]
    Nats(#[source] BusError),
    /// lastmile's JetStream streams cannot be created or updated.
    #[error("cannot create the JetStream streams")]
    Streams(#[source] BusError),
}

impl SetupError {
    /// True when starting again later may succeed: a dependency (NATS, S3) was unreachable,
    /// not refused and not misconfigured.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Nats(e) | Self::Streams(e) => e.is_retryable(),
            Self::S3(e) => e.is_retryable(),
            _ => false,
        }
    }
}

impl FunctionHostConfig {
    /// Checks the configuration without touching the network.
    pub fn validate(&self) -> Result<(), SetupError> {
        self.nats.validate().map_err(SetupError::NatsConfig)?;
        if self.s3.bucket.is_some() {
            self.s3.validate().map_err(SetupError::S3Config)?;
        }
        Ok(())
    }

    /// The registry HTTP client when probing is on, trusting the extra CAs.
    pub fn registry_http(&self) -> Result<Option<Arc<dyn RegistryHttp>>, SetupError> {
        if !self.probe {
            return Ok(None);
        }
        let mut config = HttpConfig::default();
        for path in &self.registry_ca {
            let pem = std::fs::read(path).map_err(|source| SetupError::RegistryCa {
                path: path.clone(),
                source,
            })?;
            config.extra_ca_pems.push(pem);
        }
        let client = ReqwestRegistryHttp::new(&config).map_err(SetupError::Http)?;
        Ok(Some(Arc::new(client)))
    }

    /// Builds every client: the context (with `settings`, already checked by the caller for
    /// the function it hosts), the evidence store, and the NATS bus with its streams.
    pub async fn connect(&self, settings: Settings) -> Result<HostClients, SetupError> {
        self.validate()?;
        let context = Context {
            clock: Arc::new(SystemClock),
            cluster: Arc::new(NoCluster),
            http: self.registry_http()?,
            settings: Arc::new(settings),
        };
        // The NATS connection (a JetStream round trip or two per stream) and the S3 client
        // (credentials chain, HTTPS client with its roots: CPU more than I/O) are independent
        // and both sit on a Lambda's cold start: the bus is set up on another worker meanwhile.
        let nats = self.nats.clone();
        let bus = tokio::spawn(async move {
            let bus = NatsBus::connect(&nats).await.map_err(SetupError::Nats)?;
            bus.ensure_streams().await.map_err(SetupError::Streams)?;
            Ok::<_, SetupError>(Arc::new(bus))
        });
        let evidence: Arc<dyn EvidenceStore> = match &self.s3.bucket {
            Some(_) => Arc::new(S3Store::connect(&self.s3).await.map_err(SetupError::S3)?),
            None => Arc::new(LocalStore::new(&self.evidence_dir).map_err(SetupError::EvidenceDir)?),
        };
        let bus = match bus.await {
            Ok(bus) => bus?,
            // Set-up panicked: a bug, surfaced as the same panic; the task is never cancelled.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        Ok(HostClients {
            context,
            evidence,
            bus,
        })
    }
}

/// Starts telemetry for the function `name` from the `OTEL_*` environment, with the service
/// name `lastmile-<name>` unless `OTEL_SERVICE_NAME` says otherwise.
pub fn start_telemetry(name: &str) -> Result<TelemetryGuard, SetupError> {
    let config =
        TelemetryConfig::from_env(&format!("lastmile-{name}")).map_err(SetupError::Telemetry)?;
    telemetry::init(&config).map_err(SetupError::Telemetry)
}
