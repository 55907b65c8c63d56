//! A Kubernetes API server stand-in that speaks the real list/watch protocol.
//!
//! A real API server cannot run here, so this serves recorded objects (JSON as `kubectl get
//! -o json` prints it) over the same HTTP protocol kube-rs and client-go use:
//!
//! * `GET /api/v1/pods`, `/api/v1/namespaces/{ns}/pods`, `/apis/{group}/{version}/…`: a List
//!   with `metadata.resourceVersion`; `labelSelector` (equality terms) is honoured, and `limit` /
//!   `continue` page through it.
//! * `?watch=1&resourceVersion=N`: a chunked stream of `{"type": "ADDED" | "MODIFIED" |
//!   "DELETED" | "BOOKMARK" | "ERROR", "object": …}` lines, one per change after `N`,
//!   then live changes; BOOKMARK only when `allowWatchBookmarks=true`.
//! * after [`FakeApiServer::compact`], a watch from an older resourceVersion gets the real
//!   `410 Gone` watch event (`Status`, reason `Expired`), as after etcd compaction.
//! * `GET /api/v1/namespaces/{ns}/{plural}/{name}` (and cluster-scoped `/api/v1/{plural}/{name}`):
//!   the object, or the real `404 NotFound` `Status`; paths given to [`FakeApiServer::forbid`]
//!   get the real `403 Forbidden` `Status` instead, as RBAC refusals do.
//! * [`FakeApiServer::restart`] drops every connection, refuses new ones for a moment, and
//!   listens again on the same port with the same objects, like an API-server rollout.
//!
//! Every object gets a fresh `metadata.resourceVersion` from one counter, as etcd's
//! revision does. The server stops on `Drop`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::{broadcast, watch};

/// Longest a watch stays open, seconds (real servers use `timeoutSeconds` or ~30-60 min).
const MAX_WATCH_SECS: u64 = 600;

/// Where a kind is served: (path prefix, plural, namespaced).
fn route_of(api_version: &str, kind: &str) -> Option<(String, &'static str, bool)> {
    let prefix = if api_version == "v1" {
        "/api/v1".to_owned()
    } else {
        format!("/apis/{api_version}")
    };
    let (plural, namespaced) = match kind {
        "Pod" => ("pods", true),
        "Event" => ("events", true),
        "Job" => ("jobs", true),
        "Node" => ("nodes", false),
        "ResourceQuota" => ("resourcequotas", true),
        "LimitRange" => ("limitranges", true),
        "PersistentVolumeClaim" => ("persistentvolumeclaims", true),
        "PersistentVolume" => ("persistentvolumes", false),
        "StorageClass" => ("storageclasses", false),
        "Namespace" => ("namespaces", false),
        "Secret" => ("secrets", true),
        "Service" => ("services", true),
        "EndpointSlice" => ("endpointslices", true),
        "ServiceAccount" => ("serviceaccounts", true),
        "ConfigMap" => ("configmaps", true),
        "Deployment" => ("deployments", true),
        "ReplicaSet" => ("replicasets", true),
        _ => return None,
    };
    Some((prefix, plural, namespaced))
}

#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    /// `prefix/plural`, e.g. `/api/v1/pods`.
    resource: String,
    ty: &'static str,
    object: Value,
}

#[derive(Debug, Default)]
struct Objects {
    rv: u64,
    /// Watches older than this get 410 Gone.
    floor: u64,
    /// resource → (namespace, name) → object.
    by_resource: HashMap<String, BTreeMap<(String, String), Value>>,
    log: Vec<Change>,
    requests: Vec<String>,
    /// The last list served per resource, as (path, item count).
    lists: Vec<(String, usize)>,
    /// Path prefixes answered with 403 Forbidden (see [`FakeApiServer::forbid`]).
    forbidden: Vec<String>,
    /// Lists of paths containing the needle answer only after the delay (see
    /// [`FakeApiServer::slow_lists`]).
    slow: Vec<(String, Duration)>,
}

struct Shared {
    objects: Mutex<Objects>,
    changes: broadcast::Sender<Change>,
    /// Flips to true to end every open watch (restart).
    closing: watch::Sender<bool>,
}

/// A running fake API server. See the module docs.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    dir: TempDir,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn labels_match(obj: &Value, selector: Option<&str>) -> bool {
    let Some(sel) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    sel.split(',').all(|term| {
        let (k, v, negate) = match term.split_once("!=") {
            Some((k, v)) => (k, v, true),
            None => match term.split_once('=') {
                Some((k, v)) => (k, v.trim_start_matches('='), false),
                None => {
                    return obj
                        .pointer("/metadata/labels")
                        .and_then(|l| l.get(term.trim()))
                        .is_some();
                }
            },
        };
        let actual = obj
            .pointer("/metadata/labels")
            .and_then(|l| l.get(k.trim()))
            .and_then(Value::as_str);
        (actual == Some(v.trim())) != negate
    })
}

