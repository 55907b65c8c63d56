//! A Lambda Runtime API emulator (axum) on a free loopback port.
//!
//! It implements the documented runtime endpoints a custom runtime talks to:
//! - `GET  /2018-06-01/runtime/invocation/next` (long-polls until an invocation is queued;
//!   answers with `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//!   `Lambda-Runtime-Invoked-Function-Arn`, `Lambda-Runtime-Trace-Id`);
//! - `POST /2018-06-01/runtime/invocation/{id}/response`;
//! - `POST /2018-06-01/runtime/invocation/{id}/error`;
//! - `POST /2018-06-01/runtime/init/error`.
//!
//! Tests queue invocations with [`LambdaApi::invoke`] and await what the runtime posted
//! back with [`LambdaApi::wait_result`]. [`LambdaApi::runtime_env`] gives the environment a
//! runtime process needs (`AWS_LAMBDA_RUNTIME_API`, …). [`LambdaApi::wait_first_poll`] tells
//! when the runtime first asked for an invocation (the end of its cold init). The server
//! stops on `Drop`.
//!
//! [`lean_lambda_bin`] builds the lean per-function binary (`lastmile-lambda`, dev profile)
//! that tests and the cold-start bench run under the emulator.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The function name the emulator reports.
pub const FUNCTION_NAME: &str = "lastmile-test";
/// How long an invocation may run (reported in `Lambda-Runtime-Deadline-Ms`).
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(60);

/// What the runtime posted back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationResult {
    /// `POST …/response`: the response body.
    Response(Vec<u8>),
    /// `POST …/error`.
    Error(ErrorReport),
}

/// An error the runtime reported (`…/error` or `init/error`).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReport {
    /// `errorType` from the body.
    pub error_type: String,
    /// `errorMessage` from the body.
    pub error_message: String,
    /// The `Lambda-Runtime-Function-Error-Type` header, when sent.
    pub header_type: Option<String>,
    /// The raw body.
    pub body: serde_json::Value,
}

#[derive(Debug)]
struct Invocation {
    id: String,
    body: Vec<u8>,
    trace_id: String,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Invocation>,
    results: BTreeMap<String, InvocationResult>,
    delivered: Vec<String>,
    init_error: Option<ErrorReport>,
    first_poll: Option<Instant>,
}

#[derive(Debug, Default)]
struct Shared {
    inner: Mutex<Inner>,
    queued: Notify,
    answered: Notify,
    next_id: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running Runtime API emulator.
#[derive(Debug)]
pub struct LambdaApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl LambdaApi {
    /// Starts the emulator on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the Lambda Runtime API emulator")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("lambda runtime api emulator stopped: {e}");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API` (no scheme, as Lambda sets it).
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// The environment Lambda gives a runtime process.
    pub fn runtime_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.runtime_api()),
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{FUNCTION_NAME}"),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/03/03/[$LATEST]0123456789abcdef".to_owned(),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Queues an invocation with `payload` as its event; returns its request id.
    pub fn invoke(&self, payload: impl Into<Vec<u8>>) -> String {
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "8476a536-e9f4-11e8-9739-{:012x}",
            u64::from(self.addr.port()) << 24 | n
        );
        let trace_id = format!(
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled={}",
            n % 2
        );
        self.shared.lock().queue.push_back(Invocation {
            id: id.clone(),
            body: payload.into(),
            trace_id,
        });
        self.shared.queued.notify_waiters();
        id
    }

    /// Waits for the runtime's response or error for invocation `id`.
    pub async fn wait_result(
        &self,
        id: &str,
        timeout: Duration,
    ) -> anyhow::Result<InvocationResult> {
        let deadline = Instant::now() + timeout;
        loop {
            let answered = self.shared.answered.notified();
            if let Some(r) = self.shared.lock().results.get(id) {
                return Ok(r.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let inner = self.shared.lock();
                bail!(
                    "no result for invocation {id} within {timeout:?} (delivered: {:?}, init error: {:?})",
                    inner.delivered,
                    inner.init_error
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), answered).await;
        }
    }

    /// Waits until the runtime first asks for an invocation (`GET …/invocation/next`, or an
    /// init error), and returns when that request arrived.
    pub async fn wait_first_poll(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let answered = self.shared.answered.notified();
            if let Some(at) = self.shared.lock().first_poll {
                return Ok(at);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("the runtime did not poll for an invocation within {timeout:?}");
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), answered).await;
        }
    }

    /// The init error the runtime reported, if any.
    pub fn init_error(&self) -> Option<ErrorReport> {
        self.shared.lock().init_error.clone()
    }
}

