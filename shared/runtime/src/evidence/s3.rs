//! Evidence in any S3-compatible object store, through aws-sdk-s3.
//!
//! Credentials come from the standard AWS chain (env, profile, web identity, ECS, IMDS), so
//! the same binary runs on a laptop, in a pod with IRSA and on Lambda. For S3-compatible
//! servers set an endpoint URL and, usually, path-style addressing. Every call has an
//! operation timeout and a per-attempt timeout (plus connect and read timeouts), so an
//! unreachable store turns into [`EvidenceError::Unavailable`] instead of a hang; refusals
//! (credentials, signature, missing bucket) are [`EvidenceError::Rejected`], which retrying
//! cannot fix.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::known::KnownObjects;
use super::local::validate_key;
use super::{Blob, EvidenceError, EvidenceStore, put_each};
use crate::error::Detail;

/// Where the S3 evidence store is and how to reach it. Flags and environment variables.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct S3Config {
    /// Bucket holding the evidence (required to use S3; without it evidence stays local).
    #[arg(long = "s3-bucket", env = "LASTMILE_S3_BUCKET")]
    pub bucket: Option<String>,
    /// Key prefix inside the bucket, e.g. `lastmile/prod` (no leading or trailing `/`).
    #[arg(long = "s3-prefix", env = "LASTMILE_S3_PREFIX", default_value = "")]
    pub prefix: String,
    /// Endpoint URL of an S3-compatible server (`http://127.0.0.1:9000`); AWS S3 when unset
    /// (the SDK also honours `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`).
    #[arg(long = "s3-endpoint", env = "LASTMILE_S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need.
    #[arg(long = "s3-force-path-style", env = "LASTMILE_S3_FORCE_PATH_STYLE")]
    pub force_path_style: bool,
    /// Region; else the AWS chain's (`AWS_REGION`, profile), else `us-east-1`.
    #[arg(long = "s3-region", env = "LASTMILE_S3_REGION")]
    pub region: Option<String>,
    /// Whole-operation timeout in seconds, retries included.
    #[arg(
        long = "s3-operation-timeout-secs",
        env = "LASTMILE_S3_OPERATION_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub operation_timeout_secs: u64,
    /// Timeout of one attempt in seconds.
    #[arg(
        long = "s3-attempt-timeout-secs",
        env = "LASTMILE_S3_ATTEMPT_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub attempt_timeout_secs: u64,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: None,
            prefix: String::new(),
            endpoint: None,
            force_path_style: false,
            region: None,
            operation_timeout_secs: 30,
            attempt_timeout_secs: 10,
        }
    }
}

impl S3Config {
    /// Checks the values that can be checked without the network.
    pub fn validate(&self) -> Result<(), EvidenceError> {
        let bad = |m: String| Err(EvidenceError::Rejected(m.into()));
        match self.bucket.as_deref() {
            None | Some("") => return bad("--s3-bucket / LASTMILE_S3_BUCKET is not set".into()),
            Some(b) if b.contains('/') => {
                return bad(format!(
                    "--s3-bucket {b:?} must be a bucket name, not a path"
                ));
            }
            Some(_) => {}
        }
        if self.prefix.starts_with('/') || self.prefix.ends_with('/') || self.prefix.contains("..")
        {
            return bad(format!(
                "--s3-prefix {:?} must be relative, without `..` and without a trailing `/`",
                self.prefix
            ));
        }
        if let Some(e) = &self.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return bad(format!(
                "--s3-endpoint {e:?} must be an http:// or https:// URL"
            ));
        }
        if self.operation_timeout_secs == 0 || self.attempt_timeout_secs == 0 {
            return bad("S3 timeouts must be at least one second".into());
        }
        Ok(())
    }

    fn operation_timeout(&self) -> Duration {
        Duration::from_secs(self.operation_timeout_secs)
    }

    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(
                Duration::from_secs(3).min(Duration::from_secs(self.attempt_timeout_secs)),
            )
            .read_timeout(Duration::from_secs(self.attempt_timeout_secs))
            .operation_attempt_timeout(Duration::from_secs(self.attempt_timeout_secs))
            .operation_timeout(self.operation_timeout())
            .build()
    }
}

/// An S3 bucket (and prefix) as an evidence store. Clones share the set of objects known
/// to exist, so a bundle skips the `HeadObject` of an object this process already wrote or
/// saw.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    operation_timeout: Duration,
    known: Arc<KnownObjects>,
}

