//! The HTTP receiver: one route per provider, each verifying, de-duplicating and
//! publishing.
//!
//! | route | auth | delivery id |
//! |---|---|---|
//! | `POST /webhook/github` | `X-Hub-Signature-256` | `X-GitHub-Delivery` |
//! | `POST /webhook/gitlab` | `X-Gitlab-Token` | `X-Gitlab-Event-UUID` (or `Idempotency-Key`) |
//! | `POST /webhook/generic` | `X-Lastmile-Signature-256` | `Idempotency-Key` |
//! | `GET /healthz` | – | – |
//!
//! Refusals: 401 unsigned, 403 forged, 409 replayed, 413 oversized, 400 malformed, 503 when
//! the bus did not take the event (the sender retries; the delivery id is forgotten so the
//! retry is accepted). Accepted deliveries get 202 with the subject and event id; ignored
//! event types get 202 with `"ignored": true`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lastmile_events::envelope::stable_id;
use lastmile_events::{CiEvent, CloudEvent, subjects};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher, TRACEPARENT_HEADER};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::reject::Reject;
use crate::replay::DeliveryLog;
use crate::trace;
use crate::{github, gitlab, payload, verify};

/// Secrets and limits of the receiver.
#[derive(Clone)]
pub struct WebhookConfig {
    /// GitHub webhook secret; the GitHub route is disabled without it.
    pub github_secret: Option<Vec<u8>>,
    /// GitLab secret token; the GitLab route is disabled without it.
    pub gitlab_token: Option<Vec<u8>>,
    /// HMAC secret for the generic route; disabled without it.
    pub generic_secret: Option<Vec<u8>>,
    /// Largest accepted body, bytes.
    pub max_body: usize,
    /// How long delivery ids are remembered.
    pub replay_window: Duration,
    /// CloudEvents `source`.
    pub source: String,
    /// Timeout of one publish.
    pub publish_timeout: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed, only whether they are set.
        f.debug_struct("WebhookConfig")
            .field("github_secret", &self.github_secret.is_some())
            .field("gitlab_token", &self.gitlab_token.is_some())
            .field("generic_secret", &self.generic_secret.is_some())
            .field("max_body", &self.max_body)
            .field("replay_window", &self.replay_window)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            github_secret: None,
            gitlab_token: None,
            generic_secret: None,
            // GitHub caps payloads at 25 MB; CI events worth reading are far smaller.
            max_body: 1 << 20,
            replay_window: Duration::from_secs(24 * 3600),
            source: "/lastmile/webhook".into(),
            publish_timeout: Duration::from_secs(10),
        }
    }
}

struct AppState {
    cfg: WebhookConfig,
    publisher: Arc<dyn Publisher>,
    deliveries: Mutex<DeliveryLog>,
}

/// The router; serve it with `axum::serve`.
pub fn router(cfg: WebhookConfig, publisher: Arc<dyn Publisher>) -> Router {
    let limit = cfg.max_body;
    let state = Arc::new(AppState {
        deliveries: Mutex::new(DeliveryLog::new(cfg.replay_window, 100_000)),
        cfg,
        publisher,
    });
    Router::new()
        .route("/webhook/github", post(github_hook))
        .route("/webhook/gitlab", post(gitlab_hook))
        .route("/webhook/generic", post(generic_hook))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(body: &[u8]) -> Result<Value, Reject> {
    serde_json::from_slice(body).map_err(|e| Reject::malformed(format!("body is not JSON: {e}")))
}

fn disabled(provider: &str) -> Reject {
    Reject {
        status: StatusCode::NOT_FOUND,
        reason: format!("the {provider} endpoint is not configured"),
    }
}

async fn github_hook(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let span = trace::server_span("/webhook/github", header(&headers, TRACEPARENT_HEADER));
    let result = async {
        let secret = st
            .cfg
            .github_secret
            .as_deref()
            .ok_or_else(|| disabled("github"))?;
        verify::hmac_sha256(
            secret,
            &body,
            header(&headers, "x-hub-signature-256"),
            "X-Hub-Signature-256",
        )?;
        let event = header(&headers, "x-github-event")
            .unwrap_or_default()
            .to_owned();
        let delivery = header(&headers, "x-github-delivery").map(str::to_owned);
        if event == "ping" {
            return Ok(accepted_ignored("ping"));
        }
        let parsed = github::parse(&event, &json_body(&body)?, Utc::now())?;
        accept(&st, "github", delivery, parsed, &headers).await
    }
    .instrument(span.clone())
    .await;
    let response = result.unwrap_or_else(IntoResponse::into_response);
    trace::record_status(&span, response.status().as_u16());
    response
}

async fn gitlab_hook(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let span = trace::server_span("/webhook/gitlab", header(&headers, TRACEPARENT_HEADER));
    let result = async {
        let token = st
            .cfg
            .gitlab_token
            .as_deref()
            .ok_or_else(|| disabled("gitlab"))?;
        verify::token(token, header(&headers, "x-gitlab-token"), "X-Gitlab-Token")?;
        let delivery = header(&headers, "x-gitlab-event-uuid")
            .or_else(|| header(&headers, "idempotency-key"))
            .map(str::to_owned);
        let parsed = gitlab::parse(&json_body(&body)?, Utc::now())?;
        accept(&st, "gitlab", delivery, parsed, &headers).await
    }
    .instrument(span.clone())
    .await;
    let response = result.unwrap_or_else(IntoResponse::into_response);
    trace::record_status(&span, response.status().as_u16());
    response
}

async fn generic_hook(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let span = trace::server_span("/webhook/generic", header(&headers, TRACEPARENT_HEADER));
    let result = async {
        let secret = st
            .cfg
            .generic_secret
            .as_deref()
            .ok_or_else(|| disabled("generic"))?;
        verify::hmac_sha256(
            secret,
            &body,
            header(&headers, "x-lastmile-signature-256"),
            "X-Lastmile-Signature-256",
        )?;
        let delivery = header(&headers, "idempotency-key").map(str::to_owned);
        let parsed = payload::parse_generic(&body)?;
        accept(&st, "generic", delivery, Some(parsed), &headers).await
    }
    .instrument(span.clone())
    .await;
    let response = result.unwrap_or_else(IntoResponse::into_response);
    trace::record_status(&span, response.status().as_u16());
    response
}

fn accepted_ignored(what: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"ignored": true, "event": what})),
    )
        .into_response()
}