impl FakeApiServer {
    /// Starts on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("lastmile-apiserver-")
            .tempdir()?;
        let (changes, _) = broadcast::channel(200_000);
        let (closing, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            objects: Mutex::new(Objects {
                rv: 100,
                ..Default::default()
            }),
            changes,
            closing,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut server = Self {
            shared,
            addr,
            dir,
            task: None,
        };
        server.serve(listener);
        Ok(server)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(self.shared.clone());
        let mut closing = self.shared.closing.subscribe();
        self.task = Some(tokio::spawn(async move {
            let stop = async move {
                let _ = closing.wait_for(|c| *c).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        }));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig pointing at this server (no credentials) and returns its path.
    pub fn kubeconfig(&self) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: nobody\n    namespace: default\ncurrent-context: fake\nusers:\n- name: nobody\n  user: {{}}\n",
            self.url()
        );
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Creates or updates an object (ADDED / MODIFIED), stamping a new resourceVersion.
    pub fn apply(&self, mut object: Value) -> anyhow::Result<u64> {
        let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_owned();
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let Some((prefix, plural, namespaced)) = route_of(&api_version, &kind) else {
            bail!("the fake API server does not serve {api_version}/{kind}")
        };
        let ns = if namespaced {
            meta_str(&object, "namespace").to_owned()
        } else {
            String::new()
        };
        let name = meta_str(&object, "name").to_owned();
        if name.is_empty() {
            bail!("object without metadata.name");
        }
        let mut objects = self
            .shared
            .objects
            .lock()
            .map_err(|_| anyhow::anyhow!("state poisoned"))?;
        objects.rv += 1;
        let rv = objects.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let resource = format!("{prefix}/{plural}");
        let map = objects.by_resource.entry(resource.clone()).or_default();
        let ty = if map.insert((ns, name), object.clone()).is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        let change = Change {
            rv,
            resource,
            ty,
            object,
        };
        objects.log.push(change.clone());
        drop(objects);
        let _ = self.shared.changes.send(change);
        Ok(rv)
    }

    /// Applies every item of a `kubectl get -o json` List (or one object).
    pub fn apply_all(&self, list_or_object: Value) -> anyhow::Result<()> {
        match list_or_object.get("items").and_then(Value::as_array) {
            Some(items) => items
                .iter()
                .try_for_each(|i| self.apply(i.clone()).map(|_| ())),
            None => self.apply(list_or_object).map(|_| ()),
        }
    }

    /// Deletes an object (DELETED); `namespace` is ignored for cluster-scoped kinds.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let (prefix, plural, namespaced) = route_of(api_version, kind).context("unknown kind")?;
        let ns = if namespaced {
            namespace.to_owned()
        } else {
            String::new()
        };
        let mut objects = self
            .shared
            .objects
            .lock()
            .map_err(|_| anyhow::anyhow!("state poisoned"))?;
        objects.rv += 1;
        let rv = objects.rv;
        let resource = format!("{prefix}/{plural}");
        let Some(mut object) = objects
            .by_resource
            .get_mut(&resource)
            .and_then(|m| m.remove(&(ns, name.to_owned())))
        else {
            bail!("{kind} {namespace}/{name} does not exist")
        };
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let change = Change {
            rv,
            resource,
            ty: "DELETED",
            object,
        };
        objects.log.push(change.clone());
        drop(objects);
        let _ = self.shared.changes.send(change);
        Ok(())
    }