impl S3Store {
    /// Connects with credentials and region from the standard AWS chain.
    pub async fn connect(config: &S3Config) -> Result<Self, EvidenceError> {
        config.validate()?;
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).timeout_config(config.timeouts());
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        Self::from_sdk_config(config, &sdk)
    }

    /// Builds the store on an already loaded SDK configuration (explicit credentials in
    /// tests, a shared `SdkConfig` in hosts). The store's timeouts override the SDK's.
    pub fn from_sdk_config(
        config: &S3Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Self, EvidenceError> {
        config.validate()?;
        let mut builder = aws_sdk_s3::config::Builder::from(sdk)
            .timeout_config(config.timeouts())
            .force_path_style(config.force_path_style);
        if let Some(region) = &config.region {
            builder = builder.region(Region::new(region.clone()));
        } else if sdk.region().is_none() {
            builder = builder.region(Region::from_static("us-east-1"));
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        Ok(Self {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone().unwrap_or_default(),
            prefix: config.prefix.clone(),
            operation_timeout: config.operation_timeout(),
            known: Arc::default(),
        })
    }

    /// Checks that the bucket exists and the credentials may use it (`HeadBucket`); hosts
    /// call this at start-up so a wrong bucket or key fails with a clear message at once.
    pub async fn check(&self) -> Result<(), EvidenceError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                Err(EvidenceError::Rejected(Detail::caused_by(
                    format!(
                        "bucket {:?} does not exist (or is not visible with these credentials)",
                        self.bucket
                    ),
                    e,
                )))
            }
            Err(e) => Err(classify("HeadBucket", &self.bucket, e)),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The full object key of an evidence key.
    pub fn object_key(&self, key: &str) -> Result<String, EvidenceError> {
        validate_key(key)?;
        Ok(if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        })
    }
}

#[async_trait]
impl EvidenceStore for S3Store {
    fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn put(&self, key: &str, bytes: &[u8], media_type: &str) -> Result<(), EvidenceError> {
        let object = self.object_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object)
            .content_type(media_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| classify("PutObject", &object, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
        let object = self.object_key(key)?;
        let response = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&object)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(classify("GetObject", &object, e)),
        };
        // The operation timeout ends with the response head; bound the body read too.
        match tokio::time::timeout(self.operation_timeout, response.body.collect()).await {
            Err(_) => Err(EvidenceError::Unavailable(
                format!(
                    "GetObject {object}: body not received within {:?}",
                    self.operation_timeout
                )
                .into(),
            )),
            Ok(Err(e)) => Err(EvidenceError::Unavailable(Detail::caused_by(
                format!("GetObject {object}: reading the body: {e}"),
                e,
            ))),
            Ok(Ok(body)) => Ok(Some(body.into_bytes().to_vec())),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, EvidenceError> {
        let object = self.object_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&object)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(classify("HeadObject", &object, e)),
        }
    }

    /// As the default (objects checked and written concurrently, then the manifests), but
    /// an object this process already stored or saw is neither checked nor written.
    async fn put_bundle(
        &self,
        objects: Vec<Blob>,
        manifests: Vec<Blob>,
    ) -> Result<(), EvidenceError> {
        let objects = self.known.unknown(objects);
        put_each(self, &objects, &manifests).await?;
        self.known
            .insert_all(objects.iter().map(|o| o.key.as_str()));
        Ok(())
    }
}

/// Maps an SDK error to retryable (`Unavailable`) or not (`Rejected`).
fn classify<E>(
    operation: &str,
    key: &str,
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> EvidenceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(&err).to_string(),
    };
    let what = format!("{operation} {key}: {detail}");
    let unavailable = |text: String, err| EvidenceError::Unavailable(Detail::caused_by(text, err));
    let rejected = |text: String, err| EvidenceError::Rejected(Detail::caused_by(text, err));
    match &err {
        SdkError::ConstructionFailure(_) => rejected(what, err),
        SdkError::TimeoutError(_) => unavailable(format!("{operation} {key}: timed out"), err),
        SdkError::DispatchFailure(d) if d.is_user() => rejected(what, err),
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            if status >= 500 || status == 429 || status == 408 {
                unavailable(format!("{what} (HTTP {status})"), err)
            } else {
                rejected(format!("{what} (HTTP {status})"), err)
            }
        }
        _ => unavailable(what, err),
    }
}

#[cfg(test)]
mod tests;
