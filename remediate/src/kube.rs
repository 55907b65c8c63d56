//! The executor's Kubernetes calls: read the target, patch it (dry run first), record an
//! Event. Each call is bounded by the configured timeout (also the client's connect, read
//! and write timeouts), and errors say whether the API server refused or did not answer.

use std::path::Path;
use std::time::Duration;

use kube::Client;
use kube::api::{GetParams, PatchParams, PostParams};
use kube::core::Request;
use lastmile_events::diagnosis::{PatchTarget, PatchType};
use serde_json::Value;

/// The field manager named on every patch.
pub const FIELD_MANAGER: &str = "lastmile-remediate";

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The API server answered with an error `Status`.
    #[error("the API server answered {code} {reason}: {message}")]
    Status {
        /// HTTP status code (409: conflict, 404: gone, 403: RBAC, 422: invalid).
        code: u16,
        /// The Status reason, e.g. `Conflict`.
        reason: String,
        /// The Status message.
        message: String,
    },
    /// No answer in time, or the connection failed: retryable.
    #[error("the API server did not answer: {0}")]
    Unavailable(String),
    /// The request could not be built.
    #[error("Kubernetes client: {0}")]
    Config(String),
    /// No client: the kubeconfig, context or in-cluster configuration is not usable.
    #[error("Kubernetes client: {0}")]
    Client(#[from] lastmile_kube_view::KubeClientError),
}

impl KubeError {
    /// True for a 409 Conflict (the object changed after it was read).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Status { code: 409, .. })
    }

    /// True when retrying later may help (no answer, or a 5xx / 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Status { code, .. } => *code == 429 || *code >= 500,
            Self::Config(_) | Self::Client(_) => false,
        }
    }
}

/// The Kubernetes API as the executor uses it.
#[derive(Clone)]
pub struct Kube {
    client: Client,
    timeout: Duration,
}

impl std::fmt::Debug for Kube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kube")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The collection path of a target's kind: only what the allowlist can permit is known.
fn collection(target: &PatchTarget, namespace: &str) -> Result<String, KubeError> {
    match (target.api_version.as_str(), target.kind.as_str()) {
        ("batch/v1", "Job") => Ok(format!("/apis/batch/v1/namespaces/{namespace}/jobs")),
        (v, k) => Err(KubeError::Config(format!(
            "{v}/{k} is not a kind the executor patches"
        ))),
    }
}

impl Kube {
    /// A client from `kubeconfig` (and `context`) when given, else in-cluster configuration
    /// or `KUBECONFIG` / `~/.kube/config`; `timeout` bounds every call. Does not connect.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, KubeError> {
        let client = lastmile_kube_view::kube_client(kubeconfig, context, Some(timeout)).await?;
        Ok(Self { client, timeout })
    }

    /// Bounds one call (kube's future for a built request) and sorts its error.
    async fn send(
        &self,
        call: impl Future<Output = Result<Value, kube::Error>>,
    ) -> Result<Value, KubeError> {
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(KubeError::Unavailable(format!(
                "no answer within {:?}",
                self.timeout
            ))),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(kube::Error::Api(status))) => Err(KubeError::Status {
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            }),
            Ok(Err(e)) => Err(KubeError::Unavailable(e.to_string())),
        }
    }

    /// Reads the target object.
    pub async fn get(&self, target: &PatchTarget) -> Result<Value, KubeError> {
        let ns = target.namespace.as_deref().unwrap_or_default();
        let request = Request::new(collection(target, ns)?)
            .get(&target.name, &GetParams::default())
            .map_err(|e| KubeError::Config(e.to_string()))?;
        self.send(self.client.request::<Value>(request)).await
    }

    /// Patches the target with `body` read as `patch_type`; `dry_run` asks the server to
    /// validate and answer without storing (`dryRun=All`). Returns the (would-be) object.
    pub async fn patch(
        &self,
        target: &PatchTarget,
        patch_type: PatchType,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, KubeError> {
        let ns = target.namespace.as_deref().unwrap_or_default();
        let params = PatchParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        // kube builds merge-type requests; the content type says which patch it really is
        // (kube's own JSON patch variant needs an extra crate for a body we already have).
        let mut request = Request::new(collection(target, ns)?)
            .patch(&target.name, &params, &kube::api::Patch::Merge(body))
            .map_err(|e| KubeError::Config(e.to_string()))?;
        let content_type = patch_type
            .content_type()
            .parse()
            .map_err(|e| KubeError::Config(format!("content type: {e}")))?;
        request.headers_mut().insert("content-type", content_type);
        self.send(self.client.request::<Value>(request)).await
    }

    /// Creates `event` (a `v1` Event) in `namespace`.
    pub async fn create_event(&self, namespace: &str, event: &Value) -> Result<Value, KubeError> {
        let body = serde_json::to_vec(event).map_err(|e| KubeError::Config(e.to_string()))?;
        let request = Request::new(format!("/api/v1/namespaces/{namespace}/events"))
            .create(&PostParams::default(), body)
            .map_err(|e| KubeError::Config(e.to_string()))?;
        self.send(self.client.request::<Value>(request)).await
    }
}
