//! An AWS Lambda `Invoke` API endpoint (axum) on a free loopback port, backed by real
//! function processes under the Runtime API emulator ([`crate::lambda_api`]).
//!
//! It speaks the wire format `aws-sdk-lambda` uses:
//! `POST /2015-03-31/functions/{FunctionName}/invocations` (SigV4-signed; the signature is
//! required to be present, not checked) with the event as the body, and answers as Lambda
//! does for `RequestResponse`:
//! - `200` with the function's result, `X-Amz-Executed-Version: $LATEST`;
//! - `200` with `X-Amz-Function-Error: Unhandled` and the runtime's error document
//!   (`errorType`, `errorMessage`) when the function reported an error, or
//!   `Sandbox.Timedout` when it did not answer in time;
//! - `429` `TooManyRequestsException` for the invocations a test asked to throttle
//!   ([`InvokeApi::throttle`]), with `Retry-After`;
//! - `404` `ResourceNotFoundException` for an unknown function, `403` without a signature.
//!
//! Each function is a [`FunctionProcess`]: a child process (normally the real
//! `lastmile function <name>`) with the environment Lambda gives a custom runtime, pointed at
//! its own emulator, killed on `Drop`. One process per function serves its invocations one
//! at a time, as one Lambda execution environment does. Every request is recorded
//! ([`InvokeApi::calls`]) with the event id and `traceparent` of its payload.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

use crate::lambda_api::{InvocationResult, LambdaApi};

/// Longest wait for one invocation's result before answering `Sandbox.Timedout`.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(60);

/// A function's process under its own Runtime API emulator; killed on `Drop`.
#[derive(Debug)]
pub struct FunctionProcess {
    api: LambdaApi,
    child: Child,
}

impl FunctionProcess {
    /// Starts an emulator and `command` with the Lambda environment pointing at it
    /// (`AWS_LAMBDA_RUNTIME_API`, function name, region, …). stdin is closed; stdout and
    /// stderr are as `command` set them.
    pub async fn spawn(mut command: Command) -> anyhow::Result<Self> {
        let api = LambdaApi::start().await?;
        let child = command
            .envs(api.runtime_env())
            .stdin(Stdio::null())
            .spawn()
            .context("starting the function process")?;
        Ok(Self { api, child })
    }

    /// The emulator this process serves.
    pub fn runtime(&self) -> &LambdaApi {
        &self.api
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeCall {
    /// The function name from the path (a name or an ARN, as the client sent it).
    pub function: String,
    /// The HTTP status answered.
    pub status: u16,
    /// `X-Amz-Function-Error`, when the function failed.
    pub function_error: Option<String>,
    /// The `id` of the CloudEvent in the payload, if it has one.
    pub event_id: Option<String>,
    /// The `traceparent` of the CloudEvent in the payload, if it has one.
    pub traceparent: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    functions: BTreeMap<String, Arc<FunctionProcess>>,
    /// One execution environment per function: an invocation holds it while it runs.
    environments: BTreeMap<String, tokio::sync::Mutex<()>>,
    throttle: Mutex<BTreeMap<String, u32>>,
    latency: Mutex<Duration>,
    calls: Mutex<Vec<InvokeCall>>,
}

/// A running Invoke endpoint; stops on `Drop` (with its function processes).
#[derive(Debug)]
pub struct InvokeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl InvokeApi {
    /// Starts the endpoint serving `functions`, keyed by Lambda function name.
    pub async fn start(
        functions: impl IntoIterator<Item = (String, FunctionProcess)>,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the Lambda Invoke endpoint")?;
        let addr = listener.local_addr()?;
        let functions: BTreeMap<String, Arc<FunctionProcess>> = functions
            .into_iter()
            .map(|(name, process)| (name, Arc::new(process)))
            .collect();
        let shared = Arc::new(Shared {
            environments: functions
                .keys()
                .map(|name| (name.clone(), tokio::sync::Mutex::new(())))
                .collect(),
            functions,
            ..Shared::default()
        });
        let app = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("lambda invoke endpoint stopped: {e}");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// The endpoint URL to give the client (`--lambda-endpoint`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next `n` invocations of `function` with 429 `TooManyRequestsException`.
    pub fn throttle(&self, function: &str, n: u32) {
        *lock(&self.shared.throttle)
            .entry(function.to_owned())
            .or_default() += n;
    }

    /// Adds `latency` before every later invocation reaches its function, as a slower
    /// function would take (invocations of one function run one at a time, so they queue):
    /// tests that act mid-burst stop depending on the machine's speed.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// Every request answered so far, in order.
    pub fn calls(&self) -> Vec<InvokeCall> {
        lock(&self.shared.calls).clone()
    }
}

impl Drop for InvokeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Lambda's error answer: `x-amzn-ErrorType` and a JSON body with `Type` and `message`.
fn service_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [
            ("x-amzn-errortype", code.to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        serde_json::json!({"Type": "User", "message": message}).to_string(),
    )
        .into_response()
}

async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |k: &str| event.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let mut call = InvokeCall {
        function: name.clone(),
        status: 200,
        function_error: None,
        event_id: field("id"),
        traceparent: field("traceparent"),
    };
    let response = answer(&shared, &name, &headers, body, &mut call).await;
    call.status = response.status().as_u16();
    lock(&shared.calls).push(call);
    response
}

async fn answer(
    shared: &Shared,
    name: &str,
    headers: &HeaderMap,
    body: Bytes,
    call: &mut InvokeCall,
) -> Response {
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 "));
    if !signed {
        return service_error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
    }
    let Some(function) = shared.functions.get(name) else {
        return service_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        );
    };
    let throttled = {
        let mut throttle = lock(&shared.throttle);
        match throttle.get_mut(name) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    };
    if throttled {
        let mut response = service_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate Exceeded.",
        );
        response
            .headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        return response;
    }
    // The environment is busy until this invocation's result is in; the added latency is
    // part of the invocation, so concurrent invocations queue behind it.
    let _environment = match shared.environments.get(name) {
        Some(env) => Some(env.lock().await),
        None => None,
    };
    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let runtime = function.runtime();
    let id = runtime.invoke(body.to_vec());
    let (error, payload) = match runtime.wait_result(&id, INVOCATION_TIMEOUT).await {
        Ok(InvocationResult::Response(payload)) => (None, payload),
        Ok(InvocationResult::Error(report)) => (Some("Unhandled"), report.body.to_string().into()),
        Err(e) => (
            Some("Unhandled"),
            serde_json::json!({
                "errorType": "Sandbox.Timedout",
                "errorMessage": format!("RequestId: {id} Error: Task timed out: {e}"),
            })
            .to_string()
            .into(),
        ),
    };
    call.function_error = error.map(str::to_owned);
    let mut response = (
        StatusCode::OK,
        [
            ("content-type", "application/json"),
            ("x-amz-executed-version", "$LATEST"),
        ],
        payload,
    )
        .into_response();
    if let Some(error) = error {
        response.headers_mut().insert(
            "x-amz-function-error",
            axum::http::HeaderValue::from_static(error),
        );
    }
    response
}
