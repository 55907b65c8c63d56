//! Reads: single objects (or the 403 of a forbidden path), lists and watches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Change, Shared, labels_match, meta_str, parse_object_path, parse_path, status, store};

/// Longest a watch stays open, seconds (real servers use `timeoutSeconds` or ~30-60 min).
const MAX_WATCH_SECS: u64 = 600;

/// The 403 a real API server sends when RBAC refuses a request.
fn forbidden_status(path: &str) -> Value {
    let (resource, ns, name) = parse_object_path(path).unwrap_or_default();
    let plural = resource.rsplit('/').next().unwrap_or("");
    status(
        403,
        "Forbidden",
        &format!(
            "{plural} \"{name}\" is forbidden: User \"system:serviceaccount:lastmile:lastmile-fn-image-pull\" cannot get resource \"{plural}\" in API group \"\" in the namespace \"{ns}\""
        ),
    )
}

/// Serves a single-object GET, or a 403 for a forbidden path; `None` for list/watch paths.
pub(super) fn single_object(shared: &Shared, uri: &Uri) -> Option<Response> {
    let path = uri.path();
    let mut objects = shared.objects.lock().ok()?;
    if objects
        .forbidden
        .iter()
        .any(|p| path.starts_with(p.as_str()))
    {
        objects.requests.push(uri.to_string());
        return Some((StatusCode::FORBIDDEN, axum::Json(forbidden_status(path))).into_response());
    }
    let (resource, ns, name) = parse_object_path(path)?;
    objects.requests.push(uri.to_string());
    let found = objects
        .by_resource
        .get(&resource)
        .and_then(|m| m.get(&(ns, name.clone())))
        .cloned();
    let touch = objects.touch_after_get.iter().position(|p| p == path);
    if let Some(i) = touch {
        objects.touch_after_get.remove(i);
    }
    drop(objects);
    if let (Some(_), Some(object)) = (touch, &found) {
        let mut changed = object.clone();
        changed["metadata"]["annotations"]["lastmile.test/touched"] = json!("true");
        let _ = store(shared, changed);
    }
    Some(match found {
        Some(object) => axum::Json(object).into_response(),
        None => {
            let plural = resource.rsplit('/').next().unwrap_or("");
            (
                StatusCode::NOT_FOUND,
                axum::Json(status(
                    404,
                    "NotFound",
                    &format!("{plural} \"{name}\" not found"),
                )),
            )
                .into_response()
        }
    })
}

fn line(v: &Value) -> bytes::Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    b.into()
}

/// Serves a list (paged, label-selected) or a watch (backlog, then live changes).
pub(super) async fn list_or_watch(
    shared: Arc<Shared>,
    uri: &Uri,
    q: &HashMap<String, String>,
) -> Response {
    let path = uri.path().to_owned();
    let Some((resource, ns)) = parse_path(&path) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )),
        )
            .into_response();
    };
    let selector = q.get("labelSelector").cloned();
    let in_scope = {
        let ns = ns.clone();
        let selector = selector.clone();
        move |obj: &Value| {
            ns.as_deref()
                .is_none_or(|n| meta_str(obj, "namespace") == n)
                && labels_match(obj, selector.as_deref())
        }
    };
    let is_watch = matches!(q.get("watch").map(String::as_str), Some("1" | "true"));
    let delay = if is_watch {
        None
    } else {
        shared.objects.lock().ok().and_then(|o| {
            o.slow
                .iter()
                .find(|(needle, _)| path.contains(needle.as_str()))
                .map(|(_, d)| *d)
        })
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let Ok(mut objects) = shared.objects.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    objects.requests.push(uri.to_string());
    if !is_watch {
        // Pages of `limit` items; the `continue` token is the offset into the (sorted) set.
        let offset: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
        let limit: usize = q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let matching = objects
            .by_resource
            .get(&resource)
            .map(|m| m.values().filter(|o| in_scope(o)).count())
            .unwrap_or(0);
        let items: Vec<Value> = objects
            .by_resource
            .get(&resource)
            .map(|m| {
                m.values()
                    .filter(|o| in_scope(o))
                    .skip(offset)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let next = offset.saturating_add(items.len());
        if offset == 0 {
            objects.lists.push((path, matching));
        }
        let mut metadata = json!({"resourceVersion": objects.rv.to_string()});
        if next < matching {
            metadata["continue"] = json!(next.to_string());
            metadata["remainingItemCount"] = json!(matching - next);
        }
        let list =
            json!({"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": items});
        return axum::Json(list).into_response();
    }
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(objects.rv);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(MAX_WATCH_SECS)
        .min(MAX_WATCH_SECS);
    if from < objects.floor {
        let gone = json!({"type": "ERROR", "object": status(410, "Expired", &format!("too old resource version: {from} ({})", objects.floor))});
        return Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(line(&gone)))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    let backlog: Vec<Change> = objects
        .log
        .iter()
        .filter(|c| c.rv > from && c.resource == resource && in_scope(&c.object))
        .cloned()
        .collect();
    let mut live = shared.changes.subscribe();
    let mut closing = shared.closing.subscribe();
    drop(objects);

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(256);
    tokio::spawn(async move {
        let mut last = from;
        for c in backlog {
            last = c.rv;
            if tx
                .send(Ok(line(&json!({"type": c.ty, "object": c.object}))))
                .await
                .is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                () = async { let _ = closing.wait_for(|c| *c).await; } => return,
                next = live.recv() => {
                    let c = match next {
                        Ok(c) => c,
                        // Too slow a reader: end the watch, the client resumes from its last RV.
                        Err(_) => return,
                    };
                    let event = if c.ty == "BOOKMARK" {
                        if !bookmarks { continue; }
                        json!({"type": "BOOKMARK", "object": {"kind": "Bookmark", "apiVersion": "v1", "metadata": {"resourceVersion": c.rv.to_string()}}})
                    } else if c.resource == resource && c.rv > last && in_scope(&c.object) {
                        last = c.rv;
                        json!({"type": c.ty, "object": c.object})
                    } else {
                        continue;
                    };
                    if tx.send(Ok(line(&event))).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (b, rx))
    }));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
