//! The one way lastmile builds a Kubernetes client (watcher, cluster view, remediation
//! executor): from a kubeconfig file and context when given, else in-cluster configuration
//! or `KUBECONFIG` / `~/.kube/config`, with every call bounded when a timeout is given.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::Client;
use kube::config::{InferConfigError, KubeConfigOptions, Kubeconfig, KubeconfigError};

/// Why no client could be built. Permanent: fix the kubeconfig, context or service account.
#[derive(Debug, thiserror::Error)]
pub enum KubeClientError {
    /// The kubeconfig file could not be read or parsed.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file given.
        path: PathBuf,
        /// kube's reason.
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig has no usable context, cluster or user (e.g. an unknown `--context`).
    #[error("{0}")]
    Kubeconfig(#[source] KubeconfigError),
    /// Neither in-cluster configuration nor a default kubeconfig is usable.
    #[error("{0}")]
    Infer(#[source] InferConfigError),
    /// The configuration is there but the HTTP client cannot be built from it (TLS, proxy).
    #[error("{0}")]
    Client(#[source] kube::Error),
}

/// Builds a client; does not connect. `timeout` bounds connecting, reading and writing.
pub async fn kube_client(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    timeout: Option<Duration>,
) -> Result<Client, KubeClientError> {
    let mut config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|source| KubeClientError::Read {
                path: path.to_owned(),
                source,
            })?;
            let options = KubeConfigOptions {
                context: context.map(str::to_owned),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(KubeClientError::Kubeconfig)?
        }
        None => kube::Config::infer()
            .await
            .map_err(KubeClientError::Infer)?,
    };
    if let Some(timeout) = timeout {
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
    }
    Client::try_from(config).map_err(KubeClientError::Client)
}