    /// Forgets the change history, as etcd compaction does: watches from any earlier
    /// resourceVersion now get `410 Gone` and clients must relist.
    pub fn compact(&self) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.floor = o.rv;
            o.log.clear();
        }
    }

    /// Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks.
    pub fn bookmark(&self) {
        let rv = self.shared.objects.lock().map(|o| o.rv).unwrap_or(0);
        let _ = self.shared.changes.send(Change {
            rv,
            resource: "*".into(),
            ty: "BOOKMARK",
            object: Value::Null,
        });
    }

    /// Request paths (with query) served so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .objects
            .lock()
            .map(|o| o.requests.clone())
            .unwrap_or_default()
    }

    /// How many list (not watch) requests were served for paths containing `needle`.
    pub fn list_count(&self, needle: &str) -> usize {
        self.shared
            .objects
            .lock()
            .map(|o| o.lists.iter().filter(|(p, _)| p.contains(needle)).count())
            .unwrap_or(0)
    }

    /// Answers every request whose path starts with `path_prefix` (e.g.
    /// `/api/v1/namespaces/ci/secrets/locked`) with the API server's 403 `Status`, as when
    /// the client's RBAC does not allow it.
    pub fn forbid(&self, path_prefix: &str) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.forbidden.push(path_prefix.to_owned());
        }
    }

    /// Makes list (not watch) requests whose path contains `needle` (e.g. `/nodes`) answer
    /// only after `delay`, as a large list on a busy API server does.
    pub fn slow_lists(&self, needle: &str, delay: Duration) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.slow.push((needle.to_owned(), delay));
        }
    }

    /// Ends every connection, stays down for `down`, then listens again on the same port.
    pub async fn restart(&mut self, down: Duration) -> anyhow::Result<()> {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        tokio::time::sleep(down).await;
        self.shared.closing.send_replace(false);
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .context("re-binding the API server port")?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `(resource, namespace, name)` from a single-object path: `/api/v1/namespaces/{ns}/{plural}/{name}`
/// or, cluster-scoped, `/api/v1/{plural}/{name}` (and the same under `/apis/{group}/{version}`).
fn parse_object_path(path: &str) -> Option<(String, String, String)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix_len, rest) = match *segs.first()? {
        "api" => (2, segs.get(2..)?),
        "apis" => (3, segs.get(3..)?),
        _ => return None,
    };
    let prefix = format!("/{}", segs[..prefix_len].join("/"));
    match rest {
        ["namespaces", ns, plural, name] => Some((
            format!("{prefix}/{plural}"),
            (*ns).to_owned(),
            (*name).to_owned(),
        )),
        [plural, name] => Some((
            format!("{prefix}/{plural}"),
            String::new(),
            (*name).to_owned(),
        )),
        _ => None,
    }
}

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
fn single_object(shared: &Shared, uri: &Uri) -> Option<Response> {
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

/// `(resource, namespace filter)` from a request path.
fn parse_path(path: &str) -> Option<(String, Option<String>)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix_len, rest) = match *segs.first()? {
        "api" => (2, segs.get(2..)?),
        "apis" => (3, segs.get(3..)?),
        _ => return None,
    };
    let prefix = format!("/{}", segs[..prefix_len].join("/"));
    match rest {
        [plural] => Some((format!("{prefix}/{plural}"), None)),
        ["namespaces", ns, plural] => Some((format!("{prefix}/{plural}"), Some((*ns).to_owned()))),
        _ => None,
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

fn line(v: &Value) -> bytes::Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    b.into()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(response) = single_object(&shared, &uri) {
        return response;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_resources_and_namespaces() {
        assert_eq!(
            parse_path("/api/v1/pods"),
            Some(("/api/v1/pods".into(), None))
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/ci/events"),
            Some(("/api/v1/events".into(), Some("ci".into())))
        );
        assert_eq!(
            parse_path("/apis/batch/v1/namespaces/ci/jobs"),
            Some(("/apis/batch/v1/jobs".into(), Some("ci".into())))
        );
        assert_eq!(
            parse_path("/apis/storage.k8s.io/v1/storageclasses"),
            Some(("/apis/storage.k8s.io/v1/storageclasses".into(), None))
        );
        assert_eq!(parse_path("/version"), None);
        assert_eq!(
            route_of("discovery.k8s.io/v1", "EndpointSlice"),
            Some(("/apis/discovery.k8s.io/v1".into(), "endpointslices", true))
        );
        assert_eq!(
            route_of("v1", "Service"),
            Some(("/api/v1".into(), "services", true))
        );
    }

    #[test]
    fn single_object_paths_name_the_object() {
        assert_eq!(
            parse_object_path("/api/v1/namespaces/ci/secrets/regcred"),
            Some(("/api/v1/secrets".into(), "ci".into(), "regcred".into()))
        );
        assert_eq!(
            parse_object_path("/api/v1/nodes/n1"),
            Some(("/api/v1/nodes".into(), String::new(), "n1".into()))
        );
        assert_eq!(parse_object_path("/api/v1/namespaces/ci/pods"), None);
        assert_eq!(parse_object_path("/api/v1/pods"), None);
    }

    #[test]
    fn equality_label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "api", "tier": "web"}}});
        assert!(labels_match(&o, Some("app=api,tier==web")));
        assert!(!labels_match(&o, Some("app=api,tier!=web")));
        assert!(labels_match(&o, Some("app")));
        assert!(!labels_match(&o, Some("missing")));
    }
}