impl Drop for LambdaApi {
    fn drop(&mut self) {
        // `next` long-polls, so a graceful shutdown could wait forever: stop at once.
        self.task.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let arrived = Instant::now();
    shared.lock().first_poll.get_or_insert(arrived);
    shared.answered.notify_waiters();
    loop {
        let queued = shared.queued.notified();
        if let Some(inv) = {
            let mut inner = shared.lock();
            let inv = inner.queue.pop_front();
            if let Some(inv) = &inv {
                inner.delivered.push(inv.id.clone());
            }
            inv
        } {
            let deadline = SystemTime::now()
                .checked_add(INVOCATION_TIMEOUT)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis())
                .unwrap_or_default();
            let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}");
            return (
                StatusCode::OK,
                [
                    ("content-type", "application/json".to_owned()),
                    ("lambda-runtime-aws-request-id", inv.id),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    ("lambda-runtime-invoked-function-arn", arn),
                    ("lambda-runtime-trace-id", inv.trace_id),
                ],
                inv.body,
            )
                .into_response();
        }
        queued.await;
    }
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"status": "OK"})),
    )
        .into_response()
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !shared.lock().delivered.contains(&id) {
        return (StatusCode::BAD_REQUEST, "unknown request id").into_response();
    }
    shared
        .lock()
        .results
        .insert(id, InvocationResult::Response(body.to_vec()));
    shared.answered.notify_waiters();
    accepted()
}

fn report(headers: &HeaderMap, body: &Bytes) -> ErrorReport {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    ErrorReport {
        error_type: body
            .get("errorType")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        error_message: body
            .get("errorMessage")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        header_type: headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    }
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !shared.lock().delivered.contains(&id) {
        return (StatusCode::BAD_REQUEST, "unknown request id").into_response();
    }
    let report = report(&headers, &body);
    shared
        .lock()
        .results
        .insert(id, InvocationResult::Error(report));
    shared.answered.notify_waiters();
    accepted()
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    {
        let mut inner = shared.lock();
        inner.init_error = Some(report(&headers, &body));
        inner.first_poll.get_or_insert(arrived);
    }
    shared.answered.notify_waiters();
    accepted()
}

/// Path to the lean Lambda binary hosting `function` (`cargo build -p lastmile-lambda
/// --features FUNCTION`, dev profile), building it if needed.
///
/// Every feature builds the same `target/debug/lastmile-lambda`, so the result is copied to
/// `target/debug/lastmile-lambda-FUNCTION` (through a rename: a running copy is never
/// overwritten in place). Builds of different features must not run at the same time.
pub fn lean_lambda_bin(function: &str) -> anyhow::Result<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "lastmile-lambda",
            "--features",
            function,
        ])
        .current_dir(&workspace)
        .status()
        .context("running cargo to build lastmile-lambda")?;
    if !status.success() {
        bail!("cargo build -p lastmile-lambda --features {function} failed: {status}");
    }
    let dir = target.join("debug");
    let built = dir.join("lastmile-lambda");
    let copy = dir.join(format!("lastmile-lambda-{function}"));
    static COPIES: AtomicU64 = AtomicU64::new(0);
    let staging = dir.join(format!(
        ".lastmile-lambda-{function}.{}.{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::copy(&built, &staging)
        .with_context(|| format!("copying {} to {}", built.display(), staging.display()))?;
    std::fs::rename(&staging, &copy)?;
    Ok(copy)
}