/// De-duplicates by delivery id, then publishes.
async fn accept(
    st: &AppState,
    provider: &str,
    delivery: Option<String>,
    parsed: Option<CiEvent>,
    headers: &HeaderMap,
) -> Result<Response, Reject> {
    let delivery_key = delivery.as_ref().map(|d| format!("{provider}:{d}"));
    if let Some(key) = &delivery_key {
        let first = st
            .deliveries
            .lock()
            .map(|mut log| log.first_time(key, Instant::now()))
            .unwrap_or(true);
        if !first {
            return Err(Reject::replayed(delivery.as_deref().unwrap_or_default()));
        }
    }
    let Some(mut event) = parsed else {
        return Ok(accepted_ignored(
            header(headers, "x-github-event").unwrap_or("unsupported"),
        ));
    };
    trace::record_run(&tracing::Span::current(), &event.run);
    // The server span's context when spans are exported (so what follows descends from a
    // span the collector has), else a child id of the sender's trace.
    let traceparent = trace::current_traceparent()
        .unwrap_or_else(|| trace::continue_or_start(header(headers, TRACEPARENT_HEADER)));
    event.run.traceparent = Some(traceparent.clone());
    let subject = subjects::ci(provider, event.kind.as_str());
    let id = match &delivery {
        Some(d) => stable_id(&["ci", provider, d]),
        None => stable_id(&[
            "ci",
            provider,
            &event.run.run_id,
            event.kind.as_str(),
            event.job.as_deref().unwrap_or(""),
            &event.at.to_rfc3339(),
        ]),
    };
    let ce_subject = format!("run/{provider}/{}", event.run.run_id);
    let mut ce = CloudEvent::new(
        id.clone(),
        st.cfg.source.clone(),
        Some(ce_subject),
        event.at,
        event,
    );
    ce.traceparent = Some(traceparent.clone());
    let body = ce
        .to_vec()
        .map_err(|e| Reject::malformed(format!("cannot encode the event: {e}")))?;
    let mut msg = Message {
        subject: subject.clone(),
        payload: body.into(),
        ..Default::default()
    };
    msg.headers.insert(MSG_ID_HEADER.into(), id.clone());
    msg.headers
        .insert(TRACEPARENT_HEADER.into(), traceparent.clone());
    let published =
        match tokio::time::timeout(st.cfg.publish_timeout, st.publisher.publish(msg)).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("publish timed out".to_owned()),
        };
    if let Err(e) = published {
        if let (Some(key), Ok(mut log)) = (&delivery_key, st.deliveries.lock()) {
            log.forget(key);
        }
        tracing::warn!(provider, error = %e, "CI event not published; the sender will retry.");
        return Err(Reject::unavailable(format!("event bus unavailable: {e}")));
    }
    tracing::info!(provider, %subject, id = %id, "CI event published.");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"subject": subject, "id": id, "traceparent": traceparent})),
    )
        .into_response())
}
